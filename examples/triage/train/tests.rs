//! The trainer's TF-IDF, the halves, and our training data.

use super::*;

#[test]
fn tf_idf_like_scikit_learn() {
    let docs = ["refund my order", "track my order", "refund refund"];
    let v = fit(Analyzer::Words, docs, 1);
    // "my order" is in two of three documents: idf ln(4/3) + 1.
    let x = v.transform("refund refund my");
    assert_eq!(x.len(), 4, "refund, my, refund refund, refund my: {x:?}");
    // refund: tf 2, in two documents → (1 + ln 2)(ln(4/3) + 1), the largest; my: tf 1,
    // in two documents → ln(4/3) + 1, the smallest (the bigrams are in one: ln 2 + 1).
    let mut w: Vec<f32> = x.iter().map(|(_, w)| *w).collect();
    w.sort_by(|a, b| b.total_cmp(a));
    assert!((w[0] / w[3] - (1.0 + 2f32.ln())).abs() < 1e-5, "{w:?}");
    let bigram = 2f32.ln() + 1.0;
    assert!(
        (w[1] / w[3] - bigram / ((4.0f32 / 3.0).ln() + 1.0)).abs() < 1e-5,
        "{w:?}"
    );
    // min_df drops rare terms.
    let v2 = fit(Analyzer::Words, docs, 2);
    assert_eq!(v2.len(), 4, "refund, my, order, my order");
    assert!(v2.transform("track").is_empty());
}

#[test]
fn halves_are_stable_and_balanced() {
    let ids: Vec<String> = (0..2000).map(|i| format!("id-{i}")).collect();
    let first = ids.iter().filter(|i| first_half(i)).count();
    assert!((900..1100).contains(&first), "{first}");
    assert_eq!(first_half("id-7"), first_half("id-7"));
}

#[test]
fn shipped_training_data_parses_with_known_labels() {
    let phrases: Phrases =
        serde_json::from_str(&std::fs::read_to_string(data_dir().join("intents.json")).unwrap())
            .unwrap();
    for name in phrases.intents.keys() {
        label(name).unwrap();
    }
    for intent in Intent::ALL {
        assert!(
            phrases
                .intents
                .get(intent.as_str())
                .is_some_and(|p| p.len() >= 25),
            "{intent:?}"
        );
    }
    let turns: Vec<LabelledTurn> = read_jsonl(&data_dir().join("intent-training.jsonl")).unwrap();
    assert!(turns.len() >= 3000);
    for t in &turns {
        for name in &t.intents {
            label(name).unwrap();
        }
    }
}
