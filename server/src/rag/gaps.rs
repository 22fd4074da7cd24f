//! Knowledge gaps as the owner reviews them: one group per question however it was worded
//! (case, spacing and trailing punctuation aside), most asked first, and groups the owner
//! dismissed hidden until the question is asked again.

use std::collections::HashMap;

use concierge_protocol::kb_api::KnowledgeGapGroup;

use super::{Knowledge, RagError};
use crate::store::{hash_token, rfc3339};

/// Gaps read per listing, most recent first: enough to rank what to write next.
const GAPS_READ: i64 = 10_000;

/// The question as a group's key sees it: lower case, trimmed, inner whitespace collapsed,
/// trailing punctuation removed.
pub fn normalize_question(question: &str) -> String {
    let words = question.to_lowercase();
    let collapsed = words.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_end_matches(|c: char| {
            c.is_whitespace() || c.is_ascii_punctuation() || "…。？！؟、，；：".contains(c)
        })
        .to_string()
}

/// The group key of a question: URL-safe and stable across restarts and versions (the hex
/// sha256 of the normalized question).
pub fn gap_key(question: &str) -> String {
    hash_token(&normalize_question(question))
}

impl Knowledge {
    /// The site's knowledge-gap groups not dismissed since last asked, most asked first,
    /// then most recent. A dismissed group counts only the times asked after its dismissal.
    pub async fn gap_groups(&self, site_id: &str) -> Result<Vec<KnowledgeGapGroup>, RagError> {
        let dismissed = self.store.gap_dismissals(site_id).await?;
        let mut groups: HashMap<String, (KnowledgeGapGroup, i64)> = HashMap::new();
        // Newest first: the first gap of a group gives its wording and conversation.
        for gap in self.store.gaps(site_id, GAPS_READ).await? {
            let key = gap_key(&gap.question);
            if dismissed.get(&key).is_some_and(|&at| gap.created_at <= at) {
                continue;
            }
            let (group, _) = groups.entry(key.clone()).or_insert_with(|| {
                (
                    KnowledgeGapGroup {
                        id: key,
                        question: gap.question.clone(),
                        count: 0,
                        last_asked_at: rfc3339(gap.created_at),
                        best_score: gap.best_score,
                        conversation_id: gap.conversation_id.clone(),
                    },
                    gap.created_at,
                )
            });
            group.count += 1;
            group.best_score = group.best_score.max(gap.best_score);
        }
        let mut groups: Vec<(KnowledgeGapGroup, i64)> = groups.into_values().collect();
        groups.sort_by(|(a, a_at), (b, b_at)| {
            b.count
                .cmp(&a.count)
                .then(b_at.cmp(a_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(groups.into_iter().map(|(g, _)| g).collect())
    }

    /// Hides the group `key` until its question is asked again. False when the site has no
    /// gap with this key.
    pub async fn dismiss_gap(
        &self,
        site_id: &str,
        key: &str,
        agent_id: &str,
    ) -> Result<bool, RagError> {
        let known = self
            .store
            .gaps(site_id, GAPS_READ)
            .await?
            .iter()
            .any(|g| gap_key(&g.question) == key);
        if !known {
            return Ok(false);
        }
        self.store.dismiss_gap(site_id, key, agent_id).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordings_of_one_question_share_a_key() {
        let key = gap_key("Do you ship to Mars?");
        for wording in [
            "do you ship to mars",
            "  Do   you ship\tto MARS ?? ",
            "Do you ship to Mars?!.",
            "do you ship to mars？",
        ] {
            assert_eq!(gap_key(wording), key, "{wording}");
        }
        assert_ne!(gap_key("Do you ship to Venus?"), key);
        assert_eq!(
            normalize_question("  Where IS my   order?? "),
            "where is my order"
        );
        assert_eq!(key.len(), 64);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
