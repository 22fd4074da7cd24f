//! SSRF guard. The crawler fetches URLs that site owners type into the
//! dashboard, from inside our network; without this a URL such as
//! `http://169.254.169.254/` (cloud metadata) or `http://localhost:6379/`
//! would let anyone read or poke internal services.
//!
//! How the check is wired, and why it closes DNS rebinding:
//! a check-then-fetch design (resolve with `lookup_host`, check, then let
//! reqwest resolve again) leaves a window: a hostile DNS server with TTL 0
//! answers a public address to the check and `127.0.0.1` to the connect.
//! Instead [`GuardedResolver`] *is* reqwest's resolver: it resolves with
//! `tokio::net::lookup_host`, refuses the name if *any* address is
//! forbidden, and hands exactly those checked addresses to the connector.
//! IP-literal hosts never reach a resolver, so [`check_literal_host`] covers
//! them before every request (including every redirect hop).
//!
//! Residual risks, accepted: the system resolver itself (`/etc/hosts`,
//! nsswitch) is trusted; a proxy would resolve names out of our sight, so the
//! client is built with `no_proxy()`; pooled keep-alive connections were
//! checked when opened and stay pinned to that address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::FetchError;

/// Raised inside reqwest's connector; [`FetchError::from_reqwest`] digs it
/// out of the error chain to report [`FetchError::PrivateAddress`].
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to a private, loopback or link-local address")]
pub(super) struct PrivateAddressRefused {
    pub(super) host: String,
}

/// reqwest resolver that refuses names pointing at internal addresses.
pub(super) struct GuardedResolver {
    pub(super) allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0 is replaced by the URL's port (or the scheme's default).
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|addr| is_forbidden_ip(addr.ip())) {
                return Err(Box::new(PrivateAddressRefused { host }) as _);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Refuses URLs whose host is an internal IP literal (hostnames are checked by
/// [`GuardedResolver`] at connect time).
pub(super) fn check_literal_host(url: &Url, allow_private: bool) -> Result<(), FetchError> {
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        _ => return Ok(()),
    };
    if is_forbidden_ip(ip) {
        return Err(FetchError::PrivateAddress {
            host: ip.to_string(),
        });
    }
    Ok(())
}

/// True for every address a server-side fetch must not reach: loopback,
/// RFC 1918 private, link-local (cloud metadata lives there), carrier-grade
/// NAT, unspecified, multicast/broadcast and reserved ranges, and IPv6 forms
/// that embed such an IPv4 address.
pub(super) fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || a >= 240 // reserved
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_forbidden_v4(v4);
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // deprecated site-local
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(text: &str) -> bool {
        is_forbidden_ip(text.parse().unwrap())
    }

    #[test]
    fn internal_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for ip in [
            "93.184.215.14",
            "1.1.1.1",
            "172.32.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn decimal_and_hex_ip_spellings_are_caught_as_literals() {
        // The URL parser normalises these to 127.0.0.1, so they cannot sneak
        // past the literal check as "hostnames".
        for raw in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let url = Url::parse(raw).unwrap();
            assert!(
                matches!(
                    check_literal_host(&url, false),
                    Err(FetchError::PrivateAddress { .. })
                ),
                "{raw} should be refused"
            );
        }
    }
}
