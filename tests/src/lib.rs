//! Helpers for Concierge's integration tests: a server on port 0 with its own database, and
//! real websocket clients speaking protocol v1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use concierge::app::{App, Application};
use concierge::config::{Config, LimitsConfig};
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use futures_util::{SinkExt, StreamExt};
use secrecy::SecretString;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub mod pg;

/// Origin the test site allows.
pub const ORIGIN: &str = "https://shop.example";

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// Logs only when TEST_LOG is set.
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        concierge::telemetry::init("debug");
    }
}

/// What a test needs to describe the server it wants.
#[derive(Clone)]
pub struct Options {
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub limits: LimitsConfig,
    pub data_dir: Option<PathBuf>,
    pub listen: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            database_url: None,
            redis_url: None,
            // Generous by default so unrelated tests never trip a limit.
            limits: LimitsConfig {
                messages_per_minute: 1_000,
                connections_per_ip_per_minute: 10_000,
                frames_per_second: 1_000,
                frame_burst: 1_000,
                ..LimitsConfig::default()
            },
            data_dir: None,
            listen: "127.0.0.1:0".into(),
        }
    }
}

/// A running server. Dropping it stops it (the runtime of the test ends with it).
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub data_dir: PathBuf,
    pub site_key: String,
    pub agent_token: String,
    pub agent_email: String,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _tmp: Option<Arc<TempDir>>,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("concierge-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn config_for(opts: &Options, data_dir: &std::path::Path) -> Config {
    Config {
        listen: opts.listen.clone(),
        data_dir: data_dir.to_path_buf(),
        database_url: opts.database_url.clone().map(SecretString::from),
        redis_url: opts.redis_url.clone().map(SecretString::from),
        log: "warn".into(),
        shutdown_grace_secs: 5,
        limits: opts.limits.clone(),
    }
}

/// Starts a server with a fresh SQLite database in a temp dir, one site allowing [`ORIGIN`],
/// and an owner agent with a token.
pub async fn spawn_app() -> TestApp {
    spawn_with(Options::default()).await.expect("spawn app")
}

pub async fn spawn_with(opts: Options) -> Result<TestApp> {
    init_logs();
    let tmp = match &opts.data_dir {
        Some(_) => None,
        None => Some(Arc::new(TempDir::new())),
    };
    let data_dir = opts
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.as_ref().map(|t| t.0.clone()).unwrap_or_default());
    let config = config_for(&opts, &data_dir);
    let application = Application::build(config).await?;
    let addr = application.local_addr()?;
    let app = application.app();
    let store = &app.chat.store;
    let site_key = match store.count_accounts().await? {
        0 => {
            let site =
                concierge::accounts::create_site(store, "Test shop", &[ORIGIN.to_string()], None)
                    .await?;
            site.site_key
        }
        _ => String::new(),
    };
    let handle = tokio::spawn(application.run_until(std::future::pending()));
    let mut t = TestApp {
        addr,
        app,
        data_dir,
        site_key,
        agent_token: String::new(),
        agent_email: String::new(),
        handle: Some(handle),
        _tmp: tmp,
    };
    if !t.site_key.is_empty() {
        let email = format!(
            "agent-{}@shop.example",
            &uuid::Uuid::new_v4().to_string()[..8]
        );
        let (_, _pw) = concierge::accounts::create_agent(
            &t.app.chat.store,
            &email,
            Some("Alice"),
            "agent",
            &t.site_key,
        )
        .await?;
        let (_, token) = concierge::accounts::issue_token(&t.app.chat.store, &email).await?;
        t.agent_token = token;
        t.agent_email = email;
    }
    Ok(t)
}

impl TestApp {
    pub fn http(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn visitor_url(&self, site_key: &str) -> String {
        format!("ws://{}/ws/visitor?site_key={}", self.addr, site_key)
    }

    /// A visitor socket from the allowed origin.
    pub async fn visitor(&self) -> Visitor {
        Visitor::connect(&self.visitor_url(&self.site_key), Some(ORIGIN))
            .await
            .expect("visitor connects")
    }

    pub async fn agent(&self) -> Agent {
        Agent::connect(self.addr, &self.agent_token)
            .await
            .expect("agent connects")
    }

    /// Cancels the server as SIGTERM would and waits for it to finish.
    pub async fn shutdown(mut self) {
        self.app.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(15), h).await;
        }
    }

    /// Number of stored messages of a conversation (read straight from the store).
    pub async fn stored_messages(
        &self,
        conversation_id: &str,
    ) -> Vec<concierge::store::MessageRecord> {
        let site = self
            .app
            .chat
            .store
            .site_by_key(&self.site_key)
            .await
            .unwrap()
            .unwrap();
        self.app
            .chat
            .store
            .messages_after(&site.id, conversation_id, 0, 10_000)
            .await
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.app.shutdown.cancel();
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Why a connect was refused: status and JSON body.
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub body: serde_json::Value,
}

async fn connect(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Socket, Refused> {
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let status = resp.status().as_u16();
            let body = resp
                .body()
                .as_ref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(serde_json::Value::Null);
            Err(Refused { status, body })
        }
        Err(e) => Err(Refused {
            status: 0,
            body: serde_json::json!({"transport": e.to_string()}),
        }),
    }
}

/// A visitor's websocket speaking protocol v1.
pub struct Visitor {
    pub ws: Socket,
}

impl Visitor {
    pub async fn connect(url: &str, origin: Option<&str>) -> Result<Visitor, Refused> {
        let mut req = url.into_client_request().map_err(|e| Refused {
            status: 0,
            body: serde_json::json!(e.to_string()),
        })?;
        if let Some(o) = origin {
            req.headers_mut()
                .insert("origin", HeaderValue::from_str(o).unwrap());
        }
        Ok(Visitor {
            ws: connect(req).await?,
        })
    }

    pub async fn send(&mut self, frame: &VisitorClientFrame) {
        self.send_raw(&serde_json::to_string(frame).unwrap()).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(WsMessage::Text(text.into()))
            .await
            .expect("send");
    }

    /// Says hello; returns (token, conversation_id, welcome messages).
    pub async fn hello(
        &mut self,
        token: Option<&str>,
        conversation_id: Option<&str>,
        last_seq: Option<i64>,
    ) -> Result<Welcome> {
        self.send(&VisitorClientFrame::Hello {
            v: 1,
            visitor_token: token.map(str::to_string),
            conversation_id: conversation_id.map(str::to_string),
            last_seq,
        })
        .await;
        match self.next().await? {
            VisitorServerFrame::Welcome {
                visitor_token,
                conversation_id,
                status,
                messages,
            } => Ok(Welcome {
                token: visitor_token,
                conversation_id,
                status,
                messages,
            }),
            other => bail!("expected welcome, got {other:?}"),
        }
    }

    /// Sends a message and waits for its ack (skipping other frames); returns the seq.
    pub async fn say(&mut self, client_msg_id: &str, text: &str) -> Result<i64> {
        self.send(&VisitorClientFrame::Send {
            client_msg_id: client_msg_id.into(),
            text: text.into(),
        })
        .await;
        self.wait_for(|f| match f {
            VisitorServerFrame::Ack {
                client_msg_id: c,
                seq,
            } if c == client_msg_id => Some(*seq),
            _ => None,
        })
        .await
    }

    /// Next protocol frame (skipping websocket pings), or an error on close/timeout.
    pub async fn next(&mut self) -> Result<VisitorServerFrame> {
        next_json(&mut self.ws).await
    }

    /// Next frame within `d`, or None.
    pub async fn next_within(&mut self, d: Duration) -> Option<VisitorServerFrame> {
        tokio::time::timeout(d, self.next())
            .await
            .ok()
            .and_then(|r| r.ok())
    }

    pub async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(&VisitorServerFrame) -> Option<T>,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.next())
                .await
                .context("timed out waiting for frame")??;
            if let Some(t) = pick(&frame) {
                return Ok(t);
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        closed(&mut self.ws).await
    }
}

#[derive(Debug, Clone)]
pub struct Welcome {
    pub token: String,
    pub conversation_id: String,
    pub status: concierge_protocol::ConversationStatus,
    pub messages: Vec<concierge_protocol::Message>,
}

/// An agent's websocket.
pub struct Agent {
    pub ws: Socket,
}

impl Agent {
    pub async fn connect(addr: SocketAddr, token: &str) -> Result<Agent, Refused> {
        let mut req = format!("ws://{addr}/ws/agent")
            .into_client_request()
            .unwrap();
        if !token.is_empty() {
            req.headers_mut().insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
        }
        let mut agent = Agent {
            ws: connect(req).await?,
        };
        agent.send(&AgentClientFrame::Hello { v: 1 }).await;
        match agent.next().await {
            Ok(AgentServerFrame::Welcome { .. }) => Ok(agent),
            other => Err(Refused {
                status: 0,
                body: serde_json::json!(format!("{other:?}")),
            }),
        }
    }

    pub async fn send(&mut self, frame: &AgentClientFrame) {
        self.ws
            .send(WsMessage::Text(
                serde_json::to_string(frame).unwrap().into(),
            ))
            .await
            .expect("send");
    }

    pub async fn next(&mut self) -> Result<AgentServerFrame> {
        next_json(&mut self.ws).await
    }

    pub async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(&AgentServerFrame) -> Option<T>,
    ) -> Result<T> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.next())
                .await
                .context("timed out waiting for frame")??;
            if let Some(t) = pick(&frame) {
                return Ok(t);
            }
        }
    }

    /// Replies and waits for the ack; returns the seq.
    pub async fn reply(
        &mut self,
        conversation_id: &str,
        client_msg_id: &str,
        text: &str,
    ) -> Result<i64> {
        self.send(&AgentClientFrame::Reply {
            conversation_id: conversation_id.into(),
            client_msg_id: client_msg_id.into(),
            text: text.into(),
        })
        .await;
        self.wait_for(|f| match f {
            AgentServerFrame::Ack {
                client_msg_id: c,
                seq,
                ..
            } if c == client_msg_id => Some(*seq),
            AgentServerFrame::Error { code, message } => Some(-(1 + *code as i64)).filter(|_| {
                eprintln!("agent error {code:?}: {message}");
                true
            }),
            _ => None,
        })
        .await
    }

    pub async fn closed(&mut self) -> Option<u16> {
        closed(&mut self.ws).await
    }
}

async fn next_json<T: serde::de::DeserializeOwned>(ws: &mut Socket) -> Result<T> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .context("timed out waiting for a frame")?
            .ok_or_else(|| anyhow!("socket ended"))??;
        match msg {
            WsMessage::Text(t) => {
                return serde_json::from_str(&t).with_context(|| format!("bad frame {t}"))
            }
            WsMessage::Close(c) => bail!("socket closed: {c:?}"),
            _ => continue,
        }
    }
}

async fn closed(ws: &mut Socket) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return None,
            Ok(None) => return Some(1006),
            Ok(Some(Ok(WsMessage::Close(frame)))) => {
                return Some(frame.map(|f| u16::from(f.code)).unwrap_or(1005))
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_))) => return Some(1006),
        }
    }
}

/// Silences an unused import on some cfgs.
pub fn _close_code(c: CloseCode) -> u16 {
    c.into()
}
