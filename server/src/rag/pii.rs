//! Masks personal data in visitor text before it is stored in logs, sent to a remote model or
//! used as a retrieval query: emails become `[email]`, payment cards `[card]`, phone numbers
//! `[phone]`. Tuned to leave support chatter alone (order #1234, dates, prices, versions, times),
//! so it errs towards keeping ambiguous plain digit runs such as `order 12345678`.

use std::sync::LazyLock;

use regex::Regex;

use crate::text::EMAIL;

/// 13–19 digits, single spaces or dashes allowed between any of them; the first digit is a
/// network's (2 Mastercard, 3 Amex/Diners/JCB, 4 Visa, 5 Mastercard, 6 Discover/UnionPay),
/// which together with Luhn keeps most long order and tracking numbers out.
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[2-6](?:[ -]?\d){12,18}\b").expect("card pattern is valid"));

/// Digit groups joined by one space, dot or dash, optionally with a `+` and parentheses:
/// `+44 (0)20 7946 0958`, `(415) 555-2671`, `06 12 34 56 78`. Validated in `looks_like_phone`.
static PHONE_CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\+?\(?\d(?:(?:[ .\-]|\)[ .\-]?|[ .\-]?\()?\d)*").expect("phone pattern is valid")
});

static DATE_AT_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\d{4}([./-])\d{1,2}([./-])\d{1,2}|\d{1,2}([./-])\d{1,2}([./-])\d{2,4})(?:$|[ T])",
    )
    .expect("date pattern is valid")
});

static DOTTED_QUAD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{1,3}(?:\.\d{1,3}){3}$").expect("ip pattern is valid"));

static ZIP_PLUS_FOUR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d{5}-\d{4}$").expect("zip pattern is valid"));

/// A word just before an unformatted digit run that makes it a phone number.
static PHONE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:phone|tel|telephone|call|mobile|cell|whatsapp|fax|sms)\b")
        .expect("phone word pattern is valid")
});

const CURRENCY_SYMBOLS: &[char] = &['$', '€', '£', '¥', '₹'];
const CURRENCY_CODES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "INR",
];

/// E.164 allows at most 15 digits; 8 keeps local 7-digit numbers and most ids out.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 8..=15;

/// Masks emails, Luhn-valid card numbers and phone numbers as `[email]`, `[card]`, `[phone]`.
pub fn mask_pii(text: &str) -> String {
    let text = EMAIL.replace_all(text, "[email]");
    let text = mask_cards(&text);
    mask_phones(&text)
}

fn mask_cards(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for found in CARD.find_iter(text) {
        // `+4915112345678` can pass Luhn by chance; a leading `+` makes it a phone number.
        if luhn_valid(found.as_str()) && !text[..found.start()].ends_with('+') {
            out.push_str(&text[copied..found.start()]);
            out.push_str("[card]");
            copied = found.end();
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn mask_phones(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for found in PHONE_CANDIDATE.find_iter(text) {
        if looks_like_phone(text, found.start(), found.end()) {
            out.push_str(&text[copied..found.start()]);
            out.push_str("[phone]");
            copied = found.end();
        }
    }
    out.push_str(&text[copied..]);
    out
}

fn looks_like_phone(text: &str, start: usize, end: usize) -> bool {
    let candidate = &text[start..end];
    let before = text[..start].chars().next_back();
    let mut after = text[end..].chars();
    let (next, next_next) = (after.next(), after.next());

    // Part of a word, an id (`#12345678`, `ID-12345678`), a decimal or a version (`v2.10…`).
    if before.is_some_and(|c| c.is_alphanumeric() || "#_/.,-".contains(c)) {
        return false;
    }
    if next.is_some_and(|c| c.is_alphanumeric() || c == '%' || c == '_') {
        return false;
    }
    // `1 234 567,89`, `2024-01-15 10:30`.
    if matches!(next, Some(',' | ':')) && next_next.is_some_and(|c| c.is_ascii_digit()) {
        return false;
    }
    if is_price(text, start, end) {
        return false;
    }

    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    if !PHONE_DIGITS.contains(&digits) {
        return false;
    }
    if DATE_AT_START.is_match(candidate)
        || DOTTED_QUAD.is_match(candidate)
        || ZIP_PLUS_FOUR.is_match(candidate)
    {
        return false;
    }

    let international = candidate.starts_with('+') || candidate.starts_with("00");
    if international || candidate.contains('(') {
        return true;
    }
    let groups: Vec<&str> = candidate
        .split([' ', '.', '-'])
        .filter(|g| !g.is_empty())
        .collect();
    let national_trunk = candidate.starts_with('0');
    if groups.len() == 1 {
        // An unformatted run is a phone only with a trunk prefix or a telling word nearby.
        return national_trunk || phone_word_before(text, start);
    }
    // `2019 2020 2021` is a list of years, `38 40 42 44` a list of sizes.
    let all_years = groups
        .iter()
        .all(|g| g.len() == 4 && (g.starts_with("19") || g.starts_with("20")));
    let all_short = groups.iter().all(|g| g.len() <= 2);
    !all_years && (!all_short || national_trunk)
}

fn is_price(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].trim_end();
    let after = text[end..].trim_start();
    before.ends_with(CURRENCY_SYMBOLS)
        || CURRENCY_CODES.iter().any(|code| before.ends_with(code))
        || after.starts_with(CURRENCY_SYMBOLS)
        || CURRENCY_CODES.iter().any(|code| after.starts_with(code))
}

fn phone_word_before(text: &str, start: usize) -> bool {
    let window_start = text[..start]
        .char_indices()
        .rev()
        .nth(24)
        .map_or(0, |(i, _)| i);
    PHONE_WORD.is_match(&text[window_start..start])
}

fn luhn_valid(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests;
