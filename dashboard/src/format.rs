//! Times, moods, reasons and statuses as the agent reads them. Pure: unit-tested on the host.

use concierge_protocol::{ConversationStatus, Priority, TicketStatus};

/// Milliseconds since the Unix epoch of an RFC 3339 UTC time (`2026-12-05T10:00:00.123Z` or
/// with `+00:00`); `None` when it is not one.
pub fn parse_time(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    let mut millis = 0.0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        rest = &frac[digits.len()..];
        let first3: String = digits.chars().chain("000".chars()).take(3).collect();
        millis = first3.parse::<f64>().ok()?;
    }
    let offset_min = match rest {
        "Z" | "z" | "+00:00" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o[1..3].parse::<i64>().ok()? * 60 + o[4..6].parse::<i64>().ok()?)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3_600 + mi * 60 + sec - offset_min * 60;
    Some(secs as f64 * 1000.0 + millis)
}

/// "just now", "4 min", "2 h", "3 d": how long ago, short.
pub fn ago(then_ms: f64, now_ms: f64) -> String {
    let secs = ((now_ms - then_ms) / 1000.0).max(0.0) as i64;
    match secs {
        0..=44 => "just now".into(),
        45..=3_599 => format!("{} min", (secs + 30) / 60),
        3_600..=86_399 => format!("{} h", secs / 3_600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// "just now" or "4 min ago".
pub fn ago_sentence(then_ms: f64, now_ms: f64) -> String {
    match ago(then_ms, now_ms) {
        s if s == "just now" => s,
        s => format!("{s} ago"),
    }
}

/// "1:05", "12:40", "1:02:03": a running timer.
pub fn duration(ms: f64) -> String {
    let secs = (ms / 1000.0).max(0.0) as i64;
    let (h, m, s) = (secs / 3_600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The mood band of a -1..1 trend, as a word.
pub fn mood(m: Option<f32>) -> &'static str {
    match m {
        None => "No mood yet",
        Some(m) if m <= -0.3 => "Upset",
        Some(m) if m < 0.2 => "Neutral",
        Some(_) => "Happy",
    }
}

/// A CSS class for the mood band.
pub fn mood_class(m: Option<f32>) -> &'static str {
    match m {
        None => "mood mood-none",
        Some(m) if m <= -0.3 => "mood mood-negative",
        Some(m) if m < 0.2 => "mood mood-neutral",
        Some(_) => "mood mood-positive",
    }
}

pub fn status(s: ConversationStatus) -> &'static str {
    match s {
        ConversationStatus::Bot => "Bot answering",
        ConversationStatus::Waiting => "Waiting for a person",
        ConversationStatus::Agent => "With an agent",
        ConversationStatus::Resolved => "Resolved",
    }
}

pub fn ticket_status(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Open => "Open",
        TicketStatus::Pending => "Pending",
        TicketStatus::Solved => "Solved",
    }
}

pub fn priority(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "Urgent",
        Priority::High => "High",
        Priority::Normal => "Normal",
    }
}

/// An escalation reason as a phrase.
pub fn reason(r: &str) -> String {
    match r {
        "asked_for_human" | "human_request" => "Asked for a person".into(),
        "negative_mood" => "Upset".into(),
        "repeated_failure" => "The bot could not answer".into(),
        "repeated_question" => "Asked the same question again".into(),
        "thumbs_down" => "Thumbs down on an answer".into(),
        "complaint" => "Asked to file a complaint".into(),
        "account_security" => "Hacked account or fraud".into(),
        "problem" => "Described a problem".into(),
        "cancel_refund" => "Cancellation or refund".into(),
        "legal_threat" => "Legal threat".into(),
        "urgency" => "Urgent".into(),
        "quota_reached" => "Plan limit reached: the bot is paused".into(),
        other => other.replace('_', " "),
    }
}

/// Only http(s) links are ever made clickable.
pub fn safe_link(url: &str) -> Option<&str> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(url.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_epoch_millis() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(
            parse_time("2026-12-05T10:00:00.123Z"),
            Some(1_796_464_800_123.0)
        );
        assert_eq!(
            parse_time("2026-12-05T11:00:00+01:00"),
            parse_time("2026-12-05T10:00:00Z")
        );
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Some(951_782_400_000.0));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-12-05T10:00:00"), None);
    }

    #[test]
    fn durations_and_ages_read_short() {
        assert_eq!(ago(0.0, 10_000.0), "just now");
        assert_eq!(ago(0.0, 5.0 * 60_000.0), "5 min");
        assert_eq!(ago(0.0, 3.0 * 3_600_000.0), "3 h");
        assert_eq!(ago_sentence(0.0, 1_000.0), "just now");
        assert_eq!(ago_sentence(0.0, 3.0 * 3_600_000.0), "3 h ago");
        assert_eq!(duration(65_000.0), "1:05");
        assert_eq!(duration(3_723_000.0), "1:02:03");
    }

    #[test]
    fn moods_reasons_and_links_in_words() {
        assert_eq!(mood(Some(-0.8)), "Upset");
        assert_eq!(mood(Some(0.0)), "Neutral");
        assert_eq!(mood(Some(0.7)), "Happy");
        assert_eq!(reason("asked_for_human"), "Asked for a person");
        assert_eq!(reason("new_reason"), "new reason");
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link(" https://x.test/a"), Some("https://x.test/a"));
    }
}
