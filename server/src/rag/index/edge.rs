//! [`EdgeIndex`]: the default backend, qdrant-edge embedded in the server process.
//!
//! The shard lives in one directory of the server's data dir. qdrant-edge is synchronous and
//! CPU-bound, so every call runs on tokio's blocking pool. `EdgeShard` takes `&self` everywhere
//! and locks internally (optimization swaps segments behind proxy segments), which is what lets
//! searches and writes go on while `optimize` builds the HNSW graph; we only keep two optimize
//! runs from planning over the same segments. qdrant-edge has no guard against a second process
//! opening the same files, so we hold an exclusive lock file for as long as the shard is open.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use qdrant_edge::external::serde_json::json;
use qdrant_edge::{
    Condition, CountRequest, Distance, EdgeConfig, EdgeOptimizersConfig, EdgeShard,
    EdgeVectorParams, FieldCondition, FieldIndexOperations, Filter, HasIdCondition,
    HnswIndexConfig, JsonPath, KeywordIndexParamsBuilder, NamedQuery, OperationResult,
    PayloadFieldSchema, PayloadSchemaParams, PointId, PointInsertOperations, PointOperations,
    PointStruct, QueryEnum, QueryRequest, ScoringQuery, UpdateOperation, VectorInternal,
    DEFAULT_VECTOR_NAME,
};

use super::{
    check_dimension, ChunkPoint, Hit, IndexError, VectorIndex, DOCUMENT_ID_KEY, SITE_ID_KEY,
};

/// Name of the lock file inside the index directory.
const LOCK_FILE: &str = "concierge-index.lock";
/// Written by qdrant-edge when a shard is created; its presence means "load, don't create".
const EDGE_CONFIG_FILE: &str = "edge_config.json";
/// Points per WAL record: one huge record per ingestion batch would exceed the WAL segment size.
const UPSERT_BATCH: usize = 512;

/// Embedded qdrant-edge index, exclusively owned by this process while it is open.
pub struct EdgeIndex {
    /// Shared with in-flight blocking tasks, so a cancelled request cannot close the shard (and
    /// release the lock file) under a task that is still writing.
    inner: Arc<Inner>,
    /// Vector size of the embedding model, checked before anything reaches qdrant-edge.
    dim: usize,
}

struct Inner {
    /// Declared before `_lock` so the shard is flushed and closed before the lock is released.
    shard: EdgeShard,
    /// Two optimize runs would plan over the same segments; searches and writes need no guard.
    optimizing: Mutex<()>,
    /// Held open for the lifetime of the shard; the OS releases the lock when it is closed.
    _lock: File,
}

/// Knobs that differ between production (qdrant's defaults) and tests (tiny thresholds, so a
/// few hundred points already get an HNSW graph and filtered searches go through it).
#[derive(Default)]
struct Tuning {
    hnsw: Option<HnswIndexConfig>,
    optimizers: Option<EdgeOptimizersConfig>,
}

impl EdgeIndex {
    /// Opens the index in `dir`, creating it on first use. Fails with [`IndexError::Locked`] if
    /// another process (or another `EdgeIndex` in this one) has it open.
    pub fn open(dir: &Path, dim: usize) -> Result<Self, IndexError> {
        Self::open_tuned(dir, dim, Tuning::default())
    }

    /// Like [`EdgeIndex::open`], with thresholds low enough that a few hundred points are
    /// indexed with HNSW and filtered searches use the graph instead of a full scan.
    #[cfg(test)]
    pub(super) fn open_for_tests(dir: &Path, dim: usize) -> Result<Self, IndexError> {
        Self::open_tuned(
            dir,
            dim,
            Tuning {
                hnsw: Some(HnswIndexConfig {
                    full_scan_threshold: 1,
                    ..tenant_hnsw()
                }),
                optimizers: Some(EdgeOptimizersConfig {
                    indexing_threshold: Some(1),
                    ..EdgeOptimizersConfig::default()
                }),
            },
        )
    }

    fn open_tuned(dir: &Path, dim: usize, tuning: Tuning) -> Result<Self, IndexError> {
        let io = |source| IndexError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let lock = lock_dir(dir)?;

        let shard = if dir.join(EDGE_CONFIG_FILE).exists() {
            let shard = EdgeShard::load(dir, None).map_err(edge("load the index"))?;
            let found = shard
                .config()
                .vectors
                .get(DEFAULT_VECTOR_NAME)
                .map_or(0, |params| params.size);
            if found != dim {
                return Err(IndexError::IndexDimension {
                    location: dir.display().to_string(),
                    found,
                    expected: dim,
                });
            }
            shard
        } else {
            EdgeShard::new(dir, new_config(dim, tuning)).map_err(edge("create the index"))?
        };
        ensure_payload_indexes(&shard)?;

        Ok(Self {
            inner: Arc::new(Inner {
                shard,
                optimizing: Mutex::new(()),
                _lock: lock,
            }),
            dim,
        })
    }

    async fn run<T, F>(&self, op: &'static str, f: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> OperationResult<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await?
            .map_err(edge(op))
    }

    /// Number of vectors currently covered by an HNSW graph (0 until `optimize` has run over
    /// enough data).
    #[cfg(test)]
    pub(super) fn indexed_vectors(&self) -> usize {
        self.inner
            .shard
            .info()
            .map_or(0, |info| info.indexed_vectors_count)
    }
}

#[async_trait::async_trait]
impl VectorIndex for EdgeIndex {
    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), IndexError> {
        for point in &points {
            check_dimension(self.dim, &point.vector)?;
        }
        if points.is_empty() {
            return Ok(());
        }
        self.run("store chunks", move |inner| {
            let mut points = points.into_iter().peekable();
            while points.peek().is_some() {
                let batch = points
                    .by_ref()
                    .take(UPSERT_BATCH)
                    .map(|p| {
                        let payload =
                            json!({ SITE_ID_KEY: p.site_id, DOCUMENT_ID_KEY: p.document_id });
                        PointStruct::new(PointId::NumId(p.id), p.vector, payload).into()
                    })
                    .collect();
                inner.shard.update(UpdateOperation::PointOperation(
                    PointOperations::UpsertPoints(PointInsertOperations::PointsList(batch)),
                ))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, site_id: &str, ids: &[u64]) -> Result<(), IndexError> {
        if ids.is_empty() {
            return Ok(());
        }
        // By filter rather than by id, so a wrong site_id can never delete another site's chunks.
        let has_id: ahash::AHashSet<PointId> = ids.iter().map(|&id| PointId::NumId(id)).collect();
        let filter = Filter {
            must: Some(vec![
                keyword_condition(SITE_ID_KEY, site_id),
                Condition::HasId(HasIdCondition::from(has_id)),
            ]),
            ..Filter::default()
        };
        self.run("delete chunks", move |inner| {
            inner.shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))
        })
        .await
    }

    async fn delete_document(&self, site_id: &str, document_id: &str) -> Result<(), IndexError> {
        let filter = Filter {
            must: Some(vec![
                keyword_condition(SITE_ID_KEY, site_id),
                keyword_condition(DOCUMENT_ID_KEY, document_id),
            ]),
            ..Filter::default()
        };
        self.run("delete a document's chunks", move |inner| {
            inner.shard.update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))
        })
        .await
    }

    async fn search(
        &self,
        site_id: &str,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        check_dimension(self.dim, vector)?;
        if k == 0 {
            return Ok(Vec::new());
        }
        let mut request = QueryRequest::new(k);
        request.query = Some(ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery {
            query: VectorInternal::Dense(vector.to_vec()),
            using: None,
        })));
        request.filter = Some(Filter::new_must(keyword_condition(SITE_ID_KEY, site_id)));
        let scored = self
            .run("search", move |inner| inner.shard.query(request))
            .await?;
        scored
            .into_iter()
            .map(|point| match point.id {
                PointId::NumId(id) => Ok(Hit {
                    id,
                    score: point.score,
                }),
                other @ PointId::Uuid(_) => Err(IndexError::ForeignPointId(other.to_string())),
            })
            .collect()
    }

    async fn optimize(&self) -> Result<(), IndexError> {
        self.run("optimize", |inner| {
            let _one_at_a_time = inner
                .optimizing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            inner.shard.optimize()?;
            // Persist the new segments now rather than on drop, so a crash does not replay the
            // whole WAL into unindexed segments.
            inner.shard.flush()
        })
        .await
    }

    async fn count(&self, site_id: &str) -> Result<u64, IndexError> {
        let request = CountRequest {
            filter: Some(Filter::new_must(keyword_condition(SITE_ID_KEY, site_id))),
            exact: true,
        };
        let count = self
            .run("count chunks", move |inner| inner.shard.count(request))
            .await?;
        Ok(count as u64)
    }
}

fn lock_dir(dir: &Path) -> Result<File, IndexError> {
    let path = dir.join(LOCK_FILE);
    let io = |source| IndexError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    // fs4 rather than std's File::try_lock, which is newer than the workspace's MSRV (1.85).
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(fs4::TryLockError::WouldBlock) => {
            return Err(IndexError::Locked {
                dir: dir.to_path_buf(),
            })
        }
        Err(fs4::TryLockError::Error(source)) => return Err(io(source)),
    }
    // Only informative, for whoever finds the index locked.
    file.set_len(0).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(file)
}

/// Every search is filtered to one site, so instead of one global graph (`m`) we build one graph
/// per site (`payload_m`), as Qdrant's multitenancy guide recommends. With a global graph, qdrant
/// skips per-site graphs for sites holding more than a few percent of the points, and filtered
/// search then walks the global graph restricted to the site: a chunk whose near-duplicate
/// belongs to another site (two sites ingesting the same FAQ) has its links pruned in favour of
/// that duplicate and becomes unreachable. Sites too small for a graph are scanned exactly.
fn tenant_hnsw() -> HnswIndexConfig {
    HnswIndexConfig {
        m: 0,
        payload_m: Some(16),
        ..HnswIndexConfig::default()
    }
}

fn new_config(dim: usize, tuning: Tuning) -> EdgeConfig {
    let mut config = EdgeConfig::builder()
        .vector(
            DEFAULT_VECTOR_NAME,
            EdgeVectorParams::builder(dim, Distance::Cosine).build(),
        )
        .build();
    config.hnsw_config = Some(tuning.hnsw.unwrap_or_else(tenant_hnsw));
    config.optimizers = tuning.optimizers;
    config
}

/// Creates the keyword indexes on first open; segments persist them, so reopening is a no-op.
fn ensure_payload_indexes(shard: &EdgeShard) -> Result<(), IndexError> {
    let existing = shard
        .info()
        .map_err(edge("read the index schema"))?
        .payload_schema;
    let wanted = [
        // The tenant key: every query filters on it, so qdrant keeps its points together.
        (
            SITE_ID_KEY,
            KeywordIndexParamsBuilder::new().is_tenant(true).build(),
        ),
        // Only used to delete; extra HNSW links per document would cost build time for nothing.
        (
            DOCUMENT_ID_KEY,
            KeywordIndexParamsBuilder::new().enable_hnsw(false).build(),
        ),
    ];
    for (key, params) in wanted {
        let field_name = json_path(key);
        if existing.contains_key(&field_name) {
            continue;
        }
        shard
            .update(UpdateOperation::FieldIndexOperation(
                FieldIndexOperations::CreateIndex(qdrant_edge::CreateIndex {
                    field_name,
                    field_schema: Some(PayloadFieldSchema::FieldParams(
                        PayloadSchemaParams::Keyword(params),
                    )),
                }),
            ))
            .map_err(edge("create a payload index"))?;
    }
    Ok(())
}

fn keyword_condition(key: &str, value: &str) -> Condition {
    Condition::Field(FieldCondition::new_match(
        json_path(key),
        value.to_string().into(),
    ))
}

fn json_path(key: &str) -> JsonPath {
    // Only ever called with our own constant keys, which are plain identifiers.
    key.parse()
        .unwrap_or_else(|()| panic!("{key:?} is not a valid payload key"))
}

fn edge(op: &'static str) -> impl Fn(qdrant_edge::OperationError) -> IndexError {
    move |source| IndexError::Edge { op, source }
}

#[cfg(test)]
mod tests;
