//! Process metrics behind `/metrics`: one `prometheus-client` registry, every metric
//! registered once in [`Metrics::default`], rendered in the OpenMetrics text format.
//!
//! The exposed names are the ones scrapers and dashboards already use. `prometheus-client`
//! appends `_total` to a counter's samples, so counters are registered without it
//! (`concierge_frames_received` is exposed as `concierge_frames_received_total`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use concierge_protocol::ErrorCode;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the ack latency histogram buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A counter in the registry. `fetch_add` keeps the shape of the `AtomicU64` it replaced, so
/// the websocket sessions' `fetch_add(1, Relaxed)` still reads the same; new code calls `inc`.
#[derive(Debug, Clone, Default)]
pub struct AtomicCounter(Counter);

impl AtomicCounter {
    pub fn inc(&self) {
        self.0.inc();
    }

    /// As `AtomicU64::fetch_add`; the registry's atomics are always relaxed.
    pub fn fetch_add(&self, n: u64, _: Ordering) -> u64 {
        self.0.inc_by(n)
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A gauge in the registry, with the `AtomicI64` calls the websocket sessions make.
#[derive(Debug, Clone, Default)]
pub struct AtomicGauge(Gauge);

impl AtomicGauge {
    /// As `AtomicI64::fetch_add`; the registry's atomics are always relaxed.
    pub fn fetch_add(&self, n: i64, _: Ordering) -> i64 {
        self.0.inc_by(n)
    }

    /// As `AtomicI64::fetch_sub`.
    pub fn fetch_sub(&self, n: i64, _: Ordering) -> i64 {
        self.0.dec_by(n)
    }

    pub fn get(&self) -> i64 {
        self.0.get()
    }
}

/// The label of `concierge_errors_total`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    code: &'static str,
}

pub struct Metrics {
    /// Every metric below, registered once; rendered on each scrape.
    registry: Registry,
    /// `concierge_open_sockets{kind="visitor"}`.
    pub visitor_sockets: AtomicGauge,
    /// `concierge_open_agent_sockets`.
    pub agent_sockets: AtomicGauge,
    /// `concierge_frames_received_total`.
    pub frames_in: AtomicCounter,
    /// `concierge_frames_sent_total`.
    pub frames_out: AtomicCounter,
    /// `concierge_messages_stored_total`.
    pub messages_stored: AtomicCounter,
    /// `concierge_bus_publish_errors_total`.
    pub bus_publish_errors: AtomicCounter,
    /// `concierge_upgrades_refused_total`.
    pub upgrades_refused: AtomicCounter,
    /// Conversations escalated to a person (new tickets and re-opened ones):
    /// `concierge_escalations_total`.
    pub escalations: AtomicCounter,
    /// `concierge_errors_total{code}`, one counter per code in `ErrorCode::ALL` order, each
    /// created up front so every code is exposed (at 0) from the first scrape.
    errors: Vec<Counter>,
    /// `concierge_ack_latency_seconds`.
    ack_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let visitor_sockets = AtomicGauge::default();
        let agent_sockets = AtomicGauge::default();
        let frames_in = AtomicCounter::default();
        let frames_out = AtomicCounter::default();
        let messages_stored = AtomicCounter::default();
        let bus_publish_errors = AtomicCounter::default();
        let upgrades_refused = AtomicCounter::default();
        let escalations = AtomicCounter::default();
        let error_family = Family::<ErrorLabels, Counter>::default();
        let errors = ErrorCode::ALL
            .iter()
            .map(|code| {
                error_family
                    .get_or_create(&ErrorLabels {
                        code: code.as_str(),
                    })
                    .clone()
            })
            .collect();
        let ack_latency = Histogram::new(LATENCY_BUCKETS);

        // Help texts without the final period: the registry adds it.
        registry
            .sub_registry_with_label(("kind".into(), "visitor".into()))
            .register(
                "concierge_open_sockets",
                "Open websockets",
                visitor_sockets.0.clone(),
            );
        registry.register(
            "concierge_open_agent_sockets",
            "Open agent websockets",
            agent_sockets.0.clone(),
        );
        let counters = [
            (
                "concierge_frames_received",
                "Websocket frames received",
                &frames_in,
            ),
            (
                "concierge_frames_sent",
                "Websocket frames sent",
                &frames_out,
            ),
            (
                "concierge_messages_stored",
                "Messages persisted",
                &messages_stored,
            ),
            (
                "concierge_bus_publish_errors",
                "Failed cross-node publishes",
                &bus_publish_errors,
            ),
            (
                "concierge_escalations",
                "Conversations escalated to a person",
                &escalations,
            ),
            (
                "concierge_upgrades_refused",
                "Refused websocket upgrades",
                &upgrades_refused,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.0.clone());
        }
        registry.register(
            "concierge_errors",
            "Error frames and refusals by code",
            error_family,
        );
        registry.register(
            "concierge_ack_latency_seconds",
            "Receive-to-ack time of messages",
            ack_latency.clone(),
        );

        Metrics {
            registry,
            visitor_sockets,
            agent_sockets,
            frames_in,
            frames_out,
            messages_stored,
            bus_publish_errors,
            upgrades_refused,
            escalations,
            errors,
            ack_latency,
        }
    }
}

impl Metrics {
    pub fn error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|c| *c == code) {
            self.errors[i].inc();
        }
    }

    pub fn errors_of(&self, code: ErrorCode) -> u64 {
        ErrorCode::ALL
            .iter()
            .position(|c| *c == code)
            .map(|i| self.errors[i].get())
            .unwrap_or(0)
    }

    /// Records the time from receiving a `send`/`reply` to writing its `ack`.
    pub fn ack_latency(&self, d: Duration) {
        self.ack_latency.observe(d.as_secs_f64());
    }

    /// The exposition ([`CONTENT_TYPE`]). `bus_undelivered` is the bus's own count of events
    /// that never reached the other nodes (`Bus::failed_publishes`): it lives in the bus, so
    /// it is read at each scrape rather than registered.
    pub fn render(&self, bus_undelivered: u64) -> String {
        let mut bus = Registry::default();
        bus.register(
            "concierge_bus_undelivered",
            "Events that did not reach other nodes (they resynced)",
            ConstCounter::new(bus_undelivered),
        );
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail, and every metric here encodes.
        let _ = encode_registry(&mut out, &self.registry)
            .and_then(|()| encode_registry(&mut out, &bus))
            .and_then(|()| encode_eof(&mut out));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;

    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.ack_latency(Duration::from_micros(700));
        m.ack_latency(Duration::from_millis(20));
        let text = m.render(0);
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.0005\"} 0"));
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("concierge_ack_latency_seconds_bucket{le=\"0.025\"} 2"));
        assert!(text.contains("concierge_ack_latency_seconds_count 2"));
        m.error(ErrorCode::BadFrame);
        assert!(m
            .render(0)
            .contains("concierge_errors_total{code=\"bad_frame\"} 1"));
    }

    #[test]
    fn every_metric_keeps_its_exposed_name_and_labels() {
        let m = Metrics::default();
        m.visitor_sockets.fetch_add(2, Relaxed);
        m.visitor_sockets.fetch_sub(1, Relaxed);
        m.agent_sockets.fetch_add(3, Relaxed);
        m.frames_in.fetch_add(4, Relaxed);
        m.frames_out.inc();
        m.messages_stored.inc();
        m.bus_publish_errors.inc();
        m.upgrades_refused.inc();
        m.escalations.inc();
        let text = m.render(7);
        for line in [
            "concierge_open_sockets{kind=\"visitor\"} 1",
            "concierge_open_agent_sockets 3",
            "concierge_frames_received_total 4",
            "concierge_frames_sent_total 1",
            "concierge_messages_stored_total 1",
            "concierge_bus_publish_errors_total 1",
            "concierge_escalations_total 1",
            "concierge_upgrades_refused_total 1",
            "concierge_bus_undelivered_total 7",
            "concierge_ack_latency_seconds_count 0",
            "concierge_ack_latency_seconds_bucket{le=\"+Inf\"} 0",
            "# HELP concierge_open_sockets Open websockets.",
            "# TYPE concierge_errors counter",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        for code in ErrorCode::ALL {
            let line = format!("concierge_errors_total{{code=\"{}\"}} 0", code.as_str());
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
