//! Which agents are online, across nodes: each node counts its own agent sockets and keeps a
//! row per agent in the shared store, refreshed while the sockets stay open. A node that
//! crashes stops refreshing, and its rows go stale after [`Presence::TTL_MS`]. An agent who
//! set themselves away (`agents.away`) does not count, sockets or not.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

use crate::store::{now_ms, Agent, Result, Store};

pub struct Presence {
    node_id: String,
    /// agent id -> (account id, open sockets on this node).
    local: DashMap<String, (String, i64)>,
}

impl Presence {
    /// A row older than this no longer counts as online.
    pub const TTL_MS: i64 = 60_000;
    /// How often a node refreshes its rows.
    pub const REFRESH: Duration = Duration::from_secs(20);

    pub fn new(node_id: impl Into<String>) -> Self {
        Presence {
            node_id: node_id.into(),
            local: DashMap::new(),
        }
    }

    /// An agent socket said hello.
    pub async fn connected(&self, store: &Store, agent: &Agent) -> Result<()> {
        let sockets = {
            let mut e = self
                .local
                .entry(agent.id.clone())
                .or_insert_with(|| (agent.account_id.clone(), 0));
            e.1 += 1;
            e.1
        };
        store
            .presence_set(&agent.id, &agent.account_id, &self.node_id, sockets)
            .await
    }

    /// An agent socket closed.
    pub async fn disconnected(&self, store: &Store, agent: &Agent) -> Result<()> {
        let sockets = match self.local.get_mut(&agent.id) {
            Some(mut e) => {
                e.1 -= 1;
                e.1
            }
            None => 0,
        };
        if sockets <= 0 {
            self.local.remove_if(&agent.id, |_, v| v.1 <= 0);
        }
        store
            .presence_set(&agent.id, &agent.account_id, &self.node_id, sockets.max(0))
            .await
    }

    /// Whether any agent of the account has a socket open on any node and is not away.
    /// Always the store's answer: whether an agent is away lives there (set through any
    /// node), and this node's rows are written before its sockets are welcomed.
    pub async fn anyone_online(&self, store: &Store, account_id: &str) -> Result<bool> {
        Ok(store
            .agents_online(account_id, now_ms() - Self::TTL_MS)
            .await?
            > 0)
    }

    /// Refreshes this node's rows until shutdown, then removes them.
    pub fn spawn_refresher(self: Arc<Self>, store: Arc<Store>, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Self::REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let rows: Vec<(String, String, i64)> = self
                    .local
                    .iter()
                    .map(|e| (e.key().clone(), e.value().0.clone(), e.value().1))
                    .collect();
                for (agent, account, sockets) in rows {
                    if let Err(e) = store
                        .presence_set(&agent, &account, &self.node_id, sockets)
                        .await
                    {
                        tracing::warn!(error = %e, "agent presence not refreshed");
                    }
                }
            }
            let agents: Vec<(String, String)> = self
                .local
                .iter()
                .map(|e| (e.key().clone(), e.value().0.clone()))
                .collect();
            for (agent, account) in agents {
                let _ = store.presence_set(&agent, &account, &self.node_id, 0).await;
            }
        });
    }
}
