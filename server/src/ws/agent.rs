//! The agent's socket: every conversation event of the agent's sites, and the agent's
//! actions (reply, take over, hand back, resolve, typing, sync).

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame, SiteInfo};
use concierge_protocol::{close, ConversationStatus, ErrorCode, PROTOCOL_VERSION};
use futures_util::stream::SelectAll;
use futures_util::{Sink, Stream, StreamExt};

use super::conn::{
    frame_error, linger_after_overflow, too_big_close, transport_message, Closed, Conn,
};
use super::subscription::SubscriptionStream;
use super::tracker::{DeltaVerdict, SeqTracker, Verdict};
use super::{Incoming, Outgoing};
use crate::app::App;
use crate::bus::{Event, EventKind};
use crate::error::chat_error_code;
use crate::store::Agent;

/// Most open conversations listed in `welcome`.
const WELCOME_CONVERSATIONS: i64 = 200;

fn error(code: ErrorCode, message: impl Into<String>) -> AgentServerFrame {
    AgentServerFrame::Error {
        code,
        message: message.into(),
    }
}

enum Step {
    Shutdown,
    Idle,
    Heartbeat,
    Incoming(Option<Incoming>),
    Event(Option<Option<Arc<Event>>>),
    Resync,
}

/// State after `hello`: the per-conversation delivery trackers.
#[derive(Default)]
struct Joined {
    trackers: HashMap<String, SeqTracker>,
}

/// Runs one agent socket; `agent` was authenticated at the upgrade.
pub async fn run_agent<S, R>(app: Arc<App>, agent: Agent, sink: S, mut stream: R)
where
    S: Sink<Outgoing> + Unpin,
    R: Stream<Item = Incoming> + Unpin,
{
    let metrics = app.chat.metrics.clone();
    metrics.agent_sockets.fetch_add(1, Relaxed);
    let mut conn = Conn::new(sink, &app.chat.limits, metrics.clone());
    let mut joined: Option<Joined> = None;
    let mut events: SelectAll<SubscriptionStream> = SelectAll::new();
    let mut generations = app.hub.generations();
    let beat = Duration::from_secs(app.chat.limits.config.heartbeat_secs.max(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    loop {
        let step = tokio::select! {
            _ = app.shutdown.cancelled() => Step::Shutdown,
            _ = tokio::time::sleep_until(conn.idle_deadline) => Step::Idle,
            _ = heartbeat.tick() => Step::Heartbeat,
            incoming = stream.next() => Step::Incoming(incoming),
            event = events.next(), if !events.is_empty() => Step::Event(event),
            Ok(()) = generations.changed() => Step::Resync,
        };
        let outcome = match step {
            Step::Shutdown => {
                conn.close(close::SERVICE_RESTART, "server restarting")
                    .await;
                break;
            }
            Step::Idle => {
                conn.close(close::IDLE_TIMEOUT, "idle timeout").await;
                break;
            }
            Step::Heartbeat => {
                use futures_util::SinkExt;
                conn.sink.send(Outgoing::Ping).await.map_err(|_| Closed)
            }
            Step::Incoming(None) | Step::Incoming(Some(Incoming::Close)) => break,
            Step::Incoming(Some(Incoming::Heartbeat)) => {
                conn.touch();
                Ok(())
            }
            Step::Incoming(Some(Incoming::Binary)) => {
                conn.error(
                    ErrorCode::BadFrame,
                    &error(ErrorCode::BadFrame, "binary frames are not supported"),
                )
                .await
            }
            Step::Incoming(Some(Incoming::TooBig)) => {
                metrics.error(ErrorCode::TooLarge);
                let _ = conn
                    .send(&error(ErrorCode::TooLarge, "frame over the hard cap"))
                    .await;
                let (code, reason) = too_big_close();
                conn.close(code, reason).await;
                linger_after_overflow().await;
                break;
            }
            Step::Incoming(Some(Incoming::Text(text))) => {
                on_text(&app, &agent, &mut conn, &mut joined, &mut events, &text).await
            }
            Step::Event(Some(Some(event))) => match joined.as_mut() {
                Some(j) => on_event(&app, &mut conn, j, &event).await,
                None => Ok(()),
            },
            // A lagged subscription: we may have missed events.
            Step::Event(Some(None)) | Step::Resync => conn.send(&AgentServerFrame::Resync).await,
            Step::Event(None) => Ok(()),
        };
        if outcome.is_err() {
            break;
        }
    }
    metrics.agent_sockets.fetch_sub(1, Relaxed);
}

async fn on_text<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    agent: &Agent,
    conn: &mut Conn<S>,
    joined: &mut Option<Joined>,
    events: &mut SelectAll<SubscriptionStream>,
    text: &str,
) -> Result<(), Closed> {
    if let Some(code) = conn.admit(text) {
        return conn
            .error(code, &error(code, transport_message(code)))
            .await;
    }
    let frame: AgentClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            return conn
                .error(
                    ErrorCode::BadFrame,
                    &error(ErrorCode::BadFrame, frame_error(&e)),
                )
                .await
        }
    };
    if let AgentClientFrame::Ping = frame {
        return conn.send(&AgentServerFrame::Pong).await;
    }
    if let AgentClientFrame::Hello { v } = frame {
        if joined.is_some() {
            return conn
                .error(
                    ErrorCode::BadFrame,
                    &error(ErrorCode::BadFrame, "hello was already received"),
                )
                .await;
        }
        if v != PROTOCOL_VERSION {
            let code = ErrorCode::UnsupportedVersion;
            return conn
                .error(
                    code,
                    &error(
                        code,
                        format!("this server speaks protocol v{PROTOCOL_VERSION}"),
                    ),
                )
                .await;
        }
        let store = &app.chat.store;
        let loaded = async {
            let sites = store.sites_for_account(&agent.account_id).await?;
            // Subscribe before listing, so nothing between the two is missed.
            for site in &sites {
                events.push(SubscriptionStream::new(app.hub.subscribe_site(&site.id)));
            }
            let open = store
                .open_conversations(&agent.account_id, WELCOME_CONVERSATIONS)
                .await?;
            Ok::<_, crate::store::StoreError>((sites, open))
        }
        .await;
        let (sites, open) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let (code, message) = chat_error_code(&e.into());
                return conn.error(code, &error(code, message)).await;
            }
        };
        let mut j = Joined::default();
        for c in &open {
            j.trackers.insert(c.id.clone(), SeqTracker::new(c.last_seq));
        }
        *joined = Some(j);
        return conn
            .send(&AgentServerFrame::Welcome {
                agent: agent.info(),
                sites: sites
                    .iter()
                    .map(|s| SiteInfo {
                        site_key: s.site_key.clone(),
                        name: s.name.clone(),
                    })
                    .collect(),
                conversations: open.iter().map(|c| c.view()).collect(),
            })
            .await;
    }
    let Some(j) = joined.as_mut() else {
        return conn
            .error(
                ErrorCode::BadFrame,
                &error(ErrorCode::BadFrame, "send hello first"),
            )
            .await;
    };
    let chat = &app.chat;
    let result = match frame {
        AgentClientFrame::Reply {
            conversation_id,
            client_msg_id,
            text,
        } => {
            let started = Instant::now();
            match chat
                .agent_reply(agent, &conversation_id, &client_msg_id, &text)
                .await
            {
                Ok(m) => {
                    conn.send(&AgentServerFrame::Ack {
                        conversation_id,
                        client_msg_id,
                        seq: m.seq,
                    })
                    .await?;
                    chat.metrics.ack_latency(started.elapsed());
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        AgentClientFrame::TakeOver { conversation_id } => {
            chat.take_over(agent, &conversation_id).await.map(|_| ())
        }
        AgentClientFrame::HandBack { conversation_id } => {
            chat.hand_back(agent, &conversation_id).await.map(|_| ())
        }
        AgentClientFrame::Resolve { conversation_id } => {
            chat.resolve(agent, &conversation_id).await.map(|_| ())
        }
        AgentClientFrame::Typing {
            conversation_id,
            on,
        } => chat.agent_typing(agent, &conversation_id, on).await,
        AgentClientFrame::Sync {
            conversation_id,
            last_seq,
        } => {
            match chat.agent_history(agent, &conversation_id, last_seq).await {
                Ok(messages) => {
                    let tracker = j.trackers.entry(conversation_id.clone()).or_default();
                    let views: Vec<_> = messages.iter().map(|m| m.view()).collect();
                    // What the agent now holds counts as delivered.
                    if let Some(last) = views.last() {
                        if last.seq > tracker.last_sent() {
                            *tracker = SeqTracker::new(last.seq);
                        }
                    }
                    for m in &views {
                        if m.state == concierge_protocol::MessageState::Streaming {
                            let mut t = SeqTracker::new(m.seq - 1);
                            t.message(m);
                            *tracker = t;
                        }
                    }
                    conn.send(&AgentServerFrame::History {
                        conversation_id,
                        messages: views,
                    })
                    .await?;
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        AgentClientFrame::Hello { .. } | AgentClientFrame::Ping => Ok(()),
    };
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            let (code, message) = chat_error_code(&e);
            conn.error(code, &error(code, message)).await
        }
    }
}

async fn on_event<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    event: &Event,
) -> Result<(), Closed> {
    let cid = &event.conversation_id;
    match &event.kind {
        EventKind::Conversation { conversation } => {
            if conversation.status == ConversationStatus::Resolved {
                j.trackers.remove(cid);
            }
            conn.send(&AgentServerFrame::Conversation {
                conversation: conversation.clone(),
            })
            .await
        }
        EventKind::Typing { who, on, .. } => {
            conn.send(&AgentServerFrame::Typing {
                conversation_id: cid.clone(),
                on: *on,
                who: who.clone(),
            })
            .await
        }
        EventKind::Message { message } => {
            // First sight of a conversation: deliver from this message on.
            let tracker = j
                .trackers
                .entry(cid.clone())
                .or_insert_with(|| SeqTracker::new(message.seq - 1));
            match tracker.message(message) {
                Verdict::Forward => {
                    conn.send(&AgentServerFrame::Message {
                        conversation_id: cid.clone(),
                        message: message.clone(),
                    })
                    .await
                }
                Verdict::Drop => Ok(()),
                Verdict::Resync => resync(app, conn, j, event).await,
            }
        }
        EventKind::Delta { seq, offset, text } => {
            let Some(tracker) = j.trackers.get_mut(cid) else {
                return Ok(()); // the agent never saw this message start; `sync` gets it
            };
            match tracker.delta(*seq, *offset, text) {
                DeltaVerdict::Forward { offset, text } => {
                    conn.send(&AgentServerFrame::Delta {
                        conversation_id: cid.clone(),
                        seq: *seq,
                        offset,
                        text,
                    })
                    .await
                }
                DeltaVerdict::Drop => Ok(()),
                DeltaVerdict::Resync => resync(app, conn, j, event).await,
            }
        }
    }
}

/// Sends what one conversation's tracker lacks, read from the store.
async fn resync<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    event: &Event,
) -> Result<(), Closed> {
    let store = &app.chat.store;
    let Some(tracker) = j.trackers.get_mut(&event.conversation_id) else {
        return Ok(());
    };
    let mut updates = Vec::new();
    for seq in tracker.streaming_seqs() {
        if let Ok(Some(m)) = store
            .message(&event.site_id, &event.conversation_id, seq)
            .await
        {
            updates.push(m.view());
        }
    }
    if let Ok(fresh) = store
        .messages_after(
            &event.site_id,
            &event.conversation_id,
            tracker.last_sent(),
            1_000,
        )
        .await
    {
        updates.extend(fresh.iter().map(|m| m.view()));
    }
    for m in updates {
        if tracker.message(&m) == Verdict::Forward {
            conn.send(&AgentServerFrame::Message {
                conversation_id: event.conversation_id.clone(),
                message: m,
            })
            .await?;
        }
    }
    Ok(())
}
