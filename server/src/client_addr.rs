//! The client's address, for audit rows, sessions and throttles. Behind a reverse proxy the TCP
//! peer is the proxy, and the browser's address travels in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`. Anyone can write those headers, so they count only when the direct peer
//! is a proxy the operator named (`--trusted-proxies`); otherwise a client could pick the
//! address its failed sign-ins are counted under, or the one the audit trail shows.
//!
//! With a trusted peer, the hops are read from the right (each proxy appends the address it
//! saw): trusted proxies are skipped, and the first address that is not one is the client
//! (nginx's `real_ip_recursive on`). A hop that cannot be read (`unknown`, an obfuscated name,
//! garbage) stops the walk: the last address known to be real is used, never one from further
//! left that the client may have written.
use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address to record for a request whose TCP peer is `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// The hops the proxies reported, leftmost (furthest) first: `Forwarded` when present (it is
/// the standard one and a proxy that sets it means it), else `X-Forwarded-For`. `None` for a
/// hop that names no address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_ip(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| node_ip(hop.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn node_ip(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = node.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let bracketed = node.strip_prefix('[')?.split(']').next()?;
    bracketed.parse::<IpAddr>().ok().map(canonical)
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`: compare and record them
/// as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Parses `--trusted-proxies` entries: CIDRs (`10.0.0.0/8`) or single addresses.
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{s}' is not an address or CIDR (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| parse_proxy(s).expect("net")).collect()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=203.0.113.9")]);
        assert_eq!(client_ip(ip("198.51.100.2"), &h, &[]), ip("198.51.100.2"));
        assert_eq!(client_ip(ip("198.51.100.2"), &h, &nets(&["10.0.0.0/8"])), ip("198.51.100.2"));
    }

    #[test]
    fn a_trusted_peer_names_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &trusted), ip("203.0.113.9"));
        // No header: the proxy itself is all we know.
        assert_eq!(client_ip(ip("10.1.2.3"), &HeaderMap::new(), &trusted), ip("10.1.2.3"));
    }

    #[test]
    fn addresses_a_client_wrote_further_left_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Two trusted proxies in a row are skipped (also across repeated headers).
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9"), ("x-forwarded-for", "10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // An unreadable hop stops the walk at the last real address.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, garbage, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.7"));
        // Every hop trusted: the leftmost one.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.9.9.9"));
    }

    #[test]
    fn the_standard_header_wins_and_its_forms_are_read() {
        let trusted = nets(&["127.0.0.1", "::1"]);
        let h = headers(&[
            ("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=192.0.2.60:8080"),
            ("x-forwarded-for", "1.1.1.1"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("192.0.2.60"));
        let h = headers(&[("forwarded", "For=\"[2001:db8:cafe::17]\"")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_ranges() {
        let trusted = nets(&["127.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn proxy_entries_are_checked() {
        assert_eq!(parse_proxy("192.0.2.10").expect("ip").to_string(), "192.0.2.10/32");
        assert_eq!(parse_proxy(" fd00::/8 ").expect("net").to_string(), "fd00::/8");
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.internal").expect_err("name").contains("not an address"));
    }
}
