//! PDF to one section per page with pdf-extract (pure Rust, on lopdf). pdf-extract panics on
//! some malformed files, so the call runs under `catch_unwind` and any panic or parse error
//! becomes [`ExtractError::Corrupt`]: a bad upload fails that document, never the server.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{unwrap_lines, Draft, ExtractError, Section};

/// Real-world PDFs may have a little junk before the header; readers accept it within 1 KiB.
pub(super) fn has_header(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

pub(super) fn extract(bytes: &[u8]) -> Result<Draft, ExtractError> {
    if !has_header(bytes) {
        return Err(ExtractError::Corrupt("no %PDF- header".into()));
    }
    let pages = catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::extract_text_from_mem_by_pages(bytes)
    }))
    .map_err(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("parser failure");
        ExtractError::Corrupt(format!("the PDF could not be parsed ({detail})"))
    })?
    .map_err(|e| ExtractError::Corrupt(format!("the PDF could not be parsed: {e}")))?;

    let sections = pages
        .iter()
        .enumerate()
        .map(|(i, page)| Section {
            headings: Vec::new(),
            text: page_text(page),
            location: format!("page {}", i + 1),
        })
        .filter(|s| !s.text.is_empty())
        .collect();
    Ok(Draft {
        title: None,
        sections,
    })
}

/// pdf-extract gives one line per text line with blank lines between blocks: blocks become
/// paragraphs and wrapped lines are joined back into sentences.
fn page_text(page: &str) -> String {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in page.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(unwrap_lines(&current));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    paragraphs.retain(|p| !p.is_empty());
    paragraphs.join("\n\n")
}
