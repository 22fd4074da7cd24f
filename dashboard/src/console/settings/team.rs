//! Team and keys: the account's agents and their roles (change, remove), invitations, and the
//! site's public key and identity secret, each rotated only after a confirmation (the server
//! audits both).

use crate::api::{self, enc};
use concierge_protocol::api::{AgentView, Page};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{json, Value};

use crate::console::ui::{fail, outcome_line, status_line, Loaded, Outcome};
use crate::console::Ctx;

const ROLES: [(&str, &str); 3] = [
    ("agent", "Agent: answers visitors"),
    ("admin", "Admin: also settings and the team"),
    ("owner", "Owner: also the plan and the account"),
];

#[component]
pub fn TeamSettings(site_key: String) -> impl IntoView {
    view! {
        <Agents/>
        <Keys site_key=site_key/>
    }
}

#[component]
fn Agents() -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let agents = Loaded::<Page<AgentView>>::get("/agents?limit=200");
    let invitations = Loaded::<Page<Value>>::get("/invitations?limit=200");
    let outcome = RwSignal::new(Outcome::None);
    let confirm_remove = RwSignal::new(None::<String>);
    let me = move || ctx.context.with(|c| c.me.agent.id.clone());
    let act = move |path: String, body: Option<Value>, done: String| {
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            let r = match body {
                Some(b) => api::patch::<_, Value>(&path, &b).await.map(drop),
                None => api::delete(&path).await,
            };
            match r {
                Ok(()) => {
                    outcome.set(Outcome::Done(done));
                    agents.reload();
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_string());
    let invite = move || {
        let (e, r) = (
            email.get_untracked().trim().to_string(),
            role.get_untracked(),
        );
        if !e.contains('@') {
            outcome.set(Outcome::Failed(
                "Type the email address to send the invitation to.".into(),
            ));
            return;
        }
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::post::<_, Value>("/invitations", &json!({ "email": e, "role": r })).await {
                Ok(_) => {
                    email.set(String::new());
                    outcome.set(Outcome::Done(format!("Invitation sent to {e}.")));
                    invitations.reload();
                }
                Err(err) => outcome.set(Outcome::Failed(fail(err))),
            }
        });
    };
    view! {
        <section aria-labelledby="agents-title">
            <h3 id="agents-title">"Agents"</h3>
            {status_line(agents.state)}
            {outcome_line(outcome)}
            {move || agents.value.get().map(|page| view! {
                <table class="table">
                    <caption class="visually-hidden">"Agents"</caption>
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {page.items.into_iter().map(|a| {
                            let is_me = a.id == me();
                            let (id, id2, id3) = (a.id.clone(), a.id.clone(), a.id.clone());
                            let name = a.name.clone();
                            let current_role = a.role.clone();
                            view! {
                                <tr>
                                    <td>{a.name.clone()}{is_me.then_some(" (you)")}</td>
                                    <td>{a.email.clone()}</td>
                                    <td>
                                        <select aria-label=format!("Role of {}", a.name) disabled=is_me
                                            on:change=move |e| {
                                                let r = event_target_value(&e);
                                                act(format!("/agents/{}", enc(&id)), Some(json!({ "role": r })), format!("Role changed to {r}."));
                                            }>
                                            {ROLES.into_iter().map(|(r, label)| view! {
                                                <option value=r selected=current_role == r>{label}</option>
                                            }).collect_view()}
                                        </select>
                                    </td>
                                    <td class="row-actions">
                                        {move || if is_me {
                                            None
                                        } else if confirm_remove.get().as_deref() == Some(id2.as_str()) {
                                            let (id, name) = (id3.clone(), name.clone());
                                            Some(view! {
                                                <span>{format!("Remove {name}? They are signed out at once. ")}</span>
                                                <button type="button" class="danger" on:click=move |_| { confirm_remove.set(None); act(format!("/agents/{}", enc(&id)), None, format!("{name} was removed.")); }>"Yes, remove"</button>
                                                <button type="button" class="quiet" on:click=move |_| confirm_remove.set(None)>"Cancel"</button>
                                            }.into_any())
                                        } else {
                                            let id = id2.clone();
                                            Some(view! { <button type="button" class="quiet" aria-label=format!("Remove {name}") on:click=move |_| confirm_remove.set(Some(id.clone()))>"Remove"</button> }.into_any())
                                        }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <form class="invite" on:submit=move |e| { e.prevent_default(); invite(); }>
                <h4>"Invite someone"</h4>
                <label for="invite-email">"Email of the person to invite"</label>
                <input id="invite-email" type="email" prop:value=email on:input=move |e| email.set(event_target_value(&e))/>
                <label for="invite-role">"Role"</label>
                <select id="invite-role" on:change=move |e| role.set(event_target_value(&e))>
                    {ROLES.into_iter().map(|(r, label)| view! { <option value=r selected=r == "agent">{label}</option> }).collect_view()}
                </select>
                <button type="submit">"Send invitation"</button>
            </form>
            {move || invitations.value.get().filter(|p| !p.items.is_empty()).map(|p| view! {
                <h4>"Invitations not accepted yet"</h4>
                <ul class="plain">
                    {p.items.into_iter().map(|i| view! {
                        <li>{i["email"].as_str().unwrap_or("").to_string()}" — "{i["role"].as_str().unwrap_or("").to_string()}</li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
fn Keys(site_key: String) -> impl IntoView {
    let confirm = RwSignal::new(None::<&'static str>);
    let outcome = RwSignal::new(Outcome::None);
    let new_secret = RwSignal::new(None::<String>);
    let base = StoredValue::new(format!("/sites/{}", enc(&site_key)));
    let rotate = move |what: &'static str| {
        let path = if what == "key" {
            format!("{}/rotate-key", base.get_value())
        } else {
            format!("{}/identity-secret/rotate", base.get_value())
        };
        outcome.set(Outcome::Busy);
        spawn_local(async move {
            match api::post::<_, Value>(&path, &json!({ "confirm": true })).await {
                Ok(v) if what == "key" => {
                    let key = v["site_key"].as_str().unwrap_or("").to_string();
                    outcome.set(Outcome::Done(format!(
                        "The site key is now {key}. Pages with the old snippet no longer open the chat: update them (Install). The dashboard reloads with the new key."
                    )));
                    crate::console::kb::sleep(2500).await;
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().reload();
                    }
                }
                Ok(v) => {
                    new_secret.set(v["identity_secret"].as_str().map(str::to_string));
                    outcome.set(Outcome::Done("A new identity secret is in force: update your server's CONCIERGE_IDENTITY_SECRET; hashes made with the old one no longer verify.".into()));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let question = |what: &str| {
        if what == "key" {
            "Rotate the site key? The widget stops opening on every page that still has the old snippet until you update it."
        } else {
            "Rotate the identity secret? Signed-in visitors stop being recognised until your server signs with the new secret."
        }
    };
    view! {
        <section aria-labelledby="keys-title">
            <h3 id="keys-title">"Keys"</h3>
            <p>"Site key (public, in the snippet): " <code>{site_key.clone()}</code></p>
            <div class="form-actions">
                <button type="button" on:click=move |_| confirm.set(Some("key"))>"Rotate site key"</button>
                <button type="button" on:click=move |_| confirm.set(Some("secret"))>"Rotate identity secret"</button>
            </div>
            {move || confirm.get().map(|what| view! {
                <div class="confirm" role="alertdialog" aria-labelledby="confirm-q">
                    <p id="confirm-q">{question(what)}</p>
                    <button type="button" class="danger" on:click=move |_| { confirm.set(None); rotate(what); }>"Yes, rotate"</button>
                    <button type="button" class="quiet" on:click=move |_| confirm.set(None)>"Cancel"</button>
                </div>
            })}
            {outcome_line(outcome)}
            {move || new_secret.get().map(|s| view! { <p>"New identity secret: "<code>{s}</code></p> })}
        </section>
    }
}
