//! The visitor's socket: `hello` → `welcome`, then sends, typing, feedback, new
//! conversations, and the conversation's events delivered gap-free through a [`SeqTracker`].
//!
//! - this file: the session loop and the frames that act on the joined conversation.
//! - [`hello`]: `hello`, `new_conversation` and `list_conversations` (which conversation the
//!   socket follows).
//! - [`events`]: forwarding the conversation's events, and resync from the store.

mod events;
mod hello;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::ErrorCode;
use futures_util::{Sink, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use self::events::{on_event, resync, status_frame};
use super::conn::{next_event, Closed, Conn, Transport};
use super::tracker::SeqTracker;
use super::{Incoming, Outgoing};
use crate::app::App;
use crate::bus::{Event, Subscription};
use crate::chat::Hello;
use crate::error::chat_error_code;
use crate::store::{ConversationRecord, Site, Visitor};

/// A visitor after a successful `hello`.
struct Joined {
    visitor: Visitor,
    /// The token the client holds, repeated in the `welcome` of a new conversation.
    token: String,
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
            identity,
            page_url,
            lang,
        } => {
            if !conn.accept_hello(joined.is_some(), v, error).await? {
                return Ok(());
            }
            let hello = Hello {
                token: visitor_token.as_deref(),
                conversation_id: conversation_id.as_deref(),
                last_seq,
                identity: identity.as_ref(),
                page_url: page_url.as_deref(),
                lang: lang.as_deref(),
            };
            hello::on_hello(app, site, conn, joined, sub, hello).await
        }
        VisitorClientFrame::NewConversation {} => match joined.as_mut() {
            Some(j) => hello::on_new_conversation(app, conn, j, sub).await,
            None => hello_first(conn).await,
        },
        VisitorClientFrame::ListConversations {} => match joined.as_ref() {
            Some(j) => hello::on_list_conversations(app, conn, j).await,
            None => hello_first(conn).await,
        },
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
                    tracing::info!(seq = m.seq, fresh, "visitor message");
                    conn.send(&VisitorServerFrame::Ack {
                        client_msg_id,
                        seq: m.seq,
                    })
                    .await?;
                    app.chat.metrics.ack_latency(started.elapsed());
                    if fresh {
                        app.turns.on_visitor_message(&j.conversation, m);
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

/// A frame other than `hello` or `ping` before `hello`.
async fn hello_first<S: Sink<Outgoing> + Unpin>(conn: &mut Conn<S>) -> Result<(), Closed> {
    conn.error(
        ErrorCode::BadFrame,
        &error(ErrorCode::BadFrame, "send hello first"),
    )
    .await
}
