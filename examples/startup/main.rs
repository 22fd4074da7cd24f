//! Start-up time, CPU spent starting, and resting memory of `concierge serve` on an empty data
//! directory (the default embedded stack: SQLite, in-process bus, qdrant-edge, the embedding
//! model loaded at start).
//!
//! ```text
//! cargo build --release -p concierge -p concierge-examples
//! target/release/startup [--bin target/release/concierge] [--runs 3]
//! ```
//! Needs the embedding model (`concierge model fetch`, or CONCIERGE_MODEL_CACHE). Linux only
//! (reads `/proc/PID/stat` and `/proc/PID/status`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The server binary.
    #[arg(long, default_value = "target/release/concierge")]
    bin: PathBuf,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The server is at rest once its CPU time grew by less than this over one second.
    #[arg(long, default_value_t = 0.02)]
    idle_cpu_secs: f64,
}

/// Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`; 100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU seconds (user + system) the process has used.
fn cpu_secs(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = clock_ticks();
    Ok((f[11].parse::<f64>()? + f[12].parse::<f64>()?) / ticks)
}

/// Resident memory in MiB.
fn rss_mib(pid: u32) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kb / 1024.0)
}

/// `GET /readyz` answers 200.
fn ready_now(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

struct Run {
    ready: Duration,
    rest: Duration,
    cpu: f64,
    rss: f64,
}

fn one(args: &Args, port: u16) -> Result<Run> {
    let dir = std::env::temp_dir().join(format!("concierge-startup-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let started = Instant::now();
    let mut child: Child = Command::new(&args.bin)
        .arg("serve")
        .env("CONCIERGE_DATA_DIR", &dir)
        .env("CONCIERGE_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", args.bin.display()))?;
    let pid = child.id();
    let result = (|| {
        let ready = loop {
            if started.elapsed() > Duration::from_secs(120) {
                bail!("not ready after 120 s");
            }
            if ready_now(port) {
                break started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // At rest: the CPU time stops growing (the model has loaded, nothing runs).
        let mut last = cpu_secs(pid)?;
        let rest = loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = cpu_secs(pid)?;
            if now - last < args.idle_cpu_secs {
                break started.elapsed() - Duration::from_secs(1);
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!("still busy after 300 s");
            }
            last = now;
        };
        Ok(Run {
            ready,
            rest,
            cpu: cpu_secs(pid)?,
            rss: rss_mib(pid)?,
        })
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "`concierge serve` on an empty data dir, {} runs:\n",
        args.runs
    );
    println!(
        "| run | ready (`/readyz` 200) | at rest (CPU idle) | CPU used by then | resting RSS |"
    );
    println!("|---|---|---|---|---|");
    for i in 0..args.runs {
        let port = 18_700 + i as u16;
        let r = one(&args, port)?;
        println!(
            "| {} | {:.2} s | {:.1} s | {:.1} s | {:.0} MiB |",
            i + 1,
            r.ready.as_secs_f64(),
            r.rest.as_secs_f64(),
            r.cpu,
            r.rss
        );
    }
    Ok(())
}
