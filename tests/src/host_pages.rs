//! The "foreign" web site of the widget's browser tests: host pages that embed the widget
//! snippet (one plain, one with hostile CSS) and help-center documents for the server to
//! crawl, so citations carry URLs. Served on other loopback addresses than the server
//! (127.0.0.2, 127.0.0.3; Linux routes all of 127/8 to the loopback), which makes them other
//! origins, as a customer's site is.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

/// `tests/e2e/xss-corpus.json`: hostile text the bot quotes and the agent sends.
pub fn xss_corpus() -> PathBuf {
    crate::package_dir().join("e2e/xss-corpus.json")
}

/// What the host pages embed and the documents they publish.
pub struct HostSite {
    /// `http://127.0.0.1:PORT` of the Concierge server.
    pub server_url: String,
    pub site_key: String,
    /// URL path (`/help/...`) → (content type, body).
    pub docs: BTreeMap<String, (&'static str, String)>,
    /// What a test pasted into the page `/pasted` (an embed snippet copied from the console),
    /// as a site owner would paste it into their own page.
    pub pasted: std::sync::Mutex<String>,
}

impl HostSite {
    /// The help-center fixture (`/help/refunds.md`, ...) and one note per topic of the XSS
    /// corpus (`/help/notes/quokka.txt`, ...).
    pub fn new(server_url: String, site_key: String) -> Result<HostSite> {
        let mut docs = BTreeMap::new();
        let root = crate::kb::helpcenter();
        let mut files = Vec::new();
        walk(&root, &mut files)?;
        for file in files {
            let rel = file
                .strip_prefix(&root)?
                .to_string_lossy()
                .replace('\\', "/");
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            docs.insert(format!("/help/{rel}"), (content_type(&rel), body));
        }
        let corpus: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(xss_corpus()).context("reading the XSS corpus")?,
        )?;
        for group in corpus["bot"].as_array().context("corpus.bot")? {
            let topic = group["topic"].as_str().context("topic")?;
            let payloads = group["payloads"].as_array().context("payloads")?;
            docs.insert(
                format!("/help/notes/{topic}.txt"),
                ("text/plain; charset=utf-8", note(topic, payloads)),
            );
        }
        Ok(HostSite {
            server_url,
            site_key,
            docs,
            pasted: std::sync::Mutex::new(String::new()),
        })
    }

    /// Absolute URLs of every document, for ingestion.
    pub fn doc_urls(&self, base: &str) -> Vec<String> {
        self.docs
            .keys()
            .map(|path| format!("{base}{path}"))
            .collect()
    }

    /// A page in language `lang` (its `<html lang>`, which the widget follows).
    fn page(&self, lang: &str, title: &str, head: &str) -> String {
        format!(
            r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>html {{ overflow-y: scroll; }}</style>
{head}
</head>
<body>
<header><a href="/">Test shop</a> · <a href="/help/refunds.md">Refunds</a></header>
<main>
<h1>{title}</h1>
<p>A customer's page that knows nothing about the chat but the one-line snippet below.</p>
<button type="button" id="host-button">A button of the host page</button>
</main>
<script src="{server}/widget.js" data-site-key="{key}" async></script>
</body>
</html>
"#,
            server = self.server_url,
            key = self.site_key,
        )
    }
}

/// A topic's note: a lead paragraph naming the topic (so retrieval finds it), then one
/// paragraph per payload.
fn note(topic: &str, payloads: &[serde_json::Value]) -> String {
    let mut text =
        format!("# The {topic} notes\n\nThe {topic} notes are what the {topic} team wrote down.\n");
    for p in payloads {
        text.push('\n');
        text.push_str(p.as_str().unwrap_or_default());
        text.push('\n');
    }
    text
}

/// Host-page CSS that would restyle any widget living in the page's own DOM.
pub const HOSTILE_CSS: &str = r#"<style>
html { font-size: 40px !important; }
* { color: red !important; font-size: 40px !important; display: block !important;
    line-height: 3 !important; font-family: "Comic Sans MS", cursive !important;
    letter-spacing: 4px !important; word-spacing: 12px !important; text-transform: uppercase !important;
    text-align: right !important; text-indent: 30px !important; white-space: nowrap !important;
    box-sizing: content-box !important; cursor: wait !important; }
*::before, *::after { content: "!" !important; }
div { background: lime !important; padding: 20px !important; margin: 10px !important;
      border: 5px dashed blue !important; }
button { all: unset; }
ol, ul, li { list-style: square !important; margin: 30px !important; padding: 30px !important; }
textarea, input { width: 10px !important; height: 300px !important; }
a { color: orange !important; text-decoration: line-through !important; }
span { position: absolute !important; }
[hidden] { display: block !important; }
</style>"#;

/// Serves the host pages on `listener`: `/` (plain), `/hostile-css`, `/fr` (a French page),
/// `/help/...`.
pub fn serve(listener: TcpListener, site: Arc<HostSite>) {
    let router = Router::new()
        .route("/", get(plain_page))
        .route("/hostile-css", get(hostile_page))
        .route("/fr", get(french_page))
        .route("/help/{*path}", get(doc))
        .route("/pasted", get(pasted_page).put(paste))
        // Browsers ask for it; a 404 would be noise in the script's console log.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .with_state(site);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// `PUT /pasted` with HTML: what `GET /pasted` shows in its body from now on.
async fn paste(State(site): State<Arc<HostSite>>, body: String) -> StatusCode {
    *site.pasted.lock().unwrap_or_else(|e| e.into_inner()) = body;
    StatusCode::NO_CONTENT
}

/// A fresh page of the host site with only what was pasted (verbatim: it is the test's own
/// snippet, as an owner's page would carry it).
async fn pasted_page(State(site): State<Arc<HostSite>>) -> Html<String> {
    let pasted = site
        .pasted
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>A fresh page</title>\
         </head><body><h1>A fresh page</h1>{pasted}</body></html>"
    ))
}

/// Binds `ip:0`, with a message that says what to do where the address is not local.
pub async fn bind(ip: &str) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind((ip, 0)).await.with_context(|| {
        format!("binding {ip}:0 (host pages need loopback addresses other than 127.0.0.1)")
    })?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

async fn plain_page(State(site): State<Arc<HostSite>>) -> Html<String> {
    Html(site.page("en", "Test shop", ""))
}

async fn hostile_page(State(site): State<Arc<HostSite>>) -> Html<String> {
    Html(site.page("en", "Test shop with hostile CSS", HOSTILE_CSS))
}

/// The same snippet on a page whose `<html lang="fr">`: the widget speaks French.
async fn french_page(State(site): State<Arc<HostSite>>) -> Html<String> {
    Html(site.page("fr", "Boutique de test", ""))
}

async fn doc(State(site): State<Arc<HostSite>>, UrlPath(path): UrlPath<String>) -> Response {
    match site.docs.get(&format!("/help/{path}")) {
        Some((ct, body)) => ([(header::CONTENT_TYPE, *ct)], body.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("md") => "text/markdown; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
