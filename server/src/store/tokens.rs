//! Secrets handed to clients (visitor tokens, agent bearer tokens, site keys, one-time
//! passwords). Only SHA-256 hashes of tokens are stored, so a database leak does not leak
//! sessions.

use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

/// `prefix` + 32 random alphanumerics (~190 bits).
pub fn new_token(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 32);
    s.push_str(prefix);
    s.extend(
        rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from),
    );
    s
}

/// Hex SHA-256 of a token, the only form stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hash_stably() {
        let a = new_token("vt_");
        let b = new_token("vt_");
        assert!(a.starts_with("vt_") && a.len() == 35);
        assert_ne!(a, b);
        assert_eq!(hash_token("abc").len(), 64);
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
