//! The agent's socket: every conversation event of the agent's sites, and the agent's
//! actions (reply, take over, hand back, resolve, typing, sync).
//!
//! - `requests`: the agent's actions, concurrent across conversations.
//! - `events`: the sites' events, forwarded gap-free per conversation.

mod events;
mod requests;

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame, SiteInfo};
use concierge_protocol::{close, ErrorCode, MessageState};
use futures_util::stream::SelectAll;
use futures_util::{Sink, Stream, StreamExt};

use self::events::on_event;
use self::requests::{Outcome, Requests};
use super::conn::{Closed, Conn, Transport};
use super::revs::Revs;
use super::subscription::SubscriptionStream;
use super::tracker::SeqTracker;
use super::{Incoming, Outgoing};
use crate::accounts::auth::{authenticate, Credential};
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
    Transport(Transport),
    Event(Option<Option<Arc<Event>>>),
    Resync,
    Finished(String, Outcome),
}

/// State after `hello`: the per-conversation delivery trackers.
#[derive(Default)]
struct Joined {
    trackers: HashMap<String, SeqTracker>,
    /// The newest `rev` sent per conversation: an older snapshot arriving later (published
    /// by a task that read the row before a newer change) is dropped instead of undoing a
    /// newer status.
    revs: Revs,
    /// The same for tickets, by ticket id.
    ticket_revs: Revs,
    requests: Requests,
}

/// Runs one agent socket; `agent` was authenticated at the upgrade with `credential`, which
/// is checked again when the agent's access changes and on every heartbeat: a signed-out
/// session, a revoked token or a removed agent closes the socket with 4001.
pub async fn run_agent<S, R>(
    app: Arc<App>,
    agent: Agent,
    credential: Credential,
    sink: S,
    mut stream: R,
) where
    S: Sink<Outgoing> + Unpin,
    R: Stream<Item = Incoming> + Unpin,
{
    let agent = Arc::new(agent);
    run(app, agent, credential, sink, &mut stream).await
}

/// Whether the socket's credential still belongs to its agent.
async fn still_valid(app: &App, agent: &Agent, credential: &Credential) -> bool {
    match authenticate(&app.chat.store, &app.config.auth, credential).await {
        Ok(Some(p)) => p.agent.id == agent.id,
        Ok(None) => false,
        // A database hiccup does not sign anyone out.
        Err(e) => {
            tracing::warn!(error = %e, "agent credential re-check failed");
            true
        }
    }
}

async fn run<S, R>(
    app: Arc<App>,
    agent: Arc<Agent>,
    credential: Credential,
    sink: S,
    stream: &mut R,
) where
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
            _ = app.shutdown.cancelled() => Step::Transport(Transport::Shutdown),
            _ = tokio::time::sleep_until(conn.idle_deadline) => Step::Transport(Transport::Idle),
            _ = heartbeat.tick() => Step::Transport(Transport::Heartbeat),
            incoming = stream.next() => Step::Transport(Transport::Incoming(incoming)),
            event = events.next(), if !events.is_empty() => Step::Event(event),
            Ok(()) = generations.changed() => Step::Resync,
            (cid, outcome) = next_finished(&mut joined), if has_inflight(&joined) => Step::Finished(cid, outcome),
        };
        let recheck = match &step {
            Step::Transport(Transport::Heartbeat) => true,
            Step::Event(Some(Some(event))) => {
                matches!(&event.kind, EventKind::Access { agent_id } if *agent_id == agent.id)
            }
            _ => false,
        };
        if recheck && !still_valid(&app, &agent, &credential).await {
            let code = ErrorCode::Unauthenticated;
            let _ = conn
                .send(&error(code, "your session ended; sign in again"))
                .await;
            conn.close(close::ACCESS_REVOKED, "access revoked").await;
            break;
        }
        let outcome = match step {
            Step::Transport(t) => match conn.transport(t, error).await {
                Ok(Some(text)) => {
                    on_text(&app, &agent, &mut conn, &mut joined, &mut events, &text).await
                }
                Ok(None) => Ok(()),
                Err(Closed) => break,
            },
            Step::Event(Some(Some(event))) => match joined.as_mut() {
                Some(j) => on_event(&app, &mut conn, j, &event).await,
                None => Ok(()),
            },
            // A lagged subscription: we may have missed events.
            Step::Event(Some(None)) | Step::Resync => conn.send(&AgentServerFrame::Resync).await,
            Step::Event(None) => Ok(()),
            Step::Finished(cid, outcome) => match joined.as_mut() {
                Some(j) => {
                    j.requests.finished(&app, &agent, &cid);
                    on_finished(&app, &mut conn, j, cid, outcome).await
                }
                None => Ok(()),
            },
        };
        if outcome.is_err() {
            break;
        }
    }
    if joined.is_some() {
        if let Err(e) = app
            .escalations
            .presence
            .disconnected(&app.chat.store, &agent)
            .await
        {
            tracing::warn!(error = %e, "agent presence not cleared");
        }
    }
    metrics.agent_sockets.fetch_sub(1, Relaxed);
}

async fn on_text<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    agent: &Arc<Agent>,
    conn: &mut Conn<S>,
    joined: &mut Option<Joined>,
    events: &mut SelectAll<SubscriptionStream>,
    text: &str,
) -> Result<(), Closed> {
    let Some(frame): Option<AgentClientFrame> = conn.parse(text, error).await? else {
        return Ok(());
    };
    if let AgentClientFrame::Ping = frame {
        return conn.send(&AgentServerFrame::Pong).await;
    }
    if let AgentClientFrame::Hello { v } = frame {
        if !conn.accept_hello(joined.is_some(), v, error).await? {
            return Ok(());
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
            let tickets = store
                .active_tickets_for_account(&agent.account_id, WELCOME_CONVERSATIONS)
                .await?;
            app.escalations.presence.connected(store, agent).await?;
            Ok::<_, crate::store::StoreError>((sites, open, tickets))
        }
        .await;
        let (sites, open, tickets) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let (code, message) = chat_error_code(&e.into());
                return conn.error(code, &error(code, message)).await;
            }
        };
        let mut j = Joined::default();
        for c in &open {
            j.trackers.insert(c.id.clone(), SeqTracker::new(c.last_seq));
            j.revs.sent(&c.id, c.rev);
        }
        for t in &tickets {
            j.ticket_revs.sent(&t.id, t.rev);
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
                tickets: tickets.iter().map(|t| t.view()).collect(),
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
    if j.requests.submit(app, agent, frame).is_err() {
        let code = ErrorCode::RateLimited;
        return conn
            .error(code, &error(code, "too many requests in flight"))
            .await;
    }
    Ok(())
}

fn has_inflight(joined: &Option<Joined>) -> bool {
    joined.as_ref().is_some_and(|j| j.requests.has_inflight())
}

async fn next_finished(joined: &mut Option<Joined>) -> (String, Outcome) {
    match joined {
        Some(j) => j.requests.next().await,
        None => std::future::pending().await,
    }
}

/// Sends what a finished request produced.
async fn on_finished<S: Sink<Outgoing> + Unpin>(
    app: &Arc<App>,
    conn: &mut Conn<S>,
    j: &mut Joined,
    conversation_id: String,
    outcome: Outcome,
) -> Result<(), Closed> {
    match outcome {
        Outcome::Done => Ok(()),
        Outcome::Ack {
            client_msg_id,
            seq,
            started,
        } => {
            conn.send(&AgentServerFrame::Ack {
                conversation_id,
                client_msg_id,
                seq,
            })
            .await?;
            app.chat.metrics.ack_latency(started.elapsed());
            Ok(())
        }
        Outcome::History { messages } => {
            let tracker = j.trackers.entry(conversation_id.clone()).or_default();
            // What the agent now holds counts as delivered.
            if let Some(last) = messages.last() {
                if last.seq > tracker.last_sent() {
                    *tracker = SeqTracker::new(last.seq);
                }
            }
            for m in &messages {
                if m.state == MessageState::Streaming {
                    let mut t = SeqTracker::new(m.seq - 1);
                    t.message(m);
                    *tracker = t;
                }
            }
            conn.send(&AgentServerFrame::History {
                conversation_id,
                messages,
            })
            .await
        }
        Outcome::Failed(e) => {
            let (code, message) = chat_error_code(&e);
            conn.error(code, &error(code, message)).await
        }
    }
}
