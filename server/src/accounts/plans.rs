//! Plan limits and the monthly usage report. Bot answers are counted by the store's atomic
//! reservation (see `store/plans.rs`); seats, documents and sites are checked here before
//! something new is added.

use serde::Serialize;
use serde_json::json;

use super::audit::{self, Actor, AuditAction};
use super::AccountsError;
use crate::store::{now_ms, PlanRecord, Reservation, Store, StoreError, UsageCounts};

/// Share of a limit from which the usage report (and the agents' socket) warns.
pub const WARN_AT: f64 = 0.8;

/// The limits a plan sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Limit {
    BotAnswers,
    Seats,
    Documents,
    Sites,
}

impl Warning {
    /// The warning as the agents' socket carries it.
    pub fn frame(&self) -> concierge_protocol::agent::UsageWarning {
        concierge_protocol::agent::UsageWarning {
            limit: self.limit.as_str().to_string(),
            used: self.used,
            max: self.max,
            percent: self.percent,
            message: self.message.clone(),
        }
    }
}

impl Limit {
    pub const ALL: [Limit; 4] = [
        Limit::BotAnswers,
        Limit::Seats,
        Limit::Documents,
        Limit::Sites,
    ];

    /// The limit's name in usage reports and warnings; the same as its serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Plural noun for messages ("your plan allows 20 documents").
    pub fn noun(self) -> &'static str {
        match self {
            Limit::BotAnswers => "bot answers a month",
            Limit::Seats => "seats (agents)",
            Limit::Documents => "documents",
            Limit::Sites => "sites",
        }
    }

    pub fn of(self, plan: &PlanRecord) -> Option<i64> {
        match self {
            Limit::BotAnswers => plan.bot_answers,
            Limit::Seats => plan.seats,
            Limit::Documents => plan.documents,
            Limit::Sites => plan.sites,
        }
    }

    fn used(self, counts: &UsageCounts) -> i64 {
        match self {
            Limit::BotAnswers => counts.bot_answers,
            Limit::Seats => counts.seats,
            Limit::Documents => counts.documents,
            Limit::Sites => counts.sites,
        }
    }
}

/// The calendar month (UTC) of a time: `("YYYY-MM", start_ms, end_ms)`, end exclusive.
pub fn period_of(ms: i64) -> (String, i64, i64) {
    use time::{Date, Month, OffsetDateTime};
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let start = Date::from_calendar_date(t.year(), t.month(), 1).unwrap_or(t.date());
    let (ny, nm) = match t.month() {
        Month::December => (t.year() + 1, Month::January),
        m => (t.year(), m.next()),
    };
    let end = Date::from_calendar_date(ny, nm, 1).unwrap_or(t.date());
    let ms_of = |d: Date| d.midnight().assume_utc().unix_timestamp() * 1000;
    (
        format!("{:04}-{:02}", t.year(), u8::from(t.month())),
        ms_of(start),
        ms_of(end),
    )
}

/// Fails with `plan_limit` when adding `adding` more of `limit` would pass the plan's limit.
pub async fn ensure_room(
    store: &Store,
    account_id: &str,
    limit: Limit,
    adding: i64,
) -> Result<(), AccountsError> {
    let plan = store.plan_of_account(account_id).await?;
    let Some(max) = limit.of(&plan) else {
        return Ok(());
    };
    let (period, _, _) = period_of(now_ms());
    let used = limit.used(&store.usage_counts(account_id, &period).await?);
    if used + adding > max {
        return Err(AccountsError::PlanLimit {
            what: limit.noun(),
            limit: max,
        });
    }
    Ok(())
}

/// A limit at or past [`WARN_AT`] of its value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Warning {
    pub limit: Limit,
    pub used: i64,
    pub max: i64,
    /// Whole percent used (100 or more: the limit is reached).
    pub percent: i64,
    pub message: String,
}

pub use concierge_protocol::owner_api::{DayCount, Meter, Period, PlanView, UsageReport};

/// The warning for one limit, if it is at 80 % or more.
pub fn warning(limit: Limit, used: i64, max: Option<i64>) -> Option<Warning> {
    let max = max?;
    if max <= 0 && used == 0 {
        return None;
    }
    let share = if max <= 0 {
        1.0
    } else {
        used as f64 / max as f64
    };
    if share < WARN_AT {
        return None;
    }
    let percent = (share * 100.0).floor() as i64;
    let message = if used >= max {
        match limit {
            Limit::BotAnswers => format!(
                "All {max} bot answers of this month are used: the bot no longer answers; \
                 visitors are told a person will reply and their conversations wait for your team."
            ),
            _ => format!(
                "The plan's {max} {} are all used: adding more is refused until the plan changes.",
                limit.noun()
            ),
        }
    } else {
        format!("{used} of {max} {} used ({percent} %).", limit.noun())
    };
    Some(Warning {
        limit,
        used,
        max,
        percent,
        message,
    })
}

/// This month's usage of an account against its plan.
pub async fn usage_report(store: &Store, account_id: &str) -> Result<UsageReport, AccountsError> {
    let plan = store.plan_of_account(account_id).await?;
    let (period, start, end) = period_of(now_ms());
    let counts = store.usage_counts(account_id, &period).await?;
    let warnings = Limit::ALL
        .iter()
        .filter_map(|l| warning(*l, l.used(&counts), l.of(&plan)))
        .map(|w| w.frame())
        .collect();
    let daily = store
        .bot_answers_by_day(account_id, &period)
        .await?
        .into_iter()
        .map(|(day, count)| DayCount { day, count })
        .collect();
    Ok(UsageReport {
        period: Period {
            start: crate::store::rfc3339(start),
            end: crate::store::rfc3339(end),
        },
        bot_answers: Meter {
            used: counts.bot_answers,
            limit: plan.bot_answers,
        },
        llm_tokens: Meter {
            used: counts.llm_tokens,
            limit: None,
        },
        documents: Meter {
            used: counts.documents,
            limit: plan.documents,
        },
        seats: Meter {
            used: counts.seats,
            limit: plan.seats,
        },
        sites: Meter {
            used: counts.sites,
            limit: plan.sites,
        },
        daily_bot_answers: daily,
        warnings,
        plan: PlanView {
            name: plan.name,
            bot_answers: plan.bot_answers,
            seats: plan.seats,
            documents: plan.documents,
            sites: plan.sites,
        },
    })
}

/// Reserves the bot's answer to visitor message `seq` against the plan of the site's account
/// (this month, UTC). With it comes the warning to push to the agents when this answer crossed
/// 80 % or reached 100 % of the limit.
pub async fn reserve_bot_answer(
    store: &Store,
    site_id: &str,
    conversation_id: &str,
    seq: i64,
) -> Result<(Reservation, Option<Warning>), AccountsError> {
    let (period, _, _) = period_of(now_ms());
    let r = store
        .reserve_bot_answer(site_id, conversation_id, seq, &period)
        .await?;
    let crossed = match r {
        Reservation::Granted {
            used,
            limit: Some(max),
        } => {
            let threshold = ((max as f64) * WARN_AT).ceil() as i64;
            (used == threshold || used == max)
                .then(|| warning(Limit::BotAnswers, used, Some(max)))
                .flatten()
        }
        _ => None,
    };
    Ok((r, crossed))
}

/// `concierge plan set`: changes some limits of a plan (creating it if new; a new plan's
/// unspecified limits are unlimited).
pub async fn set_plan(
    store: &Store,
    name: &str,
    changes: [Option<Option<i64>>; 4],
) -> Result<PlanRecord, AccountsError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 40
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(AccountsError::BadInput(
            "a plan name is 1 to 40 letters, digits, - or _".into(),
        ));
    }
    let mut plan = store.plan(name).await?.unwrap_or(PlanRecord {
        name: name.to_string(),
        bot_answers: None,
        seats: None,
        documents: None,
        sites: None,
    });
    let [bot_answers, seats, documents, sites] = changes;
    for (slot, change) in [
        (&mut plan.bot_answers, bot_answers),
        (&mut plan.seats, seats),
        (&mut plan.documents, documents),
        (&mut plan.sites, sites),
    ] {
        if let Some(v) = change {
            if v.is_some_and(|n| n < 0) {
                return Err(AccountsError::BadInput(
                    "a limit is a number ≥ 0 or unlimited".into(),
                ));
            }
            *slot = v;
        }
    }
    store.put_plan(&plan).await?;
    Ok(plan)
}

/// Moves an account to a plan (audited).
pub async fn set_account_plan(
    store: &Store,
    account_id: &str,
    plan: &str,
    actor: &Actor,
) -> Result<(), AccountsError> {
    let before = store
        .account(account_id)
        .await?
        .ok_or(AccountsError::NotFound("account"))?;
    match store.set_account_plan(account_id, plan).await {
        Ok(true) => {}
        Ok(false) => return Err(AccountsError::NotFound("account")),
        Err(StoreError::NotFound("plan")) => return Err(AccountsError::UnknownPlan(plan.into())),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        store,
        account_id,
        actor,
        AuditAction::PlanChanged,
        Some(account_id),
        json!({"from": before.plan, "to": plan}),
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn limits_keep_their_names_and_all_lists_every_limit() {
        let names: Vec<&str> = Limit::iter().map(Limit::as_str).collect();
        assert_eq!(names, ["bot_answers", "seats", "documents", "sites"]);
        assert_eq!(Limit::ALL.to_vec(), Limit::iter().collect::<Vec<_>>());
        for l in Limit::iter() {
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
    }

    #[test]
    fn periods_are_utc_calendar_months() {
        // 2026-12-04T23:20:00Z
        let (p, start, end) = period_of(1_796_426_400_000);
        assert_eq!(p, "2026-12");
        assert_eq!(crate::store::rfc3339(start), "2026-12-01T00:00:00Z");
        assert_eq!(crate::store::rfc3339(end), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn warnings_start_at_eighty_percent_and_say_what_happens_at_the_limit() {
        assert_eq!(warning(Limit::BotAnswers, 79, Some(100)), None);
        let w = warning(Limit::BotAnswers, 80, Some(100)).unwrap();
        assert_eq!(w.percent, 80);
        let full = warning(Limit::BotAnswers, 100, Some(100)).unwrap();
        assert!(
            full.message.contains("a person will reply"),
            "{}",
            full.message
        );
        assert_eq!(warning(Limit::Seats, 1_000, None), None);
        assert!(warning(Limit::Documents, 20, Some(20))
            .unwrap()
            .message
            .contains("refused"));
    }
}
