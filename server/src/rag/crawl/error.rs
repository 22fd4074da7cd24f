//! The one error type of the crawler. Every reason a site's page can fail to
//! arrive gets its own variant, so the dashboard can tell a site owner *why*
//! a document is missing from the knowledge base (robots.txt, a 404, a size
//! cap) instead of a generic "fetch failed".

/// Why a URL could not be fetched or a sitemap could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url:?} is not a valid absolute URL: {reason}")]
    BadUrl { url: String, reason: String },

    #[error("only http and https URLs can be fetched, not {scheme}: URLs")]
    UnsupportedScheme { scheme: String },

    #[error("{url} is not on {expected_host}, the host being crawled")]
    OffHost { url: String, expected_host: String },

    #[error("{host} is a private, loopback or link-local address; refusing to fetch it")]
    PrivateAddress { host: String },

    #[error("robots.txt of the site disallows fetching {url}")]
    DisallowedByRobots { url: String },

    #[error("robots.txt of {origin} could not be read ({reason}), so the whole site is treated as disallowed")]
    RobotsUnavailable { origin: String, reason: String },

    #[error("the page does not exist (HTTP 404)")]
    NotFound,

    #[error("the site answered HTTP {status}")]
    Http { status: u16 },

    #[error("gave up after {limit} redirects")]
    TooManyRedirects { limit: usize },

    #[error("the body is larger than the {limit}-byte limit")]
    TooLarge { limit: usize },

    #[error("no complete answer within the time limit")]
    Timeout,

    #[error("could not reach the site: {reason}")]
    Unreachable { reason: String },

    #[error("sitemap {url} could not be read: {reason}")]
    BadSitemap { url: String, reason: String },

    #[error("could not set up the HTTP client: {reason}")]
    Client { reason: String },
}

impl FetchError {
    /// Translates a transport error without losing the SSRF refusal that our
    /// resolver raised deep inside reqwest's connector.
    pub(super) fn from_reqwest(err: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<super::guard::PrivateAddressRefused>() {
                return FetchError::PrivateAddress {
                    host: refused.host.clone(),
                };
            }
            source = cause.source();
        }
        if err.is_timeout() {
            return FetchError::Timeout;
        }
        FetchError::Unreachable {
            reason: error_chain(&err),
        }
    }
}

/// reqwest's top-level message is often just "error sending request"; the
/// useful part (DNS failure, connection refused, TLS) is further down.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
