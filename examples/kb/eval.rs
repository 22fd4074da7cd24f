//! Retrieval quality (recall@1, recall@5, MRR per mode), the confidence gate's trade-off, and
//! ingestion throughput against raw embedding throughput.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use concierge::rag::SearchMode;

use crate::setup::{bench, ingest_dir, questions};

/// Document ids of the ranked hits, best first, each once ("cf012.md" → "cf012").
fn ranked_docs(outcome: &concierge::rag::SearchOutcome) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in &outcome.hits {
        let id = h.chunk.doc_key.trim_end_matches(".md").to_string();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

pub async fn run(data: &Path, offtopic: &Path) -> Result<()> {
    let b = bench().await?;
    let (docs, secs) = ingest_dir(&b, &data.join("docs")).await?;
    let chunks = b.store.count_chunks(&b.site_id).await?;
    println!(
        "dev set: {} ({docs} documents, {chunks} chunks, ingested in {secs:.1} s)",
        data.display()
    );
    let qs = questions(data)?;
    println!(
        "questions: {} (paraphrases with gold document ids)\n",
        qs.len()
    );
    println!("| retrieval | recall@1 | recall@5 | MRR@10 |");
    println!("|---|---|---|---|");
    let mut answerable_sims = Vec::new();
    for (name, mode) in [
        ("lexical (FTS5 BM25)", SearchMode::Lexical),
        ("dense (MiniLM, qdrant-edge)", SearchMode::Dense),
        ("hybrid (RRF)", SearchMode::Hybrid),
    ] {
        let (mut r1, mut r5, mut mrr) = (0.0, 0.0, 0.0);
        for q in &qs {
            let outcome = b
                .knowledge
                .search(&b.site_id, &q.question, 10, mode)
                .await?;
            let ranked = ranked_docs(&outcome);
            let rank = ranked.iter().position(|d| q.gold_doc_ids.contains(d));
            if let Some(r) = rank {
                if r == 0 {
                    r1 += 1.0;
                }
                if r < 5 {
                    r5 += 1.0;
                }
                mrr += 1.0 / (r as f64 + 1.0);
            }
            if mode == SearchMode::Hybrid {
                answerable_sims.push(outcome.best_similarity);
            }
        }
        let n = qs.len() as f64;
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} |",
            r1 / n,
            r5 / n,
            mrr / n
        );
    }

    let off: Vec<String> = std::fs::read_to_string(offtopic)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut off_sims = Vec::new();
    for q in &off {
        let outcome = b
            .knowledge
            .search(&b.site_id, q, 5, SearchMode::Hybrid)
            .await?;
        off_sims.push(outcome.best_similarity);
    }
    println!(
        "\nconfidence gate (best cosine similarity >= threshold answers): {} dev questions, {} off-topic questions ({})",
        answerable_sims.len(),
        off.len(),
        offtopic.display()
    );
    println!("| threshold | dev questions answered | off-topic refused |");
    println!("|---|---|---|");
    for t in [0.25f32, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55] {
        let answered = answerable_sims.iter().filter(|s| **s >= t).count() as f64
            / answerable_sims.len() as f64;
        let refused = off_sims.iter().filter(|s| **s < t).count() as f64 / off_sims.len() as f64;
        let mark = if (t - b.knowledge.config.min_similarity).abs() < 1e-6 {
            " (default)"
        } else {
            ""
        };
        println!("| {t:.2}{mark} | {answered:.3} | {refused:.3} |");
    }
    println!("\nrerun: cargo run --release -p concierge-examples --bin kb -- eval");
    Ok(())
}

pub async fn ingest_throughput(data: &Path, copies: usize) -> Result<()> {
    let b = bench().await?;
    // Copies of the dev set under distinct paths, so every copy is new content to the
    // pipeline (the text differs by a marker line, defeating the content hash on purpose).
    let src = b.dir.join("src");
    for c in 0..copies {
        let dir = src.join(format!("copy{c}"));
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(data.join("docs"))? {
            let path = entry?.path();
            let text = std::fs::read_to_string(&path)?;
            let name = path.file_name().unwrap_or_default();
            std::fs::write(dir.join(name), format!("{text}\n\nCopy {c}.\n"))?;
        }
    }
    let embedder = b.knowledge.embedder().await?.clone();
    // Warm-up so neither side pays the first-call cost.
    embedder.embed_batch(vec!["warm up".to_string(); 8]).await?;
    let (docs, secs) = ingest_dir(&b, &src).await?;
    let chunks = b.store.count_chunks(&b.site_id).await? as usize;
    let pipeline = chunks as f64 / secs;

    // The same chunk texts, embedded raw in batches of the pipeline's size.
    let mut texts = Vec::with_capacity(chunks);
    for d in b.store.documents(&b.site_id).await? {
        for c in b.store.chunks_of_document(&b.site_id, &d.id).await? {
            texts.push(concierge::rag::ingest::embedding_text(&c.heading, &c.text));
        }
    }
    let started = Instant::now();
    let n = texts.len();
    let batch = b.knowledge.config.embed_batch;
    let mut rest = texts;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(batch * 8));
        embedder
            .embed_batch(std::mem::replace(&mut rest, tail))
            .await?;
    }
    let raw = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "ingestion: {docs} documents, {chunks} chunks ({copies} copies of {})",
        data.display()
    );
    println!("| path | chunks/s |");
    println!("|---|---|");
    println!("| raw embedding (Embedder::embed_batch) | {raw:.0} |");
    println!("| pipeline end to end (queue → extract → chunk → embed → SQLite + qdrant-edge → optimize) | {pipeline:.0} |");
    println!("| pipeline / raw | {:.0}% |", 100.0 * pipeline / raw);
    println!(
        "\nrerun: cargo run --release -p concierge-examples --bin kb -- ingest --copies {copies}"
    );
    Ok(())
}
