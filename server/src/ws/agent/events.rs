//! Events of the agent's sites, forwarded gap-free per conversation.

use std::sync::Arc;

use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::ConversationStatus;
use futures_util::Sink;

use super::Joined;
use crate::app::App;
use crate::bus::{Event, EventKind};
use crate::ws::conn::{Closed, Conn};
use crate::ws::tracker::{DeltaVerdict, SeqTracker, Verdict};
use crate::ws::Outgoing;

pub(super) async fn on_event<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    event: &Event,
) -> Result<(), Closed> {
    let cid = &event.conversation_id;
    match &event.kind {
        EventKind::Conversation { conversation } => {
            if !j.revs.newer(cid, conversation.rev) {
                return Ok(());
            }
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
        EventKind::Ingest { job } => {
            conn.send(&AgentServerFrame::Ingest { job: job.clone() })
                .await
        }
        EventKind::Ticket { ticket } => {
            if !j.ticket_revs.newer(&ticket.id, ticket.rev) {
                return Ok(());
            }
            conn.send(&AgentServerFrame::Ticket {
                ticket: ticket.clone(),
            })
            .await
        }
        EventKind::Feedback { seq, value } => {
            conn.send(&AgentServerFrame::Feedback {
                conversation_id: cid.clone(),
                seq: *seq,
                value: *value,
            })
            .await
        }
        EventKind::Usage { warning } => {
            conn.send(&AgentServerFrame::Usage {
                warning: warning.clone(),
            })
            .await
        }
        EventKind::Phase { .. } | EventKind::Access { .. } => Ok(()),
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
