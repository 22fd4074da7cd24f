//! Cross-node bus over Redis pub/sub.
//!
//! Every node publishes each event on one channel and subscribes to it, skipping its own
//! envelopes (they were delivered locally already). The subscriber reconnects forever with
//! backoff; after every reconnect the node's sockets resync from the store, because events
//! published while it was away are gone (pub/sub keeps nothing). A node whose publish failed
//! remembers it and, once Redis answers again, publishes a `resync` envelope so the other
//! nodes re-read too.
//!
//! Publishing never holds up an ack: `publish` delivers locally and queues the envelope; one
//! publisher task per node sends the queue in order. While Redis is away the queue is dropped
//! (and a resync owed) rather than growing without bound.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::{Bus, BusError, Event, Hub};

const CHANNEL: &str = "concierge:events";

/// Envelopes waiting for the publisher task; beyond this the node owes a resync instead.
const PUBLISH_QUEUE: usize = 8192;

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// Publishing node, so it can skip its own events.
    node: String,
    /// `None` asks every node to resync its sockets.
    event: Option<Event>,
}

pub struct RedisBus {
    hub: Arc<Hub>,
    node_id: String,
    /// For PING and the publisher task; reconnects by itself.
    publisher: ConnectionManager,
    /// Serialized envelopes for the publisher task, in publish order.
    queue: tokio::sync::mpsc::Sender<String>,
    /// Set when a publish failed or was dropped: other nodes may have missed events.
    owes_resync: AtomicBool,
    /// Envelopes that never reached Redis, for `/metrics`.
    failed: AtomicU64,
}

impl RedisBus {
    /// Connects (failing fast if Redis is unreachable at start) and starts the subscriber,
    /// which runs until `shutdown` is cancelled.
    pub async fn connect(
        url: &str,
        hub: Arc<Hub>,
        node_id: String,
        shutdown: CancellationToken,
    ) -> Result<Arc<Self>, BusError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let publisher = ConnectionManager::new_with_config(client.clone(), config).await?;
        let (queue, rx) = tokio::sync::mpsc::channel(PUBLISH_QUEUE);
        let bus = Arc::new(RedisBus {
            hub,
            node_id,
            publisher,
            queue,
            owes_resync: AtomicBool::new(false),
            failed: AtomicU64::new(0),
        });
        // First subscription before returning, so no event published after `connect` is missed.
        let pubsub = subscribe(&client).await?;
        tokio::spawn(subscriber_loop(
            bus.clone(),
            client,
            pubsub,
            shutdown.clone(),
        ));
        tokio::spawn(publisher_loop(bus.clone(), rx, shutdown));
        Ok(bus)
    }

    async fn send_payload(&self, payload: String) -> Result<(), BusError> {
        let mut conn = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(payload)
            .query_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }

    fn owe_resync(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.owes_resync.store(true, Ordering::Release);
    }

    async fn publish_envelope(&self, envelope: &Envelope) -> Result<(), BusError> {
        self.send_payload(serde_json::to_string(envelope)?).await
    }

    /// After a failed publish, tells the other nodes to resync once Redis answers again.
    async fn flush_resync(&self) {
        if self.owes_resync.load(Ordering::Acquire) {
            let resync = Envelope {
                node: self.node_id.clone(),
                event: None,
            };
            if self.publish_envelope(&resync).await.is_ok() {
                self.owes_resync.store(false, Ordering::Release);
            }
        }
    }

    fn on_payload(&self, payload: &str) {
        let envelope: Envelope = match serde_json::from_str(payload) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring malformed bus envelope");
                return;
            }
        };
        if envelope.node == self.node_id {
            return;
        }
        match envelope.event {
            Some(event) => self.hub.deliver(Arc::new(event)),
            None => self.hub.resync_all(),
        }
    }
}

async fn subscribe(client: &redis::Client) -> Result<redis::aio::PubSub, BusError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    Ok(pubsub)
}

async fn subscriber_loop(
    bus: Arc<RedisBus>,
    client: redis::Client,
    first: redis::aio::PubSub,
    shutdown: CancellationToken,
) {
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(100);
    loop {
        let current = match pubsub.take() {
            Some(p) => p,
            None => {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                match subscribe(&client).await {
                    Ok(p) => {
                        tracing::info!("redis bus resubscribed; resyncing sockets");
                        backoff = Duration::from_millis(100);
                        // Anything published while we were away is lost: re-read the store.
                        bus.hub.resync_all();
                        p
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "redis bus reconnect failed");
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        continue;
                    }
                }
            }
        };
        let mut messages = current.into_on_message();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => bus.flush_resync().await,
                msg = messages.next() => match msg {
                    Some(msg) => match msg.get_payload::<String>() {
                        Ok(payload) => bus.on_payload(&payload),
                        Err(e) => tracing::warn!(error = %e, "non-text bus payload"),
                    },
                    None => {
                        tracing::warn!("redis bus subscription lost");
                        break;
                    }
                }
            }
        }
    }
}

/// Sends queued envelopes in order; a failure drops the envelope and owes a resync.
async fn publisher_loop(
    bus: Arc<RedisBus>,
    mut rx: tokio::sync::mpsc::Receiver<String>,
    shutdown: CancellationToken,
) {
    loop {
        let payload = tokio::select! {
            _ = shutdown.cancelled() => return,
            p = rx.recv() => match p {
                Some(p) => p,
                None => return,
            },
        };
        bus.flush_resync().await;
        if let Err(e) = bus.send_payload(payload).await {
            tracing::warn!(error = %e, "redis publish failed; peers will resync");
            bus.owe_resync();
        }
    }
}

#[async_trait::async_trait]
impl Bus for RedisBus {
    async fn publish(&self, event: Event) -> Result<(), BusError> {
        let envelope = Envelope {
            node: self.node_id.clone(),
            event: Some(event),
        };
        let payload = serde_json::to_string(&envelope)?;
        if let Some(event) = envelope.event {
            self.hub.deliver(Arc::new(event));
        }
        if self.queue.try_send(payload).is_err() {
            self.owe_resync();
        }
        Ok(())
    }

    fn failed_publishes(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    async fn ping(&self) -> Result<(), BusError> {
        let mut conn = self.publisher.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
