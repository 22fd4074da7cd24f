//! The visitor's socket: `hello` → `welcome`, then sends, typing, and the conversation's
//! events delivered gap-free through a [`SeqTracker`].

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, ConversationStatus, ErrorCode, Phase};
use futures_util::{Sink, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::conn::{next_event, Closed, Conn, Transport};
use super::tracker::{DeltaVerdict, SeqTracker, Verdict};
use super::{Incoming, Outgoing};
use crate::app::App;
use crate::bus::{Event, EventKind, Subscription};
use crate::error::chat_error_code;
use crate::store::{ConversationRecord, Site, Visitor};

/// A visitor after a successful `hello`.
struct Joined {
    visitor: Visitor,
    /// Kept current from `conversation` events: its status is what the client last heard.
    conversation: ConversationRecord,
    tracker: SeqTracker,
}

enum Step {
    Transport(Transport),
    Event(Result<Arc<Event>, RecvError>),
    Resync,
}

fn error(code: ErrorCode, message: impl Into<String>) -> VisitorServerFrame {
    VisitorServerFrame::Error {
        code,
        message: message.into(),
    }
}

/// Runs one visitor socket until it closes, the client goes idle, or the server shuts down.
pub async fn run_visitor<S, R>(app: Arc<App>, site: Site, sink: S, mut stream: R)
where
    S: Sink<Outgoing> + Unpin,
    R: Stream<Item = Incoming> + Unpin,
{
    let metrics = app.chat.metrics.clone();
    metrics.visitor_sockets.fetch_add(1, Relaxed);
    let mut conn = Conn::new(sink, &app.chat.limits, metrics.clone());
    let mut joined: Option<Joined> = None;
    let mut sub: Option<Subscription> = None;
    let mut generations = app.hub.generations();
    let beat = Duration::from_secs(app.chat.limits.config.heartbeat_secs.max(1));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    loop {
        let step = tokio::select! {
            _ = app.shutdown.cancelled() => Step::Transport(Transport::Shutdown),
            _ = tokio::time::sleep_until(conn.idle_deadline) => Step::Transport(Transport::Idle),
            _ = heartbeat.tick() => Step::Transport(Transport::Heartbeat),
            incoming = stream.next() => Step::Transport(Transport::Incoming(incoming)),
            event = next_event(&mut sub) => Step::Event(event),
            Ok(()) = generations.changed() => Step::Resync,
        };
        let outcome = match step {
            Step::Transport(t) => match conn.transport(t, error).await {
                Ok(Some(text)) => {
                    // Boxed: the store futures of hello/send would otherwise be part of every
                    // idle session's future (~5 KB of its ~11 KB).
                    Box::pin(on_text(
                        &app,
                        &site,
                        &mut conn,
                        &mut joined,
                        &mut sub,
                        &text,
                    ))
                    .await
                }
                Ok(None) => Ok(()),
                Err(Closed) => break,
            },
            Step::Event(Ok(event)) => match joined.as_mut() {
                Some(j) => Box::pin(on_event(&app, &mut conn, j, &event)).await,
                None => Ok(()),
            },
            Step::Event(Err(RecvError::Lagged(_))) | Step::Resync => match joined.as_mut() {
                Some(j) => Box::pin(resync(&app, &mut conn, j)).await,
                None => Ok(()),
            },
            Step::Event(Err(RecvError::Closed)) => {
                sub = None;
                Ok(())
            }
        };
        if outcome.is_err() {
            break;
        }
    }
    metrics.visitor_sockets.fetch_sub(1, Relaxed);
}

async fn on_text<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    site: &Site,
    conn: &mut Conn<S>,
    joined: &mut Option<Joined>,
    sub: &mut Option<Subscription>,
    text: &str,
) -> Result<(), Closed> {
    let Some(frame): Option<VisitorClientFrame> = conn.parse(text, error).await? else {
        return Ok(());
    };
    match frame {
        VisitorClientFrame::Ping => conn.send(&VisitorServerFrame::Pong).await,
        VisitorClientFrame::Hello {
            v,
            visitor_token,
            conversation_id,
            last_seq,
        } => {
            if !conn.accept_hello(joined.is_some(), v, error).await? {
                return Ok(());
            }
            let hello = app
                .chat
                .visitor_hello(
                    site,
                    visitor_token.as_deref(),
                    conversation_id.as_deref(),
                    last_seq,
                )
                .await;
            let session = match hello {
                Ok(s) => s,
                Err(e) => {
                    let (code, message) = chat_error_code(&e);
                    return conn.error(code, &error(code, message)).await;
                }
            };
            // Subscribe before answering, then re-read once: nothing published between the
            // history read and the subscription can fall through the crack.
            *sub = Some(app.hub.subscribe_conversation(&session.conversation.id));
            let mut tracker = SeqTracker::new(session.after_seq);
            let messages: Vec<_> = session.messages.iter().map(|m| m.view()).collect();
            for m in &messages {
                tracker.message(m);
            }
            let token = session
                .new_token
                .clone()
                .unwrap_or_else(|| visitor_token.unwrap_or_default());
            conn.send(&VisitorServerFrame::Welcome {
                visitor_token: token,
                conversation_id: session.conversation.id.clone(),
                status: session.conversation.status,
                messages,
            })
            .await?;
            let j = joined.insert(Joined {
                visitor: session.visitor,
                conversation: session.conversation,
                tracker,
            });
            resync(app, conn, j).await
        }
        VisitorClientFrame::Send {
            client_msg_id,
            text,
        } => {
            let Some(j) = joined.as_mut() else {
                return hello_first(conn).await;
            };
            let started = Instant::now();
            match app
                .chat
                .visitor_send(&j.visitor, &j.conversation, &client_msg_id, &text)
                .await
            {
                Ok((m, fresh)) => {
                    conn.send(&VisitorServerFrame::Ack {
                        client_msg_id,
                        seq: m.seq,
                    })
                    .await?;
                    app.chat.metrics.ack_latency(started.elapsed());
                    if fresh {
                        app.bot.on_visitor_message(&j.conversation, m);
                    }
                    Ok(())
                }
                Err(e) => {
                    let (code, message) = chat_error_code(&e);
                    conn.error(code, &error(code, message)).await
                }
            }
        }
        VisitorClientFrame::RequestHuman {} => {
            let Some(j) = joined.as_mut() else {
                return hello_first(conn).await;
            };
            match app.escalations.request_human(&j.conversation).await {
                // The `status` (waiting) and the system line arrive as events.
                Ok(Some(_)) => Ok(()),
                // Already waiting for or with a person: say so.
                Ok(None) => {
                    let current = app
                        .chat
                        .store
                        .conversation(&j.conversation.site_id, &j.conversation.id)
                        .await;
                    match current {
                        Ok(Some(c)) => {
                            j.conversation.status = c.status;
                            conn.send(&status_frame(c.status, c.agent_name)).await
                        }
                        _ => Ok(()),
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "request_human failed");
                    let code = ErrorCode::Internal;
                    conn.error(code, &error(code, "could not reach the team; try again"))
                        .await
                }
            }
        }
        VisitorClientFrame::Feedback { seq, value } => {
            let Some(j) = joined.as_ref() else {
                return hello_first(conn).await;
            };
            match app.escalations.feedback(&j.conversation, seq, value).await {
                Ok(_) => Ok(()),
                Err(crate::escalation::EscalationError::Chat(e)) => {
                    let (code, message) = chat_error_code(&e);
                    conn.error(code, &error(code, message)).await
                }
                Err(e) => {
                    tracing::error!(error = %e, "feedback not stored");
                    let code = ErrorCode::Internal;
                    conn.error(code, &error(code, "feedback not stored; try again"))
                        .await
                }
            }
        }
        VisitorClientFrame::Typing { on } => {
            let Some(j) = joined.as_ref() else {
                return hello_first(conn).await;
            };
            app.chat.visitor_typing(&j.conversation, on).await;
            Ok(())
        }
    }
}

async fn on_event<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    event: &Event,
) -> Result<(), Closed> {
    match &event.kind {
        EventKind::Message { message } => match j.tracker.message(message) {
            Verdict::Forward => {
                conn.send(&VisitorServerFrame::Message {
                    message: message.clone(),
                })
                .await
            }
            Verdict::Drop => Ok(()),
            Verdict::Resync => resync(app, conn, j).await,
        },
        EventKind::Delta { seq, offset, text } => match j.tracker.delta(*seq, *offset, text) {
            DeltaVerdict::Forward { offset, text } => {
                conn.send(&VisitorServerFrame::Delta {
                    seq: *seq,
                    offset,
                    text,
                })
                .await
            }
            DeltaVerdict::Drop => Ok(()),
            DeltaVerdict::Resync => resync(app, conn, j).await,
        },
        EventKind::Typing { author, who, on } => {
            if *author == Author::Visitor {
                return Ok(());
            }
            conn.send(&VisitorServerFrame::Typing {
                on: *on,
                who: who.clone(),
            })
            .await
        }
        EventKind::Conversation { conversation } => {
            if conversation.status == j.conversation.status {
                return Ok(());
            }
            j.conversation.status = conversation.status;
            conn.send(&status_frame(
                conversation.status,
                conversation.agent_name.clone(),
            ))
            .await
        }
        EventKind::Phase { status, phase } => {
            conn.send(&VisitorServerFrame::Status {
                status: *status,
                agent_name: None,
                phase: Some(*phase),
            })
            .await
        }
        EventKind::Ingest { .. } | EventKind::Ticket { .. } => Ok(()),
    }
}

/// A frame other than `hello` or `ping` before `hello`.
async fn hello_first<S: Sink<Outgoing> + Unpin>(conn: &mut Conn<S>) -> Result<(), Closed> {
    conn.error(
        ErrorCode::BadFrame,
        &error(ErrorCode::BadFrame, "send hello first"),
    )
    .await
}

/// A status change as the visitor sees it: a person taking over carries `agent_joined` and
/// their name.
fn status_frame(status: ConversationStatus, agent_name: Option<String>) -> VisitorServerFrame {
    let joined = status == ConversationStatus::Agent;
    VisitorServerFrame::Status {
        status,
        agent_name: if joined { agent_name } else { None },
        phase: joined.then_some(Phase::AgentJoined),
    }
}

/// Re-reads the store after what this client has and sends what it lacks.
async fn resync<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
) -> Result<(), Closed> {
    let store = &app.chat.store;
    let (site_id, conversation_id) = (&j.conversation.site_id, &j.conversation.id);
    let mut updates = Vec::new();
    for seq in j.tracker.streaming_seqs() {
        if let Ok(Some(m)) = store.message(site_id, conversation_id, seq).await {
            updates.push(m.view());
        }
    }
    match store
        .messages_after(site_id, conversation_id, j.tracker.last_sent(), 1_000)
        .await
    {
        Ok(fresh) => updates.extend(fresh.iter().map(|m| m.view())),
        Err(e) => {
            tracing::warn!(error = %e, "resync read failed; the client can resume by last_seq")
        }
    }
    for m in updates {
        if j.tracker.message(&m) == Verdict::Forward {
            conn.send(&VisitorServerFrame::Message { message: m })
                .await?;
        }
    }
    if let Ok(Some(c)) = store.conversation(site_id, conversation_id).await {
        if c.status != j.conversation.status {
            j.conversation.status = c.status;
            conn.send(&status_frame(c.status, c.agent_name.clone()))
                .await?;
        }
    }
    Ok(())
}
