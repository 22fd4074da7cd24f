//! Analytics over a date range: conversations per day, the share the bot answered without a
//! person (deflection), escalations by reason, median time to the first human response,
//! thumbs, and the questions the bot could not answer.

use crate::api::enc;
use crate::format;
use concierge_protocol::owner_api::AnalyticsReport;
use leptos::prelude::*;

use crate::console::charts::{fmt, BarChart};
use crate::console::ui::{status_line, Loaded};

/// `YYYY-MM-DD` of a time in ms (UTC).
fn day(ms: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
    String::from(d.to_iso_string())
        .get(..10)
        .unwrap_or("")
        .to_string()
}

#[component]
pub fn AnalyticsScreen(site_key: String) -> impl IntoView {
    let now = js_sys::Date::now();
    let from = RwSignal::new(day(now - 29.0 * 86_400_000.0));
    let to = RwSignal::new(day(now));
    let site_key = StoredValue::new(site_key);
    let path = move || {
        format!(
            "/sites/{}/analytics?from={}&to={}",
            enc(&site_key.get_value()),
            enc(&from.get_untracked()),
            enc(&to.get_untracked())
        )
    };
    let report = Loaded::<AnalyticsReport>::get(path());
    let apply = move || report.set_path(path());
    view! {
        <form class="range" on:submit=move |e| { e.prevent_default(); apply(); }>
            <label>"From " <input type="date" prop:value=from on:change=move |e| { from.set(event_target_value(&e)); apply(); }/></label>
            <label>"To " <input type="date" prop:value=to on:change=move |e| { to.set(event_target_value(&e)); apply(); }/></label>
        </form>
        {status_line(report.state)}
        {move || report.value.get().map(|r| {
            let per_day: Vec<(String, f64)> = r.conversations_per_day.iter().map(|d| (d.day.clone(), d.count as f64)).collect();
            let reasons: Vec<(String, f64)> = r.escalations_by_reason.iter().map(|(k, v)| (format::reason(k), *v as f64)).collect();
            let deflection = r.deflection_rate.map_or("—".to_string(), |x| format!("{:.0} %", x * 100.0));
            let first = r.median_first_response_secs.map_or("—".to_string(), |s| format::duration(s * 1000.0));
            let thumbs = r.thumbs_up + r.thumbs_down;
            let gaps = r.top_knowledge_gaps.clone();
            view! {
                <dl class="figures">
                    <div><dt>"Conversations"</dt><dd>{r.conversations}</dd></div>
                    <div><dt>"Answered by the bot alone"</dt><dd>{deflection}</dd><dd class="muted small">{format!("{} of {}", r.deflected, r.conversations)}</dd></div>
                    <div><dt>"Escalations"</dt><dd>{r.escalations}</dd></div>
                    <div><dt>"Median first human response"</dt><dd>{first}</dd></div>
                    <div><dt>"Thumbs up / down"</dt><dd>{format!("{} / {}", r.thumbs_up, r.thumbs_down)}</dd>
                        <dd class="muted small">{if thumbs > 0 { format!("{} % positive", fmt((r.thumbs_up * 100 / thumbs) as f64)) } else { "no feedback yet".to_string() }}</dd></div>
                </dl>
                <h2>"Conversations per day"</h2>
                <BarChart bars=per_day title="Conversations per day"/>
                <h2>"Escalations by reason"</h2>
                {if reasons.is_empty() {
                    view! { <p class="muted">"No escalations in this period."</p> }.into_any()
                } else {
                    view! { <BarChart bars=reasons.clone() title="Escalations by reason"/>
                        <ul class="plain">{reasons.into_iter().map(|(k, v)| view! { <li>{k}": "{fmt(v)}</li> }).collect_view()}</ul> }.into_any()
                }}
                <h2>"Top knowledge gaps"</h2>
                {if gaps.is_empty() {
                    view! { <p class="muted">"The bot answered every question in this period."</p> }.into_any()
                } else {
                    view! { <ol class="gaps">{gaps.into_iter().map(|g| view! {
                        <li><span class="q">{g.question}</span>" "<span class="badge">{format!("× {}", g.count)}</span></li>
                    }).collect_view()}</ol>
                    <p><a href="/app/knowledge">"Fill the gaps in the knowledge base"</a></p> }.into_any()
                }}
            }
        })}
    }
}
