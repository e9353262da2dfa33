//! Server-only code (feature `ssr`): configuration, the store, password hashing, sessions and
//! the services every adapter calls. A service is one use case: load facts -> policy ->
//! write -> audit, in one transaction, for an explicit caller.
pub mod access;
pub mod password;
pub mod services;
pub mod sessions;
pub mod store;

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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            secure_cookies: false,
            session_idle_ms: 12 * 60 * 60 * 1000,
            session_absolute_ms: 7 * 24 * 60 * 60 * 1000,
            public_origin: None,
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
    pub access: Arc<access::Access>,
}

impl Backend {
    /// Call `load_access` before serving: until then every check is denied.
    pub fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            config: Arc::new(config),
            clock,
            hasher: password::Hasher::new(),
            access: Arc::new(access::Access::default()),
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
    pub super_admin: bool,
    pub org: OrgId,
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
}

impl Ctx {
    pub fn cli() -> Self {
        Self { caller: Caller::Cli, ip: None, user_agent: None, session: None }
    }

    pub fn anonymous() -> Self {
        Self { caller: Caller::Anonymous, ip: None, user_agent: None, session: None }
    }

    /// The policy actor: `Ok(None)` for the CLI, an error for anonymous callers.
    pub fn actor(&self) -> Result<Option<Actor>, Error> {
        match &self.caller {
            Caller::Anonymous => Err(Error::Unauthenticated),
            Caller::User(u) => Ok(Some(Actor {
                id: u.id,
                super_admin: u.super_admin,
                abilities: crate::domain::abilities::AbilitySet::EMPTY,
            })),
            Caller::Cli => Ok(None),
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
