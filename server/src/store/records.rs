//! Rows as the rest of the server sees them, and their wire views.

use concierge_protocol::{self as proto, Author, ConversationStatus, MessageState};
use sqlx::any::AnyRow;

use super::{col, rfc3339, Result, StoreError};

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// Public key embedded in the widget snippet.
    pub site_key: String,
    pub allowed_origins: Vec<String>,
}

impl Site {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        let origins: String = col(row, "allowed_origins")?;
        Ok(Site {
            id: col(row, "id")?,
            account_id: col(row, "account_id")?,
            name: col(row, "name")?,
            site_key: col(row, "site_key")?,
            allowed_origins: serde_json::from_str(&origins)
                .map_err(|e| StoreError::Corrupt(format!("sites.allowed_origins: {e}")))?,
        })
    }

    /// Whether a browser `Origin` may open the visitor socket. Exact match, `scheme://host:*`
    /// (any port on that host), or `*` when the owner explicitly set it.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|pattern| origin_matches(pattern, origin))
    }
}

pub fn origin_matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" || pattern == origin {
        return true;
    }
    if let Some(base) = pattern.strip_suffix(":*") {
        if origin == base {
            return true;
        }
        if let Some(port) = origin.strip_prefix(base).and_then(|r| r.strip_prefix(':')) {
            return is_origin_port(port);
        }
    }
    false
}

pub use concierge_protocol::origin::is_origin_port;

/// An agent's role in their account. Stored as `owner`/`admin`/`agent` (`agents.role`), and
/// the same words on the wire and for `concierge agent create --role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[derive(strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Set themselves away: an open socket does not make them count as online for
    /// escalations (`agents.away`).
    pub away: bool,
}

/// Columns every agent query selects (`agents` without an alias).
pub(super) const AGENT_COLUMNS: &str = "id, account_id, email, name, role, away";

impl Agent {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        let role: String = col(row, "role")?;
        Ok(Agent {
            id: col(row, "id")?,
            account_id: col(row, "account_id")?,
            email: col(row, "email")?,
            name: col(row, "name")?,
            role: role
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("role {role}")))?,
            away: col::<i64>(row, "away")? != 0,
        })
    }

    pub fn info(&self) -> proto::agent::AgentInfo {
        proto::agent::AgentInfo {
            id: self.id.clone(),
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role.as_str().to_string(),
            away: self.away,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Visitor {
    pub id: String,
    pub site_id: String,
}

#[derive(Debug, Clone)]
pub struct ConversationRecord {
    pub id: String,
    pub site_id: String,
    pub site_key: String,
    pub visitor_id: String,
    pub status: ConversationStatus,
    pub last_seq: i64,
    pub agent_id: Option<String>,
    pub agent_name: Option<String>,
    /// Weighted trend of recent visitor sentiment (-1..1), once a visitor has written.
    pub mood: Option<f32>,
    /// When an agent last handed the conversation back to the bot (escalation cool-down).
    pub handed_back_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Increases with every change of the row (see the `conversation_rev` migration).
    pub rev: i64,
}

/// Columns every conversation query selects (with `sites s` and `agents a` joined).
pub(super) const CONVERSATION_COLUMNS: &str = "c.id, c.site_id, s.site_key, c.visitor_id, \
    c.status, c.last_seq, c.agent_id, a.name as agent_name, c.mood, c.handed_back_at, c.created_at, \
    c.updated_at, c.rev";

impl ConversationRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        let status: String = col(row, "status")?;
        Ok(ConversationRecord {
            id: col(row, "id")?,
            site_id: col(row, "site_id")?,
            site_key: col(row, "site_key")?,
            visitor_id: col(row, "visitor_id")?,
            status: ConversationStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
            last_seq: col(row, "last_seq")?,
            agent_id: col(row, "agent_id")?,
            agent_name: col(row, "agent_name")?,
            mood: col::<Option<f64>>(row, "mood")?.map(|m| m as f32),
            handed_back_at: col(row, "handed_back_at")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            rev: col(row, "rev")?,
        })
    }

    pub fn view(&self) -> proto::Conversation {
        proto::Conversation {
            id: self.id.clone(),
            site_key: self.site_key.clone(),
            visitor_id: self.visitor_id.clone(),
            status: self.status,
            last_seq: self.last_seq,
            agent_name: self.agent_name.clone(),
            mood: self.mood.map(|m| (m * 1000.0).round() / 1000.0),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            rev: self.rev,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub site_id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author: Author,
    pub agent_id: Option<String>,
    pub author_name: Option<String>,
    pub text: String,
    pub state: MessageState,
    pub client_msg_id: Option<String>,
    pub created_at: i64,
    /// Citations of a bot answer.
    pub sources: Vec<proto::Source>,
}

pub(super) const MESSAGE_COLUMNS: &str = "m.site_id, m.conversation_id, m.seq, m.author, \
    m.agent_id, a.name as author_name, m.text, m.state, m.client_msg_id, m.created_at, m.sources";

impl MessageRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<Self> {
        let author: String = col(row, "author")?;
        let state: String = col(row, "state")?;
        Ok(MessageRecord {
            site_id: col(row, "site_id")?,
            conversation_id: col(row, "conversation_id")?,
            seq: col(row, "seq")?,
            author: Author::parse(&author)
                .ok_or_else(|| StoreError::Corrupt(format!("author {author}")))?,
            agent_id: col(row, "agent_id")?,
            author_name: col(row, "author_name")?,
            text: col(row, "text")?,
            state: MessageState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("state {state}")))?,
            client_msg_id: col(row, "client_msg_id")?,
            created_at: col(row, "created_at")?,
            sources: match col::<Option<String>>(row, "sources")? {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("message sources: {e}")))?,
                None => Vec::new(),
            },
        })
    }

    pub fn view(&self) -> proto::Message {
        proto::Message {
            seq: self.seq,
            author: self.author,
            author_name: self.author_name.clone(),
            text: self.text.clone(),
            state: self.state,
            client_msg_id: self.client_msg_id.clone(),
            created_at: rfc3339(self.created_at),
            sources: self.sources.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use strum::IntoEnumIterator;

    use super::{origin_matches, Role};

    #[test]
    fn roles_read_back_what_they_store_and_the_cli_accepts_the_same_words() {
        let names: Vec<&str> = Role::iter().map(Role::as_str).collect();
        assert_eq!(names, ["owner", "admin", "agent"]);
        for role in Role::iter() {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
            let cli = role
                .to_possible_value()
                .expect("every role is a CLI choice");
            assert_eq!(cli.get_name(), role.as_str());
        }
        assert!("Owner".parse::<Role>().is_err());
    }

    #[test]
    fn origins_match_exactly_by_port_wildcard_or_star() {
        assert!(origin_matches("https://a.example", "https://a.example"));
        assert!(!origin_matches(
            "https://a.example",
            "https://a.example.evil"
        ));
        assert!(!origin_matches("https://a.example", "http://a.example"));
        assert!(origin_matches(
            "http://localhost:*",
            "http://localhost:3000"
        ));
        assert!(origin_matches("http://localhost:*", "http://localhost"));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost.evil.com"
        ));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost:3000.evil.com"
        ));
        assert!(!origin_matches("http://localhost:*", "http://localhost:"));
        assert!(origin_matches("*", "https://anything.example"));
    }

    #[test]
    fn a_port_wildcard_matches_only_ports_a_browser_can_send() {
        for port in ["1", "80", "3000", "65535"] {
            let origin = format!("http://localhost:{port}");
            assert!(origin_matches("http://localhost:*", &origin), "{origin}");
        }
        for port in ["0", "65536", "99999", "00080", "+80", "-1", "8o"] {
            let origin = format!("http://localhost:{port}");
            assert!(!origin_matches("http://localhost:*", &origin), "{origin}");
        }
    }
}
