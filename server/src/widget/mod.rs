//! The embeddable widget's settings and signed visitor identities.
//!
//! - this file: the owner's [`WidgetConfig`] (read with defaults, validated, stored) and the
//!   site's identity secret (created on first use, rotated on request).
//! - [`identity`]: checking a visitor's `user_hash` and the token an identified visitor gets.
//! - [`installs`]: which origins the widget connected from ("Check installation").
//!
//! The REST API (`http::widget`) and the visitor socket (`chat`) call these functions. The
//! widget's files themselves are embedded at build time and served by `http::assets`.

mod identity;
pub mod installs;

use concierge_protocol::theme;
use concierge_protocol::widget::WidgetConfig;
use serde_json::Value;

pub use identity::{identified_token, new_identity_secret, sign, verify_identity};

use crate::store::{Site, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WidgetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The owner's settings were refused; the sentence says which field and why.
    #[error("{0}")]
    BadConfig(String),
    #[error("no site has this key")]
    UnknownSite,
    #[error("this page's origin is not allowed for the site")]
    OriginNotAllowed,
}

pub type Result<T, E = WidgetError> = std::result::Result<T, E>;

/// Languages the widget ships; an empty `language` follows the page.
pub const LANGUAGES: [&str; 4] = ["en", "fr", "es", "de"];
pub const MAX_TITLE_CHARS: usize = 80;
pub const MAX_GREETING_CHARS: usize = 500;

/// A site's widget settings as the server uses them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The owner's settings, or the defaults; `site_name` and `on_color` filled in.
    pub config: WidgetConfig,
    /// `None` until the owner first asks for it: until then no identity can verify.
    pub identity_secret: Option<String>,
}

/// The site's settings. A stored config that no longer reads falls back to the defaults
/// (logged), so a bad row never takes the widget down.
pub async fn settings(store: &Store, site: &Site) -> Result<Settings, StoreError> {
    let row = store.widget_settings(&site.id).await?;
    let config = match row.config.as_deref() {
        Some(json) => serde_json::from_str(json).unwrap_or_else(|e| {
            tracing::error!(error = %e, site = %site.id, "stored widget config unreadable; using defaults");
            WidgetConfig::default()
        }),
        None => WidgetConfig::default(),
    };
    Ok(Settings {
        config: derived(config, &site.name),
        identity_secret: row.identity_secret,
    })
}

/// The site's widget config, as the loader and the dashboard see it.
pub async fn config(store: &Store, site: &Site) -> Result<WidgetConfig> {
    Ok(settings(store, site).await?.config)
}

/// The site a host page embeds, by its public key, if the page's `Origin` (when the browser
/// sent one) may embed it, by the same rule as the visitor socket.
pub async fn embedded_site(store: &Store, site_key: &str, origin: Option<&str>) -> Result<Site> {
    if site_key.is_empty() {
        return Err(WidgetError::UnknownSite);
    }
    let site = store
        .site_by_key(site_key)
        .await?
        .ok_or(WidgetError::UnknownSite)?;
    if origin.is_some_and(|o| !site.allows_origin(o)) {
        return Err(WidgetError::OriginNotAllowed);
    }
    Ok(site)
}

/// The config the widget loader reads from a host page (see [`embedded_site`]).
pub async fn public_config(
    store: &Store,
    site_key: &str,
    origin: Option<&str>,
) -> Result<WidgetConfig> {
    let site = embedded_site(store, site_key, origin).await?;
    config(store, &site).await
}

/// Replaces the site's config with `body`, a JSON object of any of [`WidgetConfig`]'s fields:
/// the rest take their defaults (`{}` restores them all); `site_name` and `on_color` are
/// ignored (they are the site's name and computed from `color`). Unknown fields and invalid
/// values are refused and change nothing.
pub async fn set_config(store: &Store, site: &Site, body: &Value) -> Result<WidgetConfig> {
    let config = parse_config(body)?;
    validate(&config).map_err(WidgetError::BadConfig)?;
    let config = derived(config, "");
    let stored = if config == derived(WidgetConfig::default(), "") {
        None
    } else {
        Some(serde_json::to_string(&config).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    };
    store.set_widget_config(&site.id, stored.as_deref()).await?;
    Ok(derived(config, &site.name))
}

/// The fields the owner does not set: the site's name, and text that reads on the color.
fn derived(mut config: WidgetConfig, site_name: &str) -> WidgetConfig {
    config.site_name = site_name.to_string();
    config.on_color = theme::text_color(&config.color).to_string();
    config
}

/// Reads an owner's settings object over the defaults; the color comes back lower-case.
pub fn parse_config(body: &Value) -> Result<WidgetConfig> {
    let Some(fields) = body.as_object() else {
        return Err(WidgetError::BadConfig(
            "the widget config must be a JSON object".into(),
        ));
    };
    let mut merged = serde_json::to_value(WidgetConfig::default())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Some(target) = merged.as_object_mut() else {
        return Err(StoreError::Corrupt("widget config defaults".into()).into());
    };
    let defaults = target.clone();
    for (key, value) in fields {
        if !defaults.contains_key(key) {
            let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
            return Err(WidgetError::BadConfig(format!(
                "unknown field `{key}`; known fields: {}",
                known.join(", ")
            )));
        }
        // Alone over the defaults, so the refusal can name the field (serde's message for a
        // bad enum value does not).
        let mut alone = defaults.clone();
        alone.insert(key.clone(), value.clone());
        serde_json::from_value::<WidgetConfig>(Value::Object(alone))
            .map_err(|e| WidgetError::BadConfig(format!("bad `{key}`: {e}")))?;
        target.insert(key.clone(), value.clone());
    }
    let mut config: WidgetConfig = serde_json::from_value(merged)
        .map_err(|e| WidgetError::BadConfig(format!("bad widget config: {e}")))?;
    config.color = config.color.to_ascii_lowercase();
    Ok(config)
}

/// Checks the owner-set fields; `Err` is a sentence naming the field.
pub fn validate(config: &WidgetConfig) -> Result<(), String> {
    if theme::parse_hex(&config.color).is_none() {
        return Err(format!(
            "color must be #rrggbb (six hex digits), not {:?}",
            config.color
        ));
    }
    if !config.language.is_empty() && !LANGUAGES.contains(&config.language.as_str()) {
        return Err(format!(
            "language must be empty (follow the page) or one of {}",
            LANGUAGES.join(", ")
        ));
    }
    if config.title.chars().count() > MAX_TITLE_CHARS {
        return Err(format!("title is over {MAX_TITLE_CHARS} characters"));
    }
    if config.greeting.chars().count() > MAX_GREETING_CHARS {
        return Err(format!("greeting is over {MAX_GREETING_CHARS} characters"));
    }
    Ok(())
}

/// The site's identity secret, created on first call.
pub async fn identity_secret(store: &Store, site: &Site) -> Result<String> {
    if let Some(secret) = store.widget_settings(&site.id).await?.identity_secret {
        return Ok(secret);
    }
    Ok(store
        .ensure_identity_secret(&site.id, &new_identity_secret())
        .await?)
}

/// Replaces the site's identity secret: hashes signed with the old one stop verifying, and
/// identified visitors get new tokens on their next `hello`.
pub async fn rotate_identity_secret(store: &Store, site: &Site) -> Result<String> {
    let secret = new_identity_secret();
    store.set_identity_secret(&site.id, &secret).await?;
    Ok(secret)
}

/// Site keys of the dashboard's widget preview: `preview~TOKEN`. Only this server's own pages
/// may use one (the callers check the `Origin`).
pub const PREVIEW_PREFIX: &str = "preview~";

/// Stores the owner's unsaved settings for the preview frame: validated like a save (the same
/// errors), nothing of the site's saved settings changes. Answers the preview's token and the
/// config as the widget will see it.
pub async fn save_preview(
    store: &Store,
    site: &Site,
    body: &Value,
) -> Result<(String, WidgetConfig)> {
    let config = parse_config(body)?;
    validate(&config).map_err(WidgetError::BadConfig)?;
    let config = derived(config, &site.name);
    let token = crate::store::new_token("");
    let json = serde_json::to_string(&config).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store.put_widget_preview(&site.id, &token, &json).await?;
    Ok((token, config))
}

/// The site and draft config behind a preview key (`preview~TOKEN`); `UnknownSite` when it
/// is not one, or it expired.
pub async fn preview(store: &Store, site_key: &str) -> Result<(Site, WidgetConfig)> {
    let token = site_key
        .strip_prefix(PREVIEW_PREFIX)
        .ok_or(WidgetError::UnknownSite)?;
    let (site_id, json) = store
        .widget_preview(token)
        .await?
        .ok_or(WidgetError::UnknownSite)?;
    let site = store
        .site_by_id(&site_id)
        .await?
        .ok_or(WidgetError::UnknownSite)?;
    let config: WidgetConfig =
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((site.clone(), derived(config, &site.name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owner_settings_merge_over_the_defaults_and_are_checked() {
        let c = parse_config(&json!({"title": "Help", "color": "#AABBCC"})).unwrap();
        assert_eq!((c.title.as_str(), c.color.as_str()), ("Help", "#aabbcc"));
        assert_eq!(parse_config(&json!({})).unwrap(), WidgetConfig::default());
        // site_name and on_color are read-only: accepted (a GET round-trips them), then
        // replaced.
        assert!(parse_config(&json!({"site_name": "x", "on_color": "#000000"})).is_ok());
        let shown = derived(parse_config(&json!({"color": "#FFEB3B"})).unwrap(), "Shop");
        assert_eq!(
            (shown.site_name.as_str(), shown.on_color.as_str()),
            ("Shop", "#000000")
        );
        for bad in [
            json!({"bogus": 1}),
            json!({"color": 5}),
            json!({"position": "top"}),
            json!([1]),
        ] {
            assert!(
                matches!(parse_config(&bad), Err(WidgetError::BadConfig(_))),
                "{bad}"
            );
        }
        let mut c = WidgetConfig::default();
        assert!(validate(&c).is_ok());
        for color in ["#fff", "red", "#12345g", "#1234567", "123456#"] {
            c.color = color.into();
            assert!(validate(&c).unwrap_err().contains("color"), "{color}");
        }
        c.color = "#00ff00".into();
        c.language = "it".into();
        assert!(validate(&c).unwrap_err().contains("language"));
        c.language = "de".into();
        c.title = "é".repeat(MAX_TITLE_CHARS);
        assert!(validate(&c).is_ok());
        c.title.push('x');
        assert!(validate(&c).unwrap_err().contains("title"));
        c.title.clear();
        c.greeting = "g".repeat(MAX_GREETING_CHARS + 1);
        assert!(validate(&c).unwrap_err().contains("greeting"));
    }
}
