//! Knowledge base: the site's documents with their status and a live progress bar while they
//! are processed; upload (file picker or drag and drop, one request per file so one bad file
//! never stops the others), add a page URL or a sitemap, re-index, delete; **Ask your docs**
//! (the answer the bot would give, streamed, with the passages it retrieved and their scores);
//! **Knowledge gaps** (what the bot could not answer, most frequent first), each with "add a
//! document" (write the answer as a Markdown document) and "dismiss".

use crate::api::{self, enc};
use crate::format;
use concierge_protocol::api::Page;
use concierge_protocol::kb_api::{DocumentStatus, DocumentView, KnowledgeGapGroup};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use wasm_bindgen_futures::JsFuture;

use crate::console::ui::{enc_path, fail, outcome_line, status_line, Loaded, Outcome};

mod ask;
mod gaps;

use ask::AskYourDocs;
use gaps::KnowledgeGaps;

/// Files the knowledge base reads.
const ACCEPT: &str =
    ".md,.markdown,.txt,.html,.htm,.pdf,text/markdown,text/plain,text/html,application/pdf";

#[component]
pub fn KnowledgeScreen(site_key: String) -> impl IntoView {
    let base = format!("/sites/{}", enc(&site_key));
    let docs = Loaded::<Page<DocumentView>>::get(format!("{base}/documents?limit=200"));
    let gaps = Loaded::<Page<KnowledgeGapGroup>>::get(format!("{base}/knowledge-gaps?limit=50"));
    // Per-file outcomes of the last uploads, in words.
    let uploads = RwSignal::new(Vec::<(String, Result<String, String>)>::new());
    let polling = StoredValue::new(false);
    let watch = move || watch_progress(docs, polling);
    // Documents still being processed when the screen opens are followed too.
    Effect::new(move |_| {
        if docs.value.with(|d| d.as_ref().is_some_and(busy)) {
            watch();
        }
    });
    let base_up = StoredValue::new(base.clone());
    let upload = move |files: Vec<web_sys::File>| {
        for file in files {
            let path = format!("{}/documents", base_up.get_value());
            let name = file.name();
            uploads.update(|u| {
                u.retain(|(n, _)| n != &name);
                u.push((name.clone(), Ok("Uploading…".into())));
            });
            spawn_local(async move {
                let outcome = upload_file(&path, &file).await;
                uploads.update(|u| {
                    if let Some(slot) = u.iter_mut().find(|(n, _)| n == &name) {
                        slot.1 = outcome;
                    }
                });
                docs.reload();
                watch();
            });
        }
    };
    view! {
        <div class="kb">
            <section aria-labelledby="docs-title">
                <h2 id="docs-title">"Documents"</h2>
                <AddDocuments base=base.clone() upload=upload docs=docs watch=watch/>
                {move || {
                    let list = uploads.get();
                    (!list.is_empty()).then(|| view! {
                        <ul class="upload-results" aria-label="Uploads">
                            {list.into_iter().map(|(name, r)| match r {
                                Ok(m) => view! { <li>{name}": "{m}</li> }.into_any(),
                                Err(e) => view! { <li class="error" role="alert">{name}": "{e}</li> }.into_any(),
                            }).collect_view()}
                        </ul>
                    })
                }}
                {status_line(docs.state)}
                <DocumentList base=base.clone() docs=docs watch=watch/>
            </section>
            <AskYourDocs base=base.clone()/>
            <KnowledgeGaps base=base gaps=gaps upload=upload/>
        </div>
    }
}

fn busy(page: &Page<DocumentView>) -> bool {
    page.items.iter().any(|d| {
        matches!(
            d.status,
            DocumentStatus::Queued | DocumentStatus::Processing
        )
    })
}

/// Reloads the documents every 600 ms while any is queued or being processed.
fn watch_progress(docs: Loaded<Page<DocumentView>>, polling: StoredValue<bool>) {
    if polling.try_get_value().unwrap_or(true) {
        return;
    }
    polling.set_value(true);
    spawn_local(async move {
        loop {
            sleep(600).await;
            // The screen was closed.
            if docs.value.try_with_untracked(|_| ()).is_none() {
                return;
            }
            docs.reload();
            sleep(50).await;
            let still = docs
                .value
                .try_with_untracked(|d| d.as_ref().is_some_and(busy));
            if still != Some(true) {
                // One more reload after the last document finished (its final status).
                sleep(400).await;
                if docs.value.try_with_untracked(|_| ()).is_some() {
                    docs.reload();
                }
                let _ = polling.try_set_value(false);
                return;
            }
        }
    });
}

pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Uploads one file (multipart), answering the file's outcome in words.
async fn upload_file(path: &str, file: &web_sys::File) -> Result<String, String> {
    let form = web_sys::FormData::new().map_err(|_| "the browser cannot upload".to_string())?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| "the file could not be read".to_string())?;
    post_form(path, &form).await
}

/// Posts a form; the job's item for the file tells whether it was accepted.
async fn post_form(path: &str, form: &web_sys::FormData) -> Result<String, String> {
    let response = api::send("POST", path, Some((form.into(), None)))
        .await
        .map_err(fail)?;
    api::read_json(response).await.map_err(fail)?;
    Ok("Uploaded.".into())
}

#[component]
fn AddDocuments<U, W>(
    base: String,
    upload: U,
    docs: Loaded<Page<DocumentView>>,
    watch: W,
) -> impl IntoView
where
    U: Fn(Vec<web_sys::File>) + Copy + Send + Sync + 'static,
    W: Fn() + Copy + Send + Sync + 'static,
{
    let dragging = RwSignal::new(false);
    let url = RwSignal::new(String::new());
    let outcome = RwSignal::new(Outcome::None);
    let add_url = move || {
        let u = url.get_untracked().trim().to_string();
        if u.is_empty() {
            outcome.set(Outcome::Failed(
                "Type the address of a page or of a sitemap.xml.".into(),
            ));
            return;
        }
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            outcome.set(Outcome::Failed(
                "The address must start with https:// or http://.".into(),
            ));
            return;
        }
        outcome.set(Outcome::Busy);
        let path = format!("{base}/documents");
        spawn_local(async move {
            let body = serde_json::json!({ "urls": [u] });
            match api::post::<_, Value>(&path, &body).await {
                Ok(_) => {
                    url.set(String::new());
                    outcome.set(Outcome::Done("Added; fetching it now.".into()));
                    docs.reload();
                    watch();
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        <div
            class=move || if dragging.get() { "dropzone over" } else { "dropzone" }
            on:dragover=move |e: web_sys::DragEvent| { e.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |e: web_sys::DragEvent| {
                e.prevent_default();
                dragging.set(false);
                let files = e.data_transfer().and_then(|d| d.files()).map(file_list).unwrap_or_default();
                if !files.is_empty() { upload(files); }
            }
        >
            <p>"Drop Markdown, HTML, text or PDF files here, or "</p>
            <label class="button">"Upload files"
                <input class="visually-hidden" type="file" multiple accept=ACCEPT
                    on:change=move |e| {
                        let input: web_sys::HtmlInputElement = event_target(&e);
                        let files = input.files().map(file_list).unwrap_or_default();
                        input.set_value("");
                        if !files.is_empty() { upload(files); }
                    }/>
            </label>
        </div>
        <form class="add-url" on:submit=move |e| { e.prevent_default(); add_url(); }>
            <label for="add-url">"Page or sitemap URL"</label>
            <input id="add-url" type="url" placeholder="https://example.com/sitemap.xml"
                prop:value=url on:input=move |e| url.set(event_target_value(&e))/>
            <button type="submit">"Add"</button>
        </form>
        {outcome_line(outcome)}
    }
}

fn file_list(list: web_sys::FileList) -> Vec<web_sys::File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

#[component]
fn DocumentList<W>(base: String, docs: Loaded<Page<DocumentView>>, watch: W) -> impl IntoView
where
    W: Fn() + Copy + Send + Sync + 'static,
{
    let outcome = RwSignal::new(Outcome::None);
    let confirm = RwSignal::new(None::<String>);
    let base = StoredValue::new(base);
    let act = move |id: String, what: &'static str| {
        let path = format!("{}/documents/{}", base.get_value(), enc_path(&id));
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            let r = if what == "delete" {
                api::delete(&path).await.map(|_| format!("Deleted {id}."))
            } else {
                api::post_ignored(&format!("{path}/reindex"), &serde_json::json!({}))
                    .await
                    .map(|_| format!("Re-indexing {id}."))
            };
            match r {
                Ok(m) => {
                    outcome.set(Outcome::Done(m));
                    docs.reload();
                    watch();
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        {outcome_line(outcome)}
        {move || docs.value.get().map(|page| {
            if page.items.is_empty() {
                return view! { <p class="muted">"No documents yet: upload your help center's pages, or add its sitemap."</p> }.into_any();
            }
            view! {
                <table class="table docs">
                    <caption class="visually-hidden">"Documents"</caption>
                    <thead><tr><th scope="col">"Document"</th><th scope="col">"Status"</th><th scope="col">"Passages"</th><th scope="col">"Updated"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|d| {
                            let id = d.id.clone();
                            let (id2, id3) = (id.clone(), id.clone());
                            let title = if d.title.is_empty() { d.id.clone() } else { d.title.clone() };
                            let (status_text, status_class) = status_words(d.status);
                            let progress = matches!(d.status, DocumentStatus::Queued | DocumentStatus::Processing).then(|| {
                                let pct = (d.progress.unwrap_or(0.0) * 100.0).round();
                                view! { <progress max="100" value=pct.to_string() aria-label=format!("{title}: {pct} % processed")></progress> }
                            });
                            let updated = d.updated_at.as_deref().and_then(format::parse_time).map(|t| format::ago_sentence(t, js_sys::Date::now())).unwrap_or_default();
                            let link = d.url.as_deref().and_then(format::safe_link).map(|u| u.to_string());
                            let asking = {
                                let id = id.clone();
                                move || confirm.get().as_deref() == Some(id.as_str())
                            };
                            view! {
                                <tr>
                                    <td>
                                        {match link {
                                            Some(u) => view! { <a href=u target="_blank" rel="noopener noreferrer nofollow">{title.clone()}</a> }.into_any(),
                                            None => view! { <span>{title.clone()}</span> }.into_any(),
                                        }}
                                        <div class="muted small">{d.id.clone()}</div>
                                    </td>
                                    <td>
                                        <span class=format!("badge doc-{status_class}")>{status_text}</span>
                                        {progress}
                                        {d.error.clone().map(|e| view! { <div class="error small">{e}</div> })}
                                    </td>
                                    <td>{d.chunks.map(|c| c.to_string()).unwrap_or_default()}</td>
                                    <td>{updated}</td>
                                    <td class="row-actions">
                                        {move || if asking() {
                                            let id = id2.clone();
                                            view! {
                                                <span>"Delete this document? "</span>
                                                <button type="button" class="danger" on:click=move |_| { confirm.set(None); act(id.clone(), "delete"); }>"Yes, delete"</button>
                                                <button type="button" class="quiet" on:click=move |_| confirm.set(None)>"Cancel"</button>
                                            }.into_any()
                                        } else {
                                            let (id, id4) = (id2.clone(), id3.clone());
                                            view! {
                                                <button type="button" class="quiet" aria-label=format!("Re-index {id}") on:click=move |_| act(id.clone(), "reindex")>"Re-index"</button>
                                                <button type="button" class="quiet" aria-label=format!("Delete {id4}") on:click=move |_| confirm.set(Some(id4.clone()))>"Delete"</button>
                                            }.into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}

/// A status in words, and its CSS class.
fn status_words(status: DocumentStatus) -> (&'static str, &'static str) {
    match status {
        DocumentStatus::Queued => ("Waiting", "queued"),
        DocumentStatus::Processing => ("Processing", "processing"),
        DocumentStatus::Ready => ("Ready", "ready"),
        DocumentStatus::Failed => ("Failed", "failed"),
    }
}
