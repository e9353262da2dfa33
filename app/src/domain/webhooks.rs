//! Events for integrators and webhooks: what a change looks like on the wire, which hooks
//! and which listeners receive it, and the retry schedule. A tool that caches Roster's
//! answers (who may do what) drops them the moment a role, an organization or an account
//! changes, instead of waiting for its cache to expire.
use serde::{Deserialize, Serialize};

use super::error::FieldError;

/// The kinds of change a hook can ask for, with what each one covers. (`all`, "reload
/// everything", goes to every hook and listener: it follows bulk changes.)
pub const KINDS: [(&str, &str); 3] = [
    ("user", "accounts: created, changed, disabled, deleted, and their memberships"),
    ("role", "roles: created, renamed, their abilities changed, deleted"),
    ("org", "organizations: created, renamed, settings changed, deleted"),
];

/// At most this many hooks on an instance (the list is one page).
pub const MAX_WEBHOOKS: usize = 50;
/// The newest deliveries kept per hook.
pub const DELIVERY_LOG: usize = 50;
/// After this many failed attempts at one event, a hook pauses until an admin resumes it
/// (no event is skipped: it resumes where it stopped).
pub const MAX_ATTEMPTS: i64 = 10;
/// The longest wait between two attempts.
pub const MAX_RETRY_MS: i64 = 3_600_000;
/// Events are kept this long for listeners that resume and for paused hooks.
pub const RETENTION_MS: i64 = 7 * 86_400_000;

/// One change, as the event stream and the webhooks carry it (the JSON body of a webhook
/// POST; the `data:` of an `event: access` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Event {
    /// Grows in commit order; the stream's `id:` and a hook's `Roster-Event-Id`.
    pub id: i64,
    /// `user`, `role`, `org`, or `all` (reload everything).
    pub kind: String,
    /// The id of the account, role or organization that changed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subject_id: Option<i64>,
    /// Its username or name at the time of the change.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// The organizations it concerns (names); empty: every organization.
    #[serde(default)]
    pub orgs: Vec<String>,
    /// The access version after the change.
    pub version: i64,
    /// When it was committed, ms since the epoch.
    pub at: i64,
}

/// A webhook as super admins see and edit it. Its signing secret is never part of it: it is
/// answered once, when made or rotated ([`WebhookSecret`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    /// Where events are POSTed (https; http only on loopback with `--allow-internal-urls`).
    pub url: String,
    /// The kinds of change it receives (`user`, `role`, `org`).
    pub kinds: Vec<String>,
    /// The organizations (names) it hears about; empty: every organization. Changes that
    /// concern no organization in particular (roles) always go.
    pub orgs: Vec<String>,
    pub enabled: bool,
    /// Why deliveries stopped (too many failures in a row); resume to go on.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub paused: Option<String>,
    /// The last event it is done with.
    pub delivered_through: i64,
    /// Failed attempts at the next event.
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A webhook's settings, as a form or a JSON body gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookInput {
    // (missing fields are the service's to refuse, after it checked who asks)
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub kinds: Vec<String>,
    #[serde(default)]
    pub orgs: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A hook with its signing secret, answered once (made or rotated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    pub webhook: Webhook,
    /// `whsec_` and 256 random bits: the receiver checks `Roster-Signature` with it.
    pub secret: String,
}

/// One delivery attempt, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub event_id: i64,
    pub attempt: i64,
    pub at: i64,
    /// The receiver's HTTP status; none when no answer came.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// The start of the receiver's answer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub response: Option<String>,
    pub duration_ms: i64,
}

impl Delivery {
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The kinds as typed (a list, or one comma/space-separated entry), checked; at least one.
pub fn kinds(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for k in raw.iter().flat_map(|l| l.split([',', ' '])).map(|k| k.trim().to_ascii_lowercase()) {
        if k.is_empty() {
            continue;
        }
        if !KINDS.iter().any(|(name, _)| *name == k) {
            return Err(FieldError::new("kinds", format!("{k} is not a kind of change: choose user, role or org.")));
        }
        if !out.contains(&k) {
            out.push(k);
        }
    }
    if out.is_empty() {
        return Err(FieldError::new("kinds", "Choose at least one kind of change: user, role or org."));
    }
    // In the order of KINDS, whatever order they were typed in.
    out.sort_by_key(|k| KINDS.iter().position(|(name, _)| name == k));
    Ok(out)
}

pub fn name(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new("name", "Enter a name (the tool that receives the events)."));
    }
    if s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(FieldError::new("name", "A name is at most 100 characters, on one line."));
    }
    Ok(s.to_string())
}

/// Whether a hook asking for `kinds` in `orgs` (ids; empty: all) receives a change of `kind`
/// concerning `event_orgs` (empty: every organization).
pub fn wants<O: PartialEq>(kinds: &[String], orgs: &[O], kind: &str, event_orgs: &[O]) -> bool {
    let kind_ok = kind == "all" || kinds.iter().any(|k| k == kind);
    let org_ok = orgs.is_empty() || event_orgs.is_empty() || event_orgs.iter().any(|o| orgs.contains(o));
    kind_ok && org_ok
}

/// How long to wait after the `attempts`-th failure in a row: `base_ms` doubled each time,
/// at most `MAX_RETRY_MS`.
pub fn retry_delay_ms(attempts: i64, base_ms: i64) -> i64 {
    let exp = attempts.clamp(1, 30) - 1;
    base_ms.max(1).saturating_mul(1_i64 << exp).min(MAX_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked_and_ordered() {
        assert_eq!(kinds(&["org, user".into()]).expect("ok"), vec!["user", "org"]);
        assert_eq!(kinds(&["ROLE".into(), "role".into()]).expect("ok"), vec!["role"]);
        assert!(kinds(&[]).is_err());
        assert!(kinds(&[" , ".into()]).is_err());
        let e = kinds(&["users".into()]).expect_err("unknown");
        assert_eq!(e.field, "kinds");
        assert!(e.message.contains("users"), "{}", e.message);
    }

    #[test]
    fn names() {
        assert_eq!(name("  DBackup cache ").expect("ok"), "DBackup cache");
        assert!(name(" ").is_err());
        assert!(name("a\nb").is_err());
        assert!(name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn a_hook_receives_its_kinds_in_its_orgs() {
        let user = vec!["user".to_string()];
        assert!(wants(&user, &[1], "user", &[1, 2]));
        assert!(!wants(&user, &[1], "user", &[2]), "another organization");
        assert!(!wants(&user, &[1], "role", &[] as &[i32]), "another kind");
        assert!(wants(&user, &[] as &[i32], "user", &[7]), "no organization named: all of them");
        assert!(wants(&user, &[1], "user", &[]), "a change that concerns every organization");
        assert!(wants(&user, &[1], "all", &[]), "reload everything goes to every hook");
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_ms(1, 1000), 1000);
        assert_eq!(retry_delay_ms(2, 1000), 2000);
        assert_eq!(retry_delay_ms(5, 1000), 16_000);
        assert_eq!(retry_delay_ms(30, 1000), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(i64::MAX, 1000), MAX_RETRY_MS);
        assert_eq!(retry_delay_ms(0, 0), 1);
    }
}
