//! `concierge ingest`, `concierge search` and `concierge model fetch`.
//!
//! The embedded vector index is held exclusively by one process. When a server holds it,
//! `ingest` queues its job in the shared database and waits while the server's worker runs it;
//! `search` refuses with a message pointing at the server's search API. When no server runs,
//! both open the index themselves.

use std::io::BufRead;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{open_store, CmdResult};
use crate::app::build_knowledge;
use crate::bus::{Hub, LocalBus};
use crate::config::Config;
use crate::rag::index::IndexError;
use crate::rag::items::local_items;
use crate::rag::{Knowledge, RagError, SearchMode};
use crate::store::{Site, Store};

fn err(code: &str, message: impl std::fmt::Display) -> (String, String) {
    (code.to_string(), message.to_string())
}

fn rag_err(e: RagError) -> (String, String) {
    let (code, message) = crate::error::rag_error_code(&e);
    // The operator runs the CLI: the full cause helps more than the client-facing sentence.
    let detail = e.to_string();
    if detail.contains(&message) {
        (code.as_str().to_string(), detail)
    } else {
        (code.as_str().to_string(), format!("{message} ({detail})"))
    }
}

async fn site(store: &Store, key: &str) -> Result<Site, (String, String)> {
    store
        .site_by_key(key)
        .await
        .map_err(|e| err("internal", e))?
        .ok_or_else(|| err("unknown_site", format!("no site with key {key}")))
}

/// The knowledge service over this process's own index, or `None` when a server holds it.
async fn open_knowledge(
    config: &Config,
    store: Arc<Store>,
) -> Result<Option<Arc<Knowledge>>, (String, String)> {
    let bus = Arc::new(LocalBus::new(Hub::new()));
    match build_knowledge(config, store, bus).await {
        Ok(k) => Ok(Some(Arc::new(k))),
        Err(e) if is_locked(&e) => Ok(None),
        Err(e) => Err(err("internal", format!("{e:#}"))),
    }
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<IndexError>(),
            Some(IndexError::Locked { .. })
        )
    })
}

pub async fn ingest(config: &Config, json: bool, site_key: &str, sources: &[String]) -> CmdResult {
    let store = open_store(config).await?;
    let site = site(&store, site_key).await?;
    let knowledge = open_knowledge(config, store.clone()).await?;
    // Items need only the config's size cap, so they are built the same way whether this
    // process or a running server will process the job.
    let mut items = Vec::new();
    for source in sources {
        if source.starts_with("http://") || source.starts_with("https://") {
            items.push(crate::rag::items::url_item(source).map_err(|e| err("bad_input", e))?);
        } else {
            let path = std::path::Path::new(source);
            if !path.exists() {
                return Err(err(
                    "bad_input",
                    format!("{source}: no such file or directory"),
                ));
            }
            let found = local_items(config.rag.max_document_bytes, path)
                .map_err(|e| err("bad_input", format!("{source}: {e}")))?;
            if found.is_empty() {
                return Err(err(
                    "bad_input",
                    format!("{source}: no supported files (.md, .html, .txt, .pdf)"),
                ));
            }
            items.extend(found);
        }
    }
    let job = store
        .create_job(&site.id, &items)
        .await
        .map_err(|e| err("internal", e))?;
    if !json {
        eprintln!("queued job {} with {} document(s)", job.id, job.total);
    }
    let finished = match knowledge {
        Some(kb) => {
            // No server holds the index: run queued jobs here until ours is done.
            let shutdown = tokio_util::sync::CancellationToken::new();
            kb.repair_index().await.map_err(rag_err)?;
            loop {
                let current = store
                    .job(&site.id, &job.id)
                    .await
                    .map_err(|e| err("internal", e))?
                    .ok_or_else(|| err("internal", "job vanished"))?;
                if current.is_finished() {
                    break current;
                }
                if kb.run_next_job(&shutdown).await.map_err(rag_err)?.is_none() {
                    // Claimed by another process (a server started meanwhile): wait for it.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        None => {
            if !json {
                eprintln!("a running server holds the vector index; it is processing the job");
            }
            let mut last_done = -1;
            loop {
                let current = store
                    .job(&site.id, &job.id)
                    .await
                    .map_err(|e| err("internal", e))?
                    .ok_or_else(|| err("internal", "job vanished"))?;
                if !json && current.done != last_done {
                    eprintln!(
                        "{} / {} done ({} failed)",
                        current.done, current.total, current.failed
                    );
                    last_done = current.done;
                }
                if current.is_finished() {
                    break current;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    let items = store
        .job_items(&site.id, &job.id)
        .await
        .map_err(|e| err("internal", e))?;
    store.close().await;
    let documents: Vec<Value> = items
        .iter()
        .filter(|i| i.source != "sitemap")
        .map(|i| json!({"id": i.doc_key, "status": i.status, "chunks": i.chunk_count, "error": i.error}))
        .collect();
    if !json {
        for i in &items {
            match &i.error {
                Some(e) => eprintln!("  failed     {}: {e}", i.doc_key),
                None => eprintln!(
                    "  {:<10} {} ({} chunks)",
                    i.status,
                    i.doc_key,
                    i.chunk_count.unwrap_or(0)
                ),
            }
        }
    }
    let out = json!({
        "job_id": finished.id, "status": finished.status, "total": finished.total,
        "done": finished.done, "failed": finished.failed, "error": finished.error,
        "documents": documents,
    });
    if finished.status == "failed" {
        return Err(err(
            "ingest_failed",
            format!(
                "every document failed: {}",
                serde_json::to_string(&out["documents"]).unwrap_or_default()
            ),
        ));
    }
    Ok(if json { out } else { Value::Null })
}

pub async fn search(
    config: &Config,
    json: bool,
    site_key: &str,
    k: usize,
    mode: SearchMode,
    question: Option<String>,
) -> CmdResult {
    let store = open_store(config).await?;
    let site = site(&store, site_key).await?;
    let Some(kb) = open_knowledge(config, store.clone()).await? else {
        return Err(err(
            "index_locked",
            format!(
                "a running server holds the vector index in {}; query it with \
                 GET /api/v1/sites/{site_key}/search?q=... (agent bearer token), or stop it first",
                config.data_dir.join("index").display()
            ),
        ));
    };
    match question {
        Some(q) => {
            let outcome = kb.search(&site.id, &q, k, mode).await.map_err(rag_err)?;
            if json {
                return Ok(crate::rag::search::outcome_json(&q, &outcome));
            }
            for (i, h) in outcome.hits.iter().enumerate() {
                println!(
                    "{}. {:.4}  {} — {}{}",
                    i + 1,
                    h.score,
                    h.chunk.doc_key,
                    h.chunk.heading,
                    h.similarity
                        .map(|s| format!("  (similarity {s:.3})"))
                        .unwrap_or_default()
                );
                let text: String = h.chunk.text.chars().take(200).collect();
                println!("   {}", text.replace('\n', " "));
            }
            if outcome.hits.is_empty() {
                println!("no results");
            }
            Ok(Value::Null)
        }
        None => {
            // Bulk: one JSON line per question; the model is loaded once.
            let stdin = std::io::stdin();
            for line in stdin.lock().lines() {
                let line = line.map_err(|e| err("bad_input", e))?;
                let q = line.trim();
                if q.is_empty() {
                    continue;
                }
                let outcome = kb.search(&site.id, q, k, mode).await.map_err(rag_err)?;
                println!("{}", crate::rag::search::outcome_json(q, &outcome));
            }
            Ok(Value::Null)
        }
    }
}

pub async fn fetch_model(config: &Config) -> CmdResult {
    let files = crate::rag::provision::provision(
        &config.model_cache(),
        config.model_dir.as_deref(),
        config.ort_dylib.as_deref(),
    )
    .await
    .map_err(|e| rag_err(e.into()))?;
    let threads = config.rag.embed_threads;
    let f = files.clone();
    let embedder =
        tokio::task::spawn_blocking(move || crate::rag::embed::Embedder::load(&f, threads))
            .await
            .map_err(|e| err("internal", e))?
            .map_err(|e| rag_err(e.into()))?;
    let probe = embedder
        .embed_query("hello")
        .await
        .map_err(|e| rag_err(e.into()))?;
    Ok(json!({
        "model": files.onnx.display().to_string(),
        "tokenizer": files.tokenizer.display().to_string(),
        "ort_dylib": files.ort_dylib.display().to_string(),
        "model_dir": files.onnx.parent().map(|p| p.display().to_string()),
        "dimensions": probe.len(),
    }))
}
