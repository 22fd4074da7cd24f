//! The dashboard's screens as URLs under `/app/`. Links are real `<a href>` links (open in a
//! new tab works); a plain click is taken over by the app and becomes a `pushState`.

use crate::state::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Where every screen lives.
pub const BASE: &str = "/app";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    SignIn,
    /// Ask for a password reset link.
    Forgot,
    /// `/app/invite/{token}` from an invitation email.
    AcceptInvitation(String),
    /// `/app/reset/{token}` from a reset email.
    ResetPassword(String),
    Inbox,
    Conversation(String),
    Tickets,
    Knowledge,
    Settings,
    Install,
    Usage,
    Analytics,
    NotFound,
}

impl Route {
    /// The route of a path (`/app/...`); the query string is ignored.
    pub fn parse(path: &str) -> Route {
        let rest = path.strip_prefix(BASE).unwrap_or(path);
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] | ["inbox"] => Route::Inbox,
            ["sign-in"] => Route::SignIn,
            ["forgot-password"] => Route::Forgot,
            ["invite", token] => Route::AcceptInvitation((*token).to_string()),
            ["reset", token] => Route::ResetPassword((*token).to_string()),
            ["conversations", id] => Route::Conversation((*id).to_string()),
            ["tickets"] => Route::Tickets,
            ["knowledge"] => Route::Knowledge,
            // The settings' sections (`/app/settings/team` ...) are the console's own routes.
            ["settings", ..] => Route::Settings,
            ["install"] => Route::Install,
            ["usage"] => Route::Usage,
            ["analytics"] => Route::Analytics,
            _ => Route::NotFound,
        }
    }

    pub fn path(&self) -> String {
        match self {
            Route::SignIn => format!("{BASE}/sign-in"),
            Route::Forgot => format!("{BASE}/forgot-password"),
            Route::AcceptInvitation(t) => format!("{BASE}/invite/{t}"),
            Route::ResetPassword(t) => format!("{BASE}/reset/{t}"),
            Route::Inbox => format!("{BASE}/"),
            Route::Conversation(id) => format!("{BASE}/conversations/{id}"),
            Route::Tickets => format!("{BASE}/tickets"),
            Route::Knowledge => format!("{BASE}/knowledge"),
            Route::Settings => format!("{BASE}/settings"),
            Route::Install => format!("{BASE}/install"),
            Route::Usage => format!("{BASE}/usage"),
            Route::Analytics => format!("{BASE}/analytics"),
            Route::NotFound => format!("{BASE}/"),
        }
    }

    /// Screens anyone may open without signing in.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Route::SignIn | Route::Forgot | Route::AcceptInvitation(_) | Route::ResetPassword(_)
        )
    }

    /// The owner's screens, rendered by the console (chunks loaded on demand).
    pub fn is_console(&self) -> bool {
        matches!(
            self,
            Route::Knowledge | Route::Settings | Route::Install | Route::Usage | Route::Analytics
        )
    }

    /// The page title (before the unread count).
    pub fn title(&self) -> &'static str {
        match self {
            Route::SignIn => "Sign in",
            Route::Forgot => "Reset your password",
            Route::AcceptInvitation(_) => "Join your team",
            Route::ResetPassword(_) => "Choose a new password",
            Route::Inbox => "Inbox",
            Route::Conversation(_) => "Conversation",
            Route::Tickets => "Tickets",
            Route::Knowledge => "Knowledge base",
            Route::Settings => "Settings",
            Route::Install => "Install",
            Route::Usage => "Usage",
            Route::Analytics => "Analytics",
            Route::NotFound => "Not found",
        }
    }
}

fn current() -> Route {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    Route::parse(&path)
}

/// The current route as a signal, following back/forward and in-app link clicks.
pub fn install() -> Cell<Route> {
    let route = Cell::new(current());
    let window = web_sys::window().expect("a browser window");
    let popstate = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| route.set(current()));
    let _ = window.add_event_listener_with_callback("popstate", popstate.as_ref().unchecked_ref());
    popstate.forget();
    // Plain left clicks on links into the app stay in the app.
    let click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |e: web_sys::MouseEvent| {
        if e.default_prevented()
            || e.button() != 0
            || e.meta_key()
            || e.ctrl_key()
            || e.shift_key()
            || e.alt_key()
        {
            return;
        }
        let Some(anchor) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("a[href]").ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        else {
            return;
        };
        if !anchor.target().is_empty() || anchor.has_attribute("download") {
            return;
        }
        let same_origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .is_some_and(|o| anchor.origin() == o);
        let path = anchor.pathname();
        if same_origin && (path == BASE || path.starts_with("/app/")) {
            e.prevent_default();
            navigate_to(route, &format!("{path}{}", anchor.search()));
        }
    });
    let _ = window
        .document()
        .expect("a document")
        .add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
    click.forget();
    route
}

fn navigate_to(route: Cell<Route>, path: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(path));
    }
    route.set(Route::parse(path));
    // The new screen starts at its top.
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// Goes to a screen (adds a history entry).
pub fn go(route: Cell<Route>, to: Route) {
    navigate_to(route, &to.path());
}

/// Goes to a screen without a history entry (redirects such as sign-in).
pub fn replace(route: Cell<Route>, to: Route) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&to.path()));
    }
    route.set(to);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_parses_back_from_its_path() {
        for r in [
            Route::SignIn,
            Route::Forgot,
            Route::AcceptInvitation("tok".into()),
            Route::ResetPassword("tok".into()),
            Route::Inbox,
            Route::Conversation("c1".into()),
            Route::Tickets,
            Route::Knowledge,
            Route::Settings,
            Route::Install,
            Route::Usage,
            Route::Analytics,
        ] {
            assert_eq!(Route::parse(&r.path()), r);
        }
        assert_eq!(Route::parse("/app"), Route::Inbox);
        assert_eq!(Route::parse("/app/nope/x"), Route::NotFound);
        assert_eq!(Route::parse("/app/settings/team"), Route::Settings);
    }
}
