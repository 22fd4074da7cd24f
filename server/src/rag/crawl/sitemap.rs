//! sitemap.xml: how a site tells us which documents belong in its knowledge
//! base. Handles `<urlset>`, nested `<sitemapindex>` (bounded depth and
//! count), and gzip-compressed sitemaps (`.xml.gz`, detected by magic bytes
//! because servers label them inconsistently).
//!
//! Only same-host http(s) URLs are kept: a sitemap is the site owner's
//! statement about *their* site, and following it elsewhere would let one
//! tenant's sitemap make us crawl third parties.

use std::collections::{HashSet, VecDeque};
use std::io::Read;

use url::Url;

use super::transport::{Purpose, Scope};
use super::{parse_http_url, Crawler, FetchError};

/// Index levels followed below the root sitemap: root (0) -> index (1) ->
/// index (2) -> index (3); anything a level-3 index lists is skipped.
pub(super) const MAX_SITEMAP_DEPTH: usize = 3;
/// Sitemap documents fetched per call, so a huge index cannot turn one
/// request into thousands.
pub(super) const MAX_SITEMAP_DOCUMENTS: usize = 50;

/// The `<loc>` entries of one sitemap document.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum SitemapDoc {
    /// `<urlset>`: documents of the site.
    Pages(Vec<String>),
    /// `<sitemapindex>`: more sitemaps.
    Index(Vec<String>),
}

/// Parses one sitemap body, gunzipping it first if needed. `max_bytes` also
/// bounds the decompressed size (a small .gz can inflate enormously).
pub(super) fn parse_sitemap(body: &[u8], max_bytes: usize) -> Result<SitemapDoc, FetchError> {
    let inflated;
    let xml = if body.starts_with(&[0x1f, 0x8b]) {
        inflated = gunzip(body, max_bytes)?;
        &inflated[..]
    } else {
        body
    };
    let text = std::str::from_utf8(xml).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    // roxmltree refuses DTDs by default, which also rules out entity bombs.
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(e.to_string()))?;
    let root = doc.root_element();
    let (entry_tag, wrap): (&str, fn(Vec<String>) -> SitemapDoc) = match root.tag_name().name() {
        "urlset" => ("url", SitemapDoc::Pages),
        "sitemapindex" => ("sitemap", SitemapDoc::Index),
        other => {
            return Err(bad(format!(
                "expected <urlset> or <sitemapindex>, found <{other}>"
            )))
        }
    };
    // Only direct `<loc>` children: extensions nest their own `loc`
    // (`<image:image><image:loc>`), which are not documents.
    let locs = root
        .children()
        .filter(|node| node.has_tag_name(entry_tag))
        .filter_map(|entry| entry.children().find(|node| node.has_tag_name("loc")))
        .map(|loc| {
            loc.children()
                .filter_map(|node| node.text())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .filter(|loc| !loc.is_empty())
        .collect();
    Ok(wrap(locs))
}

fn gunzip(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, FetchError> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("bad gzip data: {e}")))?;
    if out.len() > max_bytes {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    Ok(out)
}

/// The URL is filled in by the caller, which knows it.
fn bad(reason: String) -> FetchError {
    FetchError::BadSitemap {
        url: String::new(),
        reason,
    }
}

/// `loc` as a normalised URL if it is http(s) on `host`, else `None`.
fn same_host(loc: &str, host: &str) -> Option<Url> {
    let mut url = Url::parse(loc).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str() != Some(host) {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

impl Crawler {
    /// Fetches and parses one sitemap document, staying on its host.
    async fn sitemap_doc(&self, url: &Url) -> Result<SitemapDoc, FetchError> {
        let answer = self
            .follow(url.as_str(), Scope::StartHost, Purpose::Document)
            .await?;
        match answer.status {
            200..=299 => {
                parse_sitemap(&answer.body, self.opts.max_bytes).map_err(|err| match err {
                    FetchError::BadSitemap { reason, .. } => FetchError::BadSitemap {
                        url: url.to_string(),
                        reason,
                    },
                    other => other,
                })
            }
            404 => Err(FetchError::NotFound),
            status => Err(FetchError::Http { status }),
        }
    }

    /// Breadth-first walk of a sitemap and the indexes below it. Only the
    /// root must succeed; a broken child sitemap is logged and skipped so one
    /// bad file does not hide the rest of the site.
    pub(super) async fn walk_sitemaps(&self, sitemap_url: &str) -> Result<Vec<String>, FetchError> {
        let root = parse_http_url(sitemap_url)?;
        let host = root.host_str().unwrap_or_default().to_owned();
        let mut pages = Vec::new();
        let mut seen_pages = HashSet::new();
        let mut seen_sitemaps = HashSet::from([root.clone()]);
        let mut queue = VecDeque::from([(root, 0usize)]);
        let mut fetched = 0;
        while let Some((url, depth)) = queue.pop_front() {
            if pages.len() >= self.opts.max_pages {
                break;
            }
            if fetched == MAX_SITEMAP_DOCUMENTS {
                tracing::warn!(%url, "sitemap document limit reached; skipping the rest");
                break;
            }
            fetched += 1;
            let doc = match self.sitemap_doc(&url).await {
                Ok(doc) => doc,
                Err(err) if depth == 0 => return Err(err),
                Err(err) => {
                    tracing::warn!(%url, %err, "skipping unreadable child sitemap");
                    continue;
                }
            };
            match doc {
                SitemapDoc::Pages(locs) => {
                    for page in locs.iter().filter_map(|loc| same_host(loc, &host)) {
                        if pages.len() >= self.opts.max_pages {
                            break;
                        }
                        if seen_pages.insert(page.clone()) {
                            pages.push(page.to_string());
                        }
                    }
                }
                SitemapDoc::Index(_) if depth == MAX_SITEMAP_DEPTH => {
                    tracing::warn!(%url, "sitemap index nested too deeply; not following it");
                }
                SitemapDoc::Index(locs) => {
                    for child in locs.iter().filter_map(|loc| same_host(loc, &host)) {
                        if seen_sitemaps.insert(child.clone()) {
                            queue.push_back((child, depth + 1));
                        }
                    }
                }
            }
        }
        Ok(pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

    #[test]
    fn urlset_locs_are_read_with_entities_and_cdata() {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="{NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
              <url><loc> https://example.com/a?x=1&amp;y=2 </loc><lastmod>2024-01-01</lastmod></url>
              <url><loc><![CDATA[https://example.com/b]]></loc>
                   <image:image><image:loc>https://example.com/pic.png</image:loc></image:image></url>
              <url><loc></loc></url>
            </urlset>"#
        );
        assert_eq!(
            parse_sitemap(xml.as_bytes(), 1 << 20).unwrap(),
            SitemapDoc::Pages(vec![
                "https://example.com/a?x=1&y=2".into(),
                "https://example.com/b".into()
            ])
        );
    }

    #[test]
    fn sitemap_index_lists_child_sitemaps() {
        let xml = format!(
            r#"<sitemapindex xmlns="{NS}"><sitemap><loc>https://example.com/s1.xml</loc></sitemap></sitemapindex>"#
        );
        assert_eq!(
            parse_sitemap(xml.as_bytes(), 1 << 20).unwrap(),
            SitemapDoc::Index(vec!["https://example.com/s1.xml".into()])
        );
    }

    #[test]
    fn html_and_dtd_bodies_are_rejected_as_bad_sitemaps() {
        let dtd =
            r#"<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaa">]><urlset>&a;</urlset>"#;
        for body in ["<html><body>hi</body></html>", dtd, "not xml at all"] {
            assert!(
                matches!(
                    parse_sitemap(body.as_bytes(), 1 << 20),
                    Err(FetchError::BadSitemap { .. })
                ),
                "{body} should be rejected"
            );
        }
    }

    #[test]
    fn gzip_bombs_are_stopped_at_the_size_limit() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![b' '; 4 << 20]).unwrap();
        let gz = encoder.finish().unwrap();
        assert!(gz.len() < 64 << 10);
        assert_eq!(
            parse_sitemap(&gz, 1 << 20),
            Err(FetchError::TooLarge { limit: 1 << 20 })
        );
    }

    #[test]
    fn only_same_host_http_urls_are_kept_without_fragments() {
        let kept = same_host("https://example.com/a#top", "example.com").unwrap();
        assert_eq!(kept.as_str(), "https://example.com/a");
        assert!(same_host("https://other.com/a", "example.com").is_none());
        assert!(same_host("ftp://example.com/a", "example.com").is_none());
        assert!(same_host("/relative", "example.com").is_none());
    }
}
