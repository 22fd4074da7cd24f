//! Retrieval latency with many chunks, and question → first streamed token over a websocket.
//!
//! Scale is reached with synthetic chunks: sentences of the dev set shuffled into passages
//! (so full-text search has realistic term statistics) with random unit vectors (so the vector
//! index holds N points; random vectors are a pessimistic case for HNSW). The dev set itself is
//! ingested for real on top, so questions have true answers.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concierge::rag::index::ChunkPoint;
use concierge::rag::SearchMode;
use concierge::store::{NewChunk, NewDocument};
use futures_util::{SinkExt, StreamExt};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{self, bench, ingest_dir, questions};

/// Adds `n` synthetic chunks (10 per document) to the site.
async fn add_synthetic(
    knowledge: &concierge::rag::Knowledge,
    site_id: &str,
    data: &Path,
    n: usize,
) -> Result<()> {
    let mut sentences: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(data.join("docs.jsonl"))?.lines() {
        let v: Value = serde_json::from_str(line)?;
        let text = v["text"].as_str().unwrap_or_default();
        sentences.extend(
            text.split(". ")
                .map(str::trim)
                .filter(|s| s.len() > 20)
                .map(str::to_string),
        );
    }
    if sentences.is_empty() {
        bail!("no sentences in {}", data.display());
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let dim = concierge::rag::embed::DIM;
    let started = Instant::now();
    for d in 0..n.div_ceil(10) {
        let texts: Vec<String> = (0..10)
            .map(|_| {
                (0..4)
                    .map(|_| sentences[rng.gen_range(0..sentences.len())].as_str())
                    .collect::<Vec<_>>()
                    .join(". ")
            })
            .collect();
        let key = format!("synthetic/{d}.md");
        let title = format!("Synthetic {d}");
        let headings: Vec<String> = (0..10).map(|i| format!("{title} › Part {i}")).collect();
        let chunks: Vec<NewChunk> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| NewChunk {
                ordinal: i as i64,
                heading: &headings[i],
                text: t,
                location: "synthetic",
            })
            .collect();
        let replaced = knowledge
            .store
            .replace_document(
                site_id,
                &NewDocument {
                    doc_key: &key,
                    title: &title,
                    url: None,
                    kind: "text",
                    content_hash: &key,
                    bytes: 0,
                },
                &chunks,
            )
            .await?;
        let points = replaced
            .chunk_ids
            .iter()
            .map(|id| {
                let mut v: Vec<f32> = (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= norm);
                ChunkPoint {
                    id: *id as u64,
                    site_id: site_id.to_string(),
                    document_id: replaced.document.id.clone(),
                    vector: v,
                }
            })
            .collect();
        knowledge.index.upsert(points).await?;
        knowledge
            .store
            .mark_indexed(site_id, &replaced.document.id)
            .await?;
    }
    let load = started.elapsed();
    let started = Instant::now();
    knowledge.index.optimize().await?;
    eprintln!(
        "loaded {n} synthetic chunks in {:.1} s, optimize (HNSW build) {:.1} s",
        load.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn search_latency(data: &Path, sizes: &[usize], queries: usize) -> Result<()> {
    let qs = questions(data)?;
    println!("| chunks in index | search | p50 ms | p99 ms |");
    println!("|---|---|---|---|");
    for &n in sizes {
        let b = bench().await?;
        ingest_dir(&b, &data.join("docs")).await?;
        add_synthetic(&b.knowledge, &b.site_id, data, n).await?;
        let total = b.store.count_chunks(&b.site_id).await?;
        for (label, cached) in [
            ("hybrid, question embedded (uncached)", false),
            ("hybrid, cached embedding", true),
        ] {
            let mut times = Vec::with_capacity(queries);
            for i in 0..queries {
                let q = &qs[i % qs.len()].question;
                // Cached: embed once before timing; uncached: a unique suffix defeats the LRU.
                let q = if cached {
                    b.knowledge
                        .search(&b.site_id, q, 5, SearchMode::Dense)
                        .await?;
                    q.clone()
                } else {
                    format!("{q} ({i})")
                };
                let started = Instant::now();
                b.knowledge
                    .search(&b.site_id, &q, 5, SearchMode::Hybrid)
                    .await?;
                times.push(started.elapsed());
            }
            times.sort();
            println!(
                "| {total} | {label} | {:.2} | {:.2} |",
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    }
    println!(
        "\nrerun: cargo run --release -p concierge-examples --bin kb -- latency --chunks {}",
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    Ok(())
}

pub async fn first_token(data: &Path, chunks: usize, count: usize) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("concierge-kb-ft-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let mut config = setup::config(&dir);
    config.listen = "127.0.0.1:0".into();
    config.log = "warn".into();
    config.limits.messages_per_minute = 100_000;
    config.limits.frames_per_second = 10_000;
    config.limits.frame_burst = 10_000;
    let application = concierge::app::Application::build(config).await?;
    let addr = application.local_addr()?;
    let app = application.app();
    let origin = "http://bench.local";
    let site =
        concierge::accounts::create_site(&app.chat.store, "Bench", &[origin.to_string()], None)
            .await?;
    // Unlimited bot answers: the free plan would stop the bot after 100.
    app.chat
        .store
        .set_account_plan(&site.account_id, "enterprise")
        .await?;
    let knowledge = app.knowledge.clone();
    let items = concierge::rag::items::local_items(
        knowledge.config.max_document_bytes,
        &data.join("docs"),
    )?;
    knowledge.enqueue(&site.id, items).await?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    while knowledge.run_next_job(&shutdown).await?.is_some() {}
    add_synthetic(&knowledge, &site.id, data, chunks).await?;
    let total = app.chat.store.count_chunks(&site.id).await?;
    let server = tokio::spawn(application.run_until(std::future::pending()));

    let url = format!("ws://{addr}/ws/visitor?site_key={}", site.site_key);
    let mut ws = visitor(&url, origin).await?;
    let qs = questions(data)?;
    let mut first = Vec::with_capacity(count);
    let mut complete = Vec::with_capacity(count);
    let mut refused = 0;
    let mut escalated = 0;
    for (i, q) in qs.iter().cycle().take(count).enumerate() {
        // A unique suffix keeps the question embedding out of the cache.
        let text = format!("{} ({i})", q.question);
        let started = Instant::now();
        ws.send(Message::text(
            json!({"type": "send", "client_msg_id": format!("q{i}"), "text": text}).to_string(),
        ))
        .await?;
        let mut got_first = false;
        loop {
            let frame = next_frame(&mut ws).await?;
            match frame["type"].as_str() {
                // The escalation policy handed the conversation to a person (the question
                // read as a complaint, a refund, urgency...): no answer; a new visitor goes on.
                Some("status") if frame["status"] == "waiting" => {
                    escalated += 1;
                    ws = visitor(&url, origin).await?;
                    break;
                }
                Some("delta") if !got_first => {
                    first.push(started.elapsed());
                    got_first = true;
                }
                Some("message")
                    if frame["message"]["author"] == "bot"
                        && frame["message"]["state"] == "complete" =>
                {
                    if !got_first {
                        refused += 1; // a one-piece "I don't know"
                    }
                    complete.push(started.elapsed());
                    break;
                }
                _ => {}
            }
        }
    }
    first.sort();
    complete.sort();
    app.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("question → first delta over a websocket, extractive answers, {total} chunks, {count} questions ({refused} answered \"I don't know\", {escalated} escalated to a person)");
    println!("| measure | p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!(
        "| send → first delta | {:.2} | {:.2} |",
        percentile(&first, 0.5),
        percentile(&first, 0.99)
    );
    println!(
        "| send → complete answer | {:.2} | {:.2} |",
        percentile(&complete, 0.5),
        percentile(&complete, 0.99)
    );
    println!("\nrerun: cargo run --release -p concierge-examples --bin kb -- first-token --chunks {chunks}");
    Ok(())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(ws: &mut Ws) -> Result<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no frame within 30 s")?
            .context("socket closed")??;
        if let Message::Text(t) = msg {
            return Ok(serde_json::from_str(&t)?);
        }
    }
}

/// A new visitor socket after `hello` → `welcome`.
async fn visitor(url: &str, origin: &str) -> Result<Ws> {
    let mut request = url.into_client_request()?;
    request.headers_mut().insert("Origin", origin.parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    ws.send(Message::text(json!({"type": "hello", "v": 1}).to_string()))
        .await?;
    next_of(&mut ws, "welcome").await?;
    Ok(ws)
}

async fn next_of(ws: &mut Ws, kind: &str) -> Result<Value> {
    loop {
        let f = next_frame(ws).await?;
        if f["type"] == kind {
            return Ok(f);
        }
    }
}
