//! The owner's screens as far as part 1 of the dashboard goes: each shows the account's real
//! data read from `/api/v1` (the embed snippet, usage against the plan, the documents, the
//! widget settings, the analytics summary). Editing them from the dashboard is part 2; until
//! then the CLI and the REST API do it (docs/api.md), and each screen says so.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, enc};
use crate::route::Route;
use crate::state::{AppState, Load};

#[component]
pub fn OwnerScreen(route: Route) -> impl IntoView {
    let title = route.title();
    let body = match route {
        Route::Install => view! { <Install/> }.into_any(),
        Route::Usage => view! { <Usage/> }.into_any(),
        Route::Knowledge => view! { <PerSite what="documents" label="Documents"/> }.into_any(),
        Route::Settings => {
            view! { <PerSite what="widget-config" label="Widget settings"/> }.into_any()
        }
        _ => view! { <Analytics/> }.into_any(),
    };
    view! {
        <section class="screen">
            <h1>{title}</h1>
            {body}
            <p class="muted small">"Changing these from the dashboard is coming; today use the "
                <code>"concierge"</code>" command or the REST API (/api/v1, described at "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>")."</p>
        </section>
    }
}

/// `GET path` as JSON, with its loading state.
fn load(path: String) -> (RwSignal<Load>, RwSignal<Value>) {
    let state = RwSignal::new(Load::Loading);
    let value = RwSignal::new(Value::Null);
    spawn_local(async move {
        match api::get::<Value>(&path).await {
            Ok(v) => {
                value.set(v);
                state.set(Load::Ready);
            }
            Err(e) => state.set(Load::Failed(e.message)),
        }
    });
    (state, value)
}

fn status_line(state: RwSignal<Load>) -> impl IntoView {
    move || match state.get() {
        Load::Loading => Some(view! { <p class="muted" role="status">"Loading…"</p> }.into_any()),
        Load::Failed(e) => Some(view! { <p class="error" role="alert">{e}</p> }.into_any()),
        Load::Ready => None,
    }
}

#[component]
fn Install() -> impl IntoView {
    let state = expect_context::<AppState>();
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    view! {
        <p>"Paste this line into every page of your site, just before " <code>"</body>"</code> ":"</p>
        <For each=move || state.sites.get() key=|s| s.site_key.clone() let:site>
            {
                let snippet = format!(
                    "<script src=\"{origin}/widget.js\" data-site-key=\"{}\" async></script>",
                    site.site_key
                );
                let copied = RwSignal::new(false);
                let text = snippet.clone();
                view! {
                    <h2>{site.name.clone()}</h2>
                    <pre class="snippet"><code>{snippet}</code></pre>
                    <button type="button" on:click=move |_| {
                        if let Some(w) = web_sys::window() {
                            let _ = w.navigator().clipboard().write_text(&text);
                            copied.set(true);
                        }
                    }>"Copy"</button>
                    <span role="status">{move || copied.get().then_some(" Copied.")}</span>
                }
            }
        </For>
    }
}

fn meter(report: &Value, key: &str) -> String {
    let m = &report[key];
    let used = m["used"].as_i64().unwrap_or(0);
    match m["limit"].as_i64() {
        Some(limit) => format!("{used} / {limit}"),
        None => format!("{used} (unlimited)"),
    }
}

#[component]
fn Usage() -> impl IntoView {
    let (state, report) = load("/usage".into());
    view! {
        {status_line(state)}
        {move || report.with(|r| (!r.is_null()).then(|| {
            let plan = r["plan"]["name"].as_str().or(r["plan"]["id"].as_str()).unwrap_or("").to_string();
            let warnings: Vec<String> = r["warnings"].as_array().map(|w| w.iter().filter_map(|x| x["message"].as_str().map(str::to_string)).collect()).unwrap_or_default();
            view! {
                <p>"Plan: " <strong>{plan}</strong></p>
                <dl class="meters">
                    <dt>"Bot answers"</dt><dd>{meter(r, "bot_answers")}</dd>
                    <dt>"Seats"</dt><dd>{meter(r, "seats")}</dd>
                    <dt>"Documents"</dt><dd>{meter(r, "documents")}</dd>
                    <dt>"Sites"</dt><dd>{meter(r, "sites")}</dd>
                    <dt>"LLM tokens"</dt><dd>{meter(r, "llm_tokens")}</dd>
                </dl>
                {warnings.into_iter().map(|w| view! { <p class="banner warn" role="alert">{w}</p> }).collect_view()}
            }
        }))}
    }
}

#[component]
fn PerSite(what: &'static str, label: &'static str) -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <For each=move || state.sites.get() key=|s| s.site_key.clone() let:site>
            {
                let (load_state, value) = load(format!("/sites/{}/{what}", enc(&site.site_key)));
                view! {
                    <h2>{format!("{} — {label}", site.name)}</h2>
                    {status_line(load_state)}
                    {move || value.with(|v| match what {
                        "documents" => {
                            let docs = v["items"].as_array().cloned().unwrap_or_default();
                            if docs.is_empty() {
                                view! { <p class="muted">"No documents yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="documents">
                                        {docs.iter().map(|d| {
                                            let title = d["title"].as_str().or(d["id"].as_str()).unwrap_or("").to_string();
                                            let status = d["status"].as_str().unwrap_or("").to_string();
                                            view! { <li>{title} " " <span class="badge">{status}</span></li> }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }
                        }
                        _ => view! { <pre class="json">{serde_json::to_string_pretty(v).unwrap_or_default()}</pre> }.into_any(),
                    })}
                }
            }
        </For>
    }
}

#[component]
fn Analytics() -> impl IntoView {
    let (state, report) = load("/analytics".into());
    view! {
        {status_line(state)}
        {move || report.with(|r| (!r.is_null()).then(|| view! {
            <pre class="json">{serde_json::to_string_pretty(r).unwrap_or_default()}</pre>
        }))}
    }
}
