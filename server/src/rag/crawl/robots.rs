//! robots.txt: fetched once per origin (scheme, host, port — RFC 9309 §2.3),
//! cached, and consulted before every document request.
//!
//! How answers are read (RFC 9309 §2.3.1, which is also Google's behaviour):
//! - 2xx: parsed with `texting_robots`, matching our product token
//!   (`ConciergeBot`, the user agent up to its first `/`), else the `*` group.
//! - 4xx except 429 (404, 403, 410, ...): no rules, everything allowed.
//! - 429, 5xx, timeouts and network errors: the site is treated as fully
//!   disallowed ([`FetchError::RobotsUnavailable`]). A server that cannot
//!   answer robots.txt should not be crawled harder; the site owner sees why.
//! - A robots.txt that does not parse is treated like an unavailable one: we
//!   would rather skip a site than ignore rules we failed to read.
//!
//! `Crawl-delay` raises the per-host delay (never lowers it), capped at
//! [`MAX_CRAWL_DELAY`] so one hostile robots.txt cannot stall a crawl forever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use texting_robots::Robot;
use tokio::sync::OnceCell;
use tokio::time::Instant;
use url::Url;

use super::transport::{Purpose, Scope};
use super::{Crawler, FetchError};

/// Google reads the first 500 KiB of a robots.txt; so do we.
const ROBOTS_MAX_BYTES: usize = 500 * 1024;
/// Longest `Crawl-delay` we honour.
pub(super) const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);
/// How long a fetched robots.txt stays valid (RFC 9309 suggests <= 24 h).
const RULES_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// How long an unavailable robots.txt blocks its site before we ask again.
const UNAVAILABLE_TTL: Duration = Duration::from_secs(5 * 60);

enum Verdict {
    AllowAll,
    Rules(Robot),
    Unavailable(String),
    /// The site itself may not be contacted (SSRF guard); report that rather
    /// than blame its robots.txt.
    Refused(FetchError),
}

struct Entry {
    fetched_at: Instant,
    verdict: Verdict,
}

impl Entry {
    fn expired(&self) -> bool {
        let ttl = match self.verdict {
            Verdict::Unavailable(_) | Verdict::Refused(_) => UNAVAILABLE_TTL,
            _ => RULES_TTL,
        };
        self.fetched_at.elapsed() > ttl
    }
}

/// One cell per origin, so concurrent page fetches of a site wait for a single
/// robots.txt request instead of each sending their own.
#[derive(Default)]
pub(super) struct RobotsCache {
    entries: Mutex<HashMap<String, Arc<OnceCell<Entry>>>>,
}

impl RobotsCache {
    fn cell(&self, origin: &str) -> Arc<OnceCell<Entry>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let cell = entries.entry(origin.to_owned()).or_default();
        if cell.get().is_some_and(Entry::expired) {
            *cell = Arc::default();
        }
        cell.clone()
    }
}

/// The token robots.txt groups are matched against: `ConciergeBot/0.1 (+...)`
/// -> `ConciergeBot`.
pub(super) fn product_token(user_agent: &str) -> String {
    user_agent
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Crawler {
    /// Checks `url` against its origin's robots.txt and returns the delay to
    /// keep between requests to its host.
    pub(super) async fn admit(&self, url: &Url) -> Result<Duration, FetchError> {
        let origin = url.origin().ascii_serialization();
        let cell = self.robots.cell(&origin);
        let entry = cell
            .get_or_init(|| async {
                Entry {
                    verdict: self.read_robots(&origin).await,
                    fetched_at: Instant::now(),
                }
            })
            .await;
        match &entry.verdict {
            Verdict::AllowAll => Ok(self.opts.delay),
            Verdict::Refused(err) => Err(err.clone()),
            Verdict::Unavailable(reason) => Err(FetchError::RobotsUnavailable {
                origin,
                reason: reason.clone(),
            }),
            Verdict::Rules(robot) if robot.allowed(url.as_str()) => {
                let crawl_delay = robot
                    .delay
                    .filter(|secs| secs.is_finite() && *secs > 0.0)
                    .map(|secs| Duration::from_secs_f32(secs).min(MAX_CRAWL_DELAY))
                    .unwrap_or_default();
                Ok(self.opts.delay.max(crawl_delay))
            }
            Verdict::Rules(_) => Err(FetchError::DisallowedByRobots {
                url: url.to_string(),
            }),
        }
    }

    /// Boxed with an explicit `Send` future type: `follow` calls `admit`,
    /// which calls this, which calls `follow` for robots.txt; the named type
    /// breaks that cycle for both async recursion and `Send` inference.
    fn read_robots<'a>(&'a self, origin: &'a str) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let robots_url = format!("{origin}/robots.txt");
            let purpose = Purpose::Robots {
                limit: ROBOTS_MAX_BYTES,
            };
            let answer = match self.follow(&robots_url, Scope::AnyHost, purpose).await {
                Ok(answer) => answer,
                Err(err @ FetchError::PrivateAddress { .. }) => return Verdict::Refused(err),
                Err(err) => return Verdict::Unavailable(err.to_string()),
            };
            match answer.status {
                200..=299 => match Robot::new(&self.robots_agent, &answer.body) {
                    Ok(robot) => Verdict::Rules(robot),
                    Err(err) => Verdict::Unavailable(format!("it does not parse: {err:#}")),
                },
                429 => Verdict::Unavailable("the site answered HTTP 429 Too Many Requests".into()),
                400..=499 => Verdict::AllowAll,
                status => Verdict::Unavailable(format!("the site answered HTTP {status}")),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_token_is_the_user_agent_up_to_its_version() {
        assert_eq!(
            product_token("ConciergeBot/0.1 (+https://github.com/concierge)"),
            "ConciergeBot"
        );
        assert_eq!(product_token("ConciergeBot"), "ConciergeBot");
    }

    #[test]
    fn our_group_wins_over_the_catch_all_group() {
        let txt = b"User-agent: *\nDisallow: /\n\nUser-agent: conciergebot\nDisallow: /private/\n";
        let robot = Robot::new(&product_token("ConciergeBot/0.1"), txt).unwrap();
        assert!(robot.allowed("https://example.com/docs/faq"));
        assert!(!robot.allowed("https://example.com/private/x"));
    }
}
