//! A site's worth of history written straight into the database: visitors, conversations over
//! the last 30 days, 1–3 messages each and an open ticket for every conversation a person
//! handles. Through the websocket every visitor message would also be scored and answered by
//! the bot; multi-row inserts in transactions of [`BATCH`] conversations take well under a
//! minute for 100,000 conversations.
//!
//! Messages go through the schema's `messages_advance_conversation` trigger like every real
//! append: inserted in seq order, it leaves each conversation's `last_seq` and `updated_at` at
//! its last message. The same trigger reopens a resolved conversation when a visitor writes,
//! so resolved conversations are set back to `resolved` after their messages, as an agent
//! closing them would.

use std::time::Instant;

use anyhow::{ensure, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

/// Conversations per transaction.
const BATCH: usize = 2_000;
/// Rows per INSERT statement (SQLite allows 32,766 binds per statement).
const ROWS_PER_INSERT: usize = 500;
const DAY_MS: i64 = 86_400_000;

/// The word the text-search case looks for, and how often a conversation contains it.
pub const SEARCH_HIT: &str = "refund";
pub const SEARCH_HIT_SHARE: f64 = 0.02;
/// A phrase no message contains: the search reads every message of the site.
pub const SEARCH_MISS: &str = "zebra crossing";

const QUESTIONS: [&str; 12] = [
    "Hi, where is my order #{n}? It was supposed to arrive yesterday.",
    "Can I change the delivery address for order #{n}?",
    "Do you ship to Canada?",
    "How do I reset my password?",
    "The discount code SAVE{n} does not work at checkout.",
    "Is the blue jacket available in size M?",
    "My payment was declined but the money left my account.",
    "How long does delivery take to Berlin?",
    "Can I talk to a person please",
    "The app crashes when I open my basket.",
    "Do you have a store in Lyon?",
    "I received the wrong item in order #{n}.",
];
const ANSWERS: [&str; 6] = [
    "Orders usually arrive within 3–5 working days; you can follow yours from the link in your confirmation email.",
    "You can change the address until the order ships, from Account › Orders.",
    "We ship to the EU, the UK, Canada and the US.",
    "Use \"Forgot password\" on the sign-in page; the link is valid for one hour.",
    "Codes apply to full-price items only and cannot be combined.",
    "I don't know the answer to that yet; a colleague can help you.",
];
const FOLLOW_UPS: [&str; 5] = [
    "Thanks, that helps!",
    "ok",
    "That doesn't answer my question.",
    "Great, thank you very much",
    "Still nothing in my account, can someone check?",
];
const AGENT_REPLIES: [&str; 3] = [
    "Hi, this is Sam from support. Let me look into it.",
    "I have checked your order: it ships today.",
    "Sorry about that, I've sent a replacement.",
];

/// What was written, and how long it took.
pub struct Seeded {
    pub conversations: usize,
    pub messages: usize,
    pub tickets: usize,
    /// Conversations per status: bot, waiting, agent, resolved.
    pub by_status: [usize; 4],
    /// Conversations with [`SEARCH_HIT`] in a message.
    pub search_hits: usize,
    pub secs: f64,
}

const STATUSES: [&str; 4] = ["bot", "waiting", "agent", "resolved"];

struct Conversation {
    id: String,
    visitor_id: String,
    token_hash: String,
    status: usize,
    /// Set from the first visitor message on, as the sentiment scorer does.
    mood: f64,
    created_at: i64,
    updated_at: i64,
    /// (author, text, created_at) in seq order.
    messages: Vec<(&'static str, String, i64)>,
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

fn conversation(rng: &mut StdRng, now: i64, hits: &mut usize) -> Conversation {
    let updated_at = now - rng.gen_range(0..30 * DAY_MS);
    let created_at = updated_at - rng.gen_range(60_000..1_800_000);
    // Mostly resolved and bot, some waiting for a person, a few taken over by one.
    let status = match rng.gen_range(0..100) {
        0..=57 => 3,
        58..=89 => 0,
        90..=95 => 1,
        _ => 2,
    };
    let n = rng.gen_range(1..=3);
    let mut question = QUESTIONS[rng.gen_range(0..QUESTIONS.len())]
        .replace("{n}", &rng.gen_range(10_000..99_999).to_string());
    if rng.gen_bool(SEARCH_HIT_SHARE) {
        question = format!(
            "I would like a {SEARCH_HIT} for order #{}.",
            rng.gen_range(10_000..99_999)
        );
        *hits += 1;
    }
    let mut messages = vec![("visitor", question, created_at)];
    for seq in 2..=n {
        // The last message lands at updated_at; earlier ones in between.
        let at = if seq == n {
            updated_at
        } else {
            created_at + (updated_at - created_at) * (seq as i64 - 1) / n as i64
        };
        let (author, text) = match (seq, status) {
            (2, 2) => (
                "agent",
                AGENT_REPLIES[rng.gen_range(0..AGENT_REPLIES.len())],
            ),
            (2, _) => ("bot", ANSWERS[rng.gen_range(0..ANSWERS.len())]),
            _ => ("visitor", FOLLOW_UPS[rng.gen_range(0..FOLLOW_UPS.len())]),
        };
        messages.push((author, text.to_string(), at));
    }
    if n == 1 {
        messages[0].2 = updated_at;
    }
    Conversation {
        id: uuid(rng),
        visitor_id: uuid(rng),
        token_hash: format!("{}{}", uuid(rng), uuid(rng)).replace('-', ""),
        status,
        mood: (rng.gen_range(-100..=100) as f64) / 100.0,
        created_at,
        updated_at,
        messages,
    }
}

/// `($1, $2, ...), (...)` for `rows` rows of `cols` binds.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn insert(head: &str, rows: usize, cols: usize) -> String {
    format!("{head} values {}", placeholders(rows, cols))
}

/// Writes `n` conversations into `site_id`; waiting and agent ones get an open ticket, agent
/// ones are taken over by `agent_id`. Deterministic for a given `n` (seeded RNG), apart from
/// the times, which end now.
pub async fn seed(url: &str, site_id: &str, agent_id: &str, n: usize) -> Result<Seeded> {
    let started = Instant::now();
    let pool: AnyPool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    if url.starts_with("sqlite:") {
        // As the server's own connections: WAL, so its readers never wait on this writer.
        pool.execute("pragma journal_mode = wal; pragma synchronous = normal; pragma foreign_keys = on; pragma busy_timeout = 5000;")
            .await?;
    }
    let mut rng = StdRng::seed_from_u64(2026);
    let now = concierge::store::now_ms();
    let mut out = Seeded {
        conversations: 0,
        messages: 0,
        tickets: 0,
        by_status: [0; 4],
        search_hits: 0,
        secs: 0.0,
    };
    let mut done = 0;
    while done < n {
        let batch: Vec<Conversation> = (0..BATCH.min(n - done))
            .map(|_| conversation(&mut rng, now, &mut out.search_hits))
            .collect();
        done += batch.len();
        let mut tx = pool.begin().await?;
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let sql = insert(
                "insert into visitors (id, site_id, token_hash, created_at, last_seen_at)",
                chunk.len(),
                5,
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.visitor_id)
                    .bind(site_id)
                    .bind(&c.token_hash)
                    .bind(c.created_at)
                    .bind(c.updated_at);
            }
            q.execute(&mut *tx).await?;
            let sql = insert(
                "insert into conversations (id, site_id, visitor_id, status, last_seq, agent_id, \
                 mood, created_at, updated_at)",
                chunk.len(),
                9,
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.id)
                    .bind(site_id)
                    .bind(&c.visitor_id)
                    .bind(STATUSES[c.status])
                    .bind(0_i64)
                    .bind((c.status == 2).then_some(agent_id))
                    .bind(c.mood)
                    .bind(c.created_at)
                    // As when it was opened; each message's trigger moves it on.
                    .bind(c.created_at);
            }
            q.execute(&mut *tx).await?;
        }
        let rows: Vec<(&Conversation, usize)> = batch
            .iter()
            .flat_map(|c| (0..c.messages.len()).map(move |i| (c, i)))
            .collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = insert(
                "insert into messages (site_id, conversation_id, seq, author, agent_id, text, \
                 state, created_at)",
                chunk.len(),
                8,
            );
            let mut q = sqlx::query(&sql);
            for (c, i) in chunk {
                let (author, text, at) = &c.messages[*i];
                q = q
                    .bind(site_id)
                    .bind(&c.id)
                    .bind(*i as i64 + 1)
                    .bind(*author)
                    .bind((*author == "agent").then_some(agent_id))
                    .bind(text)
                    .bind("complete")
                    .bind(*at);
            }
            q.execute(&mut *tx).await?;
        }
        out.messages += rows.len();
        let resolved: Vec<&Conversation> = batch.iter().filter(|c| c.status == 3).collect();
        for chunk in resolved.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "update conversations set status = 'resolved' where id in ({})",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(&c.id);
            }
            q.execute(&mut *tx).await?;
        }
        let people: Vec<&Conversation> =
            batch.iter().filter(|c| matches!(c.status, 1 | 2)).collect();
        for chunk in people.chunks(ROWS_PER_INSERT) {
            let sql = insert(
                "insert into tickets (id, site_id, conversation_id, status, priority, reasons, \
                 assigned_agent_id, handoff, created_at, updated_at)",
                chunk.len(),
                10,
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                let id = uuid(&mut rng);
                q = q
                    .bind(id)
                    .bind(site_id)
                    .bind(&c.id)
                    .bind("open")
                    .bind(if c.mood < -0.5 { "high" } else { "normal" })
                    .bind(r#"["asked_for_human"]"#)
                    .bind((c.status == 2).then_some(agent_id))
                    .bind(r#"{"summary":"The visitor asked for a person.","summary_by":"extractive","reasons":["asked_for_human"]}"#)
                    .bind(c.updated_at)
                    .bind(c.updated_at);
            }
            q.execute(&mut *tx).await?;
        }
        out.tickets += people.len();
        tx.commit().await?;
        for c in &batch {
            out.by_status[c.status] += 1;
        }
        out.conversations += batch.len();
    }
    out.secs = started.elapsed().as_secs_f64();
    check(&pool, site_id, &out).await?;
    pool.close().await;
    Ok(out)
}

/// The trigger did what the seeder relied on: every conversation's `last_seq` and
/// `updated_at` are its last message's, and the statuses are as generated.
async fn check(pool: &AnyPool, site_id: &str, seeded: &Seeded) -> Result<()> {
    let bad: i64 = sqlx::query_scalar(
        "select count(*) from conversations c join messages m \
           on m.conversation_id = c.id and m.seq = c.last_seq \
         where c.site_id = $1 and m.created_at <> c.updated_at",
    )
    .bind(site_id)
    .fetch_one(pool)
    .await?;
    let with_last: i64 = sqlx::query_scalar(
        "select count(*) from conversations c join messages m \
           on m.conversation_id = c.id and m.seq = c.last_seq where c.site_id = $1",
    )
    .bind(site_id)
    .fetch_one(pool)
    .await?;
    let gaps: i64 = sqlx::query_scalar(
        "select count(*) from messages m where m.site_id = $1 and m.seq > \
         (select c.last_seq from conversations c where c.id = m.conversation_id)",
    )
    .bind(site_id)
    .fetch_one(pool)
    .await?;
    let resolved: i64 = sqlx::query_scalar(
        "select count(*) from conversations where site_id = $1 and status = 'resolved'",
    )
    .bind(site_id)
    .fetch_one(pool)
    .await?;
    ensure!(
        bad == 0 && gaps == 0 && with_last as usize == seeded.conversations,
        "seeded rows are inconsistent: {bad} updated_at mismatches, {gaps} messages past \
         last_seq, {with_last} of {} conversations with their last message",
        seeded.conversations
    );
    ensure!(
        resolved as usize == seeded.by_status[3],
        "{resolved} resolved conversations, expected {}",
        seeded.by_status[3]
    );
    Ok(())
}

/// The database engine and its version, for the report.
pub async fn version(url: &str) -> Result<String> {
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let sql = if url.starts_with("sqlite:") {
        "select 'SQLite ' || sqlite_version()"
    } else {
        "select version()"
    };
    let v: String = sqlx::query_scalar(sql).fetch_one(&pool).await?;
    pool.close().await;
    Ok(v)
}

/// `analyze` on the whole database; returns its seconds.
pub async fn analyze(url: &str) -> Result<f64> {
    let started = Instant::now();
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    pool.execute("analyze").await?;
    pool.close().await;
    Ok(started.elapsed().as_secs_f64())
}
