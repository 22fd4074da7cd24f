//! Visitor sockets: connect from a chosen loopback source address, `hello` → `welcome`, then
//! sit on the socket (answering the server's pings) and, for the active ones, send one message
//! and time every agent reply that arrives.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, PROTOCOL_VERSION};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::stats::{now_ns, parse_id, Stats};

pub type Ws = WebSocketStream<TcpStream>;

/// Origin the demo site allows (`http://localhost:*`).
pub const ORIGIN: &str = "http://localhost:3000";

/// Small client buffers: the loadgen shares the machine with the server it measures, and
/// tungstenite's 128 KiB defaults would cost ~2.5 GiB for 20,000 sockets.
pub fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
}

/// TCP connect from `src` (a 127.0.0.x address, so one source does not run out of ports).
pub async fn tcp_from(src: Ipv4Addr, to: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((src, 0)))?;
    let tcp = socket.connect(to).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

pub async fn send_json<T: serde::Serialize>(ws: &mut Ws, frame: &T) -> anyhow::Result<()> {
    ws.send(Message::text(serde_json::to_string(frame)?))
        .await?;
    Ok(())
}

/// Opens a visitor socket and says hello; returns it with the new conversation's id.
pub async fn connect(
    addr: SocketAddr,
    site_key: &str,
    src: Ipv4Addr,
) -> anyhow::Result<(Ws, String)> {
    let tcp = tcp_from(src, addr).await?;
    let mut req = format!("ws://{addr}/ws/visitor?site_key={site_key}").into_client_request()?;
    req.headers_mut()
        .insert("origin", HeaderValue::from_static(ORIGIN));
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(req, tcp, Some(client_config())).await?;
    let hello = VisitorClientFrame::Hello {
        v: PROTOCOL_VERSION,
        visitor_token: None,
        conversation_id: None,
        last_seq: None,
        identity: None,
        page_url: None,
        lang: None,
    };
    send_json(&mut ws, &hello).await?;
    while let Some(msg) = ws.next().await {
        if let Message::Text(text) = msg? {
            match serde_json::from_str::<VisitorServerFrame>(&text)? {
                VisitorServerFrame::Welcome {
                    conversation_id, ..
                } => return Ok((ws, conversation_id)),
                VisitorServerFrame::Error { code, message } => {
                    bail!("hello refused: {code:?}: {message}")
                }
                _ => {}
            }
        }
    }
    bail!("socket closed before welcome")
}

/// What an active visitor does: send one message at `start + offset`.
pub struct Active {
    pub index: usize,
    /// Set once by the driver when the visitor-send phase begins.
    pub start: watch::Receiver<Option<Instant>>,
    pub offset: Duration,
}

/// Holds a welcomed socket until `stop` flips or the server closes it.
pub async fn hold(
    mut ws: Ws,
    mut active: Option<Active>,
    stats: Arc<Stats>,
    mut stop: watch::Receiver<bool>,
) {
    stats.open_visitors.fetch_add(1, Relaxed);
    let mut last_seq = 0i64;
    let mut waiting = active.is_some();
    let mut send_at: Option<Instant> = None;
    let closed_by_server = loop {
        let wake = send_at.unwrap_or_else(Instant::now);
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => on_text(&text, &mut last_seq, &stats),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break true,
                Some(Ok(_)) => {} // pings are answered by tungstenite while reading
            },
            changed = async { active.as_mut().map(|a| a.start.changed()).unwrap() .await }, if waiting => {
                if changed.is_err() {
                    waiting = false;
                } else if let Some(a) = active.as_ref() {
                    if let Some(start) = *a.start.borrow() {
                        send_at = Some(start + a.offset);
                        waiting = false;
                    }
                }
            }
            _ = tokio::time::sleep_until(wake), if send_at.is_some() => {
                send_at = None;
                let index = active.as_ref().map(|a| a.index).unwrap_or(0);
                let frame = VisitorClientFrame::Send {
                    client_msg_id: format!("v{index}-0-{}", now_ns()),
                    text: "Hello, I have a question about my order.".into(),
                };
                if send_json(&mut ws, &frame).await.is_err() {
                    break true;
                }
            }
            _ = stop.changed() => break false,
        }
    };
    stats.open_visitors.fetch_sub(1, Relaxed);
    if closed_by_server {
        stats.visitor_closed.fetch_add(1, Relaxed);
    } else {
        let _ = ws.close(None).await;
    }
}

fn on_text(text: &str, last_seq: &mut i64, stats: &Stats) {
    let frame = match serde_json::from_str::<VisitorServerFrame>(text) {
        Ok(f) => f,
        Err(e) => return stats.error(format!("visitor: unparsable frame ({e}): {text}")),
    };
    match frame {
        VisitorServerFrame::Ack { client_msg_id, .. } => {
            if let Some((_, sent)) = parse_id(&client_msg_id) {
                stats.visitor_ack.record_since(sent);
            }
            stats.visitor_acks.fetch_add(1, Relaxed);
        }
        VisitorServerFrame::Message { message } => {
            let seq = message.seq;
            if seq <= *last_seq {
                stats.duplicates.fetch_add(1, Relaxed);
                return;
            }
            if seq > *last_seq + 1 {
                stats.gaps.fetch_add((seq - *last_seq - 1) as u64, Relaxed);
            }
            *last_seq = seq;
            if message.author != Author::Agent {
                return;
            }
            if let Some(('m', sent)) = message.client_msg_id.as_deref().and_then(parse_id) {
                stats.delivery.record_since(sent);
                stats.delivered.fetch_add(1, Relaxed);
            }
        }
        VisitorServerFrame::Error { code, message } => {
            stats.error(format!("visitor: {code:?}: {message}"))
        }
        _ => {}
    }
}

/// Source addresses 127.0.0.2 ..= 127.0.0.(k+1).
pub fn sources(k: u8) -> Vec<Ipv4Addr> {
    (0..k.max(1))
        .map(|i| Ipv4Addr::new(127, 0, 0, 2 + i.min(250)))
        .collect()
}

/// Connects with a deadline, so a stuck handshake cannot hang the run.
pub async fn connect_within(
    limit: Duration,
    addr: SocketAddr,
    site_key: &str,
    src: Ipv4Addr,
) -> anyhow::Result<(Ws, String)> {
    tokio::time::timeout(limit, connect(addr, site_key, src))
        .await
        .context("connect + hello timed out")?
}
