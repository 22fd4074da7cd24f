//! The ticket queue: loading every site's tickets, assigning, changing status.

use std::collections::HashMap;

use concierge_protocol::api::{AssignBody, Page, TicketStatusBody};
use concierge_protocol::{Ticket, TicketStatus};
use leptos::task::spawn_local;

use super::{AppState, Load, ANNOUNCED};
use crate::api::{self, enc};

impl AppState {
    // ---- tickets ----------------------------------------------------------------------------

    pub fn load_tickets(self) {
        let sites = self.sites.get_untracked();
        spawn_local(async move {
            let mut all = HashMap::new();
            for site in &sites {
                let mut cursor: Option<String> = None;
                loop {
                    let mut path = format!("/sites/{}/tickets?limit=200", enc(&site.site_key));
                    if let Some(c) = &cursor {
                        path.push_str(&format!("&cursor={}", enc(c)));
                    }
                    match api::get::<Page<Ticket>>(&path).await {
                        Ok(page) => {
                            for t in page.items {
                                all.insert(t.id.clone(), t);
                            }
                            cursor = page.next_cursor;
                            if cursor.is_none() {
                                break;
                            }
                        }
                        Err(e) => {
                            let msg = self.failed(&e);
                            self.tickets_load.set(Load::Failed(msg));
                            return;
                        }
                    }
                }
            }
            ANNOUNCED.with(|a| {
                let mut a = a.borrow_mut();
                for t in all.values() {
                    a.entry(t.id.clone()).or_insert(t.escalations);
                }
            });
            self.tickets.set(all);
            self.tickets_load.set(Load::Ready);
        });
    }

    /// Escalations waiting for a person: the number in the tab title.
    pub fn waiting_count(&self) -> u32 {
        self.tickets.with(|t| {
            t.values()
                .filter(|t| t.status == TicketStatus::Open)
                .count() as u32
        })
    }

    pub fn assign_ticket(self, ticket: Ticket, agent_id: Option<String>) {
        spawn_local(async move {
            let path = format!(
                "/sites/{}/tickets/{}/assign",
                enc(&ticket.site_key),
                enc(&ticket.id)
            );
            match api::post::<_, Ticket>(&path, &AssignBody { agent_id }).await {
                Ok(t) => {
                    self.say(match &t.assigned_agent {
                        Some(name) => format!("Assigned to {name}."),
                        None => "Unassigned.".to_string(),
                    });
                    self.ticket_changed(t);
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.say(format!("Not assigned: {msg}"));
                }
            }
        });
    }

    pub fn set_ticket_status(self, ticket: Ticket, status: TicketStatus) {
        spawn_local(async move {
            let path = format!(
                "/sites/{}/tickets/{}",
                enc(&ticket.site_key),
                enc(&ticket.id)
            );
            match api::patch::<_, Ticket>(&path, &TicketStatusBody { status }).await {
                Ok(t) => {
                    self.say(format!(
                        "Ticket is now {}.",
                        crate::format::ticket_status(t.status).to_ascii_lowercase()
                    ));
                    self.ticket_changed(t);
                }
                Err(e) => {
                    let msg = self.failed(&e);
                    self.say(format!("Status not changed: {msg}"));
                }
            }
        });
    }
}
