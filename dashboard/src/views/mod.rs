//! The screens. [`App`] holds the state and picks the screen for the route; [`Shell`] is the
//! frame around the signed-in screens (navigation, presence, connection, sign-out).

mod auth;
pub(crate) mod chunk;
mod conversation;
mod inbox;
mod tickets;

use std::time::Duration;

use leptos::prelude::*;

use crate::notify;
use crate::route::{self, Route};
use crate::socket::Conn;
use crate::state::AppState;

#[component]
pub fn App() -> impl IntoView {
    let route = route::install();
    let state = AppState::new(route);
    provide_context(state);
    state.boot();
    let signed_in = Memo::new(move |_| state.me.with(Option::is_some));
    Effect::new(move |_| notify::title(route.with(Route::title), state.waiting_count()));
    set_interval(
        move || {
            state.now.set(js_sys::Date::now());
            state.expire_typing();
        },
        Duration::from_secs(1),
    );
    shortcuts(state);
    // Back online (Wi-Fi returned, the laptop woke): reconnect now rather than at the next
    // backoff step.
    let online = window_event_listener(leptos::ev::online, move |_| {
        if state.me.with_untracked(Option::is_some) {
            crate::socket::reconnect_now();
        }
    });
    on_cleanup(move || online.remove());
    let screen = move || {
        if !state.booted.get() {
            return view! { <p class="boot" role="status">"Loading…"</p> }.into_any();
        }
        let r = route.get();
        if r.is_public() || !signed_in.get() {
            return auth::public(state);
        }
        view! { <Shell/> }.into_any()
    };
    view! {
        {screen}
        <div class="visually-hidden" role="status" aria-live="polite">{move || state.announce.get()}</div>
    }
}

// The screens an agent does not need to work the inbox, each in its own chunk (see [`chunk`]).

/// The ticket queue.
#[leptos::wasm_split::wasm_split(tickets, wasm_split_path = ::leptos::wasm_split, fallible)]
fn tickets_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <tickets::TicketsScreen/> }.into_any())
}

/// The owner's console (knowledge base, settings, install, usage, analytics).
#[leptos::wasm_split::wasm_split(console, wasm_split_path = ::leptos::wasm_split, fallible)]
fn console_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <crate::console::ConsoleScreen/> }.into_any())
}

/// Keyboard shortcuts, listed under `?`.
const SHORTCUTS: [(&str, &str); 7] = [
    ("?", "Show or hide this list"),
    ("g then i", "Go to the inbox"),
    ("g then t", "Go to tickets"),
    ("/", "Search conversations"),
    ("j / k", "Next / previous conversation in the inbox"),
    ("Enter", "Send the reply (Shift+Enter: new line)"),
    ("Escape", "Close this list, or leave the reply box"),
];

fn shortcuts(state: AppState) {
    let pending_g = StoredValue::new(false);
    let handle = window_event_listener(leptos::ev::keydown, move |e| {
        let typing = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.has_attribute("contenteditable")
            });
        if e.key() == "Escape" {
            state.shortcuts_open.set(false);
            return;
        }
        if typing
            || e.ctrl_key()
            || e.meta_key()
            || e.alt_key()
            || state.me.with_untracked(Option::is_none)
        {
            return;
        }
        let key = e.key();
        if pending_g.get_value() {
            pending_g.set_value(false);
            match key.as_str() {
                "i" => route::go(state.route, Route::Inbox),
                "t" => route::go(state.route, Route::Tickets),
                _ => {}
            }
            return;
        }
        match key.as_str() {
            "?" => state.shortcuts_open.update(|o| *o = !*o),
            "g" => pending_g.set_value(true),
            "/" => {
                e.prevent_default();
                focus("#inbox-search");
            }
            "j" | "k" => step_conversation(state, key == "j"),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

fn focus(selector: &str) {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(selector).ok().flatten())
        .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
    {
        let _ = el.focus();
    }
}

/// `j`/`k`: the next or previous conversation of the inbox's order.
fn step_conversation(state: AppState, next: bool) {
    let rows = state.ordered_rows();
    if rows.is_empty() {
        return;
    }
    let current = match state.route.get_untracked() {
        Route::Conversation(id) => rows.iter().position(|r| r.conversation.id == id),
        _ => None,
    };
    let i = match (current, next) {
        (None, _) => 0,
        (Some(i), true) => (i + 1).min(rows.len() - 1),
        (Some(i), false) => i.saturating_sub(1),
    };
    route::go(
        state.route,
        Route::Conversation(rows[i].conversation.id.clone()),
    );
    focus(&format!("#row-{}", rows[i].conversation.id));
}

#[component]
fn Shell() -> impl IntoView {
    let state = expect_context::<AppState>();
    let route = state.route;
    let admin = Memo::new(move |_| state.is_admin());
    let nav = move || {
        let mut items = vec![(Route::Inbox, "Inbox"), (Route::Tickets, "Tickets")];
        if admin.get() {
            items.extend([
                (Route::Knowledge, "Knowledge base"),
                (Route::Settings, "Settings"),
                (Route::Install, "Install"),
                (Route::Usage, "Usage"),
                (Route::Analytics, "Analytics"),
            ]);
        }
        items
            .into_iter()
            .map(|(r, label)| {
                let target = r.clone();
                let current = move || {
                    let now = route.get();
                    (now == target
                        || (target == Route::Inbox && matches!(now, Route::Conversation(_))))
                    .then_some("page")
                };
                let count = (r == Route::Inbox).then_some({
                    move || {
                        let n = state.waiting_count();
                        (n > 0).then(|| {
                            view! { <span class="count" aria-label=format!("{n} waiting")>{n}</span> }
                        })
                    }
                });
                view! { <li><a href=r.path() aria-current=current>{label}{count}</a></li> }
            })
            .collect_view()
    };
    // What the main area shows, compared by value: moving between the console's screens
    // keeps the console mounted (it follows the route itself).
    let screen = Memo::new(move |_| match route.get() {
        Route::Inbox => Main::Inbox(None),
        Route::Conversation(id) => Main::Inbox(Some(id)),
        Route::Tickets => Main::Tickets,
        r if r.is_console() && admin.get() => Main::Console,
        r if r.is_console() => Main::NotAllowed,
        _ => Main::NotFound,
    });
    let content = move || match screen.get() {
        Main::Inbox(None) => view! { <inbox::InboxScreen/> }.into_any(),
        Main::Inbox(Some(id)) => view! { <inbox::InboxScreen open=id/> }.into_any(),
        Main::Tickets => chunk::lazily(|| Box::pin(tickets_screen())).into_any(),
        Main::Console => chunk::lazily(|| Box::pin(console_screen())).into_any(),
        Main::NotAllowed => view! {
            <section class="screen narrow">
                <h1>"Not available"</h1>
                <p>"This screen is for the account's owners and admins."</p>
            </section>
        }
        .into_any(),
        Main::NotFound => view! {
            <section class="screen narrow">
                <h1>"Page not found"</h1>
                <p><a href="/app/">"Back to the inbox"</a></p>
            </section>
        }
        .into_any(),
    };
    let me = move || state.me.get().map(|m| m.agent);
    let away = move || me().is_some_and(|a| a.away);
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/app/">"Concierge"</a>
            <nav aria-label="Main">
                <ul>{nav}</ul>
            </nav>
            <div class="me">
                <ConnectionStatus/>
                {move || state.can_ask_notifications.get().then(|| view! {
                    <button type="button" class="quiet" on:click=move |_| {
                        notify::ask(move |granted| {
                            state.can_ask_notifications.set(false);
                            state.say(if granted { "Desktop notifications are on." } else { "Desktop notifications stay off." });
                        });
                    }>"Enable notifications"</button>
                })}
                <button
                    type="button"
                    role="switch"
                    class=move || if away() { "presence away" } else { "presence online" }
                    aria-checked=move || if away() { "false" } else { "true" }
                    aria-label="Available for visitors"
                    title=move || if away() { "You are away: visitors are told nobody is online" } else { "You are online: visitors are told a person will reply" }
                    on:click=move |_| state.set_away(!away())
                >
                    <span class="dot" aria-hidden="true"></span>
                    {move || if away() { "Away" } else { "Online" }}
                </button>
                <span class="who">{move || me().map(|a| a.name)}</span>
                <button type="button" class="quiet" on:click=move |_| state.sign_out()>"Sign out"</button>
                <button type="button" class="quiet" aria-label="Keyboard shortcuts" on:click=move |_| state.shortcuts_open.update(|o| *o = !*o)>"?"</button>
            </div>
        </header>
        {move || state.usage_warning.get().map(|w| view! {
            <div class="banner warn" role="alert">{w.message}</div>
        })}
        <main id="main" tabindex="-1">{content}</main>
        <Shortcuts/>
    }
}

/// The main area's screen.
#[derive(Debug, Clone, PartialEq)]
enum Main {
    Inbox(Option<String>),
    Tickets,
    Console,
    NotAllowed,
    NotFound,
}

#[component]
fn ConnectionStatus() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let (class, text) = match state.conn.get() {
            Conn::Open => ("conn ok", "Live"),
            Conn::Connecting => ("conn wait", "Connecting…"),
            Conn::Retrying => ("conn down", "Reconnecting…"),
            Conn::Ended => ("conn down", "Signed out"),
        };
        view! { <span class=class role="status">{text}</span> }
    }
}

#[component]
fn Shortcuts() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        state.shortcuts_open.get().then(|| {
            view! {
                <div class="dialog-backdrop" on:click=move |_| state.shortcuts_open.set(false)>
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title"
                        on:click=|e| e.stop_propagation()>
                        <h2 id="shortcuts-title">"Keyboard shortcuts"</h2>
                        <dl class="shortcuts">
                            {SHORTCUTS.iter().map(|(k, what)| view! { <dt><kbd>{*k}</kbd></dt><dd>{*what}</dd> }).collect_view()}
                        </dl>
                        <button type="button" autofocus on:click=move |_| state.shortcuts_open.set(false)>"Close"</button>
                    </div>
                </div>
            }
        })
    }
}
