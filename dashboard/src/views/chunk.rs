//! Screens whose code is a separate wasm chunk, fetched the first time one is shown.
//!
//! `cargo xtask dashboard` splits the module at every function marked
//! `#[wasm_split(NAME, wasm_split_path = ::leptos::wasm_split, fallible)]` (Leptos's own
//! code-splitting: `wasm_split_helpers`, and `wasm_split_cli_support` in the build): what only
//! such a function reaches moves to its chunk, and the first call fetches and instantiates it
//! (sharing the app's memory, table and reactive runtime). Each split function here returns a
//! [`Screen`], the chunk's render function, so the view can render it again without another
//! async call. A chunk that fails to download (offline, a deploy replaced it) is said in words
//! with `Retry`; the next call fetches it again.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::SplitLoaderError;

use crate::state::Load;

/// A chunk's render function: builds its screen (called inside the app's reactive owner, so
/// `expect_context` works there as anywhere).
pub type Screen = fn() -> AnyView;

/// A split function's call: fetches its chunk (once) and returns its [`Screen`]. One type for
/// every split, so the app holds one copy of [`lazily`].
pub type Fetch = fn() -> Pin<Box<dyn Future<Output = Result<Screen, ChunkError>>>>;

/// A chunk could not be fetched or instantiated.
#[derive(Debug, Clone, Copy)]
pub struct ChunkError;

impl From<SplitLoaderError> for ChunkError {
    fn from(_: SplitLoaderError) -> Self {
        ChunkError
    }
}

/// Shows the screen `fetch` loads: `Loading…` while its chunk downloads, the screen once it
/// is there, an alert with `Retry` if the download failed.
pub fn lazily(fetch: Fetch) -> AnyView {
    let status = RwSignal::new(Load::Loading);
    let screen = Arc::new(OnceLock::<Screen>::new());
    let start = {
        let screen = screen.clone();
        move || {
            status.set(Load::Loading);
            let screen = screen.clone();
            spawn_local(async move {
                match fetch().await {
                    Ok(s) => {
                        let _ = screen.set(s);
                        status.set(Load::Ready);
                    }
                    Err(ChunkError) => status.set(Load::Failed(
                        "This screen could not be loaded. Check your connection.".into(),
                    )),
                }
            });
        }
    };
    start();
    (move || match status.get() {
        Load::Loading => view! { <p class="muted screen" role="status">"Loading…"</p> }.into_any(),
        Load::Ready => screen
            .get()
            .map_or_else(|| ().into_any(), |render| render()),
        Load::Failed(e) => {
            let start = start.clone();
            view! {
                <div class="screen" role="alert">
                    <p class="error">{e}</p>
                    <button type="button" on:click=move |_| start()>"Retry"</button>
                </div>
            }
            .into_any()
        }
    })
    .into_any()
}
