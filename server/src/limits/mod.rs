//! Rate limits: messages per visitor per minute and connection attempts per IP per minute,
//! sign-in attempts per email and per IP, REST requests per token and per IP, plus the
//! per-socket frame limiter and abuse counter.
//!
//! In-process limits use governor (GCRA). With Redis configured, the per-visitor and per-IP
//! budgets are shared by all nodes through fixed one-minute windows in Redis (`INCR` +
//! `EXPIRE`), so a client cannot multiply its budget by reconnecting to another node. If Redis
//! does not answer, the local limiter decides: limits degrade to per-node, never to none.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

/// Tunable limits (`[limits]` in concierge.toml, `CONCIERGE_LIMITS__*` in the environment).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// Messages one visitor may send per minute, across all their sockets and nodes.
    pub messages_per_minute: u32,
    /// Websocket upgrade attempts per client IP per minute.
    pub connections_per_ip_per_minute: u32,
    /// Sustained frames per second on one socket (typing, pings, sends...).
    pub frames_per_second: u32,
    /// Burst of frames allowed on one socket above the sustained rate.
    pub frame_burst: u32,
    /// Bad or limited frames within a minute after which the socket is closed.
    pub strikes_before_close: u32,
    /// Seconds without any frame (pongs included) before a socket is closed.
    pub idle_timeout_secs: u64,
    /// Seconds between server pings.
    pub heartbeat_secs: u64,
    /// Sign-in attempts per email address per minute (guessing one agent's password).
    pub login_attempts_per_email_per_minute: u32,
    /// Sign-in attempts per client IP per minute (guessing across many emails).
    pub login_attempts_per_ip_per_minute: u32,
    /// `/api/v1` requests per bearer token or session per minute.
    pub api_requests_per_token_per_minute: u32,
    /// `/api/v1` requests per client IP per minute.
    pub api_requests_per_ip_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            messages_per_minute: 30,
            connections_per_ip_per_minute: 120,
            frames_per_second: 10,
            frame_burst: 40,
            strikes_before_close: 10,
            idle_timeout_secs: 75,
            heartbeat_secs: 30,
            login_attempts_per_email_per_minute: 5,
            login_attempts_per_ip_per_minute: 30,
            api_requests_per_token_per_minute: 600,
            api_requests_per_ip_per_minute: 1_200,
        }
    }
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// Budgets keyed by a string, checked with [`Limits::throttle`]. The snake_case name keys
/// the shared (Redis) window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum Throttle {
    LoginEmail,
    LoginIp,
    ApiToken,
    ApiIp,
}

impl Throttle {
    const ALL: [Throttle; 4] = [
        Throttle::LoginEmail,
        Throttle::LoginIp,
        Throttle::ApiToken,
        Throttle::ApiIp,
    ];

    fn per_minute(self, c: &LimitsConfig) -> u32 {
        match self {
            Throttle::LoginEmail => c.login_attempts_per_email_per_minute,
            Throttle::LoginIp => c.login_attempts_per_ip_per_minute,
            Throttle::ApiToken => c.api_requests_per_token_per_minute,
            Throttle::ApiIp => c.api_requests_per_ip_per_minute,
        }
    }
}

pub struct Limits {
    pub config: LimitsConfig,
    visitor_messages: DefaultKeyedRateLimiter<String>,
    connections: DefaultKeyedRateLimiter<IpAddr>,
    /// One keyed limiter per [`Throttle`], in `Throttle::ALL` order.
    throttles: Vec<DefaultKeyedRateLimiter<String>>,
    /// Shared counters when Redis is configured.
    redis: Option<ConnectionManager>,
}

impl Limits {
    pub fn new(config: LimitsConfig, redis: Option<ConnectionManager>) -> Arc<Self> {
        Arc::new(Limits {
            visitor_messages: RateLimiter::keyed(Quota::per_minute(nz(config.messages_per_minute))),
            connections: RateLimiter::keyed(Quota::per_minute(nz(
                config.connections_per_ip_per_minute
            ))),
            throttles: Throttle::ALL
                .iter()
                .map(|t| RateLimiter::keyed(Quota::per_minute(nz(t.per_minute(&config)))))
                .collect(),
            config,
            redis,
        })
    }

    /// Spends one unit of `kind`'s budget for `key`; `Err(seconds)` to wait when it is spent.
    /// Shared by every node through Redis when configured (fixed minute windows), else this
    /// node's GCRA limiter.
    pub async fn throttle(&self, kind: Throttle, key: &str) -> Result<(), u64> {
        use governor::clock::{Clock, DefaultClock};
        let limit = kind.per_minute(&self.config);
        if let Some(allowed) = self.shared_window(kind.into(), key, limit).await {
            if allowed {
                return Ok(());
            }
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Err(60 - secs % 60);
        }
        let index = Throttle::ALL.iter().position(|t| *t == kind).unwrap_or(0);
        match self.throttles[index].check_key(&key.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)),
        }
    }

    /// Whether this visitor may send one more message now.
    pub async fn allow_visitor_message(&self, visitor_id: &str) -> bool {
        let limit = self.config.messages_per_minute;
        if let Some(shared) = self.shared_window("msg", visitor_id, limit).await {
            return shared;
        }
        self.visitor_messages
            .check_key(&visitor_id.to_string())
            .is_ok()
    }

    /// Whether this IP may open one more socket now.
    pub async fn allow_connection(&self, ip: IpAddr) -> bool {
        let limit = self.config.connections_per_ip_per_minute;
        if let Some(shared) = self.shared_window("conn", &ip.to_string(), limit).await {
            return shared;
        }
        self.connections.check_key(&ip).is_ok()
    }

    /// A limiter for one socket's frames.
    pub fn frame_limiter(&self) -> DefaultDirectRateLimiter {
        let quota = Quota::per_second(nz(self.config.frames_per_second))
            .allow_burst(nz(self.config.frame_burst));
        RateLimiter::direct(quota)
    }

    /// Drops idle keys; run periodically so the keyed maps do not grow without bound.
    pub fn forget_idle(&self) {
        self.visitor_messages.retain_recent();
        self.connections.retain_recent();
        self.visitor_messages.shrink_to_fit();
        self.connections.shrink_to_fit();
        for t in &self.throttles {
            t.retain_recent();
            t.shrink_to_fit();
        }
    }

    /// `Some(allowed)` from the shared Redis window, `None` when Redis is off or unreachable.
    async fn shared_window(&self, kind: &str, id: &str, limit: u32) -> Option<bool> {
        let mut conn = self.redis.clone()?;
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() / 60)
            .unwrap_or(0);
        let key = format!("concierge:rl:{kind}:{id}:{minute}");
        let res: redis::RedisResult<(i64, i64)> = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(120)
            .query_async(&mut conn)
            .await;
        match res {
            Ok((count, _)) => Some(count <= i64::from(limit)),
            Err(e) => {
                tracing::debug!(error = %e, "shared rate limit unavailable; using local limiter");
                None
            }
        }
    }
}

/// Counts a socket's offences in a sliding minute; past the budget the socket is closed.
pub struct Strikes {
    budget: u32,
    window_start: Instant,
    count: u32,
}

impl Strikes {
    pub fn new(budget: u32) -> Self {
        Strikes {
            budget: budget.max(1),
            window_start: Instant::now(),
            count: 0,
        }
    }

    /// Records one offence; true when the socket has now exceeded its budget.
    pub fn hit(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window_start) > Duration::from_secs(60) {
            self.window_start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count >= self.budget
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    /// The names key the windows in Redis, which nodes of two versions share.
    #[test]
    fn throttles_keep_their_shared_window_names_and_all_lists_each_once() {
        let names: Vec<&str> = Throttle::iter().map(<&str>::from).collect();
        assert_eq!(names, ["login_email", "login_ip", "api_token", "api_ip"]);
        assert_eq!(Throttle::ALL.to_vec(), Throttle::iter().collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn visitor_message_budget_is_enforced_per_visitor() {
        let limits = Limits::new(
            LimitsConfig {
                messages_per_minute: 3,
                ..Default::default()
            },
            None,
        );
        for _ in 0..3 {
            assert!(limits.allow_visitor_message("v1").await);
        }
        assert!(!limits.allow_visitor_message("v1").await);
        assert!(limits.allow_visitor_message("v2").await);
    }

    #[test]
    fn strikes_close_after_budget() {
        let mut s = Strikes::new(3);
        assert!(!s.hit());
        assert!(!s.hit());
        assert!(s.hit());
    }

    #[test]
    fn frame_limiter_allows_the_burst_then_refuses() {
        let limits = Limits::new(
            LimitsConfig {
                frames_per_second: 1,
                frame_burst: 5,
                ..Default::default()
            },
            None,
        );
        let l = limits.frame_limiter();
        for _ in 0..5 {
            assert!(l.check().is_ok());
        }
        assert!(l.check().is_err());
    }
}
