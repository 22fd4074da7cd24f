use super::*;
use crate::store::ChunkRecord;

fn hit(doc: &str, text: &str) -> Hit {
    Hit {
        chunk: ChunkRecord {
            id: 1,
            site_id: "s".into(),
            document_id: format!("id-{doc}"),
            doc_key: doc.into(),
            title: format!("Title of {doc}"),
            url: None,
            ordinal: 0,
            heading: format!("Title of {doc} › Section"),
            text: text.into(),
            location: "lines 1-3".into(),
        },
        score: 0.03,
        similarity: Some(0.7),
    }
}

#[test]
fn the_answer_quotes_the_best_passage_verbatim_and_cites_it() {
    let hits = [hit(
        "refunds.md",
        "Refunds are issued within 5 business days. Contact billing for invoices. \
         Our office is closed on Sundays. A refund goes back to the original card.",
    )];
    let a = extractive("How long does a refund take?", &hits).unwrap();
    assert!(a
        .text
        .starts_with("Refunds are issued within 5 business days."));
    assert!(a.text.contains("A refund goes back to the original card."));
    assert!(!a.text.contains("Sundays"), "{}", a.text);
    assert!(a.text.ends_with("[1]"));
    assert_eq!(a.sources.len(), 1);
    assert_eq!(a.sources[0].document_id, "refunds.md");
    assert_eq!(a.sources[0].title, "Title of refunds.md");
    // Every sentence of the answer exists in the passage: nothing is invented.
    for s in split_sentences(a.text.trim_end_matches(" [1]")) {
        assert!(hits[0].chunk.text.contains(s), "invented: {s}");
    }
}

#[test]
fn a_second_document_is_cited_only_when_it_answers_too() {
    let hits = [
        hit("a.md", "Masks reduce the spread of droplets."),
        hit(
            "b.md",
            "Wearing masks in shops reduces droplet spread a lot.",
        ),
        hit("c.md", "Opening hours are 9 to 5."),
    ];
    let a = extractive("Do masks reduce spread?", &hits).unwrap();
    assert_eq!(a.sources.len(), 2);
    assert!(a.text.contains("[2]"));
    let unrelated = [hits[0].clone(), hits[2].clone()];
    let a = extractive("Do masks reduce spread?", &unrelated).unwrap();
    assert_eq!(a.sources.len(), 1);
    assert!(!a.text.contains("Opening hours"));
}

#[test]
fn no_hits_means_no_answer() {
    assert!(extractive("anything", &[]).is_none());
}

#[test]
fn long_answers_stay_within_the_cap() {
    let long = (0..60)
        .map(|i| format!("Sentence {i} talks about masks and spread in detail."))
        .collect::<Vec<_>>()
        .join(" ");
    let a = extractive("masks spread", &[hit("long.md", &long)]).unwrap();
    assert!(
        a.text.chars().count() <= MAX_ANSWER_CHARS + 4,
        "{}",
        a.text.len()
    );
    assert!(a.sources[0].snippet.chars().count() <= MAX_SNIPPET_CHARS);
}

#[test]
fn sentences_split_on_ends_and_lines_but_not_abbreviations() {
    assert_eq!(
        split_sentences("Wash hands, e.g. with soap. Then dry them!\n- item one\nWhy? Because."),
        vec![
            "Wash hands, e.g. with soap.",
            "Then dry them!",
            "- item one",
            "Why?",
            "Because."
        ]
    );
    assert_eq!(
        split_sentences("Version 1.5 is out"),
        vec!["Version 1.5 is out"]
    );
}
