//! **Ask your docs**: the answer a visitor would get now, streamed (NDJSON from
//! `POST /api/v1/sites/{key}/ask`), with its sources and the passages retrieval found, with
//! their scores.

use crate::api::{self, ApiFailure};
use crate::format;
use concierge_protocol::kb_api::{AskEvent, AskPassage};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::console::ui::fail;

/// What the Ask your docs box shows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Asked {
    question: String,
    passages: Vec<AskPassage>,
    answer: String,
    citations: Vec<(String, Option<String>)>,
    done: bool,
    answered: bool,
    error: Option<String>,
}

#[component]
pub fn AskYourDocs(base: String) -> impl IntoView {
    let question = RwSignal::new(String::new());
    let asked = RwSignal::new(None::<Asked>);
    let path = format!("{base}/ask");
    let ask = move || {
        let q = question.get_untracked().trim().to_string();
        if q.is_empty() {
            return;
        }
        asked.set(Some(Asked {
            question: q.clone(),
            ..Asked::default()
        }));
        let path = path.clone();
        spawn_local(async move {
            if let Err(e) = stream_answer(&path, &q, asked).await {
                let message = fail(e);
                asked.update(|a| {
                    if let Some(a) = a {
                        a.error = Some(message);
                        a.done = true;
                    }
                });
            }
        });
    };
    view! {
        <section class="ask">
            <h2 id="ask-title">"Ask your docs"</h2>
            <p class="muted">"The answer a visitor would get now, and the passages it comes from."</p>
            <form on:submit=move |e| { e.prevent_default(); ask(); }>
                <label for="ask-input" class="visually-hidden">"Ask your docs"</label>
                <input id="ask-input" type="search" placeholder="How do I reset my password?"
                    prop:value=question on:input=move |e| question.set(event_target_value(&e))/>
                <button type="submit">"Ask"</button>
            </form>
            {move || asked.get().map(|a| view! {
                <div class="answer" aria-live="polite" aria-busy=(!a.done).to_string()>
                    <p class="muted small">{format!("“{}”", a.question)}</p>
                    {a.error.clone().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <p class="answer-text">{a.answer.clone()}{(!a.done).then_some("▍")}</p>
                    {(a.done && a.error.is_none() && !a.answered).then(|| view! {
                        <p class="banner warn">"The bot would say it does not know: add a document that answers this."</p>
                    })}
                    {(!a.citations.is_empty()).then(|| view! {
                        <p class="sources">"Sources: "
                            {a.citations.iter().map(|(title, url)| match url.as_deref().and_then(format::safe_link) {
                                Some(u) => view! { <a href=u.to_string() target="_blank" rel="noopener noreferrer nofollow">{title.clone()}</a>" " }.into_any(),
                                None => view! { <span class="badge">{title.clone()}</span>" " }.into_any(),
                            }).collect_view()}
                        </p>
                    })}
                </div>
                {(!a.passages.is_empty()).then(|| view! {
                    <h3>"Retrieved passages"</h3>
                    <ol class="passages">
                        {a.passages.iter().map(|p| view! {
                            <li>
                                <div class="passage-head"><strong>{if p.title.is_empty() { p.document_id.clone() } else { p.title.clone() }}</strong>
                                    " "<span class="badge" title="Fused retrieval score (ranks the passages)">{format!("score {:.3}", p.score)}</span>
                                    {p.similarity.map(|x| view! { " "<span class="badge" title="Similarity of meaning to the question (compared with the confidence threshold)">{format!("similarity {x:.2}")}</span> })}</div>
                                <p class="passage">{p.text.clone()}</p>
                            </li>
                        }).collect_view()}
                    </ol>
                })}
            })}
        </section>
    }
}

/// Reads the answer's NDJSON stream, updating `asked` as each event arrives.
async fn stream_answer(
    path: &str,
    question: &str,
    asked: RwSignal<Option<Asked>>,
) -> Result<(), ApiFailure> {
    let body = serde_json::json!({ "question": question }).to_string();
    let response = api::send(
        "POST",
        path,
        Some((JsValue::from_str(&body), Some("application/json"))),
    )
    .await?;
    if !response.ok() {
        return Err(api::failure(&response).await);
    }
    let stream = response.body().ok_or_else(ApiFailure::network)?;
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| ApiFailure::network())?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
            if !value.is_undefined() {
                buf.extend(js_sys::Uint8Array::new(&value).to_vec());
            }
        }
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            if let Some(event) = api::parse::<AskEvent>(line.trim()) {
                apply(asked, event);
            }
        }
        if done {
            break;
        }
    }
    asked.update(|a| {
        if let Some(a) = a {
            a.done = true;
        }
    });
    Ok(())
}

fn apply(asked: RwSignal<Option<Asked>>, event: AskEvent) {
    asked.update(|a| {
        let Some(a) = a else { return };
        match event {
            AskEvent::Passages { passages, .. } => a.passages = passages,
            AskEvent::Delta { text } => a.answer.push_str(&text),
            AskEvent::Done {
                answer,
                citations,
                answered,
            } => {
                a.answer = answer;
                a.citations = citations
                    .into_iter()
                    .map(|c| {
                        let title = if c.title.is_empty() {
                            c.document_id
                        } else {
                            c.title
                        };
                        (title, c.url)
                    })
                    .collect();
                a.answered = answered;
                a.done = true;
            }
            AskEvent::Error { message, .. } => {
                a.error = Some(message);
                a.done = true;
            }
        }
    });
}
