//! "Check installation": which origins the widget's visitor sockets come from, per site,
//! accepted or refused. Each socket is noted in memory; an origin is written at most once a
//! minute per server, with the sockets seen in between added up, so a burst of connections
//! costs one write.

use std::sync::Arc;
use std::time::{Duration, Instant};

use concierge_protocol::kb_api::{InstallationView, OriginSeen};
use dashmap::DashMap;

use crate::store::{origin_matches, rfc3339, OriginRecord, Site, Store};

/// Least time between two writes of one origin of one site by this server.
pub const WRITE_EVERY: Duration = Duration::from_secs(60);
/// Longest origin recorded: a browser's is scheme, host and port.
const MAX_ORIGIN_CHARS: usize = 200;
/// Origins remembered in memory before the memory is reset (random `Origin` headers must
/// not grow it without bound; a reset only costs early writes).
const MAX_TRACKED: usize = 10_000;

/// The last write of one origin and the sockets seen since.
struct Seen {
    written_at: Instant,
    unwritten: i64,
}

/// This server's memory of recent origins, keyed by (site id, origin).
#[derive(Default)]
pub struct Installs {
    recent: DashMap<(String, String), Seen>,
}

impl Installs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes a visitor socket (accepted or refused) from `origin` on the site. Writes in the
    /// background, at most once per [`WRITE_EVERY`]; sockets without a browser origin are not
    /// installations and are ignored.
    pub fn seen(&self, store: &Arc<Store>, site_id: &str, origin: &str) {
        if origin.is_empty()
            || origin.len() > MAX_ORIGIN_CHARS
            || !origin.bytes().all(|b| b.is_ascii_graphic())
        {
            return;
        }
        if self.recent.len() >= MAX_TRACKED {
            self.recent.clear();
        }
        let now = Instant::now();
        let due = match self.recent.entry((site_id.to_string(), origin.to_string())) {
            dashmap::Entry::Occupied(mut e) => {
                let seen = e.get_mut();
                seen.unwritten += 1;
                if now.duration_since(seen.written_at) < WRITE_EVERY {
                    None
                } else {
                    seen.written_at = now;
                    Some(std::mem::take(&mut seen.unwritten))
                }
            }
            dashmap::Entry::Vacant(e) => {
                e.insert(Seen {
                    written_at: now,
                    unwritten: 0,
                });
                Some(1)
            }
        };
        let Some(connections) = due else {
            return;
        };
        let store = store.clone();
        let (site_id, origin) = (site_id.to_string(), origin.to_string());
        tokio::spawn(async move {
            if let Err(e) = store.record_origin(&site_id, &origin, connections).await {
                tracing::warn!(error = %e, "widget origin not recorded");
            }
        });
    }
}

/// Every allowed origin of the site (a pattern sums the origins it matches; never seen:
/// null), then the origins seen that the site does not allow, most recent first.
pub fn installation(site: &Site, seen: &[OriginRecord]) -> InstallationView {
    let mut origins: Vec<OriginSeen> = site
        .allowed_origins
        .iter()
        .map(|pattern| {
            let matched: Vec<&OriginRecord> = seen
                .iter()
                .filter(|s| origin_matches(pattern, &s.origin))
                .collect();
            OriginSeen {
                origin: pattern.clone(),
                allowed: true,
                last_seen_at: matched.iter().map(|s| s.last_seen_at).max().map(rfc3339),
                connections: matched.iter().map(|s| s.connections).sum(),
            }
        })
        .collect();
    origins.extend(
        seen.iter()
            .filter(|s| !site.allows_origin(&s.origin))
            .map(|s| OriginSeen {
                origin: s.origin.clone(),
                allowed: false,
                last_seen_at: Some(rfc3339(s.last_seen_at)),
                connections: s.connections,
            }),
    );
    origins.sort_by(|a, b| {
        b.allowed
            .cmp(&a.allowed)
            .then_with(|| match (a.allowed, b.allowed) {
                // Allowed origins keep the owner's order (a stable sort).
                (true, true) => std::cmp::Ordering::Equal,
                _ => b.last_seen_at.cmp(&a.last_seen_at),
            })
    });
    InstallationView { origins }
}

/// The site's installation as "Check installation" shows it.
pub async fn check(
    store: &Store,
    site: &Site,
) -> Result<InstallationView, crate::store::StoreError> {
    let seen = store.origins(&site.id).await?;
    Ok(installation(site, &seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(origin: &str, at: i64, connections: i64) -> OriginRecord {
        OriginRecord {
            origin: origin.into(),
            first_seen_at: at,
            last_seen_at: at,
            connections,
        }
    }

    #[test]
    fn allowed_origins_come_first_with_what_they_matched_then_refused_ones() {
        let site = Site {
            id: "s".into(),
            account_id: "a".into(),
            name: "Shop".into(),
            site_key: "site_x".into(),
            allowed_origins: vec![
                "https://shop.example".into(),
                "http://localhost:*".into(),
                "https://never.example".into(),
            ],
        };
        let view = installation(
            &site,
            &[
                seen("https://evil.example", 5_000, 2),
                seen("http://localhost:3000", 3_000, 4),
                seen("http://localhost:8080", 4_000, 1),
                seen("https://shop.example", 1_000, 7),
                seen("https://old.example", 2_000, 1),
            ],
        );
        let rows: Vec<(&str, bool, i64, bool)> = view
            .origins
            .iter()
            .map(|o| {
                (
                    o.origin.as_str(),
                    o.allowed,
                    o.connections,
                    o.last_seen_at.is_some(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                ("https://shop.example", true, 7, true),
                ("http://localhost:*", true, 5, true),
                ("https://never.example", true, 0, false),
                ("https://evil.example", false, 2, true),
                ("https://old.example", false, 1, true),
            ]
        );
        assert_eq!(
            view.origins[1].last_seen_at.as_deref(),
            Some(rfc3339(4_000).as_str())
        );
    }

    #[tokio::test]
    async fn a_burst_of_sockets_is_written_once_and_counted_later() {
        let installs = Installs::new();
        let key = ("s".to_string(), "https://a.example".to_string());
        let store = Arc::new(Store::connect("sqlite::memory:").await.unwrap());
        for _ in 0..5 {
            installs.seen(&store, "s", "https://a.example");
        }
        assert_eq!(installs.recent.get(&key).unwrap().unwritten, 4);
        // Not a browser page: ignored.
        installs.seen(&store, "s", "");
        installs.seen(&store, "s", "https://bad example");
        assert_eq!(installs.recent.len(), 1);
    }
}
