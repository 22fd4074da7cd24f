//! Escalation tickets: opened or re-opened by an escalation, moved by agent actions, read
//! by the inbox, the API and analytics. Every query filters by site (or by account).

use concierge_protocol::{self as proto, EscalationReason, Priority, TicketStatus};
use sqlx::any::AnyRow;

use super::tokens::new_id;
use super::{col, is_unique_violation, now_ms, rfc3339, Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub id: String,
    pub site_id: String,
    pub site_key: String,
    pub conversation_id: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub reasons: Vec<EscalationReason>,
    pub assigned_agent_id: Option<String>,
    pub assigned_agent_name: Option<String>,
    pub awaiting_email: bool,
    pub contact_email: Option<String>,
    pub handoff: proto::Handoff,
    pub escalations: i64,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub updated_at: i64,
    /// Increases with every update of the row (the `ticket_rev` migration).
    pub rev: i64,
}

const TICKET_COLUMNS: &str = "t.id, t.site_id, s.site_key, t.conversation_id, t.status, \
    t.priority, t.reasons, t.assigned_agent_id, a.name as assigned_agent_name, \
    t.awaiting_email, t.contact_email, t.handoff, t.escalations, t.created_at, \
    t.first_response_at, t.resolved_at, t.updated_at, t.rev";
const TICKET_FROM: &str =
    "tickets t join sites s on s.id = t.site_id left join agents a on a.id = t.assigned_agent_id";

impl TicketRecord {
    fn from_row(row: &AnyRow) -> Result<Self> {
        let status: String = col(row, "status")?;
        let priority: String = col(row, "priority")?;
        let reasons: String = col(row, "reasons")?;
        let handoff: String = col(row, "handoff")?;
        Ok(TicketRecord {
            id: col(row, "id")?,
            site_id: col(row, "site_id")?,
            site_key: col(row, "site_key")?,
            conversation_id: col(row, "conversation_id")?,
            status: TicketStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("ticket status {status}")))?,
            priority: Priority::parse(&priority)
                .ok_or_else(|| StoreError::Corrupt(format!("ticket priority {priority}")))?,
            reasons: serde_json::from_str(&reasons)
                .map_err(|e| StoreError::Corrupt(format!("tickets.reasons: {e}")))?,
            assigned_agent_id: col(row, "assigned_agent_id")?,
            assigned_agent_name: col(row, "assigned_agent_name")?,
            awaiting_email: col::<i64>(row, "awaiting_email")? != 0,
            contact_email: col(row, "contact_email")?,
            handoff: serde_json::from_str(&handoff)
                .map_err(|e| StoreError::Corrupt(format!("tickets.handoff: {e}")))?,
            escalations: col(row, "escalations")?,
            created_at: col(row, "created_at")?,
            first_response_at: col(row, "first_response_at")?,
            resolved_at: col(row, "resolved_at")?,
            updated_at: col(row, "updated_at")?,
            rev: col(row, "rev")?,
        })
    }

    pub fn view(&self) -> proto::Ticket {
        proto::Ticket {
            id: self.id.clone(),
            site_key: self.site_key.clone(),
            conversation_id: self.conversation_id.clone(),
            status: self.status,
            priority: self.priority,
            reasons: self.reasons.clone(),
            assigned_agent: self.assigned_agent_name.clone(),
            assigned_agent_id: self.assigned_agent_id.clone(),
            awaiting_email: self.awaiting_email,
            contact_email: self.contact_email.clone(),
            handoff: self.handoff.clone(),
            escalations: self.escalations,
            created_at: rfc3339(self.created_at),
            first_response_at: self.first_response_at.map(rfc3339),
            resolved_at: self.resolved_at.map(rfc3339),
            updated_at: rfc3339(self.updated_at),
            rev: self.rev,
        }
    }
}

/// What an escalation writes.
pub struct NewEscalation<'a> {
    pub priority: Priority,
    pub reasons: &'a [EscalationReason],
    pub awaiting_email: bool,
    pub handoff: &'a proto::Handoff,
}

/// A ticket's row for analytics.
#[derive(Debug, Clone)]
pub struct TicketStatRow {
    pub reasons: Vec<EscalationReason>,
    pub priority: Priority,
    pub status: TicketStatus,
    pub created_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

impl Store {
    // ---- tickets ------------------------------------------------------------------------

    /// Opens a ticket for the conversation, or re-opens its ticket in progress (merging the
    /// reasons, keeping the higher priority). Returns the ticket and whether it was created.
    pub async fn escalate_ticket(
        &self,
        site_id: &str,
        conversation_id: &str,
        new: NewEscalation<'_>,
    ) -> Result<(TicketRecord, bool)> {
        let handoff = serde_json::to_string(new.handoff)
            .map_err(|e| StoreError::Corrupt(format!("handoff: {e}")))?;
        for _ in 0..3 {
            if let Some(active) = self.active_ticket(site_id, conversation_id).await? {
                let mut reasons = active.reasons.clone();
                for r in new.reasons {
                    if !reasons.contains(r) {
                        reasons.push(*r);
                    }
                }
                let priority = new.priority.max(active.priority);
                {
                    let _w = self.writer().await;
                    sqlx::query(
                        "update tickets set status = 'open', priority = $1, reasons = $2, \
                         handoff = $3, awaiting_email = $4, escalations = escalations + 1, \
                         assigned_agent_id = null, updated_at = $5, rev = rev + 1 \
                         where site_id = $6 and id = $7",
                    )
                    .bind(priority.as_str())
                    .bind(serde_json::json!(reasons).to_string())
                    .bind(&handoff)
                    .bind(new.awaiting_email as i64)
                    .bind(now_ms())
                    .bind(site_id)
                    .bind(&active.id)
                    .execute(&self.pool)
                    .await?;
                }
                let t = self
                    .ticket(site_id, &active.id)
                    .await?
                    .ok_or(StoreError::NotFound("ticket"))?;
                return Ok((t, false));
            }
            let id = new_id();
            let now = now_ms();
            let inserted = {
                let _w = self.writer().await;
                sqlx::query(
                    "insert into tickets (id, site_id, conversation_id, status, priority, reasons, \
                     awaiting_email, handoff, escalations, created_at, updated_at) values \
                     ($1, $2, $3, 'open', $4, $5, $6, $7, 1, $8, $8)",
                )
                .bind(&id)
                .bind(site_id)
                .bind(conversation_id)
                .bind(new.priority.as_str())
                .bind(serde_json::json!(new.reasons).to_string())
                .bind(new.awaiting_email as i64)
                .bind(&handoff)
                .bind(now)
                .execute(&self.pool)
                .await
            };
            match inserted {
                Ok(_) => {
                    let t = self
                        .ticket(site_id, &id)
                        .await?
                        .ok_or(StoreError::NotFound("ticket"))?;
                    return Ok((t, true));
                }
                // Another node opened it between our read and insert: update that one.
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict("ticket"))
    }

    pub async fn ticket(&self, site_id: &str, id: &str) -> Result<Option<TicketRecord>> {
        let row = sqlx::query(&format!(
            "select {TICKET_COLUMNS} from {TICKET_FROM} where t.site_id = $1 and t.id = $2"
        ))
        .bind(site_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(TicketRecord::from_row).transpose()
    }

    /// The conversation's ticket that is not solved, if any.
    pub async fn active_ticket(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<Option<TicketRecord>> {
        let row = sqlx::query(&format!(
            "select {TICKET_COLUMNS} from {TICKET_FROM} where t.site_id = $1 and \
             t.conversation_id = $2 and t.status <> 'solved'"
        ))
        .bind(site_id)
        .bind(conversation_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(TicketRecord::from_row).transpose()
    }

    /// The conversation's tickets, most recently changed first.
    pub async fn tickets_of_conversation(
        &self,
        site_id: &str,
        conversation_id: &str,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        let rows = sqlx::query(&format!(
            "select {TICKET_COLUMNS} from {TICKET_FROM} where t.site_id = $1 and \
             t.conversation_id = $2 order by t.updated_at desc, t.id limit $3"
        ))
        .bind(site_id)
        .bind(conversation_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TicketRecord::from_row).collect()
    }

    /// A site's tickets, newest first, optionally of one status.
    pub async fn tickets(
        &self,
        site_id: &str,
        status: Option<TicketStatus>,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        let rows = sqlx::query(&format!(
            "select {TICKET_COLUMNS} from {TICKET_FROM} where t.site_id = $1 and \
             ($2 = '' or t.status = $2) order by t.updated_at desc, t.id limit $3"
        ))
        .bind(site_id)
        .bind(status.map(|s| s.as_str()).unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TicketRecord::from_row).collect()
    }

    /// Tickets not solved on any of the account's sites: urgent first, then oldest first.
    pub async fn active_tickets_for_account(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        let rows = sqlx::query(&format!(
            "select {TICKET_COLUMNS} from {TICKET_FROM} where s.account_id = $1 and \
             t.status <> 'solved' order by case t.priority when 'urgent' then 0 when 'high' \
             then 1 else 2 end, t.created_at limit $2"
        ))
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(TicketRecord::from_row).collect()
    }

    /// Tickets created since `since_ms`, for analytics.
    pub async fn ticket_stats_rows(
        &self,
        site_id: &str,
        since_ms: i64,
    ) -> Result<Vec<TicketStatRow>> {
        let rows = sqlx::query(
            "select reasons, priority, status, created_at, first_response_at, resolved_at \
             from tickets where site_id = $1 and created_at >= $2",
        )
        .bind(site_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let reasons: String = col(r, "reasons")?;
                let priority: String = col(r, "priority")?;
                let status: String = col(r, "status")?;
                Ok(TicketStatRow {
                    reasons: serde_json::from_str(&reasons).unwrap_or_default(),
                    priority: Priority::parse(&priority).unwrap_or_default(),
                    status: TicketStatus::parse(&status).unwrap_or(TicketStatus::Open),
                    created_at: col(r, "created_at")?,
                    first_response_at: col(r, "first_response_at")?,
                    resolved_at: col(r, "resolved_at")?,
                })
            })
            .collect()
    }
}
