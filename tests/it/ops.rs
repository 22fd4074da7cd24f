use concierge_protocol::visitor::VisitorServerFrame;
use concierge_tests::*;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let h = http.get(app.http("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = http.get(app.http("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["bus"]["kind"], "in-process");

    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    v.say("m", "hi").await.unwrap();
    v.send_raw("junk").await;
    v.next().await.unwrap();
    let m = app.metrics().await;
    assert!(
        m.contains("concierge_open_sockets{kind=\"visitor\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("concierge_errors_total{code=\"bad_frame\"} 1"),
        "{m}"
    );
    assert!(m.contains("concierge_ack_latency_seconds_count 1"), "{m}");
    assert!(m.contains("concierge_frames_received_total"));
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1012_and_stops_accepting() {
    let app = spawn_app().await;
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    let mut agent = app.agent().await;
    let url = app.visitor_url(&app.site_key);
    app.app.shutdown.cancel();
    assert_eq!(v.closed().await, Some(1012));
    assert_eq!(agent.closed().await, Some(1012));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(Visitor::connect(&url, Some(ORIGIN)).await.is_err());
}

#[tokio::test]
async fn conversations_survive_a_restart_on_the_same_data_dir() {
    let dir = temp_dir();
    let opts = Options {
        data_dir: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_with(opts.clone()).await.unwrap();
    let site_key = app.site_key.clone();
    let mut v = app.visitor().await;
    let w = v.hello(None, None, None).await.unwrap();
    v.say("a", "before restart").await.unwrap();
    drop(v);
    app.shutdown().await;

    let app2 = spawn_with(opts).await.unwrap();
    let mut v = Visitor::connect(&app2.visitor_url(&site_key), Some(ORIGIN))
        .await
        .unwrap();
    let w2 = v.hello(Some(&w.token), None, None).await.unwrap();
    assert_eq!(w2.conversation_id, w.conversation_id);
    assert_eq!(w2.messages[0].text, "before restart");
    assert_eq!(v.say("b", "after").await.unwrap(), 2);
    let _ = VisitorServerFrame::Pong;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_after_the_idle_timeout() {
    let mut opts = Options::default();
    opts.limits.idle_timeout_secs = 1;
    opts.limits.heartbeat_secs = 1;
    let app = spawn_with(opts).await.unwrap();
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    // Not reading means tungstenite never answers the server's pings.
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(v.closed().await, Some(1001));
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected_past_the_idle_timeout() {
    let mut opts = Options::default();
    opts.limits.idle_timeout_secs = 2;
    opts.limits.heartbeat_secs = 1;
    let app = spawn_with(opts).await.unwrap();
    let mut v = app.visitor().await;
    v.hello(None, None, None).await.unwrap();
    // Reading lets tungstenite answer each ping with a pong.
    assert!(v
        .next_within(std::time::Duration::from_millis(4_500))
        .await
        .is_none());
    assert_eq!(v.say("still", "here").await.unwrap(), 1);
}
