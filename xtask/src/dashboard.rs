//! `cargo xtask dashboard`: builds the dashboard into `dashboard/dist/` and checks its
//! first-load budget.
//!
//! Same pipeline as the widget (`widget.rs`): wasm32 build with `[profile.wasm-release]` in
//! the shared wasm target dir → `wasm-bindgen --target web` (the pinned CLI) → `wasm-opt -Oz`
//! (npm binaryen) → content-hashed names (`cd-<hash>.<ext>`) → `index.html` and the boot
//! script with those names filled in, and `manifest.json`. The server embeds `dashboard/dist/`
//! at compile time (server/build.rs) and serves it under `/app/`.

use anyhow::{bail, Result};

use crate::root;
use crate::widget::{compile, gzip_len, hashed, wasm_target_dir, write_files};

/// The goal for everything a first visit downloads (index.html + boot + glue + wasm + css),
/// gzipped: 300 KB (issue 20). Not met (322 KB; see docs/dashboard.md for what was measured
/// and tried): the build reports the gap.
const FIRST_LOAD_TARGET_GZ: usize = 300_000;
/// The build fails above this: a guard against growth until the target is met.
const FIRST_LOAD_CEILING_GZ: usize = 335_000;

pub fn build() -> Result<()> {
    let (work, optimized) = compile("concierge-dashboard", "concierge_dashboard", "dashboard")?;
    let (console_work, console_optimized) =
        compile("concierge-console", "concierge_console", "console")?;

    let src = root().join("dashboard");
    let dist = src.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist)?;
    let glue = std::fs::read(work.join("concierge_dashboard.js"))?;
    let wasm = std::fs::read(&optimized)?;
    let css = std::fs::read(src.join("style/app.css"))?;
    let console_glue = std::fs::read(console_work.join("concierge_console.js"))?;
    let console_wasm = std::fs::read(&console_optimized)?;
    let (glue_name, wasm_name, css_name) = (
        hashed("cd", "js", &glue),
        hashed("cd", "wasm", &wasm),
        hashed("cd", "css", &css),
    );
    let (console_glue_name, console_wasm_name) = (
        hashed("cd-console", "js", &console_glue),
        hashed("cd-console", "wasm", &console_wasm),
    );
    let boot = std::fs::read_to_string(src.join("boot/boot.js"))?
        .replace("__CONSOLE_GLUE__", &console_glue_name)
        .replace("__CONSOLE_WASM__", &console_wasm_name)
        .replace("__GLUE__", &glue_name)
        .replace("__WASM__", &wasm_name)
        .into_bytes();
    if String::from_utf8_lossy(&boot).contains("__") {
        bail!("dashboard/boot/boot.js names a file the build does not make");
    }
    let boot_name = hashed("cd-boot", "js", &boot);
    let index = std::fs::read_to_string(src.join("index.html"))?
        .replace("__CSS__", &css_name)
        .replace("__GLUE__", &glue_name)
        .replace("__BOOT__", &boot_name);
    if index.contains("__") {
        bail!("dashboard/index.html names a file the build does not make");
    }
    let files = [
        (glue_name, "text/javascript", glue),
        (wasm_name, "application/wasm", wasm),
        (css_name, "text/css", css),
        (boot_name, "text/javascript", boot),
        (console_glue_name, "text/javascript", console_glue),
        (console_wasm_name, "application/wasm", console_wasm),
    ];
    std::fs::write(dist.join("index.html"), &index)?;
    write_files(&dist, &files)?;
    report(index.as_bytes(), &files)
}

/// The first four files are the first load; the last two the console, fetched on demand.
fn report(index: &[u8], files: &[(String, &str, Vec<u8>); 6]) -> Result<()> {
    println!("\ndashboard assets (dashboard/dist)       raw bytes   gzip -9 bytes");
    let mut total = (index.len(), gzip_len(index)?);
    println!("{:<38} {:>9}   {:>13}", "index.html", total.0, total.1);
    for (name, _, bytes) in &files[..4] {
        let gz = gzip_len(bytes)?;
        println!("{:<38} {:>9}   {:>13}", name, bytes.len(), gz);
        total = (total.0 + bytes.len(), total.1 + gz);
    }
    println!("{:<38} {:>9}   {:>13}", "first load", total.0, total.1);
    let mut console = (0, 0);
    for (name, _, bytes) in &files[4..] {
        let gz = gzip_len(bytes)?;
        println!("{:<38} {:>9}   {:>13}", name, bytes.len(), gz);
        console = (console.0 + bytes.len(), console.1 + gz);
    }
    println!(
        "{:<38} {:>9}   {:>13}",
        "owner's console (on demand)", console.0, console.1
    );
    println!(
        "target: first load <= {FIRST_LOAD_TARGET_GZ} B gzipped; the build fails above \
         {FIRST_LOAD_CEILING_GZ} B"
    );
    if total.1 > FIRST_LOAD_TARGET_GZ {
        println!(
            "!!! the dashboard's first load is {} B over its {FIRST_LOAD_TARGET_GZ} B target \
             (docs/dashboard.md) !!!",
            total.1 - FIRST_LOAD_TARGET_GZ
        );
    }
    if total.1 > FIRST_LOAD_CEILING_GZ {
        bail!(
            "the dashboard grew past its first-load ceiling ({} B gzipped); find the bloat with \
             `twiggy top -n 30 {}`",
            total.1,
            wasm_target_dir()
                .join("bindgen-dashboard/concierge_dashboard_bg.wasm")
                .display()
        );
    }
    Ok(())
}
