//! Trains the shipped escalation classifier offline and writes it as data
//! (`server/data/escalation-model.json`); `cargo xtask train-escalation` runs this.
//!
//! - **intents** (softmax over "none" and every intent, `[embedding | word 1–2-grams |
//!   char 2–5-grams]`): our phrases (`data/intents.json`) and labelled turns
//!   (`data/intent-training.jsonl`), both written by the project, and the first half of the
//!   Bitext dev requests (CDLA-Sharing-1.0; asks for a person → `human_request`, asks to file
//!   a complaint → `complaint`, a payment or sign-up problem → `problem`, the rest "none").
//! - **negativity** (two classes, `[embedding | VADER | word 1–2-grams]`): the human-rated
//!   tweets and review snippets of the VADER paper (MIT; negative = mean rating <= -0.5) and
//!   our turns' `negative` labels (counted three times: they are support text).
//!
//! TweetSumm is never trained on (its tweets are licensed for evaluation only); `tune`
//! chooses the policy's mood thresholds on one half of it. Deterministic: the same data and
//! embedding model give the same file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, Result};
use concierge::sentiment::intents::{unit, Intent};
use concierge::sentiment::lexical::{terms, Analyzer, Vectorizer};
use concierge::sentiment::model::{normalize, EmbeddingId, EscalationModel, Head, FORMAT, PROBE};
use concierge::sentiment::vader;
use concierge_learn::{Options, Row, Softmax};
use serde::Deserialize;

use crate::{read_jsonl, Args};

/// Inverse regularisation strength of the intent head (scikit-learn's `C`).
pub const INTENT_C: f64 = 10.0;
/// ... and of the negativity head (two-class softmax: about a binary logistic `C` of 3).
pub const NEGATIVITY_C: f64 = 1.5;
/// Terms seen in fewer training texts than this are dropped.
pub const MIN_DF: usize = 2;
/// How many times each of our labelled support turns counts in the negativity head.
pub const SUPPORT_WEIGHT: usize = 3;
/// The human-rated sets' mean rating at or below which a text is negative.
pub const NEGATIVE_RATING: f32 = -0.5;

/// Our training data, next to this program.
pub fn data_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/triage/data"))
}

#[derive(Deserialize)]
struct Phrases {
    intents: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
pub struct LabelledTurn {
    pub text: String,
    #[serde(default)]
    pub negative: bool,
    #[serde(default)]
    pub intents: Vec<String>,
}

#[derive(Deserialize)]
pub struct Bitext {
    pub id: String,
    pub text: String,
    pub intent: String,
    pub escalation_label: String,
}

#[derive(Deserialize)]
struct Rated {
    text: String,
    mean_rating: f32,
}

/// Which half of a dev set an item is in: `true` for the half used to train and tune, by
/// the first byte of the SHA-256 of its id (stable, independent of order).
pub fn first_half(id: &str) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes())[0] < 128
}

fn label(name: &str) -> Result<Option<Intent>> {
    Ok(match name {
        "none" => None,
        n => Some(
            n.parse::<Intent>()
                .with_context(|| format!("unknown intent label {n}"))?,
        ),
    })
}

/// The Bitext intents' labels for training.
pub fn bitext_label(intent: &str) -> Option<Intent> {
    match intent {
        "contact_human_agent" => Some(Intent::HumanRequest),
        "complaint" => Some(Intent::Complaint),
        "payment_issue" | "registration_problems" => Some(Intent::Problem),
        _ => None,
    }
}

/// The intent head's training texts with their labels.
pub fn intent_examples(escalation_data: &Path) -> Result<Vec<(Option<Intent>, String)>> {
    let phrases: Phrases = serde_json::from_str(
        &std::fs::read_to_string(data_dir().join("intents.json")).context("intents.json")?,
    )?;
    let mut out = Vec::new();
    for (name, list) in phrases.intents {
        let intent = label(&name)?;
        out.extend(list.into_iter().map(|p| (intent, p)));
    }
    let turns: Vec<LabelledTurn> = read_jsonl(&data_dir().join("intent-training.jsonl"))?;
    for t in turns {
        if t.intents.is_empty() {
            out.push((None, t.text.clone()));
        }
        for name in &t.intents {
            out.push((label(name)?, t.text.clone()));
        }
    }
    let bitext: Vec<Bitext> = read_jsonl(&escalation_data.join("bitext_dev.jsonl"))?;
    for b in bitext.into_iter().filter(|b| first_half(&b.id)) {
        out.push((bitext_label(&b.intent), b.text));
    }
    Ok(out)
}

/// The negativity head's training texts: (negative, text), support turns repeated.
pub fn negativity_examples(
    sentiment_data: &Path,
    escalation_data: &Path,
    support_weight: usize,
    bitext_calm: &str,
    extra: Option<&Path>,
) -> Result<Vec<(bool, String)>> {
    let mut out = Vec::new();
    for file in ["tweets.jsonl", "amazonReviewSnippets.jsonl"] {
        let rated: Vec<Rated> = read_jsonl(&sentiment_data.join(file))?;
        out.extend(
            rated
                .into_iter()
                .map(|r| (r.mean_rating <= NEGATIVE_RATING, r.text)),
        );
    }
    if bitext_calm != "none" {
        let swears = ["fuck", "shit", "damn", "crap", "bloody", "hell"];
        let bitext: Vec<Bitext> = read_jsonl(&escalation_data.join("bitext_dev.jsonl"))?;
        for b in bitext.into_iter().filter(|b| first_half(&b.id)) {
            if b.intent == "complaint" || b.intent == "contact_human_agent" {
                continue;
            }
            let lower = b.text.to_lowercase();
            if bitext_calm == "clean" && swears.iter().any(|w| lower.contains(w)) {
                continue;
            }
            out.push((false, b.text));
        }
    }
    let mut turns: Vec<LabelledTurn> = read_jsonl(&data_dir().join("intent-training.jsonl"))?;
    if let Some(extra) = extra {
        turns.extend(read_jsonl::<LabelledTurn>(extra)?);
    }
    for t in turns {
        for _ in 0..support_weight {
            out.push((t.negative, t.text.clone()));
        }
    }
    Ok(out)
}

/// Fits a TF-IDF vocabulary as scikit-learn's `TfidfVectorizer(sublinear_tf=True,
/// min_df)` does: smooth IDF `ln((1 + n) / (1 + df)) + 1`.
pub fn fit<'a>(
    analyzer: Analyzer,
    texts: impl IntoIterator<Item = &'a str>,
    min_df: usize,
) -> Vectorizer {
    let mut df: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0usize;
    for text in texts {
        n += 1;
        let mut seen = terms(analyzer, text);
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_default() += 1;
        }
    }
    let mut vocabulary = HashMap::new();
    let mut idf = Vec::new();
    for (term, count) in df.into_iter().filter(|(_, c)| *c >= min_df) {
        vocabulary.insert(term, idf.len() as u32);
        idf.push((((1 + n) as f64 / (1 + count) as f64).ln() + 1.0) as f32);
    }
    Vectorizer::new(analyzer, vocabulary, idf)
}

/// Trains one head on normalized texts with their unit embeddings and classes.
fn train_head(
    classes: Vec<String>,
    texts: &[String],
    embeddings: &[std::sync::Arc<[f32]>],
    labels: &[usize],
    with_vader: bool,
    with_chars: bool,
    c: f64,
) -> (Head, concierge_learn::Report) {
    let dim = embeddings.first().map_or(0, |e| e.len());
    let words = fit(Analyzer::Words, texts.iter().map(String::as_str), MIN_DF);
    let chars = with_chars.then(|| {
        fit(
            Analyzer::CharsInWords,
            texts.iter().map(String::as_str),
            MIN_DF,
        )
    });
    let shape = Head::new(
        classes.clone(),
        with_vader,
        words,
        chars,
        Vec::new(),
        Vec::new(),
    );
    let rows: Vec<Row> = texts
        .iter()
        .zip(embeddings)
        .zip(labels)
        .map(|((t, e), class)| Row {
            features: shape.features(t, e, if with_vader { vader(t) } else { 0.0 }),
            class: *class,
        })
        .collect();
    let n_features = dim + shape.extra_features();
    let (softmax, report) = Softmax::train(&rows, classes.len(), n_features, c, Options::default());
    let Head { words, chars, .. } = shape;
    (
        Head::new(
            classes,
            with_vader,
            words,
            chars,
            softmax.weights,
            softmax.bias,
        ),
        report,
    )
}

/// Embeds every distinct text once, unit length.
async fn embed_all(
    embedder: &concierge::rag::embed::Embedder,
    texts: &[String],
) -> Result<HashMap<String, std::sync::Arc<[f32]>>> {
    let mut distinct: Vec<String> = texts.to_vec();
    distinct.sort();
    distinct.dedup();
    let vectors = embedder.embed_batch(distinct.clone()).await?;
    Ok(distinct
        .into_iter()
        .zip(vectors)
        .map(|(t, v)| (t, std::sync::Arc::from(unit(v))))
        .collect())
}

/// Trains both heads; the embedder is the server's.
pub async fn train_model(
    embedder: &concierge::rag::embed::Embedder,
    args: &Args,
) -> Result<EscalationModel> {
    let started = std::time::Instant::now();
    let intents = intent_examples(&args.escalation_data)?;
    let support_weight = args.support_weight.unwrap_or(SUPPORT_WEIGHT);
    let negativity_c = args.negativity_c.unwrap_or(NEGATIVITY_C);
    let negativity = negativity_examples(
        &args.sentiment,
        &args.escalation_data,
        support_weight,
        &args.bitext_calm,
        args.negativity_extra.as_deref(),
    )?;
    let intent_texts: Vec<String> = intents.iter().map(|(_, t)| normalize(t).into()).collect();
    let negativity_texts: Vec<String> = negativity
        .iter()
        .map(|(_, t)| normalize(t).into())
        .collect();
    let all: Vec<String> = intent_texts
        .iter()
        .chain(&negativity_texts)
        .cloned()
        .collect();
    let vectors = embed_all(embedder, &all).await?;
    eprintln!(
        "embedded {} distinct texts in {:.0} s",
        vectors.len(),
        started.elapsed().as_secs_f64()
    );
    let of = |texts: &[String]| -> Vec<std::sync::Arc<[f32]>> {
        texts.iter().map(|t| vectors[t].clone()).collect()
    };

    let mut classes = vec!["none".to_string()];
    classes.extend(Intent::ALL.iter().map(|i| i.as_str().to_string()));
    let labels: Vec<usize> = intents
        .iter()
        .map(|(i, _)| {
            i.map_or(0, |i| {
                1 + Intent::ALL.iter().position(|x| *x == i).unwrap_or(0)
            })
        })
        .collect();
    let t = std::time::Instant::now();
    let (intent_head, r1) = train_head(
        classes,
        &intent_texts,
        &of(&intent_texts),
        &labels,
        false,
        true,
        INTENT_C,
    );
    eprintln!(
        "intents: {} rows, {} iterations (converged: {}), {:.0} s",
        intents.len(),
        r1.iterations,
        r1.converged,
        t.elapsed().as_secs_f64()
    );
    let labels: Vec<usize> = negativity.iter().map(|(n, _)| usize::from(*n)).collect();
    let t = std::time::Instant::now();
    let (negativity_head, r2) = train_head(
        vec!["calm".into(), "negative".into()],
        &negativity_texts,
        &of(&negativity_texts),
        &labels,
        true,
        args.negativity_chars,
        negativity_c,
    );
    eprintln!(
        "negativity: {} rows, {} iterations (converged: {}), {:.0} s",
        negativity.len(),
        r2.iterations,
        r2.converged,
        t.elapsed().as_secs_f64()
    );
    let probe = embedder.embed_query(PROBE).await?;
    Ok(EscalationModel {
        format: FORMAT,
        about: format!(
            "Concierge's escalation classifier, written by `cargo xtask train-escalation` \
             (examples/triage/train.rs). Intents: {} texts (the project's phrases and turns, \
             the first half of the Bitext dev requests), C {INTENT_C}, min_df {MIN_DF}. \
             Negativity: {} texts (the VADER paper's rated tweets and review snippets, \
             negative at a mean rating <= {NEGATIVE_RATING}; the project's turns x \
             {support_weight}), C {negativity_c}{}.",
            intents.len(),
            negativity.len(),
            if args.negativity_chars {
                ", with character n-grams"
            } else {
                ""
            }
        ),
        embedding: EmbeddingId {
            model: "all-MiniLM-L6-v2 (int8 ONNX, mean pooling, unit length)".into(),
            dim: probe.len(),
            probe: probe.iter().map(|x| (x * 1e4).round() / 1e4).collect(),
        },
        intents: intent_head,
        negativity: negativity_head,
    })
}

/// `train`: writes the model file.
pub async fn train(args: &Args) -> Result<()> {
    let s = crate::setup::setup_with(None, None, false).await?;
    let embedder = s.escalations.knowledge.embedder().await?;
    let model = train_model(embedder, args).await?;
    let json = model.to_json();
    // The file must load as the server loads it.
    let back = EscalationModel::from_json(&json).context("the trained model parses")?;
    anyhow::ensure!(back.intents.bias == model.intents.bias, "round trip");
    std::fs::write(&args.out, format!("{json}\n"))
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({:.1} MB)",
        args.out.display(),
        json.len() as f64 / 1e6
    );
    Ok(())
}

#[cfg(test)]
mod tests;
