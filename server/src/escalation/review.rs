//! Asks the site's language model for its verdict on a turn the intent classifier is unsure
//! about (`EscalationPolicy::llm_review`; which turns, the prompt and how the verdict is read
//! are in `sentiment::review`). PII is masked before the text leaves, as for answers.

use std::time::Duration;

use futures::StreamExt;

use crate::rag::llm::{Llm, LlmEvent, LlmRequest, Role};
use crate::rag::pii::mask_pii;
use crate::sentiment::review::{parse_verdict, review_prompt, reviewed, Verdict, REVIEW_SYSTEM};
use crate::sentiment::{decide, Decision, EscalationPolicy, History, Signals};

/// Earlier visitor turns the reviewer reads.
pub const REVIEW_CONTEXT_TURNS: usize = 6;

/// Why no verdict came back; the turn is then decided by the classifier alone.
#[derive(Debug, Clone, PartialEq, Eq, strum::IntoStaticStr)]
#[cfg_attr(test, derive(strum::EnumIter))]
#[strum(serialize_all = "snake_case")]
pub enum ReviewFailure {
    /// No complete answer within the policy's `llm_review_timeout_ms`.
    Timeout,
    /// The model could not be reached or broke off.
    #[strum(serialize = "error")]
    Llm(String),
    /// It answered with none of the five words.
    Unreadable(String),
}

impl ReviewFailure {
    /// How `concierge triage` reports it (next to [`Verdict::as_str`]).
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// One review: the visitor's earlier turns (oldest first) and the one to judge.
pub async fn review(
    llm: &dyn Llm,
    earlier: &[&str],
    latest: &str,
    timeout: Duration,
) -> Result<Verdict, ReviewFailure> {
    let earlier: Vec<String> = earlier.iter().map(|t| mask_pii(t)).collect();
    let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
    let request = LlmRequest {
        messages: vec![
            (Role::System, REVIEW_SYSTEM.to_string()),
            (
                Role::User,
                review_prompt(&earlier, &mask_pii(latest), REVIEW_CONTEXT_TURNS),
            ),
        ],
        // One word is asked for; a little room for "Answer: complaint." and the like.
        max_tokens: Some(12),
        temperature: Some(0.0),
    };
    let collect = async {
        let mut events = llm
            .stream(request)
            .await
            .map_err(|e| ReviewFailure::Llm(e.to_string()))?;
        let mut text = String::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(LlmEvent::Delta(t)) => text.push_str(&t),
                Ok(LlmEvent::Done { .. }) => break,
                Err(e) => return Err(ReviewFailure::Llm(e.to_string())),
            }
        }
        parse_verdict(&text).ok_or(ReviewFailure::Unreadable(text))
    };
    match tokio::time::timeout(timeout, collect).await {
        Ok(result) => result,
        Err(_) => Err(ReviewFailure::Timeout),
    }
}

/// Reviews an unsure turn (the caller checked `needs_review`) and decides it on the signals
/// the verdict leaves; without a verdict, on the classifier's. Returns the signals, the
/// decision and what the review gave.
pub async fn review_and_decide(
    llm: &dyn Llm,
    policy: &EscalationPolicy,
    signals: Signals,
    history: &History,
    earlier: &[&str],
    text: &str,
) -> (Signals, Decision, Result<Verdict, ReviewFailure>) {
    let timeout = Duration::from_millis(policy.llm_review_timeout_ms);
    let outcome = review(llm, earlier, text, timeout).await;
    let signals = match outcome {
        Ok(verdict) => reviewed(policy, &signals, text, verdict),
        Err(_) => signals,
    };
    let decision = decide(policy, &signals, history);
    (signals, decision, outcome)
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::ReviewFailure;

    #[test]
    fn review_failures_keep_the_words_triage_reports() {
        let names: Vec<&str> = ReviewFailure::iter().map(|f| f.as_str()).collect();
        assert_eq!(names, ["timeout", "error", "unreadable"]);
    }
}
