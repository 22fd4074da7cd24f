//! Install: the embed snippet with the site key and a `Copy` button, signing a visitor's
//! identity on the site's server (Node, Python, PHP, Ruby, Go; the secret masked until
//! revealed), and Check installation: from which allowed origins the widget has connected.

use crate::api::{self, enc};
use crate::format;
use concierge_protocol::kb_api::InstallationView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::console::ui::{fail, status_line, CopyButton, Load, Loaded};

/// The line a site pastes into its pages.
pub fn snippet(origin: &str, site_key: &str) -> String {
    format!("<script src=\"{origin}/widget.js\" data-site-key=\"{site_key}\" async></script>")
}

/// Computing `user_hash = hex(HMAC-SHA256(identity secret, user_id))` on the site's server.
const IDENTITY_EXAMPLES: [(&str, &str); 5] = [
    (
        "Node",
        "const crypto = require('node:crypto');\n\
         const userHash = crypto\n  .createHmac('sha256', process.env.CONCIERGE_IDENTITY_SECRET)\n  \
         .update(String(user.id))\n  .digest('hex');",
    ),
    (
        "Python",
        "import hashlib, hmac, os\n\
         user_hash = hmac.new(\n    os.environ[\"CONCIERGE_IDENTITY_SECRET\"].encode(),\n    \
         str(user.id).encode(),\n    hashlib.sha256,\n).hexdigest()",
    ),
    (
        "PHP",
        "$userHash = hash_hmac('sha256', (string) $user->id, getenv('CONCIERGE_IDENTITY_SECRET'));",
    ),
    (
        "Ruby",
        "require 'openssl'\n\
         user_hash = OpenSSL::HMAC.hexdigest('SHA256', ENV.fetch('CONCIERGE_IDENTITY_SECRET'), user.id.to_s)",
    ),
    (
        "Go",
        "mac := hmac.New(sha256.New, []byte(os.Getenv(\"CONCIERGE_IDENTITY_SECRET\")))\n\
         mac.Write([]byte(userID))\n\
         userHash := hex.EncodeToString(mac.Sum(nil))",
    ),
];

/// The snippet loads `async`; by the page's `load` event it has run and `Concierge` exists.
const IDENTIFY_CALL: &str = "<script>\n  // On pages where the visitor is signed in on your site:\n  \
    window.addEventListener(\"load\", () => Concierge.identify({\n    user_id: \"USER_ID\",\n    \
    user_hash: \"USER_HASH\",   // from your server, as above\n    \
    email: \"ada@example.com\", // optional\n    name: \"Ada\"               // optional\n  }));\n</script>";

#[component]
pub fn InstallScreen(site_key: String) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let code = snippet(&origin, &site_key);
    let secret = RwSignal::new(None::<String>);
    let secret_state = RwSignal::new(Load::Ready);
    let key = site_key.clone();
    let reveal = move |_| {
        let key = key.clone();
        secret_state.set(Load::Loading);
        spawn_local(async move {
            match api::get::<Value>(&format!("/sites/{}/identity-secret", enc(&key))).await {
                Ok(v) => {
                    secret.set(v["identity_secret"].as_str().map(str::to_string));
                    secret_state.set(Load::Ready);
                }
                Err(e) => secret_state.set(Load::Failed(fail(e))),
            }
        });
    };
    let lang = RwSignal::new(0usize);
    view! {
        <h2>"1. Add the widget to your site"</h2>
        <p>"Paste this line into every page of your site, just before " <code>"</body>"</code> "."</p>
        <pre class="snippet" aria-label="Embed snippet"><code>{code.clone()}</code></pre>
        <CopyButton text=code/>
        <p class="muted small">"The site key is public: it only lets pages of your allowed origins (Settings) open a chat."</p>

        <h2>"2. Optional: tell the chat who your signed-in users are"</h2>
        <p>"Your server signs the user's id with the site's identity secret; the visitor then finds their conversations on every device, and agents see them as identified."</p>
        <div class="secret">
            <span>"Identity secret: "</span>
            {move || match secret.get() {
                Some(s) => view! { <code class="revealed">{s.clone()}</code> <CopyButton text=s label="Copy the identity secret"/> }.into_any(),
                None => view! { <code aria-label="hidden">"••••••••••••••••"</code>
                    <button type="button" on:click=reveal.clone()>"Reveal secret"</button> }.into_any(),
            }}
            {status_line(secret_state)}
        </div>
        <div class="tabs" role="tablist" aria-label="Server language">
            {IDENTITY_EXAMPLES.iter().enumerate().map(|(i, (name, _))| view! {
                <button type="button" role="tab" id=format!("lang-{i}") aria-controls="identity-example"
                    aria-selected=move || (lang.get() == i).to_string()
                    on:click=move |_| lang.set(i)>{*name}</button>
            }).collect_view()}
        </div>
        <div id="identity-example" role="tabpanel" aria-labelledby=move || format!("lang-{}", lang.get())>
            {move || {
                let (name, code) = IDENTITY_EXAMPLES[lang.get()];
                view! {
                    <pre class="snippet"><code>{code}</code></pre>
                    <CopyButton text=code.to_string() label=format!("Copy the {name} example")/>
                }
            }}
            <p>"Then, on the page:"</p>
            <pre class="snippet"><code>{IDENTIFY_CALL}</code></pre>
        </div>

        <h2>"3. Check installation"</h2>
        <CheckInstallation site_key=site_key/>
    }
}

#[component]
fn CheckInstallation(site_key: String) -> impl IntoView {
    let check = Loaded::<InstallationView>::get(format!("/sites/{}/installation", enc(&site_key)));
    let now = RwSignal::new(js_sys::Date::now());
    view! {
        <p>"Where the widget has connected from, by origin (scheme, host and port of the page):"</p>
        <button type="button" on:click=move |_| { now.set(js_sys::Date::now()); check.reload(); }>"Check installation"</button>
        {status_line(check.state)}
        {move || check.value.get().map(|inst| {
            if inst.origins.is_empty() {
                return view! { <p class="banner warn" role="status">"No allowed origin yet: add your site's address under "
                    <a href="/app/settings">"Settings"</a>" so its pages may open the chat."</p> }.into_any();
            }
            let now = now.get();
            view! {
                <table class="table">
                    <caption class="visually-hidden">"Widget connections by origin"</caption>
                    <thead><tr><th scope="col">"Origin"</th><th scope="col">"Allowed"</th><th scope="col">"Last connected"</th><th scope="col">"Connections"</th></tr></thead>
                    <tbody>
                        {inst.origins.into_iter().map(|o| {
                            let seen = o.last_seen_at.as_deref().and_then(format::parse_time);
                            let status = match seen {
                                Some(t) => format!("Connected {}", format::ago_sentence(t, now)),
                                None => "Not seen yet".to_string(),
                            };
                            let ok = seen.is_some() && o.allowed;
                            view! {
                                <tr class=if ok { "ok" } else { "" }>
                                    <td><code>{o.origin}</code></td>
                                    <td>{if o.allowed { "Yes" } else { "No — refused" }}</td>
                                    <td>{status}</td>
                                    <td>{o.connections}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        })}
    }
}
