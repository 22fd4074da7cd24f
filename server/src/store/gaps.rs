//! Knowledge gaps (questions the bot could not answer from the site's documents) and LLM
//! token usage per site and day: what a site owner reviews to improve their help center and
//! watch their bill. Gap groups an owner dismissed are remembered by the key of their question.

use super::tokens::new_id;
use super::{col, now_ms, Result, Store};

#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeGap {
    pub id: String,
    pub site_id: String,
    pub conversation_id: Option<String>,
    pub question: String,
    pub best_score: f64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LlmUsage {
    pub day: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Store {
    pub async fn record_gap(
        &self,
        site_id: &str,
        conversation_id: Option<&str>,
        question: &str,
        best_score: f64,
    ) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into knowledge_gaps (id, site_id, conversation_id, question, best_score, \
             created_at) values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(site_id)
        .bind(conversation_id)
        .bind(question)
        .bind(best_score)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn gaps(&self, site_id: &str, limit: i64) -> Result<Vec<KnowledgeGap>> {
        let rows = sqlx::query(
            "select id, site_id, conversation_id, question, best_score, created_at \
             from knowledge_gaps where site_id = $1 order by created_at desc, id limit $2",
        )
        .bind(site_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(KnowledgeGap {
                    id: col(r, "id")?,
                    site_id: col(r, "site_id")?,
                    conversation_id: col(r, "conversation_id")?,
                    question: col(r, "question")?,
                    best_score: col(r, "best_score")?,
                    created_at: col(r, "created_at")?,
                })
            })
            .collect()
    }

    /// When each dismissed gap group (by key) of the site was last dismissed.
    pub async fn gap_dismissals(
        &self,
        site_id: &str,
    ) -> Result<std::collections::HashMap<String, i64>> {
        let rows = sqlx::query(
            "select gap_key, dismissed_at from knowledge_gap_dismissals where site_id = $1",
        )
        .bind(site_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "gap_key")?, col(r, "dismissed_at")?)))
            .collect()
    }

    /// Dismisses a gap group from now on (again, if it was dismissed before).
    pub async fn dismiss_gap(&self, site_id: &str, gap_key: &str, agent_id: &str) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into knowledge_gap_dismissals (site_id, gap_key, dismissed_by, dismissed_at) \
             values ($1, $2, $3, $4) on conflict (site_id, gap_key) do update set \
             dismissed_by = excluded.dismissed_by, dismissed_at = excluded.dismissed_at",
        )
        .bind(site_id)
        .bind(gap_key)
        .bind(agent_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn record_llm_usage(
        &self,
        site_id: &str,
        prompt_tokens: i64,
        completion_tokens: i64,
    ) -> Result<()> {
        let day = time::OffsetDateTime::now_utc().date().to_string();
        let _w = self.writer().await;
        sqlx::query(
            "insert into llm_usage (site_id, day, requests, prompt_tokens, completion_tokens) \
             values ($1, $2, 1, $3, $4) on conflict (site_id, day) do update set \
             requests = llm_usage.requests + 1, \
             prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens, \
             completion_tokens = llm_usage.completion_tokens + excluded.completion_tokens",
        )
        .bind(site_id)
        .bind(day)
        .bind(prompt_tokens)
        .bind(completion_tokens)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Newest day first.
    pub async fn llm_usage(&self, site_id: &str, days: i64) -> Result<Vec<LlmUsage>> {
        let rows = sqlx::query(
            "select day, requests, prompt_tokens, completion_tokens from llm_usage \
             where site_id = $1 order by day desc limit $2",
        )
        .bind(site_id)
        .bind(days)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LlmUsage {
                    day: col(r, "day")?,
                    requests: col(r, "requests")?,
                    prompt_tokens: col(r, "prompt_tokens")?,
                    completion_tokens: col(r, "completion_tokens")?,
                })
            })
            .collect()
    }
}
