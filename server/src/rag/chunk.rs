//! Heading-aware chunking of extracted documents for embedding and retrieval.
//!
//! The embedding model (all-MiniLM-L6-v2) reads at most 256 word pieces and the ingest
//! pipeline embeds `"{heading}\n{text}"`, so a chunk's budget covers its heading path and its
//! body together. A section is cut at paragraph boundaries first, then sentences, then words
//! (only for a sentence longer than a whole chunk); consecutive chunks of one section share a
//! few whole sentences so an answer split across the cut is still found. Sections are never
//! merged: each chunk carries exactly one heading path.

use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

use super::extract::ExtractedDocument;

#[cfg(test)]
mod tests;

/// Joins the title and section headings in [`Chunk::heading`].
pub const HEADING_SEPARATOR: &str = " › ";

/// Chunk size limits, in the units of the `count_tokens` function given to
/// [`chunk_document`] (model word pieces in production).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    /// Budget for heading and body together.
    pub max_tokens: usize,
    /// About how much consecutive chunks of one section repeat, in whole sentences.
    pub overlap_tokens: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_tokens: 200,
            overlap_tokens: 40,
        }
    }
}

/// One retrievable passage of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position in the document, from 0.
    pub ordinal: usize,
    /// "Title › Section › Sub".
    pub heading: String,
    /// The passage without its heading.
    pub text: String,
    pub location: String,
    /// Tokens of the embedded text (`heading`, a newline, `text`).
    pub tokens: usize,
}

/// SHA-256 of a document's bytes as lowercase hex: unchanged documents are not re-embedded.
pub fn content_hash(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Splits a document into chunks whose heading and body together stay within
/// `opts.max_tokens` — unless a single word is longer than that on its own.
pub fn chunk_document(
    doc: &ExtractedDocument,
    opts: &ChunkOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Vec<Chunk> {
    let counter = Counter::new(count_tokens);
    let max = opts.max_tokens.max(1);
    let mut out = Vec::new();
    for section in &doc.sections {
        let heading = heading_path(&doc.title, &section.headings, max, &counter);
        let mut packer = Packer {
            counter: &counter,
            heading: &heading,
            location: &section.location,
            max,
            budget: max.saturating_sub(counter.count(&heading)).max(1),
            overlap: opts.overlap_tokens,
            current: Vec::new(),
            used: 0,
            fresh: false,
            out: &mut out,
        };
        for paragraph in section.text.split("\n\n") {
            packer.paragraph(paragraph);
        }
        packer.finish();
    }
    for (ordinal, chunk) in out.iter_mut().enumerate() {
        chunk.ordinal = ordinal;
    }
    out
}

/// Token counts of pieces are added up, so the fixed cost a tokenizer adds to every call
/// (e.g. `[CLS]` and `[SEP]`) is counted once per chunk, not once per sentence.
struct Counter<'a> {
    count_tokens: &'a dyn Fn(&str) -> usize,
    overhead: usize,
}

impl<'a> Counter<'a> {
    fn new(count_tokens: &'a dyn Fn(&str) -> usize) -> Self {
        Self {
            count_tokens,
            overhead: count_tokens(""),
        }
    }

    fn count(&self, text: &str) -> usize {
        (self.count_tokens)(text)
    }

    /// What a piece adds to a text that is already being counted.
    fn cost(&self, piece: &str) -> usize {
        self.count(piece).saturating_sub(self.overhead)
    }
}

/// The title and section headings; a pathologically long path is cut to half the budget so
/// there is always room for the body.
fn heading_path(title: &str, headings: &[String], max: usize, counter: &Counter) -> String {
    let full = std::iter::once(title)
        .chain(headings.iter().map(String::as_str))
        .filter(|h| !h.trim().is_empty())
        .collect::<Vec<_>>()
        .join(HEADING_SEPARATOR);
    let limit = max / 2;
    if counter.count(&full) <= limit {
        return full;
    }
    let words: Vec<&str> = full.split_whitespace().take(limit.max(1)).collect();
    (0..=words.len())
        .rev()
        .map(|n| format!("{}…", words[..n].join(" ")))
        .find(|h| counter.count(h) <= limit)
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Paragraph,
    Line,
    Space,
}

impl Sep {
    fn as_str(self) -> &'static str {
        match self {
            Sep::Paragraph => "\n\n",
            Sep::Line => "\n",
            Sep::Space => " ",
        }
    }
}

/// A sentence (or a word of an over-long sentence) with what separates it from the one
/// before.
#[derive(Debug, Clone, Copy)]
struct Unit<'t> {
    text: &'t str,
    sep: Sep,
    tokens: usize,
}

struct Packer<'a, 't> {
    counter: &'a Counter<'a>,
    heading: &'a str,
    location: &'a str,
    max: usize,
    /// Tokens left for the body once the heading is counted.
    budget: usize,
    overlap: usize,
    current: Vec<Unit<'t>>,
    used: usize,
    /// Whether `current` holds anything beyond the overlap carried from the last chunk.
    fresh: bool,
    out: &'a mut Vec<Chunk>,
}

impl<'t> Packer<'_, 't> {
    fn paragraph(&mut self, paragraph: &'t str) {
        let units = self.units(paragraph);
        let total: usize = units.iter().map(|u| u.tokens).sum();
        // A paragraph that fits a chunk of its own is not cut in two.
        if self.fresh && self.used + total > self.budget && total <= self.budget {
            self.next_chunk(total);
        }
        for unit in units {
            if self.fresh && self.used + unit.tokens > self.budget {
                self.next_chunk(unit.tokens);
            }
            self.used += unit.tokens;
            self.current.push(unit);
            self.fresh = true;
        }
    }

    fn units(&self, paragraph: &'t str) -> Vec<Unit<'t>> {
        let mut units = Vec::new();
        let mut sep = Sep::Paragraph;
        for piece in paragraph.split_sentence_bounds() {
            let text = piece.trim();
            if text.is_empty() {
                continue;
            }
            let tokens = self.counter.cost(text);
            if tokens <= self.budget {
                units.push(Unit { text, sep, tokens });
            } else {
                for (i, word) in text.split_whitespace().enumerate() {
                    units.push(Unit {
                        text: word,
                        sep: if i == 0 { sep } else { Sep::Space },
                        tokens: self.counter.cost(word),
                    });
                }
            }
            let trailing = &piece[piece.trim_end().len()..];
            sep = if trailing.contains('\n') {
                Sep::Line
            } else {
                Sep::Space
            };
        }
        units
    }

    /// Emits the current chunk and starts the next one with the trailing sentences that fit
    /// both the overlap and the room `needed` by what comes next.
    fn next_chunk(&mut self, needed: usize) {
        self.emit(&self.current.clone());
        let room = self.overlap.min(self.budget.saturating_sub(needed));
        let mut carried = 0;
        let keep = self
            .current
            .iter()
            .rev()
            .take_while(|u| {
                carried += u.tokens;
                carried <= room
            })
            .count();
        self.current.drain(..self.current.len() - keep);
        self.used = self.current.iter().map(|u| u.tokens).sum();
        self.fresh = false;
    }

    fn finish(&mut self) {
        if self.fresh {
            self.emit(&self.current.clone());
        }
    }

    /// The packing above adds up piece counts; tokenizers are not always additive, so the
    /// real embedded text is counted and an over-budget chunk is halved.
    fn emit(&mut self, units: &[Unit<'t>]) {
        let text = join(units);
        if text.is_empty() {
            return;
        }
        let tokens = self.counter.count(&format!("{}\n{}", self.heading, text));
        if tokens > self.max && units.len() > 1 {
            let (left, right) = units.split_at(units.len() / 2);
            self.emit(left);
            self.emit(right);
            return;
        }
        self.out.push(Chunk {
            ordinal: 0,
            heading: self.heading.to_string(),
            text,
            location: self.location.to_string(),
            tokens,
        });
    }
}

fn join(units: &[Unit]) -> String {
    let mut text = String::new();
    for unit in units {
        if !text.is_empty() {
            text.push_str(unit.sep.as_str());
        }
        text.push_str(unit.text);
    }
    text
}
