//! Bodies of the knowledge-base and install routes of `/api/v1/sites/{site_key}/...` that the
//! dashboard's console uses: the documents with their status and progress, ingestion jobs and
//! their items, "Ask your docs" (a streamed answer), grouped knowledge gaps, and which origins
//! the widget connected from. Typed once for the server (which serializes them) and the
//! dashboard (which reads them). Times are RFC 3339 strings.

use serde::{Deserialize, Serialize};

use crate::{ErrorCode, IngestJob, Source};

/// Where a document stands, as the documents list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// In a job that has not started yet.
    Queued,
    /// In the job being worked on (see `progress`), or stored but not searchable by meaning
    /// yet (its vectors are being written).
    Processing,
    /// Stored and answering questions.
    Ready,
    /// The last attempt failed (`error` says why); a document stored before keeps answering
    /// with its previous content.
    Failed,
}

/// One row of `GET /api/v1/sites/{site_key}/documents`: every stored document, and every
/// file, page or sitemap of a recent job that is not stored (queued, being processed, or
/// failed), so the list alone can show progress bars and errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentView {
    /// The document id: the uploaded file's relative path, or the page's URL.
    pub id: String,
    /// The document's title (its first heading), or the file name before it is read.
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    /// `markdown`, `html`, `text` or `pdf`; null until the document is read.
    #[serde(default)]
    pub kind: Option<String>,
    /// Size of the stored original in bytes; null until the document is stored.
    #[serde(default)]
    pub bytes: Option<i64>,
    /// Stored chunks; null until the document is stored.
    #[serde(default)]
    pub chunks: Option<i64>,
    /// Its chunks are in the vector index (searchable by meaning).
    #[serde(default)]
    pub indexed: bool,
    #[serde(default)]
    pub content_hash: Option<String>,
    /// When the stored document last changed; null until it is stored.
    #[serde(default)]
    pub updated_at: Option<String>,
    pub status: DocumentStatus,
    /// Why the last attempt failed, in words (too large, unreadable PDF, robots.txt refused...).
    #[serde(default)]
    pub error: Option<String>,
    /// 0.0 to 1.0 while in a running job (chunks embedded / chunks to embed); null otherwise.
    #[serde(default)]
    pub progress: Option<f32>,
    /// The running or failed job the status comes from.
    #[serde(default)]
    pub job_id: Option<String>,
}

/// What a job's item was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemSource {
    /// An uploaded or local file.
    File,
    /// One page, fetched.
    Url,
    /// A sitemap, which expands into page items of the same job.
    Sitemap,
}

/// Where one item of a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Not finished yet (waiting, or being processed: see `progress`).
    Queued,
    /// Stored and searchable.
    Ready,
    /// Same content as what was stored: nothing to do.
    Unchanged,
    Failed,
}

/// One item of a job (`GET /api/v1/sites/{site_key}/jobs/{job_id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobItemView {
    pub document_id: String,
    pub source: ItemSource,
    pub status: ItemStatus,
    /// Why it failed, in words.
    #[serde(default)]
    pub error: Option<String>,
    /// Chunks stored (pages found, for a sitemap), once finished.
    #[serde(default)]
    pub chunks: Option<i64>,
    /// Chunks to embed, once the document is read and split.
    #[serde(default)]
    pub chunks_total: Option<i64>,
    /// 0.0 to 1.0: chunks embedded / chunks total while processing; 1.0 once finished
    /// (whatever the outcome).
    pub progress: f32,
}

/// `GET /api/v1/sites/{site_key}/jobs/{job_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetail {
    pub job: IngestJob,
    pub items: Vec<JobItemView>,
}

/// 202 answer to adding documents or re-indexing one: the queued job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobAccepted {
    pub job: IngestJob,
}

/// `POST /api/v1/sites/{site_key}/ask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskBody {
    /// 1 to 4,000 characters.
    pub question: String,
}

/// A retrieved passage, as "Ask your docs" shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskPassage {
    pub document_id: String,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    /// Heading path inside the document ("Title › Section").
    #[serde(default)]
    pub section: String,
    /// Fused retrieval score (reciprocal rank fusion; higher is better, ranks the passages).
    pub score: f32,
    /// Cosine similarity to the question, when the meaning search proposed the passage
    /// (what the confidence threshold is compared with).
    #[serde(default)]
    pub similarity: Option<f32>,
    pub text: String,
}

/// One line of the `application/x-ndjson` answer to `POST /api/v1/sites/{site_key}/ask`:
/// `passages` first, then `delta`s as the answer is written, then `done`; or `error` (at any
/// point) instead of what is left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AskEvent {
    /// The passages retrieval found, best first, as the bot would see them.
    Passages {
        passages: Vec<AskPassage>,
        /// Best cosine similarity among them; below `threshold` the bot does not answer.
        #[serde(default)]
        best_similarity: f32,
        /// The site's confidence threshold.
        #[serde(default)]
        threshold: f32,
    },
    /// The next piece of the answer's text.
    Delta { text: String },
    /// The whole answer and its citations; `answered` is false when the bot would say it
    /// does not know (and offer a person).
    Done {
        answer: String,
        citations: Vec<Source>,
        answered: bool,
    },
    /// The answer could not be written (the model or the index is unavailable...).
    Error { code: ErrorCode, message: String },
}

/// `GET /api/v1/sites/{site_key}/knowledge-gaps`: one question the bot could not answer,
/// grouped over its wordings (case, spacing and trailing punctuation aside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeGapGroup {
    /// Stable key of the group (URL-safe), for `.../knowledge-gaps/{id}/dismiss`.
    pub id: String,
    /// The most recent wording.
    pub question: String,
    /// Times asked (since the group was last dismissed).
    pub count: i64,
    pub last_asked_at: String,
    /// Best retrieval similarity seen for it (cosine, -1..1).
    pub best_score: f64,
    /// The conversation where it was last asked.
    #[serde(default)]
    pub conversation_id: Option<String>,
}

/// An origin of `GET /api/v1/sites/{site_key}/installation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginSeen {
    /// An allowed origin (pattern) of the site, or an origin the widget connected from.
    pub origin: String,
    /// Allowed by the site's current settings; false for an origin seen and refused (or no
    /// longer allowed).
    pub allowed: bool,
    /// Last visitor socket from it (or, for a pattern, from any origin it matches); null when
    /// never seen. Recorded at most once a minute per origin and server.
    #[serde(default)]
    pub last_seen_at: Option<String>,
    /// Visitor sockets opened (or refused) from it.
    pub connections: i64,
}

/// `GET /api/v1/sites/{site_key}/installation`: whether the widget connected from each
/// allowed origin, and from which refused ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallationView {
    pub origins: Vec<OriginSeen>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ask_events_are_tagged_by_type_in_snake_case() {
        let delta = serde_json::to_value(AskEvent::Delta { text: "Hi".into() }).unwrap();
        assert_eq!(delta, serde_json::json!({"type": "delta", "text": "Hi"}));
        let error = serde_json::to_value(AskEvent::Error {
            code: ErrorCode::Unavailable,
            message: "later".into(),
        })
        .unwrap();
        assert_eq!(error["type"], "error");
        assert_eq!(error["code"], "unavailable");
        let done: AskEvent =
            serde_json::from_str(r#"{"type":"done","answer":"x","citations":[],"answered":false}"#)
                .unwrap();
        assert_eq!(
            done,
            AskEvent::Done {
                answer: "x".into(),
                citations: vec![],
                answered: false
            }
        );
    }

    #[test]
    fn document_statuses_read_as_words() {
        let s: DocumentStatus = serde_json::from_str("\"processing\"").unwrap();
        assert_eq!(s, DocumentStatus::Processing);
        assert_eq!(
            serde_json::to_string(&ItemSource::Sitemap).unwrap(),
            "\"sitemap\""
        );
    }
}
