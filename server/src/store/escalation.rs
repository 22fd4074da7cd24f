//! Sentiment signals per visitor message, answer feedback, each site's escalation policy,
//! and which agents are online. Every query filters by site (presence by account).

use concierge_protocol as proto;

use super::{col, now_ms, Result, Store, StoreError};

/// What happened to a visitor message, recorded with its signals. Stored
/// (`message_signals.outcome`) and exported under its snake_case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum TurnOutcome {
    /// The bot answered from the documents.
    Answered,
    /// The bot could not answer ("I don't know", or the search failed).
    DontKnow,
    /// Nobody answered automatically: a person has (or will have) the conversation, or the
    /// site has no documents.
    Silent,
    /// The message handed the conversation to a person.
    Escalated,
}

impl TurnOutcome {
    /// As stored (`message_signals.outcome`) and exported.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One visitor message's signals, as the policy reads them and the store keeps them.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    pub seq: i64,
    pub vader: f32,
    pub sentiment: f32,
    pub mood: f32,
    /// `{"human_request": 0.93, ...}`.
    pub intents: serde_json::Value,
    pub outcome: TurnOutcome,
    pub created_at: i64,
    /// The visitor's message.
    pub text: String,
}

impl Store {
    // ---- policy -------------------------------------------------------------------------

    /// The site's policy JSON, `None` for the defaults.
    pub async fn escalation_policy_json(&self, site_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("select escalation_policy from sites where id = $1")
            .bind(site_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("site"))?;
        col(&row, "escalation_policy")
    }

    pub async fn set_escalation_policy_json(
        &self,
        site_id: &str,
        json: Option<&str>,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query("update sites set escalation_policy = $1 where id = $2")
            .bind(json)
            .bind(site_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- signals ------------------------------------------------------------------------

    /// Stores a visitor message's signals and what happened to it (`signals.seq`,
    /// `signals.outcome`; `created_at` and `text` are not written: the message has them),
    /// and sets the conversation's mood, in one transaction.
    pub async fn record_signals(
        &self,
        site_id: &str,
        conversation_id: &str,
        signals: &SignalRecord,
    ) -> Result<()> {
        let (seq, mood) = (signals.seq, signals.mood);
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "insert into message_signals (site_id, conversation_id, seq, vader, sentiment, mood, \
             intents, outcome, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             on conflict (conversation_id, seq) do update set outcome = excluded.outcome",
        )
        .bind(site_id)
        .bind(conversation_id)
        .bind(seq)
        .bind(signals.vader as f64)
        .bind(signals.sentiment as f64)
        .bind(mood as f64)
        .bind(signals.intents.to_string())
        .bind(signals.outcome.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "update conversations set mood = $1, rev = rev + 1 where site_id = $2 and id = $3",
        )
        .bind(mood as f64)
        .bind(site_id)
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The last `limit` visitor messages' signals before `before_seq`, oldest first.
    pub async fn recent_signals(
        &self,
        site_id: &str,
        conversation_id: &str,
        before_seq: i64,
        limit: i64,
    ) -> Result<Vec<SignalRecord>> {
        let rows = sqlx::query(
            "select s.seq, s.vader, s.sentiment, s.mood, s.intents, s.outcome, s.created_at, \
             m.text from message_signals s join messages m on m.conversation_id = \
             s.conversation_id and m.seq = s.seq where s.site_id = $1 and s.conversation_id = $2 \
             and s.seq < $3 order by s.seq desc limit $4",
        )
        .bind(site_id)
        .bind(conversation_id)
        .bind(before_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let intents: String = col(r, "intents")?;
                Ok(SignalRecord {
                    seq: col(r, "seq")?,
                    vader: col::<f64>(r, "vader")? as f32,
                    sentiment: col::<f64>(r, "sentiment")? as f32,
                    mood: col::<f64>(r, "mood")? as f32,
                    intents: serde_json::from_str(&intents).unwrap_or_default(),
                    // Only these four are ever written.
                    outcome: col::<String>(r, "outcome")?
                        .parse()
                        .unwrap_or(TurnOutcome::Silent),
                    created_at: col(r, "created_at")?,
                    text: col(r, "text")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }

    pub async fn set_handed_back(&self, site_id: &str, conversation_id: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "update conversations set handed_back_at = $1, rev = rev + 1 \
             where site_id = $2 and id = $3",
        )
        .bind(now_ms())
        .bind(site_id)
        .bind(conversation_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- feedback -----------------------------------------------------------------------

    pub async fn record_feedback(
        &self,
        site_id: &str,
        conversation_id: &str,
        seq: i64,
        value: proto::FeedbackValue,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into message_feedback (site_id, conversation_id, seq, value, created_at) \
             values ($1, $2, $3, $4, $5) on conflict (conversation_id, seq) do update set \
             value = excluded.value, created_at = excluded.created_at",
        )
        .bind(site_id)
        .bind(conversation_id)
        .bind(seq)
        .bind(value.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The visitor's thumbs on the conversation's bot answers (one per seq: the latest
    /// replaces the earlier), in seq order.
    pub async fn feedback_of(
        &self,
        site_id: &str,
        conversation_id: &str,
    ) -> Result<Vec<(i64, proto::FeedbackValue)>> {
        let rows = sqlx::query(
            "select seq, value from message_feedback where site_id = $1 and \
             conversation_id = $2 order by seq",
        )
        .bind(site_id)
        .bind(conversation_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let value: String = col(r, "value")?;
                let value = match value.as_str() {
                    "up" => proto::FeedbackValue::Up,
                    "down" => proto::FeedbackValue::Down,
                    _ => return Err(StoreError::Corrupt(format!("feedback value {value}"))),
                };
                Ok((col(r, "seq")?, value))
            })
            .collect()
    }

    /// Thumbs-down answers given after `since_ms` (the last hand-back) and after the
    /// conversation's last ticket change (escalation, take-over, resolution).
    pub async fn thumbs_down_since_escalation(
        &self,
        site_id: &str,
        conversation_id: &str,
        since_ms: i64,
    ) -> Result<i64> {
        let row = sqlx::query(
            "select count(*) as n from message_feedback where site_id = $1 and \
             conversation_id = $2 and value = 'down' and created_at > $3 and created_at > \
             coalesce((select max(updated_at) from tickets where site_id = $1 and \
             conversation_id = $2), 0)",
        )
        .bind(site_id)
        .bind(conversation_id)
        .bind(since_ms)
        .fetch_one(&self.pool)
        .await?;
        col(&row, "n")
    }

    /// Feedback counts of a site since `since_ms`: (up, down).
    pub async fn feedback_counts(&self, site_id: &str, since_ms: i64) -> Result<(i64, i64)> {
        let rows = sqlx::query(
            "select value, count(*) as n from message_feedback where site_id = $1 and \
             created_at >= $2 group by value",
        )
        .bind(site_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        let (mut up, mut down) = (0, 0);
        for r in &rows {
            let v: String = col(r, "value")?;
            let n: i64 = col(r, "n")?;
            if v == "up" {
                up = n;
            } else {
                down = n;
            }
        }
        Ok((up, down))
    }

    // ---- presence -----------------------------------------------------------------------

    /// Records that `agent_id` has `sockets` open on `node_id` (0 removes the row).
    pub async fn presence_set(
        &self,
        agent_id: &str,
        account_id: &str,
        node_id: &str,
        sockets: i64,
    ) -> Result<()> {
        let _w = self.writer().await;
        if sockets <= 0 {
            sqlx::query("delete from agent_presence where agent_id = $1 and node_id = $2")
                .bind(agent_id)
                .bind(node_id)
                .execute(&self.pool)
                .await?;
            return Ok(());
        }
        sqlx::query(
            "insert into agent_presence (agent_id, node_id, account_id, sockets, seen_at) values \
             ($1, $2, $3, $4, $5) on conflict (agent_id, node_id) do update set \
             sockets = excluded.sockets, seen_at = excluded.seen_at",
        )
        .bind(agent_id)
        .bind(node_id)
        .bind(account_id)
        .bind(sockets)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Agents of the account who will reply: a socket seen after `fresh_after_ms` on any
    /// node, not set away, not removed.
    pub async fn agents_online(&self, account_id: &str, fresh_after_ms: i64) -> Result<i64> {
        let row = sqlx::query(
            "select count(distinct p.agent_id) as n from agent_presence p \
             join agents a on a.id = p.agent_id and a.account_id = p.account_id \
             where p.account_id = $1 and p.seen_at > $2 and p.sockets > 0 \
             and a.away = 0 and a.removed_at is null",
        )
        .bind(account_id)
        .bind(fresh_after_ms)
        .fetch_one(&self.pool)
        .await?;
        col(&row, "n")
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::TurnOutcome;

    #[test]
    fn turn_outcomes_read_back_what_they_store() {
        let names: Vec<&str> = TurnOutcome::iter().map(TurnOutcome::as_str).collect();
        assert_eq!(names, ["answered", "dont_know", "silent", "escalated"]);
        for o in TurnOutcome::iter() {
            assert_eq!(o.as_str().parse::<TurnOutcome>().ok(), Some(o));
        }
    }
}
