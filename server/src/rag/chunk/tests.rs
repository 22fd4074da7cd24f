//! Chunking tests with a whitespace word counter: budget, overlap, heading paths, ordinals,
//! randomised shapes, and the real COVID FAQ dev set when it is present.

use super::super::extract::{detect_kind, extract, ExtractedDocument, Section};
use super::*;

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

fn section(headings: &[&str], text: &str) -> Section {
    Section {
        headings: headings.iter().map(|h| h.to_string()).collect(),
        text: text.to_string(),
        location: format!("at {}", headings.join("/")),
    }
}

fn doc(sections: Vec<Section>) -> ExtractedDocument {
    ExtractedDocument {
        title: "Help".into(),
        sections,
    }
}

/// `n` distinct sentences of `len` words each, e.g. "s3w0 s3w1 … s3w9."
fn sentences(n: usize, len: usize) -> Vec<String> {
    (0..n)
        .map(|s| {
            let body: Vec<String> = (0..len).map(|w| format!("s{s}w{w}")).collect();
            format!("{}.", body.join(" "))
        })
        .collect()
}

fn opts(max_tokens: usize, overlap_tokens: usize) -> ChunkOptions {
    ChunkOptions {
        max_tokens,
        overlap_tokens,
    }
}

fn embedded_tokens(chunk: &Chunk) -> usize {
    words(&format!("{}\n{}", chunk.heading, chunk.text))
}

#[test]
fn defaults_match_the_embedding_model_budget() {
    assert_eq!(ChunkOptions::default(), opts(200, 40));
}

#[test]
fn a_faq_document_gives_one_chunk_headed_by_its_question() {
    let source = b"# Can I change my plan?\n\nYes. Open Billing and pick a new plan.\n\nThe change applies at the next invoice.\n";
    let doc = extract(
        detect_kind("cf1.md", None, source).unwrap(),
        source,
        "cf1.md",
    )
    .unwrap();
    let chunks = chunk_document(&doc, &ChunkOptions::default(), &words);
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].heading, "Can I change my plan?");
    assert_eq!(
        chunks[0].text,
        "Yes. Open Billing and pick a new plan.\n\nThe change applies at the next invoice."
    );
    assert_eq!(chunks[0].location, "lines 3-5");
    assert_eq!(chunks[0].tokens, embedded_tokens(&chunks[0]));
}

#[test]
fn long_sections_stay_within_budget_counting_the_heading() {
    let paragraphs: Vec<String> = (0..6).map(|_| sentences(7, 9).join(" ")).collect();
    let d = doc(vec![section(&["Setup", "Linux"], &paragraphs.join("\n\n"))]);
    let chunks = chunk_document(&d, &opts(60, 12), &words);
    assert!(chunks.len() > 5, "{} chunks", chunks.len());
    for chunk in &chunks {
        assert_eq!(chunk.heading, "Help › Setup › Linux");
        assert_eq!(chunk.tokens, embedded_tokens(chunk));
        assert!(
            chunk.tokens <= 60,
            "{} tokens: {}",
            chunk.tokens,
            chunk.text
        );
        assert!(!chunk.text.trim().is_empty());
    }
}

#[test]
fn consecutive_chunks_of_a_section_overlap_by_whole_sentences() {
    let text = sentences(20, 10).join(" ");
    let d = doc(vec![section(&[], &text)]);
    let chunks = chunk_document(&d, &opts(51, 20), &words);
    assert!(chunks.len() >= 3);
    for pair in chunks.windows(2) {
        let previous: Vec<&str> = pair[0].text.split(". ").collect();
        let next_first = pair[1].text.split(". ").next().unwrap();
        // Two 10-word sentences fit the 20-token overlap.
        assert_eq!(
            &previous[previous.len() - 2],
            &next_first,
            "chunk {} should start with the second-to-last sentence of chunk {}",
            pair[1].ordinal,
            pair[0].ordinal
        );
    }
    // Every sentence survives, in order, once the overlaps are removed.
    let mut seen: Vec<String> = Vec::new();
    for chunk in &chunks {
        for s in chunk.text.split_inclusive(". ") {
            let s = s.trim().trim_end_matches('.').to_string() + ".";
            if !seen.contains(&s) {
                seen.push(s);
            }
        }
    }
    assert_eq!(seen, sentences(20, 10));
}

#[test]
fn sections_are_never_merged_and_small_paragraphs_are_packed() {
    let d = doc(vec![
        section(&[], "Welcome."),
        section(
            &["Billing"],
            "Pay monthly.\n\nOr yearly.\n\nCards accepted.",
        ),
        section(&["Billing", "Refunds"], "Within 30 days."),
    ]);
    let chunks = chunk_document(&d, &ChunkOptions::default(), &words);
    let got: Vec<(usize, &str, &str, &str)> = chunks
        .iter()
        .map(|c| {
            (
                c.ordinal,
                c.heading.as_str(),
                c.text.as_str(),
                c.location.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (0, "Help", "Welcome.", "at "),
            (
                1,
                "Help › Billing",
                "Pay monthly.\n\nOr yearly.\n\nCards accepted.",
                "at Billing"
            ),
            (
                2,
                "Help › Billing › Refunds",
                "Within 30 days.",
                "at Billing/Refunds"
            ),
        ]
    );
}

#[test]
fn a_paragraph_that_fits_a_chunk_is_not_split_across_two() {
    let first = sentences(3, 10).join(" ");
    let second = sentences(4, 10).join(" ");
    let d = doc(vec![section(&[], &format!("{first}\n\n{second}"))]);
    let chunks = chunk_document(&d, &opts(45, 0), &words);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].text, first);
    assert_eq!(chunks[1].text, second);
}

#[test]
fn a_giant_sentence_is_split_into_words_and_a_giant_word_stands_alone() {
    let sentence = sentences(1, 100).remove(0);
    let long_word = "x".repeat(200);
    let d = doc(vec![section(&[], &format!("{sentence}\n\n{long_word}"))]);
    let chunks = chunk_document(&d, &opts(30, 5), &|t: &str| {
        t.split_whitespace().map(|w| w.len().div_ceil(4)).sum()
    });
    let body: Vec<&str> = chunks
        .iter()
        .flat_map(|c| c.text.split_whitespace())
        .collect();
    assert!(body.len() > 100, "overlapping words repeat");
    for chunk in &chunks[..chunks.len() - 1] {
        assert!(chunk.tokens <= 30, "{chunk:?}");
    }
    assert_eq!(chunks.last().unwrap().text, long_word);
}

#[test]
fn a_single_word_longer_than_the_budget_is_its_own_chunk() {
    let d = doc(vec![section(&[], "tiny words here\n\nenormous")]);
    let count = |t: &str| -> usize {
        t.split_whitespace()
            .map(|w| if w == "enormous" { 50 } else { 1 })
            .sum()
    };
    let chunks = chunk_document(&d, &opts(10, 2), &count);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1].text, "enormous");
    assert_eq!(chunks[1].tokens, 51);
}

#[test]
fn a_per_call_tokenizer_overhead_is_counted_once_per_chunk() {
    // Like a BERT tokenizer adding [CLS] and [SEP] to every call.
    let with_specials = |t: &str| words(t) + 2;
    let text = sentences(10, 5).join(" ");
    let d = doc(vec![section(&[], &text)]);
    let chunks = chunk_document(&d, &opts(30, 0), &with_specials);
    for chunk in &chunks {
        assert!(chunk.tokens <= 30, "{chunk:?}");
    }
    // 30 - 2 specials - 1 heading word leaves 27: five 5-word sentences per chunk.
    assert_eq!(chunks.len(), 2);
}

#[test]
fn an_overlong_heading_path_is_cut_to_leave_room_for_the_body() {
    let heading = sentences(1, 40).remove(0);
    let d = doc(vec![section(&[&heading], "Short body.")]);
    let chunks = chunk_document(&d, &opts(20, 0), &words);
    assert_eq!(chunks.len(), 1);
    assert!(chunks[0].heading.ends_with('…'));
    assert!(words(&chunks[0].heading) <= 10);
    assert_eq!(chunks[0].text, "Short body.");
}

#[test]
fn chunking_is_deterministic_and_ordinals_are_sequential() {
    let d = doc(vec![
        section(&["A"], &sentences(30, 8).join(" ")),
        section(&["B"], &sentences(30, 8).join("\n")),
    ]);
    let first = chunk_document(&d, &opts(40, 10), &words);
    let second = chunk_document(&d, &opts(40, 10), &words);
    assert_eq!(first, second);
    let ordinals: Vec<usize> = first.iter().map(|c| c.ordinal).collect();
    assert_eq!(ordinals, (0..first.len()).collect::<Vec<_>>());
    assert!(first
        .iter()
        .any(|c| c.heading == "Help › B" && c.text.contains('\n')));
}

/// Pseudo-random documents (fixed seed): whatever the shape, every chunk fits unless it is
/// one word, no chunk is empty, and no word of the section is lost or reordered.
#[test]
fn random_documents_respect_the_budget_and_lose_no_words() {
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for round in 0..200 {
        let max = 8 + next(120) as usize;
        let overlap = next(max as u64 / 2 + 1) as usize;
        let mut words_in_order = Vec::new();
        let mut paragraphs = Vec::new();
        for p in 0..1 + next(6) {
            let mut sentences = Vec::new();
            for s in 0..1 + next(8) {
                let giant = next(10) == 0;
                let len = 1 + next(if giant { 300 } else { 25 });
                let sentence: Vec<String> =
                    (0..len).map(|w| format!("r{round}p{p}s{s}w{w}")).collect();
                words_in_order.extend(sentence.iter().cloned());
                sentences.push(format!("{}.", sentence.join(" ")));
            }
            paragraphs.push(sentences.join(if next(3) == 0 { "\n" } else { " " }));
        }
        let d = doc(vec![section(&["S"], &paragraphs.join("\n\n"))]);
        let chunks = chunk_document(&d, &opts(max, overlap), &words);
        let mut cursor = 0;
        for chunk in &chunks {
            assert!(!chunk.text.trim().is_empty());
            assert!(
                chunk.tokens <= max || words(&chunk.text) == 1,
                "round {round}: {} > {max}",
                chunk.tokens
            );
            // Each chunk continues where the last one ended, repeating at most `overlap` words.
            let body: Vec<String> = chunk
                .text
                .split_whitespace()
                .map(|w| w.trim_end_matches('.').to_string())
                .collect();
            let start = words_in_order[..cursor]
                .iter()
                .rposition(|w| *w == body[0])
                .unwrap_or(cursor);
            assert!(cursor - start <= overlap, "round {round}: overlap too long");
            assert_eq!(
                body,
                words_in_order[start..start + body.len()],
                "round {round}"
            );
            cursor = start + body.len();
        }
        assert_eq!(
            cursor,
            words_in_order.len(),
            "round {round}: words lost at the end"
        );
    }
}

#[test]
fn content_hash_is_sha256_hex() {
    assert_eq!(
        content_hash(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// The real dev set: every FAQ document must give a title and at least one chunk.
#[test]
fn every_covid_faq_document_yields_a_title_and_chunks() {
    let dir = std::path::Path::new("/work/shared/eval-dev/covid_faq/docs");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    names.sort();
    assert!(names.len() >= 200, "{} docs", names.len());
    let mut total = 0;
    let mut single = 0;
    for path in &names {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let kind = detect_kind(&name, None, &bytes).unwrap();
        let doc = extract(kind, &bytes, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let source = String::from_utf8_lossy(&bytes);
        let first_line: Vec<&str> = source
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        assert_eq!(format!("# {}", doc.title), first_line.join(" "), "{name}");
        let chunks = chunk_document(&doc, &ChunkOptions::default(), &words);
        assert!(!chunks.is_empty(), "{name}");
        for chunk in &chunks {
            assert!(chunk.tokens <= 200, "{name}: {chunk:?}");
            assert!(
                !chunk.text.lines().any(|l| l.starts_with('#')),
                "{name}: heading markup leaked"
            );
        }
        total += chunks.len();
        single += usize::from(chunks.len() == 1);
    }
    eprintln!(
        "{} docs, {total} chunks, {single} single-chunk docs",
        names.len()
    );
}
