//! The client's address, for audit rows, sessions and throttles. Behind a reverse proxy the TCP
//! peer is the proxy, and the browser's address travels in `X-Forwarded-For` or `Forwarded`
//! (RFC 7239). Anyone can write those headers, so they count only when the direct peer is a
//! proxy the operator named (`--trusted-proxies`), and only the one header the operator says
//! the proxy writes (`--proxy-header`): a proxy passes the other one through as the client
//! wrote it. Otherwise a client could pick the address its failed sign-ins are counted under,
//! or the one the audit trail shows.
//!
//! With a trusted peer, the hops are read from the right (each proxy appends the address it
//! saw): trusted proxies are skipped, and the first address that is not one is the client
//! (nginx's `real_ip_recursive on`). A hop that cannot be read (`unknown`, an obfuscated name,
//! garbage) stops the walk: the last address known to be real is used, never one from further
//! left that the client may have written.
use std::net::{IpAddr, SocketAddr};

use app::backend::config::ProxyHeader;
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The address to record for a request whose TCP peer is `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet], header: ProxyHeader) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_hops(headers, header);
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

/// The hops the proxies reported in `header`, leftmost (furthest) first. `None` for a hop
/// that names no address.
fn forwarded_hops(headers: &HeaderMap, header: ProxyHeader) -> Vec<Option<IpAddr>> {
    match header {
        ProxyHeader::Forwarded => headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node_ip(v.trim().trim_matches('"')))
            })
            .collect(),
        ProxyHeader::XForwardedFor => headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|hop| node_ip(hop.trim()))
            .collect(),
    }
}

/// Parses `--proxy-header`.
pub fn parse_proxy_header(s: &str) -> Result<ProxyHeader, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
        "forwarded" => Ok(ProxyHeader::Forwarded),
        other => Err(format!("'{other}' is not a proxy header: use x-forwarded-for or forwarded")),
    }
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

    const XFF: ProxyHeader = ProxyHeader::XForwardedFor;

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
        assert_eq!(client_ip(ip("198.51.100.2"), &h, &[], XFF), ip("198.51.100.2"));
        assert_eq!(client_ip(ip("198.51.100.2"), &h, &nets(&["10.0.0.0/8"]), XFF), ip("198.51.100.2"));
    }

    #[test]
    fn a_trusted_peer_names_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &trusted, XFF), ip("203.0.113.9"));
        // No header: the proxy itself is all we know.
        assert_eq!(client_ip(ip("10.1.2.3"), &HeaderMap::new(), &trusted, XFF), ip("10.1.2.3"));
    }

    #[test]
    fn addresses_a_client_wrote_further_left_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the real address.
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted, XFF), ip("203.0.113.9"));
        // Two trusted proxies in a row are skipped (also across repeated headers).
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9"), ("x-forwarded-for", "10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted, XFF), ip("203.0.113.9"));
        // An unreadable hop stops the walk at the last real address.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, garbage, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted, XFF), ip("10.0.0.7"));
        // Every hop trusted: the leftmost one.
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.0.0.7")]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted, XFF), ip("10.9.9.9"));
    }

    #[test]
    fn only_the_header_the_proxy_writes_is_read() {
        // A client's own Forwarded header passes through a proxy that writes X-Forwarded-For
        // (nginx does): it is never believed there...
        let trusted = nets(&["127.0.0.2"]);
        let h = headers(&[("forwarded", "for=203.0.113.9"), ("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.2"), &h, &trusted, XFF), ip("127.0.0.1"));
        // ...and with a proxy that writes Forwarded, X-Forwarded-For is the client's.
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("forwarded", "for=127.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.2"), &h, &trusted, ProxyHeader::Forwarded), ip("127.0.0.1"));
        assert_eq!(parse_proxy_header("Forwarded"), Ok(ProxyHeader::Forwarded));
        assert_eq!(parse_proxy_header("x-forwarded-for"), Ok(ProxyHeader::XForwardedFor));
        assert!(parse_proxy_header("x-real-ip").is_err());
    }

    #[test]
    fn the_forms_of_the_standard_header_are_read() {
        let trusted = nets(&["127.0.0.1", "::1"]);
        let fwd = ProxyHeader::Forwarded;
        let h = headers(&[("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https, for=192.0.2.60:8080")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted, fwd), ip("192.0.2.60"));
        let h = headers(&[("forwarded", "For=\"[2001:db8:cafe::17]\"")]);
        assert_eq!(client_ip(ip("::1"), &h, &trusted, fwd), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted, fwd), ip("127.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_ranges() {
        let trusted = nets(&["127.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(ip("::ffff:127.0.0.1"), &h, &trusted, XFF), ip("203.0.113.9"));
    }

    #[test]
    fn proxy_entries_are_checked() {
        assert_eq!(parse_proxy("192.0.2.10").expect("ip").to_string(), "192.0.2.10/32");
        assert_eq!(parse_proxy(" fd00::/8 ").expect("net").to_string(), "fd00::/8");
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.internal").expect_err("name").contains("not an address"));
    }
}
