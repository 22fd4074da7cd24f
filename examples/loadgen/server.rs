//! The server under test: a child process started from the release binary with a fresh data
//! dir and raised limits, plus what `/proc` says about it (RSS, CPU time, open fds).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// A running `concierge serve` child; killed when dropped.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// The demo site, whose origins allow `http://localhost:*`.
    pub site_key: String,
    /// The demo owner's bearer token for `/ws/agent`.
    pub owner_token: String,
    pub data_dir: PathBuf,
    pub stderr_path: PathBuf,
}

/// What the load generator sends to read `/metrics`.
const METRICS_TOKEN: &str = "loadgen-metrics";

/// Environment the child runs with, printed in the report so a reader can reproduce it.
pub const SERVER_ENV: [(&str, &str); 7] = [
    ("CONCIERGE_LOG", "warn"),
    // `/metrics` on the main listener answers only with this token.
    ("CONCIERGE_METRICS_TOKEN", METRICS_TOKEN),
    ("CONCIERGE_LIMITS__CONNECTIONS_PER_IP_PER_MINUTE", "1000000"),
    ("CONCIERGE_LIMITS__MESSAGES_PER_MINUTE", "100000"),
    ("CONCIERGE_LIMITS__IDLE_TIMEOUT_SECS", "600"),
    // One agent socket sends every reply of the run; the per-socket frame limiter (10/s,
    // burst 40) is meant for humans.
    ("CONCIERGE_LIMITS__FRAMES_PER_SECOND", "100000"),
    ("CONCIERGE_LIMITS__FRAME_BURST", "100000"),
];

impl Server {
    /// Starts `bin --json serve` on a free loopback port and waits for its one JSON line.
    pub async fn start(bin: &Path) -> anyhow::Result<Server> {
        let data_dir =
            std::env::temp_dir().join(format!("concierge-loadgen-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir)?;
        let stderr_path = data_dir.join("server.stderr");
        let stderr = std::fs::File::create(&stderr_path)?;
        let mut cmd = Command::new(bin);
        cmd.args(["--json", "serve"])
            .env("CONCIERGE_LISTEN", "127.0.0.1:0")
            .env("CONCIERGE_DATA_DIR", &data_dir)
            // No stray ./concierge.toml from the working directory.
            .env("CONCIERGE_CONFIG", data_dir.join("none.toml"))
            .envs(SERVER_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} (build it first)", bin.display()))?;
        let pid = child.id().context("child has no pid")?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("server did not print its JSON line within 60 s")??
            .context("server exited before listening")?;
        let v: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("server said: {line}"))?;
        let field = |ptr: &str| {
            v.pointer(ptr)
                .and_then(|x| x.as_str())
                .map(str::to_string)
                .with_context(|| format!("server JSON has no {ptr}: {line}"))
        };
        let addr: SocketAddr = field("/listening")?.parse()?;
        let site_key = field("/demo/site_key")?;
        let owner_token = field("/demo/owner_token")?;
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            pid,
            addr,
            site_key,
            owner_token,
            data_dir,
            stderr_path,
        })
    }

    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid)
    }

    pub fn cpu_secs(&self) -> f64 {
        cpu_secs(self.pid)
    }

    /// Waits until the server is idle after its start (the embedding model loaded and the
    /// intent classifier ready, both done in the background): two consecutive seconds with
    /// under 2% of a core of CPU. Returns how long that took; gives up after `limit`.
    pub async fn wait_quiet(&self, limit: Duration) -> Duration {
        let started = std::time::Instant::now();
        let mut quiet = 0;
        let mut last = self.cpu_secs();
        while started.elapsed() < limit && quiet < 2 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.cpu_secs();
            quiet = if now - last < 0.02 { quiet + 1 } else { 0 };
            last = now;
        }
        started.elapsed()
    }

    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Whether the child is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `GET /metrics` over a plain socket, with the metrics token; one value by metric line
    /// prefix.
    pub async fn metric(&self, line_prefix: &str) -> anyhow::Result<f64> {
        let mut tcp = tokio::net::TcpStream::connect(self.addr).await?;
        let request = format!(
            "GET /metrics HTTP/1.0\r\nHost: loadgen\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await?;
        let mut body = String::new();
        tokio::time::timeout(Duration::from_secs(10), tcp.read_to_string(&mut body)).await??;
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix(line_prefix) {
                if let Some(v) = rest.split_whitespace().last() {
                    return Ok(v.parse()?);
                }
            }
        }
        bail!("no metric line starting with {line_prefix}")
    }

    /// Warn/error lines the server logged, and the first few of them.
    pub fn stderr_summary(&self) -> (usize, Vec<String>) {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (lines.len(), lines.into_iter().take(5).collect())
    }

    /// Kills the child and removes its data dir.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// VmRSS of a process in KiB (0 if unreadable).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of a process so far.
pub fn cpu_secs(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| f.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    ticks as f64 / clock_ticks() as f64
}

/// The machine, for the report: CPU model and count, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({model}), {mem_gib:.0} GiB RAM, Linux {}",
        kernel.trim()
    )
}

/// Open-file limits after trying to raise them: (soft, hard, whether the hard limit rose).
/// Children inherit them, so the server gets the same.
#[allow(unsafe_code)]
pub fn raise_nofile(want: u64) -> (u64, u64, bool) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct we pass, which outlives the call.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        let old_hard = lim.rlim_max;
        let mut raised = false;
        if want > lim.rlim_max {
            // Raising the hard limit needs CAP_SYS_RESOURCE; containers often drop it.
            let wanted = libc::rlimit {
                rlim_cur: want,
                rlim_max: want,
            };
            raised = libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0;
        }
        if !raised {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        (lim.rlim_cur, lim.rlim_max, lim.rlim_max > old_hard)
    }
}

#[allow(unsafe_code)]
fn clock_ticks() -> i64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t
    } else {
        100
    }
}
