//! Bodies of the `/api/v1` routes the dashboard uses, typed once for the server (which
//! serializes them) and the dashboard (which reads them). Every list is a [`Page`]; every
//! error is an [`crate::ApiErrorBody`]. Times are RFC 3339 strings, as on the sockets.

use serde::{Deserialize, Serialize};

use crate::{Author, Conversation, FeedbackValue, Message, Priority, Ticket, TicketStatus};

/// One page of a list: `next_cursor` is passed back as `?cursor=` for the next page, and is
/// absent on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/session`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
}

/// An agent (a member of an account) as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `owner`, `admin` or `agent`.
    pub role: String,
    pub account_id: String,
    /// The agent set themselves away: escalations do not count them as someone who will reply.
    #[serde(default)]
    pub away: bool,
}

/// The account an agent belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub plan: String,
}

/// Answer to sign-in, accepting an invitation or a reset (with the session cookie).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub agent: AgentView,
    /// Sent back as `X-CSRF-Token` on every write made with the cookie.
    #[serde(default)]
    pub csrf_token: Option<String>,
}

/// `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeView {
    pub agent: AgentView,
    #[serde(default)]
    pub csrf_token: Option<String>,
    #[serde(default)]
    pub account: Option<AccountView>,
}

/// `PUT /api/v1/me/presence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceBody {
    pub away: bool,
}

/// `POST /api/v1/invitations/{token}/accept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptInvitationBody {
    pub name: String,
    pub password: String,
}

/// `POST /api/v1/password-resets/{token}/accept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPasswordBody {
    pub password: String,
}

/// `POST /api/v1/password-resets` (always 202, whether or not the address has an account).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResetRequestBody {
    pub email: String,
}

/// A site of the account (`GET /api/v1/sites`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteView {
    pub site_key: String,
    pub name: String,
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// The ticket of an inbox row, in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketBrief {
    pub id: String,
    pub status: TicketStatus,
    pub priority: Priority,
}

/// One row of the inbox (`GET /api/v1/conversations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxRow {
    #[serde(flatten)]
    pub conversation: Conversation,
    /// The last message's text, shortened.
    #[serde(default)]
    pub last_message: Option<String>,
    #[serde(default)]
    pub last_author: Option<Author>,
    /// What the visitor said last, shortened (the row shows it whoever wrote after).
    #[serde(default)]
    pub last_visitor_message: Option<String>,
    /// The agent the conversation is assigned to (taken over or assigned).
    #[serde(default)]
    pub assignee_id: Option<String>,
    #[serde(default)]
    pub ticket: Option<TicketBrief>,
}

/// Who the visitor of a conversation is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorView {
    pub id: String,
    /// Signed in on the site (a verified identity) rather than anonymous.
    pub identified: bool,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub first_seen_at: String,
    pub last_seen_at: String,
    /// The page the widget was last opened on.
    #[serde(default)]
    pub page_url: Option<String>,
    /// The visitor's language (BCP 47, from the browser or the page).
    #[serde(default)]
    pub language: Option<String>,
}

/// A visitor's thumbs on the bot answer at `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackMark {
    pub seq: i64,
    pub value: FeedbackValue,
}

/// `GET /api/v1/conversations/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetail {
    pub conversation: Conversation,
    #[serde(default)]
    pub visitor: Option<VisitorView>,
    /// The ticket in progress, with its handoff packet.
    #[serde(default)]
    pub ticket: Option<Ticket>,
    /// The first page of messages in seq order (`next_cursor` = the last seq of the page).
    pub messages: Page<Message>,
    /// The visitor's thumbs on bot answers, by seq.
    #[serde(default)]
    pub feedback: Vec<FeedbackMark>,
}

/// `POST /api/v1/conversations/{id}/messages`: an agent reply; the same `client_msg_id` is
/// stored once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyBody {
    pub client_msg_id: String,
    pub text: String,
}

/// `POST /api/v1/conversations/{id}/assign` and `.../tickets/{id}/assign`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignBody {
    /// An agent of the account, or null to unassign.
    pub agent_id: Option<String>,
}

/// `PATCH /api/v1/sites/{site_key}/tickets/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketStatusBody {
    pub status: TicketStatus,
}
