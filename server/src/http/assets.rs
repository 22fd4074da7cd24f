//! The widget's and the dashboard's files, embedded at build time (see `server/build.rs`).
//!
//! - Widget: `GET /widget.js` (the loader a host page's snippet names; short-cached so a new
//!   release reaches pages within minutes) and `GET /widget/{name}` (content-hashed files the
//!   loader fetches; cached for a year). Any page may load them
//!   (`Access-Control-Allow-Origin: *`).
//! - Dashboard: `GET /app/{name}` for its content-hashed files (cached for a year), and
//!   `index.html` for every other path under `/app/` (the app routes in the browser), never
//!   cached, with the dashboard's CSP (see `headers::dashboard_pages`).
//!
//! Brotli or gzip when the client accepts it; ETag revalidation answered with 304.

use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE,
    ETAG, IF_NONE_MATCH, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use concierge_protocol::ErrorCode;

use crate::error::ApiError;

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The file name: `widget.js`, or a content-hashed name from the widget's manifest.
    pub name: &'static str,
    pub content_type: &'static str,
    pub raw: &'static [u8],
    /// The same bytes gzipped (best compression), served when the client accepts gzip.
    pub gzip: &'static [u8],
    /// Quoted strong validator of `raw`: 16 hex digits of its SHA-256.
    pub etag: &'static str,
    /// The same bytes in brotli (quality 11), served when the client accepts `br`.
    pub br: &'static [u8],
    /// The validator of the gzipped representation (`etag` with a `-gzip` suffix).
    pub gzip_etag: &'static str,
    /// The validator of the brotli representation (`etag` with a `-br` suffix).
    pub br_etag: &'static str,
}

/// Every embedded file, the loader first; empty when the server was built without the widget.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/widget_assets.rs"));

/// The dashboard's files, `index.html` first; empty when built without the dashboard.
pub static DASHBOARD: &[Asset] = include!(concat!(env!("OUT_DIR"), "/dashboard_assets.rs"));

/// The loader's name.
pub const LOADER: &str = "widget.js";

/// The dashboard's page, served for every path under `/app/` that is not one of its files.
pub const INDEX: &str = "index.html";

/// Shown when the binary carries no dashboard.
pub const DASHBOARD_NOT_BUILT: &str =
    "the dashboard is not built into this server: run `cargo xtask dashboard`, then rebuild";

/// Shown when the binary carries no widget.
pub const NOT_BUILT: &str =
    "the widget is not built into this server: run `cargo xtask widget`, then rebuild";

const LOADER_CACHE: &str = "public, max-age=300";
const HASHED_CACHE: &str = "public, max-age=31536000, immutable";
const CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

/// The embedded file with this name.
pub fn asset(name: &str) -> Option<&'static Asset> {
    find(ASSETS, name)
}

fn find(table: &'static [Asset], name: &str) -> Option<&'static Asset> {
    table.iter().find(|a| a.name == name)
}

/// `GET /widget.js`.
pub async fn get_loader(headers: HeaderMap) -> Response {
    loader(ASSETS, &headers)
}

/// `GET /widget/{name}`: a file of the widget's manifest (never the loader: its name is not
/// content-hashed, so it must not be cached for a year).
pub async fn get_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    hashed(ASSETS, &name, &headers)
}

fn loader(table: &'static [Asset], headers: &HeaderMap) -> Response {
    match find(table, LOADER) {
        Some(a) => serve(a, headers, LOADER_CACHE),
        None => refuse(ErrorCode::Unavailable, NOT_BUILT),
    }
}

fn hashed(table: &'static [Asset], name: &str, headers: &HeaderMap) -> Response {
    match find(table, name).filter(|a| a.name != LOADER) {
        Some(a) => serve(a, headers, HASHED_CACHE),
        None => refuse(ErrorCode::NotFound, "no such widget file"),
    }
}

/// `GET /app/`: the dashboard's page.
pub async fn get_dashboard_root(headers: HeaderMap) -> Response {
    dashboard(DASHBOARD, "", &headers)
}

/// `GET /app/{*path}`: a dashboard file by its hashed name, or the page.
pub async fn get_dashboard(Path(path): Path<String>, headers: HeaderMap) -> Response {
    dashboard(DASHBOARD, &path, &headers)
}

fn dashboard(table: &'static [Asset], path: &str, headers: &HeaderMap) -> Response {
    if let Some(a) = find(table, path).filter(|a| a.name != INDEX) {
        return encoded(a, headers, HASHED_CACHE);
    }
    // A file name the build does not have (an old tab asking for last release's files): a
    // 404, not the page, so the browser does not run HTML as a script.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.starts_with("cd-") && last.contains('.') {
        return ApiError::new(ErrorCode::NotFound, "no such dashboard file")
            .bare()
            .into_response();
    }
    match find(table, INDEX) {
        Some(a) => encoded(a, headers, "no-cache"),
        None => ApiError::new(ErrorCode::Unavailable, DASHBOARD_NOT_BUILT)
            .bare()
            .into_response(),
    }
}

/// The best encoding the client accepts (brotli, then gzip, then none), with its validator.
fn encoded(a: &'static Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let (body, encoding, etag) = if accepts(headers, "br") {
        (a.br, Some("br"), a.br_etag)
    } else if accepts_gzip(headers) {
        (a.gzip, Some("gzip"), a.gzip_etag)
    } else {
        (a.raw, None, a.etag)
    };
    let fresh = if_none_match(headers, &[a.etag, a.gzip_etag, a.br_etag]);
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        if let Some(e) = encoding {
            r.headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        r
    };
    let h = response.headers_mut();
    if !fresh {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    }
    h.insert(ETAG, HeaderValue::from_static(etag));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

fn serve(a: &'static Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let mut response = encoded(a, headers, cache);
    let h = response.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    // Host pages that isolate themselves (COEP require-corp) may still load the widget.
    h.insert(CORP, HeaderValue::from_static("cross-origin"));
    response
}

fn refuse(code: ErrorCode, message: &str) -> Response {
    let mut response = ApiError::new(code, message).bare().into_response();
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a non-zero quality.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    accepts(headers, "gzip")
}

/// Whether `Accept-Encoding` lists this coding (or `*`) with a non-zero quality.
fn accepts(headers: &HeaderMap, wanted_coding: &str) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut params = part.split(';');
            let coding = params.next().unwrap_or("").trim();
            let wanted = coding.eq_ignore_ascii_case(wanted_coding) || coding == "*";
            let refused = params.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            wanted && !refused
        })
}

/// Whether `If-None-Match` names one of `etags` (weakly compared, as RFC 9110 asks for GET),
/// or is `*`.
fn if_none_match(headers: &HeaderMap, etags: &[&str]) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || etags.contains(&tag.strip_prefix("W/").unwrap_or(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        for yes in [
            "gzip",
            "br, gzip",
            "gzip;q=0.5, br",
            "*",
            "GZIP",
            "deflate, gzip ; q=1",
        ] {
            assert!(accepts_gzip(&headers(ACCEPT_ENCODING, yes)), "{yes}");
        }
        for no in ["", "br", "identity", "gzip;q=0", "gzip; q=0.0", "xgzip"] {
            assert!(!accepts_gzip(&headers(ACCEPT_ENCODING, no)), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etags_match_weakly_in_lists_or_by_star() {
        let tags = ["\"abc\"", "\"abc-gzip\""];
        for yes in ["\"abc\"", "W/\"abc\"", "\"x\", \"abc-gzip\"", "*"] {
            assert!(if_none_match(&headers(IF_NONE_MATCH, yes), &tags), "{yes}");
        }
        for no in ["\"abd\"", "abc", ""] {
            assert!(!if_none_match(&headers(IF_NONE_MATCH, no), &tags), "{no}");
        }
    }

    static FAKE: &[Asset] = &[
        Asset {
            name: LOADER,
            content_type: "text/javascript; charset=utf-8",
            raw: b"loader",
            gzip: b"\x1f\x8bloader",
            br: b"brloader",
            etag: "\"l\"",
            gzip_etag: "\"l-gzip\"",
            br_etag: "\"l-br\"",
        },
        Asset {
            name: "cw-1.wasm",
            content_type: "application/wasm",
            raw: b"wasm",
            gzip: b"\x1f\x8bwasm",
            br: b"brwasm",
            etag: "\"w\"",
            gzip_etag: "\"w-gzip\"",
            br_etag: "\"w-br\"",
        },
    ];

    fn get(r: &Response, name: HeaderName) -> Option<&str> {
        r.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn a_server_without_the_widget_says_how_to_build_it() {
        let r = loader(&[], &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(get(&r, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
        assert!(NOT_BUILT.contains("cargo xtask widget"));
        let r = hashed(&[], "cw-1.wasm", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn files_are_served_with_their_cache_policy_encoding_and_validators() {
        let r = loader(FAKE, &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(get(&r, CACHE_CONTROL), Some(LOADER_CACHE));
        assert_eq!(
            (get(&r, ETAG), get(&r, CONTENT_ENCODING)),
            (Some("\"l\""), None)
        );
        let r = hashed(FAKE, "cw-1.wasm", &headers(ACCEPT_ENCODING, "gzip"));
        assert_eq!(get(&r, CACHE_CONTROL), Some(HASHED_CACHE));
        assert_eq!(get(&r, CONTENT_TYPE), Some("application/wasm"));
        assert_eq!(get(&r, CONTENT_ENCODING), Some("gzip"));
        assert_eq!(get(&r, ETAG), Some("\"w-gzip\""));
        let r = hashed(FAKE, "cw-1.wasm", &headers(IF_NONE_MATCH, "\"w\""));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(get(&r, CONTENT_TYPE), None);
        // The loader's name is not content-hashed: never served with the year-long policy.
        assert_eq!(
            hashed(FAKE, LOADER, &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }

    static FAKE_DASHBOARD: &[Asset] = &[
        Asset {
            name: INDEX,
            content_type: "text/html; charset=utf-8",
            raw: b"<!doctype html>",
            gzip: b"\x1f\x8bhtml",
            br: b"brhtml",
            etag: "\"i\"",
            gzip_etag: "\"i-gzip\"",
            br_etag: "\"i-br\"",
        },
        Asset {
            name: "cd-1.wasm",
            content_type: "application/wasm",
            raw: b"wasm",
            gzip: b"\x1f\x8bwasm",
            br: b"brwasm",
            etag: "\"d\"",
            gzip_etag: "\"d-gzip\"",
            br_etag: "\"d-br\"",
        },
    ];

    #[test]
    fn the_dashboard_page_answers_every_app_path_and_its_files_are_cached_for_a_year() {
        let br = headers(ACCEPT_ENCODING, "gzip, deflate, br");
        for path in ["", "conversations/c1", "tickets", "invite/tok"] {
            let r = dashboard(FAKE_DASHBOARD, path, &br);
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(get(&r, CONTENT_TYPE), Some("text/html; charset=utf-8"));
            assert_eq!(get(&r, CACHE_CONTROL), Some("no-cache"), "{path}");
            assert_eq!(get(&r, CONTENT_ENCODING), Some("br"));
            assert_eq!(get(&r, ETAG), Some("\"i-br\""));
        }
        let r = dashboard(
            FAKE_DASHBOARD,
            "cd-1.wasm",
            &headers(ACCEPT_ENCODING, "gzip"),
        );
        assert_eq!(get(&r, CACHE_CONTROL), Some(HASHED_CACHE));
        assert_eq!(get(&r, CONTENT_ENCODING), Some("gzip"));
        let r = dashboard(
            FAKE_DASHBOARD,
            "cd-1.wasm",
            &headers(IF_NONE_MATCH, "\"d-br\""),
        );
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        // Last release's file names are 404s, never the page.
        let r = dashboard(FAKE_DASHBOARD, "cd-0ld.js", &br);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = dashboard(&[], "", &br);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(DASHBOARD_NOT_BUILT.contains("cargo xtask dashboard"));
    }

    #[test]
    fn brotli_is_chosen_only_when_accepted() {
        assert!(accepts(&headers(ACCEPT_ENCODING, "gzip, br"), "br"));
        assert!(!accepts(&headers(ACCEPT_ENCODING, "gzip"), "br"));
        assert!(!accepts(&headers(ACCEPT_ENCODING, "br;q=0"), "br"));
        let r = serve(&FAKE[1], &headers(ACCEPT_ENCODING, "br"), HASHED_CACHE);
        assert_eq!(get(&r, CONTENT_ENCODING), Some("br"));
        assert_eq!(get(&r, ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    }

    #[test]
    fn embedded_dashboard_files_are_complete_when_present() {
        if DASHBOARD.is_empty() {
            return; // built without the dashboard; the browser test says how to build it
        }
        assert_eq!(DASHBOARD[0].name, INDEX);
        for a in DASHBOARD {
            assert!(!a.raw.is_empty() && !a.br.is_empty(), "{}", a.name);
            assert_eq!(&a.gzip[..2], &[0x1f, 0x8b], "{} gzip magic", a.name);
        }
    }

    #[test]
    fn embedded_files_are_complete_when_present() {
        if ASSETS.is_empty() {
            return; // built without the widget; the integration test says how to build it
        }
        assert_eq!(ASSETS[0].name, LOADER);
        for a in ASSETS {
            assert!(!a.raw.is_empty() && !a.gzip.is_empty(), "{}", a.name);
            assert_eq!(&a.gzip[..2], &[0x1f, 0x8b], "{} gzip magic", a.name);
            assert!(a.etag.len() == 18 && a.gzip_etag.starts_with(&a.etag[..17]));
        }
    }
}
