//! **Knowledge gaps**: the questions the bot could not answer, grouped by wording and most
//! frequent first, each with "add a document" (the answer written here becomes a Markdown
//! document, uploaded like any file) and "dismiss".

use crate::api::{self, enc};
use crate::format;
use concierge_protocol::api::Page;
use concierge_protocol::kb_api::KnowledgeGapGroup;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsValue;

use crate::console::ui::{fail, outcome_line, status_line, Loaded, Outcome};

#[component]
pub fn KnowledgeGaps<U>(
    base: String,
    gaps: Loaded<Page<KnowledgeGapGroup>>,
    upload: U,
) -> impl IntoView
where
    U: Fn(Vec<web_sys::File>) + Copy + Send + Sync + 'static,
{
    let outcome = RwSignal::new(Outcome::None);
    let writing = RwSignal::new(None::<String>);
    let base = StoredValue::new(base);
    let dismiss = move |id: String| {
        let path = format!("{}/knowledge-gaps/{}/dismiss", base.get_value(), enc(&id));
        spawn_local(async move {
            match api::post_ignored(&path, &serde_json::json!({})).await {
                Ok(()) => {
                    outcome.set(Outcome::Done("Dismissed.".into()));
                    gaps.reload();
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        <section aria-labelledby="gaps-title">
            <h2 id="gaps-title">"Knowledge gaps"</h2>
            <p class="muted">"Questions visitors asked that the bot could not answer, most frequent first."</p>
            {status_line(gaps.state)}
            {outcome_line(outcome)}
            {move || gaps.value.get().map(|page| {
                if page.items.is_empty() {
                    return view! { <p class="muted">"No gaps: the bot has answered every question so far."</p> }.into_any();
                }
                view! {
                    <ul class="gaps">
                        {page.items.into_iter().map(|g| {
                            let (id, id2) = (g.id.clone(), g.id.clone());
                            let question = g.question.clone();
                            let when = format::parse_time(&g.last_asked_at).map(|t| format::ago_sentence(t, js_sys::Date::now())).unwrap_or_default();
                            view! {
                                <li>
                                    <span class="q">{g.question.clone()}</span>
                                    <span class="muted small">{format!(" asked {} time{}, last {when}", g.count, if g.count == 1 { "" } else { "s" })}</span>
                                    <div class="row-actions">
                                        <button type="button" class="quiet" aria-label=format!("Add a document for: {}", g.question) on:click=move |_| writing.set(Some(id.clone()))>"Add a document"</button>
                                        <button type="button" class="quiet" aria-label=format!("Dismiss: {}", g.question) on:click=move |_| dismiss(id2.clone())>"Dismiss"</button>
                                    </div>
                                    {
                                        let gid = g.id.clone();
                                        move || (writing.get().as_deref() == Some(gid.as_str())).then(|| view! {
                                            <GapAnswer question=question.clone() upload=upload on_done=move || writing.set(None)/>
                                        })
                                    }
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

/// Writing the answer to a gap: becomes `answers/<question>.md`, uploaded like any file.
#[component]
fn GapAnswer<U, D>(question: String, upload: U, on_done: D) -> impl IntoView
where
    U: Fn(Vec<web_sys::File>) + Copy + Send + Sync + 'static,
    D: Fn() + Copy + Send + Sync + 'static,
{
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let q = question.clone();
    let save = move || {
        let body = text.get_untracked();
        if body.trim().is_empty() {
            error.set(Some("Write the answer first.".into()));
            return;
        }
        let markdown = format!("# {}\n\n{}\n", q.trim(), body.trim());
        match markdown_file(&slug(&q), &markdown) {
            Some(file) => {
                upload(vec![file]);
                on_done();
            }
            None => error.set(Some("The browser could not make the file.".into())),
        }
    };
    view! {
        <form class="gap-answer" on:submit=move |e| { e.prevent_default(); save(); }>
            <label for="gap-answer-text">{format!("Answer to “{question}”")}</label>
            <textarea id="gap-answer-text" rows="5" prop:value=text on:input=move |e| text.set(event_target_value(&e))></textarea>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit">"Save as a document"</button>
            <button type="button" class="quiet" on:click=move |_| on_done()>"Cancel"</button>
        </form>
    }
}

/// A file name from a question: lowercase words joined by `-`.
pub fn slug(question: &str) -> String {
    let words: Vec<String> = question
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        "answer.md".into()
    } else {
        format!("{}.md", words.join("-"))
    }
}

fn markdown_file(name: &str, text: &str) -> Option<web_sys::File> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::FilePropertyBag::new();
    options.set_type("text/markdown");
    web_sys::File::new_with_str_sequence_and_options(&parts, name, &options).ok()
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn gap_answers_get_readable_file_names() {
        assert_eq!(
            slug("How do I reset my password?"),
            "how-do-i-reset-my-password.md"
        );
        assert_eq!(slug("¿Dónde está mi pedido?"), "dónde-está-mi-pedido.md");
        assert_eq!(slug("???"), "answer.md");
    }
}
