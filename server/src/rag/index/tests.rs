//! The `VectorIndex` contract, written once and run against both backends: the embedded index
//! always, the Qdrant server's when `CONCIERGE_QDRANT_URL` points at one (gRPC port; marked
//! ignored otherwise).

use std::collections::HashSet;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{ChunkPoint, EdgeIndex, Hit, IndexError, QdrantIndex, VectorIndex};

pub(super) const DIM: usize = 16;

/// Opens the same store again and again, so persistence can be checked across handles.
#[async_trait::async_trait]
pub(super) trait Backend: Send + Sync {
    async fn open(&self) -> Arc<dyn VectorIndex>;
    async fn cleanup(&self) {}
}

pub(super) struct EdgeBackend {
    dir: tempfile::TempDir,
}

impl EdgeBackend {
    pub(super) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temp dir"),
        }
    }
}

#[async_trait::async_trait]
impl Backend for EdgeBackend {
    async fn open(&self) -> Arc<dyn VectorIndex> {
        Arc::new(EdgeIndex::open_for_tests(self.dir.path(), DIM).expect("open the edge index"))
    }
}

struct QdrantBackend {
    url: String,
    api_key: Option<String>,
    collection: String,
}

impl QdrantBackend {
    /// The server named by `CONCIERGE_QDRANT_URL` (these tests are marked as needing it).
    fn from_env() -> Self {
        let url = std::env::var("CONCIERGE_QDRANT_URL").unwrap_or_else(|_| {
            panic!(
                "CONCIERGE_QDRANT_URL is not set: these tests need a Qdrant server (its gRPC \
                 url, e.g. http://127.0.0.1:6334)"
            )
        });
        Self {
            url,
            api_key: std::env::var("CONCIERGE_QDRANT_API_KEY").ok(),
            collection: format!("concierge_test_{:016x}", rand::random::<u64>()),
        }
    }

    async fn connect(&self) -> QdrantIndex {
        QdrantIndex::connect(&self.url, self.api_key.clone(), &self.collection, DIM)
            .await
            .expect("connect to the Qdrant server")
    }
}

#[async_trait::async_trait]
impl Backend for QdrantBackend {
    async fn open(&self) -> Arc<dyn VectorIndex> {
        Arc::new(self.connect().await)
    }
    async fn cleanup(&self) {
        if let Err(error) = self.connect().await.drop_collection().await {
            eprintln!(
                "could not drop test collection {}: {error}",
                self.collection
            );
        }
    }
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod embedded_edge_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::EdgeBackend::new()).await;
                }
            )*
        }
        mod qdrant_server_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs a Qdrant server (CONCIERGE_QDRANT_URL)"]
                async fn $name() {
                    let backend = super::QdrantBackend::from_env();
                    super::$name(&backend).await;
                    super::Backend::cleanup(&backend).await;
                }
            )*
        }
    };
}

contract_tests!(
    a_search_for_one_site_never_returns_another_sites_points,
    the_nearest_chunk_scores_highest_by_cosine_similarity,
    upserting_an_existing_id_replaces_the_chunk,
    deleting_a_document_removes_all_its_chunks_and_nothing_else,
    deleting_chunk_ids_never_touches_another_sites_chunks,
    counts_and_searches_are_per_site,
    chunks_survive_reopening_the_index_before_and_after_optimize,
    vectors_of_the_wrong_dimension_are_rejected,
    searches_keep_working_while_optimize_runs,
);

pub(super) fn unit_vector(rng: &mut StdRng) -> Vec<f32> {
    let v: Vec<f32> = (0..DIM).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

fn chunk(id: u64, site: &str, document: &str, vector: Vec<f32>) -> ChunkPoint {
    ChunkPoint {
        id,
        site_id: site.to_string(),
        document_id: document.to_string(),
        vector,
    }
}

/// Ids of site b's points start above this; site a's are 1..=n.
pub(super) const SITE_B_IDS: u64 = 1_000_000;

/// Site "a" holds ids 1..=n; site "b" holds ids SITE_B_IDS+1..=SITE_B_IDS+n whose vectors are site a's plus
/// tiny noise, so for a query equal to a site-b vector an unfiltered search would rank site b's
/// point first. Returns the site-b vectors, to be used as queries.
pub(super) async fn load_twin_sites(index: &dyn VectorIndex, n: u64) -> Vec<Vec<f32>> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut points = Vec::new();
    let mut queries = Vec::new();
    for i in 1..=n {
        let a = unit_vector(&mut rng);
        let b: Vec<f32> = a.iter().map(|x| x + rng.gen_range(-0.001..0.001)).collect();
        points.push(chunk(i, "a", "doc", a));
        points.push(chunk(SITE_B_IDS + i, "b", "doc", b.clone()));
        queries.push(b);
    }
    index.upsert(points).await.expect("upsert twin sites");
    queries
}

/// Every hit of a site-a search is a site-a point, and the nearest one is the twin of the query.
pub(super) async fn assert_site_a_only(index: &dyn VectorIndex, queries: &[Vec<f32>], when: &str) {
    for (i, query) in queries.iter().enumerate() {
        let hits = index.search("a", query, 10).await.expect("search");
        assert_eq!(
            hits.len(),
            10,
            "{when}: site a has enough points for a full page"
        );
        let leaked: Vec<&Hit> = hits.iter().filter(|hit| hit.id > SITE_B_IDS).collect();
        assert!(
            leaked.is_empty(),
            "{when}: site b points leaked into site a's results: {leaked:?}"
        );
        assert_eq!(
            hits[0].id,
            i as u64 + 1,
            "{when}: the twin of query {i} ranks first: {hits:?}"
        );
    }
}

async fn a_search_for_one_site_never_returns_another_sites_points(backend: &dyn Backend) {
    let index = backend.open().await;
    let queries = load_twin_sites(&*index, 200).await;
    assert_site_a_only(&*index, &queries, "before optimize").await;
    index.optimize().await.expect("optimize");
    assert_site_a_only(&*index, &queries, "after optimize").await;
}

async fn the_nearest_chunk_scores_highest_by_cosine_similarity(backend: &dyn Backend) {
    let index = backend.open().await;
    let mut x = vec![0.0; DIM];
    x[0] = 1.0;
    let mut diagonal = vec![0.0; DIM];
    diagonal[0] = 1.0;
    diagonal[1] = 1.0;
    let mut y = vec![0.0; DIM];
    y[1] = 1.0;
    let points = vec![
        chunk(1, "a", "d", y),
        chunk(2, "a", "d", diagonal),
        chunk(3, "a", "d", x),
    ];
    index.upsert(points).await.expect("upsert");

    // Cosine ignores length: a long query along x still matches x exactly.
    let mut query = vec![0.0; DIM];
    query[0] = 5.0;
    let hits = index.search("a", &query, 3).await.expect("search");
    let ids: Vec<u64> = hits.iter().map(|hit| hit.id).collect();
    assert_eq!(ids, vec![3, 2, 1]);
    assert!((hits[0].score - 1.0).abs() < 1e-4, "{hits:?}");
    assert!(
        (hits[1].score - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4,
        "{hits:?}"
    );
    assert!(hits[2].score.abs() < 1e-4, "{hits:?}");
}

async fn upserting_an_existing_id_replaces_the_chunk(backend: &dyn Backend) {
    let index = backend.open().await;
    let mut rng = StdRng::seed_from_u64(1);
    let (old, new) = (unit_vector(&mut rng), unit_vector(&mut rng));
    index
        .upsert(vec![chunk(1, "a", "d1", old.clone())])
        .await
        .expect("upsert");
    index
        .upsert(vec![chunk(1, "a", "d2", new.clone())])
        .await
        .expect("upsert again");

    assert_eq!(index.count("a").await.expect("count"), 1);
    let hits = index.search("a", &new, 1).await.expect("search");
    assert_eq!(hits[0].id, 1);
    assert!(
        (hits[0].score - 1.0).abs() < 1e-4,
        "the new vector is stored: {hits:?}"
    );
    // The payload was replaced too: the chunk now belongs to d2 only.
    index.delete_document("a", "d1").await.expect("delete d1");
    assert_eq!(index.count("a").await.expect("count"), 1);
    index.delete_document("a", "d2").await.expect("delete d2");
    assert_eq!(index.count("a").await.expect("count"), 0);
}

async fn deleting_a_document_removes_all_its_chunks_and_nothing_else(backend: &dyn Backend) {
    let index = backend.open().await;
    let mut rng = StdRng::seed_from_u64(2);
    let mut points = Vec::new();
    for id in 1..=3 {
        points.push(chunk(id, "a", "faq", unit_vector(&mut rng)));
    }
    for id in 4..=5 {
        points.push(chunk(id, "a", "pricing", unit_vector(&mut rng)));
    }
    // Another site may use the same document id; its chunks must survive.
    for id in 6..=7 {
        points.push(chunk(id, "b", "faq", unit_vector(&mut rng)));
    }
    let queries: Vec<Vec<f32>> = points.iter().map(|p| p.vector.clone()).collect();
    index.upsert(points).await.expect("upsert");

    index
        .delete_document("a", "faq")
        .await
        .expect("delete document");

    assert_eq!(index.count("a").await.expect("count a"), 2);
    assert_eq!(index.count("b").await.expect("count b"), 2);
    for query in &queries {
        let ids: HashSet<u64> = index
            .search("a", query, 10)
            .await
            .expect("search")
            .iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, HashSet::from([4, 5]));
    }
}

async fn deleting_chunk_ids_never_touches_another_sites_chunks(backend: &dyn Backend) {
    let index = backend.open().await;
    let mut rng = StdRng::seed_from_u64(3);
    index
        .upsert(vec![
            chunk(1, "a", "d", unit_vector(&mut rng)),
            chunk(2, "a", "d", unit_vector(&mut rng)),
            chunk(3, "b", "d", unit_vector(&mut rng)),
        ])
        .await
        .expect("upsert");

    index
        .delete("b", &[1, 2])
        .await
        .expect("delete with the wrong site");
    assert_eq!(index.count("a").await.expect("count"), 2);

    index.delete("a", &[1]).await.expect("delete");
    assert_eq!(index.count("a").await.expect("count"), 1);
    assert_eq!(index.count("b").await.expect("count"), 1);
    index
        .delete("a", &[])
        .await
        .expect("deleting nothing is fine");
}

async fn counts_and_searches_are_per_site(backend: &dyn Backend) {
    let index = backend.open().await;
    let mut rng = StdRng::seed_from_u64(4);
    let points = (1..=5)
        .map(|id| {
            chunk(
                id,
                if id <= 3 { "a" } else { "b" },
                "d",
                unit_vector(&mut rng),
            )
        })
        .collect();
    index.upsert(points).await.expect("upsert");

    assert_eq!(index.count("a").await.expect("count"), 3);
    assert_eq!(index.count("b").await.expect("count"), 2);
    assert_eq!(index.count("nobody").await.expect("count"), 0);
    let query = unit_vector(&mut rng);
    assert!(index
        .search("nobody", &query, 5)
        .await
        .expect("search")
        .is_empty());
    assert!(index
        .search("a", &query, 0)
        .await
        .expect("search")
        .is_empty());
    assert_eq!(
        index.search("a", &query, 10).await.expect("search").len(),
        3
    );
}

async fn chunks_survive_reopening_the_index_before_and_after_optimize(backend: &dyn Backend) {
    let queries = {
        let index = backend.open().await;
        load_twin_sites(&*index, 100).await
    };
    {
        let index = backend.open().await;
        assert_eq!(index.count("a").await.expect("count"), 100);
        assert_site_a_only(&*index, &queries, "reopened before optimize").await;
        index.optimize().await.expect("optimize");
    }
    let index = backend.open().await;
    assert_eq!(index.count("a").await.expect("count"), 100);
    assert_eq!(index.count("b").await.expect("count"), 100);
    assert_site_a_only(&*index, &queries, "reopened after optimize").await;
}

async fn vectors_of_the_wrong_dimension_are_rejected(backend: &dyn Backend) {
    let index = backend.open().await;
    let short = vec![1.0; DIM - 1];
    let upserted = index.upsert(vec![chunk(1, "a", "d", short.clone())]).await;
    assert!(
        matches!(upserted, Err(IndexError::VectorDimension { expected: DIM, got }) if got == DIM - 1),
        "{upserted:?}"
    );
    let searched = index.search("a", &short, 3).await;
    assert!(
        matches!(searched, Err(IndexError::VectorDimension { .. })),
        "{searched:?}"
    );
    assert_eq!(index.count("a").await.expect("count"), 0);
}

async fn searches_keep_working_while_optimize_runs(backend: &dyn Backend) {
    let index = backend.open().await;
    let queries = load_twin_sites(&*index, 2000).await;
    let optimizing = tokio::spawn({
        let index = Arc::clone(&index);
        async move { index.optimize().await }
    });
    let mut searches_during_optimize = 0;
    while !optimizing.is_finished() {
        assert_site_a_only(&*index, &queries[..5], "during optimize").await;
        searches_during_optimize += 1;
    }
    optimizing.await.expect("optimize task").expect("optimize");
    assert_site_a_only(&*index, &queries[..50], "after a concurrent optimize").await;
    eprintln!("{searches_during_optimize} search rounds ran while optimize was in flight");
}
