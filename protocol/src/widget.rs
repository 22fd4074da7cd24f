//! The embeddable widget's settings and a visitor's signed identity.
//!
//! `GET /api/widget/config?site_key=KEY` answers with a [`WidgetConfig`]; the owner changes it
//! with `PUT /api/sites/{site_key}/widget-config`. A page that knows who its visitor is passes
//! an [`Identity`] in the visitor `hello`, signed with the site's identity secret.

use serde::{Deserialize, Serialize};

/// Which bottom corner the launcher sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WidgetPosition {
    #[default]
    Right,
    Left,
}

/// The launcher button's icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LauncherIcon {
    /// A speech bubble.
    #[default]
    Chat,
    /// A question mark.
    Help,
    /// An envelope.
    Mail,
}

/// How the widget looks and behaves on a site, as its owner set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetConfig {
    /// The site's name (read-only here; set when the site is created).
    #[serde(default)]
    pub site_name: String,
    /// Panel header; the site's name when empty.
    #[serde(default)]
    pub title: String,
    /// First bubble a visitor sees in an empty conversation; a translated default when empty.
    #[serde(default)]
    pub greeting: String,
    /// Brand color, `#rrggbb`. Text on it is black or white, whichever has the higher contrast.
    pub color: String,
    /// Text color on `color` (black or white, whichever contrasts more; at least 4.5:1).
    /// Computed by the server from `color`; ignored on input.
    #[serde(default)]
    pub on_color: String,
    #[serde(default)]
    pub position: WidgetPosition,
    /// `en`, `fr`, `es`, `de`, or empty to follow the page's `lang` (then the browser's).
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub launcher_icon: LauncherIcon,
    /// Fetch the chat code when the browser is idle instead of on first open.
    #[serde(default)]
    pub preload: bool,
    /// Visitors must carry a signed [`Identity`]; anonymous hellos get `identity_required`.
    #[serde(default)]
    pub require_identity: bool,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        WidgetConfig {
            site_name: String::new(),
            title: String::new(),
            greeting: String::new(),
            color: "#2563eb".to_string(),
            on_color: "#ffffff".to_string(),
            position: WidgetPosition::Right,
            language: String::new(),
            launcher_icon: LauncherIcon::Chat,
            preload: false,
            require_identity: false,
        }
    }
}

/// A visitor the host page vouches for: `user_hash` is the lower-case hex
/// HMAC-SHA256(site identity secret, user_id), computed by the site's own backend. A verified
/// identity is the same visitor on every device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub user_id: String,
    pub user_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One of a visitor's conversations, for the "past conversations" list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub conversation_id: String,
    pub status: crate::ConversationStatus,
    /// The last message's text, shortened to at most 120 characters.
    #[serde(default)]
    pub preview: String,
    pub last_seq: i64,
    pub updated_at: String,
}
