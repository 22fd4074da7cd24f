//! Agent sockets: the dashboard side. One writer replies to its share of the active
//! conversations on a fixed schedule; one reader takes every frame (acks, and the echo of every
//! site event the server fans out to agents) and times the acks.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::PROTOCOL_VERSION;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::stats::{parse_id, reply_id, Stats};
use crate::visitor::{send_json, tcp_from, Ws};

pub type AgentSink = SplitSink<Ws, Message>;

/// Opens `/ws/agent` with the bearer token and says hello; the reader runs in its own task.
pub async fn connect(
    addr: SocketAddr,
    token: &str,
    stats: Arc<Stats>,
) -> anyhow::Result<AgentSink> {
    let tcp = tcp_from(Ipv4Addr::LOCALHOST, addr).await?;
    let mut req = format!("ws://{addr}/ws/agent").into_client_request()?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    // Default (large) buffers: a handful of agent sockets carry the whole run's traffic.
    let (mut ws, _) = tokio_tungstenite::client_async(req, tcp).await?;
    send_json(
        &mut ws,
        &AgentClientFrame::Hello {
            v: PROTOCOL_VERSION,
        },
    )
    .await?;
    let welcomed = async {
        while let Some(msg) = ws.next().await {
            if let Message::Text(text) = msg? {
                match serde_json::from_str::<AgentServerFrame>(&text)? {
                    AgentServerFrame::Welcome { .. } => return Ok(()),
                    AgentServerFrame::Error { code, message } => {
                        bail!("agent hello refused: {code:?}: {message}")
                    }
                    _ => {}
                }
            }
        }
        bail!("agent socket closed before welcome")
    };
    tokio::time::timeout(Duration::from_secs(30), welcomed)
        .await
        .context("agent welcome timed out")??;
    let (sink, stream) = ws.split();
    tokio::spawn(read(stream, stats));
    Ok(sink)
}

async fn read(mut stream: SplitStream<Ws>, stats: Arc<Stats>) {
    while let Some(Ok(msg)) = stream.next().await {
        let Message::Text(text) = msg else { continue };
        stats.agent_frames.fetch_add(1, Relaxed);
        let frame = match serde_json::from_str::<AgentServerFrame>(&text) {
            Ok(f) => f,
            Err(e) => {
                stats.error(format!("agent: unparsable frame ({e}): {text}"));
                continue;
            }
        };
        match frame {
            AgentServerFrame::Ack { client_msg_id, .. } => match parse_id(&client_msg_id) {
                Some(('m', sent)) => {
                    stats.agent_ack.record_since(sent);
                    stats.replies_acked.fetch_add(1, Relaxed);
                }
                Some(('w', _)) => {
                    stats.warmup_acked.fetch_add(1, Relaxed);
                }
                _ => {}
            },
            AgentServerFrame::Resync => {
                stats.agent_resyncs.fetch_add(1, Relaxed);
            }
            AgentServerFrame::Error { code, message } => {
                stats.error(format!("agent: {code:?}: {message}"))
            }
            _ => {}
        }
    }
}

/// One agent's share of the conversations: (global index, conversation id).
pub type Share = Vec<(usize, String)>;

/// Replies `rounds` times to every conversation of `share`, one reply every `spacing`,
/// starting at `start`. `phase` is `'w'` (warm-up: the first reply takes the conversation over
/// from the bot) or `'m'` (measured). Returns how far the writer fell behind its schedule.
pub async fn reply_on_schedule(
    sink: &mut AgentSink,
    share: &Share,
    phase: char,
    rounds: u64,
    start: Instant,
    spacing: Duration,
    stats: &Stats,
) -> anyhow::Result<Duration> {
    let mut max_lag = Duration::ZERO;
    if share.is_empty() {
        return Ok(max_lag);
    }
    let total = rounds * share.len() as u64;
    for j in 0..total {
        let due = start + spacing.mul_f64(j as f64);
        tokio::time::sleep_until(due).await;
        max_lag = max_lag.max(Instant::now().saturating_duration_since(due));
        let (index, conversation_id) = &share[(j % share.len() as u64) as usize];
        let k = j / share.len() as u64;
        let frame = AgentClientFrame::Reply {
            conversation_id: conversation_id.clone(),
            client_msg_id: reply_id(phase, *index, k),
            text: format!("Agent reply {k} to conversation {index}."),
        };
        sink.send(Message::text(serde_json::to_string(&frame)?))
            .await?;
        if phase == 'm' {
            stats.replies_sent.fetch_add(1, Relaxed);
        }
    }
    Ok(max_lag)
}
