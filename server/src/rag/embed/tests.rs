//! Runs the real model, provisioned once per test binary into the shared test cache.

use tokio::sync::OnceCell;

use super::super::provision::{ModelFiles, Provisioner};
use super::*;

fn test_cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CONCIERGE_TEST_WHEEL_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache/concierge-test-wheels")
}

async fn model_files() -> &'static ModelFiles {
    static FILES: OnceCell<ModelFiles> = OnceCell::const_new();
    FILES
        .get_or_init(|| async {
            let root = test_cache_root();
            Provisioner::new(root.join("provisioned"))
                .wheel_cache_dir(&root)
                .run()
                .await
                .expect("provisioning the real model")
        })
        .await
}

async fn embedder() -> Embedder {
    static EMBEDDER: OnceCell<Embedder> = OnceCell::const_new();
    EMBEDDER
        .get_or_init(|| async {
            Embedder::load(model_files().await, 2).expect("loading the model")
        })
        .await
        .clone()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn vectors_have_the_model_dimension_and_unit_length() {
    let embedder = embedder().await;
    let vectors = embedder
        .embed_batch(vec!["How do I reset my password?".into(), String::new()])
        .await
        .unwrap();
    for vector in &vectors {
        assert_eq!(vector.len(), DIM);
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
    }
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_paraphrase_scores_higher_than_an_unrelated_sentence() {
    let embedder = embedder().await;
    let question = embedder
        .embed_query("How can I change my password?")
        .await
        .unwrap();
    let vectors = embedder
        .embed_batch(vec![
            "To reset your password, open Settings and choose Security.".into(),
            "Our office is closed on public holidays.".into(),
            "The cat sat on the warm windowsill all afternoon.".into(),
        ])
        .await
        .unwrap();
    let related = cosine(&question, &vectors[0]);
    let holidays = cosine(&question, &vectors[1]);
    let cat = cosine(&question, &vectors[2]);
    assert!(related > holidays + 0.2, "{related} vs {holidays}");
    assert!(related > cat + 0.2, "{related} vs {cat}");
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_batch_gives_the_same_vectors_as_single_queries() {
    // Texts of very different lengths, so the batch is padded; more than one slice.
    let texts: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "Refund request number {i}: {}",
                "the parcel arrived damaged ".repeat(i % 7)
            )
        })
        .collect();
    let embedder = Embedder::load_with_cache(model_files().await, 2, 0).unwrap();
    let batch = embedder.embed_batch(texts.clone()).await.unwrap();
    assert_eq!(batch.len(), texts.len());
    for (text, from_batch) in texts.iter().zip(&batch) {
        let single = embedder.embed_query(text).await.unwrap();
        let max_diff = single
            .iter()
            .zip(from_batch)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-4, "{text:?} differs by {max_diff}");
    }
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_repeated_query_is_served_from_the_cache() {
    let embedder = embedder().await;
    let first = embedder.embed_query("Where is my order?").await.unwrap();
    let second = embedder.embed_query("Where is my order?").await.unwrap();
    assert!(Arc::ptr_eq(&first, &second));
    let other = embedder.embed_query("where is my order?").await.unwrap();
    assert!(
        !Arc::ptr_eq(&first, &other),
        "the cache key is the exact text"
    );
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn token_counts_are_word_pieces_without_special_tokens_or_truncation() {
    let embedder = embedder().await;
    assert_eq!(embedder.count_tokens(""), 0);
    assert_eq!(embedder.count_tokens("hello world"), 2);
    // "unaffable" splits into several word pieces.
    assert!(embedder.count_tokens("unaffable") > 1);
    let long = "order ".repeat(600);
    assert_eq!(embedder.count_tokens(&long), 600);
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn loading_twice_in_one_process_shares_the_runtime() {
    let files = model_files().await;
    let first = Embedder::load(files, 1).unwrap();
    let second = Embedder::load(files, 1).unwrap();
    let a = first.embed_query("shipping times").await.unwrap();
    let b = second.embed_query("shipping times").await.unwrap();
    assert_eq!(&a[..], &b[..]);
}

#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_missing_model_file_is_an_error_naming_it() {
    let mut files = model_files().await.clone();
    files.onnx = files.onnx.with_file_name("does-not-exist.onnx");
    let err = Embedder::load(&files, 1).unwrap_err();
    assert!(
        matches!(&err, EmbedError::ReadModelFile { path, .. } if path == &files.onnx),
        "{err:?}"
    );
}

/// ONNX Runtime loads once per process, so a bad library can only be seen in a fresh one: the
/// test re-runs itself as a child process that loads nothing else.
#[tokio::test]
#[ignore = "needs the embedding model (a PyPI download; cargo xtask test fetches it)"]
async fn a_runtime_library_that_cannot_load_is_a_clear_error() {
    const CHILD: &str = "CONCIERGE_TEST_BAD_RUNTIME_CHILD";
    let mut files = model_files().await.clone();
    if std::env::var_os(CHILD).is_some() {
        files.ort_dylib = files.tokenizer.clone();
        let err = Embedder::load(&files, 1).unwrap_err();
        assert!(matches!(err, EmbedError::Runtime { .. }), "{err:?}");
        assert!(err.to_string().contains("CONCIERGE_ORT_DYLIB"), "{err}");
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "rag::embed::tests::a_runtime_library_that_cannot_load_is_a_clear_error",
            "--exact",
            // It is marked as needing the model: ignored unless asked for.
            "--include-ignored",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}
