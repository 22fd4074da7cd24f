//! Small inline SVG charts, written here rather than pulled from a JS charting bundle: a bar
//! per day (or per reason) and a usage meter. Each has a text alternative.

use leptos::prelude::*;

/// Bars with labels, e.g. one per UTC day `("2026-12-01", 4.0)`.
#[component]
pub fn BarChart(
    bars: Vec<(String, f64)>,
    /// What is counted, for the text alternative ("Conversations per day").
    #[prop(into)]
    title: String,
) -> impl IntoView {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let total: f64 = bars.iter().map(|b| b.1).sum();
    let (w, h) = (600.0_f64, 120.0_f64);
    let n = bars.len().max(1) as f64;
    let step = w / n;
    let bar_w = (step * 0.8).max(1.0);
    let summary = match bars.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        Some((label, v)) if total > 0.0 => {
            format!(
                "{title}: {} in all; most on {label} ({})",
                fmt(total),
                fmt(*v)
            )
        }
        _ => format!("{title}: none in this period"),
    };
    let first = bars.first().map(|b| b.0.clone()).unwrap_or_default();
    let last = bars.last().map(|b| b.0.clone()).unwrap_or_default();
    let rects = bars
        .into_iter()
        .enumerate()
        .map(|(i, (label, v))| {
            let bh = if max > 0.0 {
                (v / max) * (h - 4.0)
            } else {
                0.0
            };
            let x = i as f64 * step + (step - bar_w) / 2.0;
            view! {
                <rect x=format!("{x:.1}") y=format!("{:.1}", h - bh) width=format!("{bar_w:.1}")
                    height=format!("{:.1}", bh.max(if v > 0.0 { 1.0 } else { 0.0 }))>
                    <title>{format!("{label}: {}", fmt(v))}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {w} {h}") preserveAspectRatio="none" role="img" aria-label=summary.clone()>
                {rects}
            </svg>
            <figcaption class="muted small"><span>{first}</span><span>{summary}</span><span>{last}</span></figcaption>
        </figure>
    }
}

/// "used / limit" with a bar; `limit` None is unlimited.
#[component]
pub fn Meter(#[prop(into)] label: String, used: i64, limit: Option<i64>) -> impl IntoView {
    let (text, share) = match limit {
        Some(l) if l > 0 => (
            format!("{used} / {l}"),
            (used as f64 / l as f64).clamp(0.0, 1.0),
        ),
        Some(_) => (format!("{used} / 0"), 1.0),
        None => (format!("{used} (no limit)"), 0.0),
    };
    let level = if share >= 1.0 {
        "meter full"
    } else if share >= 0.8 {
        "meter warn"
    } else {
        "meter"
    };
    let pct = (share * 100.0).round();
    let alt = match limit {
        Some(_) => format!("{label}: {text} ({pct} %)"),
        None => format!("{label}: {text}"),
    };
    view! {
        <div class="meter-row">
            <span class="meter-label">{label}</span>
            <span class="meter-value">{text}</span>
            <svg class=level viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label=alt>
                <rect class="meter-track" width="100" height="6"></rect>
                <rect class="meter-fill" width=format!("{pct}") height="6"></rect>
            </svg>
        </div>
    }
}

/// A count as text: whole numbers without decimals.
pub fn fmt(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
