//! `cargo xtask dashboard`: builds the dashboard into `dashboard/dist/` and checks its
//! first-load budget.
//!
//! The widget's pipeline (`widget.rs`) with one step more: wasm32 build with
//! `[profile.wasm-release]` in the shared wasm target dir → split into the main module and the
//! chunks fetched on demand (`split.rs`) → `wasm-bindgen --target web` (the pinned CLI) →
//! `wasm-opt -Oz` (npm binaryen) → content-hashed names (`cd-<hash>.<ext>`,
//! `cd-<split>-<hash>.wasm`) → `index.html` and the boot script with those names filled in,
//! and `manifest.json`. The server embeds `dashboard/dist/`
//! at compile time (server/build.rs) and serves it under `/app/`.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use crate::root;
use crate::split;
use crate::widget::{gzip_len, hashed, minify, wasm_target_dir, write_files};

/// The goal for everything a first visit to an agent's screen downloads (index.html, boot,
/// glue, the chunks' loaders, the main module, css and the screen's chunks), gzipped: 300 KB
/// (issue 20). The build fails above it, as the widget's does above its budgets
/// (docs/dashboard.md#size has what was measured and tried).
const FIRST_LOAD_TARGET_GZ: usize = 300_000;

pub fn build() -> Result<()> {
    let app = split::build(
        "concierge-dashboard",
        "concierge_dashboard",
        "dashboard",
        "cd",
    )?;

    let src = root().join("dashboard");
    let dist = src.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist)?;
    let css = minify(&std::fs::read_to_string(src.join("style/app.css"))?).into_bytes();
    let css_name = hashed("cd", "css", &css);
    let boot = std::fs::read_to_string(src.join("boot/boot.js"))?
        .replace("__GLUE__", &app.glue.0)
        .replace("__WASM__", &app.main.0)
        .into_bytes();
    if String::from_utf8_lossy(&boot).contains("__") {
        bail!("dashboard/boot/boot.js names a file the build does not make");
    }
    let boot_name = hashed("cd-boot", "js", &boot);
    let index = std::fs::read_to_string(src.join("index.html"))?
        .replace("__CSS__", &css_name)
        .replace("__GLUE__", &app.glue.0)
        .replace("__LINK__", &app.link.0)
        .replace("__BOOT__", &boot_name);
    if index.contains("__") {
        bail!("dashboard/index.html names a file the build does not make");
    }
    let mut files = vec![
        (app.glue.0.clone(), "text/javascript", app.glue.1.clone()),
        (app.link.0.clone(), "text/javascript", app.link.1.clone()),
        (boot_name, "text/javascript", boot),
        (app.main.0.clone(), "application/wasm", app.main.1.clone()),
        (css_name, "text/css", css),
    ];
    let first = files.len();
    for (name, bytes) in app.chunks.values() {
        files.push((name.clone(), "application/wasm", bytes.clone()));
    }
    std::fs::write(dist.join("index.html"), &index)?;
    write_files(&dist, &files)?;
    report(index.as_bytes(), &files[..first], &app)
}

/// What each agent's screen downloads on a fresh visit: the index, the glue, the link module,
/// the boot script, the main module and the CSS, plus the chunks of the split that draws it.
const ROUTES: [(&str, &[&str]); 4] = [
    ("sign in (signed out)", &["sign_in"]),
    ("inbox", &[]),
    ("a conversation", &[]),
    ("tickets", &["tickets"]),
];
/// The owner's screens (issue 21: lazily loaded so they stay out of the agents' budget): the
/// console's frame and the screen's own chunk.
const OWNER_ROUTES: [(&str, &[&str]); 5] = [
    ("knowledge base (owners)", &["console", "knowledge"]),
    ("settings (owners)", &["console", "settings"]),
    ("install (owners)", &["console", "install"]),
    ("usage (owners)", &["console", "usage"]),
    ("analytics (owners)", &["console", "analytics"]),
];
/// The build fails when an owner's screen downloads more than this on a fresh visit (a guard
/// against growth).
const OWNER_CEILING_GZ: usize = 450_000;

fn report(index: &[u8], base: &[(String, &str, Vec<u8>)], app: &split::SplitBuild) -> Result<()> {
    println!("\ndashboard assets (dashboard/dist)       raw bytes   gzip -9 bytes");
    let mut total = (index.len(), gzip_len(index)?);
    println!("{:<38} {:>9}   {:>13}", "index.html", total.0, total.1);
    for (name, _, bytes) in base {
        let gz = gzip_len(bytes)?;
        println!("{:<38} {:>9}   {:>13}", name, bytes.len(), gz);
        total = (total.0 + bytes.len(), total.1 + gz);
    }
    println!(
        "{:<38} {:>9}   {:>13}",
        "every first load", total.0, total.1
    );
    let mut chunk_gz = BTreeMap::new();
    for (stem, (name, bytes)) in &app.chunks {
        let gz = gzip_len(bytes)?;
        println!(
            "{:<38} {:>9}   {:>13}",
            format!("{name} ({stem})"),
            bytes.len(),
            gz
        );
        chunk_gz.insert(stem.as_str(), gz);
    }
    println!("\nfirst load by screen (gzip -9 bytes)");
    let load = |splits: &[&str]| {
        let mut stems: Vec<&String> = splits
            .iter()
            .flat_map(|s| app.needs.get(*s).into_iter().flatten())
            .collect();
        stems.sort();
        stems.dedup();
        total.1
            + stems
                .iter()
                .map(|s| chunk_gz.get(s.as_str()).copied().unwrap_or(0))
                .sum::<usize>()
    };
    let mut worst = 0;
    for (route, splits) in ROUTES {
        let gz = load(splits);
        worst = worst.max(gz);
        println!("{route:<38} {gz:>13}");
    }
    let mut owner = 0;
    for (route, splits) in OWNER_ROUTES {
        let gz = load(splits);
        owner = owner.max(gz);
        println!("{route:<38} {gz:>13}");
    }
    if owner > OWNER_CEILING_GZ {
        bail!("an owner's screen grew past its ceiling ({owner} B gzipped on a fresh visit)");
    }
    println!(
        "budget: every agent's screen's first load <= {FIRST_LOAD_TARGET_GZ} B gzipped \
         (largest now {worst} B, {} B to spare); an owner's <= {OWNER_CEILING_GZ} B",
        FIRST_LOAD_TARGET_GZ.saturating_sub(worst)
    );
    if worst > FIRST_LOAD_TARGET_GZ {
        bail!(
            "an agent's screen's first load is {worst} B gzipped, {} B over its \
             {FIRST_LOAD_TARGET_GZ} B budget; find the bloat with `twiggy top -n 30` on the \
             modules in {} (docs/dashboard.md#size)",
            worst - FIRST_LOAD_TARGET_GZ,
            wasm_target_dir().join("split-dashboard").display()
        );
    }
    Ok(())
}
