//! One story of the store, told against SQLite and against Postgres.

use std::sync::Arc;

use concierge::store::{
    AppendOutcome, NewMessage, Role, SignalRecord, Store, TakeOver, TurnOutcome,
};
use concierge_protocol::{Author, ConversationStatus, MessageState};
use concierge_tests::pg::PgDatabase;
use concierge_tests::temp_dir;

fn visitor_msg<'a>(id: &'a str, text: &'a str) -> NewMessage<'a> {
    NewMessage {
        author: Author::Visitor,
        agent_id: None,
        author_name: None,
        text,
        state: MessageState::Complete,
        client_msg_id: Some(id),
    }
}

async fn rev_of(store: &Store, site_id: &str, id: &str) -> i64 {
    store.conversation(site_id, id).await.unwrap().unwrap().rev
}

async fn story(store: Arc<Store>) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent

    // Tenancy: an account owns sites; agents belong to the account.
    let acme = store.create_account("Acme").await.unwrap();
    let other = store.create_account("Other").await.unwrap();
    let site = store
        .create_site(&acme.id, "Acme shop", &["https://acme.example".into()])
        .await
        .unwrap();
    let rival = store
        .create_site(&other.id, "Rival", &["https://rival.example".into()])
        .await
        .unwrap();
    assert_eq!(
        store
            .site_by_key(&site.site_key)
            .await
            .unwrap()
            .unwrap()
            .allowed_origins,
        vec!["https://acme.example"]
    );
    let agent = store
        .create_agent(&acme.id, "ann@acme.example", "Ann", Role::Agent, "x")
        .await
        .unwrap();
    assert!(store
        .create_agent(&acme.id, "ann@acme.example", "Ann", Role::Agent, "x")
        .await
        .is_err());
    let token = store.issue_agent_token(&agent.id).await.unwrap();
    assert_eq!(
        store.agent_by_token(&token).await.unwrap().unwrap().id,
        agent.id
    );
    assert!(store.agent_by_token("agt_wrong").await.unwrap().is_none());

    // Visitors and conversations belong to a site.
    let (visitor, vtoken) = store.create_visitor(&site.id).await.unwrap();
    assert_eq!(
        store
            .visitor_by_token(&site.id, &vtoken)
            .await
            .unwrap()
            .unwrap()
            .id,
        visitor.id
    );
    assert!(store
        .visitor_by_token(&rival.id, &vtoken)
        .await
        .unwrap()
        .is_none());
    let conv = store
        .create_conversation(&site.id, &visitor.id)
        .await
        .unwrap();
    assert_eq!((conv.status, conv.last_seq), (ConversationStatus::Bot, 0));

    // Concurrent appends get gap-free seqs; a concurrent duplicate id is stored once.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        let (sid, cid) = (site.id.clone(), conv.id.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("m{}", i % 20); // ids m0..m3 are sent twice
            store
                .append_message(&sid, &cid, visitor_msg(&id, "hi"))
                .await
                .unwrap()
        }));
    }
    let mut stored = 0;
    for t in tasks {
        if let AppendOutcome::Stored(_) = t.await.unwrap() {
            stored += 1;
        }
    }
    assert_eq!(stored, 20);
    let all = store
        .messages_after(&site.id, &conv.id, 0, 1000)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<i64>>()
    );
    let again = store
        .append_message(&site.id, &conv.id, visitor_msg("m3", "hi"))
        .await
        .unwrap();
    assert!(
        matches!(again, AppendOutcome::Duplicate(ref m) if m.client_msg_id.as_deref() == Some("m3"))
    );
    assert_eq!(
        store
            .messages_after(&site.id, &conv.id, 18, 1000)
            .await
            .unwrap()
            .len(),
        2
    );

    // Streaming: seq at start, text grows only at the right offset, then complete.
    let s = store
        .append_message(
            &site.id,
            &conv.id,
            NewMessage {
                author: Author::Bot,
                agent_id: None,
                author_name: None,
                text: "",
                state: MessageState::Streaming,
                client_msg_id: None,
            },
        )
        .await
        .unwrap();
    let seq = s.record().seq;
    assert_eq!(seq, 21);
    assert!(store
        .append_stream_text(&site.id, &conv.id, seq, 0, "Héllo")
        .await
        .unwrap());
    assert!(!store
        .append_stream_text(&site.id, &conv.id, seq, 0, "Héllo")
        .await
        .unwrap());
    assert!(store
        .append_stream_text(&site.id, &conv.id, seq, 5, " world")
        .await
        .unwrap());
    let done = store
        .complete_stream(&site.id, &conv.id, seq, &[])
        .await
        .unwrap();
    assert_eq!(
        (done.text.as_str(), done.state),
        ("Héllo world", MessageState::Complete)
    );
    assert!(!store
        .append_stream_text(&site.id, &conv.id, seq, 11, "!")
        .await
        .unwrap());

    // Status and assignment.
    let c = store
        .set_conversation_status(
            &site.id,
            &conv.id,
            ConversationStatus::Agent,
            Some(&agent.id),
        )
        .await
        .unwrap();
    assert_eq!(
        (c.status, c.agent_name.as_deref(), c.last_seq),
        (ConversationStatus::Agent, Some("Ann"), 21)
    );
    // An escalation deciding while an agent took over hands nothing back to the queue.
    assert!(store
        .hand_to_people(&site.id, &conv.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .conversation(&site.id, &conv.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConversationStatus::Agent
    );
    let open = store.open_conversations(&acme.id, 10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(store
        .open_conversations(&other.id, 10)
        .await
        .unwrap()
        .is_empty());
    let c = store
        .set_conversation_status(&site.id, &conv.id, ConversationStatus::Resolved, None)
        .await
        .unwrap();
    assert_eq!(c.agent_id, None);
    // A visitor message reopens a resolved conversation with the bot.
    store
        .append_message(&site.id, &conv.id, visitor_msg("reopen", "back"))
        .await
        .unwrap();
    assert_eq!(
        store
            .conversation(&site.id, &conv.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConversationStatus::Bot
    );
    // From the bot, an escalation hands it to people, once.
    let waiting = store
        .hand_to_people(&site.id, &conv.id)
        .await
        .unwrap()
        .expect("handed over");
    assert_eq!(
        (waiting.status, waiting.agent_id.as_deref()),
        (ConversationStatus::Waiting, None)
    );
    assert!(store
        .hand_to_people(&site.id, &conv.id)
        .await
        .unwrap()
        .is_none());
    store
        .set_conversation_status(&site.id, &conv.id, ConversationStatus::Bot, None)
        .await
        .unwrap();

    // Every tenant-owned read filters by site: the rival site sees nothing of Acme's.
    assert!(store
        .conversation(&rival.id, &conv.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .messages_after(&rival.id, &conv.id, 0, 1000)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .message(&rival.id, &conv.id, 1)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .conversation_in_account(&other.id, &conv.id)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .append_message(&rival.id, &conv.id, visitor_msg("x", "intrude"))
        .await
        .is_err());
    assert!(store
        .set_conversation_status(&rival.id, &conv.id, ConversationStatus::Agent, None)
        .await
        .is_err());
    assert_eq!(
        store
            .messages_after(&site.id, &conv.id, 0, 1000)
            .await
            .unwrap()
            .len(),
        22
    );

    // Every change of a conversation raises its revision; a change that does not happen
    // (handing to people a conversation an agent holds) leaves it. Readers keep the snapshot
    // with the higher one, whatever order concurrent publishers deliver them in.
    let c = store
        .create_conversation(&site.id, &visitor.id)
        .await
        .unwrap();
    assert_eq!(c.rev, 0);
    store
        .append_message(&site.id, &c.id, visitor_msg("rev-1", "hello"))
        .await
        .unwrap();
    assert_eq!(rev_of(&store, &site.id, &c.id).await, 1, "a message");
    let taken = store
        .take_over_conversation(&site.id, &c.id, &agent.id)
        .await
        .unwrap();
    assert!(
        matches!(&taken, Some(TakeOver::Taken(t)) if t.rev == 2),
        "{taken:?}"
    );
    assert!(store
        .hand_to_people(&site.id, &c.id)
        .await
        .unwrap()
        .is_none());
    assert_eq!(rev_of(&store, &site.id, &c.id).await, 2, "nothing changed");
    let back = store
        .set_conversation_status(&site.id, &c.id, ConversationStatus::Bot, None)
        .await
        .unwrap();
    assert_eq!((back.status, back.rev), (ConversationStatus::Bot, 3));
    store.set_handed_back(&site.id, &c.id).await.unwrap();
    assert_eq!(
        rev_of(&store, &site.id, &c.id).await,
        4,
        "the hand-back time"
    );
    store
        .record_signals(
            &site.id,
            &c.id,
            &SignalRecord {
                seq: 1,
                vader: -0.5,
                sentiment: -0.5,
                mood: -0.5,
                intents: serde_json::json!({}),
                outcome: TurnOutcome::Answered,
                created_at: 0,
                text: String::new(),
            },
        )
        .await
        .unwrap();
    let moody = store.conversation(&site.id, &c.id).await.unwrap().unwrap();
    assert_eq!((moody.mood, moody.rev), (Some(-0.5), 5), "the mood");
    let waiting = store
        .hand_to_people(&site.id, &c.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (waiting.status, waiting.rev),
        (ConversationStatus::Waiting, 6)
    );
    assert_eq!(waiting.view().rev, 6, "agents and visitors are sent it");
}

#[tokio::test]
async fn the_store_story_holds_on_sqlite() {
    let dir = temp_dir();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("story.db").display()
    );
    story(Arc::new(Store::connect(&url).await.unwrap())).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn the_store_story_holds_on_postgres() {
    let admin = concierge_tests::needs::postgres();
    let db = PgDatabase::create(&admin).await.unwrap();
    let store = Arc::new(Store::connect(&db.url).await.unwrap());
    story(store.clone()).await;
    store.close().await;
    db.drop_now().await.unwrap();
}
