//! Screens before sign-in: sign in, forgotten password, accept an invitation, choose a new
//! password from a reset link. Errors are said in words next to the form.

use concierge_protocol::api::{
    AcceptInvitationBody, MeView, NewPasswordBody, ResetRequestBody, SessionView, SignInBody,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, enc};
use crate::route::Route;
use crate::state::AppState;
use crate::views::chunk;

/// The screen for a public route; each form is a chunk of its own (see [`chunk`]), so a first
/// visit fetches the sign-in form only.
pub fn public(state: AppState) -> AnyView {
    (move || match state.route.get() {
        Route::Forgot => chunk::lazily(|| Box::pin(forgot_screen())),
        Route::AcceptInvitation(_) => chunk::lazily(|| Box::pin(invitation_screen())),
        Route::ResetPassword(_) => chunk::lazily(|| Box::pin(reset_screen())),
        _ => chunk::lazily(|| Box::pin(sign_in_screen())),
    })
    .into_any()
}

/// The token of an invitation or reset link (the route the screen was built for).
fn token() -> String {
    match expect_context::<AppState>().route.get_untracked() {
        Route::AcceptInvitation(t) | Route::ResetPassword(t) => t,
        _ => String::new(),
    }
}

#[leptos::wasm_split::wasm_split(sign_in, wasm_split_path = ::leptos::wasm_split, fallible)]
fn sign_in_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <SignIn/> }.into_any())
}

#[leptos::wasm_split::wasm_split(forgot, wasm_split_path = ::leptos::wasm_split, fallible)]
fn forgot_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <Forgot/> }.into_any())
}

#[leptos::wasm_split::wasm_split(invitation, wasm_split_path = ::leptos::wasm_split, fallible)]
fn invitation_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <AcceptInvitation token=token()/> }.into_any())
}

#[leptos::wasm_split::wasm_split(reset, wasm_split_path = ::leptos::wasm_split, fallible)]
fn reset_screen() -> Result<chunk::Screen, chunk::ChunkError> {
    Ok(|| view! { <ResetPassword token=token()/> }.into_any())
}

/// A signed-in answer: ask `/me` for the account too, then start the app.
fn start_session(state: AppState, s: SessionView) {
    api::set_csrf(s.csrf_token.clone());
    spawn_local(async move {
        let me = api::get::<MeView>("/me").await.unwrap_or(MeView {
            agent: s.agent,
            csrf_token: s.csrf_token,
            account: None,
        });
        state.signed_in(me);
    });
}

#[component]
fn FormError(error: RwSignal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="form-error" role="alert">{e}</p> })
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let state = expect_context::<AppState>();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let body = SignInBody {
            email: email.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        if body.email.is_empty() || body.password.is_empty() {
            error.set(Some("Enter your email and your password.".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::post::<_, SessionView>("/session", &body).await {
                Ok(s) => start_session(state, s),
                Err(e) => {
                    error.set(Some(match e.code.as_str() {
                        "invalid_credentials" => {
                            "That email and password do not match an account.".to_string()
                        }
                        "rate_limited" => {
                            "Too many attempts. Wait a minute, then try again.".to_string()
                        }
                        _ => e.message,
                    }));
                    password.set(String::new());
                }
            }
            busy.set(false);
        });
    };
    view! {
        <main class="auth" id="main">
            <h1>"Sign in to Concierge"</h1>
            <form on:submit=submit novalidate>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required
                    prop:value=move || email.get() on:input=move |e| email.set(event_target_value(&e))/>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
                <FormError error/>
                <button type="submit" class="primary" disabled=move || busy.get()>"Sign in"</button>
            </form>
            <p><a href=Route::Forgot.path()>"Forgot your password?"</a></p>
        </main>
    }
}

#[component]
fn Forgot() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sent = RwSignal::new(false);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let body = ResetRequestBody {
            email: email.get_untracked().trim().to_string(),
        };
        if !body.email.contains('@') {
            error.set(Some("Enter the email address you sign in with.".into()));
            return;
        }
        error.set(None);
        spawn_local(async move {
            match api::post_ignored("/password-resets", &body).await {
                Ok(()) => sent.set(true),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <main class="auth" id="main">
            <h1>"Reset your password"</h1>
            {move || if sent.get() {
                view! { <p role="status">"If that address has an account, a link to choose a new password is on its way. It works once and expires soon."</p> }.into_any()
            } else {
                view! {
                    <form on:submit=submit novalidate>
                        <label for="email">"Email"</label>
                        <input id="email" type="email" autocomplete="username" required
                            prop:value=move || email.get() on:input=move |e| email.set(event_target_value(&e))/>
                        <FormError error/>
                        <button type="submit" class="primary">"Send the link"</button>
                    </form>
                }.into_any()
            }}
            <p><a href=Route::SignIn.path()>"Back to sign in"</a></p>
        </main>
    }
}

fn password_problem(password: &str, confirm: &str) -> Option<String> {
    if password.chars().count() < 10 {
        Some("Choose a password of at least 10 characters.".into())
    } else if password != confirm {
        Some("The two passwords are not the same.".into())
    } else {
        None
    }
}

#[component]
fn AcceptInvitation(token: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (p, c) = (password.get_untracked(), confirm.get_untracked());
        if name.get_untracked().trim().is_empty() {
            error.set(Some(
                "Enter your name: visitors see it when you join a chat.".into(),
            ));
            return;
        }
        if let Some(problem) = password_problem(&p, &c) {
            error.set(Some(problem));
            return;
        }
        let body = AcceptInvitationBody {
            name: name.get_untracked().trim().to_string(),
            password: p,
        };
        error.set(None);
        let path = format!("/invitations/{}/accept", enc(&token.get_value()));
        spawn_local(async move {
            match api::post::<_, SessionView>(&path, &body).await {
                Ok(s) => start_session(state, s),
                Err(e) => error.set(Some(match e.status {
                    404 | 410 => "This invitation is no longer valid: it was used or has expired. Ask for a new one.".into(),
                    _ => e.message,
                })),
            }
        });
    };
    view! {
        <main class="auth" id="main">
            <h1>"Join your team"</h1>
            <form on:submit=submit novalidate>
                <label for="name">"Your name"</label>
                <input id="name" autocomplete="name" required
                    prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="new-password" required
                    prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
                <label for="confirm">"Repeat the password"</label>
                <input id="confirm" type="password" autocomplete="new-password" required
                    prop:value=move || confirm.get() on:input=move |e| confirm.set(event_target_value(&e))/>
                <FormError error/>
                <button type="submit" class="primary">"Join"</button>
            </form>
        </main>
    }
}

#[component]
fn ResetPassword(token: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let token = StoredValue::new(token);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let (p, c) = (password.get_untracked(), confirm.get_untracked());
        if let Some(problem) = password_problem(&p, &c) {
            error.set(Some(problem));
            return;
        }
        error.set(None);
        let path = format!("/password-resets/{}/accept", enc(&token.get_value()));
        spawn_local(async move {
            match api::post::<_, SessionView>(&path, &NewPasswordBody { password: p }).await {
                Ok(s) => start_session(state, s),
                Err(e) => error.set(Some(match e.status {
                    404 | 410 => "This link is no longer valid: it was used or has expired. Ask for a new one.".into(),
                    _ => e.message,
                })),
            }
        });
    };
    view! {
        <main class="auth" id="main">
            <h1>"Choose a new password"</h1>
            <form on:submit=submit novalidate>
                <label for="password">"New password"</label>
                <input id="password" type="password" autocomplete="new-password" required
                    prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
                <label for="confirm">"Repeat the password"</label>
                <input id="confirm" type="password" autocomplete="new-password" required
                    prop:value=move || confirm.get() on:input=move |e| confirm.set(event_target_value(&e))/>
                <FormError error/>
                <button type="submit" class="primary">"Set the password"</button>
            </form>
            <p><a href=Route::Forgot.path()>"Ask for a new link"</a></p>
        </main>
    }
}
