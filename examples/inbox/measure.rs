//! The cases: sequential `GET /api/v1/conversations` requests, each timed from send to the last
//! byte of the body, one keep-alive connection.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::seed::{SEARCH_HIT, SEARCH_MISS};
use crate::server::Server;

/// Page size of every request (the API's default).
pub const LIMIT: usize = 50;
pub const FIRST_PAGE: &str = "first page";
const WARM_UP: usize = 3;

/// One case's figures.
pub struct Row {
    pub case: String,
    pub requests: usize,
    /// Items in the last answer.
    pub rows: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Why the case has no (or too few) figures.
    pub note: Option<String>,
}

/// A request that did not answer within the time bound. Its query is still running in the
/// server (neither sqlx nor SQLite stop a statement whose caller went away), so the run on
/// that backend ends there.
#[derive(Debug, thiserror::Error)]
#[error("a request took more than {0:?}")]
pub struct TimedOut(pub Duration);

impl Row {
    fn skipped(case: String, note: String) -> Row {
        Row {
            case,
            requests: 0,
            rows: 0,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            max_ms: f64::NAN,
            note: Some(note),
        }
    }

    fn new(case: String, mut ms: Vec<f64>, rows: usize) -> Row {
        ms.sort_by(f64::total_cmp);
        // Nearest rank.
        let pct = |p: f64| {
            let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
            ms.get(rank.clamp(1, ms.len().max(1)) - 1)
                .copied()
                .unwrap_or(f64::NAN)
        };
        Row {
            case,
            requests: ms.len(),
            rows,
            p50_ms: pct(50.0),
            p99_ms: pct(99.0),
            max_ms: ms.last().copied().unwrap_or(f64::NAN),
            note: None,
        }
    }
}

pub struct Bench {
    client: reqwest::Client,
    url: String,
    token: String,
    requests: usize,
    case_time: Duration,
}

impl Bench {
    pub fn new(server: &Server, requests: usize, case_secs: u64) -> Bench {
        Bench {
            client: reqwest::Client::new(),
            url: format!("http://{}/api/v1/conversations", server.addr),
            token: server.token.clone(),
            requests,
            case_time: Duration::from_secs(case_secs),
        }
    }

    /// One request: its milliseconds, the number of items and the next cursor.
    async fn get(&self, query: &[(&str, &str)]) -> Result<(f64, usize, Option<String>)> {
        let started = Instant::now();
        let response = self
            .client
            .get(&self.url)
            .query(query)
            .bearer_auth(&self.token)
            .timeout(self.case_time)
            .send()
            .await
            .map_err(|e| self.timed_out(e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.timed_out(e))?;
        let ms = started.elapsed().as_secs_f64() * 1_000.0;
        if !status.is_success() {
            bail!(
                "{query:?} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let page: Value = serde_json::from_slice(&body).context("the page is not JSON")?;
        let items = page["items"].as_array().map(Vec::len).context("no items")?;
        let next = page["next_cursor"].as_str().map(str::to_string);
        Ok((ms, items, next))
    }

    fn timed_out(&self, e: reqwest::Error) -> anyhow::Error {
        if e.is_timeout() {
            TimedOut(self.case_time).into()
        } else {
            e.into()
        }
    }

    /// Warm-up, then the same request until `requests` or the time bound.
    async fn repeat(&self, case: String, query: &[(&str, &str)]) -> Result<Row> {
        eprintln!("  {case}");
        for _ in 0..WARM_UP {
            self.get(query).await?;
        }
        let started = Instant::now();
        let mut ms = Vec::with_capacity(self.requests);
        let mut rows = 0;
        while ms.len() < self.requests && started.elapsed() < self.case_time {
            let (t, items, _) = self.get(query).await?;
            ms.push(t);
            rows = items;
        }
        Ok(Row::new(case, ms, rows))
    }

    /// Every case; the flag says a request timed out and its query may still be running.
    pub async fn cases(&self, backend: &str, pages: &[usize]) -> Result<(Vec<Row>, bool)> {
        eprintln!("{backend}: measuring");
        let limit = LIMIT.to_string();
        let deepest = pages.iter().copied().max().unwrap_or(1);
        let walk_case = format!("walk pages 1–{deepest} (each once)");
        // Walk from page 1, keeping the cursor that asks for each page in `pages`.
        let mut cursors = Vec::new();
        let mut walk = Vec::with_capacity(deepest);
        let mut cursor: Option<String> = None;
        let mut rows = 0;
        for page in 1..=deepest {
            if pages.contains(&page) {
                cursors.push((format!("page {page}"), cursor.clone().context("no cursor")?));
            }
            let mut query = vec![("limit", limit.as_str())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            match self.get(&query).await {
                Ok((t, items, next)) => {
                    walk.push(t);
                    rows = items;
                    cursor = next;
                }
                Err(e) if e.is::<TimedOut>() => {
                    let note = format!("page {page}: {e}; nothing else was run");
                    return Ok((vec![Row::skipped(walk_case, note)], true));
                }
                Err(e) => return Err(e),
            }
        }
        let mut cases: Vec<(String, Vec<(&str, &str)>)> =
            vec![(FIRST_PAGE.into(), vec![("limit", &limit)])];
        for (name, cursor) in &cursors {
            cases.push((name.clone(), vec![("limit", &limit), ("cursor", cursor)]));
        }
        cases.push((
            "status=waiting, first page".into(),
            vec![("limit", &limit), ("status", "waiting")],
        ));
        cases.push((
            format!("q={SEARCH_HIT}, first page"),
            vec![("limit", &limit), ("q", SEARCH_HIT)],
        ));
        cases.push((
            format!("q={SEARCH_MISS} (no match)"),
            vec![("limit", &limit), ("q", SEARCH_MISS)],
        ));
        let mut out = vec![Row::new(walk_case, walk, rows)];
        let mut busy = None;
        for (name, query) in cases {
            if let Some(why) = &busy {
                out.push(Row::skipped(name, format!("not run: {why}")));
                continue;
            }
            match self.repeat(name.clone(), &query).await {
                Ok(row) => out.push(row),
                Err(e) if e.is::<TimedOut>() => {
                    out.push(Row::skipped(name.clone(), e.to_string()));
                    busy = Some(format!(
                        "the server was still running the query of \"{name}\""
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        Ok((out, busy.is_some()))
    }
}

/// The machine, for the report: cores, CPU model, memory, kernel.
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
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
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
