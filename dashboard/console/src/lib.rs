//! The site owner's console: knowledge base, settings (widget, bot and escalation, team,
//! privacy), install, usage and analytics. A second wasm module that the dashboard
//! (`concierge-dashboard`) loads the first time an owner or admin opens one of these screens,
//! so that an agent's first load never carries them (see `concierge_dashboard::console`).
//!
//! The dashboard keeps the frame (navigation, presence, connection) and calls [`show`] with
//! the element to render into, the current path and a
//! [`ConsoleContext`](concierge_dashboard::console::ConsoleContext) as JSON; [`hide`] when
//! the owner leaves these screens. This module has its own reactive runtime and its own copy
//! of the API client; links it renders (`/app/...`) are followed by the dashboard's router.
//!
//! Layout:
//! - this file: the entry points, the frame shared by the screens (site picker, title).
//! - [`ui`]: loading and error states, copy to clipboard, small shared pieces.
//! - [`charts`]: inline SVG bar charts and meters (no charting bundle).
//! - [`kb`]: documents (upload, URLs, progress, delete, re-index), Ask your docs, knowledge gaps.
//! - [`install`]: the embed snippet, signed identity, Check installation.
//! - [`usage`], [`analytics`]: figures against the plan, and over a date range.
//! - [`settings`]: widget (with a live preview), bot and escalation, team, privacy.

mod analytics;
mod charts;
mod install;
mod kb;
mod settings;
mod ui;
mod usage;

use std::any::Any;
use std::cell::RefCell;

use concierge_dashboard::api;
use concierge_dashboard::console::ConsoleContext;
use concierge_protocol::api::SiteView;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

/// What every screen of the console reads: the path, who is signed in, the chosen site.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub path: RwSignal<String>,
    pub context: RwSignal<ConsoleContext>,
    /// The site the screens show (the account's first, or the one last picked).
    pub site_key: RwSignal<String>,
}

impl Ctx {
    /// The chosen site, read without subscribing: a screen is built for one site (the frame
    /// builds it again when the owner picks another).
    pub fn site(&self) -> Option<SiteView> {
        let key = self.site_key.get_untracked();
        self.context
            .with_untracked(|c| c.sites.iter().find(|s| s.site_key == key).cloned())
    }
}

struct Mounted {
    root: web_sys::HtmlElement,
    ctx: Ctx,
    _handle: Box<dyn Any>,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
}

const SITE_KEY_STORE: &str = "concierge.console.site";

fn stored_site() -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(SITE_KEY_STORE)
        .ok()?
}

fn remember_site(key: &str) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(SITE_KEY_STORE, key);
    }
}

fn pick_site(context: &ConsoleContext, current: Option<String>) -> String {
    let known = |k: &String| context.sites.iter().any(|s| &s.site_key == k);
    current
        .filter(known)
        .or_else(|| stored_site().filter(known))
        .or_else(|| context.sites.first().map(|s| s.site_key.clone()))
        .unwrap_or_default()
}

/// Renders the screen for `path` into `root`; called again on every navigation.
#[wasm_bindgen]
pub fn show(root: web_sys::HtmlElement, path: String, context: String) -> Result<(), JsValue> {
    let context: ConsoleContext =
        api::parse(&context).ok_or_else(|| JsValue::from_str("unreadable console context"))?;
    api::set_csrf(context.me.csrf_token.clone());
    MOUNTED.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(m) = slot.as_ref().filter(|m| m.root == root) {
            // Only what changed: a screen is built again when its site or path changes, not
            // when the agent's presence does (an owner's unsaved form stays as it is).
            let site = pick_site(&context, Some(m.ctx.site_key.get_untracked()));
            if m.ctx.context.with_untracked(|c| *c != context) {
                m.ctx.context.set(context);
            }
            if m.ctx.site_key.with_untracked(|k| *k != site) {
                m.ctx.site_key.set(site);
            }
            if m.ctx.path.with_untracked(|p| *p != path) {
                m.ctx.path.set(path);
            }
            return;
        }
        *slot = None;
        let site = pick_site(&context, None);
        let ctx = Ctx {
            path: RwSignal::new(path),
            context: RwSignal::new(context),
            site_key: RwSignal::new(site),
        };
        let handle = leptos::mount::mount_to(root.clone(), move || {
            provide_context(ctx);
            view! { <Console/> }
        });
        *slot = Some(Mounted {
            root,
            ctx,
            _handle: Box::new(handle),
        });
    });
    Ok(())
}

/// Removes the console from `root` (nothing if it renders elsewhere now).
#[wasm_bindgen]
pub fn hide(root: web_sys::HtmlElement) {
    MOUNTED.with(|slot| {
        let mut slot = slot.borrow_mut();
        if slot.as_ref().is_some_and(|m| m.root == root) {
            *slot = None;
        }
    });
}

/// The console's screens, by path.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Screen {
    Knowledge,
    Settings(settings::Section),
    Install,
    Usage,
    Analytics,
    NotFound,
}

fn screen_of(path: &str) -> Screen {
    let rest = path.strip_prefix("/app/").unwrap_or(path);
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["knowledge"] => Screen::Knowledge,
        ["settings"] => Screen::Settings(settings::Section::Widget),
        ["settings", s] => settings::Section::parse(s).map_or(Screen::NotFound, Screen::Settings),
        ["install"] => Screen::Install,
        ["usage"] => Screen::Usage,
        ["analytics"] => Screen::Analytics,
        _ => Screen::NotFound,
    }
}

impl Screen {
    fn title(self) -> &'static str {
        match self {
            Screen::Knowledge => "Knowledge base",
            Screen::Settings(_) => "Settings",
            Screen::Install => "Install",
            Screen::Usage => "Usage",
            Screen::Analytics => "Analytics",
            Screen::NotFound => "Page not found",
        }
    }
}

#[component]
fn Console() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let screen = Memo::new(move |_| ctx.path.with(|p| screen_of(p)));
    let sites = move || ctx.context.with(|c| c.sites.clone());
    let picker = move || {
        let sites = sites();
        (sites.len() > 1).then(|| {
            view! {
                <div class="site-picker">
                    <label for="site-picker">"Site"</label>
                    <select id="site-picker" on:change=move |e| {
                        let key = event_target_value(&e);
                        remember_site(&key);
                        ctx.site_key.set(key);
                    }>
                        {sites.into_iter().map(|s| {
                            let selected = ctx.site_key.get_untracked() == s.site_key;
                            view! { <option value=s.site_key.clone() selected=selected>{s.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
            }
        })
    };
    // Each screen is built again for another site.
    let body = move || {
        let key = ctx.site_key.get();
        if key.is_empty() {
            return view! { <p>"This account has no site yet. Create one with "
            <code>"concierge site create"</code>" or "<code>"POST /api/v1/sites"</code>"."</p> }
            .into_any();
        }
        match screen.get() {
            Screen::Knowledge => view! { <kb::KnowledgeScreen site_key=key/> }.into_any(),
            Screen::Settings(s) => {
                view! { <settings::SettingsScreen section=s site_key=key/> }.into_any()
            }
            Screen::Install => view! { <install::InstallScreen site_key=key/> }.into_any(),
            Screen::Usage => view! { <usage::UsageScreen site_key=key/> }.into_any(),
            Screen::Analytics => view! { <analytics::AnalyticsScreen site_key=key/> }.into_any(),
            Screen::NotFound => view! { <p><a href="/app/">"Back to the inbox"</a></p> }.into_any(),
        }
    };
    view! {
        <section class="screen console">
            <div class="screen-head">
                <h1>{move || screen.get().title()}</h1>
                {picker}
            </div>
            {body}
        </section>
    }
}
