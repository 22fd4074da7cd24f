//! The dashboard's wasm, split into a main module and chunks loaded on demand.
//!
//! The app marks the screens an agent does not need up front with `#[wasm_split(...)]`
//! (`dashboard/src/views/chunk.rs`); the wasm32 build links with `--emit-relocs`
//! (`dashboard/build.rs`). Then, as `cargo leptos --split` does: `wasm_split_cli_support`
//! (the splitter Leptos and Yew use) moves everything only a split function reaches into that
//! split's module (code shared by several splits, but not by the main module, into a shared
//! chunk) and writes the link module, a small JS file the main module imports its loaders
//! from → `wasm-bindgen --keep-lld-exports` of the main module (the chunks import its memory,
//! table and functions through those exports) → `wasm-opt -Oz` of every module.
//!
//! File names are content hashes, like every other asset: each chunk's from its bytes; the JS
//! glue and the link module import each other, so both are named from one hash of the two
//! texts with the names left out.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::widget::{bindgen, build_wasm, hashed, minify, optimize, wasm_target_dir};

/// The name the splitter's link module imports the main module's glue by, until the glue's
/// hashed name is filled in.
const GLUE_PLACEHOLDER: &str = "./__main_glue__.js";
/// The link module's name as the main module imports it (kept: wasm imports are matched by it).
const LINK_IMPORT: &str = "./__wasm_split.js";

/// A split build, with final (hashed) file names.
pub struct SplitBuild {
    /// The JS glue of the main module.
    pub glue: (String, Vec<u8>),
    /// The main module.
    pub main: (String, Vec<u8>),
    /// The link module (the chunks' loaders).
    pub link: (String, Vec<u8>),
    /// Each chunk by the splitter's name (`split_<name>` for a split function's own code,
    /// `chunk_<n>` for code several splits share): its hashed file name and bytes.
    pub chunks: BTreeMap<String, (String, Vec<u8>)>,
    /// Which chunks each split needs (split name → the splitter's chunk names).
    pub needs: BTreeMap<String, Vec<String>>,
}

/// Builds `package` and splits it; `prefix` starts every file name (`cd` → `cd-<hash>.wasm`).
pub fn build(package: &str, lib: &str, label: &str, prefix: &str) -> Result<SplitBuild> {
    let raw = build_wasm(package, lib, label)?;
    let work = wasm_target_dir().join(format!("split-{label}"));
    let _ = std::fs::remove_dir_all(&work);
    let parts = work.join("parts");
    std::fs::create_dir_all(&parts)?;
    let input = std::fs::read(&raw).with_context(|| format!("reading {}", raw.display()))?;
    let main_raw = parts.join("main.wasm");
    eprintln!("\n==> split the {label} at its #[wasm_split] functions");
    let split = {
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &parts;
        opts.main_out_path = &main_raw;
        opts.link_name = LINK_IMPORT;
        opts.main_module = GLUE_PLACEHOLDER;
        wasm_split_cli_support::transform(opts)
            .map_err(|e| anyhow::anyhow!("splitting {}: {e:?}", raw.display()))?
    };
    if split.split_modules.is_empty() {
        bail!("the {label} has no #[wasm_split] function: nothing was split");
    }

    let bindgen_dir = work.join("bindgen");
    bindgen(
        &main_raw,
        &bindgen_dir,
        label,
        &["--keep-lld-exports", "--out-name", lib],
    )?;
    let main = std::fs::read(optimize(
        &bindgen_dir.join(format!("{lib}_bg.wasm")),
        &work.join("main.opt.wasm"),
        label,
    )?)?;

    let mut link = minify(
        &std::fs::read_to_string(parts.join(LINK_IMPORT))
            .context("the splitter wrote no link module")?,
    );
    let mut chunks = BTreeMap::new();
    for path in &split.split_modules {
        let stem = stem(path)?;
        let opt = optimize(path, &work.join(format!("{stem}.opt.wasm")), label)?;
        let bytes = std::fs::read(opt)?;
        // `cd-tickets-<hash>.wasm` for a split's own code, `cd-chunk-<hash>.wasm` for shared.
        let tag = stem.strip_prefix("split_").unwrap_or("chunk");
        let name = hashed(&format!("{prefix}-{tag}"), "wasm", &bytes);
        replace_once(
            &mut link,
            &format!("\"./{stem}.wasm\""),
            &format!("\"./{name}\""),
        )?;
        chunks.insert(stem, (name, bytes));
    }

    // The glue imports the link module and the link module imports the glue: both are named
    // from one hash of the two texts as they are before either name is filled in.
    let mut glue = minify(&std::fs::read_to_string(
        bindgen_dir.join(format!("{lib}.js")),
    )?);
    let import_from = |q: char| format!("from {q}{LINK_IMPORT}{q}");
    let quote = ['\'', '"']
        .into_iter()
        .find(|q| glue.contains(&import_from(*q)))
        .context("the main module's glue does not import the link module")?;
    let both = hashed(prefix, "js", format!("{glue}\n{link}").as_bytes());
    let glue_name = both.clone();
    let link_name = both.replacen(&format!("{prefix}-"), &format!("{prefix}-split-"), 1);
    // One `import * as importN from "./__wasm_split.js"` per split; the import object's
    // keys (what the wasm module's imports are matched by) keep the name.
    glue = glue.replace(
        &import_from(quote),
        &format!("from {quote}./{link_name}{quote}"),
    );
    replace_once(&mut link, GLUE_PLACEHOLDER, &format!("./{glue_name}"))?;

    let needs = split
        .prefetch_map
        .into_iter()
        .map(|(split, mut stems)| {
            stems.sort();
            (split, stems)
        })
        .collect();
    Ok(SplitBuild {
        glue: (glue_name, glue.into_bytes()),
        main: (hashed(prefix, "wasm", &main), main),
        link: (link_name, link.into_bytes()),
        chunks,
        needs,
    })
}

fn stem(path: &Path) -> Result<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_owned)
        .with_context(|| format!("odd chunk path {}", path.display()))
}

/// Replaces the one occurrence of `from` (a file name the build fills in).
fn replace_once(text: &mut String, from: &str, to: &str) -> Result<()> {
    match text.matches(from).count() {
        1 => {
            *text = text.replacen(from, to, 1);
            Ok(())
        }
        n => bail!("expected `{from}` once in a generated file, found it {n} times"),
    }
}
