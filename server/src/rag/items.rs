//! What an ingestion job is given: items for uploaded files, page and sitemap URLs, and a
//! local file or folder (the CLI's `kb add`). A file over the size cap becomes an item queued
//! as failed, so the job reports it instead of losing it.

use std::path::Path;

use super::crawl::is_sitemap_url;
use super::RagError;
use crate::store::NewItem;

/// File extensions a directory ingest picks up.
pub const SUPPORTED_EXTENSIONS: &[&str] = &["md", "markdown", "html", "htm", "txt", "text", "pdf"];

/// An item for an uploaded or local file; over the size cap it is queued as failed.
pub fn file_item(max_bytes: usize, doc_key: String, name: String, bytes: Vec<u8>) -> NewItem {
    let failed = (bytes.len() > max_bytes).then(|| {
        format!(
            "file is {} bytes, over the {max_bytes} byte limit",
            bytes.len()
        )
    });
    NewItem {
        doc_key,
        source: "file",
        name,
        payload: failed.is_none().then_some(bytes),
        failed,
        forced: false,
    }
}

/// An item for a page URL or a sitemap URL.
pub fn url_item(url: &str) -> Result<NewItem, RagError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| RagError::BadInput(format!("{url} is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(RagError::BadInput(format!(
            "{url}: only http and https URLs"
        )));
    }
    Ok(NewItem {
        doc_key: url.to_string(),
        source: if is_sitemap_url(url) {
            "sitemap"
        } else {
            "url"
        },
        name: parsed
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| parsed.host_str().unwrap_or("page").to_string()),
        payload: None,
        failed: None,
        forced: false,
    })
}

/// Items for a local path: a directory yields every supported file under it, keyed by its
/// path relative to the directory; a file is keyed by its name.
pub fn local_items(max_bytes: usize, path: &Path) -> std::io::Result<Vec<NewItem>> {
    let mut items = Vec::new();
    if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        files.sort();
        for file in files {
            let rel = file
                .strip_prefix(path)
                .unwrap_or(&file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            items.push(file_item_from_disk(max_bytes, &file, rel)?);
        }
    } else {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| path.display().to_string());
        items.push(file_item_from_disk(max_bytes, path, name)?);
    }
    Ok(items)
}

fn file_item_from_disk(max_bytes: usize, file: &Path, doc_key: String) -> std::io::Result<NewItem> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| doc_key.clone());
    let size = std::fs::metadata(file)?.len() as usize;
    if size > max_bytes {
        // Do not read a huge file just to refuse it.
        return Ok(NewItem {
            doc_key,
            source: "file",
            name,
            payload: None,
            failed: Some(format!(
                "file is {size} bytes, over the {max_bytes} byte limit"
            )),
            forced: false,
        });
    }
    Ok(file_item(max_bytes, doc_key, name, std::fs::read(file)?))
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SUPPORTED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}
