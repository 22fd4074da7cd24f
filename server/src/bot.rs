//! The bot: answers each new visitor message of a conversation it is handling, from the site's
//! knowledge base, streamed token by token with citations, or says it does not know and
//! offers a human.
//!
//! A site without any document has no bot: its conversations are live chat with agents only.
//! One answer at a time per conversation (a second question waits for the first answer), and
//! the conversation is re-read before answering so a human who took over is never talked over.

mod quota;

use std::sync::Arc;

use concierge_protocol::{ConversationStatus, Phase, Source};
use dashmap::DashMap;
use futures_util::StreamExt;
use tokio::sync::Mutex;
use tokio_util::task::TaskTracker;

use crate::chat::{Chat, StreamHandle};
use crate::escalation::{Assessment, Escalations};
use crate::rag::answer::{extractive, source_of, Composed};
use crate::rag::llm::{grounded_prompt, LlmEvent, PromptSource, Role};
use crate::rag::pii::mask_pii;
use crate::rag::{Hit, Knowledge, RagError, SearchMode};
use crate::store::{ConversationRecord, MessageRecord};

/// What the bot says when retrieval finds nothing good enough.
pub const DONT_KNOW: &str = "I couldn't find an answer to that in our help articles, and I \
don't want to guess. Would you like to talk to a person from our team? They can pick this up \
right here.";

/// What the bot says when it cannot search at all (model or index unavailable).
pub const CANNOT_SEARCH: &str = "I can't look through our help articles right now. Would you \
like to talk to a person from our team instead?";

/// Visitor turns (and answers) the LLM sees besides the question.
const HISTORY_MESSAGES: i64 = 6;

pub struct Bot {
    pub chat: Arc<Chat>,
    pub knowledge: Arc<Knowledge>,
    /// Scores each visitor message and escalates before (or instead of) answering.
    pub escalations: Arc<Escalations>,
    /// Serialises answers per conversation.
    turns: DashMap<String, Arc<Mutex<()>>>,
    /// Answers in flight, so shutdown can wait for them.
    pub tasks: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Chat(#[from] crate::chat::ChatError),
    #[error(transparent)]
    Rag(#[from] RagError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Bot {
    pub fn new(chat: Arc<Chat>, knowledge: Arc<Knowledge>, escalations: Arc<Escalations>) -> Self {
        Bot {
            chat,
            knowledge,
            escalations,
            turns: DashMap::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Assesses `message` (sentiment, escalation) and, if the bot handles the conversation,
    /// answers it, in the background.
    pub fn on_visitor_message(
        self: &Arc<Self>,
        conversation: &ConversationRecord,
        message: MessageRecord,
    ) {
        let bot = self.clone();
        let conversation_id = conversation.id.clone();
        let site_id = conversation.site_id.clone();
        self.tasks.spawn(async move {
            if let Err(e) = bot.answer(&site_id, &conversation_id, &message).await {
                tracing::warn!(error = %e, conversation = %conversation_id, "bot answer failed");
            }
        });
    }

    /// Answers one visitor message; returns the bot's message (None when a human handles the
    /// conversation).
    pub async fn answer(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let turn = self
            .turns
            .entry(conversation_id.to_string())
            .or_default()
            .clone();
        let _turn = turn.lock().await;
        let result = self.answer_locked(site_id, conversation_id, question).await;
        drop(_turn);
        self.turns
            .remove_if(conversation_id, |_, t| Arc::strong_count(t) == 1);
        result
    }

    async fn answer_locked(
        &self,
        site_id: &str,
        conversation_id: &str,
        question: &MessageRecord,
    ) -> Result<Option<MessageRecord>, BotError> {
        let Some(conversation) = self
            .chat
            .store
            .conversation(site_id, conversation_id)
            .await?
        else {
            return Ok(None);
        };
        let kb = &self.knowledge;
        // A site without documents uses Concierge as live chat only: the bot stays silent.
        let has_documents = kb.store.count_chunks(site_id).await? > 0;
        // Every visitor message is assessed, whoever answers it: the mood is shown to agents,
        // an email left for an offline team is captured, and the bot's conversations escalate.
        let assessment = match self
            .escalations
            .on_visitor_message(&conversation, question, has_documents)
            .await
        {
            Ok(a) if a.escalated => return Ok(None),
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "escalation assessment failed; answering anyway");
                None
            }
        };
        if conversation.status != ConversationStatus::Bot {
            return Ok(None);
        }
        if !has_documents {
            self.outcome(&conversation, &assessment, "silent").await;
            return Ok(None);
        }
        if !self.reserve(&conversation, question).await {
            self.outcome(&conversation, &assessment, "escalated").await;
            return Ok(None);
        }
        self.chat.bot_phase(&conversation, Phase::Searching).await;
        let outcome = match kb
            .search(
                site_id,
                &question.text,
                kb.config.answer_passages,
                SearchMode::Hybrid,
            )
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => {
                // The visitor is told at once rather than left with "searching" forever.
                tracing::error!(error = %e, "knowledge search failed; the bot cannot answer");
                if self.failed(&conversation, &assessment).await {
                    return Ok(None);
                }
                let m = self.chat.bot_message(&conversation, CANNOT_SEARCH).await?;
                return Ok(Some(m));
            }
        };
        if outcome.hits.is_empty() || outcome.best_similarity < kb.config.min_similarity {
            kb.store
                .record_gap(
                    site_id,
                    Some(conversation_id),
                    &question.text,
                    outcome.best_similarity as f64,
                )
                .await?;
            if self.failed(&conversation, &assessment).await {
                return Ok(None);
            }
            let m = self.chat.bot_message(&conversation, DONT_KNOW).await?;
            return Ok(Some(m));
        }
        // Passages weaker than the gate are not worth citing.
        let hits: Vec<Hit> = outcome
            .hits
            .into_iter()
            .filter(|h| {
                h.similarity
                    .is_none_or(|s| s >= kb.config.min_similarity * 0.8)
            })
            .collect();
        self.chat.bot_phase(&conversation, Phase::Writing).await;
        let mut stream = self
            .chat
            .start_stream(&conversation, concierge_protocol::Author::Bot)
            .await?;
        let sources = match &kb.llm {
            Some(_) => {
                self.stream_llm(&conversation, question, &hits, &mut stream)
                    .await
            }
            None => None,
        };
        let sources = match sources {
            Some(s) => s,
            // No LLM, or it failed before its first token: the extractive answer.
            None => {
                self.stream_extractive(&question.text, &hits, &mut stream)
                    .await?
            }
        };
        let m = self.chat.finish_stream(stream, &sources).await?;
        let outcome = if m.text == DONT_KNOW {
            "dont_know"
        } else {
            "answered"
        };
        self.outcome(&conversation, &assessment, outcome).await;
        Ok(Some(m))
    }

    /// Records the message's signals with what the bot did (mood, failure streak).
    async fn outcome(
        &self,
        conversation: &ConversationRecord,
        assessment: &Option<Assessment>,
        outcome: &str,
    ) {
        let Some(a) = assessment else {
            return;
        };
        if let Err(e) = self.escalations.record(conversation, a, outcome).await {
            tracing::warn!(error = %e, "message signals not recorded");
        }
    }

    /// The bot cannot answer: escalates instead when that is one failure too many (true), or
    /// records the failure (false) before the bot says so.
    async fn failed(
        &self,
        conversation: &ConversationRecord,
        assessment: &Option<Assessment>,
    ) -> bool {
        if let Some(a) = assessment {
            match self.escalations.on_failure(conversation, a).await {
                Ok(true) => return true,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "escalation after a failure did not happen"),
            }
        }
        self.outcome(conversation, assessment, "dont_know").await;
        false
    }

    async fn stream_extractive(
        &self,
        question: &str,
        hits: &[Hit],
        stream: &mut StreamHandle,
    ) -> Result<Vec<Source>, BotError> {
        let Some(Composed { text, sources }) = extractive(question, hits) else {
            self.chat.stream_delta(stream, DONT_KNOW).await?;
            return Ok(Vec::new());
        };
        for piece in pieces(&text, 4) {
            self.chat.stream_delta(stream, piece).await?;
        }
        Ok(sources)
    }

    /// Streams the LLM's answer. Returns the cited sources, or `None` if the LLM failed before
    /// writing anything (the caller falls back to the extractive answer).
    async fn stream_llm(
        &self,
        conversation: &ConversationRecord,
        question: &MessageRecord,
        hits: &[Hit],
        stream: &mut StreamHandle,
    ) -> Option<Vec<Source>> {
        let llm = self.knowledge.llm.as_ref()?;
        let history = self.history(conversation, question.seq).await;
        let prompt_sources: Vec<PromptSource> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| PromptSource {
                number: i + 1,
                title: h.chunk.heading.clone(),
                text: mask_pii(&h.chunk.text),
            })
            .collect();
        let request = grounded_prompt(&mask_pii(&question.text), &history, &prompt_sources);
        let prompt_chars: usize = request
            .messages
            .iter()
            .map(|(_, t)| t.chars().count())
            .sum();
        let mut events = match llm.stream(request).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "LLM unavailable; answering extractively");
                return None;
            }
        };
        let mut written = String::new();
        let mut usage = (None, None);
        while let Some(event) = events.next().await {
            match event {
                Ok(LlmEvent::Delta(text)) => {
                    if let Err(e) = self.chat.stream_delta(stream, &text).await {
                        tracing::warn!(error = %e, "storing a delta failed");
                        break;
                    }
                    written.push_str(&text);
                }
                Ok(LlmEvent::Done {
                    prompt_tokens,
                    completion_tokens,
                }) => usage = (prompt_tokens, completion_tokens),
                Err(e) => {
                    tracing::warn!(error = %e, "LLM stream ended early");
                    if written.is_empty() {
                        return None;
                    }
                    break;
                }
            }
        }
        if written.trim().is_empty() {
            return None;
        }
        let prompt_tokens = usage.0.map(i64::from).unwrap_or((prompt_chars / 4) as i64);
        let completion_tokens = usage
            .1
            .map(i64::from)
            .unwrap_or((written.chars().count() / 4) as i64);
        if let Err(e) = self
            .knowledge
            .store
            .record_llm_usage(&conversation.site_id, prompt_tokens, completion_tokens)
            .await
        {
            tracing::warn!(error = %e, "LLM usage not recorded");
        }
        Some(cited_sources(&written, hits))
    }

    /// Recent turns before the question, oldest first, with PII masked.
    async fn history(
        &self,
        conversation: &ConversationRecord,
        before_seq: i64,
    ) -> Vec<(Role, String)> {
        let after = (before_seq - 1 - HISTORY_MESSAGES).max(0);
        let messages = self
            .chat
            .store
            .messages_after(
                &conversation.site_id,
                &conversation.id,
                after,
                HISTORY_MESSAGES,
            )
            .await
            .unwrap_or_default();
        messages
            .into_iter()
            .filter(|m| m.seq < before_seq && !m.text.is_empty())
            .map(|m| {
                let role = match m.author {
                    concierge_protocol::Author::Visitor => Role::User,
                    _ => Role::Assistant,
                };
                (role, mask_pii(&m.text))
            })
            .collect()
    }
}

/// The sources an LLM answer cites with `[n]`, in citation order; all passages when it cites
/// none (it was told to cite, so they are what it read).
fn cited_sources(text: &str, hits: &[Hit]) -> Vec<Source> {
    let mut cited: Vec<usize> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with(']') {
            if let Ok(n) = digits.parse::<usize>() {
                if (1..=hits.len()).contains(&n) && !cited.contains(&n) {
                    cited.push(n);
                }
            }
        }
    }
    if cited.is_empty() {
        cited = (1..=hits.len()).collect();
    }
    cited
        .into_iter()
        .map(|n| source_of(&hits[n - 1], None))
        .collect()
}

/// Splits text into pieces of about `words` words, keeping the whitespace, so the pieces
/// concatenate back to exactly `text`.
fn pieces(text: &str, words: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut count = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word {
                count += 1;
                in_word = false;
                if count == words {
                    out.push(&text[start..i]);
                    start = i;
                    count = 0;
                }
            }
        } else {
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_concatenate_back_to_the_text() {
        let text = "Refunds are issued within 5 business days.\n\nSee billing [1]";
        let p = pieces(text, 3);
        assert!(p.len() >= 3);
        assert_eq!(p.concat(), text);
        assert_eq!(pieces("one", 4), vec!["one"]);
        assert!(pieces("", 4).is_empty());
    }
}
