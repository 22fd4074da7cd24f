//! Agent actions on a conversation's ticket in progress: taken over, first response,
//! assigned, status, handed back, solved, the visitor's email, the refined handoff packet.
//! Every update filters by site.

use concierge_protocol::{self as proto, TicketStatus};

use super::{now_ms, Result, Store, StoreError, TicketRecord};

impl Store {
    /// Applies `set` (an SQL assignment list using $1.. for `binds`) to the conversation's
    /// active ticket and returns it.
    async fn update_active_ticket(
        &self,
        site_id: &str,
        conversation_id: &str,
        set: &str,
        binds: &[Option<String>],
    ) -> Result<Option<TicketRecord>> {
        let Some(active) = self.active_ticket(site_id, conversation_id).await? else {
            return Ok(None);
        };
        {
            let _w = self.writer().await;
            let n = binds.len();
            let sql = format!(
                "update tickets set {set}, updated_at = ${}, rev = rev + 1 \
                 where site_id = ${} and id = ${}",
                n + 1,
                n + 2,
                n + 3
            );
            let mut q = sqlx::query(&sql);
            for b in binds {
                q = q.bind(b.clone());
            }
            q.bind(now_ms())
                .bind(site_id)
                .bind(&active.id)
                .execute(&self.pool)
                .await?;
        }
        self.ticket(site_id, &active.id).await
    }

    /// An agent took the conversation over: the ticket is pending and assigned to them.
    pub async fn ticket_taken_over(
        &self,
        site_id: &str,
        conversation_id: &str,
        agent_id: &str,
    ) -> Result<Option<TicketRecord>> {
        self.update_active_ticket(
            site_id,
            conversation_id,
            "status = 'pending', assigned_agent_id = $1, awaiting_email = 0",
            &[Some(agent_id.to_string())],
        )
        .await
    }

    /// The first agent reply since the escalation; `None` when there is no ticket or it was
    /// already answered.
    pub async fn ticket_first_response(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<Option<TicketRecord>> {
        match self.active_ticket(site_id, conversation_id).await? {
            Some(t) if t.first_response_at.is_none() => {
                self.update_active_ticket(
                    site_id,
                    conversation_id,
                    "first_response_at = $1",
                    &[Some(now_ms().to_string())],
                )
                .await
            }
            _ => Ok(None),
        }
    }

    /// Assigns the conversation's active ticket to an agent (None: unassigned).
    pub async fn ticket_assigned(
        &self,
        site_id: &str,
        conversation_id: &str,
        agent_id: Option<&str>,
    ) -> Result<Option<TicketRecord>> {
        self.update_active_ticket(
            site_id,
            conversation_id,
            "assigned_agent_id = $1",
            &[agent_id.map(str::to_string)],
        )
        .await
    }

    /// Sets the active ticket's status to `open` or `pending` (solving goes through resolve).
    pub async fn ticket_status(
        &self,
        site_id: &str,
        conversation_id: &str,
        status: TicketStatus,
    ) -> Result<Option<TicketRecord>> {
        let set = match status {
            TicketStatus::Open => "status = 'open'",
            TicketStatus::Pending => "status = 'pending'",
            TicketStatus::Solved => "status = 'solved', awaiting_email = 0",
        };
        self.update_active_ticket(site_id, conversation_id, set, &[])
            .await
    }

    /// Back to the bot without resolving: the ticket stays pending.
    pub async fn ticket_handed_back(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<Option<TicketRecord>> {
        self.update_active_ticket(site_id, conversation_id, "status = 'pending'", &[])
            .await
    }

    pub async fn ticket_solved(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<Option<TicketRecord>> {
        self.update_active_ticket(
            site_id,
            conversation_id,
            "status = 'solved', awaiting_email = 0, resolved_at = $1",
            &[Some(now_ms().to_string())],
        )
        .await
    }

    pub async fn ticket_contact_email(
        &self,
        site_id: &str,
        conversation_id: &str,
        email: &str,
    ) -> Result<Option<TicketRecord>> {
        self.update_active_ticket(
            site_id,
            conversation_id,
            "contact_email = $1, awaiting_email = 0",
            &[Some(email.to_string())],
        )
        .await
    }

    /// Replaces the handoff packet (an LLM summary arrived).
    pub async fn set_ticket_handoff(
        &self,
        site_id: &str,
        ticket_id: &str,
        handoff: &proto::Handoff,
    ) -> Result<Option<TicketRecord>> {
        let json = serde_json::to_string(handoff)
            .map_err(|e| StoreError::Corrupt(format!("handoff: {e}")))?;
        {
            let _w = self.writer().await;
            sqlx::query(
                "update tickets set handoff = $1, updated_at = $2, rev = rev + 1 \
                 where site_id = $3 and id = $4",
            )
            .bind(json)
            .bind(now_ms())
            .bind(site_id)
            .bind(ticket_id)
            .execute(&self.pool)
            .await?;
        }
        self.ticket(site_id, ticket_id).await
    }
}
