//! This node's subscribers: one broadcast channel per watched conversation and per site.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{broadcast, watch};

use super::Event;

/// Capacity of a conversation's broadcast channel. tokio allocates every slot up front, and
/// most conversations have one idle socket, so this is small; a socket that falls further
/// behind gets `Lagged` and resyncs from the store instead of stalling the publisher.
const CONVERSATION_CAPACITY: usize = 16;

/// Capacity of a site's channel: every event of every conversation of the site passes here.
const SITE_CAPACITY: usize = 1024;

/// Local fan-out. Cheap to clone behind an `Arc`; shared by the bus and the sockets.
pub struct Hub {
    /// Visitor sockets, by conversation id.
    conversations: DashMap<String, broadcast::Sender<Arc<Event>>>,
    /// Agent sockets, by site id.
    sites: DashMap<String, broadcast::Sender<Arc<Event>>>,
    /// Bumped when events may have been lost (bus reconnected); every socket resyncs.
    generation: watch::Sender<u64>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            conversations: DashMap::new(),
            sites: DashMap::new(),
            generation: watch::channel(0).0,
        }
    }
}

/// A live subscription; unsubscribes (and frees the channel when it was the last) on drop.
pub struct Subscription {
    pub rx: broadcast::Receiver<Arc<Event>>,
    hub: Arc<Hub>,
    key: String,
    by_site: bool,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let map = if self.by_site {
            &self.hub.sites
        } else {
            &self.hub.conversations
        };
        // Our own receiver still counts until this returns, hence `<= 1`.
        map.remove_if(&self.key, |_, tx| tx.receiver_count() <= 1);
    }
}

impl Hub {
    pub fn new() -> Arc<Self> {
        Arc::new(Hub::default())
    }

    /// Hands an event to the local sockets of its conversation and of its site's agents.
    pub fn deliver(&self, event: Arc<Event>) {
        if let Some(tx) = self.conversations.get(&event.conversation_id) {
            let _ = tx.send(event.clone());
        }
        if let Some(tx) = self.sites.get(&event.site_id) {
            let _ = tx.send(event);
        }
    }

    pub fn subscribe_conversation(self: &Arc<Self>, conversation_id: &str) -> Subscription {
        self.subscribe(conversation_id, false)
    }

    pub fn subscribe_site(self: &Arc<Self>, site_id: &str) -> Subscription {
        self.subscribe(site_id, true)
    }

    fn subscribe(self: &Arc<Self>, key: &str, by_site: bool) -> Subscription {
        let map = if by_site {
            &self.sites
        } else {
            &self.conversations
        };
        let capacity = if by_site {
            SITE_CAPACITY
        } else {
            CONVERSATION_CAPACITY
        };
        let rx = map
            .entry(key.to_string())
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe();
        Subscription {
            rx,
            hub: self.clone(),
            key: key.to_string(),
            by_site,
        }
    }

    /// Tells every local socket to re-read the store: events may have been missed.
    pub fn resync_all(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn generations(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Channels currently held (for tests and metrics).
    pub fn channel_count(&self) -> usize {
        self.conversations.len() + self.sites.len()
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventKind;
    use super::*;

    fn typing(site: &str, conv: &str) -> Arc<Event> {
        Arc::new(Event {
            site_id: site.into(),
            conversation_id: conv.into(),
            kind: EventKind::Typing {
                author: concierge_protocol::Author::Visitor,
                who: "visitor".into(),
                on: true,
            },
        })
    }

    #[tokio::test]
    async fn events_reach_conversation_and_site_subscribers_only() {
        let hub = Hub::new();
        let mut conv = hub.subscribe_conversation("c1");
        let mut other = hub.subscribe_conversation("c2");
        let mut site = hub.subscribe_site("s1");
        let mut other_site = hub.subscribe_site("s2");
        hub.deliver(typing("s1", "c1"));
        assert_eq!(conv.rx.recv().await.unwrap().conversation_id, "c1");
        assert_eq!(site.rx.recv().await.unwrap().conversation_id, "c1");
        assert!(other.rx.try_recv().is_err());
        assert!(other_site.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn dropping_the_last_subscription_frees_the_channel() {
        let hub = Hub::new();
        let a = hub.subscribe_conversation("c1");
        let b = hub.subscribe_conversation("c1");
        assert_eq!(hub.channel_count(), 1);
        drop(a);
        assert_eq!(hub.channel_count(), 1);
        drop(b);
        assert_eq!(hub.channel_count(), 0);
    }
}
