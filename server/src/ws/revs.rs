//! The newest revision sent per conversation or ticket on one agent socket.
//!
//! Snapshots of a row are published by concurrent tasks (and nodes) that read it at different
//! times, so an older one can arrive after a newer one; a socket forwards a snapshot only if
//! its `rev` is not below the last one it sent for that id. A stale snapshot trails the newer
//! one by moments, so ids are remembered for at least [`REMEMBER`] and then forgotten: a socket
//! open for days holds the ids of its last minutes, not of every conversation it ever saw.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an id's last revision is remembered, at least (at most twice that).
pub const REMEMBER: Duration = Duration::from_secs(600);

/// Two generations of `id → rev`: the older is dropped when the newer is [`REMEMBER`] old.
#[derive(Debug, Default)]
pub struct Revs {
    current: HashMap<String, i64>,
    previous: HashMap<String, i64>,
    since: Option<Instant>,
}

impl Revs {
    /// Whether a snapshot of `id` at `rev` may be sent (then it is the last one sent). Equal
    /// passes: a republished snapshot changes nothing.
    pub fn newer(&mut self, id: &str, rev: i64) -> bool {
        self.newer_at(id, rev, Instant::now())
    }

    /// Records `rev` as the last sent for `id` (a snapshot sent outside [`Revs::newer`], as
    /// in the welcome).
    pub fn sent(&mut self, id: &str, rev: i64) {
        self.newer(id, rev);
    }

    fn newer_at(&mut self, id: &str, rev: i64, now: Instant) -> bool {
        let since = *self.since.get_or_insert(now);
        if now.saturating_duration_since(since) >= REMEMBER {
            self.previous = std::mem::take(&mut self.current);
            self.since = Some(now);
        }
        let last = self.current.get(id).or_else(|| self.previous.get(id));
        if last.is_some_and(|&last| last > rev) {
            return false;
        }
        self.previous.remove(id);
        self.current.insert(id.to_string(), rev);
        true
    }

    /// How many ids are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_snapshot_is_refused_and_an_equal_or_newer_one_passes() {
        let mut r = Revs::default();
        let t = Instant::now();
        assert!(r.newer_at("c1", 3, t));
        assert!(!r.newer_at("c1", 2, t), "older");
        assert!(r.newer_at("c1", 3, t), "the same again");
        assert!(r.newer_at("c1", 5, t));
        assert!(!r.newer_at("c1", 4, t));
        assert!(r.newer_at("c2", 1, t), "ids are apart");
    }

    #[test]
    fn ids_are_remembered_for_at_least_the_window_then_forgotten() {
        let mut r = Revs::default();
        let t = Instant::now();
        assert!(r.newer_at("old", 9, t));
        // Just before the window ends, and just after (one rotation): still remembered.
        assert!(!r.newer_at("old", 8, t + REMEMBER - Duration::from_secs(1)));
        assert!(r.newer_at("new", 1, t + REMEMBER));
        assert!(!r.newer_at("old", 8, t + REMEMBER + Duration::from_secs(1)));
        assert_eq!(r.len(), 2);
        // A second rotation forgets what was not seen since the first.
        assert!(r.newer_at("new", 2, t + REMEMBER * 2));
        assert_eq!(r.len(), 1, "only `new` is left");
        assert!(r.newer_at("old", 8, t + REMEMBER * 2), "forgotten");
    }

    #[test]
    fn an_id_seen_again_is_carried_into_the_new_generation() {
        let mut r = Revs::default();
        let t = Instant::now();
        assert!(r.newer_at("busy", 1, t));
        assert!(r.newer_at("busy", 2, t + REMEMBER + Duration::from_secs(5)));
        assert!(r.newer_at("x", 1, t + REMEMBER * 2 + Duration::from_secs(5)));
        assert!(!r.newer_at("busy", 1, t + REMEMBER * 2 + Duration::from_secs(6)));
    }
}
