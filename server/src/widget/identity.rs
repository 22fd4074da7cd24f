//! Signed visitor identities: a site's backend signs its user id with the site's identity
//! secret, `user_hash = hex(HMAC-SHA256(key = the secret's 64 characters as given,
//! message = user_id))`, and the widget passes both in `hello`.
//!
//! An identified visitor's token is derived rather than stored: HMAC-SHA256 of the visitor id
//! under a key derived from the identity secret. Every device of that user gets the same
//! token, so signing in on a phone does not log out the laptop, and only its hash is stored.
//! Rotating the secret changes the token (the old one stops working at the next `hello`).
//! The derived key differs from the secret itself, so no `user_hash` a site ever hands out can
//! be a visitor token.

use concierge_protocol::widget::Identity;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// 32 random bytes, hex.
pub fn new_identity_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    HmacSha256::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"))
}

/// The `user_hash` a site's backend computes for `user_id` (what [`verify_identity`] expects).
pub fn sign(secret: &str, user_id: &str) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(user_id.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Whether `identity.user_hash` is the hex HMAC-SHA256 of its `user_id` under `secret`.
/// Compared in constant time; either hex case is accepted.
pub fn verify_identity(secret: &str, identity: &Identity) -> bool {
    let Some(claimed) = unhex(&identity.user_hash) else {
        return false;
    };
    let mut m = mac(secret.as_bytes());
    m.update(identity.user_id.as_bytes());
    m.verify_slice(&claimed).is_ok()
}

/// The visitor token of an identified visitor: `vt_` and 32 hex characters (128 bits).
pub fn identified_token(secret: &str, visitor_id: &str) -> String {
    let key = Sha256::new()
        .chain_update(b"concierge identified visitor token\0")
        .chain_update(secret.as_bytes())
        .finalize();
    let mut m = mac(&key);
    m.update(visitor_id.as_bytes());
    let digest = hex::encode(m.finalize().into_bytes());
    format!("vt_{}", &digest[..32])
}

/// Exactly 64 hex digits (a SHA-256), either case, else `None`.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 {
        return None;
    }
    hex::decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(user_id: &str, user_hash: &str) -> Identity {
        Identity {
            user_id: user_id.into(),
            user_hash: user_hash.into(),
            email: None,
            name: None,
        }
    }

    #[test]
    fn signatures_match_the_rfc_4231_hmac_sha256_vector() {
        // RFC 4231 test case 2: key "Jefe".
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_right_hash_for_the_right_user_verifies() {
        let secret = new_identity_secret();
        assert_eq!(secret.len(), 64);
        assert_ne!(secret, new_identity_secret());
        let good = sign(&secret, "user-42");
        assert!(verify_identity(&secret, &identity("user-42", &good)));
        assert!(verify_identity(
            &secret,
            &identity("user-42", &good.to_uppercase())
        ));
        assert!(!verify_identity(&secret, &identity("user-43", &good)));
        assert!(!verify_identity(
            &new_identity_secret(),
            &identity("user-42", &good)
        ));
        for bad in ["", "zz", &good[..63], &format!("{good}0"), &"g".repeat(64)] {
            assert!(
                !verify_identity(&secret, &identity("user-42", bad)),
                "{bad}"
            );
        }
    }

    #[test]
    fn identified_tokens_are_stable_per_visitor_and_secret_and_never_a_user_hash() {
        let secret = new_identity_secret();
        let t = identified_token(&secret, "v1");
        assert!(t.starts_with("vt_") && t.len() == 35);
        assert_eq!(t, identified_token(&secret, "v1"));
        assert_ne!(t, identified_token(&secret, "v2"));
        assert_ne!(t, identified_token(&new_identity_secret(), "v1"));
        assert!(!sign(&secret, "v1").starts_with(&t[3..]));
    }
}
