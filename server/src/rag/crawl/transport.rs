//! One polite HTTP exchange at a time: the per-host politeness gate, the
//! global in-flight bound, the per-request time limit, the body size cap and
//! manual redirect following (so every hop is re-checked for SSRF, host
//! scope and robots.txt, which reqwest's built-in redirect policy cannot do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

use super::{guard, parse_http_url, Crawler, FetchError};

/// Redirects followed before giving up (the start URL does not count).
pub(super) const MAX_REDIRECTS: usize = 5;

/// Which hosts a fetch may end up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// A single URL given by a site owner: `example.com` -> `www.example.com`
    /// is an ordinary thing to follow.
    AnyHost,
    /// Pages and sitemaps of one site's crawl must stay on the start URL's
    /// host (scheme and port may change, e.g. http -> https).
    StartHost,
}

/// What a fetch is for; decides robots checks and the size policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A document or sitemap: robots.txt applies, oversize bodies fail.
    Document,
    /// robots.txt itself: never robots-checked, oversize bodies are cut at
    /// `limit` because a truncated robots.txt is still usable (RFC 9309).
    Robots { limit: usize },
}

/// The final, non-redirect answer of a fetch.
pub(super) struct Answer {
    pub(super) url: Url,
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    /// Empty unless `status` is 2xx: error pages are not worth downloading.
    pub(super) body: Vec<u8>,
}

enum Hop {
    Redirect(Url),
    Done(Answer),
}

/// Per-host "when did the last request finish" records. A host's lock is held
/// for the whole exchange, so with a non-zero delay a host sees one request at
/// a time and at least `delay` of silence between them; this (rather than
/// spacing request *starts*) guarantees the gap as observed by the server.
#[derive(Default)]
pub(super) struct HostGates {
    gates: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Instant>>>>>,
}

impl HostGates {
    fn gate(&self, host: &str) -> Arc<tokio::sync::Mutex<Option<Instant>>> {
        // A poisoned map only means another task panicked mid-insert; the map
        // itself is still consistent.
        let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
        gates.entry(host.to_owned()).or_default().clone()
    }
}

impl Crawler {
    /// Fetches `start`, following up to [`MAX_REDIRECTS`] redirects within
    /// `scope`. Returns the final answer whatever its status.
    pub(super) async fn follow(
        &self,
        start: &str,
        scope: Scope,
        purpose: Purpose,
    ) -> Result<Answer, FetchError> {
        let mut url = parse_http_url(start)?;
        let start_host = url.host_str().unwrap_or_default().to_owned();
        for _ in 0..=MAX_REDIRECTS {
            if scope == Scope::StartHost && url.host_str() != Some(start_host.as_str()) {
                return Err(FetchError::OffHost {
                    url: url.to_string(),
                    expected_host: start_host,
                });
            }
            guard::check_literal_host(&url, self.opts.allow_private)?;
            let (delay, cap, truncate) = match purpose {
                Purpose::Document => (self.admit(&url).await?, self.opts.max_bytes, false),
                Purpose::Robots { limit } => (self.opts.delay, limit, true),
            };
            match self.exchange(url, delay, cap, truncate).await? {
                Hop::Redirect(next) => url = next,
                Hop::Done(answer) => return Ok(answer),
            }
        }
        Err(FetchError::TooManyRedirects {
            limit: MAX_REDIRECTS,
        })
    }

    /// One request/response under the host's politeness gate, the global
    /// in-flight bound and the time limit.
    async fn exchange(
        &self,
        url: Url,
        delay: Duration,
        cap: usize,
        truncate: bool,
    ) -> Result<Hop, FetchError> {
        let host = url.host_str().unwrap_or_default().to_owned();
        // Gate before permit: a task waiting for its host never holds a
        // permit, so it cannot starve the hosts that could make progress.
        let mut last_finished = if delay.is_zero() {
            None
        } else {
            Some(self.hosts.gate(&host).lock_owned().await)
        };
        if let Some(Some(previous)) = last_finished.as_deref() {
            tokio::time::sleep_until(*previous + delay).await;
        }
        let permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| FetchError::Client {
                reason: "the crawler was shut down".into(),
            })?;
        let outcome = tokio::time::timeout(self.opts.timeout, self.send(url, cap, truncate)).await;
        drop(permit);
        if let Some(gate) = last_finished.as_mut() {
            **gate = Some(Instant::now());
        }
        outcome.unwrap_or(Err(FetchError::Timeout))
    }

    async fn send(&self, url: Url, cap: usize, truncate: bool) -> Result<Hop, FetchError> {
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        let status = response.status();
        if status.is_redirection() && status != reqwest::StatusCode::NOT_MODIFIED {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok());
            return match location {
                Some(location) => {
                    url.join(location)
                        .map(Hop::Redirect)
                        .map_err(|e| FetchError::BadUrl {
                            url: location.to_owned(),
                            reason: e.to_string(),
                        })
                }
                None => Err(FetchError::Http {
                    status: status.as_u16(),
                }),
            };
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        if status.is_success() {
            // The declared length is only a shortcut; a lying or absent
            // Content-Length is caught by the streaming cap below.
            if !truncate
                && response
                    .content_length()
                    .is_some_and(|len| len > cap as u64)
            {
                return Err(FetchError::TooLarge { limit: cap });
            }
            while let Some(chunk) = response.chunk().await.map_err(FetchError::from_reqwest)? {
                if body.len() + chunk.len() > cap {
                    if !truncate {
                        return Err(FetchError::TooLarge { limit: cap });
                    }
                    body.extend_from_slice(&chunk[..cap - body.len()]);
                    break;
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Hop::Done(Answer {
            url,
            status: status.as_u16(),
            content_type,
            body,
        }))
    }
}
