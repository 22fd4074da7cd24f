//! Usage and plan: this month's figures against the plan's limits, the bot's answers per day,
//! and in words what the 80 % warning and the limit mean for visitors.

use concierge_protocol::owner_api::UsageReport;
use leptos::prelude::*;

use crate::console::charts::{BarChart, Meter};
use crate::console::ui::{status_line, Loaded};

#[component]
pub fn UsageScreen(site_key: String) -> impl IntoView {
    // Usage is the account's (all its sites), whichever site is picked.
    let _ = site_key;
    let report = Loaded::<UsageReport>::get("/usage");
    view! {
        {status_line(report.state)}
        {move || report.value.get().map(|r| {
            let month = r.period.start.get(..7).unwrap_or("").to_string();
            let answers = r.bot_answers;
            let state = match answers.limit {
                Some(l) if answers.used >= l => Some(("banner error", format!(
                    "The plan's {l} bot answers for this month are used up. Visitors' messages are \
                     still received and kept, but the bot no longer answers them: each one opens a \
                     ticket for your team instead, until the next month starts or the plan grows."))),
                Some(l) if answers.used as f64 >= 0.8 * l as f64 => Some(("banner warn", format!(
                    "{} of this month's {l} bot answers are used ({} %). At the limit the bot stops \
                     answering and visitors' messages go to your team as tickets.",
                    answers.used, answers.used * 100 / l.max(1)))),
                _ => None,
            };
            let others: Vec<String> = r.warnings.iter()
                .filter(|w| w.limit != "bot_answers")
                .map(|w| w.message.clone())
                .collect();
            let daily: Vec<(String, f64)> = r.daily_bot_answers.iter()
                .map(|d| (d.day.clone(), d.count as f64))
                .collect();
            view! {
                <p>"Plan " <strong>{r.plan.name.clone()}</strong> ", " {month} " (UTC)."</p>
                {state.map(|(class, text)| view! { <p class=class role="alert">{text}</p> })}
                {others.into_iter().map(|w| view! { <p class="banner warn" role="alert">{w}</p> }).collect_view()}
                <div class="meters">
                    <Meter label="Bot answers" used=answers.used limit=answers.limit/>
                    <Meter label="Seats" used=r.seats.used limit=r.seats.limit/>
                    <Meter label="Documents" used=r.documents.used limit=r.documents.limit/>
                    <Meter label="Sites" used=r.sites.used limit=r.sites.limit/>
                    <Meter label="LLM tokens" used=r.llm_tokens.used limit=r.llm_tokens.limit/>
                </div>
                <h2>"Bot answers per day"</h2>
                <BarChart bars=daily title="Bot answers per day"/>
            }
        })}
    }
}
