//! The conversation's events as the visitor receives them: forwarded gap-free through the
//! [`SeqTracker`](crate::ws::SeqTracker), or, after a lag or a bus outage, re-read from the store.

use std::sync::Arc;

use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::{Author, ConversationStatus, Phase};
use futures_util::Sink;

use super::Joined;
use crate::app::App;
use crate::bus::{Event, EventKind};
use crate::ws::conn::{Closed, Conn};
use crate::ws::tracker::{DeltaVerdict, Verdict};
use crate::ws::Outgoing;

pub(super) async fn on_event<S: Sink<Outgoing> + Unpin>(
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
            // A snapshot read before a newer change and published after it is stale.
            if conversation.rev < j.conversation.rev {
                return Ok(());
            }
            j.conversation.rev = conversation.rev;
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
        EventKind::Phase { phase, .. } => {
            // What the bot is doing, while the bot has the conversation: a turn that read the
            // conversation before a person took it over must not show "searching" after.
            if j.conversation.status != ConversationStatus::Bot {
                return Ok(());
            }
            conn.send(&VisitorServerFrame::Status {
                status: ConversationStatus::Bot,
                agent_name: None,
                phase: Some(*phase),
            })
            .await
        }
        EventKind::Ingest { .. }
        | EventKind::Ticket { .. }
        | EventKind::Access { .. }
        | EventKind::Usage { .. }
        | EventKind::Feedback { .. } => Ok(()),
    }
}

/// A status change as the visitor sees it: a person taking over carries `agent_joined` and
/// their name.
pub(super) fn status_frame(
    status: ConversationStatus,
    agent_name: Option<String>,
) -> VisitorServerFrame {
    let joined = status == ConversationStatus::Agent;
    VisitorServerFrame::Status {
        status,
        agent_name: if joined { agent_name } else { None },
        phase: joined.then_some(Phase::AgentJoined),
    }
}

/// Re-reads the store after what this client has and sends what it lacks.
pub(super) async fn resync<S: Sink<Outgoing> + Unpin>(
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
        if c.rev < j.conversation.rev {
            return Ok(());
        }
        j.conversation.rev = c.rev;
        if c.status != j.conversation.status {
            j.conversation.status = c.status;
            conn.send(&status_frame(c.status, c.agent_name.clone()))
                .await?;
        }
    }
    Ok(())
}
