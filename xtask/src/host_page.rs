//! `cargo xtask run` serves `examples/host-page/` on a second port: a "foreign" site with the
//! widget snippet, so a newcomer sees the widget on another origin in one step.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::root;

/// Waits for the server, finds the demo site's key and serves the page on `port`
/// (on `localhost`, an origin the demo site allows) in a background thread.
pub fn serve(bin: &PathBuf, server: &str, port: u16) -> Result<()> {
    wait_healthy(server)?;
    let out = Command::new(bin)
        .args(["site", "list", "--json"])
        .current_dir(root())
        .output()
        .context("concierge site list")?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let Some(site_key) = first_site_key(&listing) else {
        bail!("no site to show on the host page: {listing}");
    };
    let page = std::fs::read_to_string(root().join("examples/host-page/index.html"))?
        .replace("{{SERVER}}", server)
        .replace("{{SITE_KEY}}", &site_key);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("binding the host page on 127.0.0.1:{port}"))?;
    eprintln!(
        "\n==> the demo host page (another origin, with the snippet): http://localhost:{port}/"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut first = String::new();
            let _ = BufReader::new(&stream).read_line(&mut first);
            let (status, body) =
                if first.starts_with("GET / ") || first.starts_with("GET /index.html ") {
                    ("200 OK", page.as_str())
                } else {
                    ("404 Not Found", "not found")
                };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    Ok(())
}

/// The first `"site_key": "..."` in `concierge site list --json`.
fn first_site_key(json: &str) -> Option<String> {
    let start = json.find("\"site_key\"")? + "\"site_key\"".len();
    let rest = &json[start..];
    let open = rest.find('"')? + 1;
    let close = rest[open..].find('"')?;
    Some(rest[open..open + close].to_string())
}

fn wait_healthy(server: &str) -> Result<()> {
    let addr = server.trim_start_matches("http://");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = write!(s, "GET /healthz HTTP/1.0\r\nhost: {addr}\r\n\r\n");
            let mut line = String::new();
            if BufReader::new(&s).read_line(&mut line).is_ok() && line.contains(" 200 ") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("the server at {server} did not become healthy within 120 s")
}
