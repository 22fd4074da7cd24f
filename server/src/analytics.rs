//! The owner's analytics over a date range: conversations per day, the share the bot handled
//! without a person (deflection), escalations by reason, time to the first human response,
//! answer feedback, and the most frequent questions the bot could not answer.

use std::collections::BTreeMap;

use crate::store::{rfc3339, Site, Store, StoreError};

/// Longest range one report covers.
pub const MAX_DAYS: i64 = 366;

pub use concierge_protocol::owner_api::{AnalyticsReport as Report, DayCount, GapCount};

/// Midnight UTC of the day `ms` falls in.
fn day_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(86_400_000)
}

/// Zero-filled counts per UTC day over `[from, to)`.
pub fn per_day(times: &[i64], from: i64, to: i64) -> Vec<DayCount> {
    let mut counts = BTreeMap::<i64, i64>::new();
    let mut d = day_start(from);
    while d < to {
        counts.insert(d, 0);
        d += 86_400_000;
    }
    for t in times {
        *counts.entry(day_start(*t)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(d, count)| DayCount {
            day: rfc3339(d)[..10].to_string(),
            count,
        })
        .collect()
}

fn median(mut v: Vec<i64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    };
    Some(m / 1000.0)
}

/// The report for a site over `[from, to)` (unix ms; callers bound the range).
pub async fn report(store: &Store, site: &Site, from: i64, to: i64) -> Result<Report, StoreError> {
    let starts = store.conversation_starts(&site.id, from, to).await?;
    let handling = store.handling(&site.id, from, to).await?;
    let tickets: Vec<_> = store
        .ticket_stats_rows(&site.id, from)
        .await?
        .into_iter()
        .filter(|t| t.created_at < to)
        .collect();
    let mut by_reason = BTreeMap::new();
    let mut first = Vec::new();
    for t in &tickets {
        for r in &t.reasons {
            *by_reason.entry(r.as_str().to_string()).or_default() += 1;
        }
        if let Some(at) = t.first_response_at {
            first.push(at - t.created_at);
        }
    }
    let (up, down) = store.feedback_between(&site.id, from, to).await?;
    let mut gaps: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
    for g in store.gaps(&site.id, 5_000).await? {
        if g.created_at < from || g.created_at >= to {
            continue;
        }
        let key = g.question.trim().to_lowercase();
        let e = gaps
            .entry(key)
            .or_insert((g.question.clone(), 0, g.created_at));
        e.1 += 1;
        e.2 = e.2.max(g.created_at);
    }
    let mut top: Vec<GapCount> = gaps
        .into_values()
        .map(|(question, count, last)| GapCount {
            question,
            count,
            last_asked_at: rfc3339(last),
        })
        .collect();
    top.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.last_asked_at.cmp(&a.last_asked_at))
    });
    top.truncate(10);
    Ok(Report {
        from: rfc3339(from),
        to: rfc3339(to),
        conversations_per_day: per_day(&starts, from, to),
        conversations: handling.conversations,
        bot_answered: handling.bot_answered,
        deflected: handling.deflected,
        deflection_rate: (handling.conversations > 0)
            .then(|| handling.deflected as f64 / handling.conversations as f64),
        escalations: tickets.len() as i64,
        escalations_by_reason: by_reason,
        median_first_response_secs: median(first),
        thumbs_up: up,
        thumbs_down: down,
        top_knowledge_gaps: top,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_zero_filled_utc_days() {
        let day = 86_400_000;
        let from = 20_000 * day;
        let days = per_day(
            &[from + 5, from + 2 * day + 7, from + 2 * day + 9],
            from,
            from + 3 * day,
        );
        let counts: Vec<i64> = days.iter().map(|d| d.count).collect();
        assert_eq!(counts, [1, 0, 2]);
        assert_eq!(days[0].day, "2024-10-04");
    }

    #[test]
    fn medians_are_in_seconds() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3_000, 1_000, 2_000]), Some(2.0));
        assert_eq!(median(vec![1_000, 4_000]), Some(2.5));
    }
}
