//! Composing an answer from retrieved passages without an LLM: the best passage's most
//! relevant sentences, copied verbatim in their original order, with a numbered citation; a
//! second source is added only when it clearly answers too. Nothing here invents text, so an
//! extractive answer is as trustworthy as the documents it quotes.
//!
//! Also the citations (`Source`) every answer carries, whoever wrote it.

use concierge_protocol::Source;

use super::search::Hit;
use super::terms::{content_words, stem};

/// Longest extractive answer, in characters.
const MAX_ANSWER_CHARS: usize = 700;
/// Longest snippet under a citation.
const MAX_SNIPPET_CHARS: usize = 300;

/// An answer's text and the sources its `[n]` markers point to.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub text: String,
    pub sources: Vec<Source>,
}

/// The citation for a hit, with `snippet` (or the chunk's start) shortened.
pub fn source_of(hit: &Hit, snippet: Option<&str>) -> Source {
    let chunk = &hit.chunk;
    Source {
        document_id: chunk.doc_key.clone(),
        title: chunk.title.clone(),
        url: chunk.url.clone(),
        section: chunk.heading.clone(),
        snippet: shorten(snippet.unwrap_or(&chunk.text), MAX_SNIPPET_CHARS),
    }
}

/// The extractive answer to `question` from `hits` (best first), or `None` without hits.
pub fn extractive(question: &str, hits: &[Hit]) -> Option<Composed> {
    let best = hits.first()?;
    let wanted: Vec<String> = content_words(question)
        .iter()
        .map(|w| stem(w).to_string())
        .collect();
    let first = pick_sentences(&best.chunk.text, &wanted, MAX_ANSWER_CHARS);
    if first.is_empty() {
        return None;
    }
    let first_text = first.join(" ");
    let mut text = format!("{first_text} [1]");
    let mut sources = vec![source_of(best, Some(&first_text))];
    // A second document earns a place only if one of its sentences covers most of the
    // question and the answer still has room.
    if let Some(second) = hits
        .iter()
        .skip(1)
        .take(2)
        .find(|h| h.chunk.document_id != best.chunk.document_id)
    {
        let room = MAX_ANSWER_CHARS.saturating_sub(text.chars().count());
        if let Some((sentence, coverage)) = best_sentence(&second.chunk.text, &wanted) {
            if coverage >= 0.6
                && sentence.chars().count() + 6 <= room
                && !first_text.contains(sentence)
            {
                text.push_str(&format!("\n\n{sentence} [2]"));
                sources.push(source_of(second, Some(sentence)));
            }
        }
    }
    Some(Composed { text, sources })
}

/// Sentences of a passage in their original order: the lead sentence (FAQ answers lead with
/// the answer), then those matching the question best, within `max_chars`.
fn pick_sentences<'a>(passage: &'a str, wanted: &[String], max_chars: usize) -> Vec<&'a str> {
    let sentences = split_sentences(passage);
    if sentences.is_empty() {
        return Vec::new();
    }
    let mut ranked: Vec<(usize, f32)> = sentences
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let lead = match i {
                0 => 0.5,
                1 => 0.2,
                _ => 0.0,
            };
            (i, coverage(s, wanted) + lead)
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut used = 0;
    for (i, score) in ranked {
        let len = sentences[i].chars().count() + 1;
        if !chosen.is_empty() && (score < 0.25 || used + len > max_chars) {
            continue;
        }
        if chosen.is_empty() && len > max_chars {
            // One giant sentence: quote its beginning rather than nothing.
            return vec![truncate_at_word(sentences[i], max_chars)];
        }
        chosen.push(i);
        used += len;
        if chosen.len() == 4 {
            break;
        }
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|i| sentences[i]).collect()
}

fn best_sentence<'a>(passage: &'a str, wanted: &[String]) -> Option<(&'a str, f32)> {
    split_sentences(passage)
        .into_iter()
        .map(|s| (s, coverage(s, wanted)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Share of the question's words (stemmed) present in `sentence`.
fn coverage(sentence: &str, wanted: &[String]) -> f32 {
    if wanted.is_empty() {
        return 0.0;
    }
    let have: Vec<String> = content_words(sentence)
        .iter()
        .map(|w| stem(w).to_string())
        .collect();
    let hits = wanted.iter().filter(|w| have.contains(w)).count();
    hits as f32 / wanted.len() as f32
}

/// Splits on sentence ends (. ! ? followed by whitespace) and on line breaks, keeping the
/// punctuation; list items and headings become sentences of their own.
pub fn split_sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let end = if b == b'\n' {
            Some(i)
        } else if matches!(b, b'.' | b'!' | b'?')
            && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace())
            && !is_abbreviation(&text[start..i])
        {
            Some(i + 1)
        } else {
            None
        };
        if let Some(end) = end {
            let s = text[start..end].trim();
            if s.chars().any(char::is_alphanumeric) {
                out.push(s);
            }
            start = end;
        }
        i += 1;
    }
    let rest = text[start..].trim();
    if rest.chars().any(char::is_alphanumeric) {
        out.push(rest);
    }
    out
}

/// "e.g." and "Dr." should not end a sentence.
fn is_abbreviation(before: &str) -> bool {
    let last = before
        .rsplit(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("");
    matches!(
        last.to_ascii_lowercase().as_str(),
        "e.g" | "i.e" | "dr" | "mr" | "mrs" | "ms" | "vs" | "etc" | "no" | "st"
    ) || (last.len() == 1 && last.chars().all(|c| c.is_ascii_uppercase()))
}

fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max {
        return text;
    }
    format!("{}…", truncate_at_word(&text, max - 1))
}

fn truncate_at_word(text: &str, max: usize) -> &str {
    let cut = text
        .char_indices()
        .nth(max)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let head = &text[..cut];
    match head.rfind(char::is_whitespace) {
        Some(i) if i > cut / 2 => head[..i].trim_end(),
        _ => head,
    }
}

#[cfg(test)]
mod tests;
