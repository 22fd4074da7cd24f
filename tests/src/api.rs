//! A client of `/api/v1` as the dashboard (session cookie + CSRF token) or a script (bearer
//! token) uses it, and helpers that add team members with a known password.

use reqwest::Method;
use serde_json::Value;

use crate::TestApp;

/// How an [`Api`] authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// The session cookie's value and the CSRF token the sign-in returned.
    Session {
        cookie: String,
        csrf: String,
    },
}

/// A reply: status, JSON body (Null when empty), and the response headers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// `error.code` of an API error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub auth: Auth,
    /// Send the CSRF header on writes (cookie sessions); tests turn it off to probe.
    pub send_csrf: bool,
    http: reqwest::Client,
}

impl Api {
    pub fn new(app: &TestApp, auth: Auth) -> Self {
        Api {
            base: app.http("/api/v1"),
            auth,
            send_csrf: true,
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.bearer_auth(t),
            Auth::Session { cookie, csrf } => {
                req = req.header("cookie", format!("concierge_session={cookie}"));
                if self.send_csrf && method != Method::GET {
                    req = req.header("x-csrf-token", csrf);
                }
            }
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request sent");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }
}

/// The session cookie's value in a `Set-Cookie` header.
pub fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("concierge_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .filter(|v| !v.is_empty())
}

/// Someone on the team: id, email, password, role, and a bearer token.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestApp {
    /// Adds an agent with `role` to the test site's account (as an operator would).
    pub async fn member(&self, role: &str) -> Member {
        self.member_of(role, &self.site_key.clone()).await
    }

    /// Adds an agent with `role` to the account of the site with this key.
    pub async fn member_of(&self, role: &str, site_key: &str) -> Member {
        let store = &self.app.chat.store;
        let email = format!(
            "{role}-{}@shop.example",
            &uuid::Uuid::new_v4().to_string()[..8]
        );
        let (agent, password) =
            concierge::accounts::create_agent(store, &email, Some(role), role, site_key)
                .await
                .expect("member created");
        let (_, token) = concierge::accounts::issue_token(store, &email)
            .await
            .expect("token");
        Member {
            id: agent.id,
            email,
            password,
            token,
        }
    }

    /// Waits (up to [`crate::WAIT`]) for the conversation's ticket in progress, e.g. after the
    /// visitor asked for a person.
    pub async fn ticket_of(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> concierge::store::TicketRecord {
        let deadline = tokio::time::Instant::now() + crate::WAIT;
        loop {
            let store = &self.app.chat.store;
            if let Some(t) = store.active_ticket(site_id, conversation_id).await.unwrap() {
                return t;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no ticket for conversation {conversation_id}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Api {
        Api::new(self, Auth::None)
    }

    /// A bearer-token client.
    pub fn bearer(&self, token: &str) -> Api {
        Api::new(self, Auth::Bearer(token.to_string()))
    }

    /// Signs in through `POST /api/v1/session`; panics unless it succeeds.
    pub async fn sign_in(&self, email: &str, password: &str) -> Api {
        let reply = self
            .anonymous()
            .post(
                "/session",
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(reply.status, 200, "sign-in failed: {:?}", reply.body);
        let cookie = session_cookie(&reply).expect("a session cookie");
        let csrf = reply.body["csrf_token"].as_str().expect("csrf").to_string();
        Api::new(self, Auth::Session { cookie, csrf })
    }
}
