//! The escalation policy as site owners meet it: tuned over the API (bad policies refused,
//! nothing changed) and replayed over transcripts with `concierge triage`.

use concierge_protocol::visitor::VisitorClientFrame;
use concierge_protocol::ConversationStatus;
use concierge_tests::*;
use serde_json::json;

use concierge_tests::escalation::{api, put_policy, status_of};

#[tokio::test]
async fn owners_tune_the_policy_and_bad_policies_are_refused() {
    let app = spawn_app().await;
    let owner = app.owner_token().await;
    let (status, body) = api(&app, &owner, "escalation-policy").await;
    assert_eq!(status, 200);
    assert_eq!(body["custom"], false);
    assert_eq!(body["policy"]["max_failures"], 2);

    let (status, body) = put_policy(&app, &app.agent_token, r#"{"enabled": false}"#).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let (status, body) = put_policy(&app, &owner, r#"{"bogus": 1}"#).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_frame"))
    );
    let (status, body) = put_policy(&app, &owner, r#"{"negative_mood": 3}"#).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("bad_frame"))
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("negative_mood"));
    let (_, body) = api(&app, &owner, "escalation-policy").await;
    assert_eq!(body["custom"], false, "a refused policy changes nothing");

    let (status, body) = put_policy(&app, &owner, r#"{"enabled": false}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["custom"], true);

    // Automatic escalation off: an angry complaint stays with the bot ...
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say(
        "q1",
        "This is the WORST service ever, absolutely unacceptable!!!",
    )
    .await
    .unwrap();
    let conversation_id = w.conversation_id.clone();
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = app
            .app
            .chat
            .store
            .recent_signals(&app.site_id().await, &conversation_id, i64::MAX, 5)
            .await
            .unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sentiment < -0.6, "{rows:?}");
    assert_eq!(
        app.conversation(&conversation_id).await.status,
        ConversationStatus::Bot
    );
    // ... the button still works.
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    status_of(&mut v, ConversationStatus::Waiting).await;

    let (status, body) = put_policy(&app, &owner, "{}").await;
    assert_eq!((status, body["custom"].as_bool()), (200, Some(false)));
}

#[test]
fn triage_replays_transcripts_through_the_policy() {
    let dir = temp_dir();
    let input = [
        r#"{"conversation_id": "c1", "text": "How do I reset my password?"}"#,
        r#"{"conversation_id": "c2", "text": "can I talk to a real person"}"#,
        r#"not json"#,
        r#"{"conversation_id": "c1", "text": "I was charged twice and I'm going to dispute the payment with my bank"}"#,
        r#"{"conversation_id": "c2", "text": "hello? anyone there?"}"#,
    ]
    .join("\n");
    let lines = concierge_tests::binary::cli_lines(dir.path(), &["triage", "--json"], &input);
    assert_eq!(lines.len(), 5, "one line per input: {lines:?}");

    let calm = &lines[0];
    assert_eq!(calm["conversation_id"], "c1");
    assert_eq!(calm["escalate"], false);
    assert_eq!(calm["reasons"], json!([]));
    assert_eq!(calm["priority"], "normal");
    assert_eq!(calm["outcome"], "answer");
    // Every intent is scored (the server's own test pins these names to its enum).
    for intent in concierge_protocol::ESCALATION_INTENTS {
        assert!(calm["intents"][intent].as_f64().unwrap() < 0.5, "{calm}");
    }

    let asks = &lines[1];
    assert_eq!(asks["escalate"], true);
    assert_eq!(asks["reasons"], json!(["asked_for_human"]));
    assert!(asks["intents"]["human_request"].as_f64().unwrap() >= 0.9);
    // A calm request: not negative (the classifier's sentiment is 1 - 2 x how likely the
    // visitor is upset).
    assert!(asks["sentiment"].as_f64().unwrap() > -0.2, "{asks}");
    assert_eq!(asks["outcome"], "hand_over");

    assert_eq!(lines[2]["line"], 3);
    assert_eq!(lines[2]["error"]["code"], "bad_input");

    let threat = &lines[3];
    assert_eq!(threat["escalate"], true, "{threat}");
    assert_eq!(threat["priority"], "urgent");
    assert!(threat["sentiment"].as_f64().unwrap() < -0.3, "{threat}");
    assert_eq!(threat["already_escalated"], false);

    // The second turn of c2 is judged with c2's history: live traffic would already be
    // waiting for a person.
    assert_eq!(lines[4]["already_escalated"], true);
}
