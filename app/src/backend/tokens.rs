//! API keys and personal access tokens on the wire: generation, look-up on every request,
//! and a throttle for failed look-ups. Threats: guessing (256 random bits; failed look-ups
//! are counted per client address and a client past the free ones is told to wait), a
//! throttle turned against its owner (the token is always looked up first: a valid token is
//! never refused because others from the same address, or behind the same proxy, failed),
//! theft from the database (only SHA-256 is stored), a token
//! outliving its purpose (expiry, revocation and the owner's status are checked on every
//! request), a token doing more than intended (scope intersected with the owner's current
//! abilities, see `policy::token_abilities`).
use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use rand::RngCore;

use super::sessions::hash_token;
use super::{Backend, SessionUser, TokenAuth};
use crate::domain::throttle::delay_after;
use crate::domain::tokens::TokenKind;
use crate::domain::users::UserStatus;

/// A new token's text (shown once) and its public prefix.
pub fn generate(kind: TokenKind) -> (String, String) {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let token = format!("{}{secret}", kind.prefix());
    let prefix = format!("{}{}", kind.prefix(), &secret[..6]);
    (token, prefix)
}

/// Whether a string has the shape of one of our tokens (cheap check before any look-up).
pub fn looks_like_token(s: &str) -> bool {
    [TokenKind::ApiKey, TokenKind::Pat].iter().any(|k| {
        s.strip_prefix(k.prefix()).is_some_and(|rest| {
            rest.len() == 43 && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        })
    })
}

/// Whether a string has the shape of a SlashDB API key imported from users.cfg: `app_id:key`
/// (SlashDB clients send the two as `appid` and `apikey`; Roster keeps SHA-256 of the pair).
pub fn looks_like_slashdb_key(s: &str) -> bool {
    s.split_once(':').is_some_and(|(app, key)| {
        (1..=64).contains(&app.len())
            && (1..=256).contains(&key.len())
            && app.bytes().all(|c| c.is_ascii_alphanumeric() || b"@_-~.".contains(&c))
            && key.bytes().all(|c| c.is_ascii_graphic() && c != b':')
    })
}

/// Consecutive failed token look-ups per client address, with the sign-in schedule's delays.
/// Successes do not reset the count (a valid token between guesses must not wipe it); a
/// quiet period does.
#[derive(Default)]
pub struct FailureThrottle {
    /// key -> (failures, next allowed at, last failure at)
    map: Mutex<HashMap<String, (u32, i64, i64)>>,
}

/// After this long without a failure, a client's count starts again from zero.
const QUIET_MS: i64 = crate::domain::throttle::MAX_DELAY_MS;

impl FailureThrottle {
    /// Whether `key` may try now.
    pub fn allowed(&self, key: &str, now: i64) -> bool {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).is_none_or(|(_, next, _)| now >= *next)
    }

    pub fn fail(&self, key: &str, now: i64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded memory under a spray of addresses: forget entries whose wait is over.
        if map.len() > 100_000 {
            map.retain(|_, (_, next, _)| *next > now);
        }
        let e = map.entry(key.to_string()).or_insert((0, 0, now));
        if now - e.2 > QUIET_MS {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = now + delay_after(e.0);
        e.2 = now;
    }

    /// Milliseconds until `key` may try again (0: now).
    pub fn wait_ms(&self, key: &str, now: i64) -> i64 {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).map(|(_, next, _)| (*next - now).max(0)).unwrap_or(0)
    }

    pub fn clear(&self, key: &str) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

/// Why a presented token was refused (the client only ever sees "unauthenticated", or
/// "too many requests" with the wait once its failures pass the free ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// An unknown (or expired, revoked...) token from a client that must wait this long.
    Throttled {
        wait_ms: i64,
    },
    Unknown,
    Expired,
    Revoked,
    OwnerInactive,
}

/// A resolved token as the in-memory look-up keeps it.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub user: SessionUser,
    pub expires_at: i64,
    pub last_used_at: i64,
}

/// Whether a token that opened a long-lived answer (an event stream) would still be
/// accepted: not revoked, not expired, its owner active. A failed read answers no (the
/// client reconnects and is asked again).
pub async fn still_valid(b: &Backend, user: crate::domain::ids::UserId, token_id: i64) -> bool {
    let now = b.now();
    let active = b.access.read().users.get(&user).is_some_and(|e| e.active);
    active
        && match b.store.tokens_of(user).await {
            Ok(list) => {
                list.iter().any(|t| t.id == token_id && t.revoked_at == 0 && (t.expires_at == 0 || t.expires_at > now))
            }
            Err(_) => false,
        }
}

/// Resolves a presented token to its owner, on every request. `client` keys the failure
/// throttle (the client address). Answered from memory while nothing was written since (see
/// `auth_cache`); refusals are never cached. The token is looked up before the throttle is
/// asked: only failed look-ups are throttled, so guesses from an address (or from everyone
/// behind one proxy) never lock a valid token out.
pub async fn resolve(b: &Backend, token: &str, client: &str) -> Result<SessionUser, Refused> {
    let now = b.now();
    let throttle_key = format!("token:{client}");
    let hash = hash_token(token);
    let generation = b.store.write_generation();
    if let Some(c) = b.token_cache.get(&hash, generation, now) {
        if c.expires_at == 0 || c.expires_at > now {
            if now - c.last_used_at > 60_000 {
                touch(b, c.user.token.as_ref().map(|t| t.id).unwrap_or_default(), now).await;
                b.token_cache.update(&hash, |c| c.last_used_at = now);
            }
            return Ok(c.user);
        }
    }
    let found = if looks_like_token(token) || looks_like_slashdb_key(token) {
        match b.store.token_by_hash(&hash).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "token look-up failed");
                None
            }
        }
    } else {
        None
    };
    let refused = match &found {
        None => Some(Refused::Unknown),
        Some((t, _)) if t.revoked_at > 0 => Some(Refused::Revoked),
        Some((t, _)) if t.expires_at > 0 && t.expires_at <= now => Some(Refused::Expired),
        Some((_, u)) if u.status != UserStatus::Active || u.public => Some(Refused::OwnerInactive),
        Some(_) => None,
    };
    if let Some(r) = refused {
        // A client that is already waiting is told how long; its failure still counts.
        let waiting = !b.token_failures.allowed(&throttle_key, now);
        b.token_failures.fail(&throttle_key, now);
        let wait_ms = b.token_failures.wait_ms(&throttle_key, now);
        if waiting {
            crate::backend::metrics::throttled("token");
            return Err(Refused::Throttled { wait_ms });
        }
        return Err(r);
    }
    let Some((t, u)) = found else { return Err(Refused::Unknown) };
    // Last use to the minute: no write on every request.
    let mut last_used_at = t.last_used_at;
    if now - t.last_used_at > 60_000 {
        touch(b, t.id, now).await;
        last_used_at = now;
    }
    let org = b.access.read().orgs_of(u.id).first().copied().unwrap_or(crate::domain::ids::DEFAULT_ORG);
    let needs_two_factor = !u.two_factor && super::sessions::two_factor_required(b, org).await;
    let mut user = SessionUser {
        needs_two_factor,
        id: u.id,
        username: u.username,
        full_name: u.full_name,
        email: u.email,
        super_admin: u.super_admin,
        org,
        token: Some(TokenAuth { id: t.id, scope: t.abilities }),
    };
    user.super_admin = user.narrow(u.super_admin, crate::domain::abilities::AbilitySet::EMPTY).0;
    b.token_cache.put(
        hash,
        CachedToken { user: user.clone(), expires_at: t.expires_at, last_used_at },
        generation,
        now,
    );
    Ok(user)
}

async fn touch(b: &Backend, id: i64, now: i64) {
    if let Err(e) = b.store.touch_token(id, now).await {
        tracing::warn!(error = %e, "could not record token use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        for kind in [TokenKind::ApiKey, TokenKind::Pat] {
            let (t, p) = generate(kind);
            assert!(t.starts_with(kind.prefix()) && t.starts_with(&p));
            assert!(looks_like_token(&t), "{t}");
            assert_eq!(p.len(), kind.prefix().len() + 6);
            assert_ne!(generate(kind).0, t);
        }
        assert!(!looks_like_token("rst_pat_short"));
        assert!(looks_like_slashdb_key("app1api:oqjbz59qca8ba0df"));
        assert!(!looks_like_slashdb_key("app1api:"));
        assert!(!looks_like_slashdb_key(":key"));
        assert!(!looks_like_slashdb_key("a b:key"));
        assert!(!looks_like_token(&format!("rst_xyz_{}", "a".repeat(43))));
    }

    #[test]
    fn failure_throttle_escalates_and_clears() {
        let t = FailureThrottle::default();
        let now = 1_000_000;
        for _ in 0..crate::domain::throttle::FREE_FAILURES {
            assert!(t.allowed("ip", now));
            t.fail("ip", now);
        }
        assert!(t.allowed("ip", now));
        t.fail("ip", now);
        assert!(!t.allowed("ip", now), "the fourth failure starts the delays");
        assert!(t.allowed("ip", now + 1000));
        assert!(t.allowed("other", now));
        t.clear("ip");
        assert!(t.allowed("ip", now));
        // A quiet period starts the count again.
        for _ in 0..10 {
            t.fail("q", now);
        }
        let later = now + QUIET_MS + 1;
        t.fail("q", later);
        assert!(t.allowed("q", later), "one failure after a quiet period is free");
    }
}
