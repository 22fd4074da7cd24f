//! How the bot finds passages and writes an answer from them, whoever reads it: a visitor's
//! conversation (a streaming message) or the owner's "Ask your docs" (a streamed HTTP
//! answer). Retrieval and its confidence gate, the LLM answer with its fallback to the
//! extractive one, citations and LLM usage are decided here once for both.

use concierge_protocol::Source;
use futures_util::StreamExt;
use tracing::Instrument;

use super::{Bot, BotError, DONT_KNOW};
use crate::chat::{Chat, StreamHandle};
use crate::rag::answer::{extractive, source_of, Composed};
use crate::rag::llm::{grounded_prompt, Llm, LlmEvent, PromptSource, Role};
use crate::rag::pii::mask_pii;
use crate::rag::{Hit, RagError, SearchMode, SearchOutcome};

/// Where an answer's text goes as it is written.
#[async_trait::async_trait]
pub trait AnswerSink: Send {
    /// Appends `text`; an error stops the answer (its reader went away, or storing failed).
    async fn write(&mut self, text: &str) -> Result<(), BotError>;
}

/// A conversation's streaming bot message: stored and published piece by piece.
pub struct ConversationSink<'a> {
    pub chat: &'a Chat,
    pub stream: &'a mut StreamHandle,
}

#[async_trait::async_trait]
impl AnswerSink for ConversationSink<'_> {
    async fn write(&mut self, text: &str) -> Result<(), BotError> {
        Ok(self.chat.stream_delta(self.stream, text).await?)
    }
}

/// What retrieval found for a question, and whether it is good enough to answer from.
#[derive(Debug, Clone)]
pub struct Retrieval {
    pub outcome: SearchOutcome,
    /// The site's confidence threshold (cosine similarity of the best passage).
    pub min_similarity: f32,
}

impl Retrieval {
    /// The passages to answer from and cite, or `None` when the best one is below the
    /// threshold (the bot says it does not know).
    pub fn answerable(&self) -> Option<Vec<Hit>> {
        if self.outcome.hits.is_empty() || self.outcome.best_similarity < self.min_similarity {
            return None;
        }
        // Passages weaker than the gate are not worth citing.
        Some(
            self.outcome
                .hits
                .iter()
                .filter(|h| h.similarity.is_none_or(|s| s >= self.min_similarity * 0.8))
                .cloned()
                .collect(),
        )
    }
}

/// An answer as written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The whole text the sink received.
    pub text: String,
    pub sources: Vec<Source>,
    /// False when the bot had nothing to quote and said it does not know.
    pub answered: bool,
}

/// Records what the sink received, so the caller gets the whole text back.
struct Recording<'a> {
    inner: &'a mut dyn AnswerSink,
    text: String,
}

impl Recording<'_> {
    async fn write(&mut self, text: &str) -> Result<(), BotError> {
        self.inner.write(text).await?;
        self.text.push_str(text);
        Ok(())
    }
}

impl Bot {
    /// The passages for `question` on the site, as the bot searches before answering.
    pub async fn retrieve(&self, site_id: &str, question: &str) -> Result<Retrieval, RagError> {
        let kb = &self.knowledge;
        let outcome = kb
            .search(
                site_id,
                question,
                kb.config.answer_passages,
                SearchMode::Hybrid,
            )
            .await?;
        Ok(Retrieval {
            outcome,
            min_similarity: kb.config.min_similarity,
        })
    }

    /// Writes the answer to `question` from `hits` into `sink`: the site's LLM's (its own,
    /// else the server's; none when the site chose extractive answers) when it answers, else
    /// the extractive one (in pieces, so it streams too).
    /// `history` is the conversation before the question, for the LLM.
    pub async fn write_answer(
        &self,
        site_id: &str,
        question: &str,
        history: &[(Role, String)],
        hits: &[Hit],
        sink: &mut dyn AnswerSink,
    ) -> Result<Written, BotError> {
        let mut sink = Recording {
            inner: sink,
            text: String::new(),
        };
        let sources = match self.knowledge.llm_for(site_id).await {
            Some(llm) => {
                self.stream_llm(llm.as_ref(), site_id, question, history, hits, &mut sink)
                    .instrument(tracing::info_span!("llm"))
                    .await
            }
            None => None,
        };
        let (sources, answered) = match sources {
            Some(s) => (s, true),
            // No LLM, or it failed before its first token: the extractive answer.
            None => self.stream_extractive(question, hits, &mut sink).await?,
        };
        Ok(Written {
            text: sink.text,
            sources,
            answered,
        })
    }

    async fn stream_extractive(
        &self,
        question: &str,
        hits: &[Hit],
        sink: &mut Recording<'_>,
    ) -> Result<(Vec<Source>, bool), BotError> {
        let Some(Composed { text, sources }) = extractive(question, hits) else {
            sink.write(DONT_KNOW).await?;
            return Ok((Vec::new(), false));
        };
        for piece in pieces(&text, 4) {
            sink.write(piece).await?;
        }
        Ok((sources, true))
    }

    /// Streams the LLM's answer and records its token usage. Returns the cited sources, or
    /// `None` if the LLM failed before writing anything (the caller falls back to the
    /// extractive answer).
    async fn stream_llm(
        &self,
        llm: &dyn Llm,
        site_id: &str,
        question: &str,
        history: &[(Role, String)],
        hits: &[Hit],
        sink: &mut Recording<'_>,
    ) -> Option<Vec<Source>> {
        let prompt_sources: Vec<PromptSource> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| PromptSource {
                number: i + 1,
                title: h.chunk.heading.clone(),
                text: mask_pii(&h.chunk.text),
            })
            .collect();
        let request = grounded_prompt(&mask_pii(question), history, &prompt_sources);
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
                    if let Err(e) = sink.write(&text).await {
                        tracing::warn!(error = %e, "writing a delta failed");
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
        tracing::info!(prompt_tokens, completion_tokens, "LLM answered");
        if let Err(e) = self
            .knowledge
            .store
            .record_llm_usage(site_id, prompt_tokens, completion_tokens)
            .await
        {
            tracing::warn!(error = %e, "LLM usage not recorded");
        }
        Some(cited_sources(&written, hits))
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
