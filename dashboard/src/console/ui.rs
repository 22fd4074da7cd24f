//! Pieces every console screen uses: data loaded from `/api/v1` with its loading and error
//! states, an action's outcome in words, copy to clipboard.

use crate::api::{self, ApiFailure};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;

/// Where a load stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    Loading,
    Ready,
    Failed(String),
}

/// Data from `GET path`, reloadable.
pub struct Loaded<T: Send + Sync + 'static> {
    pub state: RwSignal<Load>,
    pub value: RwSignal<Option<T>>,
    path: StoredValue<String>,
}

impl<T: Send + Sync + 'static> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Loaded<T> {}

impl<T: DeserializeOwned + Send + Sync + 'static> Loaded<T> {
    pub fn get(path: impl Into<String>) -> Self {
        let loaded = Loaded {
            state: RwSignal::new(Load::Loading),
            value: RwSignal::new(None),
            path: StoredValue::new(path.into()),
        };
        loaded.reload();
        loaded
    }

    /// Loads again (the old value stays shown meanwhile).
    pub fn reload(self) {
        let path = self.path.get_value();
        spawn_local(async move {
            match api::get::<T>(&path).await {
                Ok(v) => {
                    self.value.set(Some(v));
                    self.state.set(Load::Ready);
                }
                Err(e) => self.state.set(Load::Failed(fail(e))),
            }
        });
    }

    /// Loads from another path from now on.
    pub fn set_path(self, path: impl Into<String>) {
        self.path.set_value(path.into());
        self.reload();
    }
}

/// A failure's words; a session that ended goes back to the sign-in screen.
pub fn fail(e: ApiFailure) -> String {
    if e.is_unauthenticated() {
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign("/app/sign-in");
        }
    }
    e.message
}

/// "Loading…" or the error, for a [`Load`].
pub fn status_line(state: RwSignal<Load>) -> impl IntoView {
    move || match state.get() {
        Load::Loading => Some(view! { <p class="muted" role="status">"Loading…"</p> }.into_any()),
        Load::Failed(e) => Some(view! { <p class="error" role="alert">{e}</p> }.into_any()),
        Load::Ready => None,
    }
}

/// The outcome of the last action of a form: shown in words, announced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    None,
    Busy,
    Done(String),
    Failed(String),
}

pub fn outcome_line(outcome: RwSignal<Outcome>) -> impl IntoView {
    move || match outcome.get() {
        Outcome::None => None,
        Outcome::Busy => Some(view! { <p class="muted" role="status">"Working…"</p> }.into_any()),
        Outcome::Done(m) => Some(view! { <p class="ok" role="status">{m}</p> }.into_any()),
        Outcome::Failed(m) => Some(view! { <p class="error" role="alert">{m}</p> }.into_any()),
    }
}

/// Copies `text`; says so in `said`.
pub fn copy(text: &str, said: RwSignal<String>) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
        said.set("Copied.".into());
    }
}

/// A `Copy` button for `text`, with its "Copied." status.
#[component]
pub fn CopyButton(text: String, #[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let said = RwSignal::new(String::new());
    view! {
        <button type="button" aria-label=label on:click=move |_| copy(&text, said)>"Copy"</button>
        <span class="muted" role="status">{move || said.get()}</span>
    }
}

/// Percent-encodes a path segment (document ids contain `/`, which stays).
pub fn enc_path(s: &str) -> String {
    s.split('/').map(api::enc).collect::<Vec<_>>().join("/")
}
