//! The store behind a site's LLM settings and the replay, on SQLite and on Postgres: saved,
//! replaced, removed, read per site only; recent visitor turns newest conversations first;
//! and an account with LLM settings can still be deleted whole.

use concierge::store::{NewMessage, SiteLlmRecord, Store};
use concierge_protocol::site_api::LlmMode;
use concierge_protocol::{Author, MessageState};
use concierge_tests::*;

async fn story(store: &Store) {
    let site = concierge::accounts::create_site(store, "Shop", &[ORIGIN.into()], None)
        .await
        .unwrap();
    let other = concierge::accounts::create_site(store, "Other", &[ORIGIN.into()], None)
        .await
        .unwrap();
    assert_eq!(store.site_llm(&site.id).await.unwrap(), None);
    let mut settings = SiteLlmRecord {
        mode: LlmMode::Llm,
        base_url: Some("https://llm.example/v1".into()),
        model: Some("gpt-x".into()),
        api_key: Some("sk-1".into()),
        updated_at: 0,
    };
    store.set_site_llm(&site.id, Some(&settings)).await.unwrap();
    settings.mode = LlmMode::Extractive;
    settings.api_key = None;
    store.set_site_llm(&site.id, Some(&settings)).await.unwrap();
    let read = store.site_llm(&site.id).await.unwrap().unwrap();
    assert_eq!(
        (read.mode, read.api_key, read.model.as_deref()),
        (LlmMode::Extractive, None, Some("gpt-x"))
    );
    assert!(read.updated_at > 0);
    assert_eq!(store.site_llm(&other.id).await.unwrap(), None, "per site");

    // Visitor turns of the last conversations, each in order, the oldest conversation first.
    let mut ids = Vec::new();
    for (n, turns) in [&["a1", "a2"][..], &["b1"], &[]].iter().enumerate() {
        let (visitor, _) = store.create_visitor(&site.id).await.unwrap();
        let c = store
            .create_conversation(&site.id, &visitor.id)
            .await
            .unwrap();
        for text in turns.iter() {
            for author in [Author::Visitor, Author::Bot] {
                let m = NewMessage {
                    author,
                    agent_id: None,
                    author_name: None,
                    text,
                    state: MessageState::Complete,
                    client_msg_id: None,
                };
                store.append_message(&site.id, &c.id, m).await.unwrap();
            }
        }
        ids.push(c.id);
        tokio::time::sleep(std::time::Duration::from_millis(5 + n as u64)).await;
    }
    let turns = store.recent_visitor_turns(&site.id, 10).await.unwrap();
    assert_eq!(
        turns,
        vec![
            (ids[0].clone(), vec!["a1".to_string(), "a2".to_string()]),
            (ids[1].clone(), vec!["b1".to_string()]),
        ],
        "conversations without a visitor message are not counted"
    );
    let last = store.recent_visitor_turns(&site.id, 1).await.unwrap();
    assert_eq!(last, vec![(ids[1].clone(), vec!["b1".to_string()])]);
    assert!(store
        .recent_visitor_turns(&other.id, 10)
        .await
        .unwrap()
        .is_empty());

    assert!(store.delete_account(&site.account_id).await.unwrap());
    assert_eq!(store.site_llm(&site.id).await.unwrap(), None);
    store.set_site_llm(&other.id, None).await.unwrap();
}

#[tokio::test]
async fn site_llm_settings_and_recent_turns_on_sqlite() {
    let dir = temp_dir();
    let store = Store::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    story(&store).await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn site_llm_settings_and_recent_turns_on_postgres() {
    let pg = concierge_tests::needs::postgres();
    let db = pg::PgDatabase::create(&pg).await.unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    story(&store).await;
    store.close().await;
    db.drop_now().await.unwrap();
}
