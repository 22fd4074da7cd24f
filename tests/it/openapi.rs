//! The OpenAPI document: valid OpenAPI 3.1 by a real validator (swagger-parser, pinned in
//! tests/e2e), and in agreement with the served routes: every documented operation reaches
//! its handler (never 405, never the unknown-route fallback), and unknown paths do not.

use concierge_tests::*;
use serde_json::{json, Value};

async fn document(app: &TestApp) -> Value {
    let r = reqwest::get(app.http("/api/v1/openapi.json"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "served without credentials");
    r.json().await.unwrap()
}

#[tokio::test]
#[ignore = "needs the e2e npm packages (npm ci --prefix tests/e2e; cargo xtask test does)"]
async fn the_openapi_document_is_valid_openapi_3_1() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let dir = temp_dir();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let e2e = concierge_tests::package_dir().join("e2e");
    assert!(
        e2e.join("node_modules/@apidevtools/swagger-parser")
            .exists(),
        "run `npm ci --prefix tests/e2e` (cargo xtask test does)"
    );
    let out = std::process::Command::new("node")
        .arg(e2e.join("openapi-validate.mjs"))
        .arg(&file)
        .output()
        .expect("node runs");
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "validator said: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert!(out.status.success());
    // What the dashboard builds on is all there.
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/me/presence",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/signup",
        "/api/v1/invitations",
        "/api/v1/invitations/{token}/accept",
        "/api/v1/password-resets",
        "/api/v1/password-resets/{token}/accept",
        "/api/v1/sites",
        "/api/v1/sites/{site_key}",
        "/api/v1/sites/{site_key}/rotate-key",
        "/api/v1/agents",
        "/api/v1/agents/{id}",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/assign",
        "/api/v1/sites/{site_key}/tickets",
        "/api/v1/sites/{site_key}/tickets/{ticket_id}",
        "/api/v1/sites/{site_key}/documents",
        "/api/v1/sites/{site_key}/documents/{document_id}",
        "/api/v1/sites/{site_key}/jobs/{job_id}",
        "/api/v1/sites/{site_key}/search",
        "/api/v1/sites/{site_key}/knowledge-gaps",
        "/api/v1/sites/{site_key}/escalation-policy",
        "/api/v1/sites/{site_key}/widget-config",
        "/api/v1/usage",
        "/api/v1/audit",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} is not documented");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        doc["paths"]["/api/v1/session"]["post"]["security"],
        json!([{}]),
        "sign-in needs no credentials"
    );
}

#[tokio::test]
async fn every_documented_operation_is_served_and_unknown_paths_are_not() {
    sweep(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_every_documented_operation_is_served_and_guarded() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    sweep(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

/// Calls every documented operation: with an owner's token it reaches its handler; without
/// credentials every operation that needs them answers 401.
async fn sweep(app: &TestApp) {
    let doc = document(app).await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            // Ids nobody has: each call reaches its handler and stops at "no such ...", so
            // nothing real is changed (the session call signs nobody out: it is a bearer).
            let concrete = path
                .trim_start_matches("/api/v1")
                .replace("{site_key}", "site_nobody")
                .replace("{document_id}", "guides/none.md");
            let concrete = regex_lite_replace(&concrete);
            let body = op.get("requestBody").map(|_| json!({}));
            if op["security"] != json!([{}]) {
                let anonymous = app
                    .anonymous()
                    .call(m.clone(), &concrete, body.clone())
                    .await;
                assert_eq!(
                    (anonymous.status, anonymous.code()),
                    (401, "unauthenticated"),
                    "{method} {path} without credentials"
                );
            }
            let r = api.call(m.clone(), &concrete, body).await;
            assert_ne!(
                r.status, 405,
                "{method} {path} is documented but not served"
            );
            assert!(
                !(r.status == 404 && r.body["error"]["message"] == "no such API route"),
                "{method} {path} is documented but not routed"
            );
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} operations");
    for unknown in ["/nope", "/sites/site_nobody/nope", "/conversations/x/nope"] {
        let r = api.get(unknown).await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{unknown}");
        assert_eq!(r.body["error"]["message"], "no such API route");
    }
}

/// Every remaining `{param}` becomes `x`.
fn regex_lite_replace(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('x');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}
