//! Where the owner's console (a second wasm module, see [`crate::console`]) renders: the app
//! keeps the frame (navigation, presence, connection) and gives the console one element.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::console::{self, ConsoleContext};
use crate::state::{AppState, Load};

#[component]
pub fn ConsoleHost() -> impl IntoView {
    let state = expect_context::<AppState>();
    let host = NodeRef::<leptos::html::Div>::new();
    let status = RwSignal::new(Load::Loading);
    // Every navigation (also between the console's own screens) and every change of the
    // account's sites or of who is signed in renders the console's screen again.
    Effect::new(move |_| {
        let _ = state.route.get();
        let sites = state.sites.get();
        let Some(me) = state.me.get() else { return };
        if !state.sites_loaded.get() {
            return;
        }
        let Some(el) = host.get() else { return };
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        let el: web_sys::HtmlElement = (*el).clone();
        let mut me = me;
        me.csrf_token = crate::api::csrf();
        let context = ConsoleContext { me, sites };
        spawn_local(async move {
            match console::show(el, path, &context).await {
                Ok(()) => status.set(Load::Ready),
                Err(e) => status.set(Load::Failed(e)),
            }
        });
    });
    on_cleanup(move || {
        if let Some(el) = host.get_untracked() {
            console::hide(&el);
        }
    });
    view! {
        {move || match status.get() {
            Load::Loading => Some(view! { <p class="muted screen" role="status">"Loading…"</p> }.into_any()),
            Load::Failed(e) => Some(view! { <p class="error screen" role="alert">{e}</p> }.into_any()),
            Load::Ready => None,
        }}
        <div class="console-host" node_ref=host></div>
    }
}
