//! OAuth clients ("applications"): the data tools that sign people in through Roster, Roster
//! being their OpenID provider. What super admins set for each one, and the pure rules on
//! those settings. The redirect URIs' own rules need a URL parser and live with the service
//! (`backend::services::clients`).
use serde::{Deserialize, Serialize};

use super::error::FieldError;

/// The scopes a client may be allowed to ask for, with what each one gives the tool.
pub const SCOPES: [(&str, &str); 5] = [
    ("openid", "who signed in (a stable subject)"),
    ("profile", "name and username"),
    ("email", "email address"),
    ("roster", "role and abilities in the organizations it may see"),
    ("offline_access", "refresh tokens: staying signed in"),
];

/// At most this many clients on an instance (the list is one page).
pub const MAX_CLIENTS: usize = 500;
/// Redirect URIs (and post-logout ones) per client.
pub const MAX_URIS: usize = 20;

/// Access tokens (and ID tokens) last between one minute and a day; ten minutes by default.
pub const ACCESS_SECONDS: (u32, u32, u32) = (60, 86_400, 600);
/// Refresh tokens: none (0), or between an hour and a year; thirty days by default.
pub const REFRESH_SECONDS: (u32, u32, u32) = (3_600, 365 * 86_400, 30 * 86_400);

/// Whether a client can keep a secret: a server-side tool (confidential), or a browser or
/// desktop tool that cannot (public, PKCE only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    #[default]
    Confidential,
    Public,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Confidential => "confidential",
            ClientKind::Public => "public",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "" | "confidential" => Ok(ClientKind::Confidential),
            "public" => Ok(ClientKind::Public),
            _ => Err(FieldError::new("kind", "Choose confidential (a server keeps a secret) or public (PKCE only).")),
        }
    }
}

/// A client as super admins edit it. Its secret is never part of it: a new client's (and a
/// rotated one's) is answered once, beside it ([`ClientSecret`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OAuthClient {
    /// What the tool sends as `client_id`: 3-64 of a-z, 0-9, `-`, `_`, `.`; fixed once created.
    pub client_id: String,
    /// Shown to people when they sign in ("Sign in to DBackup").
    pub name: String,
    #[serde(default)]
    pub kind: ClientKind,
    /// Where the tool may be sent back with a code, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where the tool may send people after signing out of Roster, matched exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The organizations (names) whose role and abilities the tool receives (scope `roster`).
    #[serde(default)]
    pub orgs: Vec<String>,
    /// The scopes the tool may ask for (`openid` always).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Ask people before their first sign-in into the tool (first-party tools skip it).
    #[serde(default = "yes")]
    pub consent: bool,
    /// Only people who signed in with a second factor (or a passkey) get in.
    #[serde(default)]
    pub require_two_factor: bool,
    #[serde(default = "default_access")]
    pub access_token_seconds: u32,
    /// 0: no refresh tokens.
    #[serde(default = "default_refresh")]
    pub refresh_token_seconds: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Read-only: whether it has a secret (confidential clients).
    #[serde(default)]
    pub has_secret: bool,
    /// Read-only: when its secret was made.
    #[serde(default)]
    pub secret_created_at: Option<i64>,
    /// Read-only.
    #[serde(default)]
    pub created_at: i64,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}
fn default_access() -> u32 {
    ACCESS_SECONDS.2
}
fn default_refresh() -> u32 {
    REFRESH_SECONDS.2
}
fn yes() -> bool {
    true
}

impl Default for OAuthClient {
    fn default() -> Self {
        OAuthClient {
            client_id: String::new(),
            name: String::new(),
            kind: ClientKind::default(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            orgs: Vec::new(),
            scopes: default_scopes(),
            consent: true,
            require_two_factor: false,
            access_token_seconds: default_access(),
            refresh_token_seconds: default_refresh(),
            enabled: true,
            has_secret: false,
            secret_created_at: None,
            created_at: 0,
        }
    }
}

/// A client with its secret, answered once: when a confidential client is created and when
/// its secret is rotated (`client_secret` is `None` for a public client).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClientSecret {
    pub client: OAuthClient,
    pub client_secret: Option<String>,
}

/// Client ids: 3-64 of a-z, 0-9, `-`, `_` and `.`, starting with a letter or digit (they go
/// into each tool's settings and into URLs, so they never change).
pub fn client_id(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let f = |m: &str| Err(FieldError::new("client_id", m));
    if s.is_empty() {
        return f("Enter a client ID, like \"dbackup\".");
    }
    if s.len() < 3 || s.len() > 64 {
        return f("The client ID must be 3 to 64 characters.");
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return f("The client ID must start with a lower-case letter or a digit.");
    }
    if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)) {
        return f("The client ID may only contain lower-case letters, digits, -, _ and .");
    }
    Ok(s.to_string())
}

/// The scopes a client may ask for: known ones only, `openid` always, each once, in the
/// order of [`SCOPES`].
pub fn scopes<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, FieldError> {
    let mut asked: Vec<&str> = Vec::new();
    for s in raw.iter().flat_map(|s| s.as_ref().split([' ', ','])).map(str::trim).filter(|s| !s.is_empty()) {
        if !SCOPES.iter().any(|(k, _)| *k == s) {
            let known: Vec<&str> = SCOPES.iter().map(|(k, _)| *k).collect();
            return Err(FieldError::new(
                "scopes",
                format!("\"{s}\" is not a scope Roster gives ({}).", known.join(", ")),
            ));
        }
        asked.push(s);
    }
    Ok(SCOPES.iter().map(|(k, _)| *k).filter(|k| *k == "openid" || asked.contains(k)).map(String::from).collect())
}

/// Token lifetimes within their bounds.
pub fn lifetimes(access: u32, refresh: u32) -> Result<(u32, u32), Vec<FieldError>> {
    let mut errors = Vec::new();
    let (lo, hi, _) = ACCESS_SECONDS;
    if !(lo..=hi).contains(&access) {
        errors.push(FieldError::new("access_token_seconds", "Access tokens last between 1 minute and 1 day."));
    }
    let (lo, hi, _) = REFRESH_SECONDS;
    if refresh != 0 && !(lo..=hi).contains(&refresh) {
        errors.push(FieldError::new(
            "refresh_token_seconds",
            "Refresh tokens last between 1 hour and 365 days (or 0: none).",
        ));
    }
    if errors.is_empty() {
        Ok((access, refresh))
    } else {
        Err(errors)
    }
}

/// One URI per line (or separated by spaces), blank lines dropped: how the console's text
/// areas and the CLI's repeated flags arrive.
pub fn uri_lines(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_are_short_lower_case_names() {
        assert_eq!(client_id(" dbackup "), Ok("dbackup".into()));
        assert_eq!(client_id("slash-db_2.prod"), Ok("slash-db_2.prod".into()));
        assert_eq!(client_id("9lives"), Ok("9lives".into()));
        for bad in ["", "ab", "DBackup", "-x1", "has space", "é-tool", &"x".repeat(65)] {
            assert!(client_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scopes_are_known_ones_with_openid_always() {
        assert_eq!(scopes(&["email roster"]), Ok(vec!["openid".into(), "email".into(), "roster".into()]));
        assert_eq!(scopes(&["roster", "openid", "roster"]), Ok(vec!["openid".into(), "roster".into()]));
        assert_eq!(scopes::<&str>(&[]), Ok(vec!["openid".into()]));
        let e = scopes(&["openid", "admin"]).expect_err("unknown");
        assert_eq!(e.field, "scopes");
        assert!(e.message.contains("\"admin\""), "{}", e.message);
    }

    #[test]
    fn lifetimes_have_bounds_and_refresh_may_be_off() {
        assert_eq!(lifetimes(600, 0), Ok((600, 0)));
        assert_eq!(lifetimes(60, 3_600), Ok((60, 3_600)));
        let e = lifetimes(59, 60).expect_err("both out");
        assert_eq!(
            e.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["access_token_seconds", "refresh_token_seconds"]
        );
        assert!(lifetimes(86_401, 0).is_err());
        assert!(lifetimes(600, 366 * 86_400).is_err());
    }

    #[test]
    fn kinds_and_uri_lines() {
        assert_eq!(ClientKind::parse("Public"), Ok(ClientKind::Public));
        assert_eq!(ClientKind::parse(""), Ok(ClientKind::Confidential));
        assert!(ClientKind::parse("secret").is_err());
        assert_eq!(
            uri_lines(" https://a.example/cb \n\n https://b.example/cb\r\n"),
            ["https://a.example/cb", "https://b.example/cb"]
        );
        // (the defaults are what a new client form starts from)
        let d = OAuthClient::default();
        assert_eq!(
            (d.kind, d.consent, d.access_token_seconds, d.refresh_token_seconds),
            (ClientKind::Confidential, true, 600, 2_592_000)
        );
    }
}
