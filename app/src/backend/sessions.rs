//! Session tokens and cookies. Threats: theft from the database (only SHA-256 of each token is
//! stored), fixation (a new token at every sign-in), script access (HttpOnly), cross-site
//! sending (SameSite=Lax; mutating requests are also origin-checked by the server).
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Backend, SessionUser};
use crate::domain::forward::ReturnHost;

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_session"
    } else {
        "roster_session"
    }
}

/// A `Set-Cookie` value for one of our site-wide cookies (`Secure` with https; an empty
/// value with `max_age` 0 clears it).
fn site_cookie(b: &Backend, name: &str, value: &str, same_site: &str, max_age: i64) -> String {
    let secure = if b.config.secure_cookies { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// The session cookie's name on this server: `__Host-` over https (bound to Roster's host),
/// `__Secure-` over https with `--cookie-domain` (a `__Host-` cookie may name no domain).
pub fn session_cookie_name(b: &Backend) -> &'static str {
    match (b.config.secure_cookies, b.config.cookie_domain.is_some()) {
        (true, true) => "__Secure-roster_session",
        (secure, _) => cookie_name(secure),
    }
}

/// The session cookie, for `--cookie-domain` when set (the tools on its subdomains behind a
/// forward-authenticating proxy see it).
fn session_cookie(b: &Backend, value: &str, max_age: i64) -> String {
    let c = site_cookie(b, session_cookie_name(b), value, "Lax", max_age);
    match &b.config.cookie_domain {
        Some(d) => format!("{c}; Domain={d}"),
        None => c,
    }
}

pub fn set_cookie(b: &Backend, token: &str) -> String {
    session_cookie(b, token, b.config.session_absolute_ms / 1000)
}

pub fn clear_cookie(b: &Backend) -> String {
    session_cookie(b, "", 0)
}

/// The cookie that carries a second-factor challenge between the password and the code.
pub fn challenge_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_mfa"
    } else {
        "roster_mfa"
    }
}

pub fn set_challenge_cookie(b: &Backend, token: &str) -> String {
    let name = challenge_cookie_name(b.config.secure_cookies);
    site_cookie(b, name, token, "Lax", b.config.mfa_challenge_ms / 1000)
}

pub fn clear_challenge_cookie(b: &Backend) -> String {
    site_cookie(b, challenge_cookie_name(b.config.secure_cookies), "", "Lax", 0)
}

/// Finds the session token in a Cookie header.
pub fn token_from_cookie_header(b: &Backend, header: &str) -> Option<String> {
    cookie_value(header, session_cookie_name(b))
}

/// The cookie that binds a single sign-on flow to the browser that started it. Sent only to
/// the callback path, and for as long as a flow may take.
pub const SSO_COOKIE: &str = "roster_sso";

pub fn set_sso_cookie(b: &Backend, value: &str) -> String {
    format!(
        "{SSO_COOKIE}={value}; Path=/auth/oidc/; HttpOnly; SameSite=Lax; Max-Age=600{}",
        if b.config.secure_cookies { "; Secure" } else { "" }
    )
}

pub fn clear_sso_cookie(b: &Backend) -> String {
    format!(
        "{SSO_COOKIE}=; Path=/auth/oidc/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if b.config.secure_cookies { "; Secure" } else { "" }
    )
}

pub fn sso_from_cookie_header(header: &str) -> Option<String> {
    cookie_value(header, SSO_COOKIE)
}

/// Where a sign-in returns to (an application's authorization request, or a tool behind a
/// forward-authenticating proxy): set when Roster sends someone to sign in, read once by
/// `/signed-in`. Only a path of Roster's own, or an address on a host of
/// `--forward-auth-hosts`, is kept or followed (checked again when followed: a tool on a
/// subdomain could set this cookie itself). Base64url: a query holds characters a cookie
/// value may not.
pub const RETURN_COOKIE: &str = "roster_return";

/// Whether `p` is a path on this site (not `//host`, not `/\host`, no control characters).
pub fn local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && p.len() <= 4096
        && !p.chars().any(|c| c.is_control() || c == '\\')
}

/// Whether `url` is an http(s) address on a host of `--forward-auth-hosts` (no user name or
/// password in it).
pub fn forward_return_ok(hosts: &[ReturnHost], url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else { return false };
    let host = match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return false,
    };
    matches!(u.scheme(), "http" | "https")
        && u.username().is_empty()
        && u.password().is_none()
        && url.len() <= 4096
        && crate::domain::forward::host_allowed(hosts, &host)
}

/// Whether a sign-in may return to `to` (`hosts`: `--forward-auth-hosts`).
pub fn return_ok(hosts: &[ReturnHost], to: &str) -> bool {
    local_path(to) || forward_return_ok(hosts, to)
}

/// Half an hour: long enough to sign in, with a second factor, or through another provider.
pub fn set_return_cookie(b: &Backend, path: &str) -> Option<String> {
    return_ok(&b.config.forward_auth_hosts, path).then(|| {
        let v = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(path.as_bytes());
        site_cookie(b, RETURN_COOKIE, &v, "Lax", 1800)
    })
}

pub fn clear_return_cookie(b: &Backend) -> String {
    site_cookie(b, RETURN_COOKIE, "", "Lax", 0)
}

pub fn return_from_cookie_header(hosts: &[ReturnHost], header: &str) -> Option<String> {
    let v = cookie_value(header, RETURN_COOKIE)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v.as_bytes()).ok()?;
    String::from_utf8(bytes).ok().filter(|p| return_ok(hosts, p))
}

/// Server functions whose answer is shown once and never again (a new token, recovery
/// codes). A form of one posted before the WASM arrived is answered with a redirect, and a
/// URL must not carry a secret (logs, history, Referer): the answer travels to the next page
/// in this cookie instead, sealed (only this server can read it), bound to the function and
/// to the session that asked, for a minute, and the page that shows it clears it. An import's
/// report (which names accounts) travels the same way, shortened to fit.
pub const SHOWN_ONCE: &[&str] = &[
    "create_token",
    "confirm_totp",
    "regenerate_recovery_codes",
    "import_accounts",
    "save_client",
    "rotate_client_secret",
    "save_webhook",
    "rotate_webhook_secret",
    "create_scim_connection",
    "new_scim_token",
    "create_invitation",
    "resend_invitation",
];

/// Largest answer sealed into the cookie: 3,800 characters of base64 less the nonce and tag.
const SHOWN_ONCE_MAX_BYTES: usize = 2_800;

fn shown_once_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_once"
    } else {
        "roster_once"
    }
}

fn shown_once_aad(rpc: &str, session_token: &str) -> String {
    let session = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash_token(session_token));
    format!("roster shown once\n{rpc}\n{session}")
}

/// The cookie that carries `answer` (the function's JSON) to the next page, if it fits.
pub fn set_shown_once_cookie(b: &Backend, rpc: &str, session_token: &str, answer: &[u8]) -> Option<String> {
    let shortened = (rpc == "import_accounts")
        .then(|| serde_json::from_slice::<crate::domain::import::ImportReport>(answer).ok())
        .flatten()
        .and_then(|report| serde_json::to_vec(&report.shortened(SHOWN_ONCE_MAX_BYTES)).ok());
    // (an application's answer: its id, name and secret are what the page shows once; up to
    // forty long redirect URIs would not fit)
    let slim = matches!(rpc, "save_client" | "rotate_client_secret")
        .then(|| serde_json::from_slice::<crate::domain::clients::ClientSecret>(answer).ok())
        .flatten()
        .map(|mut c| {
            c.client.redirect_uris.clear();
            c.client.post_logout_redirect_uris.clear();
            c.client.orgs.clear();
            c
        })
        .and_then(|c| serde_json::to_vec(&c).ok());
    // (a webhook's: its id, name and secret; a 2,000-character URL and its organizations
    // would crowd the secret out)
    let slim_hook = matches!(rpc, "save_webhook" | "rotate_webhook_secret")
        .then(|| serde_json::from_slice::<crate::domain::webhooks::WebhookSecret>(answer).ok())
        .flatten()
        .map(|mut w| {
            w.webhook.url.clear();
            w.webhook.orgs.clear();
            w
        })
        .and_then(|w| serde_json::to_vec(&w).ok());
    // (a SCIM connection's: its id, name and token; up to 200 organization names would not fit)
    let slim_scim = matches!(rpc, "create_scim_connection" | "new_scim_token")
        .then(|| serde_json::from_slice::<crate::domain::scim::ScimConnectionToken>(answer).ok())
        .flatten()
        .map(|mut t| {
            t.connection.orgs.clear();
            t
        })
        .and_then(|t| serde_json::to_vec(&t).ok());
    let answer =
        shortened.as_deref().or(slim.as_deref()).or(slim_hook.as_deref()).or(slim_scim.as_deref()).unwrap_or(answer);
    let sealed = b.secrets.seal(answer, &shown_once_aad(rpc, session_token));
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed);
    // Browsers keep cookies up to 4 KB (name and attributes included).
    if value.len() > 3800 {
        return None;
    }
    Some(site_cookie(b, shown_once_cookie_name(b.config.secure_cookies), &value, "Strict", 60))
}

pub fn clear_shown_once_cookie(b: &Backend) -> String {
    site_cookie(b, shown_once_cookie_name(b.config.secure_cookies), "", "Strict", 0)
}

/// The answer of `rpc` carried by the request's cookies, if this session sealed one.
pub fn shown_once_from_cookie_header(b: &Backend, header: &str, rpc: &str) -> Option<Vec<u8>> {
    let value = cookie_value(header, shown_once_cookie_name(b.config.secure_cookies))?;
    let session = token_from_cookie_header(b, header)?;
    let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.as_bytes()).ok()?;
    b.secrets.open(&sealed, &shown_once_aad(rpc, &session)).ok()
}

/// Finds the second-factor challenge token in a Cookie header.
pub fn challenge_from_cookie_header(b: &Backend, header: &str) -> Option<String> {
    cookie_value(header, challenge_cookie_name(b.config.secure_cookies))
}

fn cookie_value(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A resolved session as the in-memory look-up keeps it.
#[derive(Debug, Clone)]
pub struct CachedSession {
    pub user: SessionUser,
    pub auth: Proof,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// When and how a session last proved its owner: `at` its sign-in or re-authentication (sudo
/// mode), `method` how it was signed in (`password`, `totp`, `passkey`...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proof {
    pub at: i64,
    pub method: String,
}

/// Resolves a token to its signed-in account, on every request: a session whose account was
/// disabled or deleted, or that is idle or too old, gives nothing (and expired ones are
/// removed), so such changes take effect on the very next request. Also returns when the
/// session last proved its owner (sudo mode). Answered from memory while nothing was written
/// since (see `auth_cache`).
pub async fn resolve(b: &Backend, token: &str) -> Option<(Vec<u8>, SessionUser, Proof)> {
    resolve_hash(b, hash_token(token)).await
}

/// `resolve` for a session known by its hash (a long-lived request, such as the event
/// stream, checks its session again with the same rules: status, idle and absolute expiry).
pub async fn resolve_hash(b: &Backend, hash: Vec<u8>) -> Option<(Vec<u8>, SessionUser, Proof)> {
    let now = b.now();
    let generation = b.store.write_generation();
    if let Some(c) = b.session_cache.get(&hash, generation, now) {
        let fresh =
            now - c.last_seen_at <= b.config.session_idle_ms && now - c.created_at <= b.config.session_absolute_ms;
        if fresh {
            if now - c.last_seen_at > 60_000 {
                touch(b, &hash, now).await;
                b.session_cache.update(&hash, |c| c.last_seen_at = now);
            }
            return Some((hash, c.user, c.auth));
        }
    }
    let found = match b.store.session(&hash).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "session look-up failed");
            return None;
        }
    };
    let (session, user) = found?;
    let expired = now - session.last_seen_at > b.config.session_idle_ms
        || now - session.created_at > b.config.session_absolute_ms;
    if expired {
        b.session_cache.remove(&hash);
        if let Ok(mut tx) = b.store.begin().await {
            let ok = tx.delete_session(&hash).await.is_ok();
            if ok {
                let _ = tx.commit().await;
            }
        }
        return None;
    }
    if user.status != crate::domain::users::UserStatus::Active {
        return None;
    }
    // Refresh the idle clock at most once a minute: no write on every request.
    let mut last_seen_at = session.last_seen_at;
    if now - session.last_seen_at > 60_000 {
        touch(b, &hash, now).await;
        last_seen_at = now;
    }
    let org = current_org(b, user.id, user.super_admin, session.org_id);
    let needs_two_factor = !user.two_factor
        && if org == session.org_id { session.requires_2fa } else { two_factor_required(b, org).await };
    let resolved = SessionUser {
        id: user.id,
        username: user.username,
        full_name: user.full_name,
        email: user.email,
        super_admin: user.super_admin,
        org,
        token: None,
        needs_two_factor,
    };
    let auth = Proof { at: session.auth_at, method: session.method };
    let cached =
        CachedSession { user: resolved.clone(), auth: auth.clone(), created_at: session.created_at, last_seen_at };
    b.session_cache.put(hash.clone(), cached, generation, now);
    Some((hash, resolved, auth))
}

async fn touch(b: &Backend, hash: &[u8], now: i64) {
    if let Err(e) = b.store.touch_session(hash, now).await {
        tracing::warn!(error = %e, "could not refresh session");
    }
}

/// Whether `org` or the whole instance requires two-factor authentication (a failed read
/// errs on the side of requiring it).
pub(crate) async fn two_factor_required(b: &Backend, org: crate::domain::ids::OrgId) -> bool {
    match b.store.two_factor_required(org).await {
        Ok((o, i)) => o || i,
        Err(e) => {
            tracing::error!(error = %e, "could not read the 2FA requirement");
            true
        }
    }
}

/// The session's organization while the account may still be there; otherwise the first
/// one it belongs to (removed from an organization mid-session, the account moves on).
fn current_org(
    b: &Backend,
    user: crate::domain::ids::UserId,
    super_admin: bool,
    chosen: crate::domain::ids::OrgId,
) -> crate::domain::ids::OrgId {
    let m = b.access.read();
    if m.is_member(user, chosen) || (super_admin && m.orgs.contains_key(&chosen)) {
        return chosen;
    }
    m.orgs_of(user).first().copied().unwrap_or(chosen)
}

#[cfg(test)]
mod return_tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_returned_to() {
        let b: Vec<ReturnHost> = vec![];
        for ok in ["/", "/oauth/authorize?client_id=a&state=x%3Dy", "/admin/users"] {
            assert!(local_path(ok), "{ok}");
            let v = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(ok);
            assert_eq!(return_from_cookie_header(&b, &format!("a=b; {RETURN_COOKIE}={v}")).as_deref(), Some(ok));
        }
        for bad in ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "/a\nb", "/a\\b", ""] {
            assert!(!local_path(bad), "{bad:?}");
            let v = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bad);
            assert_eq!(return_from_cookie_header(&b, &format!("{RETURN_COOKIE}={v}")), None, "{bad:?}");
        }
        assert_eq!(return_from_cookie_header(&b, &format!("{RETURN_COOKIE}=not base64!")), None);
        // A tool's host on the allow-list is returned to; others, and tricks, are not.
        let fwd = vec![ReturnHost::parse("tool.example.com").expect("rule")];
        for ok in ["https://tool.example.com/", "http://tool.example.com/a?b=c"] {
            assert!(return_ok(&fwd, ok), "{ok}");
        }
        for no in [
            "https://evil.example.com/",
            "https://tool.example.com@evil.com/",
            "https://u:p@tool.example.com/",
            "javascript:alert(1)",
            "ftp://tool.example.com/",
        ] {
            assert!(!return_ok(&fwd, no), "{no}");
        }
        assert!(!return_ok(&b, "https://tool.example.com/"), "not without the allow-list");
    }
}
