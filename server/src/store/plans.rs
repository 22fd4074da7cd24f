//! Plans (data, seeded by the migration), each account's plan, and monthly usage. A bot answer
//! is reserved against the plan in one transaction before the bot answers, so concurrent
//! visitors on several nodes sharing the database never exceed the limit, and a resent or
//! replayed message never counts twice.

use super::{col, now_ms, Result, Store, StoreError};

/// A plan's limits; `None` is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlanRecord {
    pub name: String,
    pub bot_answers: Option<i64>,
    pub seats: Option<i64>,
    pub documents: Option<i64>,
    pub sites: Option<i64>,
}

/// An account with its plan.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created_at: i64,
}

/// What reserving a bot answer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; `used` answers of `limit` this month.
    Granted { used: i64, limit: Option<i64> },
    /// This message was reserved before (a resend or a resumed socket): not counted again.
    AlreadyGranted,
    /// The month's answers are used up.
    OverLimit { limit: i64 },
}

/// Counts of one account in one month.
#[derive(Debug, Clone, Default)]
pub struct UsageCounts {
    pub bot_answers: i64,
    pub llm_tokens: i64,
    pub documents: i64,
    pub seats: i64,
    pub sites: i64,
}

fn plan_from_row(r: &sqlx::any::AnyRow) -> Result<PlanRecord> {
    Ok(PlanRecord {
        name: col(r, "name")?,
        bot_answers: col(r, "bot_answers")?,
        seats: col(r, "seats")?,
        documents: col(r, "documents")?,
        sites: col(r, "sites")?,
    })
}

impl Store {
    pub async fn plans(&self) -> Result<Vec<PlanRecord>> {
        let rows = sqlx::query(
            "select name, bot_answers, seats, documents, sites from plans \
             order by coalesce(bot_answers, 9223372036854775807), name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(plan_from_row).collect()
    }

    pub async fn plan(&self, name: &str) -> Result<Option<PlanRecord>> {
        let row = sqlx::query(
            "select name, bot_answers, seats, documents, sites from plans where name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(plan_from_row).transpose()
    }

    /// Creates or replaces a plan.
    pub async fn put_plan(&self, plan: &PlanRecord) -> Result<()> {
        let _w = self.writer().await;
        sqlx::query(
            "insert into plans (name, bot_answers, seats, documents, sites, updated_at) \
             values ($1, $2, $3, $4, $5, $6) on conflict (name) do update set \
             bot_answers = excluded.bot_answers, seats = excluded.seats, \
             documents = excluded.documents, sites = excluded.sites, \
             updated_at = excluded.updated_at",
        )
        .bind(&plan.name)
        .bind(plan.bot_answers)
        .bind(plan.seats)
        .bind(plan.documents)
        .bind(plan.sites)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn account(&self, account_id: &str) -> Result<Option<AccountRecord>> {
        let row = sqlx::query("select id, name, plan, created_at from accounts where id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(AccountRecord {
                id: col(&r, "id")?,
                name: col(&r, "name")?,
                plan: col(&r, "plan")?,
                created_at: col(&r, "created_at")?,
            })
        })
        .transpose()
    }

    /// Moves an account to an existing plan; false when the account does not exist.
    pub async fn set_account_plan(&self, account_id: &str, plan: &str) -> Result<bool> {
        if self.plan(plan).await?.is_none() {
            return Err(StoreError::NotFound("plan"));
        }
        let _w = self.writer().await;
        let done = sqlx::query("update accounts set plan = $2 where id = $1")
            .bind(account_id)
            .bind(plan)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The plan of the account owning a site.
    pub async fn plan_of_account(&self, account_id: &str) -> Result<PlanRecord> {
        let row = sqlx::query(
            "select p.name, p.bot_answers, p.seats, p.documents, p.sites from accounts a \
             join plans p on p.name = a.plan where a.id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("account plan"))?;
        plan_from_row(&row)
    }

    /// Reserves one bot answer for visitor message `seq` of a conversation of `site_id`, in
    /// `period` (`YYYY-MM`, UTC), against the plan of the site's account.
    pub async fn reserve_bot_answer(
        &self,
        site_id: &str,
        conversation_id: &str,
        seq: i64,
        period: &str,
    ) -> Result<Reservation> {
        let row = sqlx::query(
            "select s.account_id, p.bot_answers from sites s join accounts a on a.id = s.account_id \
             left join plans p on p.name = a.plan where s.id = $1",
        )
        .bind(site_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("site"))?;
        let account_id: String = col(&row, "account_id")?;
        let limit: Option<i64> = col(&row, "bot_answers")?;
        let _w = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let fresh = sqlx::query(
            "insert into bot_answer_reservations (conversation_id, seq, account_id, period, \
             created_at) values ($1, $2, $3, $4, $5) on conflict do nothing",
        )
        .bind(conversation_id)
        .bind(seq)
        .bind(&account_id)
        .bind(period)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if !fresh {
            tx.commit().await?;
            return Ok(Reservation::AlreadyGranted);
        }
        sqlx::query(
            "insert into usage_counters (account_id, period, bot_answers) values ($1, $2, 0) \
             on conflict do nothing",
        )
        .bind(&account_id)
        .bind(period)
        .execute(&mut *tx)
        .await?;
        // Postgres re-checks the condition on the row it waited for, so two nodes racing for
        // the last answer cannot both pass it.
        let counted = sqlx::query(
            "update usage_counters set bot_answers = bot_answers + 1 \
             where account_id = $1 and period = $2 and ($3 < 0 or bot_answers < $3) \
             returning bot_answers",
        )
        .bind(&account_id)
        .bind(period)
        .bind(limit.unwrap_or(-1))
        .fetch_optional(&mut *tx)
        .await?;
        match counted {
            Some(r) => {
                let used: i64 = col(&r, "bot_answers")?;
                tx.commit().await?;
                Ok(Reservation::Granted { used, limit })
            }
            None => {
                tx.rollback().await?;
                Ok(Reservation::OverLimit {
                    limit: limit.unwrap_or(0),
                })
            }
        }
    }

    /// The account's usage in `period` (`YYYY-MM`).
    pub async fn usage_counts(&self, account_id: &str, period: &str) -> Result<UsageCounts> {
        let row = sqlx::query(
            "select \
             (select coalesce(max(bot_answers), 0) from usage_counters \
                where account_id = $1 and period = $2) as bot_answers, \
             (select cast(coalesce(sum(u.prompt_tokens + u.completion_tokens), 0) as bigint) \
                from llm_usage u join sites s on s.id = u.site_id \
                where s.account_id = $1 and u.day like $3) as llm_tokens, \
             (select count(*) from documents d join sites s on s.id = d.site_id \
                where s.account_id = $1) as documents, \
             (select count(*) from agents where account_id = $1 and removed_at is null) as seats, \
             (select count(*) from sites where account_id = $1) as sites",
        )
        .bind(account_id)
        .bind(period)
        .bind(format!("{period}%"))
        .fetch_one(&self.pool)
        .await?;
        Ok(UsageCounts {
            bot_answers: col(&row, "bot_answers")?,
            llm_tokens: col(&row, "llm_tokens")?,
            documents: col(&row, "documents")?,
            seats: col(&row, "seats")?,
            sites: col(&row, "sites")?,
        })
    }

    /// Bot answers per UTC day (`YYYY-MM-DD`, ascending) of the account in `period`.
    pub async fn bot_answers_by_day(
        &self,
        account_id: &str,
        period: &str,
    ) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "select created_at from bot_answer_reservations where account_id = $1 and period = $2",
        )
        .bind(account_id)
        .bind(period)
        .fetch_all(&self.pool)
        .await?;
        let mut days = std::collections::BTreeMap::<String, i64>::new();
        for r in &rows {
            let at: i64 = col(r, "created_at")?;
            *days
                .entry(super::rfc3339(at)[..10].to_string())
                .or_default() += 1;
        }
        Ok(days.into_iter().collect())
    }
}
