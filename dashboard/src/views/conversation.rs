//! One conversation: who the visitor is, the handoff packet when it was escalated, the
//! transcript (bot answers streaming in, their sources, the visitor's thumbs), the actions
//! (`Take over`, `Hand back`, `Resolve`) and the `Reply` composer.
//!
//! Visitor and bot text is only ever put in text nodes, never parsed as HTML; links are made
//! only of http(s) URLs and carry `rel="noopener noreferrer nofollow"`.

use concierge_protocol::api::VisitorView;
use concierge_protocol::{
    Author, ConversationStatus, FeedbackValue, Message, MessageState, MoodPoint, Source, Ticket,
};
use leptos::html;
use leptos::prelude::*;

use crate::format;
use crate::state::{AppState, Load};

const UNTRUSTED_REL: &str = "noopener noreferrer nofollow";

#[component]
pub fn ConversationPane(id: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = StoredValue::new(id);
    move || {
        match state.open_load.get() {
        Load::Loading => view! { <p class="muted" role="status">"Loading the conversation…"</p> }.into_any(),
        Load::Failed(e) => view! {
            <div class="error" role="alert">
                <p>"This conversation could not be loaded: " {e}</p>
                <button type="button" on:click=move |_| state.open_conversation(id.get_value())>"Try again"</button>
            </div>
        }
        .into_any(),
        Load::Ready => view! {
            <article class="conversation" aria-labelledby="conversation-title">
                <Header/>
                {move || state.action_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <div class="conversation-body">
                    <div class="thread">
                        {move || state.open.with(|o| o.as_ref().and_then(|d| d.ticket.clone())).map(|t| view! { <HandoffPacket ticket=t/> })}
                        <Transcript/>
                        <TypingLine/>
                        <Composer/>
                    </div>
                    <aside class="details" aria-label="Visitor details">
                        {move || state.open.with(|o| o.as_ref().map(|d| d.visitor.clone())).map(|v| view! { <VisitorDetails visitor=v/> })}
                        {move || state.open.with(|o| o.as_ref().and_then(|d| d.ticket.clone())).map(|t| view! { <TicketFacts ticket=t/> })}
                    </aside>
                </div>
            </article>
        }
        .into_any(),
    }
    }
}

#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let conversation = move || {
        state
            .open
            .with(|o| o.as_ref().map(|d| d.conversation.clone()))
    };
    move || {
        let Some(c) = conversation() else {
            return ().into_any();
        };
        let me = state
            .me
            .with(|m| m.as_ref().map(|m| m.agent.name.clone()))
            .unwrap_or_default();
        let mine =
            c.status == ConversationStatus::Agent && c.agent_name.as_deref() == Some(me.as_str());
        let who = match (&c.status, &c.agent_name) {
            (ConversationStatus::Agent, Some(name)) if mine => {
                format!("You ({name}) are answering")
            }
            (ConversationStatus::Agent, Some(name)) => format!("{name} is answering"),
            (s, _) => format::status(*s).to_string(),
        };
        let id = c.id.clone();
        let (a, b, d) = (id.clone(), id.clone(), id);
        view! {
            <header class="conversation-header">
                <a class="back" href="/app/">"← Inbox"</a>
                <h2 id="conversation-title">{format!("Visitor {}", c.visitor_id.chars().take(6).collect::<String>())}</h2>
                <span class=format!("badge status-{}", c.status.as_str())>{who}</span>
                <span class=format::mood_class(c.mood) role="img" aria-label=format!("Mood: {}", format::mood(c.mood))></span>
                <div class="actions">
                    {(!mine).then(|| view! { <button type="button" class="primary" on:click=move |_| state.act(a.clone(), "take-over")>"Take over"</button> })}
                    {(c.status == ConversationStatus::Agent || c.status == ConversationStatus::Waiting).then(|| view! {
                        <button type="button" on:click=move |_| state.act(b.clone(), "hand-back")>"Hand back"</button>
                    })}
                    {(c.status != ConversationStatus::Resolved).then(|| view! {
                        <button type="button" on:click=move |_| state.act(d.clone(), "resolve")>"Resolve"</button>
                    })}
                </div>
            </header>
        }
        .into_any()
    }
}

#[component]
fn HandoffPacket(ticket: Ticket) -> impl IntoView {
    let h = ticket.handoff;
    let reasons = if h.reasons.is_empty() {
        ticket.reasons.clone()
    } else {
        h.reasons.clone()
    };
    view! {
        <section class="handoff" aria-labelledby="handoff-title">
            <h3 id="handoff-title">"Handoff"</h3>
            <p class="summary">{h.summary}</p>
            <ul class="reasons" aria-label="Why it was escalated">
                {reasons.iter().map(|r| view! { <li class="badge reason">{format::reason(r.as_str())}</li> }).collect_view()}
            </ul>
            {(!h.mood.is_empty()).then(|| view! { <MoodTimeline points=h.mood.clone()/> })}
            {(!h.sources.is_empty()).then(|| view! {
                <div class="handoff-sources">
                    <h4>"Sources the bot used"</h4>
                    <Sources sources=h.sources.clone()/>
                </div>
            })}
        </section>
    }
}

/// The mood after each visitor message, as a small line (-1 at the bottom, 1 at the top).
#[component]
fn MoodTimeline(points: Vec<MoodPoint>) -> impl IntoView {
    // The picture's size, as in the `svg` below.
    let (w, h) = (240.0f32, 48.0f32);
    let n = points.len().max(2) as f32 - 1.0;
    // In tenths of a unit, as integers: formatting floats would bring core's float printer
    // (≈ 15 KB of wasm) into the app for this one picture.
    let coords: Vec<(i32, i32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                (i as f32 * w / n * 10.0).round() as i32,
                ((1.0 - (p.mood.clamp(-1.0, 1.0) + 1.0) / 2.0) * h * 10.0).round() as i32,
            )
        })
        .collect();
    let line = coords
        .iter()
        .map(|(x, y)| format!("{},{}", tenths(*x), tenths(*y)))
        .collect::<Vec<_>>()
        .join(" ");
    let words = points
        .iter()
        .map(|p| format::mood(Some(p.mood)).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", then ");
    view! {
        <figure class="mood-timeline">
            <svg viewBox="0 0 240 48" width="240" height="48" role="img"
                aria-label=format!("Mood over the conversation: {words}")>
                <line x1="0" y1="24" x2="240" y2="24" class="axis"></line>
                <polyline points=line class="trend" fill="none"></polyline>
                {coords.iter().map(|(x, y)| view! { <circle cx=tenths(*x) cy=tenths(*y) r="3" class="point"></circle> }).collect_view()}
            </svg>
            <figcaption>"Mood over the conversation"</figcaption>
        </figure>
    }
}

#[component]
fn Sources(sources: Vec<Source>) -> impl IntoView {
    view! {
        <ol class="sources">
            {sources.into_iter().map(|s| {
                let title = if s.section.is_empty() { s.title.clone() } else { format!("{} › {}", s.title, s.section) };
                let link = s.url.as_deref().and_then(format::safe_link).map(str::to_string);
                view! {
                    <li>
                        {match link {
                            Some(url) => view! { <a href=url target="_blank" rel=UNTRUSTED_REL>{title}</a> }.into_any(),
                            None => view! { <span>{title}</span> }.into_any(),
                        }}
                        <blockquote class="snippet">{s.snippet}</blockquote>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

#[component]
fn Transcript() -> impl IntoView {
    let state = expect_context::<AppState>();
    let list = NodeRef::<html::Div>::new();
    // Follow new messages while the agent is at the bottom.
    Effect::new(move |_| {
        state.transcript.track();
        state.pending.track();
        if let Some(el) = list.get() {
            let near_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 120;
            if near_bottom || el.scroll_top() == 0 {
                el.set_scroll_top(el.scroll_height());
            }
        }
    });
    let messages = move || {
        state
            .transcript
            .with(|t| t.values().cloned().collect::<Vec<_>>())
    };
    view! {
        <div class="transcript" node_ref=list role="log" aria-live="polite" aria-label="Transcript" tabindex="0">
        <ol class="messages">
            <For each=messages key=|m| (m.seq, m.text.len(), m.state == MessageState::Complete, m.sources.len()) let:m>
                <MessageItem m/>
            </For>
            <For each=move || state.pending.get() key=|p| (p.client_msg_id.clone(), p.failed.clone()) let:p>
                <li class="message agent pending">
                    <span class="author">"You"</span>
                    <p class="text">{p.text.clone()}</p>
                    {match p.failed.clone() {
                        None => view! { <span class="state" role="status">"Sending…"</span> }.into_any(),
                        Some(why) => {
                            let id = p.client_msg_id.clone();
                            view! {
                                <span class="state failed" role="alert">"Not sent: " {why}</span>
                                <button type="button" on:click=move |_| state.retry(id.clone())>"Retry"</button>
                            }.into_any()
                        }
                    }}
                </li>
            </For>
        </ol>
        </div>
    }
}

#[component]
fn MessageItem(m: Message) -> impl IntoView {
    let state = expect_context::<AppState>();
    let seq = m.seq;
    let (class, author) = match m.author {
        Author::Visitor => ("message visitor", "Visitor".to_string()),
        Author::Bot => ("message bot", "Bot".to_string()),
        Author::Agent => (
            "message agent",
            m.author_name.clone().unwrap_or_else(|| "Agent".into()),
        ),
        Author::System => ("message system", String::new()),
    };
    let at = format::parse_time(&m.created_at).unwrap_or(0.0);
    let streaming = m.state == MessageState::Streaming;
    let thumbs = move || {
        state.feedback.with(|f| f.get(&seq).copied()).map(|v| match v {
            FeedbackValue::Up => view! { <span class="thumb up" role="img" aria-label="The visitor found this helpful">"👍"</span> },
            FeedbackValue::Down => view! { <span class="thumb down" role="img" aria-label="The visitor found this unhelpful">"👎"</span> },
        })
    };
    let is_bot = m.author == Author::Bot;
    view! {
        <li class=class class:streaming=streaming>
            {(!author.is_empty()).then(|| view! { <span class="author">{author}</span> })}
            <time class="time" datetime=m.created_at.clone()>{move || format::ago(at, state.now.get())}</time>
            <p class="text">{m.text.clone()}</p>
            {streaming.then(|| view! { <span class="state">"Writing…"</span> })}
            {(is_bot && !m.sources.is_empty()).then(|| view! {
                <details class="message-sources">
                    <summary>{format!("Sources ({})", m.sources.len())}</summary>
                    <Sources sources=m.sources.clone()/>
                </details>
            })}
            {is_bot.then(thumbs)}
        </li>
    }
}

#[component]
fn TypingLine() -> impl IntoView {
    let state = expect_context::<AppState>();
    move || {
        let id = state
            .open
            .with(|o| o.as_ref().map(|d| d.conversation.id.clone()))?;
        let who = state.typing.with(|t| t.get(&id).map(|t| t.who.clone()))?;
        let who = if who == "visitor" {
            "The visitor".to_string()
        } else if who == "bot" {
            "The bot".to_string()
        } else {
            who
        };
        Some(view! { <p class="typing" role="status">{who} " is typing…"</p> })
    }
}

#[component]
fn Composer() -> impl IntoView {
    let state = expect_context::<AppState>();
    let text = RwSignal::new(String::new());
    let send = move || {
        let t = text.get_untracked();
        if t.trim().is_empty() {
            return;
        }
        state.reply(t.trim().to_string());
        text.set(String::new());
    };
    let open_id = move || {
        state
            .open
            .with_untracked(|o| o.as_ref().map(|d| d.conversation.id.clone()))
    };
    view! {
        <form class="composer" on:submit=move |e| { e.prevent_default(); send(); }>
            <label for="reply">"Reply"</label>
            <textarea id="reply" rows="3" placeholder="Write to the visitor… (Enter sends, Shift+Enter adds a line)"
                prop:value=move || text.get()
                on:input=move |e| {
                    text.set(event_target_value(&e));
                    if let Some(id) = open_id() { state.typing_on(&id); }
                }
                on:keydown=move |e| {
                    if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                        e.prevent_default();
                        send();
                    } else if e.key() == "Escape" {
                        if let Some(el) = e.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok()) {
                            let _ = el.blur();
                        }
                    }
                }
                on:blur=move |_| { if let Some(id) = open_id() { state.typing_off(&id); } }
            ></textarea>
            <button type="submit" class="primary">"Send"</button>
        </form>
    }
}

#[component]
fn VisitorDetails(visitor: Option<VisitorView>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let Some(v) = visitor else {
        return view! { <p class="muted">"No details about this visitor."</p> }.into_any();
    };
    let first = format::parse_time(&v.first_seen_at).unwrap_or(0.0);
    let page = v
        .page_url
        .as_deref()
        .and_then(format::safe_link)
        .map(str::to_string);
    view! {
        <section class="visitor-details" aria-labelledby="visitor-title">
            <h3 id="visitor-title">"Visitor"</h3>
            <dl>
                <dt>"Identity"</dt>
                <dd>{if v.identified { "Signed in on the site" } else { "Anonymous" }}</dd>
                {v.name.clone().map(|n| view! { <dt>"Name"</dt><dd>{n}</dd> })}
                {v.email.clone().map(|e| view! { <dt>"Email"</dt><dd>{e}</dd> })}
                {v.external_id.clone().map(|e| view! { <dt>"User id"</dt><dd>{e}</dd> })}
                <dt>"Page"</dt>
                <dd>{match page {
                    Some(url) => view! { <a href=url.clone() target="_blank" rel=UNTRUSTED_REL>{url.clone()}</a> }.into_any(),
                    None => view! { <span class="muted">"Unknown"</span> }.into_any(),
                }}</dd>
                <dt>"First seen"</dt>
                <dd><time datetime=v.first_seen_at.clone()>{move || format::ago_sentence(first, state.now.get())}</time></dd>
                <dt>"Language"</dt>
                <dd>{v.language.clone().unwrap_or_else(|| "Unknown".into())}</dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn TicketFacts(ticket: Ticket) -> impl IntoView {
    view! {
        <section class="ticket-facts" aria-labelledby="ticket-title">
            <h3 id="ticket-title">"Ticket"</h3>
            <dl>
                <dt>"Status"</dt><dd>{format::ticket_status(ticket.status)}</dd>
                <dt>"Priority"</dt><dd>{format::priority(ticket.priority)}</dd>
                {ticket.assigned_agent.clone().map(|a| view! { <dt>"Assigned to"</dt><dd>{a}</dd> })}
                {ticket.contact_email.clone().map(|e| view! { <dt>"Reply by email to"</dt><dd>{e}</dd> })}
            </dl>
        </section>
    }
}

/// `123` → `"12.3"` (non-negative tenths).
fn tenths(v: i32) -> String {
    format!("{}.{}", v / 10, v % 10)
}
