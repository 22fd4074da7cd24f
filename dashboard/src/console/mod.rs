//! The site owner's console: knowledge base, settings (widget, bot and escalation, team,
//! privacy), install, usage and analytics. Its code is a chunk of the app's wasm
//! (`views::console_screen`, see `views/chunk.rs`), fetched the first time an owner or admin
//! opens one of these screens, so that an agent's first load never carries it.
//!
//! The app keeps the frame (navigation, presence, connection) and renders [`ConsoleScreen`] in
//! its main area; the console reads the path, who is signed in and the account's sites
//! through its own [`Ctx`], kept in step with the app's state.
//!
//! Layout:
//! - this file: the entry, the frame shared by the screens (site picker, title).
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

use concierge_protocol::api::{MeView, SiteView};
use leptos::prelude::*;

use crate::api;
use crate::state::AppState;
use crate::views::chunk;

/// Who is signed in and the account's sites, as the console's screens read them.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleContext {
    /// The signed-in agent, their account and the session's CSRF token.
    pub me: MeView,
    /// The account's sites (the console's screens are per site).
    pub sites: Vec<SiteView>,
}

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

/// The console in the app's main area, once the account's sites are known: its [`Ctx`]
/// follows the route, who is signed in and the sites. A screen is built again when its site
/// or path changes, not when the agent's presence does (an owner's unsaved form stays as it
/// is).
#[component]
pub fn ConsoleScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let ready = Memo::new(move |_| state.sites_loaded.get() && state.me.with(Option::is_some));
    move || match ready.get().then(|| untrack(|| context(state))).flatten() {
        Some(initial) => view! { <Frame initial/> }.into_any(),
        None => view! { <p class="muted screen" role="status">"Loading…"</p> }.into_any(),
    }
}

/// What the console reads of the app's state (`None` when nobody is signed in).
fn context(state: AppState) -> Option<ConsoleContext> {
    let mut me = state.me.get()?;
    me.csrf_token = api::csrf();
    Some(ConsoleContext {
        me,
        sites: state.sites.get(),
    })
}

/// The path the console's screens follow (the settings' sections are its own sub-paths).
fn current_path() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

#[component]
fn Frame(initial: ConsoleContext) -> impl IntoView {
    let state = expect_context::<AppState>();
    let ctx = Ctx {
        path: RwSignal::new(current_path()),
        site_key: RwSignal::new(pick_site(&initial, None)),
        context: RwSignal::new(initial),
    };
    Effect::new(move |_| {
        state.route.track();
        let Some(context) = context(state) else {
            return;
        };
        let site = pick_site(&context, Some(ctx.site_key.get_untracked()));
        if ctx.context.with_untracked(|c| *c != context) {
            ctx.context.set(context);
        }
        if ctx.site_key.with_untracked(|k| *k != site) {
            ctx.site_key.set(site);
        }
        let path = current_path();
        if ctx.path.with_untracked(|p| *p != path) {
            ctx.path.set(path);
        }
    });
    provide_context(ctx);
    view! { <Console/> }
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

/// The site the screen is built for (the frame builds the screen again for another).
fn site_key() -> String {
    expect_context::<Ctx>().site_key.get_untracked()
}

#[leptos::wasm_split::wasm_split(knowledge, wasm_split_path = ::leptos::wasm_split, fallible)]
fn knowledge_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <kb::KnowledgeScreen site_key=site_key()/> }.into_any())
}

#[leptos::wasm_split::wasm_split(settings, wasm_split_path = ::leptos::wasm_split, fallible)]
fn settings_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| {
        let ctx = expect_context::<Ctx>();
        let section = match ctx.path.with_untracked(|p| screen_of(p)) {
            Screen::Settings(section) => section,
            _ => settings::Section::Widget,
        };
        view! { <settings::SettingsScreen section site_key=site_key()/> }.into_any()
    })
}

#[leptos::wasm_split::wasm_split(install, wasm_split_path = ::leptos::wasm_split, fallible)]
fn install_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <install::InstallScreen site_key=site_key()/> }.into_any())
}

#[leptos::wasm_split::wasm_split(usage, wasm_split_path = ::leptos::wasm_split, fallible)]
fn usage_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <usage::UsageScreen site_key=site_key()/> }.into_any())
}

#[leptos::wasm_split::wasm_split(analytics, wasm_split_path = ::leptos::wasm_split, fallible)]
fn analytics_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <analytics::AnalyticsScreen site_key=site_key()/> }.into_any())
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
        // Each screen is a chunk of its own: an owner opening one fetches only that one.
        match screen.get() {
            Screen::Knowledge => chunk::lazily(|| Box::pin(knowledge_screen())),
            Screen::Settings(_) => chunk::lazily(|| Box::pin(settings_screen())),
            Screen::Install => chunk::lazily(|| Box::pin(install_screen())),
            Screen::Usage => chunk::lazily(|| Box::pin(usage_screen())),
            Screen::Analytics => chunk::lazily(|| Box::pin(analytics_screen())),
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
