//! Single sign-on through OpenID Connect: provider settings as the admin pages and the API see
//! them, and the pure rules of a sign-in (which claims are read, which emails are admitted,
//! what a refusal says). The protocol itself runs on the server (`backend::oidc`).
use serde::{Deserialize, Serialize};

use super::error::FieldError;
use super::validate;

/// A provider as the sign-in page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoButton {
    pub slug: String,
    pub display_name: String,
}

/// A provider as super admins edit it. The client secret is write-only: `client_secret`
/// is empty when read, and an empty one on update keeps the stored secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SsoProvider {
    /// Short name in URLs (`/auth/oidc/{slug}/callback`); fixed once created.
    pub slug: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Space-separated; `openid` is always sent.
    #[serde(default = "default_scopes")]
    pub scopes: String,
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// Create an account on the first sign-in of someone unknown (else only linked accounts
    /// may sign in).
    #[serde(default)]
    pub auto_create: bool,
    /// Where created accounts become members (organization name), and with which role (name).
    #[serde(default)]
    pub org: String,
    #[serde(default)]
    pub role: String,
    /// Comma- or space-separated email domains admitted; empty admits any.
    #[serde(default)]
    pub allowed_domains: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Read-only: whether a client secret is stored.
    #[serde(default)]
    pub has_secret: bool,
    /// Read-only: the redirect URI to register at the provider.
    #[serde(default)]
    pub redirect_uri: String,
}

fn default_scopes() -> String {
    "openid email profile".into()
}
fn default_username_claim() -> String {
    "preferred_username".into()
}
fn default_email_claim() -> String {
    "email".into()
}
fn default_name_claim() -> String {
    "name".into()
}
fn yes() -> bool {
    true
}

impl SsoProvider {
    pub fn new_defaults() -> Self {
        Self {
            scopes: default_scopes(),
            username_claim: default_username_claim(),
            email_claim: default_email_claim(),
            name_claim: default_name_claim(),
            enabled: true,
            ..Default::default()
        }
    }
}

/// A provider on the profile page: linked or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedProvider {
    pub slug: String,
    pub display_name: String,
    /// When the link was made; `None`: not linked.
    pub linked_at: Option<i64>,
    /// The email the provider reported when linked.
    pub email: Option<String>,
}

/// Provider slugs: 1-32 of a-z, 0-9 and `-`, starting with a letter (they appear in URLs
/// registered at the provider, so they never change).
pub fn slug(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let f = |m: &str| Err(FieldError::new("slug", m));
    if s.is_empty() {
        return f("Enter a short name, like \"okta\" or \"google\".");
    }
    if s.len() > 32 {
        return f("The short name must be at most 32 characters.");
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return f("The short name must start with a lower-case letter.");
    }
    if !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return f("The short name may only contain lower-case letters, digits and -.");
    }
    Ok(s.to_string())
}

/// The allowed email domains: lower-cased, `@` and whitespace stripped; empty admits any.
pub fn domains(raw: &str) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    for d in raw.split([',', ' ', '\n', ';']).map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()) {
        if d.is_empty() {
            continue;
        }
        if !d.contains('.')
            || d.starts_with('.')
            || d.ends_with('.')
            || !d.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        {
            return Err(FieldError::new("allowed_domains", format!("\"{d}\" is not a domain like example.com.")));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

/// A claim name: letters, digits, `_ - . :` (URIs as claim names are common); 1-100.
pub fn claim_name(field: &str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 100 || !s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c)) {
        return Err(FieldError::new(field, "Enter a claim name, like preferred_username."));
    }
    Ok(s.to_string())
}

/// Scopes: space-separated tokens; `openid` is added when missing.
pub fn scopes(raw: &str) -> Result<String, FieldError> {
    let mut out: Vec<&str> = vec!["openid"];
    for s in raw.split_whitespace() {
        if !s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') || s.len() > 100 {
            return Err(FieldError::new("scopes", format!("\"{s}\" is not a valid scope.")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

/// The identity a provider vouched for, with the claims the provider's mapping names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    pub username: Option<String>,
    pub email: Option<String>,
    /// `Some(false)` when the provider says the email is not verified.
    pub email_verified: Option<bool>,
    pub name: Option<String>,
}

/// Why a single sign-on did not end in a session. The browser sees only the code (in the
/// URL it lands on) and the sentence for it; details go to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SsoRefusal {
    /// The state is unknown, used, expired or belongs to another browser.
    State,
    /// The provider answered with an error (the user cancelled, say).
    Denied,
    /// Code exchange or ID token verification failed.
    Failed,
    /// No account is linked and the provider does not create accounts.
    NoAccount,
    /// The email domain is not admitted (or the email is unverified where domains matter).
    Domain,
    /// The linked account is disabled.
    Disabled,
    /// A new account would take a username or email that exists (accounts are never joined
    /// by name or email: the owner links the provider from the profile).
    AccountExists,
    /// The provider did not give a usable username or email for a new account.
    MissingClaims,
    /// This provider identity is linked to another account.
    LinkedElsewhere,
    /// Too many failed callbacks from this address.
    Throttled,
    /// The provider is unknown or switched off.
    Unavailable,
    /// The invitation the sign-in started from can no longer be used (used, withdrawn,
    /// expired, or its inviter may no longer give the role).
    Invitation,
    /// The identity has an account already: it joins by signing in and opening the link.
    InvitationAccount,
}

impl SsoRefusal {
    pub const ALL: [SsoRefusal; 13] = [
        SsoRefusal::State,
        SsoRefusal::Denied,
        SsoRefusal::Failed,
        SsoRefusal::NoAccount,
        SsoRefusal::Domain,
        SsoRefusal::Disabled,
        SsoRefusal::AccountExists,
        SsoRefusal::MissingClaims,
        SsoRefusal::LinkedElsewhere,
        SsoRefusal::Throttled,
        SsoRefusal::Unavailable,
        SsoRefusal::Invitation,
        SsoRefusal::InvitationAccount,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SsoRefusal::State => "state",
            SsoRefusal::Denied => "denied",
            SsoRefusal::Failed => "failed",
            SsoRefusal::NoAccount => "no_account",
            SsoRefusal::Domain => "domain",
            SsoRefusal::Disabled => "disabled",
            SsoRefusal::AccountExists => "account_exists",
            SsoRefusal::MissingClaims => "missing_claims",
            SsoRefusal::LinkedElsewhere => "linked_elsewhere",
            SsoRefusal::Throttled => "throttled",
            SsoRefusal::Unavailable => "unavailable",
            SsoRefusal::Invitation => "invitation",
            SsoRefusal::InvitationAccount => "invitation_account",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn message(self) -> &'static str {
        match self {
            SsoRefusal::State => "That single sign-on attempt is invalid or has expired. Start again from this page.",
            SsoRefusal::Denied => "The identity provider did not sign you in.",
            SsoRefusal::Failed => "The identity provider's answer could not be verified. Try again, or ask an administrator.",
            SsoRefusal::NoAccount => {
                "No Roster account is linked to that identity. Sign in another way and link the provider from your profile, or ask an administrator."
            }
            SsoRefusal::Domain => "Accounts with that email domain may not sign in through this provider.",
            SsoRefusal::Disabled => "This account is disabled. Ask an administrator.",
            SsoRefusal::AccountExists => {
                "A Roster account with that username or email already exists. Sign in to it another way and link the provider from your profile."
            }
            SsoRefusal::MissingClaims => "The identity provider did not send a usable username or email.",
            SsoRefusal::LinkedElsewhere => "That identity is already linked to another Roster account.",
            SsoRefusal::Throttled => "Too many failed attempts. Wait a few minutes, then try again.",
            SsoRefusal::Unavailable => "That sign-in option is not available.",
            SsoRefusal::Invitation => {
                "That invitation can no longer be used (used, withdrawn or expired). Open its link again to see why, and ask whoever invited you for a new one."
            }
            SsoRefusal::InvitationAccount => {
                "That identity already has a Roster account: sign in with it, then open the invitation link again to join with that account."
            }
        }
    }
}

/// Whether `email` may sign in through a provider that admits `domains` (empty: any). With a
/// domain list, the email must be present and not declared unverified by the provider:
/// anyone can type an unverified address at some providers.
pub fn email_admitted(domains: &[String], email: Option<&str>, verified: Option<bool>) -> bool {
    if domains.is_empty() {
        return true;
    }
    let Some(email) = email else { return false };
    if verified == Some(false) {
        return false;
    }
    let Some((_, domain)) = email.rsplit_once('@') else { return false };
    let domain = domain.to_ascii_lowercase();
    domains.contains(&domain)
}

/// The username of an account created on first sign-in: the mapped claim if it is a valid
/// username, else the local part of the email if that is one.
pub fn new_username(id: &Identity) -> Option<String> {
    let from_claim = id.username.as_deref().and_then(|u| validate::username(u.trim()).ok());
    from_claim.or_else(|| {
        id.email.as_deref().and_then(|e| e.split_once('@')).and_then(|(local, _)| validate::username(local).ok())
    })
}

/// Reads a claim as a string from the merged claims (ID token and userinfo).
pub fn claim_str(claims: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The identity from verified claims, read through the provider's mapping.
pub fn identity(
    issuer: &str,
    claims: &serde_json::Map<String, serde_json::Value>,
    username_claim: &str,
    email_claim: &str,
    name_claim: &str,
) -> Option<Identity> {
    let subject = claim_str(claims, "sub")?;
    Some(Identity {
        issuer: issuer.to_string(),
        subject,
        username: claim_str(claims, username_claim),
        email: claim_str(claims, email_claim).filter(|e| validate::email(e).is_ok()),
        email_verified: claims.get("email_verified").and_then(|v| v.as_bool()),
        name: claim_str(claims, name_claim),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slugs() {
        assert_eq!(slug(" okta ").unwrap(), "okta");
        assert_eq!(slug("corp-idp2").unwrap(), "corp-idp2");
        for bad in ["", "Okta", "1okta", "ok ta", "ok_ta", &"a".repeat(33)] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domains_and_admission() {
        let d = domains("Example.com, @corp.example.org  example.com").unwrap();
        assert_eq!(d, vec!["example.com".to_string(), "corp.example.org".to_string()]);
        assert!(domains("localhost").is_err());
        assert!(domains("a..b/").is_err());
        assert!(domains("").unwrap().is_empty());

        assert!(email_admitted(&[], None, None));
        assert!(email_admitted(&d, Some("Ann@EXAMPLE.com"), Some(true)));
        assert!(email_admitted(&d, Some("ann@example.com"), None));
        assert!(!email_admitted(&d, Some("ann@example.com"), Some(false)), "unverified");
        assert!(!email_admitted(&d, Some("ann@sub.example.com"), Some(true)), "subdomains are not implied");
        assert!(!email_admitted(&d, Some("ann@example.com.evil.org"), Some(true)));
        assert!(!email_admitted(&d, None, Some(true)));
    }

    #[test]
    fn scopes_always_include_openid() {
        assert_eq!(scopes("email profile").unwrap(), "openid email profile");
        assert_eq!(scopes("openid  email openid").unwrap(), "openid email");
        assert!(scopes("bad\"scope").is_err());
    }

    #[test]
    fn identity_follows_the_mapping() {
        let claims = json!({"sub": "248289761001", "email": "ann@example.com", "email_verified": true,
            "preferred_username": "ann.smith", "upn": "asmith", "name": "Ann Smith", "employee": 42,
            "nick": "ann smith"})
        .as_object()
        .cloned()
        .unwrap();
        let id = identity("https://idp", &claims, "upn", "email", "name").unwrap();
        assert_eq!(id.subject, "248289761001");
        assert_eq!(id.username.as_deref(), Some("asmith"));
        assert_eq!(id.email_verified, Some(true));
        assert_eq!(new_username(&id).as_deref(), Some("asmith"));
        // Dots are allowed (e-mail-shaped ids); "ann smith" is not a valid username: the
        // email's local part is used.
        let id = identity("https://idp", &claims, "preferred_username", "email", "name").unwrap();
        assert_eq!(new_username(&id).as_deref(), Some("ann.smith"));
        let id = identity("https://idp", &claims, "nick", "email", "name").unwrap();
        assert_eq!(new_username(&id).as_deref(), Some("ann"));
        let id = identity("https://idp", &claims, "employee", "email", "name").unwrap();
        assert_eq!(id.username.as_deref(), Some("42"));
        assert_eq!(new_username(&id).as_deref(), Some("ann"), "a number is not a username");
        // Neither usable: nothing.
        let mut neither = claims.clone();
        neither.insert("email".into(), json!("1ab@example.com"));
        let id = identity("https://idp", &neither, "nick", "email", "name").unwrap();
        assert_eq!(new_username(&id), None);
        // No subject, no identity.
        let mut no_sub = claims.clone();
        no_sub.remove("sub");
        assert!(identity("https://idp", &no_sub, "upn", "email", "name").is_none());
        // An invalid email is dropped.
        let mut bad = claims.clone();
        bad.insert("email".into(), json!("not-an-email"));
        assert_eq!(identity("https://idp", &bad, "upn", "email", "name").unwrap().email, None);
    }

    #[test]
    fn new_username_falls_back_to_the_email() {
        let id = Identity {
            issuer: "i".into(),
            subject: "s".into(),
            username: None,
            email: Some("bob_1@example.com".into()),
            email_verified: None,
            name: None,
        };
        assert_eq!(new_username(&id).as_deref(), Some("bob_1"));
    }

    #[test]
    fn refusal_codes_round_trip() {
        for r in SsoRefusal::ALL {
            assert_eq!(SsoRefusal::from_code(r.code()), Some(r));
            assert!(!r.message().is_empty());
        }
        assert_eq!(SsoRefusal::from_code("<script>"), None);
    }
}
