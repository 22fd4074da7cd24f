//! Hardening: the widget config's CORS preflight, security headers, `/metrics` behind a token
//! or a private listener, invalid UTF-8 on the sockets, and out-of-range ports in origins.

use concierge_tests::*;
use futures_util::SinkExt;
use reqwest::Method;
use serde_json::Value;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

const EVIL: &str = "https://evil.example";

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// A refusal's body: exactly `{code, message}`, nothing internal beside it. Returns the code.
async fn refusal_code(r: reqwest::Response) -> String {
    let body: Value = r.json().await.unwrap();
    let fields = body.as_object().expect("a JSON object");
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["code", "message"], "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    body["code"].as_str().unwrap().to_string()
}

/// What a browser sends before a `fetch` of the config with a JSON content type.
async fn preflight(app: &TestApp, site_key: &str, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(
            Method::OPTIONS,
            app.http(&format!("/api/widget/config?site_key={site_key}")),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_widget_config_preflight_is_granted_to_allowed_pages_only() {
    let app = spawn_app().await;
    let r = preflight(&app, &app.site_key, ORIGIN).await;
    assert_eq!(r.status(), 204);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(
        header(&r, "access-control-allow-methods"),
        Some("GET, OPTIONS")
    );
    let allowed = header(&r, "access-control-allow-headers").unwrap();
    assert!(
        allowed.to_ascii_lowercase().contains("content-type"),
        "{allowed}"
    );
    let max_age: u32 = header(&r, "access-control-max-age")
        .unwrap()
        .parse()
        .unwrap();
    assert!(max_age > 0);
    assert_eq!(header(&r, "vary"), Some("Origin"));

    // A page the site does not allow, or an unknown key: the GET's refusal, and no grant.
    for (key, origin, status, code) in [
        (app.site_key.as_str(), EVIL, 403, "origin_not_allowed"),
        ("site_nope", ORIGIN, 404, "unknown_site"),
        ("", ORIGIN, 404, "unknown_site"),
    ] {
        let r = preflight(&app, key, origin).await;
        assert_eq!(r.status(), status, "{key:?} {origin}");
        assert_eq!(header(&r, "access-control-allow-origin"), None);
        assert_eq!(header(&r, "access-control-allow-methods"), None);
        assert_eq!(header(&r, "vary"), Some("Origin"));
        assert_eq!(refusal_code(r).await, code);
    }

    // The GET still lets a refused page read why (the widget shows it), and says no more.
    let r = reqwest::Client::new()
        .get(app.http(&format!("/api/widget/config?site_key={}", app.site_key)))
        .header("origin", EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(EVIL));
    assert_eq!(refusal_code(r).await, "origin_not_allowed");
}

#[tokio::test]
async fn every_answer_says_nosniff_and_credentialed_api_answers_are_never_stored() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let config = app.http(&format!("/api/widget/config?site_key={}", app.site_key));
    for url in [app.http("/healthz"), app.http("/nowhere"), config.clone()] {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(
            header(&r, "x-content-type-options"),
            Some("nosniff"),
            "{url}"
        );
    }

    let tickets = app.http(&format!("/api/v1/sites/{}/tickets", app.site_key));
    let r = http
        .get(&tickets)
        .bearer_auth(&app.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    // Refusals of credentialed requests are not stored either.
    let r = http.get(&tickets).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));
    let r = http
        .get(&tickets)
        .header("cookie", "session=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "cache-control"), Some("no-store"));

    // A handler's own caching stands; outside /api/ nothing is added.
    let r = http
        .get(&config)
        .header("origin", ORIGIN)
        .header("cookie", "session=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "cache-control"), Some("no-cache"));
    let r = http
        .get(app.http("/healthz"))
        .bearer_auth(&app.agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "cache-control"), None);
}

#[tokio::test]
async fn metrics_on_the_main_listener_answer_only_the_metrics_token() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let r = http.get(app.http("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(refusal_code(r).await, "invalid_token");
    for wrong in ["wrong", "test-metrics", &app.agent_token] {
        let r = http
            .get(app.http("/metrics"))
            .bearer_auth(wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{wrong}");
    }
    assert!(app
        .metrics()
        .await
        .contains("concierge_frames_received_total"));
}

#[tokio::test]
async fn without_a_metrics_token_the_main_listener_has_no_metrics() {
    let app = spawn_with(Options {
        metrics_token: None,
        ..Options::default()
    })
    .await
    .unwrap();
    assert_eq!(app.metrics_port, None);
    let http = reqwest::Client::new();
    for token in ["", METRICS_TOKEN] {
        let mut req = http.get(app.http("/metrics"));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        assert_eq!(req.send().await.unwrap().status(), 404, "{token:?}");
    }
}

#[tokio::test]
async fn the_private_metrics_listener_serves_only_metrics_and_stops_with_the_app() {
    let app = spawn_with(Options {
        metrics_token: None,
        metrics_listen: Some("127.0.0.1:0".into()),
        ..Options::default()
    })
    .await
    .unwrap();
    let port = app.metrics_port.expect("a metrics listener");
    assert_ne!(port, app.addr.port());
    let private = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let http = reqwest::Client::new();
    let r = http.get(private("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-content-type-options"), Some("nosniff"));
    assert!(r.text().await.unwrap().contains("concierge_open_sockets"));
    for path in ["/healthz", "/ws/visitor", "/api/widget/config"] {
        let r = http.get(private(path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = http.get(app.http("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 404, "not on the main listener without a token");

    app.shutdown().await;
    assert!(
        http.get(private("/metrics")).send().await.is_err(),
        "the metrics listener closes with the app"
    );
}

/// A masked text frame whose payload is not UTF-8: `{`, then bytes no UTF-8 text contains.
fn invalid_utf8_text() -> WsMessage {
    let payload = vec![b'{', 0xff, 0xfe, 0xc3, b'}'];
    WsMessage::Frame(Frame::message(payload, OpCode::Data(Data::Text), true))
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_either_socket_with_1007() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.ws.send(invalid_utf8_text()).await.unwrap();
    assert_eq!(v.closed().await, Some(1007), "visitor socket");

    let mut agent = app.agent().await;
    agent.ws.send(invalid_utf8_text()).await.unwrap();
    assert_eq!(agent.closed().await, Some(1007), "agent socket");
}

#[tokio::test]
async fn a_port_wildcard_origin_refuses_ports_over_65535() {
    let app = spawn_app().await;
    let local = concierge::accounts::create_site(
        &app.app.chat.store,
        "Local dev",
        &["http://localhost:*".to_string()],
        None,
    )
    .await
    .unwrap();
    let url = app.visitor_url(&local.site_key);
    let err = Visitor::connect(&url, Some("http://localhost:99999"))
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status, 403);
    assert_eq!(err.body["code"], "origin_not_allowed");
    // The same pattern still lets a real port in.
    let mut v = Visitor::connect(&url, Some("http://localhost:3000"))
        .await
        .expect("a real port connects");
    v.hello(None, None, None).await.unwrap();
}
