//! Latency samples and counters shared by the socket tasks, and the clock they all read.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static BASE: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the first call, on the monotonic clock every task shares. Send times
/// travel inside `client_msg_id`, so receivers compute latencies without a shared map.
pub fn now_ns() -> u64 {
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Latencies in microseconds.
#[derive(Default)]
pub struct Samples(Mutex<Vec<u32>>);

impl Samples {
    pub fn record_since(&self, sent_ns: u64) {
        let micros = now_ns().saturating_sub(sent_ns) / 1_000;
        self.record_micros(micros);
    }

    pub fn record_micros(&self, micros: u64) {
        if let Ok(mut v) = self.0.lock() {
            v.push(micros.min(u64::from(u32::MAX)) as u32);
        }
    }

    pub fn summary(&self) -> Summary {
        let mut v = self.0.lock().map(|v| v.clone()).unwrap_or_default();
        v.sort_unstable();
        // Nearest-rank percentile.
        let pct = |p: f64| -> f64 {
            if v.is_empty() {
                return f64::NAN;
            }
            let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
            f64::from(v[rank.clamp(1, v.len()) - 1]) / 1_000.0
        };
        Summary {
            count: v.len(),
            p50_ms: pct(50.0),
            p99_ms: pct(99.0),
            max_ms: v
                .last()
                .map(|&m| f64::from(m) / 1_000.0)
                .unwrap_or(f64::NAN),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// `p50 0.41 ms, p99 1.20 ms, max 3.05 ms (n = 30000)`
    pub fn line(&self) -> String {
        format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n = {})",
            self.p50_ms, self.p99_ms, self.max_ms, self.count
        )
    }
}

/// Everything the socket tasks count.
#[derive(Default)]
pub struct Stats {
    /// hello sent → welcome received, per idle visitor socket (includes TCP + upgrade).
    pub connect: Samples,
    /// Visitor `send` → its `ack`.
    pub visitor_ack: Samples,
    /// Agent `reply` → its `ack` (measured phase only).
    pub agent_ack: Samples,
    /// Agent `reply` sent → the visitor's `message` frame (measured phase only).
    pub delivery: Samples,
    /// Visitor sockets that completed hello → welcome and have not closed since.
    pub open_visitors: AtomicU64,
    /// Visitor sockets that closed or failed after welcome.
    pub visitor_closed: AtomicU64,
    pub visitor_acks: AtomicU64,
    /// Measured agent replies written / acked / delivered to their visitor.
    pub replies_sent: AtomicU64,
    pub replies_acked: AtomicU64,
    pub warmup_acked: AtomicU64,
    pub delivered: AtomicU64,
    /// Visitor message frames whose seq was not above the last one seen (re-deliveries).
    pub duplicates: AtomicU64,
    /// Seqs skipped between two message frames of one conversation.
    pub gaps: AtomicU64,
    /// Frames the agent sockets received (acks, echoes of every site event, ...).
    pub agent_frames: AtomicU64,
    pub agent_resyncs: AtomicU64,
    /// Error frames on any socket, and the first few of them.
    pub error_frames: AtomicU64,
    pub first_errors: Mutex<Vec<String>>,
}

impl Stats {
    pub fn error(&self, what: String) {
        self.error_frames.fetch_add(1, Relaxed);
        if let Ok(mut v) = self.first_errors.lock() {
            if v.len() < 5 {
                v.push(what);
            }
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Relaxed)
    }
}

/// `client_msg_id` of an agent reply: phase letter, conversation, ordinal, send time.
pub fn reply_id(phase: char, conversation: usize, k: u64) -> String {
    format!("{phase}{conversation}-{k}-{}", now_ns())
}

/// Phase letter and send time back from a [`reply_id`] (or a visitor send id).
pub fn parse_id(id: &str) -> Option<(char, u64)> {
    let phase = id.chars().next()?;
    let sent = id.rsplit('-').next()?.parse().ok()?;
    Some((phase, sent))
}
