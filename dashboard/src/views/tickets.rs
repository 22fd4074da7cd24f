//! The ticket queue: escalations by priority then age, with a first-response timer running
//! until a person answers, `Assign to me`, assignment to another agent and status changes.

use concierge_protocol::{Ticket, TicketStatus};
use leptos::prelude::*;

use crate::format;
use crate::route::Route;
use crate::state::{AppState, Load};

#[component]
pub fn TicketsScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let show_solved = RwSignal::new(false);
    let queue = Memo::new(move |_| {
        let solved = show_solved.get();
        let mut t: Vec<Ticket> = state.tickets.with(|all| {
            all.values()
                .filter(|t| solved || t.status != TicketStatus::Solved)
                .cloned()
                .collect()
        });
        t.sort_by(|a, b| {
            (a.status == TicketStatus::Solved)
                .cmp(&(b.status == TicketStatus::Solved))
                .then(b.priority.cmp(&a.priority))
                .then(a.created_at.cmp(&b.created_at))
        });
        t
    });
    let body = move || {
        match state.tickets_load.get() {
        Load::Loading => view! { <p class="muted" role="status">"Loading tickets…"</p> }.into_any(),
        Load::Failed(e) => view! {
            <div class="error" role="alert">
                <p>"The tickets could not be loaded: " {e}</p>
                <button type="button" on:click=move |_| state.load_tickets()>"Try again"</button>
            </div>
        }
        .into_any(),
        Load::Ready if queue.with(Vec::is_empty) => view! {
            <p class="muted empty">"No tickets waiting. Escalated conversations appear here."</p>
        }
        .into_any(),
        Load::Ready => view! {
            <table class="tickets">
                <caption class="visually-hidden">"Tickets, most urgent first, then oldest"</caption>
                <thead><tr>
                    <th scope="col">"Priority"</th>
                    <th scope="col">"Conversation"</th>
                    <th scope="col">"First response"</th>
                    <th scope="col">"Assigned to"</th>
                    <th scope="col">"Status"</th>
                </tr></thead>
                <tbody>
                    <For each=move || queue.get()
                        key=|t| (t.id.clone(), t.updated_at.clone(), t.status, t.assigned_agent_id.clone())
                        let:t>
                        <TicketRow t/>
                    </For>
                </tbody>
            </table>
        }
        .into_any(),
    }
    };
    view! {
        <section class="screen">
            <h1>"Tickets"</h1>
            <label class="inline">
                <input type="checkbox" prop:checked=move || show_solved.get()
                    on:change=move |e| show_solved.set(event_target_checked(&e))/>
                " Show solved tickets"
            </label>
            {body}
        </section>
    }
}

#[component]
fn TicketRow(t: Ticket) -> impl IntoView {
    let state = expect_context::<AppState>();
    let created = format::parse_time(&t.created_at).unwrap_or(0.0);
    let answered = t.first_response_at.as_deref().and_then(format::parse_time);
    let timer = move || match answered {
        Some(at) => format!("answered after {}", format::duration(at - created)),
        None => format!("waiting {}", format::duration(state.now.get() - created)),
    };
    let me = state.my_id();
    let mine = t.assigned_agent_id.as_deref() == Some(me.as_str());
    let summary = t.handoff.summary.clone();
    let reasons = t
        .reasons
        .iter()
        .map(|r| format::reason(r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let (t1, t2, t3) = (t.clone(), t.clone(), t.clone());
    let label = format!("ticket {}", t.id.chars().take(6).collect::<String>());
    view! {
        <tr class=format!("ticket priority-{}", t.priority.as_str())>
            <td><span class=format!("badge priority-{}", t.priority.as_str())>{format::priority(t.priority)}</span></td>
            <td>
                <a href=Route::Conversation(t.conversation_id.clone()).path()>{summary}</a>
                <div class="muted small">{reasons}</div>
            </td>
            <td class:late=answered.is_none()>{timer}</td>
            <td>
                {t.assigned_agent.clone().unwrap_or_else(|| "Nobody".into())}
                <div class="assign">
                    {(!mine).then(|| view! {
                        <button type="button" on:click=move |_| state.assign_ticket(t1.clone(), Some(state.my_id()))>"Assign to me"</button>
                    })}
                    <select aria-label=format!("Assign {label} to")
                        on:change=move |e| {
                            let v = event_target_value(&e);
                            state.assign_ticket(t2.clone(), (!v.is_empty()).then_some(v));
                        }>
                        <option value="" selected=t.assigned_agent_id.is_none()>"Nobody"</option>
                        {move || state.agents.get().into_iter().map(|a| {
                            let selected = t.assigned_agent_id.as_deref() == Some(a.id.as_str());
                            view! { <option value=a.id selected=selected>{a.name}</option> }
                        }).collect_view()}
                    </select>
                </div>
            </td>
            <td>
                <select aria-label=format!("Status of {label}")
                    on:change=move |e| {
                        let s = match event_target_value(&e).as_str() {
                            "open" => TicketStatus::Open,
                            "pending" => TicketStatus::Pending,
                            _ => TicketStatus::Solved,
                        };
                        state.set_ticket_status(t3.clone(), s);
                    }>
                    {[TicketStatus::Open, TicketStatus::Pending, TicketStatus::Solved].into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s == t.status>{format::ticket_status(s)}</option>
                    }).collect_view()}
                </select>
            </td>
        </tr>
    }
}
