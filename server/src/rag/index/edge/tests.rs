//! Behaviour only the embedded backend has: the directory lock, the on-disk dimension check,
//! and the HNSW graph that `optimize` builds.

use super::super::tests::{assert_site_a_only, load_twin_sites, unit_vector, DIM};
use super::super::{ChunkPoint, IndexError, VectorIndex};
use super::EdgeIndex;

use rand::SeedableRng;

#[test]
fn a_second_open_of_the_same_directory_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = EdgeIndex::open(dir.path(), DIM).expect("first open");

    let second = EdgeIndex::open(dir.path(), DIM);
    match second {
        Err(IndexError::Locked { dir: locked }) => assert_eq!(locked, dir.path()),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("two instances opened the same index"),
    }
    let message = IndexError::Locked {
        dir: dir.path().to_path_buf(),
    }
    .to_string();
    assert!(
        message.contains("stop that server") && message.contains("API"),
        "{message}"
    );

    drop(first);
    EdgeIndex::open(dir.path(), DIM).expect("open after the first instance is gone");
}

#[test]
fn reopening_with_another_embedding_dimension_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(EdgeIndex::open(dir.path(), DIM).expect("create"));

    match EdgeIndex::open(dir.path(), DIM * 2) {
        Err(IndexError::IndexDimension {
            found, expected, ..
        }) => {
            assert_eq!((found, expected), (DIM, DIM * 2));
        }
        Err(other) => panic!("expected IndexDimension, got {other}"),
        Ok(_) => panic!("opened a {DIM}-dim index as {}-dim", DIM * 2),
    }
    // The refused open released the lock.
    EdgeIndex::open(dir.path(), DIM).expect("reopen with the right dimension");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optimize_builds_an_hnsw_graph_and_filtered_search_stays_within_the_site() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = EdgeIndex::open_for_tests(dir.path(), DIM).expect("open");
    let queries = load_twin_sites(&index, 300).await;
    assert_eq!(index.indexed_vectors(), 0, "no graph before optimize");

    index.optimize().await.expect("optimize");

    assert!(
        index.indexed_vectors() >= 600,
        "graph covers both sites: {}",
        index.indexed_vectors()
    );
    assert_site_a_only(&index, &queries, "after optimize").await;
    drop(index);
    let index = EdgeIndex::open_for_tests(dir.path(), DIM).expect("reopen");
    assert!(index.indexed_vectors() >= 600, "the graph is persisted");
    assert_site_a_only(&index, &queries, "reopened after optimize").await;
}

#[tokio::test]
async fn the_production_configuration_stores_searches_and_optimizes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = EdgeIndex::open(dir.path(), DIM).expect("open");
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let points: Vec<ChunkPoint> = (1..=1200)
        .map(|id| ChunkPoint {
            id,
            site_id: if id % 2 == 0 { "a" } else { "b" }.to_string(),
            document_id: format!("doc-{}", id % 10),
            vector: unit_vector(&mut rng),
        })
        .collect();
    let query = points[41].vector.clone();
    index.upsert(points).await.expect("upsert");
    index.optimize().await.expect("optimize");

    let hits = index.search("a", &query, 5).await.expect("search");
    assert_eq!(hits[0].id, 42);
    assert!(hits.iter().all(|hit| hit.id % 2 == 0), "{hits:?}");
    assert_eq!(index.count("a").await.expect("count"), 600);
}
