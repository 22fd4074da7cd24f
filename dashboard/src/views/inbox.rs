//! The inbox: filters, server-side search, and the live list of conversations (waiting for a
//! person first, longest wait first, then latest activity) beside the open conversation.

use concierge_protocol::api::InboxRow;
use concierge_protocol::{Author, ConversationStatus};
use leptos::prelude::*;

use super::conversation::ConversationPane;
use crate::format;
use crate::route::Route;
use crate::state::{AppState, Filter, Load};

#[component]
pub fn InboxScreen(#[prop(optional, into)] open: Option<String>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let has_open = open.is_some();
    if let Some(id) = open.clone() {
        state.open_conversation(id);
    } else {
        state.close_conversation();
    }
    view! {
        <div class="inbox" class:has-open=has_open>
            <section class="list-pane" aria-labelledby="inbox-title">
                <h1 id="inbox-title">"Inbox"</h1>
                <Filters/>
                <Search/>
                <ConversationList/>
            </section>
            <section class="conversation-pane" aria-label="Conversation">
                {match open {
                    Some(id) => view! { <ConversationPane id/> }.into_any(),
                    None => view! {
                        <div class="empty-pane">
                            <p>"Choose a conversation to read it and answer."</p>
                            <p class="hint">"Press " <kbd>"?"</kbd> " for keyboard shortcuts."</p>
                        </div>
                    }.into_any(),
                }}
            </section>
        </div>
    }
}

#[component]
fn Filters() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="filters" role="group" aria-label="Show">
            {Filter::ALL.into_iter().map(|f| view! {
                <button type="button"
                    aria-pressed=move || if state.filter.get() == f { "true" } else { "false" }
                    on:click=move |_| state.set_filter(f)>{f.label()}</button>
            }).collect_view()}
        </div>
    }
}

#[component]
fn Search() -> impl IntoView {
    let state = expect_context::<AppState>();
    let text = RwSignal::new(state.search.get_untracked());
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        state.search.set(text.get_untracked());
        state.rows.set(Default::default());
        state.load_inbox();
    };
    view! {
        <form class="search" role="search" on:submit=submit>
            <label for="inbox-search" class="visually-hidden">"Search conversations"</label>
            <input id="inbox-search" type="search" placeholder="Search messages…"
                prop:value=move || text.get()
                on:input=move |e| {
                    let v = event_target_value(&e);
                    // Clearing the box shows everything again at once.
                    if v.is_empty() && !state.search.get_untracked().is_empty() {
                        state.search.set(String::new());
                        state.load_inbox();
                    }
                    text.set(v);
                }/>
            <button type="submit">"Search"</button>
        </form>
    }
}

/// A row's key changes whenever what it shows changes, so it is drawn again.
fn row_key(state: &AppState, r: &InboxRow) -> String {
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}",
        r.conversation.id,
        r.conversation.updated_at,
        r.conversation.last_seq,
        r.conversation.status,
        r.conversation.mood,
        r.assignee_id,
        r.ticket.as_ref().map(|t| (&t.status, &t.priority)),
        state.unread(r),
        r.last_message,
    )
}

#[component]
fn ConversationList() -> impl IntoView {
    let state = expect_context::<AppState>();
    let rows = Memo::new(move |_| state.ordered_rows());
    let body = move || {
        match state.inbox.get() {
        Load::Loading => view! { <p class="muted" role="status">"Loading conversations…"</p> }.into_any(),
        Load::Failed(e) => view! {
            <div class="error" role="alert">
                <p>"The conversations could not be loaded: " {e}</p>
                <button type="button" on:click=move |_| state.load_inbox()>"Try again"</button>
            </div>
        }
        .into_any(),
        Load::Ready if rows.with(Vec::is_empty) => view! {
            <p class="muted empty">{move || if state.search.get().trim().is_empty() {
                "No conversations here yet. New ones appear as visitors write."
            } else {
                "No conversation contains that text."
            }}</p>
        }
        .into_any(),
        Load::Ready => view! {
            <ul class="rows" aria-label="Conversations">
                <For each=move || rows.get() key=move |r| row_key(&state, r) let:row>
                    <Row row/>
                </For>
            </ul>
            {move || state.next_cursor.get().is_some().then(|| view! {
                <button type="button" class="more" on:click=move |_| state.load_more()>"Load more"</button>
            })}
        }
        .into_any(),
    }
    };
    view! { <div class="list">{body}</div> }
}

#[component]
fn Row(row: InboxRow) -> impl IntoView {
    let state = expect_context::<AppState>();
    let c = &row.conversation;
    let id = c.id.clone();
    let href = Route::Conversation(id.clone()).path();
    let selected = {
        let id = id.clone();
        move || (state.route.get() == Route::Conversation(id.clone())).then_some("true")
    };
    let unread = state.unread(&row);
    let updated = format::parse_time(&c.updated_at).unwrap_or(0.0);
    let waiting = c.status == ConversationStatus::Waiting;
    let assignee = row.assignee_id.as_ref().and_then(|a| {
        state
            .agents
            .with_untracked(|agents| agents.iter().find(|x| &x.id == a).map(|x| x.name.clone()))
    });
    let assignee = assignee.or(c.agent_name.clone());
    // The visitor's last words lead; the latest reply (bot or agent) follows, smaller.
    let said = row
        .last_visitor_message
        .clone()
        .unwrap_or_else(|| "(the visitor has not written yet)".to_string());
    let reply = match row.last_author {
        Some(Author::Bot) => Some("Bot"),
        Some(Author::Agent) => Some("Agent"),
        _ => None,
    }
    .zip(row.last_message.clone())
    .map(|(who, text)| format!("{who}: {text}"));
    let mood = c.mood;
    let priority = row.ticket.as_ref().filter(|_| waiting).map(|t| {
        (
            format!("badge priority-{}", t.priority.as_str()),
            format::priority(t.priority),
        )
    });
    let status = format::status(c.status);
    let visitor = format!(
        "Visitor {}",
        &c.visitor_id.chars().take(6).collect::<String>()
    );
    view! {
        <li class="row" class:waiting=waiting class:unread={unread > 0}>
            <a id=format!("row-{id}") href=href aria-current=selected>
                <span class="row-top">
                    <span class=format::mood_class(mood) role="img" aria-label=format!("Mood: {}", format::mood(mood))></span>
                    <span class="visitor">{visitor}</span>
                    <span class="time">{move || format::ago(updated, state.now.get())}</span>
                </span>
                <span class="last">{said}</span>
                {reply.map(|r| view! { <span class="reply">{r}</span> })}
                <span class="row-bottom">
                    <span class=format!("badge status-{}", c.status.as_str())>{status}</span>
                    {priority.map(|(class, label)| view! { <span class=class>{label}</span> })}
                    {assignee.map(|name| view! { <span class="assignee">"Assigned to " {name}</span> })}
                    {(unread > 0).then(|| view! {
                        <span class="unread-count" aria-label=format!("{unread} unread")>{unread}</span>
                    })}
                </span>
            </a>
        </li>
    }
}
