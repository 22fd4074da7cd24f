//! The owner's console (knowledge base, settings, install, usage, analytics) is a second wasm
//! module, `concierge-console` (`dashboard/console/`), so that an agent's first load never
//! carries it. The app fetches it the first time an owner opens one of its screens and hands
//! it an element to render into, the current path and a [`ConsoleContext`]; the console has
//! its own reactive runtime and API client (a copy of this crate's), so everything it needs
//! from the app travels in that context.
//!
//! The boot script (`dashboard/boot/boot.js`) defines `window.conciergeConsole()`, which
//! imports the module's hashed glue and instantiates its wasm once, resolving to the module's
//! exports: `show(element, path, context_json)` and `hide(element)`.

use concierge_protocol::api::{MeView, SiteView};
use serde::{Deserialize, Serialize};

/// What the app hands the console on every `show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleContext {
    /// The signed-in agent, their account and the session's CSRF token.
    pub me: MeView,
    /// The account's sites (the console's screens are per site).
    pub sites: Vec<SiteView>,
}

#[cfg(feature = "app")]
pub use loader::{hide, show};

#[cfg(feature = "app")]
mod loader {
    use std::cell::RefCell;

    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::ConsoleContext;

    thread_local! {
        /// The console module's exports, once loaded.
        static MODULE: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    }

    async fn module() -> Result<JsValue, String> {
        if let Some(m) = MODULE.with(|m| m.borrow().clone()) {
            return Ok(m);
        }
        let window = web_sys::window().ok_or("no window")?;
        let load = js_sys::Reflect::get(&window, &JsValue::from_str("conciergeConsole"))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or("this page was not started by the dashboard's boot script")?;
        let promise = load
            .call0(&JsValue::NULL)
            .ok()
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
            .ok_or("the console could not be requested")?;
        let m = JsFuture::from(promise).await.map_err(|_| {
            "The owner's console could not be loaded. Check your connection and reload the page."
                .to_string()
        })?;
        MODULE.with(|slot| *slot.borrow_mut() = Some(m.clone()));
        Ok(m)
    }

    fn export(m: &JsValue, name: &str) -> Option<js_sys::Function> {
        js_sys::Reflect::get(m, &JsValue::from_str(name))
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    }

    /// Renders the console's screen for `path` into `root` (loading the module first if needed).
    pub async fn show(
        root: web_sys::HtmlElement,
        path: String,
        context: &ConsoleContext,
    ) -> Result<(), String> {
        let m = module().await?;
        let context = serde_json::to_string(context).map_err(|e| e.to_string())?;
        let show = export(&m, "show").ok_or("the console module has no show()")?;
        show.call3(
            &JsValue::NULL,
            &root,
            &JsValue::from_str(&path),
            &JsValue::from_str(&context),
        )
        .map(drop)
        .map_err(|_| "The owner's console failed to start. Reload the page.".to_string())
    }

    /// Removes what the console rendered into `root` (if it is still the element it renders to).
    pub fn hide(root: &web_sys::HtmlElement) {
        if let Some(hide) = MODULE.with(|m| m.borrow().as_ref().and_then(|m| export(m, "hide"))) {
            let _ = hide.call1(&JsValue::NULL, root);
        }
    }
}
