//! Crawler behaviour against a real local website (see `site`).

mod site;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use futures_util::StreamExt;

use super::*;
use site::{serve, ROBOTS, TEST_MAX_BYTES};

fn options() -> CrawlOptions {
    CrawlOptions {
        delay: Duration::ZERO,
        max_bytes: TEST_MAX_BYTES,
        timeout: Duration::from_secs(5),
        allow_private: true,
        ..CrawlOptions::default()
    }
}

fn crawler(opts: CrawlOptions) -> Crawler {
    Crawler::new(opts).unwrap()
}

async fn crawl_all(
    crawler: &Crawler,
    urls: Vec<String>,
) -> HashMap<String, Result<FetchedPage, FetchError>> {
    crawler.crawl(urls).collect().await
}

#[tokio::test]
async fn sitemap_index_walk_keeps_same_host_pages_once_and_skips_broken_children() {
    let site = serve((StatusCode::OK, ROBOTS), 0).await;
    let crawler = crawler(options());
    let urls = crawler
        .sitemap_urls(&site.url("/sitemap_index.xml"))
        .await
        .unwrap();
    let expected: Vec<String> = [
        "/docs/ok-1",
        "/docs/ok-2",
        "/docs/missing",
        "/docs/huge",
        "/docs/endless",
        "/private/secret",
        "/docs/moved",
        "/docs/away",
        "/docs/ok-4",
    ]
    .iter()
    .map(|p| site.url(p))
    .collect();
    assert_eq!(urls, expected);
    assert!(site.paths().contains(&"/sitemaps/broken.xml".to_owned()));
}

#[tokio::test]
async fn crawling_the_sitemap_fetches_good_pages_and_names_each_failure() {
    let site = serve((StatusCode::OK, ROBOTS), 0).await;
    let crawler = crawler(options());
    let urls = crawler
        .sitemap_urls(&site.url("/sitemap_index.xml"))
        .await
        .unwrap();
    let results = crawl_all(&crawler, urls).await;
    let result = |path: &str| results[&site.url(path)].clone();

    for path in ["/docs/ok-1", "/docs/ok-2", "/docs/ok-4"] {
        let page = result(path).unwrap();
        assert_eq!(page.url, site.url(path));
        assert_eq!(page.bytes, format!("<h1>{path}</h1>").into_bytes());
        assert_eq!(
            page.content_type.as_deref(),
            Some("text/html; charset=utf-8")
        );
    }
    assert_eq!(result("/docs/moved").unwrap().url, site.url("/docs/ok-3"));
    assert_eq!(result("/docs/missing"), Err(FetchError::NotFound));
    let too_large = Err(FetchError::TooLarge {
        limit: TEST_MAX_BYTES,
    });
    assert_eq!(result("/docs/huge"), too_large);
    assert_eq!(result("/docs/endless"), too_large);
    assert!(matches!(
        result("/private/secret"),
        Err(FetchError::DisallowedByRobots { .. })
    ));
    assert!(matches!(
        result("/docs/away"),
        Err(FetchError::OffHost { .. })
    ));
    assert_eq!(results.values().filter(|r| r.is_ok()).count(), 4);
    assert!(!site.paths().iter().any(|p| p.starts_with("/private/")));
}

#[tokio::test]
async fn a_single_fetch_may_follow_a_redirect_to_another_host() {
    let site = serve((StatusCode::OK, ROBOTS), 0).await;
    let page = crawler(options())
        .fetch(&site.url("/docs/away"))
        .await
        .unwrap();
    assert!(page.url.starts_with("http://localhost:"), "{}", page.url);
    assert!(page.url.ends_with("/docs/ok-1"));
}

#[tokio::test]
async fn the_page_cap_limits_sitemap_walks_and_crawls() {
    let site = serve((StatusCode::NOT_FOUND, ""), 0).await;
    let crawler = crawler(CrawlOptions {
        max_pages: 3,
        ..options()
    });
    let urls = crawler.sitemap_urls(&site.url("/many.xml")).await.unwrap();
    assert_eq!(urls.len(), 3);

    let ten: Vec<String> = (0..10).map(|i| site.url(&format!("/docs/p{i}"))).collect();
    assert_eq!(crawl_all(&crawler, ten).await.len(), 3);
    let pages_fetched = site
        .paths()
        .iter()
        .filter(|p| p.starts_with("/docs/"))
        .count();
    assert_eq!(pages_fetched, 3);
}

#[tokio::test]
async fn sitemap_indexes_nested_deeper_than_three_levels_are_not_followed() {
    let site = serve((StatusCode::NOT_FOUND, ""), 0).await;
    let urls = crawler(options())
        .sitemap_urls(&site.url("/nest/0.xml"))
        .await
        .unwrap();
    let levels: Vec<String> = (0..3)
        .map(|l| site.url(&format!("/docs/level-{l}")))
        .collect();
    assert_eq!(urls, levels);
    assert!(!site.paths().contains(&"/nest/4.xml".to_owned()));
}

#[tokio::test]
async fn no_more_pages_are_in_flight_than_the_concurrency_bound() {
    let concurrency = 3;
    let site = serve((StatusCode::NOT_FOUND, ""), concurrency).await;
    let crawler = crawler(CrawlOptions {
        concurrency,
        ..options()
    });
    let urls: Vec<String> = (0..12).map(|i| site.url(&format!("/docs/p{i}"))).collect();
    let results = crawl_all(&crawler, urls).await;
    assert!(results.values().all(Result::is_ok));
    // The site holds each page until `concurrency` were seen at once, so the
    // peak is exactly the bound: lower means no parallelism, higher a leak.
    assert_eq!(site.max_in_flight.load(Ordering::SeqCst), concurrency);
}

#[tokio::test]
async fn requests_to_one_host_are_separated_by_the_politeness_delay() {
    let delay = Duration::from_millis(150);
    let site = serve((StatusCode::OK, ROBOTS), 0).await;
    let crawler = crawler(CrawlOptions {
        delay,
        concurrency: 4,
        ..options()
    });
    let urls: Vec<String> = (0..5).map(|i| site.url(&format!("/docs/p{i}"))).collect();
    assert!(crawl_all(&crawler, urls).await.values().all(Result::is_ok));
    let gaps = site.gaps("/");
    assert_eq!(gaps.len(), 5, "robots.txt and five pages");
    assert!(gaps.iter().all(|gap| *gap >= delay), "{gaps:?}");
    assert_eq!(site.max_in_flight.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_crawl_delay_in_robots_txt_raises_the_politeness_delay() {
    let site = serve((StatusCode::OK, "User-agent: *\nCrawl-delay: 0.3\n"), 0).await;
    let crawler = crawler(options());
    let urls: Vec<String> = (0..3).map(|i| site.url(&format!("/docs/p{i}"))).collect();
    assert!(crawl_all(&crawler, urls).await.values().all(Result::is_ok));
    let gaps = site.gaps("/docs/");
    assert_eq!(gaps.len(), 2);
    assert!(
        gaps.iter().all(|gap| *gap >= Duration::from_millis(300)),
        "{gaps:?}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let site = serve((StatusCode::OK, ROBOTS), 0).await;
    let guarded = crawler(CrawlOptions {
        allow_private: false,
        ..options()
    });
    let by_name = site.url("/docs/ok-1").replace("127.0.0.1", "localhost");
    for url in [site.url("/docs/ok-1"), by_name, "http://[::1]:9/".into()] {
        assert!(
            matches!(
                guarded.fetch(&url).await,
                Err(FetchError::PrivateAddress { .. })
            ),
            "{url} should be refused"
        );
    }
    assert!(matches!(
        guarded.sitemap_urls(&site.url("/sitemap_index.xml")).await,
        Err(FetchError::PrivateAddress { .. })
    ));
    assert!(site.paths().is_empty(), "nothing may reach the server");
    assert!(crawler(options())
        .fetch(&site.url("/docs/ok-1"))
        .await
        .is_ok());
}

#[tokio::test]
async fn a_missing_robots_txt_allows_everything_and_a_failing_one_blocks_the_site() {
    let open = serve((StatusCode::NOT_FOUND, ""), 0).await;
    assert!(crawler(options())
        .fetch(&open.url("/private/x"))
        .await
        .is_ok());

    let failing = serve((StatusCode::SERVICE_UNAVAILABLE, ""), 0).await;
    let crawler = crawler(options());
    for path in ["/docs/ok-1", "/docs/ok-2"] {
        assert!(matches!(
            crawler.fetch(&failing.url(path)).await,
            Err(FetchError::RobotsUnavailable { .. })
        ));
    }
    assert_eq!(
        failing.paths(),
        ["/robots.txt"],
        "robots.txt is asked once, pages never"
    );
}

#[tokio::test]
async fn redirect_loops_and_slow_pages_fail_with_their_own_reasons() {
    let site = serve((StatusCode::NOT_FOUND, ""), 0).await;
    let crawler = crawler(CrawlOptions {
        timeout: Duration::from_millis(300),
        ..options()
    });
    assert_eq!(
        crawler.fetch(&site.url("/docs/loop")).await,
        Err(FetchError::TooManyRedirects { limit: 5 })
    );
    let loop_hops = site.paths().iter().filter(|p| *p == "/docs/loop").count();
    assert_eq!(loop_hops, 6, "the first request and five redirects");
    assert_eq!(
        crawler.fetch(&site.url("/docs/slow")).await,
        Err(FetchError::Timeout)
    );
}

#[tokio::test]
async fn non_http_and_malformed_urls_are_refused_before_any_request() {
    let crawler = crawler(options());
    assert_eq!(
        crawler.fetch("file:///etc/passwd").await,
        Err(FetchError::UnsupportedScheme {
            scheme: "file".into()
        })
    );
    assert!(matches!(
        crawler.fetch("not a url").await,
        Err(FetchError::BadUrl { .. })
    ));
    assert!(matches!(
        crawler.fetch("http://").await,
        Err(FetchError::BadUrl { .. })
    ));
}

#[test]
fn sitemap_urls_are_recognised_by_their_path() {
    for url in [
        "https://example.com/sitemap.xml",
        "https://example.com/sitemap_index.xml",
        "https://example.com/docs/pages.xml.gz",
        "https://example.com/SiteMap/page-1",
    ] {
        assert!(is_sitemap_url(url), "{url}");
    }
    for url in [
        "https://example.com/docs/faq",
        "https://example.com/?q=sitemap",
        "sitemap.xml",
    ] {
        assert!(!is_sitemap_url(url), "{url}");
    }
}

#[tokio::test]
async fn a_shared_crawler_can_work_on_spawned_tasks() {
    let site = serve((StatusCode::NOT_FOUND, ""), 0).await;
    let crawler = std::sync::Arc::new(crawler(options()));
    let (one, all) = (crawler.clone(), crawler.clone());
    let url = site.url("/docs/ok-1");
    let single = tokio::spawn(async move { one.fetch(&url).await });
    let urls = vec![site.url("/docs/ok-2")];
    let many = tokio::spawn(async move { all.crawl(urls).collect::<Vec<_>>().await });
    assert!(single.await.unwrap().is_ok());
    assert!(many.await.unwrap()[0].1.is_ok());
}
