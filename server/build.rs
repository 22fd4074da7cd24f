//! Embeds the widget's and the dashboard's built files so one binary serves everything.
//!
//! `cargo xtask widget` writes `widget/dist/`: `widget.js` (the loader) and `manifest.json`,
//! `{"files": [{"name": "cw-1a2b3c4d.wasm", "content_type": "application/wasm"}, ...]}`,
//! naming the content-hashed files the loader fetches. `cargo xtask dashboard` writes
//! `dashboard/dist/` the same way, with `index.html` as its entry. This script reads those
//! directories (or the ones named by `CONCIERGE_WIDGET_DIST` / `CONCIERGE_DASHBOARD_DIST`; a
//! relative path is taken from the workspace root) and generates `OUT_DIR/widget_assets.rs`
//! and `OUT_DIR/dashboard_assets.rs`: slices of `http::assets::Asset` with each file's bytes
//! (`include_bytes!` of the file itself), its gzip and brotli encodings (best compression,
//! written next to the generated code) and a strong ETag (16 hex digits of its SHA-256).
//!
//! No directory or no manifest: an empty table, and the server answers `/widget.js` (or
//! `/app/`) with 503 `unavailable`. A manifest that names a missing or oddly named file fails
//! the build (a broken build should not ship quietly).

use std::env;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

/// One embedded directory: its entry file (served under a fixed name) and where to find it.
struct Dist {
    /// The table's file in OUT_DIR.
    table: &'static str,
    env: &'static str,
    default_dir: &'static str,
    entry: &'static str,
    entry_type: &'static str,
    what: &'static str,
}

const DISTS: [Dist; 2] = [
    Dist {
        table: "widget_assets.rs",
        env: "CONCIERGE_WIDGET_DIST",
        default_dir: "widget/dist",
        entry: "widget.js",
        entry_type: "text/javascript; charset=utf-8",
        what: "widget",
    },
    Dist {
        table: "dashboard_assets.rs",
        env: "CONCIERGE_DASHBOARD_DIST",
        default_dir: "dashboard/dist",
        entry: "index.html",
        entry_type: "text/html; charset=utf-8",
        what: "dashboard",
    },
];

struct Entry {
    name: String,
    content_type: String,
    source: PathBuf,
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.clone());
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets it"));
    for d in &DISTS {
        embed(&root, &out, d);
    }
}

fn embed(root: &Path, out: &Path, d: &Dist) {
    println!("cargo:rerun-if-env-changed={}", d.env);
    let dist = match env::var_os(d.env).filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir),
        None => root.join(d.default_dir),
    };
    watch(root, &dist);
    let entries = read_dist(&dist, d).unwrap_or_else(|e| {
        panic!(
            "the {} build in {} is broken: {e}; rerun `cargo xtask {}`",
            d.what,
            dist.display(),
            d.what
        )
    });
    let mut code = String::from("&[\n");
    for entry in &entries {
        let raw = std::fs::read(&entry.source)
            .unwrap_or_else(|e| panic!("reading {}: {e}", entry.source.display()));
        let gz_path = out.join(format!("{}-{}.gz", d.what, entry.name));
        std::fs::write(&gz_path, gzip(&raw))
            .unwrap_or_else(|e| panic!("writing {}: {e}", gz_path.display()));
        let br_path = out.join(format!("{}-{}.br", d.what, entry.name));
        std::fs::write(&br_path, brotli(&raw))
            .unwrap_or_else(|e| panic!("writing {}: {e}", br_path.display()));
        let hash = hex::encode(&Sha256::digest(&raw)[..8]);
        let _ = writeln!(
            code,
            "    Asset {{ name: {:?}, content_type: {:?}, raw: include_bytes!({:?}), \
             gzip: include_bytes!({:?}), br: include_bytes!({:?}), etag: {:?}, \
             gzip_etag: {:?}, br_etag: {:?} }},",
            entry.name,
            entry.content_type,
            path_str(&entry.source),
            path_str(&gz_path),
            path_str(&br_path),
            format!("\"{hash}\""),
            format!("\"{hash}-gzip\""),
            format!("\"{hash}-br\""),
        );
    }
    code.push_str("]\n");
    let table = out.join(d.table);
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

/// The entry file and the manifest's files; none when this part was not built.
fn read_dist(dist: &Path, d: &Dist) -> Result<Vec<Entry>, String> {
    let manifest_path = dist.join("manifest.json");
    let loader = dist.join(d.entry);
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
        return Err(format!("{} is missing", d.entry));
    }
    let mut entries = vec![Entry {
        name: d.entry.to_string(),
        content_type: d.entry_type.to_string(),
        source: loader,
    }];
    for file in files {
        let name = file["name"].as_str().ok_or("a file has no \"name\"")?;
        let content_type = file["content_type"]
            .as_str()
            .ok_or_else(|| format!("{name} has no \"content_type\""))?;
        if !safe_name(name) || name == d.entry || name == "manifest.json" {
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

/// Brotli at its best quality (11) and a 4 MiB window: done once per build, read many times.
fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli into memory");
    out
}

fn path_str(p: &Path) -> String {
    p.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", p.display()))
        .to_string()
}
