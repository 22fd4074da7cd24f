//! The sign-in story on two nodes sharing Postgres and Redis.

use concierge_tests::pg::PgDatabase;
use concierge_tests::*;

/// The sign-in story on Postgres with Redis, on two nodes: a session made on one node works on
/// the other, signing out on one ends it on both (and closes its socket there), failed sign-ins
/// are throttled across both, an invitation accepted on one signs in on the other.
#[tokio::test]
#[ignore = "needs Postgres and Redis (CONCIERGE_TEST_POSTGRES_URL, CONCIERGE_TEST_REDIS_URL)"]
async fn on_two_nodes_with_postgres_and_redis_sessions_and_throttles_are_shared() {
    let (pg, redis) = (
        concierge_tests::needs::postgres(),
        concierge_tests::needs::redis(),
    );
    let db = PgDatabase::create(&pg).await.unwrap();
    let mut opts = Options {
        database_url: Some(db.url.clone()),
        redis_url: Some(redis),
        ..Options::default()
    };
    // Counted per attempt: five failures pass, the sixth attempt is refused.
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
        on_b.post("/tokens", serde_json::json!({"name": "x"}))
            .await
            .status,
        201,
        "with its CSRF token"
    );
    let concierge_tests::api::Auth::Session { cookie, .. } = on_a.auth.clone() else {
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
        Some(concierge_protocol::close::ACCESS_REVOKED),
        "node b's socket closes too"
    );

    // Failures on both nodes: the sixth attempt is refused on either. Redis counts in
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
    // A member nobody signed in as yet: all its attempts fall in this one window.
    let fresh = a.member("agent").await;
    let email = fresh.email.clone();
    for node in [&a, &b, &a, &b, &a] {
        let r = node
            .anonymous()
            .post(
                "/session",
                serde_json::json!({"email": email, "password": "wrong-wrong-wrong"}),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = b
        .anonymous()
        .post(
            "/session",
            serde_json::json!({"email": email, "password": fresh.password}),
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
            serde_json::json!({"email": "pg@shop.example", "role": "admin"}),
        )
        .await;
    let token = link.body["token"].as_str().unwrap();
    let accepted = b
        .anonymous()
        .post(
            &format!("/invitations/{token}/accept"),
            serde_json::json!({"name": "Pat", "password": "postgres password"}),
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
