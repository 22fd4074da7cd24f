//! A small real website for the crawler tests: robots.txt, sitemaps and pages
//! with every failure a support site can throw at us, served by axum on
//! 127.0.0.1:0. It records what it saw so tests can check politeness from
//! the server's side.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::Response;
use axum::Router;

/// Page bodies in tests are capped at this, so "huge" need not be huge.
pub const TEST_MAX_BYTES: usize = 64 * 1024;

pub struct Site {
    pub base: String,
    port: OnceLock<u16>,
    robots: (StatusCode, String),
    /// When set, page handlers wait (up to 5 s) until this many pages were in
    /// flight at once, making the concurrency peak deterministic, then linger.
    hold_until_in_flight: usize,
    /// (arrival, path) of every request, robots.txt and sitemaps included.
    arrivals: Mutex<Vec<(Instant, String)>>,
    in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

impl Site {
    pub fn paths(&self) -> Vec<String> {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Server-observed silences between consecutive requests whose path
    /// starts with `prefix`.
    pub fn gaps(&self, prefix: &str) -> Vec<Duration> {
        let mut times: Vec<Instant> = self
            .arrivals
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, path)| path.starts_with(prefix))
            .map(|(at, _)| *at)
            .collect();
        times.sort();
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub async fn serve(robots: (StatusCode, &str), hold_until_in_flight: usize) -> Arc<Site> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = Arc::new(Site {
        base: format!("http://127.0.0.1:{port}"),
        port: OnceLock::from(port),
        robots: (robots.0, robots.1.to_owned()),
        hold_until_in_flight,
        arrivals: Mutex::default(),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let app = Router::new().fallback(handle).with_state(site.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    site
}

pub const ROBOTS: &str =
    "User-agent: *\nDisallow: /\n\nUser-agent: ConciergeBot\nDisallow: /private/\n";

fn urlset(base: &str, paths: &[&str]) -> String {
    let urls: String = paths
        .iter()
        .map(|p| {
            let loc = if p.contains("://") {
                p.to_string()
            } else {
                format!("{base}{p}")
            };
            format!("<url><loc>{loc}</loc></url>")
        })
        .collect();
    format!(
        r#"<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#
    )
}

fn index(base: &str, paths: &[&str]) -> String {
    let maps: String = paths
        .iter()
        .map(|p| {
            let loc = if p.contains("://") {
                p.to_string()
            } else {
                format!("{base}{p}")
            };
            format!("<sitemap><loc>{loc}</loc></sitemap>")
        })
        .collect();
    format!(
        r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>"#
    )
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn reply(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

fn redirect(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

async fn handle(State(site): State<Arc<Site>>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    site.arrivals
        .lock()
        .unwrap()
        .push((Instant::now(), path.clone()));
    let base = site.base.as_str();
    let xml = "application/xml";
    match path.as_str() {
        "/robots.txt" => reply(site.robots.0, "text/plain", site.robots.1.clone()),
        "/sitemap_index.xml" => reply(
            StatusCode::OK,
            xml,
            index(
                base,
                &[
                    "/sitemaps/pages.xml",
                    "/sitemaps/more.xml.gz",
                    "/sitemaps/broken.xml",
                    "http://elsewhere.example/sitemap.xml",
                ],
            ),
        ),
        "/sitemaps/pages.xml" => reply(
            StatusCode::OK,
            xml,
            urlset(
                base,
                &[
                    "/docs/ok-1",
                    "/docs/ok-2",
                    "/docs/missing",
                    "http://elsewhere.example/docs/x",
                    "/docs/huge",
                    "/docs/endless",
                    "/private/secret",
                    "/docs/moved",
                    "/docs/away",
                    "/docs/ok-1#again",
                    "ftp://127.0.0.1/docs/file",
                ],
            ),
        ),
        "/sitemaps/more.xml.gz" => reply(
            StatusCode::OK,
            "application/gzip",
            gzip(&urlset(base, &["/docs/ok-4", "/docs/ok-2"])),
        ),
        "/sitemaps/broken.xml" => reply(StatusCode::INTERNAL_SERVER_ERROR, xml, "oops"),
        "/many.xml" => {
            let pages: Vec<String> = (0..10).map(|i| format!("/docs/p{i}")).collect();
            let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
            reply(StatusCode::OK, xml, urlset(base, &pages))
        }
        "/docs/missing" => reply(StatusCode::NOT_FOUND, "text/html", "no such page"),
        "/docs/huge" => reply(StatusCode::OK, "text/html", vec![b'x'; TEST_MAX_BYTES + 1]),
        "/docs/endless" => {
            // No Content-Length and no end: only a streaming cap stops this.
            let chunks = futures_util::stream::repeat_with(|| {
                Ok::<_, std::convert::Infallible>(Bytes::from(vec![b'y'; 8192]))
            });
            reply(StatusCode::OK, "text/html", Body::from_stream(chunks))
        }
        "/docs/moved" => redirect("/docs/ok-3"),
        "/docs/away" => {
            let port = site.port.get().copied().unwrap_or_default();
            redirect(&format!("http://localhost:{port}/docs/ok-1"))
        }
        "/docs/loop" => redirect("/docs/loop"),
        "/docs/slow" => {
            tokio::time::sleep(Duration::from_secs(10)).await;
            reply(StatusCode::OK, "text/html", "too late")
        }
        _ if path.starts_with("/nest/") => nested(base, &path),
        _ if path.starts_with("/docs/") || path.starts_with("/private/") => {
            page(&site, &path).await
        }
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not here"),
    }
}

/// `/nest/N.xml` is an index of `/nest/N+1.xml` and `/nest/pages-N.xml`,
/// which lists `/docs/level-N`: a chain deeper than the crawler follows.
fn nested(base: &str, path: &str) -> Response {
    let name = path.trim_start_matches("/nest/").trim_end_matches(".xml");
    if let Some(level) = name.strip_prefix("pages-") {
        return reply(
            StatusCode::OK,
            "application/xml",
            urlset(base, &[&format!("/docs/level-{level}")]),
        );
    }
    let level: usize = name.parse().unwrap_or(0);
    let children = [
        format!("/nest/{}.xml", level + 1),
        format!("/nest/pages-{level}.xml"),
    ];
    reply(
        StatusCode::OK,
        "application/xml",
        index(base, &[children[0].as_str(), children[1].as_str()]),
    )
}

async fn page(site: &Site, path: &str) -> Response {
    let now = site.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    site.max_in_flight.fetch_max(now, Ordering::SeqCst);
    if site.hold_until_in_flight > 0 {
        let started = Instant::now();
        while site.max_in_flight.load(Ordering::SeqCst) < site.hold_until_in_flight
            && started.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Linger so that a crawler exceeding its bound gets caught with one
        // page too many in flight; a correct one cannot exceed it however
        // long this takes.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    site.in_flight.fetch_sub(1, Ordering::SeqCst);
    reply(
        StatusCode::OK,
        "text/html; charset=utf-8",
        format!("<h1>{path}</h1>"),
    )
}
