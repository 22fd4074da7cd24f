//! Extraction tests: kind detection, each format on small hand-made inputs (including a
//! hand-built PDF with a correct xref table), damaged PDFs, and empty documents.

use super::*;

fn md(source: &str) -> ExtractedDocument {
    extract(SourceKind::Markdown, source.as_bytes(), "guide.md").unwrap()
}

fn html(source: &str) -> ExtractedDocument {
    extract(SourceKind::Html, source.as_bytes(), "page.html").unwrap()
}

fn all_text(doc: &ExtractedDocument) -> String {
    doc.sections
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A minimal PDF with one page per text, Helvetica, and a correct cross-reference table.
pub(crate) fn tiny_pdf(pages: &[&str]) -> Vec<u8> {
    let n = pages.len();
    let font_id = 3 + 2 * n;
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
    ];
    for (i, text) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
             /Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {} 0 R >>",
            4 + 2 * i
        ));
        let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    );
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.extend_from_slice(table.as_bytes());
    out
}

#[test]
fn kind_is_detected_from_the_extension_first() {
    let cases = [
        ("faq.md", SourceKind::Markdown),
        ("FAQ.Markdown", SourceKind::Markdown),
        ("index.htm", SourceKind::Html),
        ("docs/page.html?x=1#top", SourceKind::Html),
        ("notes.txt", SourceKind::Text),
        ("README.text", SourceKind::Text),
        ("manual.pdf", SourceKind::Pdf),
    ];
    for (name, kind) in cases {
        assert_eq!(
            detect_kind(name, Some("text/html"), b"hello"),
            Ok(kind),
            "{name}"
        );
    }
}

#[test]
fn kind_falls_back_to_content_type_then_to_sniffing() {
    let ct = |ct| detect_kind("https://example.com/help/refunds", Some(ct), b"hello");
    assert_eq!(ct("text/html; charset=utf-8"), Ok(SourceKind::Html));
    assert_eq!(ct("text/markdown"), Ok(SourceKind::Markdown));
    assert_eq!(ct("text/plain"), Ok(SourceKind::Text));
    assert_eq!(ct("application/pdf"), Ok(SourceKind::Pdf));
    let sniff = |bytes: &[u8]| detect_kind("upload", None, bytes);
    assert_eq!(sniff(b"%PDF-1.7\n\x00\xff"), Ok(SourceKind::Pdf));
    assert_eq!(sniff(b"  <!DOCTYPE html><p>x"), Ok(SourceKind::Html));
    assert_eq!(sniff(b"<HTML><body>x"), Ok(SourceKind::Html));
    assert_eq!(sniff(b"Just some notes."), Ok(SourceKind::Text));
    assert_eq!(
        detect_kind("v1.2", Some("application/octet-stream"), b"plain words"),
        Ok(SourceKind::Text)
    );
}

#[test]
fn binary_data_is_rejected_with_a_reason() {
    let err = detect_kind("notes.txt", None, b"abc\x00def").unwrap_err();
    assert_eq!(err, ExtractError::Binary("NUL byte at offset 3".into()));
    assert!(err.to_string().contains("binary"), "{err}");
    assert!(matches!(
        detect_kind("page.html", None, b"caf\xe9"),
        Err(ExtractError::Binary(reason)) if reason.contains("UTF-8")
    ));
    assert!(matches!(
        detect_kind("blob", None, b"\x89PNG\r\n\x1a\n\x00\x00"),
        Err(ExtractError::Binary(_))
    ));
    assert!(matches!(
        extract(SourceKind::Markdown, b"\xff\xfe#\x00", "x.md"),
        Err(ExtractError::Binary(_))
    ));
}

#[test]
fn unsupported_extensions_and_types_are_refused() {
    for name in ["logo.png", "export.zip", "contract.docx", "PHOTO.JPG"] {
        assert!(
            matches!(
                detect_kind(name, None, b"x"),
                Err(ExtractError::Unsupported(_))
            ),
            "{name}"
        );
    }
    assert!(matches!(
        detect_kind("download", Some("image/png"), b"x"),
        Err(ExtractError::Unsupported(_))
    ));
}

#[test]
fn a_faq_markdown_document_has_the_question_as_title_and_the_answer_as_text() {
    let doc = md("# How do I get a refund?\n\nOpen **Orders**, pick the order and press\n[Refund](https://x.test/r).\n");
    assert_eq!(doc.title, "How do I get a refund?");
    assert_eq!(doc.sections.len(), 1);
    assert_eq!(doc.sections[0].headings, Vec::<String>::new());
    assert_eq!(
        doc.sections[0].text,
        "Open Orders, pick the order and press Refund."
    );
    assert_eq!(doc.sections[0].location, "lines 3-4");
}

#[test]
fn markdown_headings_build_section_paths_and_line_locations() {
    let source =
        "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n### Linux\n\nUse apt.\n\n## Use\n\nType.\n";
    let doc = md(source);
    assert_eq!(doc.title, "Guide");
    let paths: Vec<Vec<String>> = doc.sections.iter().map(|s| s.headings.clone()).collect();
    assert_eq!(
        paths,
        vec![
            vec![],
            vec!["Install".to_string()],
            vec!["Install".to_string(), "Linux".to_string()],
            vec!["Use".to_string()],
        ]
    );
    let locations: Vec<&str> = doc.sections.iter().map(|s| s.location.as_str()).collect();
    assert_eq!(locations, ["line 3", "line 7", "line 11", "line 15"]);
}

#[test]
fn markdown_keeps_lists_code_tables_and_link_text_but_drops_markup_and_images() {
    let source = "Intro with `code` and ![logo](logo.png) an image.\n\n\
        - first *item*\n- second item\n  - nested\n\n\
        ```sh\ncurl -X POST  /api\necho done\n```\n\n\
        | Plan | Price |\n|---|---|\n| Pro | 10 &euro; |\n\n\
        <div class=\"note\"><p>Embedded &amp; HTML</p><script>x()</script></div>\n";
    let doc = md(source);
    assert_eq!(
        doc.title, "guide",
        "no heading: the file name without extension"
    );
    assert_eq!(
        doc.sections[0].text,
        "Intro with code and an image.\n\n\
         first item\nsecond item\nnested\n\n\
         curl -X POST /api\necho done\n\n\
         Plan | Price\nPro | 10 €\n\n\
         Embedded & HTML"
    );
}

#[test]
fn markdown_front_matter_gives_the_title_when_there_is_no_heading() {
    let doc = md("---\ntitle: \"Shipping times\"\nlang: en\n---\n\nWe ship in two days.\n");
    assert_eq!(doc.title, "Shipping times");
    assert_eq!(all_text(&doc), "We ship in two days.");
}

#[test]
fn a_second_level_one_heading_is_a_section_not_the_title() {
    let doc = md("## Setup\n\nA.\n\n# Billing\n\nB.\n");
    assert_eq!(doc.title, "guide");
    assert_eq!(doc.sections[0].headings, ["Setup"]);
    assert_eq!(doc.sections[1].headings, ["Billing"]);
}

#[test]
fn html_reads_only_the_main_content() {
    let page = r#"<!doctype html><html><head><title>Help | Acme</title>
        <style>p{color:red}</style></head><body>
        <header><h1>Acme</h1></header>
        <nav><a href="/">Home</a> <a href="/x">Pricing</a></nav>
        <div class="cookie-banner">We use cookies</div>
        <main>
          <h1>Returns &amp; refunds</h1>
          <p>Send it back within&nbsp;30&nbsp;days.</p>
          <div class="sidebar-widget">Related links</div>
          <ul class="menu-list"><li>Menu</li></ul>
          <h2 id="how">How to return</h2>
          <ol><li>Pack it</li><li>Ship it</li></ol>
          <form><label>Search</label></form>
          <script>track()</script>
        </main>
        <aside>Ads</aside>
        <footer>© Acme</footer></body></html>"#;
    let doc = html(page);
    assert_eq!(doc.title, "Returns & refunds");
    assert_eq!(doc.sections.len(), 2);
    assert_eq!(doc.sections[0].text, "Send it back within 30 days.");
    assert_eq!(doc.sections[0].location, "");
    assert_eq!(doc.sections[1].headings, ["How to return"]);
    assert_eq!(doc.sections[1].text, "Pack it\nShip it");
    assert_eq!(doc.sections[1].location, "#how");
}

#[test]
fn html_without_main_drops_boilerplate_from_the_body_and_uses_the_page_title() {
    let page = r#"<html><head><title> Shipping  FAQ </title></head><body>
        <div id="navbar"><a>Home</a></div>
        <div class="breadcrumbs">Home / FAQ</div>
        <div role="navigation">Skip</div>
        <div class="content"><p>We ship <b>worldwide</b>.</p>
        <table><tr><th>Zone</th><th>Days</th></tr><tr><td>EU</td><td>2</td></tr></table>
        <pre>line one
line two</pre></div>
        <div id="site-footer">Contact</div></body></html>"#;
    let doc = html(page);
    assert_eq!(doc.title, "Shipping FAQ");
    assert_eq!(
        all_text(&doc),
        "We ship worldwide.\n\nZone | Days\nEU | 2\n\nline one\nline two"
    );
}

#[test]
fn html_anchors_come_from_the_heading_a_link_inside_it_or_its_section() {
    let page = r##"<article><header><h1>Docs</h1></header>
        <h2><a id="user-content-setup" href="#setup"></a>Setup</h2><p>A.</p>
        <section id="billing"><h2>Billing<a class="headerlink" href="#billing">¶</a></h2>
        <p>B.</p><h3 id="refunds">Refunds</h3><p>C.</p></section>
        <h2>Plain</h2><p>D.</p></article>"##;
    let doc = html(page);
    assert_eq!(doc.title, "Docs", "a header inside the article is content");
    let got: Vec<(String, &str)> = doc
        .sections
        .iter()
        .map(|s| (s.headings.join("/"), s.location.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Setup".to_string(), "#user-content-setup"),
            ("Billing".to_string(), "#billing"),
            ("Billing/Refunds".to_string(), "#refunds"),
            ("Plain".to_string(), ""),
        ]
    );
}

#[test]
fn plain_text_becomes_paragraphs_with_wrapped_lines_joined() {
    let text = "Our support hours are\nnine to five.\n\n\n- Monday\n- Friday\n";
    let doc = extract(SourceKind::Text, text.as_bytes(), "hours.txt").unwrap();
    assert_eq!(doc.title, "hours");
    assert_eq!(
        doc.sections[0].text,
        "Our support hours are nine to five.\n\n- Monday\n- Friday"
    );
    assert_eq!(doc.sections[0].location, "lines 1-6");
}

#[test]
fn plain_text_takes_its_title_from_a_markdown_style_first_line() {
    let doc = extract(
        SourceKind::Text,
        b"\n# Opening hours\n\nNine to five.",
        "x.txt",
    )
    .unwrap();
    assert_eq!(doc.title, "Opening hours");
    assert_eq!(all_text(&doc), "Nine to five.");
    let doc = extract(SourceKind::Text, b"Opening hours\n\nNine to five.", "x.txt").unwrap();
    assert_eq!(doc.title, "x");
}

#[test]
fn documents_without_text_are_empty() {
    let empty = |kind, bytes: &[u8]| extract(kind, bytes, "x");
    assert_eq!(empty(SourceKind::Markdown, b""), Err(ExtractError::Empty));
    assert_eq!(
        empty(SourceKind::Markdown, b"# Only a title\n"),
        Err(ExtractError::Empty)
    );
    assert_eq!(
        empty(SourceKind::Text, b" \n\n\t"),
        Err(ExtractError::Empty)
    );
    assert_eq!(
        empty(
            SourceKind::Html,
            b"<body><nav>Home</nav><script>x</script></body>"
        ),
        Err(ExtractError::Empty)
    );
    assert_eq!(
        empty(SourceKind::Pdf, &tiny_pdf(&[""])),
        Err(ExtractError::Empty)
    );
}

#[test]
fn pdf_text_is_extracted_per_page() {
    let bytes = tiny_pdf(&["Refunds take five days.", "Contact support by email."]);
    assert_eq!(detect_kind("upload", None, &bytes), Ok(SourceKind::Pdf));
    let doc = extract(SourceKind::Pdf, &bytes, "policy.pdf").unwrap();
    assert_eq!(doc.title, "policy");
    assert_eq!(doc.sections.len(), 2);
    assert_eq!(doc.sections[0].text, "Refunds take five days.");
    assert_eq!(doc.sections[0].location, "page 1");
    assert_eq!(doc.sections[1].text, "Contact support by email.");
    assert_eq!(doc.sections[1].location, "page 2");
}

#[test]
fn damaged_pdfs_are_corrupt_and_never_panic() {
    let good = tiny_pdf(&["Refunds take five days."]);
    let corrupt = |bytes: &[u8]| {
        matches!(
            extract(SourceKind::Pdf, bytes, "x.pdf"),
            Err(ExtractError::Corrupt(_))
        )
    };
    assert!(corrupt(b"not a pdf at all"));
    assert!(corrupt(b"%PDF-1.4\n garbage \x00\x01\x02 more garbage"));
    assert!(corrupt(&good[..good.len() / 2]));
    // Truncations and flipped bytes all over the file: any result but a panic. Some of these
    // make pdf-extract panic; those must come back as Corrupt with the panic's message.
    let mut caught_panics = 0;
    for cut in (0..good.len()).step_by(7) {
        let mut flipped = good.clone();
        flipped[cut] ^= 0x5a;
        for bytes in [&good[..cut], &flipped[..]] {
            if let Err(ExtractError::Corrupt(reason)) = extract(SourceKind::Pdf, bytes, "x.pdf") {
                caught_panics += usize::from(reason.contains("could not be parsed ("));
            }
        }
    }
    assert!(caught_panics > 0, "no input reached a parser panic");
}
