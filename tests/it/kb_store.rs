//! The knowledge base's store on both databases: the shared job queue on Postgres (one worker
//! per job) and full-text search (tsvector per site; FTS5 scoring only the rare words).

use concierge::store::{NewChunk, NewDocument, NewItem, Store};
use concierge_tests::pg::PgDatabase;
use concierge_tests::*;

#[tokio::test]
#[ignore = "needs Postgres (CONCIERGE_TEST_POSTGRES_URL)"]
async fn on_postgres_each_job_goes_to_one_worker_and_full_text_search_filters_by_site() {
    let admin = concierge_tests::needs::postgres();
    let db = PgDatabase::create(&admin).await.unwrap();
    let store = std::sync::Arc::new(Store::connect(&db.url).await.unwrap());
    store.migrate().await.unwrap();
    let site = concierge::accounts::create_site(&store, "A", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let account = store.only_account_id().await.unwrap();
    let other = store
        .create_site(&account, "B", &[ORIGIN.to_string()])
        .await
        .unwrap();
    for i in 0..12 {
        store
            .create_job(
                &site.id,
                &[NewItem {
                    doc_key: format!("{i}.md"),
                    source: "file",
                    name: format!("{i}.md"),
                    payload: Some(b"# T\n\ntext".to_vec()),
                    failed: None,
                    forced: false,
                }],
            )
            .await
            .unwrap();
    }
    // Four workers race for the queue: every job is claimed exactly once.
    let mut workers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = store.claim_job(&format!("node-{w}"), 0).await.unwrap() {
                mine.push(job.id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.unwrap());
    }
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!((total, claimed.len()), (12, 12));

    // tsvector search, ranked, per site.
    for (s, text) in [
        (&site.id, "Parcels to Japan take ten days."),
        (&other.id, "Parcels to Japan are free."),
    ] {
        store
            .replace_document(
                s,
                &NewDocument {
                    doc_key: "ship.md",
                    title: "Shipping",
                    url: None,
                    kind: "markdown",
                    content_hash: "h",
                    bytes: 1,
                },
                &[
                    NewChunk {
                        ordinal: 0,
                        heading: "Shipping › Japan",
                        text,
                        location: "lines 1-2",
                    },
                    NewChunk {
                        ordinal: 1,
                        heading: "Shipping › Fees",
                        text: "Fees depend on weight.",
                        location: "lines 3-4",
                    },
                ],
            )
            .await
            .unwrap();
    }
    let words = vec!["parcels".to_string(), "japan".to_string()];
    let hits = store.lexical_search(&site.id, &words, 10).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let rows = store.chunks_by_ids(&site.id, &[hits[0].0]).await.unwrap();
    assert_eq!(rows[0].text, "Parcels to Japan take ten days.");
    assert!(store
        .chunks_by_ids(&other.id, &[hits[0].0])
        .await
        .unwrap()
        .is_empty());
    store.close().await;
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn full_text_search_scores_the_rare_words_of_a_question_not_the_ones_everywhere() {
    let dir = temp_dir();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let site = concierge::accounts::create_site(&store, "S", &[ORIGIN.to_string()], None)
        .await
        .unwrap();
    let texts: Vec<String> = (0..60)
        .map(|i| match i {
            7 => "Our warranty covers the blender motor.".to_string(),
            _ => format!("Our shop page number {i}."),
        })
        .collect();
    let chunks: Vec<NewChunk> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| NewChunk {
            ordinal: i as i64,
            heading: "Shop",
            text: t,
            location: "",
        })
        .collect();
    store
        .replace_document(
            &site.id,
            &NewDocument {
                doc_key: "shop.md",
                title: "Shop",
                url: None,
                kind: "markdown",
                content_hash: "h",
                bytes: 1,
            },
            &chunks,
        )
        .await
        .unwrap();
    // "our" and "shop" are in every chunk: scoring them would rank all 60 for nothing.
    let words: Vec<String> = ["our", "shop", "blender", "warranty"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    let hits = store.lexical_search(&site.id, &words, 10).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let row = store.chunks_by_ids(&site.id, &[hits[0].0]).await.unwrap();
    assert!(row[0].text.contains("blender"));
    // A question made only of everywhere-words still gets answers (the two rarest are kept).
    let common: Vec<String> = ["our", "shop", "page"]
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert!(!store
        .lexical_search(&site.id, &common, 5)
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}
