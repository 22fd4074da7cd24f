//! A site's own language-model settings (`site_llm`): no row means the site follows the
//! server's configured LLM. Every query filters by site.

use concierge_protocol::site_api::LlmMode;

use super::{col, now_ms, Result, Store, StoreError};

/// A site's `site_llm` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteLlmRecord {
    pub mode: LlmMode,
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// The bearer token sent to `base_url`; never leaves the server.
    pub api_key: Option<String>,
    pub updated_at: i64,
}

impl Store {
    /// The site's own settings; `None` when it follows the server's.
    pub async fn site_llm(&self, site_id: &str) -> Result<Option<SiteLlmRecord>> {
        let row = sqlx::query(
            "select mode, base_url, model, api_key, updated_at from site_llm where site_id = $1",
        )
        .bind(site_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let mode: String = col(&r, "mode")?;
        Ok(Some(SiteLlmRecord {
            mode: LlmMode::parse(&mode)
                .ok_or_else(|| StoreError::Corrupt(format!("site_llm mode {mode:?}")))?,
            base_url: col(&r, "base_url")?,
            model: col(&r, "model")?,
            api_key: col(&r, "api_key")?,
            updated_at: col(&r, "updated_at")?,
        }))
    }

    /// Saves the site's own settings (`updated_at` is set here); `None` removes them, so the
    /// site follows the server's LLM again.
    pub async fn set_site_llm(
        &self,
        site_id: &str,
        settings: Option<&SiteLlmRecord>,
    ) -> Result<()> {
        let _w = self.writer().await;
        let Some(s) = settings else {
            sqlx::query("delete from site_llm where site_id = $1")
                .bind(site_id)
                .execute(&self.pool)
                .await?;
            return Ok(());
        };
        sqlx::query(
            "insert into site_llm (site_id, mode, base_url, model, api_key, updated_at) \
             values ($1, $2, $3, $4, $5, $6) \
             on conflict (site_id) do update set mode = excluded.mode, \
             base_url = excluded.base_url, model = excluded.model, api_key = excluded.api_key, \
             updated_at = excluded.updated_at",
        )
        .bind(site_id)
        .bind(s.mode.as_str())
        .bind(s.base_url.as_deref())
        .bind(s.model.as_deref())
        .bind(s.api_key.as_deref())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Each of the site's last `last` conversations (newest first by start) that has a
    /// visitor message, with its visitor messages in order, oldest conversation first.
    pub async fn recent_visitor_turns(
        &self,
        site_id: &str,
        last: i64,
    ) -> Result<Vec<(String, Vec<String>)>> {
        let rows = sqlx::query(
            "select m.conversation_id, m.text from messages m \
             join (select c.id, c.created_at from conversations c \
                   where c.site_id = $1 and exists (select 1 from messages v \
                         where v.conversation_id = c.id and v.site_id = $1 \
                         and v.author = 'visitor' and v.text <> '') \
                   order by c.created_at desc, c.id desc limit $2) recent \
               on recent.id = m.conversation_id \
             where m.site_id = $1 and m.author = 'visitor' and m.text <> '' \
             order by recent.created_at, m.conversation_id, m.seq",
        )
        .bind(site_id)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in rows {
            let id: String = col(&r, "conversation_id")?;
            let text: String = col(&r, "text")?;
            match out.last_mut() {
                Some((last_id, texts)) if *last_id == id => texts.push(text),
                _ => out.push((id, vec![text])),
            }
        }
        Ok(out)
    }
}
