//! The Markdown subset messages use (bold, italic, links, lists, inline and block code),
//! parsed into a tree that the view turns into DOM nodes with text nodes only — message text
//! never reaches `innerHTML`. Links survive only with an http(s) or mailto target.

/// A block of a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    List {
        ordered: bool,
        items: Vec<Vec<Inline>>,
    },
    Code(String),
}

/// Inline content of a paragraph or list item.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Strong(Vec<Inline>),
    Emphasis(Vec<Inline>),
    Code(String),
    /// `href` has passed [`safe_href`].
    Link {
        href: String,
        children: Vec<Inline>,
    },
    LineBreak,
}

/// Deepest nesting of bold/italic/links; deeper markers stay literal text.
const MAX_DEPTH: usize = 6;

/// Parses a message into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Option<(bool, Vec<String>)> = None;
    let mut lines = text.lines();
    let flush_para = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            blocks.push(Block::Paragraph(inline(&para.join("\n"))));
            para.clear();
        }
    };
    let flush_list = |list: &mut Option<(bool, Vec<String>)>, blocks: &mut Vec<Block>| {
        if let Some((ordered, items)) = list.take() {
            let items = items.iter().map(|i| inline(i)).collect();
            blocks.push(Block::List { ordered, items });
        }
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            flush_para(&mut para, &mut blocks);
            flush_list(&mut list, &mut blocks);
            let mut code = String::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                if !code.is_empty() {
                    code.push('\n');
                }
                code.push_str(l);
            }
            blocks.push(Block::Code(code));
        } else if trimmed.is_empty() {
            flush_para(&mut para, &mut blocks);
            flush_list(&mut list, &mut blocks);
        } else if let Some((ordered, item)) = list_item(trimmed) {
            flush_para(&mut para, &mut blocks);
            match &mut list {
                Some((o, items)) if *o == ordered => items.push(item.to_string()),
                _ => {
                    flush_list(&mut list, &mut blocks);
                    list = Some((ordered, vec![item.to_string()]));
                }
            }
        } else if let Some((_, items)) = list.as_mut().filter(|_| line.starts_with("  ")) {
            // An indented line continues the last item.
            if let Some(last) = items.last_mut() {
                last.push('\n');
                last.push_str(trimmed);
            }
        } else {
            flush_list(&mut list, &mut blocks);
            para.push(line);
        }
    }
    flush_para(&mut para, &mut blocks);
    flush_list(&mut list, &mut blocks);
    blocks
}

/// `- x`, `* x`, `+ x` (unordered) or `1. x` (ordered): the item's text.
fn list_item(line: &str) -> Option<(bool, &str)> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some((false, rest));
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=9).contains(&digits) {
        if let Some(rest) = line.get(digits..).and_then(|r| r.strip_prefix(". ")) {
            return Some((true, rest));
        }
    }
    None
}

/// Parses inline Markdown.
pub fn inline(text: &str) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    Parser { chars: &chars }.run(0, chars.len(), 0, true)
}

struct Parser<'a> {
    chars: &'a [char],
}

impl Parser<'_> {
    /// Parses `chars[from..to]`; `links` is false inside a link's text (no nested anchors).
    fn run(&self, from: usize, to: usize, depth: usize, links: bool) -> Vec<Inline> {
        let c = self.chars;
        let mut out = Vec::new();
        let mut text = String::new();
        let mut i = from;
        while i < to {
            let ch = c[i];
            let prev_word = i > from && is_word(c[i - 1]);
            let node = match ch {
                '\\' if i + 1 < to && c[i + 1].is_ascii_punctuation() => {
                    text.push(c[i + 1]);
                    i += 2;
                    continue;
                }
                '\n' => Some((Inline::LineBreak, i + 1)),
                '`' => self
                    .find(i + 1, to, &['`'])
                    .map(|end| (Inline::Code(c[i + 1..end].iter().collect()), end + 1)),
                '*' | '_' if depth < MAX_DEPTH && !(ch == '_' && prev_word) => {
                    self.emphasis(i, to, depth, links)
                }
                '[' if links && depth < MAX_DEPTH => self.link(i, to, depth),
                'h' if links && !prev_word => self.autolink(i, to),
                _ => None,
            };
            match node {
                Some((node, next)) => {
                    if !text.is_empty() {
                        out.push(Inline::Text(std::mem::take(&mut text)));
                    }
                    out.push(node);
                    i = next;
                }
                None => {
                    text.push(ch);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            out.push(Inline::Text(text));
        }
        out
    }

    /// First index in `from..to` where `pat` starts.
    fn find(&self, from: usize, to: usize, pat: &[char]) -> Option<usize> {
        (from..to.saturating_sub(pat.len() - 1)).find(|&j| self.chars[j..].starts_with(pat))
    }

    /// `**strong**` / `__strong__` or `*em*` / `_em_` starting at `i`.
    fn emphasis(&self, i: usize, to: usize, depth: usize, links: bool) -> Option<(Inline, usize)> {
        let c = self.chars;
        let ch = c[i];
        let double = i + 1 < to && c[i + 1] == ch;
        let open = if double { 2 } else { 1 };
        let start = i + open;
        // The content must not start with a space ("2 * 3 * 4" is not emphasis).
        if start >= to || c[start].is_whitespace() {
            return None;
        }
        let pat: &[char] = if double { &[ch, ch] } else { &[ch] };
        let mut j = start + 1;
        while let Some(end) = self.find(j, to, pat) {
            let closes = !c[end - 1].is_whitespace()
                && (ch != '_' || end + open >= to || !is_word(c[end + open]));
            if closes {
                let inner = self.run(start, end, depth + 1, links);
                let node = if double {
                    Inline::Strong(inner)
                } else {
                    Inline::Emphasis(inner)
                };
                return Some((node, end + open));
            }
            j = end + 1;
        }
        None
    }

    /// `[text](target)` starting at `i`. An unsafe target keeps the text, without a link.
    fn link(&self, i: usize, to: usize, depth: usize) -> Option<(Inline, usize)> {
        let c = self.chars;
        let mut level = 0usize;
        let mut close = None;
        for (j, &ch) in c.iter().enumerate().take(to).skip(i) {
            match ch {
                '[' => level += 1,
                ']' => {
                    level -= 1;
                    if level == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close?;
        if close + 1 >= to || c[close + 1] != '(' {
            return None;
        }
        let mut level = 0usize;
        let mut end = None;
        for (j, &ch) in c.iter().enumerate().take(to).skip(close + 1) {
            match ch {
                '(' => level += 1,
                ')' => {
                    level -= 1;
                    if level == 0 {
                        end = Some(j);
                        break;
                    }
                }
                '\n' => return None,
                _ => {}
            }
        }
        let end = end?;
        let target: String = c[close + 2..end].iter().collect();
        let children = self.run(i + 1, close, depth + 1, false);
        let node = match safe_href(&target) {
            Some(href) => Inline::Link { href, children },
            // Not a link: the visitor still reads the words.
            None => {
                let mut words = String::new();
                collect_text(&children, &mut words);
                Inline::Text(words)
            }
        };
        Some((node, end + 1))
    }

    /// A bare `http://` or `https://` URL starting at `i`.
    fn autolink(&self, i: usize, to: usize) -> Option<(Inline, usize)> {
        let c = self.chars;
        let rest = &c[i..to];
        let scheme = if rest.starts_with(&['h', 't', 't', 'p', 's', ':', '/', '/']) {
            8
        } else if rest.starts_with(&['h', 't', 't', 'p', ':', '/', '/']) {
            7
        } else {
            return None;
        };
        let mut end = i + scheme;
        while end < to && !c[end].is_whitespace() && !matches!(c[end], '<' | '>' | '"') {
            end += 1;
        }
        while end > i + scheme
            && matches!(c[end - 1], '.' | ',' | ';' | ':' | '!' | '?' | ')' | '\'')
        {
            end -= 1;
        }
        if end == i + scheme {
            return None;
        }
        let url: String = c[i..end].iter().collect();
        let href = safe_href(&url)?;
        Some((
            Inline::Link {
                href,
                children: vec![Inline::Text(url)],
            },
            end,
        ))
    }
}

/// Letters and digits, for "is this `_` inside a word". Any non-ASCII character counts as a
/// letter: exact enough here, and it keeps Unicode tables out of the wasm.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || !c.is_ascii()
}

/// Plain text of a tree of inlines.
pub fn collect_text(nodes: &[Inline], out: &mut String) {
    for n in nodes {
        match n {
            Inline::Text(t) | Inline::Code(t) => out.push_str(t),
            Inline::Strong(c) | Inline::Emphasis(c) | Inline::Link { children: c, .. } => {
                collect_text(c, out)
            }
            Inline::LineBreak => out.push(' '),
        }
    }
}

/// The link target to use, when it is an absolute http(s) or mailto URL. Browsers drop tabs,
/// newlines and control characters inside URLs, so they are dropped here before the scheme is
/// checked ("java\tscript:" must not pass as something else).
pub fn safe_href(target: &str) -> Option<String> {
    let cleaned: String = target
        .trim()
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect();
    // Quotes and angle brackets have no business in a link target (attribute-breaking tricks).
    if cleaned.contains(['"', '\'', '<', '>', '`']) {
        return None;
    }
    let lower = cleaned.to_ascii_lowercase();
    let scheme = ["https://", "http://", "mailto:"]
        .into_iter()
        .find(|p| lower.starts_with(p))?;
    (cleaned.len() > scheme.len()).then_some(cleaned)
}

#[cfg(test)]
mod tests;
