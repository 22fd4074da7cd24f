//! `hello` with a signed identity: the host page vouches for its user, so the visitor is that
//! user's on every device, whatever token the client holds.

use concierge_protocol::widget::Identity;

use super::visitor::{Hello, VisitorSession};
use super::{Chat, ChatError, Result};
use crate::store::{hash_token, new_id, Site, VisitorContact};
use crate::widget::{identified_token, verify_identity};

/// Longest accepted `user_id`, `email` and `name`, in characters.
pub const MAX_USER_ID_CHARS: usize = 255;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_NAME_CHARS: usize = 200;

impl Chat {
    /// Verifies the identity and resumes that user's visitor: created on their first hello
    /// (email and name stored, and updated whenever given), with their latest conversation, or
    /// the named one when it is theirs. A token or conversation of someone else is ignored:
    /// the identity wins. Nothing is stored for an identity that does not verify.
    pub(super) async fn identified_hello(
        &self,
        site: &Site,
        secret: Option<&str>,
        identity: &Identity,
        hello: Hello<'_>,
    ) -> Result<VisitorSession> {
        check_lengths(identity)?;
        // Without a secret nobody can have signed anything.
        let secret =
            secret
                .filter(|s| verify_identity(s, identity))
                .ok_or(ChatError::InvalidIdentity(
                    "user_hash is not the HMAC-SHA256 of user_id with this site's identity secret",
                ))?;
        let fresh_id = new_id();
        let fresh_token = identified_token(secret, &fresh_id);
        let contact = VisitorContact {
            external_id: &identity.user_id,
            email: identity
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty()),
            name: identity
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty()),
        };
        let stored = self
            .store
            .upsert_identified_visitor(&site.id, contact, &fresh_id, &hash_token(&fresh_token))
            .await?;
        let visitor = stored.visitor;
        let token = if visitor.id == fresh_id {
            fresh_token
        } else {
            let token = identified_token(secret, &visitor.id);
            if hash_token(&token) != stored.token_hash {
                // The secret was rotated since this visitor's last hello.
                self.store
                    .set_visitor_token_hash(&site.id, &visitor.id, &hash_token(&token))
                    .await?;
            }
            token
        };
        // The client's conversation and last_seq count only when they are this user's.
        let named = match hello.conversation_id {
            Some(id) => self
                .store
                .conversation(&site.id, id)
                .await?
                .filter(|c| c.visitor_id == visitor.id),
            None => None,
        };
        let (conversation, after) = match named {
            Some(c) => (c, hello.last_seq.unwrap_or(0)),
            None => {
                let own_state =
                    hello.conversation_id.is_none() && hello.token == Some(token.as_str());
                let c = self.latest_or_new(&visitor).await?;
                (
                    c,
                    if own_state {
                        hello.last_seq.unwrap_or(0)
                    } else {
                        0
                    },
                )
            }
        };
        self.join(visitor, Some(token), conversation, after).await
    }
}

fn check_lengths(identity: &Identity) -> Result<()> {
    let chars = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
    let id_len = identity.user_id.chars().count();
    if id_len == 0 || id_len > MAX_USER_ID_CHARS {
        return Err(ChatError::InvalidIdentity(
            "user_id must be 1 to 255 characters",
        ));
    }
    if chars(&identity.email) > MAX_EMAIL_CHARS || chars(&identity.name) > MAX_NAME_CHARS {
        return Err(ChatError::InvalidIdentity(
            "email must be at most 254 characters and name at most 200",
        ));
    }
    Ok(())
}
