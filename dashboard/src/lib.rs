//! The Concierge dashboard: a Leptos client-side app (wasm32) served by the server under
//! `/app/`. Agents sign in, work the live inbox and the ticket queue, take conversations over
//! and answer visitors; the owner's screens (knowledge base, settings, install, usage,
//! analytics) share the same shell; their code, like every screen an agent does not need up
//! front, is a chunk of the wasm fetched the first time it is shown (`views/chunk.rs`).
//!
//! Layout:
//! - this file: the wasm entry point.
//! - [`api`]: the one module that talks to `/api/v1` (fetch, CSRF header, coded errors), typed
//!   with `concierge_protocol::api`.
//! - [`socket`]: the one module that talks to the agent socket (`/ws/agent`): reconnects with
//!   backoff and tells the app to resync after every (re)connect.
//! - [`state`]: the app's state, held once in reactive cells and shared through context: who is
//!   signed in, the inbox rows, the open transcript, the tickets, the connection.
//! - [`route`]: the screens' URLs under `/app/` (history API; links stay real links).
//! - [`notify`]: sound, desktop notification and tab-title count for new escalations.
//! - [`views`]: the screens, components named after what the agent sees.
//! - [`console`]: the owner's console (knowledge base, settings, install, usage, analytics),
//!   a chunk fetched the first time an owner opens one of its screens.
//! - [`json`]: answers and frames typed from parsed JSON, structs from objects only.
//! - [`decode`]: the socket's frames and the inbox rows, read without serde's buffered path
//!   (a third of the deserializers' size).
//! - [`format`]: times, moods and labels as words (pure; unit-tested on the host).

pub mod api;
pub mod console;
mod decode;
pub mod format;
mod json;
mod notify;
pub mod route;
mod socket;
mod state;
mod views;

/// Called by the boot script once the module is instantiated.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(views::App);
}
