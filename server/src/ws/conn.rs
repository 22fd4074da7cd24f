//! The socket as the sessions see it, and the bookkeeping every session shares: frame rate,
//! strikes, idle deadline, metrics.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use concierge_protocol::{close, ErrorCode, MAX_FRAME_BYTES};
use futures_util::{Sink, SinkExt};
use governor::DefaultDirectRateLimiter;
use serde::Serialize;
use tokio::time::Instant;

use crate::limits::{Limits, Strikes};
use crate::metrics::Metrics;

/// What a session reads.
#[derive(Debug)]
pub enum Incoming {
    Text(String),
    Binary,
    /// A websocket ping or pong: proof of life, nothing to answer at this level.
    Heartbeat,
    /// The message exceeded the transport's hard cap; the socket cannot continue.
    TooBig,
    /// A text message that is not UTF-8: the transport cannot read past it, and RFC 6455
    /// asks for close code 1007 rather than a dropped connection.
    InvalidUtf8,
    Close,
}

/// What a session writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Text(String),
    Ping,
    Close(u16, &'static str),
}

/// Per-socket state shared by the visitor and agent sessions.
pub(super) struct Conn<S> {
    pub sink: S,
    metrics: Arc<Metrics>,
    frames: DefaultDirectRateLimiter,
    strikes: Strikes,
    idle_timeout: Duration,
    pub idle_deadline: Instant,
}

/// Socket-level happenings that both sessions handle the same way.
pub(super) enum Transport {
    Shutdown,
    Idle,
    Heartbeat,
    Incoming(Option<Incoming>),
}

/// Why a session must stop.
#[derive(Debug)]
pub(super) struct Closed;

impl<S> Conn<S>
where
    S: Sink<Outgoing> + Unpin,
{
    pub fn new(sink: S, limits: &Limits, metrics: Arc<Metrics>) -> Self {
        let idle_timeout = Duration::from_secs(limits.config.idle_timeout_secs.max(1));
        Conn {
            sink,
            metrics,
            frames: limits.frame_limiter(),
            strikes: Strikes::new(limits.config.strikes_before_close),
            idle_timeout,
            idle_deadline: Instant::now() + idle_timeout,
        }
    }

    /// Any traffic from the client keeps the socket alive.
    pub fn touch(&mut self) {
        self.idle_deadline = Instant::now() + self.idle_timeout;
    }

    pub async fn send<T: Serialize>(&mut self, frame: &T) -> Result<(), Closed> {
        let text = serde_json::to_string(frame).map_err(|_| Closed)?;
        self.metrics.frames_out.fetch_add(1, Relaxed);
        self.sink
            .send(Outgoing::Text(text))
            .await
            .map_err(|_| Closed)
    }

    pub async fn close(&mut self, code: u16, reason: &'static str) {
        let _ = self.sink.send(Outgoing::Close(code, reason)).await;
        let _ = self.sink.close().await;
    }

    /// Counts an offence; closes the socket when there were too many.
    pub async fn strike(&mut self) -> Result<(), Closed> {
        if self.strikes.hit() {
            self.close(
                close::POLICY_VIOLATION,
                "too many invalid or rate-limited frames",
            )
            .await;
            return Err(Closed);
        }
        Ok(())
    }

    /// Handles everything but text frames (returned for the session to parse). `Err` means
    /// the socket is finished: closed by the client, or closed here with the right code.
    pub async fn transport<T: Serialize>(
        &mut self,
        t: Transport,
        error_frame: impl Fn(ErrorCode, &'static str) -> T,
    ) -> Result<Option<String>, Closed> {
        match t {
            Transport::Shutdown => {
                self.close(close::SERVICE_RESTART, "server restarting")
                    .await;
                Err(Closed)
            }
            Transport::Idle => {
                self.close(close::IDLE_TIMEOUT, "idle timeout").await;
                Err(Closed)
            }
            Transport::Heartbeat => {
                self.sink.send(Outgoing::Ping).await.map_err(|_| Closed)?;
                Ok(None)
            }
            Transport::Incoming(None) | Transport::Incoming(Some(Incoming::Close)) => Err(Closed),
            Transport::Incoming(Some(Incoming::Heartbeat)) => {
                self.touch();
                Ok(None)
            }
            Transport::Incoming(Some(Incoming::Binary)) => {
                let code = ErrorCode::BadFrame;
                self.error(code, &error_frame(code, "binary frames are not supported"))
                    .await?;
                Ok(None)
            }
            Transport::Incoming(Some(Incoming::TooBig)) => {
                self.metrics.error(ErrorCode::TooLarge);
                let _ = self
                    .send(&error_frame(ErrorCode::TooLarge, "frame over the hard cap"))
                    .await;
                self.close(close::MESSAGE_TOO_BIG, "frame over the hard cap")
                    .await;
                linger_after_overflow().await;
                Err(Closed)
            }
            Transport::Incoming(Some(Incoming::InvalidUtf8)) => {
                self.metrics.error(ErrorCode::BadFrame);
                self.close(close::INVALID_PAYLOAD, "text frame is not valid UTF-8")
                    .await;
                Err(Closed)
            }
            Transport::Incoming(Some(Incoming::Text(text))) => Ok(Some(text)),
        }
    }

    /// Checks an incoming text frame against the size cap and the frame rate. `Some(code)`
    /// means answer with that error instead of handling the frame.
    pub fn admit(&mut self, text: &str) -> Option<ErrorCode> {
        self.metrics.frames_in.fetch_add(1, Relaxed);
        self.touch();
        if text.len() > MAX_FRAME_BYTES {
            return Some(ErrorCode::TooLarge);
        }
        if self.frames.check().is_err() {
            return Some(ErrorCode::RateLimited);
        }
        None
    }

    /// Admits a text frame (size, rate) and decodes it. `Ok(None)` means an error frame was
    /// already sent in its place.
    pub async fn parse<F, T>(
        &mut self,
        text: &str,
        error_frame: impl Fn(ErrorCode, String) -> T,
    ) -> Result<Option<F>, Closed>
    where
        F: serde::de::DeserializeOwned,
        T: Serialize,
    {
        if let Some(code) = self.admit(text) {
            self.error(
                code,
                &error_frame(code, transport_message(code).to_string()),
            )
            .await?;
            return Ok(None);
        }
        match serde_json::from_str(text) {
            Ok(frame) => Ok(Some(frame)),
            Err(e) => {
                let code = ErrorCode::BadFrame;
                self.error(code, &error_frame(code, frame_error(&e)))
                    .await?;
                Ok(None)
            }
        }
    }

    /// Checks a `hello`: not a repeat, and a version we speak. `Ok(false)` means an error
    /// frame was sent instead.
    pub async fn accept_hello<T: Serialize>(
        &mut self,
        already_joined: bool,
        v: u32,
        error_frame: impl Fn(ErrorCode, String) -> T,
    ) -> Result<bool, Closed> {
        let refusal = if already_joined {
            Some((
                ErrorCode::BadFrame,
                "hello was already received".to_string(),
            ))
        } else if v != concierge_protocol::PROTOCOL_VERSION {
            let supported = concierge_protocol::PROTOCOL_VERSION;
            Some((
                ErrorCode::UnsupportedVersion,
                format!("this server speaks protocol v{supported}"),
            ))
        } else {
            None
        };
        match refusal {
            Some((code, message)) => {
                self.error(code, &error_frame(code, message)).await?;
                Ok(false)
            }
            None => Ok(true),
        }
    }

    /// Sends an error frame built by `frame` and counts a strike for client faults.
    pub async fn error<T: Serialize>(&mut self, code: ErrorCode, frame: &T) -> Result<(), Closed> {
        self.metrics.error(code);
        self.send(frame).await?;
        if code != ErrorCode::Internal {
            self.strike().await?;
        }
        Ok(())
    }
}

/// Human sentence for codes raised by the transport itself.
fn transport_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::TooLarge => "frame over 16 KiB",
        ErrorCode::RateLimited => "too many frames; slow down",
        ErrorCode::BadFrame => "frame is not valid JSON of a known type",
        _ => "error",
    }
}

fn frame_error(e: &serde_json::Error) -> String {
    // serde's message names the field or variant at fault, never server internals.
    let mut s = e.to_string();
    s.truncate(200);
    s
}

/// Receives the next event of an optional subscription; pending forever without one.
pub(super) async fn next_event(
    sub: &mut Option<crate::bus::Subscription>,
) -> Result<Arc<crate::bus::Event>, tokio::sync::broadcast::error::RecvError> {
    match sub {
        Some(s) => s.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// After a frame over the hard cap its unread payload is still in the kernel buffer, and
/// closing the TCP socket now would send a reset that can destroy our close frame before the
/// client reads it. Waiting briefly lets the client read "1009" instead of an abnormal drop.
async fn linger_after_overflow() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}
