//! The `concierge` binary itself: CLI output contracts, first start, and SIGKILL safety
//! (driven through `concierge_tests::binary`).

use std::process::Command;

use concierge_tests::binary::{cli, serve};
use concierge_tests::*;

#[test]
fn cli_commands_print_exactly_one_json_object() {
    let dir = temp_dir();
    let (code, site) = cli(
        dir.path(),
        &[
            "--json",
            "site",
            "create",
            "--name",
            "Shop",
            "--origin",
            "https://shop.example",
            "--origin",
            "http://localhost:*",
        ],
    );
    assert_eq!(code, 0);
    let key = site["site_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("site_"));
    let (code, agent) = cli(
        dir.path(),
        &[
            "agent",
            "create",
            "--email",
            "Bo@Shop.example",
            "--role",
            "admin",
            "--site",
            &key,
            "--json",
        ],
    );
    assert_eq!(code, 0);
    assert_eq!(agent["email"], "bo@shop.example");
    assert!(agent["password"].as_str().unwrap().len() >= 16);
    let (code, token) = cli(
        dir.path(),
        &["--json", "agent", "token", "--email", "bo@shop.example"],
    );
    assert_eq!(code, 0);
    assert!(token["token"].as_str().unwrap().starts_with("agt_"));
    let (code, migrated) = cli(dir.path(), &["--json", "migrate"]);
    assert_eq!((code, migrated["migrated"].as_bool()), (0, Some(true)));
}

#[test]
fn cli_errors_are_coded_json_and_change_nothing() {
    let dir = temp_dir();
    let (code, err) = cli(
        dir.path(),
        &[
            "--json",
            "site",
            "create",
            "--name",
            "X",
            "--origin",
            "not-an-origin",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "bad_origin");
    let (code, err) = cli(
        dir.path(),
        &[
            "--json",
            "agent",
            "create",
            "--email",
            "a@b.c",
            "--role",
            "agent",
            "--site",
            "site_nope",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "unknown_site");
    let (code, err) = cli(
        dir.path(),
        &["--json", "agent", "token", "--email", "ghost@b.c"],
    );
    assert_eq!(code, 1);
    assert_eq!(err["error"]["code"], "unknown_agent");
}

#[tokio::test]
async fn the_first_serve_creates_a_demo_site_and_owner_and_sigkill_loses_nothing_acked() {
    let dir = temp_dir();
    let (mut server, started) = serve(dir.path());
    let demo = &started["demo"];
    let site_key = demo["site_key"].as_str().unwrap().to_string();
    assert_eq!(demo["owner_email"], "owner@localhost");
    assert!(demo["owner_password"].as_str().unwrap().len() >= 16);
    let addr = started["listening"].as_str().unwrap().to_string();
    let url = format!("ws://{addr}/ws/visitor?site_key={site_key}");
    // The demo site accepts any local port.
    let mut v = Visitor::connect(&url, Some("http://localhost:5173"))
        .await
        .unwrap();
    let w = v.hello(None, None, None).await.unwrap();
    let mut acked = Vec::new();
    for i in 0..20 {
        acked.push(
            v.say(&format!("k{i}"), &format!("durable {i}"))
                .await
                .unwrap(),
        );
    }
    // Acked, then killed without any chance to flush.
    server.0.kill().unwrap();
    server.0.wait().unwrap();

    let (_server2, started2) = serve(dir.path());
    assert!(
        started2.get("demo").is_none(),
        "the demo is created only once"
    );
    let addr2 = started2["listening"].as_str().unwrap();
    let mut v = Visitor::connect(
        &format!("ws://{addr2}/ws/visitor?site_key={site_key}"),
        Some("http://localhost:5173"),
    )
    .await
    .unwrap();
    let w2 = v.hello(Some(&w.token), None, None).await.unwrap();
    let seqs: Vec<_> = w2.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, acked);
    assert_eq!(w2.messages[19].text, "durable 19");
}

#[tokio::test]
async fn sigterm_closes_sockets_with_1012_and_exits_cleanly() {
    let dir = temp_dir();
    let (mut server, started) = serve(dir.path());
    let site_key = started["demo"]["site_key"].as_str().unwrap().to_string();
    let addr = started["listening"].as_str().unwrap().to_string();
    let mut v = Visitor::connect(
        &format!("ws://{addr}/ws/visitor?site_key={site_key}"),
        Some("http://127.0.0.1:8000"),
    )
    .await
    .unwrap();
    v.hello(None, None, None).await.unwrap();
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(v.closed().await, Some(1012));
    let status = tokio::task::spawn_blocking(move || server.0.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn operators_create_accounts_and_move_them_between_plans() {
    let dir = temp_dir();
    let (code, plans) = cli(dir.path(), &["--json", "plan", "list"]);
    assert_eq!(code, 0, "{plans}");
    let names: Vec<&str> = plans["plans"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["free", "pro", "enterprise"]);
    assert_eq!(
        plans["plans"][0],
        serde_json::json!({"name": "free", "bot_answers": 100, "seats": 1, "documents": 20, "sites": 1})
    );
    assert_eq!(
        plans["plans"][2]["bot_answers"],
        serde_json::Value::Null,
        "enterprise is unlimited"
    );
    let (code, account) = cli(
        dir.path(),
        &["--json", "account", "create", "--name", "Acme"],
    );
    assert_eq!(code, 0, "{account}");
    assert_eq!(account["plan"], "free");
    let id = account["account_id"].as_str().unwrap().to_string();
    let (code, site) = cli(
        dir.path(),
        &[
            "--json",
            "site",
            "create",
            "--account",
            &id,
            "--name",
            "Acme shop",
            "--origin",
            "https://acme.example",
        ],
    );
    assert_eq!(code, 0, "{site}");
    assert_eq!(site["account_id"], id.as_str());
    // Without --account a site gets an account of its own, never someone else's.
    let (_, lone) = cli(
        dir.path(),
        &[
            "--json",
            "site",
            "create",
            "--name",
            "Lone",
            "--origin",
            "https://lone.example",
        ],
    );
    assert_ne!(lone["account_id"], id.as_str());
    let (code, set) = cli(
        dir.path(),
        &[
            "--json",
            "plan",
            "set",
            "pro",
            "--bot-answers",
            "unlimited",
            "--seats",
            "7",
        ],
    );
    assert_eq!(code, 0, "{set}");
    assert_eq!(
        set,
        serde_json::json!({"name": "pro", "bot_answers": null, "seats": 7, "documents": 1000, "sites": 5})
    );
    let (code, moved) = cli(
        dir.path(),
        &[
            "--json",
            "account",
            "plan",
            "--account",
            &id,
            "--plan",
            "pro",
        ],
    );
    assert_eq!((code, moved["plan"].as_str()), (0, Some("pro")));
    let (code, err) = cli(
        dir.path(),
        &[
            "--json",
            "account",
            "plan",
            "--account",
            &id,
            "--plan",
            "platinum",
        ],
    );
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (1, Some("unknown_plan"))
    );
    let (code, err) = cli(
        dir.path(),
        &[
            "--json", "account", "create", "--name", "X", "--plan", "nope",
        ],
    );
    assert_eq!(
        (code, err["error"]["code"].as_str()),
        (1, Some("unknown_plan"))
    );
}
