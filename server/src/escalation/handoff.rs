//! The handoff packet: what an agent reads before taking a conversation over. Built from the
//! stored transcript and signals without I/O; an LLM may refine the summary later.

use concierge_protocol::{Author, EscalationReason as Reason, Handoff, MoodPoint, Source};

use crate::store::{MessageRecord, SignalRecord, TurnOutcome};

/// Longest quote of the visitor in the summary.
const QUOTE_CHARS: usize = 160;
/// Most sources listed.
const MAX_SOURCES: usize = 5;

fn quote(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= QUOTE_CHARS {
        return format!("\u{201c}{text}\u{201d}");
    }
    let cut: String = text.chars().take(QUOTE_CHARS - 1).collect();
    format!("\u{201c}{}\u{2026}\u{201d}", cut.trim_end())
}

fn mood_word(mood: f32) -> &'static str {
    match mood {
        m if m <= -0.5 => "angry",
        m if m <= -0.2 => "unhappy",
        m if m < 0.2 => "neutral",
        _ => "positive",
    }
}

/// A few lines from the visitor's own words: what they first asked, what the bot managed,
/// what they said last, and how they feel.
pub fn extractive_summary(messages: &[MessageRecord], signals: &[SignalRecord]) -> String {
    let visitor: Vec<&MessageRecord> = messages
        .iter()
        .filter(|m| m.author == Author::Visitor)
        .collect();
    let mut lines = Vec::new();
    match visitor.as_slice() {
        [] => lines.push("The visitor has not written anything yet.".to_string()),
        [only] => lines.push(format!("Visitor wrote: {}.", quote(&only.text))),
        [first, .., last] => {
            lines.push(format!(
                "Visitor first asked: {} ({} messages in all).",
                quote(&first.text),
                visitor.len()
            ));
            lines.push(format!("Latest: {}.", quote(&last.text)));
        }
    }
    // What the bot did with each visitor message, as recorded with its signals.
    let count = |o: TurnOutcome| signals.iter().filter(|s| s.outcome == o).count();
    let (answered, failed) = (count(TurnOutcome::Answered), count(TurnOutcome::DontKnow));
    if answered + failed > 0 {
        lines.push(match (answered, failed) {
            (a, 0) => format!("The bot answered {a} time(s) from the help articles."),
            (0, f) => format!("The bot could not answer ({f} time(s))."),
            (a, f) => format!("The bot answered {a} time(s) and could not answer {f} time(s)."),
        });
    }
    if let Some(last) = signals.last() {
        let trend = match signals.first() {
            Some(first) if signals.len() >= 2 && last.mood < first.mood - 0.2 => ", getting worse",
            Some(first) if signals.len() >= 2 && last.mood > first.mood + 0.2 => ", improving",
            _ => "",
        };
        lines.push(format!(
            "Mood: {} ({:+.2}{trend}).",
            mood_word(last.mood),
            last.mood
        ));
    }
    lines.join(" ")
}

/// The documents the bot cited, most recent answer first, each once.
pub fn cited_sources(messages: &[MessageRecord]) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for m in messages.iter().rev().filter(|m| m.author == Author::Bot) {
        for s in &m.sources {
            if out.len() < MAX_SOURCES && !out.iter().any(|o| o.document_id == s.document_id) {
                out.push(s.clone());
            }
        }
    }
    out
}

pub fn mood_timeline(signals: &[SignalRecord]) -> Vec<MoodPoint> {
    signals
        .iter()
        .map(|s| MoodPoint {
            seq: s.seq,
            sentiment: (s.sentiment * 1000.0).round() / 1000.0,
            mood: (s.mood * 1000.0).round() / 1000.0,
        })
        .collect()
}

pub fn build(messages: &[MessageRecord], signals: &[SignalRecord], reasons: &[Reason]) -> Handoff {
    Handoff {
        summary: extractive_summary(messages, signals),
        summary_by: "extractive".into(),
        sources: cited_sources(messages),
        mood: mood_timeline(signals),
        reasons: reasons.to_vec(),
    }
}

/// The transcript as the LLM summariser reads it.
pub fn transcript(messages: &[MessageRecord]) -> String {
    messages
        .iter()
        .filter(|m| !m.text.is_empty())
        .map(|m| {
            let who = match m.author {
                Author::Visitor => "Visitor",
                Author::Bot => "Bot",
                Author::Agent => "Agent",
                Author::System => "System",
            };
            format!("{who}: {}", m.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_protocol::MessageState;

    fn msg(seq: i64, author: Author, text: &str, sources: Vec<Source>) -> MessageRecord {
        MessageRecord {
            site_id: "s".into(),
            conversation_id: "c".into(),
            seq,
            author,
            agent_id: None,
            author_name: None,
            text: text.into(),
            state: MessageState::Complete,
            client_msg_id: None,
            created_at: 0,
            sources,
        }
    }

    fn signal(seq: i64, sentiment: f32, mood: f32, outcome: TurnOutcome) -> SignalRecord {
        SignalRecord {
            seq,
            vader: sentiment,
            sentiment,
            mood,
            intents: serde_json::json!({}),
            outcome,
            created_at: 0,
            text: String::new(),
        }
    }

    #[test]
    fn summary_quotes_the_visitor_and_counts_failures() {
        let source = Source {
            document_id: "refunds.md".into(),
            title: "Refunds".into(),
            url: None,
            section: String::new(),
            snippet: "Refunds take 5 days.".into(),
        };
        let messages = vec![
            msg(1, Author::Visitor, "How do refunds work?", vec![]),
            msg(
                2,
                Author::Bot,
                "Refunds take 5 days [1]",
                vec![source.clone()],
            ),
            msg(3, Author::Visitor, "Can I get one for a gift card?", vec![]),
            msg(4, Author::Bot, "I couldn't find an answer to that.", vec![]),
            msg(
                5,
                Author::Visitor,
                "this is useless, get me a human",
                vec![],
            ),
        ];
        let signals = vec![
            signal(1, 0.0, 0.0, TurnOutcome::Answered),
            signal(3, 0.0, 0.0, TurnOutcome::DontKnow),
            signal(5, -0.8, -0.45, TurnOutcome::Escalated),
        ];
        let h = build(&messages, &signals, &[Reason::AskedForHuman]);
        assert!(h.summary.contains("How do refunds work?"), "{}", h.summary);
        assert!(h.summary.contains("get me a human"), "{}", h.summary);
        assert!(h.summary.contains("3 messages"), "{}", h.summary);
        assert!(
            h.summary
                .contains("answered 1 time(s) and could not answer 1"),
            "{}",
            h.summary
        );
        assert!(
            h.summary.contains("unhappy") && h.summary.contains("getting worse"),
            "{}",
            h.summary
        );
        assert_eq!(h.sources, vec![source]);
        assert_eq!(h.mood.len(), 3);
        assert_eq!(h.mood[2].mood, -0.45);
        assert_eq!(h.reasons, vec![Reason::AskedForHuman]);
        assert_eq!(h.summary_by, "extractive");
    }

    #[test]
    fn long_quotes_are_cut() {
        let long = "word ".repeat(100);
        let q = quote(&long);
        assert!(q.chars().count() <= QUOTE_CHARS + 2);
        assert!(q.ends_with("\u{2026}\u{201d}"));
        assert_eq!(
            extractive_summary(&[], &[]),
            "The visitor has not written anything yet."
        );
    }
}
