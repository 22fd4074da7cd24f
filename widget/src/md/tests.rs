use super::*;

fn text(s: &str) -> Inline {
    Inline::Text(s.to_string())
}

#[test]
fn bold_italic_code_and_links_parse() {
    assert_eq!(
        inline("a **b** *c* `d` [e](https://x.test/p)"),
        vec![
            text("a "),
            Inline::Strong(vec![text("b")]),
            text(" "),
            Inline::Emphasis(vec![text("c")]),
            text(" "),
            Inline::Code("d".into()),
            text(" "),
            Inline::Link {
                href: "https://x.test/p".into(),
                children: vec![text("e")]
            },
        ]
    );
}

#[test]
fn lists_paragraphs_and_code_blocks_are_blocks() {
    let blocks = parse("Hello\nthere\n\n- one\n- two\n\n1. first\n2. second\n```\n<b>x</b>\n```");
    assert_eq!(
        blocks,
        vec![
            Block::Paragraph(vec![text("Hello"), Inline::LineBreak, text("there")]),
            Block::List {
                ordered: false,
                items: vec![vec![text("one")], vec![text("two")]]
            },
            Block::List {
                ordered: true,
                items: vec![vec![text("first")], vec![text("second")]]
            },
            Block::Code("<b>x</b>".into()),
        ]
    );
}

#[test]
fn dangerous_link_targets_become_plain_text() {
    for target in [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "&#106;avascript:alert(1)",
        "//evil.test/x",
        "/relative",
        "https://",
        "https://shop.example/\" onmouseover=\"alert(1)",
        "https://x.test/<script>",
    ] {
        let md = format!("[click]({target})");
        let parsed = inline(&md);
        assert!(
            !parsed.iter().any(|n| matches!(n, Inline::Link { .. })),
            "{target:?} became a link: {parsed:?}"
        );
    }
}

#[test]
fn safe_targets_keep_their_link_and_lose_hidden_whitespace() {
    assert_eq!(
        safe_href("mailto:help@x.test").as_deref(),
        Some("mailto:help@x.test")
    );
    assert_eq!(
        safe_href(" HTTPS://x.test/a\tb ").as_deref(),
        Some("HTTPS://x.test/ab")
    );
}

#[test]
fn html_stays_text() {
    let parsed = inline("<script>alert(1)</script><img src=x onerror=alert(1)>");
    assert_eq!(
        parsed,
        vec![text(
            "<script>alert(1)</script><img src=x onerror=alert(1)>"
        )]
    );
}

#[test]
fn links_do_not_nest_and_nested_brackets_parse() {
    let parsed = inline("[a [b](https://in.test) c](https://out.test)");
    let Inline::Link { href, children } = &parsed[0] else {
        panic!("{parsed:?}")
    };
    assert_eq!(href, "https://out.test");
    assert!(!children.iter().any(|n| matches!(n, Inline::Link { .. })));
}

#[test]
fn bare_urls_link_without_trailing_punctuation() {
    let parsed = inline("See https://x.test/a.");
    assert_eq!(
        parsed,
        vec![
            text("See "),
            Inline::Link {
                href: "https://x.test/a".into(),
                children: vec![text("https://x.test/a")]
            },
            text("."),
        ]
    );
}

#[test]
fn arithmetic_snake_case_and_unclosed_markers_stay_literal() {
    assert_eq!(inline("2 * 3 * 4"), vec![text("2 * 3 * 4")]);
    assert_eq!(inline("snake_case_name"), vec![text("snake_case_name")]);
    assert_eq!(inline("**open"), vec![text("**open")]);
    assert_eq!(inline("`open"), vec![text("`open")]);
    assert_eq!(inline(r"\*not em\*"), vec![text("*not em*")]);
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = "*".repeat(2000) + "x" + &"*".repeat(2000);
    let _ = parse(&deep);
    let brackets = "[".repeat(3000) + "](https://x.test)";
    let _ = parse(&brackets);
}
