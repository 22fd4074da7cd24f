//! HTML to sections with scraper (html5ever): only the page's main content is read — site
//! navigation, headers, footers, sidebars, cookie banners, scripts and forms are dropped so
//! that every page of a site does not answer questions with its menu. Headings h1-h6 build
//! the section path; a section's location is its heading's anchor.

use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};

use super::{normalize_inline, normalize_lines, Draft, SectionBuilder};

/// Elements that never hold a page's own content.
const SKIPPED_TAGS: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "aside", "form", "footer", "svg",
    "iframe", "object", "embed", "canvas", "button", "select", "textarea", "input", "dialog",
];
/// Class or id words that mark boilerplate (matched as word prefixes: "navbar", "menu-item").
const BOILERPLATE_WORDS: &[&str] = &["nav", "menu", "footer", "sidebar", "cookie", "breadcrumb"];
const BOILERPLATE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
];
/// Elements that end a paragraph.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "body",
    "caption",
    "center",
    "details",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "header",
    "hgroup",
    "hr",
    "html",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
];
/// Elements that end a line but not the paragraph (list items, table rows).
const LINE_TAGS: &[&str] = &["li", "dt", "dd", "tr", "br", "thead", "tbody", "tfoot"];

pub(super) fn extract(source: &str) -> Draft {
    let page = Html::parse_document(source);
    let (root, is_content_root) = content_root(&page);
    let mut walker = Walker {
        keep_headers: is_content_root,
        ..Walker::default()
    };
    walker.walk(root, true);
    walker.flush_block();
    let mut draft = walker.builder.finish();
    if draft.title.is_none() {
        draft.title = select_first(&page, "title")
            .map(|t| normalize_inline(&t.text().collect::<String>()))
            .filter(|t| !t.is_empty());
    }
    draft
}

/// Visible text of an HTML fragment (an HTML block inside Markdown), paragraphs separated by
/// blank lines; headings inside it are kept as plain text.
pub(super) fn fragment_text(source: &str) -> String {
    let fragment = Html::parse_fragment(source);
    let mut walker = Walker {
        keep_headers: true,
        flat_headings: true,
        ..Walker::default()
    };
    walker.walk(fragment.root_element(), true);
    walker.flush_block();
    let draft = walker.builder.finish();
    draft
        .sections
        .into_iter()
        .map(|s| s.text)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// `<main>`, then `[role=main]`, then a single `<article>`; else the whole body.
fn content_root(page: &Html) -> (ElementRef<'_>, bool) {
    for selector in ["main", "[role=main]"] {
        if let Some(found) = select_first(page, selector) {
            return (found, true);
        }
    }
    if let Ok(articles) = Selector::parse("article") {
        let mut found = page.select(&articles);
        if let (Some(article), None) = (found.next(), found.next()) {
            return (article, true);
        }
    }
    let body = select_first(page, "body").unwrap_or_else(|| page.root_element());
    (body, false)
}

fn select_first<'a>(page: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(selector).ok()?;
    page.select(&selector).next()
}

#[derive(Default)]
struct Walker {
    builder: SectionBuilder,
    /// `<header>` inside `<main>`/`<article>` usually holds the article's own title.
    keep_headers: bool,
    /// Headings are ordinary paragraphs (HTML embedded in Markdown has no sections of its own).
    flat_headings: bool,
    lines: Vec<String>,
    line: String,
    pre_depth: usize,
}

impl Walker {
    fn walk(&mut self, element: ElementRef<'_>, is_root: bool) {
        let value = element.value();
        let name = value.name();
        if !is_root && is_boilerplate(element, self.keep_headers) {
            return;
        }
        if let Some(level) = heading_level(name) {
            let text: String = element.text().collect();
            let text = text.trim_end_matches(['¶', '#', '§', ' ', '\u{a0}']);
            self.flush_block();
            if self.flat_headings {
                self.builder.paragraph(normalize_inline(text));
            } else {
                self.builder.heading(level, text, anchor(element));
            }
            return;
        }
        let block = BLOCK_TAGS.contains(&name);
        let line = LINE_TAGS.contains(&name);
        if block {
            self.flush_block();
        } else if line {
            self.break_line();
        } else if matches!(name, "td" | "th") && !self.line.trim().is_empty() {
            self.line.push_str(" | ");
        }
        if name == "pre" {
            self.pre_depth += 1;
        }
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.text(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.walk(child, false);
                    }
                }
                _ => {}
            }
        }
        if name == "pre" {
            self.pre_depth -= 1;
        }
        if block {
            self.flush_block();
        } else if line {
            self.break_line();
        } else if matches!(name, "img") {
            self.line.push(' ');
        }
    }

    fn text(&mut self, text: &str) {
        if self.pre_depth == 0 {
            self.line.push_str(text);
            return;
        }
        let mut parts = text.split('\n');
        if let Some(first) = parts.next() {
            self.line.push_str(first);
        }
        for part in parts {
            self.break_line();
            self.line.push_str(part);
        }
    }

    fn break_line(&mut self) {
        let line = normalize_inline(&self.line);
        self.line.clear();
        if !line.is_empty() {
            self.lines.push(line);
        }
    }

    fn flush_block(&mut self) {
        self.break_line();
        let text = normalize_lines(self.lines.iter().map(String::as_str));
        self.lines.clear();
        self.builder.paragraph(text);
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn is_boilerplate(element: ElementRef<'_>, keep_headers: bool) -> bool {
    let value = element.value();
    let name = value.name();
    if SKIPPED_TAGS.contains(&name) || (name == "header" && !keep_headers) {
        return true;
    }
    if value.attr("hidden").is_some() || value.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(role) = value.attr("role") {
        if BOILERPLATE_ROLES.contains(&role.trim().to_ascii_lowercase().as_str()) {
            return true;
        }
    }
    if matches!(name, "html" | "body" | "main" | "article") {
        return false;
    }
    let marked = |attr: &str| {
        attr.split(|c: char| !c.is_ascii_alphanumeric())
            .map(|word| word.to_ascii_lowercase())
            .any(|word| BOILERPLATE_WORDS.iter().any(|b| word.starts_with(b)))
    };
    value.attr("class").is_some_and(marked) || value.attr("id").is_some_and(marked)
}

/// The heading's own id, an id or name on a link inside it (GitHub, many generators), or the
/// id of a `<section>` it opens (Sphinx).
fn anchor(heading: ElementRef<'_>) -> String {
    let own = heading.value().id().map(str::to_string);
    let inner = || {
        heading
            .descendent_elements()
            .filter(|e| e.value().name() == "a")
            .find_map(|a| a.value().id().or_else(|| a.value().attr("name")))
            .map(str::to_string)
    };
    let section = || {
        let parent = heading.parent().and_then(ElementRef::wrap)?;
        let first_child = parent.child_elements().next()?;
        (matches!(parent.value().name(), "section" | "div") && first_child.id() == heading.id())
            .then(|| parent.value().id().map(str::to_string))
            .flatten()
    };
    own.or_else(inner)
        .or_else(section)
        .filter(|id| !id.trim().is_empty())
        .map(|id| format!("#{}", id.trim()))
        .unwrap_or_default()
}
