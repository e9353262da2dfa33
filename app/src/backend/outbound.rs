//! Outbound HTTP: the one rule for every URL the server fetches on someone's say-so (single
//! sign-on issuers and every endpoint their discovery documents name; later webhooks and
//! Test Connection hosts).
//! Threat: server-side request forgery. A super admin (or a stolen super admin token) types
//! an issuer URL, or a provider's discovery document names a JWKS or token endpoint, that
//! points at the instance's own network: cloud metadata (169.254.169.254), databases on
//! private addresses, admin ports on loopback. So every URL is parsed with a URL parser (no
//! hand-split hosts: `http://127.0.0.1:80@internal.example/` is a URL with userinfo, whose
//! host is `internal.example`), must be https (plain http only on loopback, for local
//! testing), carries no userinfo, and every address it resolves to, at connect time (no
//! check-then-resolve gap), must be public unless the operator allows internal addresses
//! (`--allow-internal-urls`). Callers get one sentence; the detail goes to the log.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// Why a URL may not be fetched (for the log and for field errors that name the rule).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("not a URL")]
    Unparsable,
    #[error("only https URLs (plain http only on loopback)")]
    Scheme,
    #[error("user name or password in the URL")]
    UserInfo,
    #[error("no host")]
    NoHost,
    #[error("query or fragment")]
    QueryOrFragment,
    #[error("address {0} is internal (loopback, private, link-local or reserved)")]
    InternalAddress(IpAddr),
    #[error("host name resolves to no allowed address")]
    NoAllowedAddress,
}

/// Whether `ip` is on the public internet. Loopback, private (RFC 1918, unique local),
/// link-local (where cloud metadata lives), shared (CGNAT), unspecified, broadcast,
/// multicast, documentation and benchmarking ranges are internal; IPv4 mapped or embedded in
/// IPv6 is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return is_public_v4(Ipv4Addr::new(a, b, c, d));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Whether `ip` may be fetched under the rule.
pub fn address_allowed(ip: IpAddr, allow_internal: bool) -> bool {
    // Never: nothing listens on "any", and multicast is not a server.
    if ip.is_unspecified() || ip.is_multicast() {
        return false;
    }
    allow_internal || is_public(ip)
}

fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// Checks a URL before it is fetched: https (http on loopback only), no userinfo, a host,
/// and an IP-literal host must pass the address rule (names are checked when they resolve).
pub fn check_url(url: &Url, allow_internal: bool) -> Result<(), UrlRefusal> {
    let host = url.host().ok_or(UrlRefusal::NoHost)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        _ => return Err(UrlRefusal::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::UserInfo);
    }
    let ip = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        // "localhost" never reaches a resolver on some systems: judge it as loopback here.
        Host::Domain(_) if is_loopback_host(&host) => Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        Host::Domain(_) => None,
    };
    if let Some(ip) = ip {
        if !address_allowed(ip, allow_internal) {
            return Err(UrlRefusal::InternalAddress(ip));
        }
    }
    Ok(())
}

/// An issuer URL as an administrator types it: parsed, checked by `check_url`, no query or
/// fragment. Returned exactly as typed apart from surrounding whitespace: the issuer in the
/// provider's discovery document and ID tokens must match it character for character.
pub fn issuer(raw: &str, allow_internal: bool) -> Result<String, crate::domain::FieldError> {
    let s = raw.trim();
    let f = |m: &str| Err(crate::domain::FieldError::new("issuer", m));
    if s.is_empty() {
        return f("Enter the issuer URL, like https://login.example.com/realms/main.");
    }
    if s.len() > 500 {
        return f("The issuer URL must be at most 500 characters.");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return f("The issuer URL must be a plain URL with a host and no query or fragment.");
    }
    let Ok(url) = Url::parse(s) else {
        return f("The issuer URL must be a URL like https://login.example.com/realms/main.");
    };
    if url.query().is_some() || url.fragment().is_some() {
        return f("The issuer URL must be a plain URL with a host and no query or fragment.");
    }
    match check_url(&url, allow_internal) {
        Ok(()) => Ok(s.to_string()),
        Err(UrlRefusal::Scheme) => f("The issuer URL must use https:// (plain http only for localhost)."),
        Err(UrlRefusal::UserInfo) => f("The issuer URL cannot contain a user name or password."),
        Err(UrlRefusal::NoHost) => f("The issuer URL must be a plain URL with a host and no query or fragment."),
        Err(_) => f("The issuer URL points at an internal address (loopback, private or link-local network), which this server does not fetch. An operator can allow it with --allow-internal-urls."),
    }
}

/// Resolves host names for the outbound HTTP client and drops every address the rule
/// refuses, so the check holds for the address actually connected to (no DNS rebinding
/// between a check and the connection).
struct FilteringResolver {
    allow_internal: bool,
}

impl openidconnect::reqwest::dns::Resolve for FilteringResolver {
    fn resolve(&self, name: openidconnect::reqwest::dns::Name) -> openidconnect::reqwest::dns::Resolving {
        let allow_internal = self.allow_internal;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                addrs.iter().copied().filter(|a| address_allowed(a.ip(), allow_internal)).collect();
            if allowed.is_empty() {
                tracing::warn!(host, ?addrs, "outbound request refused: no allowed address");
                return Err(Box::new(UrlRefusal::NoAllowedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as openidconnect::reqwest::dns::Addrs)
        })
    }
}

/// Why an outbound request failed (for the log; callers show a fixed sentence).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("URL refused: {0}")]
    Refused(UrlRefusal),
    #[error(transparent)]
    Http(#[from] openidconnect::HttpClientError<openidconnect::reqwest::Error>),
}

/// The HTTP client for outbound requests: no redirects (a redirect could lead anywhere),
/// no proxy from the environment (it would resolve names for us), timeouts, and the address
/// rule applied to every URL and every resolved address.
pub struct Fetcher {
    client: openidconnect::reqwest::Client,
    allow_internal: bool,
}

impl Fetcher {
    pub fn new(allow_internal: bool) -> Result<Self, String> {
        let client = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(FilteringResolver { allow_internal }))
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, allow_internal })
    }

    /// Performs one request after checking its URL.
    pub async fn fetch(&self, req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, FetchError> {
        let url = Url::parse(&req.uri().to_string()).map_err(|_| FetchError::Refused(UrlRefusal::Unparsable))?;
        check_url(&url, self.allow_internal).map_err(FetchError::Refused)?;
        use openidconnect::AsyncHttpClient;
        Ok(self.client.call(req).await?)
    }
}

/// The OpenID Connect client sends every request (discovery, keys, token, userinfo) here.
impl<'c> openidconnect::AsyncHttpClient<'c> for Fetcher {
    type Error = FetchError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, FetchError>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.fetch(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn addresses() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            let ip: IpAddr = internal.parse().expect("ip");
            assert!(!is_public(ip), "{internal} is internal");
            assert!(!address_allowed(ip, false), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            let ip: IpAddr = public.parse().expect("ip");
            assert!(address_allowed(ip, false), "{public}");
        }
        // The setting admits loopback and private networks, never "any" or multicast.
        assert!(address_allowed("10.0.0.1".parse().expect("ip"), true));
        assert!(address_allowed("127.0.0.1".parse().expect("ip"), true));
        assert!(!address_allowed("0.0.0.0".parse().expect("ip"), true));
        assert!(!address_allowed("ff02::1".parse().expect("ip"), true));
    }

    #[test]
    fn urls() {
        assert_eq!(check_url(&url("https://login.example.com/realms/x"), false), Ok(()));
        assert_eq!(check_url(&url("https://93.184.216.34/"), false), Ok(()));
        // Userinfo: the host is after the @, and the URL is refused anyway.
        let tricky = url("http://127.0.0.1:80@internal.example/");
        assert_eq!(tricky.host_str(), Some("internal.example"));
        assert_eq!(check_url(&tricky, true), Err(UrlRefusal::Scheme), "http to a non-loopback host");
        assert_eq!(check_url(&url("https://user:pw@login.example.com/"), true), Err(UrlRefusal::UserInfo));
        assert_eq!(check_url(&url("https://admin@login.example.com/"), true), Err(UrlRefusal::UserInfo));
        // Private and link-local https issuers, and loopback, only with the setting.
        for s in [
            "https://169.254.169.254/",
            "https://10.0.0.5/",
            "https://[fd00::5]/",
            "http://127.0.0.1:9090",
            "http://localhost:9090",
        ] {
            assert!(matches!(check_url(&url(s), false), Err(UrlRefusal::InternalAddress(_))), "{s}");
            assert_eq!(check_url(&url(s), true), Ok(()), "{s} with the setting");
        }
        assert_eq!(check_url(&url("http://example.com/"), true), Err(UrlRefusal::Scheme));
        assert_eq!(check_url(&url("ftp://example.com/"), true), Err(UrlRefusal::Scheme));
        // Numeric forms the parser normalises are judged by their address.
        assert!(check_url(&url("https://2130706433/"), false).is_err(), "127.0.0.1 as one number");
        assert!(check_url(&url("https://0x7f.1/"), false).is_err());
    }

    #[test]
    fn issuers() {
        assert!(issuer("https://login.example.com/realms/main", false).is_ok());
        assert!(issuer("http://localhost:9090", true).is_ok());
        assert!(issuer("http://127.0.0.1:9090/", true).is_ok());
        assert!(issuer("http://[::1]:9090", true).is_ok());
        assert!(issuer("http://localhost:9090", false).is_err(), "loopback needs the setting");
        for bad in [
            "",
            "login.example.com",
            "http://login.example.com",
            "http://localhost.evil.com",
            "http://127.0.0.1:80@internal.example/",
            "https://u:p@login.example.com",
            "https://login.example.com/?a=b",
            "https://login.example.com/#x",
            "https://",
            "https://exa mple.com",
            "https://169.254.169.254/latest",
            "https://192.168.0.10",
        ] {
            assert!(issuer(bad, false).is_err(), "{bad}");
        }
        assert_eq!(issuer(" https://a.example.com/ ", false).expect("ok"), "https://a.example.com/");
        // The answer names the rule, never what a fetch found.
        let e = issuer("https://10.0.0.1/", false).expect_err("internal");
        assert!(e.message.contains("internal address"), "{}", e.message);
    }

    #[tokio::test]
    async fn the_resolver_drops_internal_addresses() {
        use openidconnect::reqwest::dns::Resolve;
        let strict = FilteringResolver { allow_internal: false };
        let name = "localhost".parse().expect("name");
        assert!(strict.resolve(name).await.is_err(), "localhost resolves only to loopback");
        let open = FilteringResolver { allow_internal: true };
        let addrs: Vec<SocketAddr> =
            open.resolve("localhost".parse().expect("name")).await.expect("resolves").collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    #[tokio::test]
    async fn the_fetcher_refuses_before_connecting() {
        let f = Fetcher::new(false).expect("client");
        for u in ["http://127.0.0.1:9/x", "https://169.254.169.254/latest/meta-data", "https://u:p@example.com/"] {
            let req = openidconnect::http::Request::builder().uri(u).body(Vec::new()).expect("request");
            assert!(matches!(f.fetch(req).await, Err(FetchError::Refused(_))), "{u}");
        }
    }
}
