//! Which language model writes a site's answers: the site's own endpoint (`site_llm`), none
//! (the site chose extractive answers), or the server's configured LLM when the site never
//! chose. The settings are read from the store on every use (one primary-key read, so a
//! change saved on any node applies at once); the clients are built once per site and
//! settings and reused, so a connection pool outlives a message.
//!
//! Site owners type these URLs, and the server calls them from inside its network: unless
//! the operator allows private URLs (`CONCIERGE_RAG__ALLOW_PRIVATE_URLS`, as for the
//! crawler), an endpoint on a loopback, private or link-local address is refused when it is
//! saved, tested, and before a client is built for it. The check resolves the name before
//! async-openai's own client does, so a DNS-rebinding server can still slip through between
//! the two; the crawler's guarded resolver closes that, and is the thing to share once
//! async-openai and the crawler use the same reqwest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concierge_protocol::site_api::LlmMode;

use super::{Llm, LlmConfig, OpenAiLlm};
use crate::store::{SiteLlmRecord, Store};

/// Where a site's client points; a change of any part builds a new client.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    base_url: String,
    model: String,
    api_key: Option<String>,
}

/// Each site's client and the endpoint it was built for.
type Clients = HashMap<String, (Endpoint, Arc<dyn Llm>)>;

/// The site-aware source of LLM clients, held by [`crate::rag::Knowledge`].
pub struct SiteLlms {
    store: Arc<Store>,
    /// The server's configured LLM, for sites without settings of their own.
    server: Option<Arc<dyn Llm>>,
    /// Patience and answer length for sites' clients: the server's (`[rag]`).
    first_token_timeout: Duration,
    idle_timeout: Duration,
    max_tokens: u32,
    /// Whether sites may point at private addresses (`rag.allow_private_urls`).
    allow_private: bool,
    /// One client per site with its own endpoint, rebuilt when the endpoint changes.
    clients: Mutex<Clients>,
}

impl SiteLlms {
    pub fn new(
        store: Arc<Store>,
        server: Option<Arc<dyn Llm>>,
        config: &crate::rag::RagConfig,
    ) -> Self {
        SiteLlms {
            store,
            server,
            first_token_timeout: Duration::from_millis(config.llm_first_token_timeout_ms),
            idle_timeout: Duration::from_millis(config.llm_idle_timeout_ms),
            max_tokens: config.llm_max_tokens,
            allow_private: config.allow_private_urls,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The LLM that writes this site's answers now; `None`: extractive answers. A site whose
    /// settings cannot be read gets extractive answers, never the server's model: the owner
    /// may have turned the LLM off to keep visitors' words away from it.
    pub async fn for_site(&self, site_id: &str) -> Option<Arc<dyn Llm>> {
        let settings = match self.store.site_llm(site_id).await {
            Ok(None) => return self.server.clone(),
            Ok(Some(s)) => s,
            Err(e) => {
                tracing::warn!(error = %e, site = site_id, "site LLM settings not read; answering extractively");
                return None;
            }
        };
        let Some(endpoint) = endpoint_of(&settings) else {
            self.clients().remove(site_id);
            return None;
        };
        if let Some((known, client)) = self.clients().get(site_id) {
            if *known == endpoint {
                return Some(client.clone());
            }
        }
        if let Err(e) = check_endpoint(&endpoint.base_url, self.allow_private).await {
            tracing::warn!(site = site_id, error = %e, "site LLM refused; answering extractively");
            return None;
        }
        let client: Arc<dyn Llm> = Arc::new(OpenAiLlm::new(self.config(
            &endpoint.base_url,
            &endpoint.model,
            endpoint.api_key.clone(),
        )));
        self.clients()
            .insert(site_id.to_string(), (endpoint, client.clone()));
        Some(client)
    }

    /// The server's configured LLM.
    pub fn server(&self) -> Option<&Arc<dyn Llm>> {
        self.server.as_ref()
    }

    /// Whether sites may point at private addresses.
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// A client config for an endpoint, with the server's patience and answer length.
    pub fn config(&self, base_url: &str, model: &str, api_key: Option<String>) -> LlmConfig {
        LlmConfig {
            base_url: base_url.to_string(),
            model: model.to_string(),
            api_key,
            first_token_timeout: self.first_token_timeout,
            idle_timeout: self.idle_timeout,
            max_tokens: self.max_tokens,
        }
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The endpoint a site's settings name, when they ask for an LLM and name one.
fn endpoint_of(s: &SiteLlmRecord) -> Option<Endpoint> {
    match (s.mode, &s.base_url, &s.model) {
        (LlmMode::Llm, Some(base_url), Some(model)) => Some(Endpoint {
            base_url: base_url.clone(),
            model: model.clone(),
            api_key: s.api_key.clone().filter(|k| !k.is_empty()),
        }),
        _ => None,
    }
}

/// Refuses an endpoint whose host is, or resolves to, an address the server must not call on
/// a site owner's behalf (see the module doc). A name that does not resolve passes: there is
/// nothing to reach, and the connection test says so.
pub async fn check_endpoint(base_url: &str, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let url = url::Url::parse(base_url).map_err(|e| format!("not a URL: {e}"))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => Vec::new(),
        },
        None => return Err("the URL has no host".into()),
    };
    match addrs.into_iter().find(|ip| is_internal(*ip)) {
        Some(ip) => Err(format!(
            "{} is a private, loopback or link-local address ({ip}); the server's operator can \
             allow those with CONCIERGE_RAG__ALLOW_PRIVATE_URLS=true",
            url.host_str().unwrap_or_default()
        )),
        None => Ok(()),
    }
}

/// Loopback, private, link-local (cloud metadata), carrier-grade NAT, unspecified, multicast
/// and reserved addresses, and IPv6 forms that embed them: the ranges the crawler's guard
/// (`rag/crawl/guard.rs`) refuses.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let v4 = std::net::Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
                return is_internal(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || (s[0] & 0xffc0) == 0xfec0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn endpoints_on_internal_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://169.254.169.254/latest",
            "http://10.0.0.7/v1",
            "http://[::1]:11434/v1",
            "http://[::ffff:192.168.1.1]/v1",
            "http://localhost:11434/v1",
        ] {
            assert!(check_endpoint(url, false).await.is_err(), "{url}");
            assert!(check_endpoint(url, true).await.is_ok(), "{url}");
        }
        assert!(check_endpoint("https://93.184.215.14/v1", false)
            .await
            .is_ok());
    }

    #[test]
    fn only_llm_mode_with_a_url_and_a_model_names_an_endpoint() {
        let mut s = SiteLlmRecord {
            mode: LlmMode::Llm,
            base_url: Some("https://llm.example/v1".into()),
            model: Some("m".into()),
            api_key: Some(String::new()),
            updated_at: 0,
        };
        assert_eq!(
            endpoint_of(&s).unwrap().api_key,
            None,
            "an empty key is no key"
        );
        s.mode = LlmMode::Extractive;
        assert!(endpoint_of(&s).is_none());
        s.mode = LlmMode::Llm;
        s.model = None;
        assert!(endpoint_of(&s).is_none());
    }
}
