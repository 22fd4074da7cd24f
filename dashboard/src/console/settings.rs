//! Settings, in sections with their own URLs (`/app/settings/{widget,bot,team,privacy}`):
//! the widget with a live preview (the real widget, in a frame), the bot's language model and
//! the escalation policy with a replay of recent conversations, the team and the site's keys,
//! and privacy (export or erase a visitor, retention, the audit log).

mod bot;
mod privacy;
mod team;
mod widget;

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Widget,
    Bot,
    Team,
    Privacy,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Widget,
        Section::Bot,
        Section::Team,
        Section::Privacy,
    ];

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.slug() == s)
    }

    pub fn slug(self) -> &'static str {
        match self {
            Section::Widget => "widget",
            Section::Bot => "bot",
            Section::Team => "team",
            Section::Privacy => "privacy",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Widget => "Widget",
            Section::Bot => "Bot and escalation",
            Section::Team => "Team and keys",
            Section::Privacy => "Privacy",
        }
    }
}

#[component]
pub fn SettingsScreen(section: Section, site_key: String) -> impl IntoView {
    let body = match section {
        Section::Widget => view! { <widget::WidgetSettings site_key=site_key/> }.into_any(),
        Section::Bot => view! { <bot::BotSettings site_key=site_key/> }.into_any(),
        Section::Team => view! { <team::TeamSettings site_key=site_key/> }.into_any(),
        Section::Privacy => view! { <privacy::PrivacySettings site_key=site_key/> }.into_any(),
    };
    view! {
        <nav class="subnav" aria-label="Settings">
            <ul>
                {Section::ALL.into_iter().map(|s| view! {
                    <li><a href=format!("/app/settings/{}", s.slug())
                        aria-current=(s == section).then_some("page")>{s.label()}</a></li>
                }).collect_view()}
            </ul>
        </nav>
        <h2>{section.label()}</h2>
        {body}
    }
}
