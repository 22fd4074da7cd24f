//! Real websocket clients speaking protocol v1.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use concierge_protocol::agent::{AgentClientFrame, AgentServerFrame};
use concierge_protocol::visitor::{VisitorClientFrame, VisitorServerFrame};
use concierge_protocol::{Author, Message};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::WAIT;

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
            identity: None,
            page_url: None,
            lang: None,
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
        pick: impl FnMut(&VisitorServerFrame) -> Option<T>,
    ) -> Result<T> {
        wait_for(&mut self.ws, WAIT, pick).await
    }

    /// As [`Visitor::wait_for`], within `budget` instead of [`WAIT`]: for a frame the server
    /// may legitimately hold back longer (an LLM review allowed more than `WAIT`).
    pub async fn wait_for_within<T>(
        &mut self,
        budget: Duration,
        pick: impl FnMut(&VisitorServerFrame) -> Option<T>,
    ) -> Result<T> {
        wait_for(&mut self.ws, budget, pick).await
    }

    /// Waits for the next agent-authored message.
    pub async fn agent_message(&mut self) -> Message {
        self.wait_for(|f| match f {
            VisitorServerFrame::Message { message } if message.author == Author::Agent => {
                Some(message.clone())
            }
            _ => None,
        })
        .await
        .expect("an agent message")
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
    /// Who the server said we are in `welcome`.
    pub me: Option<concierge_protocol::agent::AgentInfo>,
}

impl Agent {
    pub async fn connect(addr: SocketAddr, token: &str) -> Result<Agent, Refused> {
        let bearer = format!("Bearer {token}");
        let headers: &[(&str, &str)] = if token.is_empty() {
            &[]
        } else {
            &[("authorization", &bearer)]
        };
        Agent::connect_with(addr, headers).await
    }

    /// Connects with these request headers (a session cookie and Origin, say) and says hello.
    pub async fn connect_with(
        addr: SocketAddr,
        headers: &[(&str, &str)],
    ) -> Result<Agent, Refused> {
        let mut req = format!("ws://{addr}/ws/agent")
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            req.headers_mut().insert(
                tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                    .unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let mut agent = Agent {
            ws: connect(req).await?,
            me: None,
        };
        agent.send(&AgentClientFrame::Hello { v: 1 }).await;
        match agent.next().await {
            Ok(AgentServerFrame::Welcome { agent: me, .. }) => {
                agent.me = Some(me);
                Ok(agent)
            }
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
        pick: impl FnMut(&AgentServerFrame) -> Option<T>,
    ) -> Result<T> {
        wait_for(&mut self.ws, WAIT, pick).await
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

/// Reads frames until `pick` accepts one, within `budget`.
async fn wait_for<F, T>(
    ws: &mut Socket,
    budget: Duration,
    mut pick: impl FnMut(&F) -> Option<T>,
) -> Result<T>
where
    F: serde::de::DeserializeOwned,
{
    let deadline = tokio::time::Instant::now() + budget;
    loop {
        let frame: F = tokio::time::timeout_at(deadline, next_json(ws))
            .await
            .context("timed out waiting for frame")??;
        if let Some(t) = pick(&frame) {
            return Ok(t);
        }
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
