//! Following one conversation in the logs of the real binary: JSON lines
//! (`CONCIERGE_LOG_FORMAT=json`) whose spans carry the conversation id, and a request id on
//! every HTTP request, echoed in the response.

use std::process::Stdio;
use std::time::Duration;

use concierge_tests::*;
use serde_json::Value;

use concierge_tests::binary::command;

/// The log lines (one JSON object each) whose span list has a span named `span` with
/// `field` = `value`.
fn in_span<'a>(lines: &'a [Value], span: &str, field: &str, value: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| {
            l["spans"].as_array().is_some_and(|spans| {
                spans
                    .iter()
                    .any(|s| s["name"] == span && s[field].as_str() == Some(value))
            })
        })
        .collect()
}

fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn one_conversation_can_be_followed_in_json_logs_by_its_id() {
    let dir = temp_dir();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = tokio::process::Command::from(command(dir.path(), &["serve", "--json"]))
        .env("CONCIERGE_LISTEN", "127.0.0.1:0")
        .env("CONCIERGE_LOG", "info")
        .env("CONCIERGE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        tokio::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .await
            .unwrap();
        serde_json::from_str::<Value>(&line).unwrap()
    };
    let addr = started["listening"].as_str().unwrap().to_string();
    let site_key = started["demo"]["site_key"].as_str().unwrap().to_string();

    // A request id given by the client comes back, and is on the request's log line; a
    // missing or odd one is replaced by a fresh one.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{addr}/healthz"))
        .header("x-request-id", "lb-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-7f3a");
    for given in [None, Some("has spaces"), Some("\"quoted\"")] {
        let mut req = http.get(format!("http://{addr}/healthz"));
        if let Some(id) = given {
            req = req.header("x-request-id", id);
        }
        let r = req.send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 36, "a fresh UUID, not {given:?}: {id}");
    }

    let mut v = Visitor::connect(
        &format!("ws://{addr}/ws/visitor?site_key={site_key}"),
        Some("http://localhost:5173"),
    )
    .await
    .unwrap();
    let w = v.hello(None, None, None).await.unwrap();
    let seq = v.say("m1", "Where is my parcel?").await.unwrap();
    let cid = w.conversation_id.clone();

    // The bot's turn ends with a line of its own; wait for it (the site has no documents, so
    // the bot stays silent, but the turn is still logged).
    let mut lines: Vec<Value> = Vec::new();
    for _ in 0..100 {
        let text = std::fs::read_to_string(&log_path).unwrap();
        lines = text
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect();
        if in_span(&lines, "bot_answer", "conversation", &cid)
            .iter()
            .any(|l| message(l) == "bot turn done")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill().await;

    let session = in_span(&lines, "visitor_session", "conversation", &cid);
    let said: Vec<&str> = session.iter().map(|l| message(l)).collect();
    assert!(said.contains(&"visitor joined"), "{said:?}");
    let sent = session
        .iter()
        .find(|l| message(l) == "visitor message")
        .unwrap_or_else(|| panic!("no `visitor message` line: {said:?}"));
    assert_eq!(sent["fields"]["seq"], seq);
    // The session's span names the site, the visitor and the request id of its upgrade.
    let span = sent["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "visitor_session")
        .unwrap();
    assert!(
        span["site"].as_str().is_some_and(|s| !s.is_empty()),
        "{span}"
    );
    assert!(
        span["visitor"].as_str().is_some_and(|s| !s.is_empty()),
        "{span}"
    );
    let upgrade_id = span["request_id"].as_str().unwrap().to_string();
    assert_eq!(upgrade_id.len(), 36, "{span}");
    let upgrade = in_span(&lines, "http", "request_id", &upgrade_id);
    assert!(
        upgrade
            .iter()
            .any(|l| l["spans"][0]["path"] == "/ws/visitor"),
        "the upgrade request is logged with the session's request id: {upgrade:?}"
    );
    let bot = in_span(&lines, "bot_answer", "conversation", &cid);
    let turn = bot
        .iter()
        .find(|l| message(l) == "bot turn done")
        .expect("the bot's turn is logged in its span");
    assert_eq!(turn["span"]["seq"], seq);
    // The healthz request with the client's id.
    let given = in_span(&lines, "http", "request_id", "lb-7f3a");
    assert!(
        given
            .iter()
            .any(|l| message(l) == "finished processing request"
                && l["span"]["path"] == "/healthz"),
        "{given:?}"
    );
}
