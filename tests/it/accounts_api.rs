//! `/api/v1` sign-in, sessions, CSRF, tokens, invitations, resets, sign-up, roles and the
//! audit log, from outside, on SQLite.

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
async fn an_invitation_link_works_once_and_signs_the_new_agent_in() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let invite = api
        .post(
            "/invitations",
            json!({"email": "New.Person@Shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!(invite.status, 201, "{:?}", invite.body);
    let token = invite.body["token"].as_str().unwrap().to_string();
    assert!(invite.body["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/app/invite/{token}")));
    assert_eq!(invite.body["email"], "new.person@shop.example");
    let pending = api.get("/invitations").await;
    assert_eq!(pending.body["items"][0]["email"], "new.person@shop.example");
    let weak = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Nia", "password": "short"}),
        )
        .await;
    assert_eq!(weak.status, 400, "a weak password does not use up the link");
    let accepted = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Nia", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    assert_eq!(accepted.body["agent"]["name"], "Nia");
    assert_eq!(accepted.body["agent"]["role"], "agent");
    assert!(session_cookie(&accepted).is_some(), "signed in");
    let again = app
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Eve", "password": "a long enough password"}),
        )
        .await;
    assert_eq!((again.status, again.code()), (404, "not_found"));
    app.sign_in("new.person@shop.example", "a long enough password")
        .await;
    let twice = api
        .post(
            "/invitations",
            json!({"email": "new.person@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!((twice.status, twice.code()), (409, "conflict"));
}

#[tokio::test]
async fn only_owners_invite_owners_and_agents_invite_nobody() {
    let app = spawn_app().await;
    let admin = app.member("admin").await;
    let r = app
        .bearer(&admin.token)
        .post(
            "/invitations",
            json!({"email": "boss@shop.example", "role": "owner"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    assert_eq!(
        app.bearer(&admin.token)
            .post(
                "/invitations",
                json!({"email": "a@shop.example", "role": "admin"})
            )
            .await
            .status,
        201
    );
    let r = app
        .bearer(&app.agent_token)
        .post(
            "/invitations",
            json!({"email": "b@shop.example", "role": "agent"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let r = app
        .bearer(&admin.token)
        .post(
            "/invitations",
            json!({"email": "c@shop.example", "role": "emperor"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "bad_frame"));
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_and_ends_every_session() {
    let app = spawn_app().await;
    let old_session = app.sign_in(&app.agent_email, &app.agent_password).await;
    // Self-service: the same 202 whether or not the email exists.
    for email in [app.agent_email.as_str(), "ghost@shop.example"] {
        assert_eq!(
            app.anonymous()
                .post("/password-resets", json!({"email": email}))
                .await
                .status,
            202
        );
    }
    let admin = app.member("admin").await;
    let agents = app.bearer(&admin.token).get("/agents").await;
    let id = agents.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == app.agent_email.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = app
        .bearer(&admin.token)
        .post(&format!("/agents/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(link.status, 201, "{:?}", link.body);
    let token = link.body["token"].as_str().unwrap();
    let done = app
        .anonymous()
        .post(
            &format!("/password-resets/{token}/accept"),
            json!({"password": "brand new password"}),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert_eq!(
        old_session.get("/me").await.status,
        401,
        "sessions end on reset"
    );
    app.sign_in(&app.agent_email, "brand new password").await;
    let reused = app
        .anonymous()
        .post(
            &format!("/password-resets/{token}/accept"),
            json!({"password": "another new password"}),
        )
        .await;
    assert_eq!(reused.status, 404);
}

#[tokio::test]
async fn sign_up_is_closed_by_default_and_open_sign_up_makes_a_free_account() {
    let body = json!({"email": "founder@new.example", "password": "founder password",
        "account_name": "New Co", "site_name": "New site", "origin": "https://new.example"});
    let closed = spawn_app().await;
    let r = closed.anonymous().post("/signup", body.clone()).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let opts = Options {
        signup_open: true,
        ..Options::default()
    };
    let app = spawn_with(opts).await.unwrap();
    let r = app.anonymous().post("/signup", body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["agent"]["role"], "owner");
    assert_eq!(r.body["site"]["allowed_origins"][0], "https://new.example");
    let cookie = session_cookie(&r).unwrap();
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    let owner = concierge_tests::api::Api::new(&app, Auth::Session { cookie, csrf });
    let usage = owner.get("/usage").await;
    assert_eq!(usage.body["plan"]["name"], "free");
    assert_eq!(usage.body["sites"]["used"], 1);
    // The new owner sees only their own site, not the test shop.
    let sites = owner.get("/sites").await;
    assert_eq!(sites.body["items"].as_array().unwrap().len(), 1);
    let again = app.anonymous().post("/signup", body).await;
    assert_eq!(again.code(), "conflict");
}

#[tokio::test]
async fn removing_an_agent_ends_its_sessions_tokens_and_open_socket_at_once() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let victim = app.member("agent").await;
    let session = app.sign_in(&victim.email, &victim.password).await;
    let mut socket = Agent::connect(app.addr, &victim.token)
        .await
        .expect("socket");
    let r = app
        .bearer(&owner.token)
        .delete(&format!("/agents/{}", victim.id))
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    assert_eq!(socket.closed().await, Some(close::ACCESS_REVOKED));
    assert_eq!(session.get("/me").await.status, 401);
    assert_eq!(app.bearer(&victim.token).get("/me").await.status, 401);
    let again = app
        .anonymous()
        .post(
            "/session",
            json!({"email": victim.email, "password": victim.password}),
        )
        .await;
    assert_eq!(again.status, 401);
    let audit = app
        .bearer(&owner.token)
        .get("/audit?action=agent_removed")
        .await;
    assert_eq!(audit.body["items"][0]["target"], victim.email.as_str());
    assert_eq!(audit.body["items"][0]["actor_email"], owner.email.as_str());
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

#[tokio::test]
async fn roles_decide_who_manages_sites_agents_and_the_audit_log() {
    let app = spawn_app().await;
    let agent = app.bearer(&app.agent_token);
    let admin_member = app.member("admin").await;
    let admin = app.bearer(&admin_member.token);
    let site = json!({"name": "Second", "allowed_origins": ["https://second.example"]});
    assert_eq!(agent.post("/sites", site.clone()).await.code(), "forbidden");
    assert_eq!(agent.get("/audit").await.code(), "forbidden");
    assert_eq!(
        agent.get("/sites").await.status,
        200,
        "agents see their sites"
    );
    let made = admin.post("/sites", site).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let bad = admin
        .post(
            "/sites",
            json!({"name": "X", "allowed_origins": ["http://localhost:99999"]}),
        )
        .await;
    assert_eq!(bad.code(), "bad_frame");
    // Admins cannot touch owners; nobody demotes the last owner.
    let owner = app.member("owner").await;
    let r = admin
        .patch(&format!("/agents/{}", owner.id), json!({"role": "agent"}))
        .await;
    assert_eq!(r.code(), "forbidden");
    let r = app
        .bearer(&owner.token)
        .patch(&format!("/agents/{}", owner.id), json!({"role": "admin"}))
        .await;
    assert_eq!(r.code(), "forbidden", "{:?}", r.body);
    let r = admin
        .patch(
            &format!("/agents/{}", admin_member.id),
            json!({"role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["role"], "agent");
    assert_eq!(
        admin.get("/audit").await.code(),
        "forbidden",
        "the new role applies at once"
    );
    let log = app
        .bearer(&owner.token)
        .get("/audit?action=role_changed")
        .await;
    assert_eq!(
        log.body["items"][0]["detail"],
        json!({"from": "admin", "to": "agent"})
    );
}

#[tokio::test]
async fn a_rotated_site_key_is_refused_at_once_and_sites_can_be_renamed() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let r = api
        .post(&format!("/sites/{}/rotate-key", app.site_key), json!({}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let new_key = r.body["site_key"].as_str().unwrap().to_string();
    assert_ne!(new_key, app.site_key);
    let old = concierge_tests::Visitor::connect(
        &app.visitor_url(&app.site_key),
        Some(concierge_tests::ORIGIN),
    )
    .await;
    assert!(old.is_err(), "the old key is refused");
    concierge_tests::Visitor::connect(&app.visitor_url(&new_key), Some(concierge_tests::ORIGIN))
        .await
        .expect("new key works");
    let renamed = api.patch(&format!("/sites/{new_key}"), json!({"name": "Renamed", "allowed_origins": ["https://a.example", "http://localhost:*"]})).await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "Renamed");
    assert_eq!(renamed.body["allowed_origins"][1], "http://localhost:*");
    let log = api.get("/audit").await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"site_key_rotated") && actions.contains(&"site_updated"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_failures_newest_first_in_pages() {
    let app = spawn_app().await;
    let owner = app.member("owner").await;
    let api = app.anonymous();
    api.post(
        "/session",
        json!({"email": owner.email, "password": "wrong wrong wrong"}),
    )
    .await;
    for _ in 0..3 {
        app.sign_in(&owner.email, &owner.password).await;
    }
    let admin = app.bearer(&owner.token);
    let page1 = admin.get("/audit?limit=2").await;
    let items = page1.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "login");
    let cursor = page1.body["next_cursor"].as_str().unwrap();
    let page2 = admin.get(&format!("/audit?limit=2&cursor={cursor}")).await;
    let rest = page2.body["items"].as_array().unwrap();
    assert!(rest
        .iter()
        .any(|e| e["action"] == "login_failed" || e["action"] == "login"));
    assert!(
        rest.iter()
            .all(|e| !items.iter().any(|i| i["id"] == e["id"])),
        "pages do not overlap"
    );
    let failed = admin.get("/audit?action=login_failed").await;
    assert_eq!(failed.body["items"][0]["target"], owner.email.as_str());
    assert!(failed.body["items"][0]["ip"]
        .as_str()
        .unwrap()
        .starts_with("127."));
    assert_eq!(admin.get("/audit?cursor=garbage").await.code(), "bad_frame");
}

/// The sign-in story on Postgres with Redis, on two nodes: a session made on one node works on
/// the other, signing out on one ends it on both (and closes its socket there), failed sign-ins
/// are throttled across both, an invitation accepted on one signs in on the other.
#[tokio::test]
async fn on_two_nodes_with_postgres_and_redis_sessions_and_throttles_are_shared() {
    use concierge_tests::pg::{postgres_url, redis_url, skip, PgDatabase};
    let (Some(pg), Some(redis)) = (postgres_url(), redis_url()) else {
        skip(
            "on_two_nodes_with_postgres_and_redis_sessions_and_throttles_are_shared",
            "CONCIERGE_TEST_POSTGRES_URL and CONCIERGE_TEST_REDIS_URL",
        );
        return;
    };
    let db = PgDatabase::create(&pg).await.unwrap();
    let mut opts = Options {
        database_url: Some(db.url.clone()),
        redis_url: Some(redis),
        ..Options::default()
    };
    // Counted per attempt: the sign-in below, four failures, then the refusal.
    opts.limits.login_attempts_per_email_per_minute = 5;
    let a = spawn_with(opts.clone()).await.unwrap();
    let b = spawn_with(opts).await.unwrap();
    let on_a = a.sign_in(&a.agent_email, &a.agent_password).await;
    let mut on_b = on_a.clone();
    on_b.base = b.http("/api/v1");
    assert_eq!(
        on_b.get("/me").await.status,
        200,
        "a session works on every node"
    );
    assert_eq!(
        on_b.post("/tokens", json!({"name": "x"})).await.status,
        201,
        "with its CSRF token"
    );
    let Auth::Session { cookie, .. } = on_a.auth.clone() else {
        unreachable!()
    };
    let cookie = format!("concierge_session={cookie}");
    let origin = format!("http://{}", b.addr);
    let mut socket_b = Agent::connect_with(b.addr, &[("cookie", &cookie), ("origin", &origin)])
        .await
        .expect("socket on node b");
    assert_eq!(on_a.delete("/session").await.status, 204);
    assert_eq!(on_b.get("/me").await.status, 401, "signed out everywhere");
    assert_eq!(
        socket_b.closed().await,
        Some(close::ACCESS_REVOKED),
        "node b's socket closes too"
    );

    // Two failures on each node: the sixth attempt is refused on either. Redis counts in
    // fixed minute windows: start early in a minute so the attempts share one.
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60
        > 45
    {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let email = a.agent_email.clone();
    for node in [&a, &b, &a, &b] {
        let r = node
            .anonymous()
            .post(
                "/session",
                json!({"email": email, "password": "wrong-wrong-wrong"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = b
        .anonymous()
        .post(
            "/session",
            json!({"email": email, "password": a.agent_password}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (429, "rate_limited"),
        "the budget is shared through Redis"
    );

    let owner = a.member("owner").await;
    let link = a
        .bearer(&owner.token)
        .post(
            "/invitations",
            json!({"email": "pg@shop.example", "role": "admin"}),
        )
        .await;
    let token = link.body["token"].as_str().unwrap();
    let accepted = b
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            json!({"name": "Pat", "password": "postgres password"}),
        )
        .await;
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    assert_eq!(accepted.body["agent"]["role"], "admin");
    let audit = a.bearer(&owner.token).get("/audit").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for want in [
        "invitation_accepted",
        "invited",
        "login_failed",
        "logout",
        "login",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
    a.shutdown().await;
    b.shutdown().await;
    db.drop_now().await.unwrap();
}
