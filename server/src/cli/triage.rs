//! `concierge triage`: replays visitor turns through a site's escalation policy.

use std::io::{BufRead, Write};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::open_store;
use crate::app::build_knowledge;
use crate::bus::{Hub, LocalBus};
use crate::chat::Chat;
use crate::config::Config;
use crate::escalation::triage::Triage;
use crate::escalation::{Escalations, Presence};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::rag::index::{EdgeIndex, IndexError};
use crate::rag::Knowledge;

fn err(code: &str, message: impl std::fmt::Display) -> (String, String) {
    (code.to_string(), message.to_string())
}

#[derive(Debug, Deserialize)]
struct Turn {
    conversation_id: String,
    text: String,
}

/// Runs the replay; every input line gets one output line (an input that cannot be read gets
/// `{"line": N, "error": {...}}` and the replay goes on).
pub async fn run(
    config: &Config,
    json: bool,
    site_key: Option<&str>,
) -> Result<(), (String, String)> {
    let store = open_store(config).await?;
    let site = match site_key {
        Some(key) => Some(
            store
                .site_by_key(key)
                .await
                .map_err(|e| err("internal", e))?
                .ok_or_else(|| err("unknown_site", format!("no site with key {key}")))?,
        ),
        None => None,
    };
    let bus = Arc::new(LocalBus::new(Hub::new()));
    let (knowledge, scratch) = match build_knowledge(config, store.clone(), bus.clone()).await {
        Ok(k) => (Arc::new(k), None),
        Err(e) if is_locked(&e) => {
            // A running server holds the index: intents and sentiment need only the model.
            let has_docs = match &site {
                Some(s) => {
                    store
                        .count_chunks(&s.id)
                        .await
                        .map_err(|e| err("internal", e))?
                        > 0
                }
                None => false,
            };
            if has_docs {
                return Err(err(
                    "index_locked",
                    "a running server holds the vector index, and the site has documents whose \
                     answers triage replays; stop the server or run triage on a copy of the data dir",
                ));
            }
            let dir =
                std::env::temp_dir().join(format!("concierge-triage-{}", uuid::Uuid::new_v4()));
            let index =
                EdgeIndex::open(&dir, crate::rag::embed::DIM).map_err(|e| err("internal", e))?;
            let k = Knowledge::new(
                store.clone(),
                bus.clone(),
                Arc::new(index),
                None,
                config.rag.clone(),
                crate::app::model_source(config),
            );
            (Arc::new(k), Some(dir))
        }
        Err(e) => return Err(err("internal", format!("{e:#}"))),
    };
    let chat = Arc::new(Chat {
        store: store.clone(),
        bus,
        limits: Limits::new(config.limits.clone(), None),
        metrics: Arc::new(Metrics::default()),
    });
    let escalations = Escalations::new(chat, knowledge, Arc::new(Presence::new("triage")));
    if escalations.model().await.is_none() {
        eprintln!("warning: the embedding model is unavailable; escalation uses keyword rules and VADER only (run `concierge model fetch`)");
    }
    let mut triage = Triage::new(&escalations, site.map(|s| s.id)).await;
    let result = replay(&mut triage, json).await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn replay(triage: &mut Triage<'_>, json: bool) -> Result<(), (String, String)> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| err("bad_input", e))?;
        if line.trim().is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<Turn>(&line) {
            Ok(turn) if !turn.text.trim().is_empty() => {
                triage.turn(&turn.conversation_id, &turn.text).await
            }
            Ok(_) => bad_line(n + 1, "text is empty"),
            Err(e) => bad_line(
                n + 1,
                &format!("expected {{\"conversation_id\", \"text\"}}: {e}"),
            ),
        };
        let text = if json {
            value.to_string()
        } else {
            human(&value)
        };
        writeln!(out, "{text}").map_err(|e| err("internal", e))?;
    }
    out.flush().map_err(|e| err("internal", e))?;
    Ok(())
}

fn bad_line(line: usize, message: &str) -> Value {
    serde_json::json!({"line": line, "error": {"code": "bad_input", "message": message}})
}

fn human(v: &Value) -> String {
    if let Some(e) = v.get("error") {
        return format!(
            "line {}: {}",
            v["line"],
            e["message"].as_str().unwrap_or("")
        );
    }
    let intents: Vec<String> = v["intents"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, s)| s.as_f64().unwrap_or(0.0) >= 0.3)
                .map(|(k, s)| format!("{k} {:.2}", s.as_f64().unwrap_or(0.0)))
                .collect()
        })
        .unwrap_or_default();
    let reasons: Vec<&str> = v["reasons"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{:<16} sentiment {:+.2}  mood {:+.2}  {}  {}{}{}",
        v["conversation_id"].as_str().unwrap_or(""),
        v["sentiment"].as_f64().unwrap_or(0.0),
        v["mood"].as_f64().unwrap_or(0.0),
        if v["escalate"] == true {
            format!("ESCALATE ({})", v["priority"].as_str().unwrap_or(""))
        } else {
            "-".to_string()
        },
        if reasons.is_empty() {
            String::new()
        } else {
            format!("[{}]", reasons.join(", "))
        },
        if intents.is_empty() {
            String::new()
        } else {
            format!("  intents: {}", intents.join(", "))
        },
        if v["already_escalated"] == true {
            "  (already with a person)"
        } else {
            ""
        },
    )
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<IndexError>(),
            Some(IndexError::Locked { .. })
        )
    })
}
