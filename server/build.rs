//! Embeds the widget's built files so one binary serves everything.
//!
//! `cargo xtask widget` writes `widget/dist/`: `widget.js` (the loader) and `manifest.json`,
//! `{"files": [{"name": "cw-1a2b3c4d.wasm", "content_type": "application/wasm"}, ...]}`,
//! naming the content-hashed files the loader fetches. This script reads that directory (or
//! the one named by `CONCIERGE_WIDGET_DIST`; a relative path is taken from the workspace root)
//! and generates `OUT_DIR/widget_assets.rs`: a slice of `http::assets::Asset` with each file's
//! bytes (`include_bytes!` of the file itself), its gzip (best compression, written next to
//! the generated code) and a strong ETag (16 hex digits of its SHA-256).
//!
//! No directory or no manifest: an empty table, and the server answers `/widget.js` with 503
//! `unavailable`. A manifest that names a missing or oddly named file fails the build (a
//! broken widget build should not ship quietly).

use std::env;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

const LOADER: &str = "widget.js";

struct Entry {
    name: String,
    content_type: String,
    source: PathBuf,
}

fn main() {
    println!("cargo:rerun-if-env-changed=CONCIERGE_WIDGET_DIST");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.clone());
    let dist = match env::var_os("CONCIERGE_WIDGET_DIST").filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join("widget").join("dist"),
    };
    watch(&root, &dist);
    let entries = read_dist(&dist).unwrap_or_else(|e| {
        panic!(
            "the widget build in {} is broken: {e}; rerun `cargo xtask widget`",
            dist.display()
        )
    });
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    let mut code = String::from("&[\n");
    for entry in &entries {
        let raw = std::fs::read(&entry.source)
            .unwrap_or_else(|e| panic!("reading {}: {e}", entry.source.display()));
        let gz_path = out.join(format!("{}.gz", entry.name));
        std::fs::write(&gz_path, gzip(&raw))
            .unwrap_or_else(|e| panic!("writing {}: {e}", gz_path.display()));
        let hash: String = Sha256::digest(&raw)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let _ = writeln!(
            code,
            "    Asset {{ name: {:?}, content_type: {:?}, raw: include_bytes!({:?}), \
             gzip: include_bytes!({:?}), etag: {:?}, gzip_etag: {:?} }},",
            entry.name,
            entry.content_type,
            path_str(&entry.source),
            path_str(&gz_path),
            format!("\"{hash}\""),
            format!("\"{hash}-gzip\""),
        );
    }
    code.push_str("]\n");
    let table = out.join("widget_assets.rs");
    std::fs::write(&table, code).unwrap_or_else(|e| panic!("writing {}: {e}", table.display()));
}

/// Reruns when the built files change. Before the first widget build, watches the directory
/// that will hold them (when it is inside the workspace and not its root, which holds
/// `target/`); a path that does not exist would rerun this script on every build.
fn watch(root: &Path, dist: &Path) {
    if dist.is_dir() {
        println!("cargo:rerun-if-changed={}", dist.display());
    } else if let Some(parent) = dist.parent() {
        if parent.is_dir() && parent.starts_with(root) && parent != root {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
    }
}

/// The loader and the manifest's files; none when the widget was not built.
fn read_dist(dist: &Path) -> Result<Vec<Entry>, String> {
    let manifest_path = dist.join("manifest.json");
    let loader = dist.join(LOADER);
    if !manifest_path.is_file() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&manifest_path).map_err(|e| format!("manifest.json: {e}"))?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("manifest.json: {e}"))?;
    let files = manifest["files"]
        .as_array()
        .ok_or("manifest.json has no \"files\" array")?;
    if !loader.is_file() {
        return Err(format!("{LOADER} is missing"));
    }
    let mut entries = vec![Entry {
        name: LOADER.to_string(),
        content_type: "text/javascript; charset=utf-8".to_string(),
        source: loader,
    }];
    for file in files {
        let name = file["name"].as_str().ok_or("a file has no \"name\"")?;
        let content_type = file["content_type"]
            .as_str()
            .ok_or_else(|| format!("{name} has no \"content_type\""))?;
        if !safe_name(name) || name == LOADER || name == "manifest.json" {
            return Err(format!("{name:?} is not a servable file name"));
        }
        if content_type.is_empty() || !content_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!("{name} has an invalid content type"));
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(format!("{name} is listed twice"));
        }
        let source = dist.join(name);
        if !source.is_file() {
            return Err(format!("manifest.json names {name}, which is missing"));
        }
        let content_type = match content_type {
            "text/javascript" | "text/css" => format!("{content_type}; charset=utf-8"),
            other => other.to_string(),
        };
        entries.push(Entry {
            name: name.to_string(),
            content_type,
            source,
        });
    }
    Ok(entries)
}

/// Letters, digits, `.`, `_`, `-`; not starting with a dot: one plain file in the directory.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

fn path_str(p: &Path) -> String {
    p.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", p.display()))
        .to_string()
}
