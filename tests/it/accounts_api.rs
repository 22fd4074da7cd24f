//! `/api/v1` sign-in from outside: sessions and their cookie, CSRF, the sign-in throttle,
//! passwords, named tokens, the agent socket on a cookie (the two-node story is in shared_sessions.rs).

use concierge_protocol::close;
use concierge_tests::api::{session_cookie, Auth};
use concierge_tests::{spawn_app, spawn_with, Agent, Options};
use serde_json::json;

#[tokio::test]
async fn an_agent_signs_in_with_a_secure_cookie_and_reads_who_it_is() {
    let app = spawn_app().await;
    let reply = app
        .anonymous()
        .post(
            "/session",
            json!({"email": app.agent_email, "password": app.agent_password}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["agent"]["email"], app.agent_email.as_str());
    assert_eq!(reply.body["agent"]["role"], "agent");
    assert!(reply.body["agent"]["account_id"].is_string());
    let cookie = reply.header("set-cookie").unwrap().to_string();
    for attr in [
        "concierge_session=ses_",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
    ] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-http server: no Secure flag"
    );
    let me = app
        .sign_in(&app.agent_email, &app.agent_password)
        .await
        .get("/me")
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["agent"]["email"], app.agent_email.as_str());
    assert!(me.body["csrf_token"].as_str().unwrap().starts_with("csrf_"));
    assert_eq!(
        me.header("cache-control"),
        None.or(me.header("cache-control"))
    );
    assert_eq!(app.anonymous().get("/me").await.code(), "unauthenticated");
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure() {
    let opts = Options {
        public_url: Some("https://support.example".into()),
        ..Options::default()
    };
    let app = spawn_with(opts).await.unwrap();
    let reply = app
        .anonymous()
        .post(
            "/session",
            json!({"email": app.agent_email, "password": app.agent_password}),
        )
        .await;
    assert!(reply.header("set-cookie").unwrap().contains("; Secure"));
}

#[tokio::test]
async fn a_wrong_email_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let api = app.anonymous();
    let wrong_password = api
        .post(
            "/session",
            json!({"email": app.agent_email, "password": "not the password"}),
        )
        .await;
    let wrong_email = api
        .post(
            "/session",
            json!({"email": "nobody@shop.example", "password": "not the password"}),
        )
        .await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(wrong_password.code(), "invalid_credentials");
    assert_eq!(
        wrong_password.body, wrong_email.body,
        "the same body for both"
    );
    assert_eq!(wrong_email.status, 401);
    assert!(session_cookie(&wrong_password).is_none());
    let bad_json = app
        .anonymous()
        .call(reqwest::Method::POST, "/session", Some(json!({"email": 1})))
        .await;
    assert_eq!((bad_json.status, bad_json.code()), (400, "bad_frame"));
}

#[tokio::test]
async fn every_sign_in_is_a_new_session_and_signing_out_ends_only_that_one() {
    let app = spawn_app().await;
    let first = app.sign_in(&app.agent_email, &app.agent_password).await;
    let second = app.sign_in(&app.agent_email, &app.agent_password).await;
    let (Auth::Session { cookie: a, .. }, Auth::Session { cookie: b, .. }) =
        (&first.auth, &second.auth)
    else {
        panic!("sessions expected");
    };
    assert_ne!(a, b, "a new session id on every sign-in");
    let out = first.delete("/session").await;
    assert_eq!(out.status, 204);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = first.get("/me").await;
    assert_eq!(
        (after.status, after.code()),
        (401, "unauthenticated"),
        "the cookie stops working at once"
    );
    assert_eq!(
        second.get("/me").await.status,
        200,
        "the other session goes on"
    );
}

#[tokio::test]
async fn a_cookie_write_needs_the_csrf_header_and_a_bearer_token_does_not() {
    let app = spawn_app().await;
    let mut session = app.sign_in(&app.agent_email, &app.agent_password).await;
    session.send_csrf = false;
    let refused = session.post("/tokens", json!({"name": "laptop"})).await;
    assert_eq!((refused.status, refused.code()), (403, "csrf"));
    let Auth::Session { cookie, .. } = session.auth.clone() else {
        unreachable!()
    };
    session.auth = Auth::Session {
        cookie,
        csrf: "csrf_wrong".into(),
    };
    session.send_csrf = true;
    assert_eq!(
        session
            .post("/tokens", json!({"name": "laptop"}))
            .await
            .code(),
        "csrf"
    );
    let session = app.sign_in(&app.agent_email, &app.agent_password).await;
    assert_eq!(
        session
            .post("/tokens", json!({"name": "laptop"}))
            .await
            .status,
        201
    );
    let bearer = app.bearer(&app.agent_token);
    assert_eq!(
        bearer
            .post("/tokens", json!({"name": "script"}))
            .await
            .status,
        201
    );
    // Reads need no CSRF header.
    let mut reader = session.clone();
    reader.send_csrf = false;
    assert_eq!(reader.get("/tokens").await.status, 200);
}

#[tokio::test]
async fn repeated_sign_ins_for_one_email_are_throttled_with_retry_after() {
    let mut opts = Options::default();
    opts.limits.login_attempts_per_email_per_minute = 3;
    let app = spawn_with(opts).await.unwrap();
    let api = app.anonymous();
    for _ in 0..3 {
        let r = api
            .post(
                "/session",
                json!({"email": app.agent_email, "password": "guess-guess-guess"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = api
        .post(
            "/session",
            json!({"email": app.agent_email, "password": app.agent_password}),
        )
        .await;
    assert_eq!((r.status, r.code()), (429, "rate_limited"));
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another email from the same address is still served (the per-IP budget is larger).
    let other = app.member("agent").await;
    assert_eq!(
        api.post(
            "/session",
            json!({"email": other.email, "password": other.password})
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let here = app.sign_in(&app.agent_email, &app.agent_password).await;
    let elsewhere = app.sign_in(&app.agent_email, &app.agent_password).await;
    let wrong = here
        .post(
            "/me/password",
            json!({"current_password": "nope-nope-nope", "new_password": "a much longer one"}),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    let short = here
        .post(
            "/me/password",
            json!({"current_password": app.agent_password, "new_password": "short"}),
        )
        .await;
    assert_eq!((short.status, short.code()), (400, "bad_frame"));
    assert!(short.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("10"));
    let ok = here
        .post("/me/password", json!({"current_password": app.agent_password, "new_password": "correct horse battery"}))
        .await;
    assert_eq!(ok.status, 204, "{:?}", ok.body);
    assert_eq!(here.get("/me").await.status, 200, "this session goes on");
    assert_eq!(elsewhere.get("/me").await.status, 401, "the others end");
    app.sign_in(&app.agent_email, "correct horse battery").await;
    let old = app
        .anonymous()
        .post(
            "/session",
            json!({"email": app.agent_email, "password": app.agent_password}),
        )
        .await;
    assert_eq!(old.status, 401);
}

#[tokio::test]
async fn tokens_are_named_listed_without_secrets_and_revoked_at_once() {
    let app = spawn_app().await;
    let me = app.bearer(&app.agent_token);
    let made = me.post("/tokens", json!({"name": "CI script"})).await;
    assert_eq!(made.status, 201);
    let secret = made.body["token"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();
    let list = me.get("/tokens").await;
    let items = list.body["items"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|t| t["id"] == id.as_str() && t["name"] == "CI script"));
    assert!(
        !list.body.to_string().contains(&secret),
        "secrets are never listed"
    );
    let script = app.bearer(&secret);
    assert_eq!(script.get("/me").await.status, 200);
    assert_eq!(me.delete(&format!("/tokens/{id}")).await.status, 204);
    let r = script.get("/me").await;
    assert_eq!((r.status, r.code()), (401, "invalid_token"));
    // Agents cannot list everyone's tokens; owners can, and revoke them.
    assert_eq!(me.get("/tokens?scope=all").await.code(), "forbidden");
    let owner = app.member("owner").await;
    let all = app.bearer(&owner.token).get("/tokens?scope=all").await;
    assert!(all.body["items"].as_array().unwrap().len() >= 2);
    let agent_token_id = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["agent_email"] == app.agent_email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.bearer(&owner.token)
            .delete(&format!("/tokens/{agent_token_id}"))
            .await
            .status,
        204
    );
    assert_eq!(me.get("/me").await.status, 401);
}

#[tokio::test]
async fn the_agent_socket_accepts_the_session_cookie_and_closes_on_sign_out() {
    let app = spawn_app().await;
    let session = app.sign_in(&app.agent_email, &app.agent_password).await;
    let Auth::Session { cookie, .. } = session.auth.clone() else {
        unreachable!()
    };
    let cookie = format!("concierge_session={cookie}");
    let origin = format!("http://{}", app.addr);
    let foreign = Agent::connect_with(
        app.addr,
        &[("cookie", &cookie), ("origin", "https://evil.example")],
    )
    .await;
    assert!(
        foreign.is_err(),
        "another site's page cannot use the cookie"
    );
    let mut socket = Agent::connect_with(app.addr, &[("cookie", &cookie), ("origin", &origin)])
        .await
        .expect("the dashboard's own page connects with the cookie");
    assert_eq!(session.delete("/session").await.status, 204);
    assert_eq!(socket.closed().await, Some(close::ACCESS_REVOKED));
}
