//! Builds the panel inside the shadow root and renders messages into DOM nodes.

use concierge_protocol::{Author, Message, MessageState};
use web_sys::{Element, ShadowRoot};

use crate::dom::{append, append_text, attr, button, clear, el, el_text, show};
use crate::i18n::{Lang, Text};
use crate::md::{self, Block, Inline};

/// The panel's parts the controller updates.
pub struct Panel {
    pub root: Element,
    pub agent: Element,
    pub close: Element,
    pub new_conversation: Element,
    pub history_button: Element,
    pub banner: Element,
    pub status: Element,
    pub list: Element,
    pub history: Element,
    pub typing: Element,
    pub input: Element,
    pub send: Element,
    pub human: Element,
    pub live: Element,
}

/// Creates the panel (hidden) after the launcher.
pub fn build(shadow: &ShadowRoot, lang: Lang, title: &str) -> Panel {
    let root = el("div", "cw-panel");
    attr(&root, "role", "dialog");
    attr(&root, "aria-label", title);
    attr(&root, "lang", lang.code());
    show(&root, false);

    let header = el("div", "cw-header");
    let title_el = el_text("h2", "cw-title", title);
    let agent = el("div", "cw-agent");
    show(&agent, false);
    let history_button = button("cw-history cw-icon", "☰", lang.t(Text::PastConversations));
    let new_conversation = button("cw-new cw-icon", "+", lang.t(Text::NewConversation));
    let close = button("cw-close cw-icon", "×", lang.t(Text::CloseChat));
    for part in [
        &title_el,
        &agent,
        &history_button,
        &new_conversation,
        &close,
    ] {
        append(&header, part);
    }

    let banner = el("div", "cw-banner");
    attr(&banner, "role", "alert");
    show(&banner, false);
    let status = el("div", "cw-status");
    attr(&status, "data-phase", "");
    let list = el("ol", "cw-messages");
    attr(&list, "aria-label", title);
    let history = el("div", "cw-history-list");
    show(&history, false);
    let typing = el("div", "cw-typing");
    show(&typing, false);

    let composer = el("div", "cw-composer");
    let input = el("textarea", "cw-input");
    attr(&input, "rows", "1");
    attr(&input, "placeholder", lang.t(Text::Placeholder));
    attr(&input, "aria-label", lang.t(Text::Placeholder));
    attr(&input, "maxlength", "4000");
    let send = button("cw-send", lang.t(Text::Send), "");
    append(&composer, &input);
    append(&composer, &send);
    let human = button("cw-human", lang.t(Text::TalkToHuman), "");
    let live = el("div", "cw-live");
    attr(&live, "aria-live", "polite");
    attr(&live, "role", "status");

    for part in [
        &header, &banner, &status, &list, &history, &typing, &composer, &human, &live,
    ] {
        append(&root, part);
    }
    let _ = shadow.append_child(&root);
    Panel {
        root,
        agent,
        close,
        new_conversation,
        history_button,
        banner,
        status,
        list,
        history,
        typing,
        input,
        send,
        human,
        live,
    }
}

/// A `<li>` for a message (filled by [`render_message`]).
pub fn message_item() -> Element {
    el("li", "cw-msg")
}

/// Redraws `li` from the message. Bot answers that are complete get citations and thumbs.
pub fn render_message(li: &Element, m: &Message, lang: Lang, feedback: Option<bool>) {
    clear(li);
    let author = match m.author {
        Author::Visitor => "visitor",
        Author::Bot => "bot",
        Author::Agent => "agent",
        Author::System => "system",
    };
    attr(li, "data-seq", &crate::json::itoa(m.seq));
    attr(li, "data-author", author);
    attr(
        li,
        "data-state",
        match m.state {
            MessageState::Streaming => "streaming",
            MessageState::Complete => "complete",
        },
    );
    let who = match m.author {
        Author::Visitor => lang.t(Text::You),
        Author::Bot => lang.t(Text::Assistant),
        Author::Agent => m.author_name.as_deref().unwrap_or(lang.t(Text::Agent)),
        Author::System => "",
    };
    if !who.is_empty() {
        append(li, &el_text("span", "cw-who", who));
    }
    let body = el("div", "cw-body");
    render_markdown(&body, &m.text);
    append(li, &body);
    if m.author == Author::Bot && m.state == MessageState::Complete {
        if !m.sources.is_empty() {
            let sources = el("ol", "cw-sources");
            attr(&sources, "aria-label", lang.t(Text::Sources));
            for s in &m.sources {
                let item = el("li", "");
                let label = if s.section.is_empty() {
                    &s.title
                } else {
                    &s.section
                };
                match s.url.as_deref().and_then(md::safe_href) {
                    Some(href) => append(&item, &link(&href, label)),
                    None => append(&item, &el_text("span", "", label)),
                }
                append(&sources, &item);
            }
            append(li, &sources);
        }
        let thumbs = el("div", "cw-thumbs");
        // Words, not emoji: they read the same with any font.
        for (class, text, value) in [
            ("cw-up", lang.t(Text::Helpful), true),
            ("cw-down", lang.t(Text::NotHelpful), false),
        ] {
            let b = button(class, text, "");
            attr(
                &b,
                "aria-pressed",
                if feedback == Some(value) {
                    "true"
                } else {
                    "false"
                },
            );
            append(&thumbs, &b);
        }
        append(li, &thumbs);
    }
}

/// A visitor message waiting for its ack.
pub fn render_pending(li: &Element, text: &str, lang: Lang) {
    clear(li);
    attr(li, "data-seq", "");
    attr(li, "data-author", "visitor");
    attr(li, "data-state", "pending");
    append(li, &el_text("span", "cw-who", lang.t(Text::You)));
    let body = el("div", "cw-body");
    render_markdown(&body, text);
    append(li, &body);
    append(li, &el_text("span", "cw-sending", lang.t(Text::Sending)));
}

/// Markdown subset → DOM nodes (text nodes only; links checked by [`md::safe_href`]).
pub fn render_markdown(parent: &Element, text: &str) {
    for block in md::parse(text) {
        match block {
            Block::Paragraph(inlines) => {
                let p = el("p", "");
                render_inlines(&p, &inlines);
                append(parent, &p);
            }
            Block::List { ordered, items } => {
                let list = el(if ordered { "ol" } else { "ul" }, "");
                for item in items {
                    let li = el("li", "");
                    render_inlines(&li, &item);
                    append(&list, &li);
                }
                append(parent, &list);
            }
            Block::Code(code) => {
                let pre = el("pre", "");
                // A long line scrolls sideways: keyboard users must be able to reach it.
                attr(&pre, "tabindex", "0");
                append(&pre, &el_text("code", "", &code));
                append(parent, &pre);
            }
        }
    }
}

fn render_inlines(parent: &Element, nodes: &[Inline]) {
    for n in nodes {
        match n {
            Inline::Text(t) => append_text(parent, t),
            Inline::LineBreak => append(parent, &el("br", "")),
            Inline::Code(c) => append(parent, &el_text("code", "", c)),
            Inline::Strong(c) | Inline::Emphasis(c) => {
                let e = el(
                    if matches!(n, Inline::Strong(_)) {
                        "strong"
                    } else {
                        "em"
                    },
                    "",
                );
                render_inlines(&e, c);
                append(parent, &e);
            }
            Inline::Link { href, children } => {
                let a = link(href, "");
                render_inlines(&a, children);
                append(parent, &a);
            }
        }
    }
}

/// `<a>` to a checked target, opening in a new tab without access to this page.
fn link(href: &str, text: &str) -> Element {
    let a = el_text("a", "", text);
    attr(&a, "href", href);
    attr(&a, "target", "_blank");
    attr(&a, "rel", "noopener noreferrer nofollow");
    a
}

/// Initials for an agent without a picture ("Ada Lovelace" → "AL").
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
