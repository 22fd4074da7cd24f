//! Escalation tickets as agents see them: status, priority, reasons, the handoff packet.

use serde::{Deserialize, Serialize};

use crate::Source;

/// Where an escalation ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(try_from = "String", into = "&\'static str")]
pub enum TicketStatus {
    /// Escalated; waiting for a person.
    Open,
    /// A person took it over (or handed it back to the bot without resolving it).
    Pending,
    /// Resolved.
    Solved,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Pending => "pending",
            TicketStatus::Solved => "solved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => TicketStatus::Open,
            "pending" => TicketStatus::Pending,
            "solved" => TicketStatus::Solved,
            _ => return None,
        })
    }
}

/// Why a conversation was escalated: on tickets, handoff packets and in analytics, in the order
/// the reasons first came up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum EscalationReason {
    /// The visitor asked for a person (in words, or with the widget's button).
    AskedForHuman,
    /// The visitor's mood fell below the policy's threshold (one very negative message, or a
    /// negative trend over recent turns).
    NegativeMood,
    /// The bot could not answer several times in a row.
    RepeatedFailure,
    /// The visitor asked the same question again: the answer did not help.
    RepeatedQuestion,
    /// The visitor gave answers a thumbs-down.
    ThumbsDown,
    /// Asked to file a formal complaint.
    Complaint,
    /// A cancellation or refund, when the owner made it escalate by itself.
    CancelRefund,
    /// A legal or public threat.
    LegalThreat,
    /// Time pressure, when the owner made it escalate by itself.
    Urgency,
    /// A hacked account, a charge the visitor did not make, fraud.
    AccountSecurity,
    /// A described problem, when the owner made it escalate by itself.
    Problem,
    /// The account used up its plan's bot answers for the month: people answer instead.
    QuotaReached,
}

impl EscalationReason {
    pub const ALL: [EscalationReason; 12] = [
        EscalationReason::AskedForHuman,
        EscalationReason::NegativeMood,
        EscalationReason::RepeatedFailure,
        EscalationReason::RepeatedQuestion,
        EscalationReason::ThumbsDown,
        EscalationReason::Complaint,
        EscalationReason::CancelRefund,
        EscalationReason::LegalThreat,
        EscalationReason::Urgency,
        EscalationReason::AccountSecurity,
        EscalationReason::Problem,
        EscalationReason::QuotaReached,
    ];

    /// As stored and sent (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationReason::AskedForHuman => "asked_for_human",
            EscalationReason::NegativeMood => "negative_mood",
            EscalationReason::RepeatedFailure => "repeated_failure",
            EscalationReason::RepeatedQuestion => "repeated_question",
            EscalationReason::ThumbsDown => "thumbs_down",
            EscalationReason::Complaint => "complaint",
            EscalationReason::CancelRefund => "cancel_refund",
            EscalationReason::LegalThreat => "legal_threat",
            EscalationReason::Urgency => "urgency",
            EscalationReason::AccountSecurity => "account_security",
            EscalationReason::Problem => "problem",
            EscalationReason::QuotaReached => "quota_reached",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How soon a person should pick a ticket up; ordered `normal < high < urgent`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "String", into = "&'static str")]
#[cfg_attr(test, derive(strum::EnumIter))]
pub enum Priority {
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Normal, Priority::High, Priority::Urgent];

    /// As stored and sent (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A conversation escalated to a person, with what the agent needs to take over at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub site_key: String,
    pub conversation_id: String,
    pub status: TicketStatus,
    pub priority: Priority,
    /// Why it was escalated, first escalation first.
    pub reasons: Vec<EscalationReason>,
    /// Name of the agent who took it over or was assigned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent: Option<String>,
    /// Id of that agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent_id: Option<String>,
    /// True while the visitor has been asked for an email address (no agent was online).
    #[serde(default)]
    pub awaiting_email: bool,
    /// The address the visitor left for a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    pub handoff: Handoff,
    /// How many times the conversation was escalated into this ticket.
    pub escalations: i64,
    pub created_at: String,
    /// First agent reply after the escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    pub updated_at: String,
    /// The ticket's revision: it increases with every change. Of two snapshots, the one with
    /// the higher `rev` is the newer.
    #[serde(default)]
    pub rev: i64,
}

/// The handoff packet: the conversation in one glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// A short summary of what the visitor wants and what happened.
    pub summary: String,
    /// `extractive` (built from the visitor's own words) or `llm`.
    pub summary_by: String,
    /// The documents the bot cited in this conversation, most recent answer first.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Sentiment and mood after each visitor message, oldest first.
    #[serde(default)]
    pub mood: Vec<MoodPoint>,
    /// Why it was escalated (as on the ticket).
    #[serde(default)]
    pub reasons: Vec<EscalationReason>,
}

/// One visitor message's sentiment and the conversation's mood after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoodPoint {
    pub seq: i64,
    /// -1..1, this message alone.
    pub sentiment: f32,
    /// -1..1, the weighted trend up to this message.
    pub mood: f32,
}
