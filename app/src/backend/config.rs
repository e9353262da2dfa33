//! The settings the services need, built by the binary from flags and `ROSTER_*`
//! variables. Secrets (the instance key) are redacted from `Debug`, so a logged config never
//! leaks them.
use crate::domain::validate::PasswordPolicy;

/// Settings the services need. Built by the binary from flags and `ROSTER_*` variables.
#[derive(Clone)]
pub struct Config {
    pub password_policy: PasswordPolicy,
    /// Sets `Secure` and the `__Host-` prefix on the session cookie.
    pub secure_cookies: bool,
    pub session_idle_ms: i64,
    pub session_absolute_ms: i64,
    /// The origin browsers use to reach us (e.g. `https://roster.example.com`), for the
    /// cross-site request check behind a reverse proxy. `None`: compare with the Host header.
    pub public_origin: Option<String>,
    /// Sudo mode: how long after a sign-in or re-authentication credentials may be changed
    /// without entering the password again.
    pub sudo_ms: i64,
    /// How long the second-factor step may take after the password was accepted.
    pub mfa_challenge_ms: i64,
    /// The issuer name authenticator apps show next to the account.
    pub totp_issuer: String,
    /// The instance key that seals secrets at rest (from a key file or the environment,
    /// never the database). `None`: a throwaway key (tests).
    pub secret_key: Option<[u8; 32]>,
    /// The key before a rotation (`ROSTER_SECRET_KEY_PREVIOUS`): opens what it sealed until
    /// `roster secrets rotate` has re-sealed everything under `secret_key`.
    pub secret_key_previous: Option<[u8; 32]>,
    /// Whether the server may fetch URLs on loopback, private and link-local addresses
    /// (single sign-on providers on the local network). Off: SSRF protection.
    pub allow_internal_urls: bool,
    /// Reverse proxies (CIDRs) whose `proxy_header` names the client. Empty: the TCP peer is
    /// the client, whatever such headers say (anyone can send them).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The one header the trusted proxies write the client's address into.
    pub proxy_header: ProxyHeader,
    /// Test Connection: the folder SQLite database files must be in (`None`: SQLite files
    /// cannot be tested), which hosts the server may connect to, and how long it waits.
    pub database_probes: ProbeRules,
    /// Forward authentication: the hosts (of tools behind a proxy) a sign-in may send people
    /// back to. Empty: only Roster's own pages.
    pub forward_auth_hosts: Vec<crate::domain::forward::ReturnHost>,
    /// The domain the session cookie is set for (`example.com`: sent to the tools on its
    /// subdomains too, for forward authentication). `None`: Roster's host only.
    pub cookie_domain: Option<String>,
    /// The wait after a webhook's first failed attempt at an event (doubled after each
    /// further one, up to an hour).
    pub webhook_retry_ms: i64,
    /// Where invitation mails go out (`smtp://host:25`, `smtps://user:pass@host`,
    /// `smtp://host:587?tls=required`); `None`: admins copy the link instead.
    pub smtp_url: Option<String>,
    /// The mails' sender (`Roster <roster@example.com>`).
    pub smtp_from: String,
}

/// Where Test Connection may connect. It makes the server open a connection to a host and
/// port an admin typed (server-side request forgery), so: never to link-local addresses
/// (cloud metadata lives there) unless allowed, only to the allow-listed hosts when there is
/// a list, and only to SQLite files inside one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRules {
    pub sqlite_dir: Option<std::path::PathBuf>,
    /// Host names (exact, case-insensitive) and address ranges; empty: any host.
    pub allowed_hosts: Vec<HostRule>,
    pub allow_link_local: bool,
    pub timeout_ms: u64,
}

impl Default for ProbeRules {
    fn default() -> Self {
        Self { sqlite_dir: None, allowed_hosts: Vec::new(), allow_link_local: false, timeout_ms: 5_000 }
    }
}

/// One entry of the Test Connection allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    Name(String),
    Net(ipnet::IpNet),
}

impl HostRule {
    /// `db.example.com`, `10.0.0.0/8` or `10.1.2.3`.
    pub fn parse(raw: &str) -> Result<HostRule, String> {
        let raw = raw.trim();
        if let Ok(net) = raw.parse::<ipnet::IpNet>() {
            return Ok(HostRule::Net(net));
        }
        if let Ok(ip) = raw.parse::<std::net::IpAddr>() {
            return Ok(HostRule::Net(ipnet::IpNet::from(ip)));
        }
        crate::domain::databases::host(raw)
            .map(|h| HostRule::Name(h.to_ascii_lowercase()))
            .map_err(|e| format!("'{raw}': {}", e.message))
    }
}

/// Which header a trusted proxy names the client in. Only that one is read: a proxy passes
/// the other through as the client sent it (nginx appends to `X-Forwarded-For` and forwards
/// a client's own `Forwarded` unchanged), so believing both would let a client pick its address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For` (nginx `$proxy_add_x_forwarded_for`, HAProxy `option forwardfor`,
    /// Traefik, Caddy, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded` (RFC 7239), for proxies configured to write it.
    Forwarded,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            secure_cookies: false,
            session_idle_ms: 12 * 60 * 60 * 1000,
            session_absolute_ms: 7 * 24 * 60 * 60 * 1000,
            public_origin: None,
            sudo_ms: 10 * 60 * 1000,
            mfa_challenge_ms: 5 * 60 * 1000,
            totp_issuer: "Roster".to_string(),
            secret_key: None,
            secret_key_previous: None,
            allow_internal_urls: false,
            trusted_proxies: Vec::new(),
            proxy_header: ProxyHeader::default(),
            database_probes: ProbeRules::default(),
            forward_auth_hosts: Vec::new(),
            cookie_domain: None,
            webhook_retry_ms: 5_000,
            smtp_url: None,
            smtp_from: "Roster <roster@localhost>".to_string(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("password_policy", &self.password_policy)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_idle_ms", &self.session_idle_ms)
            .field("session_absolute_ms", &self.session_absolute_ms)
            .field("public_origin", &self.public_origin)
            .field("sudo_ms", &self.sudo_ms)
            .field("mfa_challenge_ms", &self.mfa_challenge_ms)
            .field("totp_issuer", &self.totp_issuer)
            .field("secret_key", &self.secret_key.map(|_| "(set)"))
            .field("secret_key_previous", &self.secret_key_previous.map(|_| "(set)"))
            .field("allow_internal_urls", &self.allow_internal_urls)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("proxy_header", &self.proxy_header)
            .field("forward_auth_hosts", &self.forward_auth_hosts)
            .field("cookie_domain", &self.cookie_domain)
            .field("webhook_retry_ms", &self.webhook_retry_ms)
            // (the URL may carry the relay's password)
            .field("smtp_url", &self.smtp_url.as_ref().map(|_| "(set)"))
            .field("smtp_from", &self.smtp_from)
            .finish()
    }
}
