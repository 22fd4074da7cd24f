//! The rule for a site's allowed origins, shared by the server (which enforces it) and the
//! dashboard (which checks what the owner types as they type it).

/// Whether `port` is a port as a browser writes it in an `Origin`: 1 to 65535 in decimal,
/// no sign, no leading zero. Anything else names no real page, so it must not match a pattern.
pub fn is_origin_port(port: &str) -> bool {
    // `u16::from_str` alone would take "+80" and "0080".
    port.bytes().all(|b| b.is_ascii_digit())
        && !port.starts_with('0')
        && port.parse::<u16>().is_ok_and(|p| p >= 1)
}

/// Whether `origin` is an allowed-origin pattern: `*`, `scheme://host[:port]` or
/// `scheme://host:*`, scheme `http` or `https`.
pub fn is_origin_pattern(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '[' || c == ']');
    let port_ok = match port {
        None | Some("*") => true,
        Some(p) => is_origin_port(p),
    };
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_patterns() {
        for ok in [
            "*",
            "https://shop.example",
            "http://localhost:8080",
            "https://a.b:*",
        ] {
            assert!(is_origin_pattern(ok), "{ok}");
        }
        for bad in [
            "shop.example",
            "ftp://x",
            "https://",
            "https://x/path",
            "https://x:0",
            "https://x:080",
            "https://x:+80",
            "https://x:70000",
        ] {
            assert!(!is_origin_pattern(bad), "{bad}");
        }
    }
}
