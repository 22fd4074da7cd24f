//! Document text extraction for the knowledge base: a site owner's Markdown, HTML, plain text
//! or PDF becomes a title plus heading-scoped sections of plain text, ready for chunking.
//!
//! Everything here is pure and synchronous (the ingest pipeline runs it on a blocking thread).
//! Bad input never panics: it becomes an [`ExtractError`] whose message can be shown to the
//! site owner next to the failed document.

mod html;
mod markdown;
mod pdf;
#[cfg(test)]
mod tests;
mod text;

/// The document formats the knowledge base reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Markdown,
    Html,
    Text,
    Pdf,
}

/// Why a document could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("unsupported document type: {0}")]
    Unsupported(String),
    #[error("document looks like binary data, not text: {0}")]
    Binary(String),
    #[error("document is damaged or unreadable: {0}")]
    Corrupt(String),
    #[error("document contains no text")]
    Empty,
}

/// A document as plain text, split at its headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedDocument {
    pub title: String,
    pub sections: Vec<Section>,
}

/// The text under one heading (or before the first one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Heading path below the document title, outermost first; empty for text directly
    /// under the title.
    pub headings: Vec<String>,
    /// Plain text, paragraphs separated by blank lines, lines of a list or table by `\n`.
    pub text: String,
    /// Where the text is in the source: "lines 12-40", "page 3", "#install" (may be empty
    /// for an HTML section whose heading has no anchor).
    pub location: String,
}

const MARKDOWN_EXTENSIONS: &[&str] = &["md", "markdown", "mdown", "mkd"];
const HTML_EXTENSIONS: &[&str] = &["html", "htm", "xhtml"];
const TEXT_EXTENSIONS: &[&str] = &["txt", "text"];
/// Formats a site owner is likely to upload that we know we cannot read: refused by name
/// so the reason says "unsupported" rather than something vaguer.
const UNSUPPORTED_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "webp", "svg", "ico", "bmp", "tif", "tiff", "zip", "gz", "tgz",
    "bz2", "xz", "7z", "rar", "tar", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods",
    "odp", "rtf", "epub", "mp3", "mp4", "wav", "ogg", "mov", "avi", "webm", "exe", "dll", "so",
    "bin", "woff", "woff2", "ttf", "otf", "wasm",
];

/// Decides how to read a document: by file extension, then declared content type, then by
/// looking at the bytes. Text formats must be valid UTF-8 without NUL bytes.
pub fn detect_kind(
    name: &str,
    content_type: Option<&str>,
    bytes: &[u8],
) -> Result<SourceKind, ExtractError> {
    let kind = match extension(name) {
        Some(ext) if MARKDOWN_EXTENSIONS.contains(&ext.as_str()) => Some(SourceKind::Markdown),
        Some(ext) if HTML_EXTENSIONS.contains(&ext.as_str()) => Some(SourceKind::Html),
        Some(ext) if TEXT_EXTENSIONS.contains(&ext.as_str()) => Some(SourceKind::Text),
        Some(ext) if ext == "pdf" => Some(SourceKind::Pdf),
        Some(ext) if UNSUPPORTED_EXTENSIONS.contains(&ext.as_str()) => {
            return Err(ExtractError::Unsupported(format!(".{ext} files")));
        }
        _ => None,
    };
    let kind = match kind {
        Some(kind) => kind,
        None => match content_type.map(media_type) {
            Some(ct) if ct == "text/markdown" || ct == "text/x-markdown" => SourceKind::Markdown,
            Some(ct) if ct == "text/html" || ct == "application/xhtml+xml" => SourceKind::Html,
            Some(ct) if ct == "application/pdf" => SourceKind::Pdf,
            Some(ct) if ct == "text/plain" => SourceKind::Text,
            Some(ct)
                if ct.starts_with("image/")
                    || ct.starts_with("audio/")
                    || ct.starts_with("video/")
                    || ct.starts_with("font/")
                    || ct == "application/zip"
                    || ct.starts_with("application/vnd.") =>
            {
                return Err(ExtractError::Unsupported(format!("content type {ct}")));
            }
            _ => sniff(bytes),
        },
    };
    if kind != SourceKind::Pdf {
        decode_text(bytes)?;
    }
    Ok(kind)
}

/// Reads a document of a known kind. `fallback_title` (usually the file name) is the title
/// when the document names none itself.
pub fn extract(
    kind: SourceKind,
    bytes: &[u8],
    fallback_title: &str,
) -> Result<ExtractedDocument, ExtractError> {
    let doc = match kind {
        SourceKind::Markdown => markdown::extract(decode_text(bytes)?),
        SourceKind::Html => html::extract(decode_text(bytes)?),
        SourceKind::Text => text::extract(decode_text(bytes)?),
        SourceKind::Pdf => pdf::extract(bytes)?,
    };
    doc.finish(fallback_title)
}

/// A document before its title fallback is applied.
struct Draft {
    title: Option<String>,
    sections: Vec<Section>,
}

impl Draft {
    fn finish(self, fallback_title: &str) -> Result<ExtractedDocument, ExtractError> {
        let sections: Vec<Section> = self
            .sections
            .into_iter()
            .filter(|s| !s.text.trim().is_empty())
            .collect();
        if sections.is_empty() {
            return Err(ExtractError::Empty);
        }
        let title = self
            .title
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| title_from_name(fallback_title));
        Ok(ExtractedDocument { title, sections })
    }
}

/// Collects sections while a parser walks a document's headings and blocks in order.
#[derive(Default)]
struct SectionBuilder {
    title: Option<String>,
    /// Open headings below the title as (level, text).
    stack: Vec<(u8, String)>,
    seen_heading: bool,
    paragraphs: Vec<String>,
    anchor: String,
    lines: Option<(usize, usize)>,
    sections: Vec<Section>,
}

impl SectionBuilder {
    /// A heading closes the current section. The first heading of the document is its
    /// title when it is a level-1 heading.
    fn heading(&mut self, level: u8, text: &str, anchor: String) {
        let text = normalize_inline(text);
        if text.is_empty() {
            return;
        }
        self.close_section();
        let first = !self.seen_heading;
        self.seen_heading = true;
        if first && level == 1 {
            self.title = Some(text);
            return;
        }
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, text));
        self.anchor = anchor;
    }

    /// Adds one block of text (already normalised; may hold `\n`-separated lines).
    fn paragraph(&mut self, text: String) {
        if !text.is_empty() {
            self.paragraphs.push(text);
        }
    }

    fn note_lines(&mut self, first: usize, last: usize) {
        self.lines = Some(match self.lines {
            Some((a, b)) => (a.min(first), b.max(last)),
            None => (first, last),
        });
    }

    fn close_section(&mut self) {
        let lines = self.lines.take();
        if self.paragraphs.is_empty() {
            return;
        }
        let location = match lines {
            Some((a, b)) => line_range(a, b),
            None => self.anchor.clone(),
        };
        self.sections.push(Section {
            headings: self.stack.iter().map(|(_, t)| t.clone()).collect(),
            text: std::mem::take(&mut self.paragraphs).join("\n\n"),
            location,
        });
    }

    fn finish(mut self) -> Draft {
        self.close_section();
        Draft {
            title: self.title,
            sections: self.sections,
        }
    }
}

fn line_range(first: usize, last: usize) -> String {
    if first == last {
        format!("line {first}")
    } else {
        format!("lines {first}-{last}")
    }
}

/// Text formats must be UTF-8 (a leading byte-order mark is dropped); NUL bytes or invalid
/// sequences mean the file is not text, whatever its name says.
fn decode_text(bytes: &[u8]) -> Result<&str, ExtractError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(ExtractError::Binary(format!("NUL byte at offset {at}")));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| ExtractError::Binary(format!("invalid UTF-8 at offset {}", e.valid_up_to())))
}

fn sniff(bytes: &[u8]) -> SourceKind {
    if pdf::has_header(bytes) {
        return SourceKind::Pdf;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<html") {
        SourceKind::Html
    } else {
        SourceKind::Text
    }
}

/// The lower-cased extension of the last path segment of a file name or URL.
fn extension(name: &str) -> Option<String> {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (stem, ext) = file.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The file name without directories or a known document extension.
fn title_from_name(name: &str) -> String {
    let file = name
        .rsplit(['/', '\\'])
        .find(|s| !s.is_empty())
        .unwrap_or(name);
    let known = |ext: &str| {
        let ext = ext.to_ascii_lowercase();
        MARKDOWN_EXTENSIONS.contains(&ext.as_str())
            || HTML_EXTENSIONS.contains(&ext.as_str())
            || TEXT_EXTENSIONS.contains(&ext.as_str())
            || ext == "pdf"
    };
    let stem = match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && known(ext) => stem,
        _ => file,
    };
    let title = normalize_inline(stem);
    if title.is_empty() {
        "Untitled".to_string()
    } else {
        title
    }
}

/// Collapses all whitespace (including line breaks and no-break spaces) to single spaces and
/// drops invisible characters that would otherwise split or glue words.
fn normalize_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{ad}'
        ) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// Normalises each line and joins the non-empty ones with `\n`.
fn normalize_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    lines
        .into_iter()
        .map(normalize_inline)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hard-wrapped prose (plain text, PDF lines) is re-joined into one line so sentences are
/// whole; lines that start a list item keep their own line.
fn unwrap_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines {
        let line = normalize_inline(line);
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(if starts_list_item(&line) { '\n' } else { ' ' });
        }
        out.push_str(&line);
    }
    out
}

fn starts_list_item(line: &str) -> bool {
    let mut chars = line.chars();
    match chars.next() {
        Some('-' | '*' | '+' | '•' | '–') => chars.next() == Some(' '),
        Some(c) if c.is_ascii_digit() => {
            let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
            rest.starts_with(". ") || rest.starts_with(") ")
        }
        _ => false,
    }
}
