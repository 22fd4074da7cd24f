//! The wasm32 build links with `--emit-relocs`: `cargo xtask dashboard` splits the module into
//! lazily loaded chunks (src/views/chunk.rs), and the splitter reads the relocations to move
//! code between them.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=--emit-relocs");
    }
}
