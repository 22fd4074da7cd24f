//! Bot and escalation: the language model the bot writes with (or the extractive default),
//! with `Test connection` before saving; the escalation policy's thresholds, with **Replay
//! recent conversations**: how many of the site's recent conversations would escalate under
//! the changed policy, before it is saved (the server's triage on stored transcripts).
//!
//! The policy is edited as the JSON the server sends: the fields shown here are changed in
//! place and every other field is sent back as it came, so a policy field this screen does not
//! know yet is never lost.

use crate::api::{self, enc};
use crate::format;
use concierge_protocol::site_api::{
    LlmCheckView, LlmMode, LlmSource, ReplayBody, ReplayView, SiteLlmBody, SiteLlmView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::console::ui::{fail, outcome_line, status_line, Loaded, Outcome};

#[component]
pub fn BotSettings(site_key: String) -> impl IntoView {
    let base = format!("/sites/{}", enc(&site_key));
    view! {
        <LlmSettings base=base.clone()/>
        <EscalationSettings base=base/>
    }
}

#[component]
fn LlmSettings(base: String) -> impl IntoView {
    let current = Loaded::<SiteLlmView>::get(format!("{base}/llm"));
    let mode = RwSignal::new(LlmMode::Extractive);
    let base_url = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(c) = current.value.get() {
            mode.set(c.mode);
            base_url.set(c.base_url.clone().unwrap_or_default());
            model.set(c.model.clone().unwrap_or_default());
            key.set(String::new());
        }
    });
    let outcome = RwSignal::new(Outcome::None);
    let check = RwSignal::new(None::<LlmCheckView>);
    let body = move || SiteLlmBody {
        mode: mode.get_untracked(),
        base_url: Some(base_url.get_untracked().trim().to_string()).filter(|s| !s.is_empty()),
        model: Some(model.get_untracked().trim().to_string()).filter(|s| !s.is_empty()),
        // Empty: keep the stored key.
        api_key: Some(key.get_untracked()).filter(|k| !k.is_empty()),
    };
    let (test_path, save_path) = (format!("{base}/llm/test"), format!("{base}/llm"));
    let test = move |_| {
        let path = test_path.clone();
        let b = body();
        check.set(None);
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::post::<_, LlmCheckView>(&path, &b).await {
                Ok(v) => {
                    outcome.set(Outcome::None);
                    check.set(Some(v));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let save = move || {
        let path = save_path.clone();
        let b = body();
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::put::<_, SiteLlmView>(&path, &b).await {
                Ok(v) => {
                    current.value.set(Some(v));
                    outcome.set(Outcome::Done(
                        "Saved: the bot's next answers use these settings.".into(),
                    ));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let llm = move || mode.get() == LlmMode::Llm;
    view! {
        <section aria-labelledby="llm-title">
            <h3 id="llm-title">"Language model"</h3>
            {status_line(current.state)}
            {move || current.value.get().map(|c| view! {
                <p class="muted small">{match (c.source, c.mode) {
                    (LlmSource::Server, LlmMode::Extractive) => "Now: the server's default, extractive answers (no language model).".to_string(),
                    (LlmSource::Server, LlmMode::Llm) => format!("Now: the server's language model{}.", c.model.map(|m| format!(" ({m})")).unwrap_or_default()),
                    (LlmSource::Site, LlmMode::Extractive) => "Now: extractive answers, set for this site.".to_string(),
                    (LlmSource::Site, LlmMode::Llm) => format!("Now: this site's language model{}.", c.model.map(|m| format!(" ({m})")).unwrap_or_default()),
                }}</p>
            })}
            <form class="settings-form" on:submit=move |e| { e.prevent_default(); save(); }>
                <fieldset>
                    <legend>"How the bot writes its answers"</legend>
                    <label><input type="radio" name="llm-mode" prop:checked=move || !llm() on:change=move |_| mode.set(LlmMode::Extractive)/>
                        " Off: quote the best passages of the knowledge base (no language model)"</label>
                    <label><input type="radio" name="llm-mode" prop:checked=llm on:change=move |_| mode.set(LlmMode::Llm)/>
                        " A language model (any OpenAI-compatible endpoint) writes the answer from the passages"</label>
                </fieldset>
                <div class="settings-form" hidden=move || !llm()>
                    <label for="llm-url">"Endpoint"</label>
                    <input id="llm-url" type="url" placeholder="https://api.openai.com/v1" prop:value=base_url on:input=move |e| base_url.set(event_target_value(&e))/>
                    <label for="llm-model">"Model"</label>
                    <input id="llm-model" type="text" placeholder="gpt-4o-mini" prop:value=model on:input=move |e| model.set(event_target_value(&e))/>
                    <label for="llm-key">"API key"</label>
                    <input id="llm-key" type="password" autocomplete="off"
                        placeholder=move || current.value.get().and_then(|c| c.key_hint).map(|h| format!("stored key {h} (leave empty to keep it)")).unwrap_or_else(|| "none".into())
                        prop:value=key on:input=move |e| key.set(event_target_value(&e))/>
                </div>
                <div class="form-actions">
                    <button type="button" on:click=test disabled=move || !llm()>"Test connection"</button>
                    <button type="submit">"Save"</button>
                </div>
                {move || check.get().map(|c| view! {
                    <p class=if c.ok { "ok" } else { "error" } role="status">
                        {if c.ok { format!("Connected: {} answered in {} ms.", c.model, c.latency_ms) } else { c.message.clone() }}
                    </p>
                })}
                {outcome_line(outcome)}
            </form>
        </section>
    }
}

/// A number field of the policy, by its key; shown only when the server's policy has it.
struct NumberField {
    key: &'static str,
    label: &'static str,
    help: &'static str,
    min: f64,
    max: f64,
    step: f64,
}

const NUMBER_FIELDS: [NumberField; 5] = [
    NumberField { key: "intent_threshold", label: "Intent threshold", help: "How sure the classifier must be (0 to 1) that a message asks for a person, to file a complaint, etc.", min: 0.0, max: 1.0, step: 0.05 },
    NumberField { key: "negative_message", label: "One very negative message", help: "A single message at or below this sentiment (−1 to 0; with the classifier 1 − 2 × how likely the visitor is upset) escalates.", min: -1.0, max: 0.0, step: 0.05 },
    NumberField { key: "negative_mood", label: "Negative mood over the conversation", help: "The trend of recent messages at or below this (−1 to 0) escalates.", min: -1.0, max: 0.0, step: 0.05 },
    NumberField { key: "max_failures", label: "Answers the bot could not give", help: "This many “I don't know” answers in a row escalate.", min: 1.0, max: 10.0, step: 1.0 },
    NumberField { key: "max_thumbs_down", label: "Thumbs down", help: "This many thumbs-down answers escalate.", min: 1.0, max: 10.0, step: 1.0 },
];

#[component]
fn EscalationSettings(base: String) -> impl IntoView {
    let saved = Loaded::<Value>::get(format!("{base}/escalation-policy"));
    let draft = RwSignal::new(Value::Null);
    Effect::new(move |_| {
        if let Some(v) = saved.value.get() {
            draft.set(v["policy"].clone());
        }
    });
    let outcome = RwSignal::new(Outcome::None);
    let replay = RwSignal::new(None::<ReplayView>);
    let replaying = RwSignal::new(Outcome::None);
    let (replay_path, save_path) = (
        format!("{base}/escalation-policy/replay"),
        format!("{base}/escalation-policy"),
    );
    let run_replay = move |_| {
        let path = replay_path.clone();
        let body = ReplayBody {
            policy: draft.get_untracked(),
            last: Some(200),
        };
        replaying.set(Outcome::Busy);
        spawn_local(async move {
            match api::post::<_, ReplayView>(&path, &body).await {
                Ok(v) => {
                    replaying.set(Outcome::None);
                    replay.set(Some(v));
                }
                Err(e) => replaying.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let save = move || {
        let path = save_path.clone();
        let body = draft.get_untracked();
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::put::<_, Value>(&path, &body).await {
                Ok(_) => {
                    saved.reload();
                    outcome.set(Outcome::Done(
                        "Saved: new messages are judged by this policy.".into(),
                    ));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let numbers = move || {
        NUMBER_FIELDS
            .iter()
            .filter(|f| draft.with(|d| d.get(f.key).is_some()))
            .map(|f| {
                let key = f.key;
                let id = format!("policy-{key}");
                let help_id = format!("{id}-help");
                view! {
                    <label for=id.clone()>{f.label}</label>
                    <input id=id type="number" min=f.min max=f.max step=f.step aria-describedby=help_id.clone()
                        prop:value=move || draft.with(|d| d[key].as_f64().map(|x| ((x * 100.0).round() / 100.0).to_string()).unwrap_or_default())
                        on:change=move |e| {
                            if let Ok(x) = event_target_value(&e).parse::<f64>() {
                                let value = if f.step >= 1.0 { Value::from(x.round() as i64) } else { Value::from(x) };
                                draft.update(|d| d[key] = value);
                            }
                        }/>
                    <p id=help_id class="muted small">{f.help}</p>
                }
            })
            .collect_view()
    };
    view! {
        <section aria-labelledby="esc-title">
            <h3 id="esc-title">"Escalation"</h3>
            {status_line(saved.state)}
            <form class="settings-form" on:submit=move |e| { e.prevent_default(); save(); }>
                <label class="check"><input type="checkbox"
                    prop:checked=move || draft.with(|d| d["enabled"].as_bool().unwrap_or(true))
                    on:change=move |e| { let v = event_target_checked(&e); draft.update(|d| d["enabled"] = Value::from(v)); }/>
                    " Escalate automatically (a visitor who asks for a person always reaches one)"</label>
                {numbers}
                {move || draft.with(|d| d.get("escalate_on").is_some()).then(|| view! {
                    <fieldset>
                        <legend>"These escalate by themselves (the others only raise the priority)"</legend>
                        {concierge_protocol::ESCALATION_INTENTS.into_iter().map(|intent| view! {
                            <label><input type="checkbox"
                                prop:checked=move || draft.with(|d| d["escalate_on"].as_array().is_some_and(|a| a.iter().any(|x| x == intent)))
                                on:change=move |e| {
                                    let on = event_target_checked(&e);
                                    draft.update(|d| {
                                        let mut list: Vec<Value> = d["escalate_on"].as_array().cloned().unwrap_or_default();
                                        list.retain(|x| x != intent);
                                        if on { list.push(Value::from(intent)); }
                                        d["escalate_on"] = Value::from(list);
                                    });
                                }/>" "{format::reason(intent)}</label>
                        }).collect_view()}
                    </fieldset>
                })}
                <div class="form-actions">
                    <button type="button" on:click=run_replay>"Replay recent conversations"</button>
                    <button type="submit">"Save"</button>
                    <button type="button" class="quiet" on:click=move |_| { draft.set(saved.value.get_untracked().map(|v| v["policy"].clone()).unwrap_or_default()); replay.set(None); }>"Discard changes"</button>
                </div>
                {outcome_line(replaying)}
                {move || replay.get().map(|r| view! {
                    <div class="replay" role="status">
                        <p><strong>{format!("{} of the last {} conversations would escalate", r.would_escalate, r.conversations)}</strong>
                            {format!(" (now: {}; {} more, {} fewer).", r.escalated_now, r.newly_escalated, r.no_longer_escalated)}</p>
                        {(!r.examples.is_empty()).then(|| view! {
                            <ul class="plain">
                                {r.examples.into_iter().map(|x| view! {
                                    <li><a href=format!("/app/conversations/{}", x.conversation_id)>{x.first_message}</a>
                                        " — "{format::reason(&x.reason)}{x.newly_escalated.then_some(" (new)")}</li>
                                }).collect_view()}
                            </ul>
                        })}
                    </div>
                })}
                {outcome_line(outcome)}
            </form>
        </section>
    }
}
