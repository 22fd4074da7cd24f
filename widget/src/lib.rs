//! The Concierge chat widget, compiled to wasm32 and started by the `widget.js` loader on
//! first open. It draws its panel inside the loader's shadow root (the host page's CSS cannot
//! reach it), talks protocol v1 over the visitor websocket, streams answers, reconnects with
//! backoff and resumes by `last_seq`, and keeps its session in localStorage.
//!
//! Layout:
//! - this file: the JS entry points (`start`, and `open`/`close`/`toggle`/`identify`).
//! - [`app`]: the controller (state, panel events) and [`socket`] its websocket half.
//! - [`view`]: building the panel and rendering messages as DOM nodes ([`dom`] helpers).
//! - [`md`]: the Markdown subset, parsed to a tree (never to HTML).
//! - [`state`]: the conversation as held in memory and in localStorage (pure).
//! - [`json`], [`wire`]: frames to and from JSON without serde (half the wasm's size).
//! - [`i18n`]: the widget's words in four languages.

mod app;
mod dom;
mod frames;
pub mod i18n;
pub mod json;
pub mod md;
mod panel;
mod socket;
pub mod state;
mod view;
pub mod wire;

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::ShadowRoot;

use app::App;

/// A ~1 KB allocator instead of dlmalloc's ~7 KB: the widget allocates little.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// The running widget, handed to the loader.
#[wasm_bindgen]
pub struct Widget {
    app: Rc<RefCell<App>>,
}

/// Starts the widget in the loader's shadow root. `options` is
/// `{server, site_key, config, error, identity, emit}`: the server origin, the site key, the
/// `GET /api/widget/config` answer (or `error` with its coded body when that failed), an
/// identity set before load, and `emit(name, detail)` for `Concierge.on` listeners.
#[wasm_bindgen]
pub fn start(shadow: ShadowRoot, options: JsValue) -> Widget {
    Widget {
        app: App::start(shadow, &options),
    }
}

#[wasm_bindgen]
impl Widget {
    pub fn open(&self) {
        App::open(&self.app);
    }

    pub fn close(&self) {
        App::close(&self.app);
    }

    pub fn toggle(&self) {
        let open = self.app.borrow().is_open;
        if open {
            App::close(&self.app);
        } else {
            App::open(&self.app);
        }
    }

    /// `{user_id, user_hash, email?, name?}`: reconnects as that signed identity.
    pub fn identify(&self, identity: JsValue) {
        App::identify(&self.app, &identity);
    }
}
