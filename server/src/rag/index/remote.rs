//! [`QdrantIndex`]: the vector index on a Qdrant server (`CONCIERGE_QDRANT_URL`), for deployments
//! where several server nodes share one index and the embedded backend's single-process lock
//! would not do.
//!
//! All sites share one collection; `site_id` is a tenant keyword index and every request filters
//! on it, as Qdrant's multitenancy guide recommends over a collection per site. Writes wait for
//! the server to apply them, so a search right after an upsert sees it (same as the embedded
//! backend).

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::{
    vectors_config, Condition, CountPointsBuilder, CreateCollectionBuilder,
    CreateFieldIndexCollectionBuilder, DeletePointsBuilder, Distance, FieldType, Filter,
    KeywordIndexParamsBuilder, PointStruct, QueryPointsBuilder, UpsertPointsBuilder,
    VectorParamsBuilder,
};
use qdrant_client::{Payload, Qdrant, QdrantError};

use super::{
    check_dimension, ChunkPoint, Hit, IndexError, VectorIndex, DOCUMENT_ID_KEY, SITE_ID_KEY,
};

/// Points per upsert request, to stay well below the server's gRPC message size limit.
const UPSERT_BATCH: usize = 256;

/// A collection on a Qdrant server, shared by all sites.
pub struct QdrantIndex {
    /// gRPC client; cheap to share, it pools its own connections.
    client: Qdrant,
    /// Collection holding every site's chunks.
    collection: String,
    /// Vector size of the embedding model, checked before a request is sent.
    dim: usize,
}

impl QdrantIndex {
    /// Connects to the Qdrant server at `url` (its gRPC port, usually 6334) and creates the
    /// collection and its payload indexes if they are missing.
    pub async fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dim: usize,
    ) -> Result<Self, IndexError> {
        let client = Qdrant::from_url(url)
            .api_key(api_key)
            .skip_compatibility_check()
            .build()
            .map_err(remote("connect"))?;
        let index = Self {
            client,
            collection: collection.to_string(),
            dim,
        };
        index.ensure_collection().await?;
        Ok(index)
    }

    async fn ensure_collection(&self) -> Result<(), IndexError> {
        let exists = self
            .client
            .collection_exists(&self.collection)
            .await
            .map_err(remote("check the collection"))?;
        if !exists {
            let created = self
                .client
                .create_collection(
                    CreateCollectionBuilder::new(&self.collection).vectors_config(
                        VectorParamsBuilder::new(self.dim as u64, Distance::Cosine),
                    ),
                )
                .await;
            // Another node may have created it between the check and the create.
            if let Err(error) = created {
                let now_exists = self
                    .client
                    .collection_exists(&self.collection)
                    .await
                    .unwrap_or(false);
                if !now_exists {
                    return Err(remote("create the collection")(error));
                }
            }
        }
        self.check_collection_dimension().await?;

        // Creating an index that already exists with the same schema is a no-op on the server.
        let indexes = [
            CreateFieldIndexCollectionBuilder::new(
                &self.collection,
                SITE_ID_KEY,
                FieldType::Keyword,
            )
            .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true)),
            CreateFieldIndexCollectionBuilder::new(
                &self.collection,
                DOCUMENT_ID_KEY,
                FieldType::Keyword,
            ),
        ];
        for index in indexes {
            self.client
                .create_field_index(index.wait(true))
                .await
                .map_err(remote("create a payload index"))?;
        }
        Ok(())
    }

    async fn check_collection_dimension(&self) -> Result<(), IndexError> {
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(remote("read the collection"))?;
        let found = info
            .result
            .and_then(|info| info.config)
            .and_then(|config| config.params)
            .and_then(|params| params.vectors_config)
            .and_then(|vectors| vectors.config);
        let found = match found {
            Some(vectors_config::Config::Params(params)) => params.size as usize,
            // A collection with named vectors is not one we created.
            _ => 0,
        };
        if found == self.dim {
            Ok(())
        } else {
            Err(IndexError::IndexDimension {
                location: format!("Qdrant collection {:?}", self.collection),
                found,
                expected: self.dim,
            })
        }
    }

    /// Drops the collection; tests use it to clean up after themselves.
    #[cfg(test)]
    pub(super) async fn drop_collection(&self) -> Result<(), IndexError> {
        self.client
            .delete_collection(&self.collection)
            .await
            .map_err(remote("delete the collection"))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl VectorIndex for QdrantIndex {
    async fn upsert(&self, points: Vec<ChunkPoint>) -> Result<(), IndexError> {
        for point in &points {
            check_dimension(self.dim, &point.vector)?;
        }
        let points: Vec<PointStruct> = points
            .into_iter()
            .map(|p| {
                let payload = Payload::from([
                    (SITE_ID_KEY, p.site_id.into()),
                    (DOCUMENT_ID_KEY, p.document_id.into()),
                ]);
                PointStruct::new(p.id, p.vector, payload)
            })
            .collect();
        for batch in points.chunks(UPSERT_BATCH) {
            self.client
                .upsert_points(
                    UpsertPointsBuilder::new(&self.collection, batch.to_vec()).wait(true),
                )
                .await
                .map_err(remote("store chunks"))?;
        }
        Ok(())
    }

    async fn delete(&self, site_id: &str, ids: &[u64]) -> Result<(), IndexError> {
        if ids.is_empty() {
            return Ok(());
        }
        // By filter rather than by id, so a wrong site_id can never delete another site's chunks.
        let filter = Filter::must([
            site_condition(site_id),
            Condition::has_id(ids.iter().copied()),
        ]);
        self.delete_by(filter, "delete chunks").await
    }

    async fn delete_document(&self, site_id: &str, document_id: &str) -> Result<(), IndexError> {
        let filter = Filter::must([
            site_condition(site_id),
            Condition::matches(DOCUMENT_ID_KEY, document_id.to_string()),
        ]);
        self.delete_by(filter, "delete a document's chunks").await
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
        let response = self
            .client
            .query(
                QueryPointsBuilder::new(&self.collection)
                    .query(vector.to_vec())
                    .filter(Filter::must([site_condition(site_id)]))
                    .limit(k as u64),
            )
            .await
            .map_err(remote("search"))?;
        response
            .result
            .into_iter()
            .map(|point| match point.id.and_then(|id| id.point_id_options) {
                Some(PointIdOptions::Num(id)) => Ok(Hit {
                    id,
                    score: point.score,
                }),
                Some(PointIdOptions::Uuid(uuid)) => Err(IndexError::ForeignPointId(uuid)),
                None => Err(IndexError::ForeignPointId("<none>".to_string())),
            })
            .collect()
    }

    /// The server builds HNSW graphs in the background on its own schedule; there is nothing to
    /// trigger, and searches are correct (if slower) until it is done.
    async fn optimize(&self) -> Result<(), IndexError> {
        Ok(())
    }

    async fn count(&self, site_id: &str) -> Result<u64, IndexError> {
        let response = self
            .client
            .count(
                CountPointsBuilder::new(&self.collection)
                    .filter(Filter::must([site_condition(site_id)]))
                    .exact(true),
            )
            .await
            .map_err(remote("count chunks"))?;
        Ok(response.result.map_or(0, |result| result.count))
    }
}

impl QdrantIndex {
    async fn delete_by(&self, filter: Filter, op: &'static str) -> Result<(), IndexError> {
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(filter)
                    .wait(true),
            )
            .await
            .map_err(remote(op))?;
        Ok(())
    }
}

fn site_condition(site_id: &str) -> Condition {
    Condition::matches(SITE_ID_KEY, site_id.to_string())
}

fn remote(op: &'static str) -> impl Fn(QdrantError) -> IndexError {
    move |source| IndexError::Remote {
        op,
        source: Box::new(source),
    }
}
