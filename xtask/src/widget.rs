//! `cargo xtask widget`: builds the chat widget into `widget/dist/` and checks its size budget.
//!
//! wasm32 build (`[profile.wasm-release]`) → `wasm-bindgen --target web` (the CLI at exactly
//! the lockfile's wasm-bindgen version, installed if missing) → `wasm-opt -Oz` → content-hashed
//! file names → the loader with those names filled in. The server embeds `widget/dist/` at
//! compile time (server/build.rs).
//!
//! wasm-opt comes from npm's `binaryen` 132 pinned in `widget/package-lock.json`, not Debian's
//! `binaryen` package: Debian 12 ships binaryen 108, which rewrites wasm-bindgen's externref
//! table as a funcref table (even with no optimisation pass), and the module then fails to
//! start with "WebAssembly.Table.set(): ... function-typed object". Without npm the build
//! goes on unoptimised (the budget still holds, and is still checked) and says so.

use std::io::Write;

use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::{cargo, root, step, target_dir};

/// The loader runs on every page view of the host site (2 KB, read strictly as 2,000 bytes).
const LOADER_BUDGET_GZ: usize = 2_000;
/// Everything fetched when the chat first opens: glue + wasm + css (50 KB as 50,000 bytes).
const ON_OPEN_BUDGET_GZ: usize = 50_000;

pub fn build() -> Result<()> {
    let (work, optimized) = compile("concierge-widget", "concierge_widget", "widget")?;

    let dist = root().join("widget").join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist)?;
    let glue = std::fs::read(work.join("concierge_widget.js"))?;
    let wasm = std::fs::read(&optimized)?;
    let css = std::fs::read(root().join("widget/style/widget.css"))?;
    let files = [
        (hashed("cw", "js", &glue), "text/javascript", glue),
        (hashed("cw", "wasm", &wasm), "application/wasm", wasm),
        (hashed("cw", "css", &css), "text/css", css),
    ];
    let loader = std::fs::read_to_string(root().join("widget/loader/widget.js"))?;
    let loader = minify(&loader)
        .replace("__JS__", &files[0].0)
        .replace("__WASM__", &files[1].0)
        .replace("__CSS__", &files[2].0);
    std::fs::write(dist.join("widget.js"), &loader)?;
    write_files(&dist, &files)?;
    report(loader.as_bytes(), &files)
}

/// The wasm pipeline shared by the widget and the dashboard: the wasm32 build of `package`
/// (`[profile.wasm-release]`) → the pinned `wasm-bindgen --target web` into
/// `<wasm target>/bindgen-<label>` → `wasm-opt -Oz` when npm's binaryen is there. Returns that
/// directory (with the JS glue `<lib>.js`) and the optimised wasm's path.
pub fn compile(
    package: &str,
    lib: &str,
    label: &str,
) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let wasm = build_wasm(package, lib, label)?;
    let work = wasm_target_dir().join(format!("bindgen-{label}"));
    bindgen(&wasm, &work, label, &[])?;
    let bindgen_out = work.join(format!("{lib}_bg.wasm"));
    let optimized = optimize(&bindgen_out, &work.join("opt.wasm"), label)?;
    Ok((work, optimized))
}

/// The wasm32 build of `package` with `[profile.wasm-release]` (installing the target, the
/// standard library's source and the pinned wasm-bindgen CLI first); returns the linked
/// module's path.
///
/// The standard library is compiled with the app (`-Z build-std`) rather than taken prebuilt:
/// - it is then built with the profile's `opt-level = "z"` and LTO'd with our code, and with
///   its `optimize_for_size` feature (smaller algorithms, e.g. sorting);
/// - panics abort at once (`-C panic=immediate-abort`), so neither std's panic machinery nor
///   any panic message's formatting is compiled. On wasm32-unknown-unknown a panic message
///   went nowhere anyway (std's default hook writes to a stderr that does not exist there, and
///   neither module installs a hook): a panic was, and is, a trap (`unreachable`).
///
/// Together: −24.9 KB gzipped on the dashboard's first load (docs/dashboard.md#size). These
/// are unstable cargo/rustc switches; the workspace already builds with `RUSTC_BOOTSTRAP=1` on
/// its pinned toolchain (.cargo/config.toml), and they apply to these wasm builds only.
pub fn build_wasm(package: &str, lib: &str, label: &str) -> Result<std::path::PathBuf> {
    for (what, args) in [
        (
            "install the wasm32 target",
            ["target", "add", "wasm32-unknown-unknown"],
        ),
        (
            "install the standard library's source",
            ["component", "add", "rust-src"],
        ),
    ] {
        step(what, Command::new("rustup").args(args).current_dir(root()))?;
    }
    ensure_wasm_bindgen(&lockfile_version("wasm-bindgen")?)?;
    let wasm_target = wasm_target_dir();
    step(
        &format!("build the {label} for wasm32 (profile wasm-release, std built with it)"),
        cargo()
            .args(WASM_BUILD)
            .args(["-p", package])
            .env("CARGO_TARGET_DIR", &wasm_target)
            // cargo's own -Z switches; rustc gets it from .cargo/config.toml's [env] as well.
            .env("RUSTC_BOOTSTRAP", "1")
            // Replaces .cargo/config.toml's build.rustflags (qdrant-edge's feature switch, which
            // std's own crates refuse as already declared; nothing in the wasm trees needs it).
            .env("CARGO_ENCODED_RUSTFLAGS", WASM_RUSTFLAGS.join("\x1f")),
    )?;
    Ok(wasm_target.join(format!("wasm32-unknown-unknown/wasm-release/{lib}.wasm")))
}

/// `cargo` arguments of every wasm build (with `-p PACKAGE`).
pub const WASM_BUILD: [&str; 9] = [
    "build",
    "--profile",
    "wasm-release",
    "--target",
    "wasm32-unknown-unknown",
    "-Z",
    "build-std=std,panic_abort",
    "-Z",
    "build-std-features=optimize_for_size",
];

/// rustc flags of every wasm build: a panic traps at once (see `build_wasm`).
pub const WASM_RUSTFLAGS: [&str; 2] = ["-Zunstable-options", "-Cpanic=immediate-abort"];

/// `wasm-bindgen --target web` of `wasm` into a fresh `out_dir`.
pub fn bindgen(
    wasm: &std::path::Path,
    out_dir: &std::path::Path,
    label: &str,
    extra: &[&str],
) -> Result<()> {
    let _ = std::fs::remove_dir_all(out_dir);
    step(
        &format!("wasm-bindgen --target web ({label})"),
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript"])
            .args(extra)
            .arg("--out-dir")
            .arg(out_dir)
            .arg(wasm),
    )
}

/// `wasm-opt -Oz` of `input` into `out` when npm's binaryen is there; returns the module to
/// ship (`input` itself without wasm-opt).
pub fn optimize(
    input: &std::path::Path,
    out: &std::path::Path,
    label: &str,
) -> Result<std::path::PathBuf> {
    let Some(bin) = wasm_opt() else {
        return Ok(input.to_path_buf());
    };
    step(
        &format!("wasm-opt -Oz ({label}, binaryen 132 from npm)"),
        Command::new(bin)
            .arg("-Oz")
            .args(WASM_FEATURES)
            .args(["--strip-debug", "--strip-producers"])
            .arg(input)
            .arg("-o")
            .arg(out),
    )?;
    Ok(out.to_path_buf())
}

/// Writes the hashed files into `dist` and `manifest.json` listing them (what
/// `server/build.rs` embeds).
pub fn write_files(dist: &std::path::Path, files: &[(String, &str, Vec<u8>)]) -> Result<()> {
    let mut manifest = String::from("{\"files\": [");
    for (i, (name, content_type, bytes)) in files.iter().enumerate() {
        std::fs::write(dist.join(name), bytes)?;
        if i > 0 {
            manifest.push_str(", ");
        }
        manifest.push_str(&format!(
            "{{\"name\": \"{name}\", \"content_type\": \"{content_type}\"}}"
        ));
    }
    manifest.push_str("]}\n");
    std::fs::write(dist.join("manifest.json"), manifest)?;
    Ok(())
}

/// The wasm builds' own target dir (widget and dashboard share it, so their common crates
/// build once): a wasm build never waits on (or invalidates) the server's.
pub fn wasm_target_dir() -> std::path::PathBuf {
    target_dir().join("wasm")
}

/// Rust 1.82+ emits these by default for wasm32; wasm-opt must be told it may keep them.
pub const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

fn report(loader: &[u8], files: &[(String, &str, Vec<u8>); 3]) -> Result<()> {
    let loader_gz = gzip_len(loader)?;
    println!("\nwidget assets (widget/dist)            raw bytes   gzip -9 bytes");
    println!(
        "{:<38} {:>9}   {:>13}",
        "widget.js (loader, every page)",
        loader.len(),
        loader_gz
    );
    let mut total = (0, 0);
    for (name, _, bytes) in files {
        let gz = gzip_len(bytes)?;
        println!("{:<38} {:>9}   {:>13}", name, bytes.len(), gz);
        total = (total.0 + bytes.len(), total.1 + gz);
    }
    println!(
        "{:<38} {:>9}   {:>13}",
        "fetched on first open", total.0, total.1
    );
    println!(
        "budget: loader <= {LOADER_BUDGET_GZ} B gzipped, on open <= {ON_OPEN_BUDGET_GZ} B gzipped"
    );
    if loader_gz > LOADER_BUDGET_GZ || total.1 > ON_OPEN_BUDGET_GZ {
        bail!(
            "the widget is over its size budget (loader {loader_gz} B, on open {} B gzipped); \
             find the bloat with `twiggy top -n 30 {}`",
            total.1,
            wasm_target_dir()
                .join("bindgen-widget/concierge_widget_bg.wasm")
                .display()
        );
    }
    Ok(())
}

pub fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    Ok(gz.finish()?.len())
}

/// `<prefix>-<first 8 hex of sha256>.<ext>`: a new name for new bytes, so it can be cached
/// forever.
pub fn hashed(prefix: &str, ext: &str, bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("{prefix}-{}.{ext}", hex::encode(&digest[..4]))
}

/// Drops the loader's comments and indentation (it is written to be read, shipped small).
/// Drops comments and indentation (JS and CSS; neither the widget's loader nor wasm-bindgen's
/// glue has a comment marker inside a string or a multi-line template literal).
pub fn minify(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The version of a package pinned in Cargo.lock.
pub fn lockfile_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_string())
}

/// wasm-bindgen-cli must match the wasm-bindgen crate exactly (the glue format is versioned).
pub fn ensure_wasm_bindgen(version: &str) -> Result<()> {
    let have = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if have.as_deref() == Some(&format!("wasm-bindgen {version}")) {
        return Ok(());
    }
    // Not `--locked`: the CLI's own lockfile pins a webpki-roots release some registry
    // mirrors lack; the CLI version itself is exact. `--force`: cargo's record of installed
    // crates can say it is there when the binary on PATH is missing or another version.
    step(
        &format!("install wasm-bindgen-cli {version} (the lockfile's wasm-bindgen)"),
        Command::new("cargo").args([
            "install",
            "--force",
            "wasm-bindgen-cli",
            "--version",
            version,
        ]),
    )
}

/// npm's binaryen (pinned in widget/package-lock.json), installed with `npm ci` if needed.
pub fn wasm_opt() -> Option<std::path::PathBuf> {
    static FOUND: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    FOUND.get_or_init(find_wasm_opt).clone()
}

fn find_wasm_opt() -> Option<std::path::PathBuf> {
    let dir = root().join("widget");
    let bin = dir.join("node_modules/.bin/wasm-opt");
    if !bin.exists() {
        let installed = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !installed || !bin.exists() {
            eprintln!(
                "\n!!! npm is missing or `npm ci --prefix widget` failed: the widget is built \
                 WITHOUT wasm-opt (larger, still within budget). Install Node.js and npm. !!!"
            );
            return None;
        }
    }
    Some(bin)
}
