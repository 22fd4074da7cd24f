//! Knowledge gaps as the owner reviews them: grouped by question however it was worded, most
//! asked first, and a dismissed group hidden (across restarts) until it is asked again.

use concierge_tests::*;
use serde_json::Value;

async fn record(app: &TestApp, site_id: &str, conversation: &str, question: &str, score: f64) {
    app.app
        .chat
        .store
        .record_gap(site_id, Some(conversation), question, score)
        .await
        .unwrap();
    // Distinct times, so "most recent" is well defined.
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

/// Starts a server again on the data directory of `opts` (the previous one's index lock may
/// linger for a moment).
pub async fn respawn(opts: &Options) -> TestApp {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match spawn_with(opts.clone()).await {
            Ok(app) => return app,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the server did not start again: {e:#}"),
        }
    }
}

fn items(reply: &concierge_tests::api::Reply) -> Vec<Value> {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn gaps_are_grouped_by_question_most_asked_first_and_a_dismissal_lasts_until_asked_again() {
    let dir = temp_dir();
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_with(opts.clone()).await.unwrap();
    let site_key = app.site_key.clone();
    let site_id = app.site_id().await;
    let owner = app.member("owner").await;
    let agent = app.member("agent").await;
    record(&app, &site_id, "c1", "Do you ship to Mars?", 0.21).await;
    record(&app, &site_id, "c2", "Is there a student discount?", 0.30).await;
    record(&app, &site_id, "c3", "do you ship to   MARS", 0.33).await;
    record(&app, &site_id, "c4", " Do you ship to Mars ?! ", 0.12).await;
    record(&app, &site_id, "c5", "Can I pay in bitcoin?", 0.05).await;

    let path = format!("/sites/{site_key}/knowledge-gaps");
    let gaps = items(&app.bearer(&agent.token).get(&path).await);
    let summary: Vec<(&str, i64)> = gaps
        .iter()
        .map(|g| {
            (
                g["question"].as_str().unwrap(),
                g["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (" Do you ship to Mars ?! ", 3),
            ("Can I pay in bitcoin?", 1),
            ("Is there a student discount?", 1),
        ],
        "most asked, then most recent; the latest wording"
    );
    let mars = &gaps[0];
    assert_eq!(mars["conversation_id"], "c4", "the latest conversation");
    assert_eq!(mars["best_score"], 0.33);
    assert!(mars["last_asked_at"].as_str().unwrap().ends_with('Z'));
    let mars_id = mars["id"].as_str().unwrap().to_string();
    assert!(
        mars_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "URL-safe: {mars_id}"
    );
    // Pages of the grouped list.
    let first = app
        .bearer(&agent.token)
        .get(&format!("{path}?limit=2"))
        .await;
    assert_eq!(items(&first).len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app
        .bearer(&agent.token)
        .get(&format!("{path}?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(items(&rest)[0]["question"], "Is there a student discount?");

    // Only owners and admins dismiss; ids that name no group are 404s.
    let dismiss = format!("{path}/{mars_id}/dismiss");
    let r = app.bearer(&agent.token).post(&dismiss, Value::Null).await;
    assert_eq!((r.status, r.code()), (403, "forbidden"));
    let api = app.bearer(&owner.token);
    for unknown in ["nope", &"0".repeat(64)] {
        let r = api
            .post(&format!("{path}/{unknown}/dismiss"), Value::Null)
            .await;
        assert_eq!((r.status, r.code()), (404, "not_found"), "{unknown}");
    }
    let r = api.post(&dismiss, Value::Null).await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let left: Vec<Value> = items(&api.get(&path).await);
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|g| g["id"] != mars_id.as_str()));

    // The dismissal survives a restart.
    app.shutdown().await;
    let app = respawn(&opts).await;
    let api = app.bearer(&owner.token);
    assert_eq!(items(&api.get(&path).await).len(), 2, "still dismissed");

    // Asked again: back, counting only what came after the dismissal.
    record(&app, &site_id, "c6", "do you ship to mars?", 0.1).await;
    let gaps = items(&api.get(&path).await);
    let mars = gaps.iter().find(|g| g["id"] == mars_id.as_str()).unwrap();
    assert_eq!(mars["count"], 1);
    assert_eq!(mars["question"], "do you ship to mars?");
    assert_eq!(mars["conversation_id"], "c6");
    app.shutdown().await;
}
