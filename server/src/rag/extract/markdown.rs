//! Markdown to sections with pulldown-cmark: markup is dropped, link text, list items, table
//! cells and code are kept as plain text, and each section records its source line range.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{html, normalize_inline, normalize_lines, Draft, SectionBuilder};

pub(super) fn extract(source: &str) -> Draft {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset).max(1);

    let mut walker = Walker::default();
    for (event, range) in Parser::new_ext(source, options).into_offset_iter() {
        walker.event(
            event,
            range.start,
            range.end.max(range.start + 1) - 1,
            &line_of,
        );
    }
    walker.flush_block(&line_of);
    let metadata_title = walker.metadata_title.take();
    let mut draft = walker.builder.finish();
    if draft.title.is_none() {
        draft.title = metadata_title;
    }
    draft
}

#[derive(Default)]
struct Walker {
    builder: SectionBuilder,
    /// Finished lines of the current block, and the line being written.
    lines: Vec<String>,
    line: String,
    /// Byte span of the current block's content, for its line numbers.
    span: Option<(usize, usize)>,
    heading: Option<(HeadingLevel, String, String)>,
    list_depth: usize,
    image_depth: usize,
    in_code: bool,
    html_block: Option<String>,
    metadata: Option<String>,
    metadata_title: Option<String>,
}

impl Walker {
    fn event(&mut self, event: Event, start: usize, last: usize, line_of: &dyn Fn(usize) -> usize) {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                self.flush_block(line_of);
                let anchor = id.map(|id| format!("#{id}")).unwrap_or_default();
                self.heading = Some((level, String::new(), anchor));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text, anchor)) = self.heading.take() {
                    self.builder.heading(level as u8, &text, anchor);
                }
            }
            Event::Start(Tag::MetadataBlock(_)) => self.metadata = Some(String::new()),
            Event::End(TagEnd::MetadataBlock(_)) => {
                let block = self.metadata.take().unwrap_or_default();
                self.metadata_title = front_matter_title(&block);
            }
            Event::Start(Tag::HtmlBlock) => {
                self.flush_block(line_of);
                self.html_block = Some(String::new());
            }
            Event::End(TagEnd::HtmlBlock) => {
                let block = self.html_block.take().unwrap_or_default();
                let text = html::fragment_text(&block);
                if !text.is_empty() {
                    self.builder.note_lines(line_of(start), line_of(last));
                    self.builder.paragraph(text);
                }
            }
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {
                if self.list_depth > 0 {
                    self.break_line();
                } else {
                    self.flush_block(line_of);
                }
            }
            Event::Start(Tag::List(_)) => {
                if self.list_depth == 0 {
                    self.flush_block(line_of);
                }
                self.list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.flush_block(line_of);
                }
            }
            Event::Start(Tag::Item) | Event::End(TagEnd::Item) => self.break_line(),
            Event::Start(Tag::CodeBlock(_)) => {
                if self.list_depth == 0 {
                    self.flush_block(line_of);
                }
                self.in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                if self.list_depth == 0 {
                    self.flush_block(line_of);
                }
            }
            Event::Start(Tag::BlockQuote(_) | Tag::Table(_) | Tag::FootnoteDefinition(_))
            | Event::End(TagEnd::BlockQuote(_) | TagEnd::Table | TagEnd::FootnoteDefinition)
            | Event::Rule => self.flush_block(line_of),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => self.break_line(),
            Event::Start(Tag::TableCell) if !self.line.trim().is_empty() => {
                self.line.push_str(" | ");
            }
            Event::Start(Tag::Image { .. }) => self.image_depth += 1,
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            Event::Text(text) | Event::Code(text) => {
                if let Some(block) = self.metadata.as_mut() {
                    block.push_str(&text);
                } else if let Some(block) = self.html_block.as_mut() {
                    block.push_str(&text);
                } else if self.image_depth == 0 {
                    self.text(&text, start, last);
                }
            }
            Event::Html(html) => {
                if let Some(block) = self.html_block.as_mut() {
                    block.push_str(&html);
                }
            }
            Event::SoftBreak => self.text(" ", start, last),
            Event::HardBreak => self.break_line(),
            _ => {}
        }
    }

    fn text(&mut self, text: &str, start: usize, last: usize) {
        if let Some((_, heading, _)) = self.heading.as_mut() {
            heading.push_str(text);
            return;
        }
        self.span = Some(match self.span {
            Some((a, _)) => (a, last),
            None => (start, last),
        });
        if self.in_code {
            let mut parts = text.split('\n');
            if let Some(first) = parts.next() {
                self.line.push_str(first);
            }
            for part in parts {
                self.break_line();
                self.line.push_str(part);
            }
        } else {
            self.line.push_str(text);
        }
    }

    fn break_line(&mut self) {
        let line = normalize_inline(&self.line);
        self.line.clear();
        if !line.is_empty() {
            self.lines.push(line);
        }
    }

    fn flush_block(&mut self, line_of: &dyn Fn(usize) -> usize) {
        self.break_line();
        let text = normalize_lines(self.lines.iter().map(String::as_str));
        self.lines.clear();
        if let Some((start, last)) = self.span.take() {
            if !text.is_empty() {
                self.builder.note_lines(line_of(start), line_of(last));
            }
        }
        self.builder.paragraph(text);
    }
}

/// `title:` from YAML front matter, used only when the document has no `#` title.
fn front_matter_title(block: &str) -> Option<String> {
    block.lines().find_map(|line| {
        let value = line.strip_prefix("title:")?.trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        let value = normalize_inline(value);
        (!value.is_empty()).then_some(value)
    })
}
