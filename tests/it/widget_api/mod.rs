//! The widget's server side: the public config (CORS, origins), the owner's settings and
//! identity secret; signed identities and conversations on the visitor socket
//! ([`identity`]); the embedded widget files ([`assets`]).

mod assets;
mod identity;

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::widget::{Identity, WidgetConfig};
use concierge_protocol::ErrorCode;
use concierge_tests::*;
use serde_json::{json, Value};

const EVIL: &str = "https://evil.example";

pub(crate) async fn public_config(
    app: &TestApp,
    site_key: &str,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut req =
        reqwest::Client::new().get(app.http(&format!("/api/widget/config?site_key={site_key}")));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.unwrap()
}

pub(crate) fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `METHOD /api/v1/sites/{site_key}/{path}` with a bearer token: (status, JSON body).
pub(crate) async fn api(
    app: &TestApp,
    method: &str,
    token: &str,
    path: &str,
    body: &str,
) -> (u16, Value) {
    let url = app.http(&format!("/api/v1/sites/{}/{path}", app.site_key));
    let client = reqwest::Client::new();
    let req = match method {
        "GET" => client.get(url),
        "PUT" => client.put(url).body(body.to_string()),
        "POST" => client.post(url),
        other => panic!("method {other}"),
    };
    let r = req.bearer_auth(token).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn identity_secret(app: &TestApp, owner: &str) -> String {
    let (status, body) = api(app, "GET", owner, "identity-secret", "").await;
    assert_eq!(status, 200, "{body}");
    body["identity_secret"].as_str().unwrap().to_string()
}

/// What a site's own backend would send for its signed-in user.
pub(crate) fn signed(secret: &str, user_id: &str) -> Identity {
    Identity {
        user_id: user_id.into(),
        user_hash: concierge::widget::sign(secret, user_id),
        email: Some(format!("{user_id}@customer.example")),
        name: Some("Ada Lovelace".into()),
    }
}

/// Sends a hello and returns the server's answer (a welcome or an error).
pub(crate) async fn hello(
    v: &mut Visitor,
    token: Option<&str>,
    conversation_id: Option<&str>,
    identity: Option<Identity>,
) -> VisitorServerFrame {
    v.send(&VisitorClientFrame::Hello {
        v: 1,
        visitor_token: token.map(str::to_string),
        conversation_id: conversation_id.map(str::to_string),
        last_seq: None,
        identity,
        page_url: None,
        lang: None,
    })
    .await;
    v.next().await.unwrap()
}

pub(crate) fn welcome(frame: VisitorServerFrame) -> Welcome {
    match frame {
        VisitorServerFrame::Welcome {
            visitor_token,
            conversation_id,
            status,
            messages,
        } => Welcome {
            token: visitor_token,
            conversation_id,
            status,
            messages,
        },
        other => panic!("expected welcome, got {other:?}"),
    }
}

pub(crate) fn error_code(frame: VisitorServerFrame) -> ErrorCode {
    match frame {
        VisitorServerFrame::Error { code, message } => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected an error frame, got {other:?}"),
    }
}

#[tokio::test]
async fn the_public_config_answers_allowed_pages_and_tells_others_why_not_with_cors() {
    let app = spawn_app().await;
    let r = public_config(&app, &app.site_key, Some(ORIGIN)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&r, "vary"), Some("Origin"));
    assert_eq!(header(&r, "cache-control"), Some("no-cache"));
    let config: WidgetConfig = r.json().await.unwrap();
    let expected = WidgetConfig {
        site_name: "Test shop".into(),
        ..WidgetConfig::default()
    };
    assert_eq!(config, expected);

    // A page the site does not allow can still read the coded refusal.
    let r = public_config(&app, &app.site_key, Some(EVIL)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(EVIL));
    assert_eq!(header(&r, "vary"), Some("Origin"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "origin_not_allowed");

    for key in ["site_nope", ""] {
        let r = public_config(&app, key, Some(ORIGIN)).await;
        assert_eq!(r.status(), 404, "{key:?}");
        assert_eq!(header(&r, "access-control-allow-origin"), Some(ORIGIN));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "unknown_site");
    }

    // No Origin (a server, curl): answered, with nothing to allow.
    let r = public_config(&app, &app.site_key, None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn owners_change_the_widget_agents_only_read_it_and_it_survives_a_restart() {
    let dir = temp_dir();
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_with(opts.clone()).await.unwrap();
    let owner = app.owner_token().await;
    let (status, body) = api(&app, "GET", &app.agent_token, "widget-config", "").await;
    assert_eq!((status, body["color"].as_str()), (200, Some("#2563eb")));

    let change = r##"{"title": "Help desk", "color": "#FFEB3B", "position": "left",
        "language": "fr", "launcher_icon": "help", "greeting": "Bonjour !"}"##;
    let (status, body) = api(&app, "PUT", &app.agent_token, "widget-config", change).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    for (bad, field) in [
        (r#"{"color": "red"}"#.to_string(), "color"),
        (r##"{"color": "#12345"}"##.to_string(), "color"),
        (r#"{"language": "it"}"#.to_string(), "language"),
        (json!({"title": "t".repeat(81)}).to_string(), "title"),
        (json!({"greeting": "g".repeat(501)}).to_string(), "greeting"),
        (r#"{"bogus": true}"#.to_string(), "bogus"),
        (r#"{"position": "top"}"#.to_string(), "position"),
        ("not json".to_string(), "JSON"),
    ] {
        let (status, body) = api(&app, "PUT", &owner, "widget-config", &bad).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("bad_frame")),
            "{bad}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{bad}: {message}");
    }
    let (_, body) = api(&app, "GET", &owner, "widget-config", "").await;
    assert_eq!(body["title"], "", "a refused config changes nothing");

    let (status, body) = api(&app, "PUT", &owner, "widget-config", change).await;
    assert_eq!(status, 200, "{body}");
    let saved: WidgetConfig = serde_json::from_value(body).unwrap();
    assert_eq!(
        (
            saved.title.as_str(),
            saved.color.as_str(),
            saved.on_color.as_str()
        ),
        ("Help desk", "#ffeb3b", "#000000"),
        "stored lower-case, with readable text on it"
    );
    assert_eq!(saved.site_name, "Test shop");
    let site_key = app.site_key.clone();
    app.shutdown().await;

    let app = spawn_with(opts).await.unwrap();
    let r = public_config(&app, &site_key, Some(ORIGIN)).await;
    let config: WidgetConfig = r.json().await.unwrap();
    assert_eq!(config, saved, "the config outlives a restart");
}

#[tokio::test]
async fn the_identity_secret_is_for_owners_made_once_and_rotates() {
    let app = spawn_app().await;
    let owner = app.owner_token().await;
    for path in ["identity-secret", "identity-secret/rotate"] {
        let method = if path.ends_with("rotate") {
            "POST"
        } else {
            "GET"
        };
        let (status, body) = api(&app, method, &app.agent_token, path, "").await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );
    }
    let first = identity_secret(&app, &owner).await;
    assert_eq!(first.len(), 64);
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(identity_secret(&app, &owner).await, first);
    let (status, body) = api(&app, "POST", &owner, "identity-secret/rotate", "").await;
    assert_eq!(status, 200);
    let second = body["identity_secret"].as_str().unwrap().to_string();
    assert_ne!(second, first);
    assert_eq!(identity_secret(&app, &owner).await, second);
}
