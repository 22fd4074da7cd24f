//! The shipped classifier loads, refuses damaged files, and scores what it was trained for.

use super::*;
use crate::sentiment::lexical::Analyzer;
use std::collections::HashMap;

fn tiny() -> EscalationModel {
    // Two-dimensional "embeddings": [asks for something, calm]. Words decide which intent.
    let words = Vectorizer::new(
        Analyzer::Words,
        HashMap::from([("person".to_string(), 0), ("useless".to_string(), 1)]),
        vec![1.0, 1.0],
    );
    let classes: Vec<String> = std::iter::once("none".to_string())
        .chain(Intent::ALL.iter().map(|i| i.as_str().to_string()))
        .collect();
    let n = 2 + 2; // embedding + words
    let mut w = vec![0.0f32; classes.len() * n];
    // human_request (class 1): "person" and the "asks" dimension.
    w[n] = 4.0;
    w[n + 2] = 6.0;
    // none (class 0): the calm dimension.
    w[1] = 4.0;
    let intents = Head::new(classes, false, words.clone(), None, w, vec![0.0; 8]);
    // Negativity: "useless" and a low VADER score.
    let mut w = vec![0.0f32; 2 * (2 + 1 + 2)];
    w[5 + 2] = -3.0; // VADER
    w[5 + 4] = 5.0; // useless
    let negativity = Head::new(
        vec!["calm".into(), "negative".into()],
        true,
        words,
        None,
        w,
        vec![0.0, -1.0],
    );
    EscalationModel {
        format: FORMAT,
        about: "test".into(),
        embedding: EmbeddingId {
            model: "test".into(),
            dim: 2,
            probe: vec![0.6, 0.8],
        },
        intents,
        negativity,
    }
}

#[test]
fn scores_intents_and_negativity_and_round_trips() {
    let m = tiny();
    let s = m.score("a person please", &[1.0, 0.0], 0.0).unwrap();
    assert!(s.intents.get(Intent::HumanRequest) > 0.9, "{s:?}");
    assert!(s.negativity < 0.5, "{s:?}");
    let s = m.score("this is useless", &[0.0, 1.0], -0.6).unwrap();
    assert!(s.intents.max() < 0.2, "{s:?}");
    assert!(s.negativity > 0.9, "{s:?}");
    // Wrong dimension: no scores rather than garbage.
    assert!(m.score("person", &[1.0], 0.0).is_none());

    let back = EscalationModel::from_json(&m.to_json()).expect("parses");
    assert_eq!(back, m);
    // The same model is the same file (vocabularies are written in term order).
    assert_eq!(back.to_json(), m.to_json());
    let shipped = EscalationModel::shipped().unwrap();
    assert_eq!(shipped.to_json(), MODEL_JSON.trim_end());
    assert!(EscalationModel::from_json("{}").is_none());
    let mut damaged = m.clone();
    damaged.intents.bias.pop();
    assert!(EscalationModel::from_json(&damaged.to_json()).is_none());
    let mut other = m.clone();
    other.format = FORMAT + 1;
    assert!(EscalationModel::from_json(&other.to_json()).is_none());
    // Another embedding model: refused by its probe.
    assert!(m.accepts_embedder(&[0.6, 0.8]));
    assert!(!m.accepts_embedder(&[0.8, 0.6]));
    assert!(!m.accepts_embedder(&[0.6, 0.8, 0.0]));
}

#[test]
fn the_shipped_model_loads_with_every_intent() {
    let m = EscalationModel::shipped().expect("data/escalation-model.json loads");
    assert!(m.embedding.dim > 0 && !m.embedding.probe.is_empty());
    assert_eq!(m.intents.classes.len(), 1 + Intent::ALL.len());
    assert_eq!(m.negativity.classes, ["calm", "negative"]);
}

#[test]
fn links_and_handles_are_not_read() {
    assert_eq!(
        normalize("@AcmeHelp my order https://t.co/x1 never came &amp; no reply"),
        "my order never came & no reply"
    );
    assert!(matches!(normalize("plain text"), Cow::Borrowed(_)));
    assert_eq!(normalize("see www.example.com/page now"), "see now");
    // An email address is not a handle.
    assert_eq!(normalize("mail me at a@b.com"), "mail me at a@b.com");
}
