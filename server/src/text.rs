//! Text patterns several modules need to agree on, so there is one definition of each: today
//! the email address, which PII masking hides, the handover picks out of a visitor's reply
//! and accounts accept for agents, invitations and sign-ups. A leaf: it imports nothing of
//! the crate, so any module may use it.

use std::sync::LazyLock;

use regex::Regex;

/// The local part: starts with a letter or digit, at most 64 characters (RFC 5321). The
/// apostrophe is allowed (`o'brien@…`); quoted local parts are not.
const LOCAL: &str = r"[a-z0-9][a-z0-9._%+'-]{0,63}";
/// One domain label: letters, digits and inner hyphens, at most 63 characters.
const LABEL: &str = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";

/// An email address inside free text: the domain needs a dot and a top-level domain of
/// letters, so `@mentions`, `user@localhost` and `5@3` in a chat message are not addresses.
pub static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b{LOCAL}@{LABEL}(?:\.{LABEL})*\.[a-z]{{2,24}}\b"
    ))
    .expect("email pattern is valid")
});

/// A whole field that should be an address (`is_email`). Same local part and labels as
/// [`EMAIL`]; a single-label domain (`owner@localhost`, an intranet host) is accepted here,
/// where nothing but an address can be meant.
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)^{LOCAL}@{LABEL}(?:\.{LABEL})*$")).expect("address pattern is valid")
});

/// Longest address a mail system must accept (RFC 5321's path limit less the brackets).
const MAX_ADDRESS: usize = 254;

/// The first email address in `text`, as written.
pub fn find_email(text: &str) -> Option<&str> {
    EMAIL.find(text).map(|m| m.as_str())
}

/// Whether all of `s` is one email address.
pub fn is_email(s: &str) -> bool {
    s.len() <= MAX_ADDRESS && ADDRESS.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_found_in_free_text_with_their_top_level_domain() {
        assert_eq!(
            find_email("sure, it's Ana.Diaz+shop@Example.co.uk thanks"),
            Some("Ana.Diaz+shop@Example.co.uk")
        );
        assert_eq!(
            find_email("<a_b-c@sub-domain.example.org>"),
            Some("a_b-c@sub-domain.example.org")
        );
        assert_eq!(
            find_email("mail o'brien@pub.example please"),
            Some("o'brien@pub.example")
        );
        for none in [
            "no address here, just @mentions",
            "ana@localhost",
            "price is 5@3 each",
            "ana@-bad-.example",
        ] {
            assert_eq!(find_email(none), None, "{none}");
        }
    }

    #[test]
    fn a_field_is_an_address_only_when_all_of_it_is_one() {
        for ok in [
            "bo@shop.example",
            "New.Person+team@Shop.example",
            "owner@localhost",
            "a@b.c",
            "o'brien@pub.example",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        let long_local = format!("{}@shop.example", "a".repeat(65));
        // Every part within its own limit, 288 characters in all.
        let long = format!("{}@{}example", "a".repeat(60), "bbbbbbbbbb.".repeat(20));
        for bad in [
            "",
            "bo",
            "@shop.example",
            "bo@",
            "bo@@shop.example",
            "bo@shop@example",
            "bo @shop.example",
            "bo@shop.example ",
            "bo@shop..example",
            ".bo@shop.example",
            "bo@-shop.example",
            "bo@shop.example\n",
            long_local.as_str(),
            long.as_str(),
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
    }
}
