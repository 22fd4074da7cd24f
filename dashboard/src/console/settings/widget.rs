//! The widget's settings with a live preview: the real widget (loader, launcher, panel) in a
//! frame, showing the unsaved settings as the owner changes them. The server's contrast rule
//! (text on the brand color is black or white, whichever contrasts more) is shown as applied.
//! Allowed origins are checked as they are typed, by the server's own rule.

use crate::api::{self, enc};
use concierge_protocol::origin::is_origin_pattern;
use concierge_protocol::theme;
use concierge_protocol::widget::{LauncherIcon, WidgetConfig, WidgetPosition};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::console::ui::{fail, outcome_line, status_line, Loaded, Outcome};
use crate::console::Ctx;

/// What the owner sets (the server computes `site_name` and `on_color`).
fn body(c: &WidgetConfig) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("site_name");
        o.remove("on_color");
    }
    v
}

/// "white, contrast 5.2:1" for the brand color, or why it cannot be used.
pub fn contrast_words(color: &str) -> Result<String, String> {
    let rgb = theme::parse_hex(color)
        .ok_or_else(|| "A color is written #rrggbb, e.g. #2563eb.".to_string())?;
    let text = theme::text_on(rgb);
    let ratio = theme::contrast(
        theme::luminance(rgb),
        theme::luminance(theme::parse_hex(text).unwrap_or([255, 255, 255])),
    );
    let name = if text.eq_ignore_ascii_case("#ffffff") {
        "white"
    } else {
        "black"
    };
    Ok(format!(
        "Text on this color is {name} (contrast {ratio:.1}:1; at least 4.5:1 is needed to read it)."
    ))
}

#[component]
pub fn WidgetSettings(site_key: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let base = format!("/sites/{}", enc(&site_key));
    let saved = Loaded::<WidgetConfig>::get(format!("{base}/widget-config"));
    let draft = RwSignal::new(None::<WidgetConfig>);
    Effect::new(move |_| {
        if let Some(c) = saved.value.get() {
            draft.set(Some(c));
        }
    });
    let outcome = RwSignal::new(Outcome::None);
    let preview_url = RwSignal::new(None::<String>);
    let preview_error = RwSignal::new(None::<String>);
    // The preview follows the draft, 300 ms after the last change.
    let generation = StoredValue::new(0u32);
    let preview_path = format!("{base}/widget-preview");
    Effect::new(move |_| {
        let Some(c) = draft.get() else { return };
        let n = generation.get_value() + 1;
        generation.set_value(n);
        let path = preview_path.clone();
        spawn_local(async move {
            crate::console::kb::sleep(300).await;
            if generation.try_get_value() != Some(n) {
                return;
            }
            match api::post::<_, Value>(&path, &body(&c)).await {
                Ok(v) => {
                    preview_error.set(None);
                    preview_url.set(v["url"].as_str().map(str::to_string));
                }
                Err(e) => preview_error.set(Some(fail(e))),
            }
        });
    });
    let save_path = format!("{base}/widget-config");
    let save = move || {
        let Some(c) = draft.get_untracked() else {
            return;
        };
        if let Err(e) = contrast_words(&c.color) {
            outcome.set(Outcome::Failed(e));
            return;
        }
        outcome.set(Outcome::Busy);
        let path = save_path.clone();
        spawn_local(async move {
            match api::put::<_, WidgetConfig>(&path, &body(&c)).await {
                Ok(c) => {
                    saved.value.set(Some(c));
                    outcome.set(Outcome::Done(
                        "Saved. Pages that load the widget from now on show it.".into(),
                    ));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    let edit = move |f: &dyn Fn(&mut WidgetConfig)| {
        draft.update(|d| {
            if let Some(d) = d {
                f(d)
            }
        })
    };
    let field = move |get: fn(&WidgetConfig) -> String| {
        move || draft.with(|d| d.as_ref().map(get).unwrap_or_default())
    };
    view! {
        {status_line(saved.state)}
        <div class="settings-with-preview">
            <form class="settings-form" on:submit=move |e| { e.prevent_default(); save(); }>
                <label for="w-title">"Title"</label>
                <input id="w-title" type="text" maxlength="60" placeholder=move || ctx.site().map(|s| s.name).unwrap_or_default()
                    prop:value=field(|c| c.title.clone()) on:input=move |e| { let v = event_target_value(&e); edit(&|c| c.title = v.clone()) }/>
                <label for="w-greeting">"Greeting"</label>
                <textarea id="w-greeting" rows="2" maxlength="300" placeholder="Hi! Ask me anything about our product."
                    prop:value=field(|c| c.greeting.clone()) on:input=move |e| { let v = event_target_value(&e); edit(&|c| c.greeting = v.clone()) }></textarea>
                <label for="w-color">"Color"</label>
                <div class="color-row">
                    <input id="w-color-picker" type="color" aria-label="Color picker"
                        prop:value=move || draft.with(|d| d.as_ref().map(|c| c.color.clone()).filter(|c| theme::parse_hex(c).is_some()).unwrap_or_else(|| "#2563eb".into()))
                        on:input=move |e| { let v = event_target_value(&e); edit(&|c| c.color = v.clone()) }/>
                    <input id="w-color" type="text" maxlength="7" prop:value=field(|c| c.color.clone())
                        aria-describedby="w-contrast"
                        on:input=move |e| { let v = event_target_value(&e); edit(&|c| c.color = v.trim().to_lowercase()) }/>
                </div>
                <p id="w-contrast" class=move || if draft.with(|d| d.as_ref().is_some_and(|c| contrast_words(&c.color).is_err())) { "error small" } else { "muted small" }>
                    {move || draft.with(|d| d.as_ref().map(|c| contrast_words(&c.color).unwrap_or_else(|e| e)).unwrap_or_default())}
                </p>
                <fieldset>
                    <legend>"Position"</legend>
                    <label><input type="radio" name="w-position" prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|c| c.position == WidgetPosition::Right))
                        on:change=move |_| edit(&|c| c.position = WidgetPosition::Right)/>" Bottom right"</label>
                    <label><input type="radio" name="w-position" prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|c| c.position == WidgetPosition::Left))
                        on:change=move |_| edit(&|c| c.position = WidgetPosition::Left)/>" Bottom left"</label>
                </fieldset>
                <label for="w-language">"Language"</label>
                <select id="w-language" on:change=move |e| { let v = event_target_value(&e); edit(&|c| c.language = v.clone()) }>
                    {[("", "Follow the page (then the browser)"), ("en", "English"), ("fr", "Français"), ("es", "Español"), ("de", "Deutsch")]
                        .into_iter().map(|(code, name)| view! {
                            <option value=code selected=move || draft.with(|d| d.as_ref().is_some_and(|c| c.language == code))>{name}</option>
                        }).collect_view()}
                </select>
                <fieldset>
                    <legend>"Launcher icon"</legend>
                    {[(LauncherIcon::Chat, "Speech bubble"), (LauncherIcon::Help, "Question mark"), (LauncherIcon::Mail, "Envelope")]
                        .into_iter().map(|(icon, name)| view! {
                            <label><input type="radio" name="w-icon" prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|c| c.launcher_icon == icon))
                                on:change=move |_| edit(&|c| c.launcher_icon = icon)/>" "{name}</label>
                        }).collect_view()}
                </fieldset>
                <label class="check"><input type="checkbox" prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|c| c.preload))
                    on:change=move |e| { let v = event_target_checked(&e); edit(&|c| c.preload = v) }/>" Load the chat when the page is idle (opens faster)"</label>
                <label class="check"><input type="checkbox" prop:checked=move || draft.with(|d| d.as_ref().is_some_and(|c| c.require_identity))
                    on:change=move |e| { let v = event_target_checked(&e); edit(&|c| c.require_identity = v) }/>" Only signed-in users of my site may chat (signed identity, see Install)"</label>
                <div class="form-actions">
                    <button type="submit">"Save"</button>
                    <button type="button" class="quiet" on:click=move |_| draft.set(saved.value.get_untracked())>"Discard changes"</button>
                </div>
                {outcome_line(outcome)}
            </form>
            <div class="preview">
                <h3>"Preview"</h3>
                {move || preview_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                {move || preview_url.get().map(|u| view! {
                    <iframe title="Widget preview" src=u class="preview-frame"></iframe>
                })}
            </div>
        </div>
        <AllowedOrigins site_key=site_key/>
    }
}

/// The site's allowed origins, one per line, checked as typed.
#[component]
fn AllowedOrigins(site_key: String) -> impl IntoView {
    let ctx = expect_context::<Ctx>();
    let text = RwSignal::new(
        ctx.site()
            .map(|s| s.allowed_origins.join("\n"))
            .unwrap_or_default(),
    );
    let outcome = RwSignal::new(Outcome::None);
    let problems = move || {
        text.with(|t| {
            let lines: Vec<&str> = t.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            let mut p: Vec<String> = lines
                .iter()
                .filter(|l| !is_origin_pattern(l))
                .map(|l| format!("“{l}” is not an origin: write scheme://host[:port], e.g. https://www.example.com (no path), or https://host:* for any port."))
                .collect();
            if lines.is_empty() {
                p.push("At least one origin is needed, or no page can open the chat.".into());
            }
            p
        })
    };
    let path = format!("/sites/{}", enc(&site_key));
    let save = move || {
        if !problems().is_empty() {
            return;
        }
        let origins: Vec<String> = text.with_untracked(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        });
        outcome.set(Outcome::Busy);
        let path = path.clone();
        spawn_local(async move {
            let body = serde_json::json!({ "allowed_origins": origins });
            match api::patch::<_, Value>(&path, &body).await {
                Ok(_) => {
                    ctx.context.update(|c| {
                        if let Some(s) = c
                            .sites
                            .iter_mut()
                            .find(|s| s.site_key == ctx.site_key.get_untracked())
                        {
                            s.allowed_origins = origins;
                        }
                    });
                    outcome.set(Outcome::Done(
                        "Saved: pages on these origins may open the chat.".into(),
                    ));
                }
                Err(e) => outcome.set(Outcome::Failed(fail(e))),
            }
        });
    };
    view! {
        <section aria-labelledby="origins-title">
            <h3 id="origins-title">"Allowed origins"</h3>
            <form class="settings-form" on:submit=move |e| { e.prevent_default(); save(); }>
                <label for="origins">"Pages on these origins may open the chat (one per line)"</label>
                <textarea id="origins" rows="4" aria-describedby="origins-problems" prop:value=text
                    aria-invalid=move || (!problems().is_empty()).to_string()
                    on:input=move |e| text.set(event_target_value(&e))></textarea>
                <ul id="origins-problems" class="problems">
                    {move || problems().into_iter().map(|p| view! { <li class="error small">{p}</li> }).collect_view()}
                </ul>
                <button type="submit" disabled=move || !problems().is_empty()>"Save origins"</button>
                {outcome_line(outcome)}
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::contrast_words;

    #[test]
    fn contrast_is_explained_in_words() {
        assert!(contrast_words("#2563eb")
            .unwrap()
            .starts_with("Text on this color is white"));
        assert!(contrast_words("#fde047")
            .unwrap()
            .starts_with("Text on this color is black"));
        assert!(contrast_words("blue").is_err());
    }
}
