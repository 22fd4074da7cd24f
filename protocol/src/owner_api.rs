//! Reports the owner's console reads: usage against the plan (`GET /api/v1/usage`) and
//! analytics over a date range (`GET /api/v1/sites/{site_key}/analytics`). Serialized by the
//! server, read by the console.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agent::UsageWarning;

/// One limit: what is used, and the plan's limit (`null` when unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meter {
    pub used: i64,
    pub limit: Option<i64>,
}

/// A period as RFC 3339 times: `start` inclusive, `end` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: String,
    pub end: String,
}

/// A count on one UTC day (`YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: String,
    pub count: i64,
}

/// A plan and its limits (`null`: unlimited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub name: String,
    pub bot_answers: Option<i64>,
    pub seats: Option<i64>,
    pub documents: Option<i64>,
    pub sites: Option<i64>,
}

/// `GET /api/v1/usage`: this month's usage of the account against its plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    pub plan: PlanView,
    pub period: Period,
    pub bot_answers: Meter,
    pub llm_tokens: Meter,
    pub documents: Meter,
    pub seats: Meter,
    pub sites: Meter,
    /// Bot answers per UTC day of the month, for the chart.
    pub daily_bot_answers: Vec<DayCount>,
    /// One per limit at 80 % or more of its value.
    pub warnings: Vec<UsageWarning>,
}

/// A question the bot could not answer, with how often it was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapCount {
    pub question: String,
    pub count: i64,
    pub last_asked_at: String,
}

/// `GET /api/v1/sites/{site_key}/analytics?from=&to=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsReport {
    /// RFC 3339, inclusive.
    pub from: String,
    /// RFC 3339, exclusive.
    pub to: String,
    /// Every UTC day of the range, zeros included.
    pub conversations_per_day: Vec<DayCount>,
    pub conversations: i64,
    pub bot_answered: i64,
    /// Answered by the bot with no ticket and no agent message.
    pub deflected: i64,
    /// `deflected / conversations`; null with no conversations.
    pub deflection_rate: Option<f64>,
    pub escalations: i64,
    pub escalations_by_reason: BTreeMap<String, i64>,
    /// Median seconds from escalation to the first agent reply, over the tickets answered.
    pub median_first_response_secs: Option<f64>,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub top_knowledge_gaps: Vec<GapCount>,
}
