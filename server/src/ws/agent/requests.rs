//! An agent's requests run concurrently with each other and with event forwarding, but one at
//! a time per conversation, so a conversation's replies are stored in the order they were
//! sent. A slow store write therefore delays only its own conversation.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use concierge_protocol::agent::AgentClientFrame;
use concierge_protocol::Message;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use tracing::Instrument;

use crate::app::App;
use crate::chat::ChatError;
use crate::store::Agent;

/// Requests queued behind a busy conversation, per socket; beyond this: `rate_limited`.
const MAX_WAITING: usize = 1024;

/// What a finished request asks the session to send.
pub(super) enum Outcome {
    Ack {
        client_msg_id: String,
        seq: i64,
        started: Instant,
    },
    History {
        messages: Vec<Message>,
    },
    Done,
    Failed(ChatError),
}

#[derive(Default)]
pub(super) struct Requests {
    inflight: FuturesUnordered<BoxFuture<'static, (String, Outcome)>>,
    /// Conversations with a request in flight.
    busy: HashSet<String>,
    /// Requests waiting for their conversation, in arrival order.
    waiting: VecDeque<AgentClientFrame>,
}

/// The conversation a request acts on (`None` for frames that are not requests).
fn conversation_of(frame: &AgentClientFrame) -> Option<&str> {
    match frame {
        AgentClientFrame::Reply {
            conversation_id, ..
        }
        | AgentClientFrame::TakeOver { conversation_id }
        | AgentClientFrame::HandBack { conversation_id }
        | AgentClientFrame::Resolve { conversation_id }
        | AgentClientFrame::Typing {
            conversation_id, ..
        }
        | AgentClientFrame::Sync {
            conversation_id, ..
        } => Some(conversation_id),
        AgentClientFrame::Hello { .. } | AgentClientFrame::Ping => None,
    }
}

impl Requests {
    /// Starts the request, or queues it behind its conversation. `Err` when the queue is full.
    pub fn submit(
        &mut self,
        app: &Arc<App>,
        agent: &Arc<Agent>,
        frame: AgentClientFrame,
    ) -> Result<(), ()> {
        let Some(cid) = conversation_of(&frame) else {
            return Ok(());
        };
        if self.busy.contains(cid) {
            if self.waiting.len() >= MAX_WAITING {
                return Err(());
            }
            self.waiting.push_back(frame);
            return Ok(());
        }
        self.start(app, agent, frame);
        Ok(())
    }

    fn start(&mut self, app: &Arc<App>, agent: &Arc<Agent>, frame: AgentClientFrame) {
        let cid = conversation_of(&frame).unwrap_or_default().to_string();
        self.busy.insert(cid.clone());
        let (app, agent) = (app.clone(), agent.clone());
        // A child of the socket's `agent_session` span: the agent's lines carry the
        // conversation they acted on.
        let span = tracing::info_span!("agent_request", conversation = %cid);
        self.inflight.push(Box::pin(
            async move {
                let outcome = run(&app, &agent, frame).await;
                (cid, outcome)
            }
            .instrument(span),
        ));
    }

    pub fn has_inflight(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// The next finished request; pending forever while none is in flight.
    pub async fn next(&mut self) -> (String, Outcome) {
        match self.inflight.next().await {
            Some(done) => done,
            None => std::future::pending().await,
        }
    }

    /// Frees the conversation and starts its next waiting request, if any.
    pub fn finished(&mut self, app: &Arc<App>, agent: &Arc<Agent>, conversation_id: &str) {
        self.busy.remove(conversation_id);
        if let Some(pos) = self
            .waiting
            .iter()
            .position(|f| conversation_of(f) == Some(conversation_id))
        {
            if let Some(frame) = self.waiting.remove(pos) {
                self.start(app, agent, frame);
            }
        }
    }
}

async fn run(app: &App, agent: &Agent, frame: AgentClientFrame) -> Outcome {
    let chat = &app.chat;
    let result = match frame {
        AgentClientFrame::Reply {
            conversation_id,
            client_msg_id,
            text,
        } => {
            let started = Instant::now();
            return match chat
                .agent_reply(agent, &conversation_id, &client_msg_id, &text)
                .await
            {
                Ok(m) => {
                    tracing::info!(seq = m.seq, "agent replied");
                    Outcome::Ack {
                        client_msg_id,
                        seq: m.seq,
                        started,
                    }
                }
                Err(e) => Outcome::Failed(e),
            };
        }
        AgentClientFrame::Sync {
            conversation_id,
            last_seq,
        } => {
            return match chat.agent_history(agent, &conversation_id, last_seq).await {
                Ok(messages) => Outcome::History {
                    messages: messages.iter().map(|m| m.view()).collect(),
                },
                Err(e) => Outcome::Failed(e),
            };
        }
        AgentClientFrame::TakeOver { conversation_id } => {
            let r = chat.take_over(agent, &conversation_id).await.map(drop);
            done(&r, "agent took over");
            r
        }
        AgentClientFrame::HandBack { conversation_id } => {
            let r = chat.hand_back(agent, &conversation_id).await.map(drop);
            done(&r, "agent handed back to the bot");
            r
        }
        AgentClientFrame::Resolve { conversation_id } => {
            let r = chat.resolve(agent, &conversation_id).await.map(drop);
            done(&r, "agent resolved");
            r
        }
        AgentClientFrame::Typing {
            conversation_id,
            on,
        } => chat.agent_typing(agent, &conversation_id, on).await,
        AgentClientFrame::Hello { .. } | AgentClientFrame::Ping => Ok(()),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e),
    }
}

/// Logs an agent's action on a conversation once it happened (refusals go back to the agent as
/// error frames and are counted in the metrics).
fn done(result: &Result<(), ChatError>, what: &'static str) {
    if result.is_ok() {
        tracing::info!("{what}");
    }
}
