//! Waiting for the escalation's frames on real sockets, and the escalation API, for the
//! escalation tests (`tests/it/escalation*.rs`, `multi_node.rs`).

use concierge_protocol::agent::AgentServerFrame;
use concierge_protocol::visitor::VisitorServerFrame;
use concierge_protocol::{Author, ConversationStatus, Phase, Ticket};
use serde_json::Value;

use crate::{Agent, TestApp, Visitor};

/// The next `ticket` frame `pick` accepts.
pub async fn next_ticket(agent: &mut Agent, mut pick: impl FnMut(&Ticket) -> bool) -> Ticket {
    agent
        .wait_for(|f| match f {
            AgentServerFrame::Ticket { ticket } if pick(ticket) => Some((**ticket).clone()),
            _ => None,
        })
        .await
        .expect("ticket event")
}

/// The next `status` frame with status `want`: its agent name and phase.
pub async fn status_of(
    v: &mut Visitor,
    want: ConversationStatus,
) -> (Option<String>, Option<Phase>) {
    v.wait_for(|f| match f {
        VisitorServerFrame::Status {
            status,
            agent_name,
            phase,
        } if *status == want => Some((agent_name.clone(), *phase)),
        _ => None,
    })
    .await
    .expect("status frame")
}

/// The next system line the visitor reads.
pub async fn system_line(v: &mut Visitor) -> String {
    v.wait_for(|f| match f {
        VisitorServerFrame::Message { message } if message.author == Author::System => {
            Some(message.text.clone())
        }
        _ => None,
    })
    .await
    .expect("system message")
}

/// `GET /api/v1/sites/{key}/{path}` with `token`: status and JSON body.
pub async fn api(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(app.http(&format!("/api/v1/sites/{}/{path}", app.site_key)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `PUT` the escalation policy `body` with `token`: status and JSON body.
pub async fn put_policy(app: &TestApp, token: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(app.http(&format!("/api/v1/sites/{}/escalation-policy", app.site_key)))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}
