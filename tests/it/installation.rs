//! "Check installation": every allowed origin of a site with when the widget last connected
//! from it, and the origins it was refused from, kept across restarts and written at most
//! once a minute per origin.

use concierge_tests::*;
use serde_json::{json, Value};

use crate::knowledge_gaps::respawn;

async fn origins(api: &concierge_tests::api::Api, site_key: &str) -> Vec<Value> {
    let r = api.get(&format!("/sites/{site_key}/installation")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["origins"].as_array().unwrap().clone()
}

/// Waits until the installation shows `origin` seen `connections` times.
async fn until_seen(
    api: &concierge_tests::api::Api,
    site_key: &str,
    origin: &str,
    connections: i64,
) -> Vec<Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let all = origins(api, site_key).await;
        if all
            .iter()
            .any(|o| o["origin"] == origin && o["connections"] == connections)
        {
            return all;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{origin} not seen {connections} times: {all:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn check_installation_shows_when_the_widget_connected_from_each_allowed_origin_and_the_refused_ones(
) {
    let dir = temp_dir();
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_with(opts.clone()).await.unwrap();
    let site_key = app.site_key.clone();
    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    assert_eq!(
        origins(&api, &site_key).await,
        vec![json!({"origin": ORIGIN, "allowed": true, "last_seen_at": null, "connections": 0})],
        "never seen yet"
    );
    let agent = app.member("agent").await;
    let r = app
        .bearer(&agent.token)
        .get(&format!("/sites/{site_key}/installation"))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (403, "forbidden"),
        "an owner's screen"
    );

    let _visitor = app.visitor().await;
    let seen = until_seen(&api, &site_key, ORIGIN, 1).await;
    assert!(seen[0]["last_seen_at"].as_str().unwrap().ends_with('Z'));
    let evil = "https://copycat.example";
    let refused = Visitor::connect(&app.visitor_url(&site_key), Some(evil)).await;
    assert_eq!(refused.err().map(|r| r.status), Some(403));
    let seen = until_seen(&api, &site_key, evil, 1).await;
    assert_eq!(
        seen[1],
        json!({"origin": evil, "allowed": false, "last_seen_at": seen[1]["last_seen_at"], "connections": 1})
    );
    // More sockets within the minute are not written yet; a socket without a browser
    // origin is not an installation.
    let _more = (app.visitor().await, app.visitor().await);
    let _ = Visitor::connect(&app.visitor_url(&site_key), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let now = origins(&api, &site_key).await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert_eq!(now[0]["connections"], 1, "written at most once a minute");

    // Allowing the refused origin moves it up; the record survives a restart.
    let r = api
        .patch(
            &format!("/sites/{site_key}"),
            json!({"allowed_origins": [ORIGIN, evil]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    app.shutdown().await;
    let app = respawn(&opts).await;
    let api = app.bearer(&owner.token);
    let after = origins(&api, &site_key).await;
    assert!(after.iter().all(|o| o["allowed"] == true), "{after:?}");
    let copycat = after.iter().find(|o| o["origin"] == evil).unwrap();
    assert_eq!(copycat["connections"], 1);
    assert!(copycat["last_seen_at"].is_string());
    assert!(after[0]["last_seen_at"].is_string(), "{after:?}");
    app.shutdown().await;
}
