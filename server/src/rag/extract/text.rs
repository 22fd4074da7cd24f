//! Plain text to one section of paragraphs; hard-wrapped lines are joined back into
//! sentences.

use super::{line_range, normalize_inline, unwrap_lines, Draft, Section};

/// Plain text: blank-line paragraphs in one section. A first line written as a Markdown
/// heading (`# Title`) is the title; otherwise the file name is.
pub(super) fn extract(text: &str) -> Draft {
    let mut lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    let mut title = None;
    if let Some(pos) = lines.iter().position(|(_, l)| !l.trim().is_empty()) {
        let first = lines[pos].1.trim();
        if let Some(rest) = first.strip_prefix("# ") {
            title = Some(normalize_inline(rest.trim_end_matches('#')));
            lines.drain(..=pos);
        }
    }
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let (mut first_line, mut last_line) = (None, 0);
    for (number, line) in lines.iter().copied().chain(std::iter::once((0, ""))) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(unwrap_lines(&current));
                current.clear();
            }
            continue;
        }
        first_line.get_or_insert(number);
        last_line = number;
        current.push(line);
    }
    let location = match first_line {
        Some(first) => line_range(first, last_line),
        None => String::new(),
    };
    Draft {
        title,
        sections: vec![Section {
            headings: Vec::new(),
            text: paragraphs.join("\n\n"),
            location,
        }],
    }
}
