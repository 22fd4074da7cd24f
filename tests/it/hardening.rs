//! Hardening: out-of-range ports in origins.

use concierge_tests::*;

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
