//! What a visitor can do: say hello (new, resumed, or with a signed identity), send, type,
//! start another conversation, list their conversations.

use concierge_protocol::widget::{ConversationSummary, Identity};
use concierge_protocol::{Author, ConversationStatus, MessageState};

use super::{validate_message, Chat, ChatError, Result};
use crate::bus::EventKind;
use crate::store::{
    rfc3339, AppendOutcome, ConversationRecord, MessageRecord, NewMessage, Site, Visitor,
};

/// Most messages returned in one `welcome`; older history is paged by the client.
pub const WELCOME_HISTORY_LIMIT: i64 = 500;

/// Most conversations one `list_conversations` returns.
pub const CONVERSATION_LIST_LIMIT: i64 = 50;

/// Longest preview of a conversation's last message, in characters.
pub const PREVIEW_CHARS: usize = 120;

/// What a visitor's `hello` carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hello<'a> {
    pub token: Option<&'a str>,
    pub conversation_id: Option<&'a str>,
    pub last_seq: Option<i64>,
    pub identity: Option<&'a Identity>,
    /// The host page's address, kept on the visitor when it is an `http(s)` URL of at most
    /// [`MAX_PAGE_URL_CHARS`].
    pub page_url: Option<&'a str>,
    /// The visitor's language, kept when it looks like a BCP 47 tag.
    pub lang: Option<&'a str>,
}

/// Longest page address kept on a visitor, in characters (the widget cuts it there).
pub const MAX_PAGE_URL_CHARS: usize = 2_000;

/// Longest language tag kept on a visitor (RFC 5646's longest well-formed tags fit).
pub const MAX_LANG_CHARS: usize = 35;

/// The page address to keep: an absolute `http(s)` URL of at most [`MAX_PAGE_URL_CHARS`];
/// anything else is dropped (context for agents, not worth refusing a visitor over).
pub fn page_url(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().count() > MAX_PAGE_URL_CHARS {
        return None;
    }
    let url = url::Url::parse(raw).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then_some(raw)
}

/// The language tag to keep: 1 to [`MAX_LANG_CHARS`] of `A-Z a-z 0-9 -`, else dropped.
pub fn language_tag(raw: &str) -> Option<&str> {
    let raw = raw.trim();
    let ok = !raw.is_empty()
        && raw.len() <= MAX_LANG_CHARS
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(raw)
}

/// A visitor after `hello`.
pub struct VisitorSession {
    pub visitor: Visitor,
    /// The token the client must keep from now on when it is not the one it sent: a new
    /// visitor's, or a verified identity's.
    pub new_token: Option<String>,
    pub conversation: ConversationRecord,
    /// The seq the messages start after: the client's `last_seq`, clamped to what exists.
    pub after_seq: i64,
    /// Messages after `after_seq`, in order.
    pub messages: Vec<MessageRecord>,
}

impl Chat {
    /// Resolves a `hello`. With an identity: that user's visitor (see `identity.rs`). Else,
    /// unless the site requires identities: a new visitor without a token; with a token, that
    /// visitor's conversation (the named one, else their latest, else a new one).
    ///
    /// The page address and language the hello carries are kept on the visitor (valid ones
    /// replace what was kept; missing or invalid ones leave it).
    pub async fn visitor_hello(&self, site: &Site, hello: Hello<'_>) -> Result<VisitorSession> {
        let session = self.resolve_hello(site, hello).await?;
        let page = hello.page_url.and_then(page_url);
        let lang = hello.lang.and_then(language_tag);
        if page.is_some() || lang.is_some() {
            self.store
                .set_visitor_context(&site.id, &session.visitor.id, page, lang)
                .await?;
        }
        Ok(session)
    }

    async fn resolve_hello(&self, site: &Site, hello: Hello<'_>) -> Result<VisitorSession> {
        let settings = crate::widget::settings(&self.store, site).await?;
        if let Some(identity) = hello.identity {
            let secret = settings.identity_secret.as_deref();
            return self.identified_hello(site, secret, identity, hello).await;
        }
        if settings.config.require_identity {
            return Err(ChatError::IdentityRequired);
        }
        let Some(token) = hello.token else {
            let (visitor, token) = self.store.create_visitor(&site.id).await?;
            let conversation = self
                .store
                .create_conversation(&site.id, &visitor.id)
                .await?;
            return self.join(visitor, Some(token), conversation, 0).await;
        };
        let Some(visitor) = self.store.visitor_by_token(&site.id, token).await? else {
            return Err(ChatError::InvalidToken);
        };
        let conversation = match hello.conversation_id {
            Some(id) => match self.store.conversation(&site.id, id).await? {
                Some(c) if c.visitor_id == visitor.id => c,
                _ => return Err(ChatError::UnknownConversation),
            },
            None => self.latest_or_new(&visitor).await?,
        };
        self.join(visitor, None, conversation, hello.last_seq.unwrap_or(0))
            .await
    }

    /// The visitor's most recent conversation, or a new one.
    pub(super) async fn latest_or_new(&self, visitor: &Visitor) -> Result<ConversationRecord> {
        let latest = self
            .store
            .latest_conversation_of_visitor(&visitor.site_id, &visitor.id)
            .await?;
        Ok(match latest {
            Some(c) => c,
            None => {
                self.store
                    .create_conversation(&visitor.site_id, &visitor.id)
                    .await?
            }
        })
    }

    /// The session on `conversation` with its messages after `after` (clamped to what exists:
    /// a claim beyond it, e.g. from a restored backup, gets nothing now and everything new).
    pub(super) async fn join(
        &self,
        visitor: Visitor,
        new_token: Option<String>,
        conversation: ConversationRecord,
        after: i64,
    ) -> Result<VisitorSession> {
        let after = after.clamp(0, conversation.last_seq);
        let messages = self
            .store
            .messages_after(
                &conversation.site_id,
                &conversation.id,
                after,
                WELCOME_HISTORY_LIMIT,
            )
            .await?;
        Ok(VisitorSession {
            visitor,
            new_token,
            conversation,
            after_seq: after,
            messages,
        })
    }

    /// Starts another conversation for the visitor (it counts against their message budget,
    /// so a script cannot fill the inbox with empty conversations).
    pub async fn visitor_new_conversation(&self, visitor: &Visitor) -> Result<ConversationRecord> {
        if !self.limits.allow_visitor_message(&visitor.id).await {
            return Err(ChatError::RateLimited);
        }
        Ok(self
            .store
            .create_conversation(&visitor.site_id, &visitor.id)
            .await?)
    }

    /// The visitor's conversations, newest activity first, at most
    /// [`CONVERSATION_LIST_LIMIT`], each with a preview of its last message.
    pub async fn visitor_conversations(
        &self,
        visitor: &Visitor,
    ) -> Result<Vec<ConversationSummary>> {
        let rows = self
            .store
            .conversations_of_visitor(&visitor.site_id, &visitor.id, CONVERSATION_LIST_LIMIT)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(c, last_text)| ConversationSummary {
                conversation_id: c.id,
                status: c.status,
                preview: preview(last_text.as_deref().unwrap_or("")),
                last_seq: c.last_seq,
                updated_at: rfc3339(c.updated_at),
            })
            .collect())
    }

    /// Stores a visitor message (once per `client_msg_id`) and fans it out. The flag is true
    /// when this call stored it (false for a resend of a stored message).
    pub async fn visitor_send(
        &self,
        visitor: &Visitor,
        conversation: &ConversationRecord,
        client_msg_id: &str,
        text: &str,
    ) -> Result<(MessageRecord, bool)> {
        let text = validate_message(client_msg_id, text)?;
        if let Some(existing) = self
            .store
            .message_by_client_id(&conversation.site_id, &conversation.id, client_msg_id)
            .await?
        {
            return Ok((existing, false));
        }
        if !self.limits.allow_visitor_message(&visitor.id).await {
            return Err(ChatError::RateLimited);
        }
        let outcome = self
            .store
            .append_message(
                &conversation.site_id,
                &conversation.id,
                NewMessage {
                    author: Author::Visitor,
                    agent_id: None,
                    author_name: None,
                    text,
                    state: MessageState::Complete,
                    client_msg_id: Some(client_msg_id),
                },
            )
            .await?;
        if let AppendOutcome::Stored(m) = &outcome {
            // The insert's trigger reopened a resolved conversation with the bot: say so.
            if conversation.status == ConversationStatus::Resolved {
                if let Some(fresh) = self
                    .store
                    .conversation(&conversation.site_id, &conversation.id)
                    .await?
                {
                    self.publish_conversation(&fresh).await;
                }
            }
            self.metrics.messages_stored.inc();
            self.publish_message(conversation, m).await;
        }
        let fresh = matches!(outcome, AppendOutcome::Stored(_));
        Ok((outcome.record().clone(), fresh))
    }

    pub async fn visitor_typing(&self, conversation: &ConversationRecord, on: bool) {
        self.publish(
            &conversation.site_id,
            &conversation.id,
            EventKind::Typing {
                author: Author::Visitor,
                who: "visitor".into(),
                on,
            },
        )
        .await;
    }
}

/// A message's text on one line, at most [`PREVIEW_CHARS`] characters (an ellipsis marks a cut).
pub fn preview(text: &str) -> String {
    let mut words = text.split_whitespace();
    let mut line = words.next().unwrap_or("").to_string();
    for w in words {
        line.push(' ');
        line.push_str(w);
    }
    if line.chars().count() <= PREVIEW_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_line_and_at_most_120_characters() {
        assert_eq!(preview("  Hello\n\nthere\t you "), "Hello there you");
        assert_eq!(preview(""), "");
        let exact = "é".repeat(PREVIEW_CHARS);
        assert_eq!(preview(&exact), exact);
        let long = preview(&"word ".repeat(100));
        assert_eq!(long.chars().count(), PREVIEW_CHARS);
        assert!(long.ends_with("word…"), "{long}");
    }

    #[test]
    fn only_http_page_addresses_up_to_the_limit_are_kept() {
        assert_eq!(
            page_url(" https://shop.example/pricing?plan=pro#faq "),
            Some("https://shop.example/pricing?plan=pro#faq")
        );
        assert_eq!(
            page_url("http://localhost:3000/"),
            Some("http://localhost:3000/")
        );
        for bad in [
            "",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,hi",
            "/relative/path",
            "https://",
            "not a url",
        ] {
            assert_eq!(page_url(bad), None, "{bad}");
        }
        let at_limit = format!(
            "https://shop.example/{}",
            "é".repeat(MAX_PAGE_URL_CHARS - 21)
        );
        assert_eq!(at_limit.chars().count(), MAX_PAGE_URL_CHARS);
        assert!(page_url(&at_limit).is_some());
        let over = format!("{at_limit}x");
        assert_eq!(page_url(&over), None);
    }

    #[test]
    fn language_tags_are_short_letters_digits_and_dashes() {
        assert_eq!(language_tag("fr-CA"), Some("fr-CA"));
        assert_eq!(language_tag("zh-Hant-TW"), Some("zh-Hant-TW"));
        assert_eq!(
            language_tag(&"a".repeat(MAX_LANG_CHARS)).map(str::len),
            Some(35)
        );
        for bad in [
            "",
            "en_US",
            "en US",
            "<script>",
            "é",
            &"a".repeat(MAX_LANG_CHARS + 1),
        ] {
            assert_eq!(language_tag(bad), None, "{bad}");
        }
    }
}
