//! Two nodes behind a load balancer without sticky sessions: Postgres + Redis shared.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use concierge::escalation::ESCALATED_ONLINE;
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::ErrorCode;
use concierge_protocol::EscalationReason;
use concierge_protocol::{ConversationStatus, Phase, TicketStatus};
use concierge_tests::pg::PgDatabase;
use concierge_tests::*;

use concierge_tests::escalation::{next_ticket, status_of, system_line};

/// Two nodes on a fresh Postgres database and the shared Redis, with `tune` applied to both
/// (the calling test is marked as needing both).
async fn two_nodes(tune: impl FnOnce(&mut Options)) -> (PgDatabase, TestApp, TestApp) {
    let (pg, redis) = (
        concierge_tests::needs::postgres(),
        concierge_tests::needs::redis(),
    );
    let db = PgDatabase::create(&pg).await.unwrap();
    let mut opts = Options {
        database_url: Some(db.url.clone()),
        redis_url: Some(redis),
        ..Options::default()
    };
    tune(&mut opts);
    let a = spawn_with(opts.clone()).await.unwrap();
    let b = spawn_with(opts).await.unwrap();
    (db, a, b)
}

#[tokio::test]
#[ignore = "needs Postgres and Redis (CONCIERGE_TEST_POSTGRES_URL, CONCIERGE_TEST_REDIS_URL)"]
async fn a_visitor_on_node_a_and_an_agent_on_node_b_see_each_other() {
    let (db, a, b) = two_nodes(|opts| opts.limits.messages_per_minute = 4).await;
    let body: serde_json::Value = reqwest::get(b.http("/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["bus"]["kind"], "redis");

    let mut agent = Agent::connect(b.addr, &a.agent_token).await.unwrap();
    let mut v = a.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "hello from node A").await.unwrap();
    let text = agent
        .wait_for(|f| match f {
            AgentServerFrame::Message { message, .. } => Some(message.text.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(text, "hello from node A");

    agent
        .reply(&w.conversation_id, "r", "hello from node B")
        .await
        .unwrap();
    assert_eq!(v.agent_message().await.text, "hello from node B");

    v.send(&VisitorClientFrame::Typing { on: true }).await;
    agent
        .wait_for(|f| {
            matches!(f, AgentServerFrame::Typing { who, on: true, .. } if who == "visitor")
                .then_some(())
        })
        .await
        .unwrap();
    agent
        .send(&AgentClientFrame::Typing {
            conversation_id: w.conversation_id.clone(),
            on: true,
        })
        .await;
    v.wait_for(|f| matches!(f, VisitorServerFrame::Typing { on: true, .. }).then_some(()))
        .await
        .unwrap();

    // The same visitor on node B resumes the conversation, and the per-visitor message budget
    // (4/min) is shared by both nodes: 1 sent on A, 3 more on B, the 5th is refused.
    let mut vb = Visitor::connect(
        &format!("ws://{}/ws/visitor?site_key={}", b.addr, a.site_key),
        Some(ORIGIN),
    )
    .await
    .unwrap();
    let wb = vb.hello(Some(&w.token), None, None).await.unwrap();
    assert_eq!(wb.conversation_id, w.conversation_id);
    for i in 0..3 {
        vb.say(&format!("b{i}"), "more").await.unwrap();
    }
    vb.send(&VisitorClientFrame::Send {
        client_msg_id: "b-over".into(),
        text: "over".into(),
    })
    .await;
    let code = vb
        .wait_for(|f| match f {
            VisitorServerFrame::Error { code, .. } => Some(*code),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(code, ErrorCode::RateLimited);
    drop((v, vb, agent));
    a.shutdown().await;
    b.shutdown().await;
    db.drop_now().await.unwrap();
}

/// A redis-server of our own, so the test can kill and restart it.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let r = PrivateRedis {
            port,
            child: Some(child),
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
#[ignore = "needs Redis (CONCIERGE_TEST_REDIS_URL)"]
async fn nodes_survive_a_redis_restart_and_resync_what_was_missed() {
    concierge_tests::needs::redis();
    let port = free_port();
    let mut redis =
        PrivateRedis::start(port).expect("redis-server binary must be installed to run this test");
    // Two nodes on one shared SQLite file (WAL handles two writers), Redis between them.
    // Each keeps its own data dir: the embedded vector index belongs to one process.
    let dir = temp_dir();
    let opts = Options {
        redis_url: Some(redis.url()),
        database_url: Some(format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("shared.db").display()
        )),
        ..Options::default()
    };
    let a = spawn_with(opts.clone()).await.unwrap();
    let b = spawn_with(opts).await.unwrap();
    let mut agent = Agent::connect(b.addr, &a.agent_token).await.unwrap();
    let mut v = a.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q", "hi").await.unwrap();
    agent
        .reply(&w.conversation_id, "r0", "before outage")
        .await
        .unwrap();
    assert_eq!(v.agent_message().await.text, "before outage");

    redis.kill();
    // Persisted and acked even though the bus is down.
    agent
        .reply(&w.conversation_id, "r1", "during outage")
        .await
        .unwrap();
    let ready = reqwest::get(b.http("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503);

    tokio::time::sleep(Duration::from_millis(500)).await;
    let _redis2 = PrivateRedis::start(port).expect("redis restarts");
    // Node A resubscribes and resyncs its sockets from the store: the missed reply arrives.
    assert_eq!(v.agent_message().await.text, "during outage");
    // Live delivery works again without restarting the nodes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while reqwest::get(b.http("/readyz")).await.unwrap().status() != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node B never became ready again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent
        .reply(&w.conversation_id, "r2", "after outage")
        .await
        .unwrap();
    assert_eq!(v.agent_message().await.text, "after outage");
}

#[tokio::test]
#[ignore = "needs Postgres and Redis (CONCIERGE_TEST_POSTGRES_URL, CONCIERGE_TEST_REDIS_URL)"]
async fn an_escalation_on_node_a_reaches_the_agent_on_node_b() {
    let (db, a, b) = two_nodes(|_| {}).await;

    // The agent is online on node B only: node A learns it from the shared presence rows.
    let mut agent = Agent::connect(b.addr, &a.agent_token).await.unwrap();
    let mut v = a.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("q1", "I want to speak to a manager right now")
        .await
        .unwrap();
    status_of(&mut v, ConversationStatus::Waiting).await;
    assert_eq!(system_line(&mut v).await, ESCALATED_ONLINE);
    let ticket = next_ticket(&mut agent, |t| t.status == TicketStatus::Open).await;
    assert_eq!(ticket.conversation_id, w.conversation_id);
    assert!(ticket.reasons.contains(&EscalationReason::AskedForHuman));

    // Both nodes race to escalate the same conversation: one ticket, one escalation.
    let sa = a.app.clone();
    let sb = b.app.clone();
    let conv = a.conversation(&w.conversation_id).await;
    let (ra, rb) = tokio::join!(
        sa.escalations.request_human(&conv),
        sb.escalations.request_human(&conv)
    );
    assert!(
        ra.unwrap().is_none() && rb.unwrap().is_none(),
        "already waiting"
    );
    let tickets = a
        .app
        .chat
        .store
        .tickets(&conv.site_id, None, 10)
        .await
        .unwrap();
    assert_eq!(tickets.len(), 1);

    agent
        .send(&AgentClientFrame::TakeOver {
            conversation_id: w.conversation_id.clone(),
        })
        .await;
    let (name, phase) = status_of(&mut v, ConversationStatus::Agent).await;
    assert_eq!(
        (name.as_deref(), phase),
        (Some("Alice"), Some(Phase::AgentJoined))
    );

    drop(agent);
    a.shutdown().await;
    b.shutdown().await;
    db.drop_now().await.unwrap();
}
