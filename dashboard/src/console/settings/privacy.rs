//! Privacy: export or erase a visitor's data (GDPR access and erasure), how long
//! conversations are kept, and the account's audit log.

use crate::api::{self, enc};
use crate::format;
use concierge_protocol::api::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::console::ui::{fail, outcome_line, status_line, Loaded, Outcome};

#[component]
pub fn PrivacySettings(site_key: String) -> impl IntoView {
    let base = format!("/sites/{}", enc(&site_key));
    view! {
        <Visitor base=base.clone()/>
        <Retention base=base/>
        <AuditLog/>
    }
}

#[component]
fn Visitor(base: String) -> impl IntoView {
    let id = RwSignal::new(String::new());
    let confirm = RwSignal::new(false);
    let outcome = RwSignal::new(Outcome::None);
    let base = StoredValue::new(base);
    let export_href = move || {
        format!(
            "/api/v1{}/visitors/{}/export",
            base.get_value(),
            enc(id.get().trim())
        )
    };
    let erase = move || {
        let path = format!(
            "{}/visitors/{}",
            base.get_value(),
            enc(id.get_untracked().trim())
        );
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::delete(&path).await {
                Ok(()) => {
                    outcome.set(Outcome::Done(
                        "The visitor's conversations, messages and details are erased.".into(),
                    ));
                    id.set(String::new());
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        <section aria-labelledby="visitor-title">
            <h3 id="visitor-title">"A visitor's data"</h3>
            <p class="muted">"The visitor id is shown in each conversation's visitor details."</p>
            <label for="visitor-id">"Visitor id"</label>
            <input id="visitor-id" type="text" prop:value=id on:input=move |e| { id.set(event_target_value(&e)); confirm.set(false); }/>
            <div class="form-actions">
                {move || (!id.get().trim().is_empty()).then(|| view! {
                    <a class="button" href=export_href() download="visitor-export.json">"Export"</a>
                })}
                <button type="button" class="danger" disabled=move || id.get().trim().is_empty() on:click=move |_| confirm.set(true)>"Erase"</button>
            </div>
            {move || confirm.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="erase-q">
                    <p id="erase-q">"Erase everything this visitor said and every detail about them? This cannot be undone."</p>
                    <button type="button" class="danger" on:click=move |_| { confirm.set(false); erase(); }>"Yes, erase"</button>
                    <button type="button" class="quiet" on:click=move |_| confirm.set(false)>"Cancel"</button>
                </div>
            })}
            {outcome_line(outcome)}
        </section>
    }
}

#[component]
fn Retention(base: String) -> impl IntoView {
    let path = format!("{base}/retention");
    let current = Loaded::<Value>::get(path.clone());
    let days = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(v) = current.value.get() {
            days.set(
                v["retention_days"]
                    .as_i64()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            );
        }
    });
    let outcome = RwSignal::new(Outcome::None);
    let save = move || {
        let text = days.get_untracked().trim().to_string();
        let value = if text.is_empty() {
            Value::Null
        } else {
            match text.parse::<i64>() {
                Ok(d) if d >= 1 => Value::from(d),
                _ => {
                    outcome.set(Outcome::Failed("Keep conversations for a whole number of days (1 or more), or leave it empty to keep them.".into()));
                    return;
                }
            }
        };
        let path = path.clone();
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::put::<_, Value>(&path, &json!({ "retention_days": value })).await {
                Ok(_) => outcome.set(Outcome::Done("Saved.".into())),
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        <section aria-labelledby="retention-title">
            <h3 id="retention-title">"Retention"</h3>
            {status_line(current.state)}
            <form class="inline-form" on:submit=move |e| { e.prevent_default(); save(); }>
                <label for="retention-days">"Delete conversations older than (days; empty: keep them)"</label>
                <input id="retention-days" type="number" min="1" prop:value=days on:input=move |e| days.set(event_target_value(&e))/>
                <button type="submit">"Save retention"</button>
            </form>
            {outcome_line(outcome)}
        </section>
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let log = Loaded::<Page<Value>>::get("/audit?limit=50");
    view! {
        <section aria-labelledby="audit-title">
            <h3 id="audit-title">"Audit log"</h3>
            {status_line(log.state)}
            {move || log.value.get().map(|p| view! {
                <table class="table">
                    <caption class="visually-hidden">"Audit log, newest first"</caption>
                    <thead><tr><th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Who"</th><th scope="col">"Details"</th></tr></thead>
                    <tbody>
                        {p.items.into_iter().map(|r| {
                            let at = r["at"].as_str().and_then(format::parse_time).map(|t| format::ago_sentence(t, js_sys::Date::now())).unwrap_or_default();
                            let s = |k: &str| r[k].as_str().unwrap_or("").replace('_', " ");
                            view! {
                                <tr><td>{at}</td><td>{s("action")}</td><td>{r["actor_email"].as_str().or(r["actor_id"].as_str()).unwrap_or("—").to_string()}</td>
                                <td><code class="small">{r["detail"].to_string()}</code></td></tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
    }
}
