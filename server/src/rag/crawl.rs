//! Fetching a site's documents for its knowledge base: single URLs, sitemap
//! walks and bounded crawls, done politely (robots.txt, per-host delay,
//! bounded concurrency, an identifying user agent) and safely (http(s) only,
//! size and time caps, no private addresses, crawls pinned to one host).
//!
//! Layout: `error` (the error type), `guard` (SSRF checks), `transport` (one
//! polite request, redirects), `robots` (robots.txt cache), `sitemap`
//! (sitemap parsing and walking).

mod error;
mod guard;
mod robots;
mod sitemap;
mod transport;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tokio::sync::Semaphore;
use url::Url;

pub use error::FetchError;
use transport::{Purpose, Scope};

/// How hard and how far a [`Crawler`] may go.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Most pages one sitemap walk returns or one crawl fetches.
    pub max_pages: usize,
    /// Most requests in flight at once, across all hosts.
    pub concurrency: usize,
    /// Silence kept between two requests to the same host (raised by a
    /// robots.txt `Crawl-delay`). Non-zero means one request at a time per host.
    pub delay: Duration,
    /// Largest body accepted per page (after gzip decoding).
    pub max_bytes: usize,
    /// Time limit per request, from connecting to the last body byte.
    pub timeout: Duration,
    /// Sent with every request; its product token (before `/`) is what
    /// robots.txt groups are matched against.
    pub user_agent: String,
    /// Lets requests reach loopback/private/link-local addresses. Only for
    /// tests and trusted single-tenant setups: it re-opens SSRF.
    pub allow_private: bool,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        Self {
            max_pages: 200,
            concurrency: 2,
            delay: Duration::from_millis(250),
            max_bytes: 5 * 1024 * 1024,
            timeout: Duration::from_secs(15),
            user_agent: "ConciergeBot/0.1 (+https://github.com/concierge)".into(),
            allow_private: false,
        }
    }
}

/// A successfully fetched document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPage {
    /// Final URL after redirects (what citations should point to).
    pub url: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Fetches documents; cheap to share (`Arc<Crawler>`) between ingestion jobs
/// so robots.txt caches, host delays and the concurrency bound are shared too.
pub struct Crawler {
    opts: CrawlOptions,
    /// Redirects disabled: `transport` follows them itself so each hop is
    /// checked. DNS goes through `guard::GuardedResolver`.
    client: reqwest::Client,
    /// Product token of `opts.user_agent`, matched against robots.txt groups.
    robots_agent: String,
    /// robots.txt verdicts per origin.
    robots: robots::RobotsCache,
    /// Per-host politeness gates.
    hosts: transport::HostGates,
    /// Enforces `opts.concurrency` for every request, whoever makes it.
    in_flight: Semaphore,
}

impl Crawler {
    pub fn new(opts: CrawlOptions) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names where our SSRF guard cannot see.
            .no_proxy()
            .dns_resolver(Arc::new(guard::GuardedResolver {
                allow_private: opts.allow_private,
            }))
            .connect_timeout(opts.timeout)
            .build()
            .map_err(|e| FetchError::Client {
                reason: e.to_string(),
            })?;
        Ok(Self {
            robots_agent: robots::product_token(&opts.user_agent),
            in_flight: Semaphore::new(opts.concurrency.max(1)),
            opts,
            client,
            robots: Default::default(),
            hosts: Default::default(),
        })
    }

    /// Fetches one http(s) URL, following up to 5 redirects (to any host;
    /// every hop is SSRF- and robots-checked). Fails unless the final answer
    /// is 2xx.
    pub async fn fetch(&self, url: &str) -> Result<FetchedPage, FetchError> {
        self.fetch_page(url, Scope::AnyHost).await
    }

    /// Page URLs listed by a sitemap (following nested indexes), same host as
    /// `sitemap_url`, http(s) only, deduplicated, at most `max_pages`.
    pub async fn sitemap_urls(&self, sitemap_url: &str) -> Result<Vec<String>, FetchError> {
        self.walk_sitemaps(sitemap_url).await
    }

    /// Fetches `urls` (deduplicated, at most `max_pages`) with at most
    /// `concurrency` in flight, yielding each result as it completes. A page
    /// whose redirects leave its own host fails with [`FetchError::OffHost`].
    pub fn crawl<'a>(
        &'a self,
        urls: Vec<String>,
    ) -> impl Stream<Item = (String, Result<FetchedPage, FetchError>)> + 'a {
        let mut seen = HashSet::new();
        let urls: Vec<String> = urls
            .into_iter()
            .filter(|url| seen.insert(url.clone()))
            .take(self.opts.max_pages)
            .collect();
        futures_util::stream::iter(urls)
            .map(move |url| async move {
                let result = self.fetch_page(&url, Scope::StartHost).await;
                (url, result)
            })
            .buffer_unordered(self.opts.concurrency.max(1))
    }

    async fn fetch_page(&self, url: &str, scope: Scope) -> Result<FetchedPage, FetchError> {
        let answer = self.follow(url, scope, Purpose::Document).await?;
        match answer.status {
            200..=299 => Ok(FetchedPage {
                url: answer.url.into(),
                content_type: answer.content_type,
                bytes: answer.body,
            }),
            404 => Err(FetchError::NotFound),
            status => Err(FetchError::Http { status }),
        }
    }
}

/// True when `url` looks like a sitemap rather than a page, so the dashboard
/// can treat "add a URL" as "add a whole site".
pub fn is_sitemap_url(url: &str) -> bool {
    let Ok(url) = Url::parse(url) else {
        return false;
    };
    let path = url.path().to_ascii_lowercase();
    path.ends_with(".xml.gz") || path.contains("sitemap")
}

/// Parses an absolute http(s) URL, naming the problem when it is not one.
fn parse_http_url(raw: &str) -> Result<Url, FetchError> {
    let url = Url::parse(raw.trim()).map_err(|e| FetchError::BadUrl {
        url: raw.to_owned(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        "http" | "https" => Err(FetchError::BadUrl {
            url: raw.to_owned(),
            reason: "it has no host".into(),
        }),
        scheme => Err(FetchError::UnsupportedScheme {
            scheme: scheme.to_owned(),
        }),
    }
}
