//! "Replay recent conversations" (the dashboard's escalation settings): the visitor turns of
//! a site's last conversations through `concierge triage`'s path ([`Triage`]), once under a
//! policy the owner has not saved and once under the saved one, so the owner sees what the
//! change would do before saving it. Nothing is written: no signal, ticket or status.

use std::collections::HashMap;

use concierge_protocol::site_api::{ReplayExample, ReplayView};

use super::triage::Triage;
use super::Escalations;
use crate::sentiment::{EscalationPolicy, Reason};
use crate::store::StoreError;

/// Conversations replayed when the request names no number.
pub const DEFAULT_LAST: u32 = 200;
/// The most conversations one replay reads.
pub const MAX_LAST: u32 = 1000;
/// Examples in an answer.
const EXAMPLES: usize = 10;
/// Characters of a first message shown in an example.
const FIRST_MESSAGE_CHARS: usize = 200;

/// Replays the site's last `last` conversations with a visitor message under `policy` and
/// under the saved policy.
pub async fn replay_recent(
    escalations: &Escalations,
    site_id: &str,
    policy: EscalationPolicy,
    last: u32,
) -> Result<ReplayView, StoreError> {
    let store = &escalations.chat.store;
    let conversations = store
        .recent_visitor_turns(site_id, i64::from(last.clamp(1, MAX_LAST)))
        .await?;
    // The live path never waits for the classifier; a replay does, so every turn is scored
    // alike (the CLI waits the same way).
    escalations.model().await;
    let saved = escalations.policy(site_id).await;
    let proposed = first_escalations(escalations, site_id, &policy, &conversations).await;
    let current = match saved == policy {
        true => proposed.clone(),
        false => first_escalations(escalations, site_id, &saved, &conversations).await,
    };
    let mut view = ReplayView {
        conversations: count(conversations.len()),
        turns: count(conversations.iter().map(|(_, turns)| turns.len()).sum()),
        would_escalate: count(proposed.len()),
        escalated_now: count(current.len()),
        newly_escalated: count(
            proposed
                .keys()
                .filter(|id| !current.contains_key(*id))
                .count(),
        ),
        no_longer_escalated: count(
            current
                .keys()
                .filter(|id| !proposed.contains_key(*id))
                .count(),
        ),
        examples: Vec::new(),
    };
    // The newly escalated first, then the others; the most recent first within each.
    let mut examples: Vec<ReplayExample> = conversations
        .iter()
        .rev()
        .filter_map(|(id, turns)| {
            let reasons = proposed.get(id)?;
            let reasons: Vec<String> = reasons.iter().map(|r| r.as_str().to_string()).collect();
            Some(ReplayExample {
                conversation_id: id.clone(),
                first_message: turns
                    .first()
                    .map(|t| t.chars().take(FIRST_MESSAGE_CHARS).collect())
                    .unwrap_or_default(),
                reason: reasons.first().cloned().unwrap_or_default(),
                reasons,
                newly_escalated: !current.contains_key(id),
            })
        })
        .collect();
    examples.sort_by_key(|e| !e.newly_escalated);
    examples.truncate(EXAMPLES);
    view.examples = examples;
    Ok(view)
}

/// The conversations that escalate under `policy`, each with the reasons of the turn that
/// escalates it first. Later turns are not replayed: live, a person has them.
async fn first_escalations(
    escalations: &Escalations,
    site_id: &str,
    policy: &EscalationPolicy,
    conversations: &[(String, Vec<String>)],
) -> HashMap<String, Vec<Reason>> {
    let mut triage = Triage::for_site(escalations, site_id.to_string(), policy.clone()).await;
    let mut escalated = HashMap::new();
    for (id, turns) in conversations {
        for text in turns {
            let verdict = triage.judge(id, text).await;
            if verdict.decision.escalates() {
                escalated.insert(id.clone(), verdict.decision.reasons);
                break;
            }
        }
    }
    escalated
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
