//! The console's widget preview: unsaved settings validated like a save and shown by the real
//! widget on a page of this server, under a `preview~TOKEN` key that works from this server's
//! own pages only and never changes the saved settings.

use concierge_tests::*;
use serde_json::json;

#[tokio::test]
async fn a_preview_shows_unsaved_settings_on_this_servers_own_pages_only() {
    let app = spawn_app().await;
    let site_key = app.site_key.clone();
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let path = format!("/sites/{site_key}/widget-preview");

    // Validated like a save: nothing stored for a bad value.
    let r = api.post(&path, json!({"color": "blue"})).await;
    assert_eq!((r.status, r.code()), (400, "bad_frame"), "{:?}", r.body);
    let r = api.post(&path, json!({"colour": "#b4237a"})).await;
    assert_eq!(r.status, 400, "unknown fields are refused: {:?}", r.body);
    let agent = app.member("agent").await;
    let r = app
        .bearer(&agent.token)
        .post(&path, json!({"color": "#b4237a"}))
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));

    let r = api
        .post(&path, json!({"color": "#B4237A", "title": "Shoe help"}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["config"]["color"], "#b4237a");
    assert_eq!(r.body["config"]["on_color"], "#ffffff", "the contrast rule");
    let url = r.body["url"].as_str().unwrap().to_string();
    let token = url
        .strip_prefix("/widget-preview/")
        .expect("a preview page");
    assert!(token.len() >= 32 && token.chars().all(|c| c.is_ascii_alphanumeric()));

    // The page: the real loader with the preview key, its own CSP, framable by the dashboard.
    let http = reqwest::Client::new();
    let page = http.get(app.http(&url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("data-site-key=\"preview~{token}\"")),
        "{html}"
    );
    assert!(html.contains("src=\"/widget.js\""), "{html}");
    let missing = http
        .get(app.http("/widget-preview/nosuchtoken"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The config under the preview key: the draft, from this server's pages (no Origin, or
    // its own); another site's page gets 403.
    let config = |origin: Option<String>| {
        let mut req = http.get(app.http(&format!("/api/widget/config?site_key=preview~{token}")));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let own = config(None).await.unwrap();
    assert_eq!(own.status(), 200);
    let draft: serde_json::Value = own.json().await.unwrap();
    assert_eq!(
        (draft["color"].as_str(), draft["title"].as_str()),
        (Some("#b4237a"), Some("Shoe help"))
    );
    let own_origin = app.http("").trim_end_matches('/').to_string();
    assert_eq!(
        config(Some(own_origin.clone())).await.unwrap().status(),
        200
    );
    let foreign = config(Some(ORIGIN.to_string())).await.unwrap();
    assert_eq!(foreign.status(), 403, "a host page cannot read drafts");
    let unknown = http
        .get(app.http("/api/widget/config?site_key=preview~nosuchtoken"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // The visitor socket: the site of the draft from this server's own page; never from
    // another origin (not even an allowed one).
    let socket = app.visitor_url(&format!("preview~{token}"));
    assert_eq!(
        Visitor::connect(&socket, Some(ORIGIN))
            .await
            .err()
            .map(|r| r.status),
        Some(403)
    );
    let mut v = Visitor::connect(&socket, Some(&own_origin))
        .await
        .expect("the preview's widget connects");
    v.hello(None, None, None)
        .await
        .expect("the preview's widget is welcomed");

    // Every change makes a draft; a site keeps its newest 20.
    let mut urls = Vec::new();
    for i in 0..25 {
        let r = api
            .post(&path, json!({"title": format!("Draft {i}")}))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        urls.push(r.body["url"].as_str().unwrap().to_string());
    }
    for (i, expected) in [(0, 404), (5, 200), (24, 200)] {
        let got = http.get(app.http(&urls[i])).send().await.unwrap().status();
        assert_eq!(got, expected, "draft {i}: the oldest are dropped");
    }

    // The saved settings did not change.
    let saved = api.get(&format!("/sites/{site_key}/widget-config")).await;
    assert_eq!(saved.status, 200);
    assert_ne!(saved.body["color"], "#b4237a");
    assert_ne!(saved.body["title"], "Shoe help");
    app.shutdown().await;
}
