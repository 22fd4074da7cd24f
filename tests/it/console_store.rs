//! The console's records on both databases, each filtered by site: origins the widget came
//! from (added up, capped per site), gap dismissals, kept originals of uploads, live item
//! progress, and all of them gone with their account.

use concierge::store::{ItemProgress, NewDocument, NewItem, Store, MAX_ORIGINS_PER_SITE};
use concierge_tests::pg::PgDatabase;
use concierge_tests::*;

async fn story(store: &Store) {
    let site = concierge::accounts::create_site(store, "A", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let other = store
        .create_site(&site.account_id, "B", &[ORIGIN.to_string()])
        .await
        .unwrap();

    // Origins: sockets add up; another site's are its own; a site keeps a bounded number.
    store.record_origin(&site.id, ORIGIN, 1).await.unwrap();
    store.record_origin(&site.id, ORIGIN, 3).await.unwrap();
    store
        .record_origin(&other.id, "https://b.example", 1)
        .await
        .unwrap();
    let seen = store.origins(&site.id).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].origin.as_str(), seen[0].connections), (ORIGIN, 4));
    assert!(seen[0].last_seen_at >= seen[0].first_seen_at);
    for i in 0..MAX_ORIGINS_PER_SITE + 3 {
        store
            .record_origin(&other.id, &format!("https://x{i}.example"), 1)
            .await
            .unwrap();
    }
    store
        .record_origin(&other.id, "https://b.example", 1)
        .await
        .unwrap();
    let theirs = store.origins(&other.id).await.unwrap();
    assert_eq!(theirs.len() as i64, MAX_ORIGINS_PER_SITE);
    let b = theirs
        .iter()
        .find(|o| o.origin == "https://b.example")
        .unwrap();
    assert_eq!(b.connections, 2, "a known origin still counts at the cap");

    // Gap dismissals: the latest dismissal wins; per site.
    store.dismiss_gap(&site.id, "k1", "agent-1").await.unwrap();
    let first = store.gap_dismissals(&site.id).await.unwrap()["k1"];
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    store.dismiss_gap(&site.id, "k1", "agent-2").await.unwrap();
    let dismissed = store.gap_dismissals(&site.id).await.unwrap();
    assert_eq!(dismissed.len(), 1);
    assert!(dismissed["k1"] > first);
    assert!(store.gap_dismissals(&other.id).await.unwrap().is_empty());

    // Originals of uploads: replaced in place, per site, deleted with their document.
    store
        .keep_source(&site.id, "a.md", "a.md", b"# One")
        .await
        .unwrap();
    store
        .keep_source(&site.id, "a.md", "a.md", b"# Two")
        .await
        .unwrap();
    let kept = store
        .document_source(&site.id, "a.md")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.bytes.as_slice()),
        ("a.md", &b"# Two"[..])
    );
    assert!(store.has_source(&site.id, "a.md").await.unwrap());
    assert!(store
        .document_source(&other.id, "a.md")
        .await
        .unwrap()
        .is_none());
    store
        .replace_document(
            &site.id,
            &NewDocument {
                doc_key: "a.md",
                title: "Two",
                url: None,
                kind: "markdown",
                content_hash: "h",
                bytes: 5,
            },
            &[],
        )
        .await
        .unwrap();
    store
        .delete_document(&site.id, "a.md")
        .await
        .unwrap()
        .unwrap();
    assert!(!store.has_source(&site.id, "a.md").await.unwrap());

    // Live progress of a job's items, and the recent items the documents list reads.
    let item = |name: &str, forced: bool| NewItem {
        doc_key: name.to_string(),
        source: "file",
        name: name.to_string(),
        payload: Some(b"# T\n\ntext".to_vec()),
        failed: None,
        forced,
    };
    let job = store
        .create_job(&site.id, &[item("a.md", false), item("b.md", true)])
        .await
        .unwrap();
    store
        .item_progress(
            &site.id,
            &job.id,
            &[
                ItemProgress {
                    ordinal: 0,
                    chunks_done: 2,
                    chunks_total: 5,
                },
                ItemProgress {
                    ordinal: 1,
                    chunks_done: 0,
                    chunks_total: 7,
                },
            ],
        )
        .await
        .unwrap();
    // Another site's job id does not reach this site's items.
    store
        .item_progress(
            &other.id,
            &job.id,
            &[ItemProgress {
                ordinal: 0,
                chunks_done: 5,
                chunks_total: 5,
            }],
        )
        .await
        .unwrap();
    let mut items = store.recent_items(&site.id, 10).await.unwrap();
    items.sort_by_key(|i| i.ordinal);
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0].chunks_done, items[0].chunks_total),
        (Some(2), Some(5))
    );
    assert!(!items[0].forced && items[1].forced);
    assert_eq!(items[1].chunks_total, Some(7));
    assert!(store.recent_items(&other.id, 10).await.unwrap().is_empty());
    // A finished item keeps its last progress and is no longer written.
    store
        .finish_item(&site.id, &job.id, 0, "ready", None, Some(5))
        .await
        .unwrap();
    store
        .item_progress(
            &site.id,
            &job.id,
            &[ItemProgress {
                ordinal: 0,
                chunks_done: 1,
                chunks_total: 5,
            }],
        )
        .await
        .unwrap();
    let items = store.job_items(&site.id, &job.id).await.unwrap();
    assert_eq!(items[0].chunks_done, Some(2));

    // The account goes with everything the console recorded.
    assert!(store.delete_account(&site.account_id).await.unwrap());
    assert!(store.origins(&site.id).await.unwrap().is_empty());
    assert!(store.gap_dismissals(&site.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_consoles_records_are_kept_per_site_on_sqlite() {
    let dir = temp_dir();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("console.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    story(&store).await;
    store.close().await;
}

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_the_consoles_records_are_kept_per_site() {
    let admin = concierge_tests::needs::postgres();
    let db = PgDatabase::create(&admin).await.unwrap();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    story(&store).await;
    store.close().await;
    db.drop_now().await.unwrap();
}
