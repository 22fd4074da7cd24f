//! Process metrics in the Prometheus text format, served at `/metrics`.
//!
//! Hand-rolled on atomics: a handful of counters and one histogram do not justify a registry
//! crate, and every update on the hot path is a single relaxed atomic add.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use concierge_protocol::ErrorCode;

/// Upper bounds (seconds) of the ack latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    pub visitor_sockets: AtomicI64,
    pub agent_sockets: AtomicI64,
    pub frames_in: AtomicU64,
    pub frames_out: AtomicU64,
    pub messages_stored: AtomicU64,
    pub bus_publish_errors: AtomicU64,
    pub upgrades_refused: AtomicU64,
    /// Conversations escalated to a person (new tickets and re-opened ones).
    pub escalations: AtomicU64,
    errors: [AtomicU64; ErrorCode::ALL.len()],
    ack_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    ack_count: AtomicU64,
    ack_sum_micros: AtomicU64,
}

impl Metrics {
    pub fn error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == code) {
            self.errors[i].fetch_add(1, Relaxed);
        }
    }

    pub fn errors_of(&self, code: ErrorCode) -> u64 {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == code)
            .map(|i| self.errors[i].load(Relaxed))
            .unwrap_or(0)
    }

    /// Records the time from receiving a `send`/`reply` to writing its `ack`.
    pub fn ack_latency(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.ack_buckets[i].fetch_add(1, Relaxed);
            }
        }
        self.ack_count.fetch_add(1, Relaxed);
        self.ack_sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut gauge = |name: &str, help: &str, kind: &str, labels: &str, v: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{labels} {v}"
            );
        };
        gauge(
            "concierge_open_sockets",
            "Open websockets.",
            "gauge",
            "{kind=\"visitor\"}",
            self.visitor_sockets.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_open_agent_sockets",
            "Open agent websockets.",
            "gauge",
            "",
            self.agent_sockets.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_frames_received_total",
            "Websocket frames received.",
            "counter",
            "",
            self.frames_in.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_frames_sent_total",
            "Websocket frames sent.",
            "counter",
            "",
            self.frames_out.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_messages_stored_total",
            "Messages persisted.",
            "counter",
            "",
            self.messages_stored.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_bus_publish_errors_total",
            "Failed cross-node publishes.",
            "counter",
            "",
            self.bus_publish_errors.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_escalations_total",
            "Conversations escalated to a person.",
            "counter",
            "",
            self.escalations.load(Relaxed).to_string(),
        );
        gauge(
            "concierge_upgrades_refused_total",
            "Refused websocket upgrades.",
            "counter",
            "",
            self.upgrades_refused.load(Relaxed).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP concierge_errors_total Error frames and refusals by code."
        );
        let _ = writeln!(out, "# TYPE concierge_errors_total counter");
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "concierge_errors_total{{code=\"{}\"}} {}",
                code.as_str(),
                self.errors[i].load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP concierge_ack_latency_seconds Receive-to-ack time of messages."
        );
        let _ = writeln!(out, "# TYPE concierge_ack_latency_seconds histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "concierge_ack_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                self.ack_buckets[i].load(Relaxed)
            );
        }
        let count = self.ack_count.load(Relaxed);
        let _ = writeln!(
            out,
            "concierge_ack_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "concierge_ack_latency_seconds_sum {}",
            self.ack_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "concierge_ack_latency_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.ack_latency(Duration::from_micros(700));
        m.ack_latency(Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.0005\"} 0"));
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.025\"} 2"));
        assert!(text.contains("concierge_ack_latency_seconds_count 2"));
        m.error(ErrorCode::BadFrame);
        assert!(m
            .render()
            .contains("concierge_errors_total{code=\"bad_frame\"} 1"));
    }
}
