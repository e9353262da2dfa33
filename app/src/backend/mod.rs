//! Server-only code (feature `ssr`): configuration, the store, password hashing, sessions and
//! the services every adapter calls. A service is one use case: load facts -> policy ->
//! write -> audit, in one transaction, for an explicit caller.
pub mod access;
pub mod auth_cache;
pub mod avatar;
pub mod cpu;
pub mod crypto;
pub mod oidc;
pub mod outbound;
pub mod password;
pub mod services;
pub mod sessions;
pub mod store;
pub mod tokens;
pub mod totp;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy::Actor;
use crate::domain::validate::PasswordPolicy;
use store::{Store, StoreError};

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
    /// Whether the server may fetch URLs on loopback, private and link-local addresses
    /// (single sign-on providers on the local network). Off: SSRF protection.
    pub allow_internal_urls: bool,
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
            allow_internal_urls: false,
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
            .field("allow_internal_urls", &self.allow_internal_urls)
            .finish()
    }
}

/// Time source, injectable so throttling and expiry tests run instantly.
pub trait Clock: Send + Sync + 'static {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

/// A clock tests move by hand.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(start_ms: i64) -> Self {
        Self(AtomicI64::new(start_ms))
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Everything a service needs; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub hasher: password::Hasher,
    /// CPU-heavy work (hashing, picture decoding), one job per core at a time.
    pub cpu: cpu::CpuQueue,
    pub access: Arc<access::Access>,
    /// Seals secrets stored in the database (TOTP seeds).
    pub secrets: crypto::SecretBox,
    /// Signs the outcomes of forms posted before the WASM arrived (see `server/src/rpc.rs`).
    pub outcomes: Arc<crypto::Signer>,
    /// Failed token look-ups and single sign-on callbacks per client address (tokens are
    /// too long to guess, but every pathway is throttled; kept in memory so a valid token
    /// costs no extra write).
    pub token_failures: Arc<tokens::FailureThrottle>,
    /// The OpenID Connect relying party (HTTP client and discovery cache).
    pub oidc: Arc<oidc::Oidc>,
    /// Resolved sessions and tokens (see `auth_cache`): no database read per request.
    pub session_cache: Arc<auth_cache::AuthCache<sessions::CachedSession>>,
    pub token_cache: Arc<auth_cache::AuthCache<tokens::CachedToken>>,
    /// The WebAuthn relying party: present when the public URL is configured (browsers bind
    /// passkeys to it, so it cannot be guessed from request headers).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
}

/// The relying party for `origin` (`https://roster.example.com`, or `http://localhost:PORT`
/// for local use): RP id = its host, exact origin match (no other ports or subdomains).
pub fn relying_party(origin: &str) -> Option<webauthn_rs::Webauthn> {
    let url = webauthn_rs::prelude::Url::parse(origin).ok()?;
    let host = url.host_str()?.to_string();
    let built = webauthn_rs::WebauthnBuilder::new(&host, &url).and_then(|b| b.rp_name("Roster").build());
    match built {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(origin, error = %e, "passkeys are off: the public URL is not a valid WebAuthn origin");
            None
        }
    }
}

impl Backend {
    /// Call `load_access` before serving: until then every check is denied.
    pub fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        let webauthn = config.public_origin.as_deref().and_then(relying_party).map(Arc::new);
        let oidc = Arc::new(oidc::Oidc::new(config.allow_internal_urls));
        let cpu = cpu::CpuQueue::default();
        let secrets = config.secret_key.as_ref().map(crypto::SecretBox::new).unwrap_or_else(crypto::SecretBox::random);
        let outcomes = Arc::new(
            config.secret_key.as_ref().map(crypto::Signer::from_instance_key).unwrap_or_else(crypto::Signer::random),
        );
        Self {
            store,
            config: Arc::new(config),
            clock,
            hasher: password::Hasher::new(cpu.clone()),
            cpu,
            access: Arc::new(access::Access::default()),
            secrets,
            outcomes,
            token_failures: Arc::new(tokens::FailureThrottle::default()),
            oidc,
            session_cache: Arc::default(),
            token_cache: Arc::default(),
            webauthn,
        }
    }

    pub async fn load_access(&self) -> Result<(), StoreError> {
        self.access.reload(self.store.as_ref()).await
    }
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The signed-in account behind a request, as resolved from its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: UserId,
    pub username: String,
    pub full_name: String,
    pub email: String,
    /// The effective flag: false for a scoped token even when its owner is a super admin.
    pub super_admin: bool,
    pub org: OrgId,
    /// Set when the request authenticated with an API key or personal access token.
    pub token: Option<TokenAuth>,
    /// The organization or the instance requires two-factor authentication and the account
    /// has none yet: it may only reach its profile and security settings.
    pub needs_two_factor: bool,
}

/// The token behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAuth {
    pub id: i64,
    /// `None`: everything the owner holds.
    pub scope: Option<crate::domain::abilities::AbilitySet>,
}

impl SessionUser {
    /// What this caller holds where the account holds (`super_admin`, `abilities`): the
    /// account's own for a session, narrowed by a token's scope.
    pub fn narrow(
        &self,
        super_admin: bool,
        abilities: crate::domain::abilities::AbilitySet,
    ) -> (bool, crate::domain::abilities::AbilitySet) {
        crate::domain::policy::token_abilities(super_admin, abilities, self.token.as_ref().and_then(|t| t.scope))
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No valid session.
    Anonymous,
    User(SessionUser),
    /// The `roster` command line, run by whoever operates the machine and its database file.
    Cli,
}

/// Per-request facts the services need: the caller, and where the request came from (for
/// the audit trail). Put into request extensions by the session middleware.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// SHA-256 of the current session token, when there is one (to rotate or end it).
    pub session: Option<Vec<u8>>,
    /// When the session last proved its owner (sign-in, re-authentication); `None` for
    /// tokens and anonymous callers.
    pub auth_at: Option<i64>,
    /// SHA-256 of the second-factor challenge cookie, between password and code.
    pub challenge: Option<Vec<u8>>,
}

impl Ctx {
    pub fn cli() -> Self {
        Self { caller: Caller::Cli, ip: None, user_agent: None, session: None, auth_at: None, challenge: None }
    }

    pub fn anonymous() -> Self {
        Self { caller: Caller::Anonymous, ip: None, user_agent: None, session: None, auth_at: None, challenge: None }
    }

    /// The policy actor: `Ok(None)` for the CLI, an error for anonymous callers.
    pub fn actor(&self) -> Result<Option<Actor>, Error> {
        match &self.caller {
            Caller::Anonymous => Err(Error::Unauthenticated),
            Caller::User(u) if u.needs_two_factor => {
                Err(Error::Forbidden(crate::domain::policy::Denied::TwoFactorRequired))
            }
            Caller::User(u) => Ok(Some(Actor {
                id: u.id,
                super_admin: u.super_admin,
                abilities: crate::domain::abilities::AbilitySet::EMPTY,
            })),
            Caller::Cli => Ok(None),
        }
    }

    /// The caller as a policy actor in `org` from the in-memory model, for read-only
    /// decisions; a token's scope narrows it. `Ok(None)` for the CLI.
    pub fn reader(&self, b: &Backend, org: OrgId) -> Result<Option<Actor>, Error> {
        match &self.caller {
            Caller::Anonymous => Err(Error::Unauthenticated),
            Caller::Cli => Ok(None),
            Caller::User(u) if u.needs_two_factor => {
                Err(Error::Forbidden(crate::domain::policy::Denied::TwoFactorRequired))
            }
            Caller::User(u) => {
                let (sa, abilities) = b.access.read().abilities(Some(u.id), org);
                let owner_sa = sa || (u.token.is_none() && u.super_admin);
                let (super_admin, abilities) = u.narrow(owner_sa, abilities);
                Ok(Some(Actor { id: u.id, super_admin, abilities }))
            }
        }
    }

    pub fn user(&self) -> Result<&SessionUser, Error> {
        match &self.caller {
            Caller::User(u) => Ok(u),
            _ => Err(Error::Unauthenticated),
        }
    }

    /// The organization the request works in: the session's current one; the default
    /// organization for the CLI and anonymous visitors.
    pub fn org(&self) -> OrgId {
        match &self.caller {
            Caller::User(u) => u.org,
            _ => crate::domain::ids::DEFAULT_ORG,
        }
    }

    pub fn actor_name(&self) -> Option<String> {
        match &self.caller {
            Caller::User(u) => Some(u.username.clone()),
            Caller::Cli => Some("cli".to_string()),
            Caller::Anonymous => None,
        }
    }

    pub fn actor_id(&self) -> Option<UserId> {
        match &self.caller {
            Caller::User(u) => Some(u.id),
            _ => None,
        }
    }
}

/// Logs an unexpected failure once, with a reference id, and returns the error the client
/// sees (only the id).
pub fn internal(err: impl std::fmt::Display) -> Error {
    use rand::Rng;
    let ref_id = format!("{:08x}", rand::thread_rng().gen::<u32>());
    tracing::error!(ref_id = %ref_id, error = %err, "internal error");
    Error::Internal { ref_id }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { field: "username" } => {
                Error::Conflict { field: Some("username".into()), message: "That username is already taken.".into() }
            }
            StoreError::Conflict { field: "email" } => Error::Conflict {
                field: Some("email".into()),
                message: "Another account already uses that email.".into(),
            },
            StoreError::Conflict { field } => {
                Error::Conflict { field: Some(field.into()), message: format!("That {field} already exists.") }
            }
            other => internal(other),
        }
    }
}
