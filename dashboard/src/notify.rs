//! A new escalation gets the agent's attention: a short tone (Web Audio, no sound file to
//! download), a desktop notification when the agent allowed them (asked once, from a click),
//! and a count in the tab title until the agent looks at the inbox.

use wasm_bindgen::JsCast;
use web_sys::{AudioContext, Notification, NotificationOptions, NotificationPermission};

thread_local! {
    /// Created on the first sound (browsers only start audio after a user gesture anyway).
    static AUDIO: std::cell::RefCell<Option<AudioContext>> = const { std::cell::RefCell::new(None) };
}

/// Two short notes.
pub fn chime() {
    AUDIO.with(|a| {
        let mut a = a.borrow_mut();
        if a.is_none() {
            *a = AudioContext::new().ok();
        }
        let Some(ctx) = a.as_ref() else { return };
        let now = ctx.current_time();
        for (i, freq) in [880.0f32, 1318.5].into_iter().enumerate() {
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
                return;
            };
            let start = now + i as f64 * 0.16;
            osc.frequency().set_value(freq);
            let g = gain.gain();
            let _ = g.set_value_at_time(0.0001, start);
            let _ = g.exponential_ramp_to_value_at_time(0.2, start + 0.02);
            let _ = g.exponential_ramp_to_value_at_time(0.0001, start + 0.15);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(start);
            let _ = osc.stop_with_when(start + 0.16);
        }
    });
}

/// Whether the browser supports notifications and the agent has not answered yet.
pub fn can_ask() -> bool {
    supported() && Notification::permission() == NotificationPermission::Default
}

fn supported() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::has(&w, &"Notification".into()).ok())
        .unwrap_or(false)
}

/// Asks for permission (call from a click); `done` runs with whether it was granted.
pub fn ask(done: impl FnOnce(bool) + 'static) {
    if !supported() {
        return done(false);
    }
    let Ok(promise) = Notification::request_permission() else {
        return done(false);
    };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = wasm_bindgen_futures::JsFuture::from(promise).await;
        done(answer.ok().and_then(|v| v.as_string()).as_deref() == Some("granted"));
    });
}

/// A desktop notification, when allowed; clicking it focuses the tab and opens `path`.
pub fn desktop(title: &str, body: &str, path: String) {
    if !supported() || Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag("concierge-escalation");
    if let Ok(n) = Notification::new_with_options(title, &options) {
        let click = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(w) = web_sys::window() {
                let _ = w.focus();
                let _ = w.location().set_href(&path);
            }
        });
        n.set_onclick(Some(click.unchecked_ref()));
    }
}

/// `(3) Inbox · Concierge`.
pub fn title(screen: &str, unseen: u32) {
    if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
        let base = format!("{screen} · Concierge");
        doc.set_title(&if unseen > 0 {
            format!("({unseen}) {base}")
        } else {
            base
        });
    }
}
