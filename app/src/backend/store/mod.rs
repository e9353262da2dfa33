//! Persistence behind traits, so services never see SQL and a PostgreSQL implementation can
//! be added beside `sqlite` without touching them. One port per resource, beside its records
//! (`users`, `access`, `sessions`, ...): `XStore` reads outside a transaction, `XTx` reads and
//! writes inside one. `Store` and `Tx` gather them, so services hold one `Arc<dyn Store>` and
//! one `Box<dyn Tx>` and call every port's methods on them. Reads that need no consistency
//! with a write use `Store`; every use case that writes opens one `Tx`, reads its facts there,
//! writes, appends its audit event and commits — all or nothing.
//!
//! A port holds no rule: what is decided from the stored facts (the write generation, throttle
//! delays, whether an account has 2FA, which input a unique violation names) is computed here
//! or in `domain`, once for every backend.
pub mod access;
pub mod audit;
pub mod bulk_plans;
pub mod clients;
#[cfg(feature = "postgres")]
pub mod copy;
pub mod databases;
pub mod grants;
pub mod invitations;
pub mod migrations;
pub mod pictures;
#[cfg(feature = "postgres")]
pub mod postgres;
mod rows;
pub mod scim;
pub mod scim_groups;
pub mod scim_mappings;
pub mod sealed;
pub mod second_factors;
pub mod sessions;
pub mod settings;
pub mod signing_keys;
pub mod sqlite;
pub mod sso;
pub mod throttles;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

pub use access::*;
pub use audit::*;
pub use bulk_plans::{BulkPlanRecord, BulkPlanTx};
pub use clients::{ClientRecord, ClientStore, ClientTx};
pub use databases::*;
pub use grants::*;
pub use invitations::{InvitationRecord, InvitationStore, InvitationTx};
pub use pictures::*;
pub use scim::{ScimConnectionRecord, ScimStore, ScimTx, ScimUserQuery, ScimUserRecord, SqlBind};
pub use scim_groups::{ScimGroupQuery, ScimGroupRecord, ScimGroupStore, ScimGroupTx};
pub use scim_mappings::{ScimMappingRecord, ScimMappingStore, ScimMappingTx};
pub use sealed::*;
pub use second_factors::*;
pub use sessions::*;
pub use settings::*;
pub use signing_keys::*;
pub use sso::*;
pub use throttles::*;
pub use tokens::*;
pub use users::*;
pub use webhooks::{DeliveryRecord, EventRecord, HookProgress, WebhookRecord, WebhookStore, WebhookTx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; `field` names the input that collided.
    #[error("{field} already exists")]
    Conflict { field: &'static str },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names no backend this build can open.
    #[error("{0}")]
    Unsupported(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which input each uniqueness rule of the schema protects, by the identifier a backend
/// reports when the rule is violated: SQLite names the constrained columns
/// (`users.email_key`); a backend that names constraints adds their names here. A violation
/// of a rule not listed stays a database error (it is a bug, not a user's input colliding).
pub const UNIQUE_FIELDS: &[(&str, &str)] = &[
    ("users.username_key", "username"),
    ("users.email_key", "email"),
    ("roles.name_key", "name"),
    ("orgs.name_key", "name"),
    // An account belongs once to an organization (primary key), under one username key.
    ("memberships.org_id, memberships.user_id", "member"),
    ("memberships.org_id, memberships.username_key", "member"),
    ("passkeys.credential_id", "passkey"),
    // One account per provider identity, one identity per (provider, account).
    ("sso_links.issuer, sso_links.subject", "sso_link"),
    ("sso_links.provider_id, sso_links.user_id", "sso_link"),
    ("databases.org_id, databases.db_id_key", "db_id"),
    ("database_credentials.database_id, database_credentials.name_key", "credential"),
    ("database_mappings.user_id, database_mappings.database_id", "mapping"),
    ("scim_connections.slug", "slug"),
    ("scim_users.connection_id, scim_users.user_name_key", "userName"),
    ("scim_groups.connection_id, scim_groups.display_name_key", "displayName"),
    ("scim_group_mappings.group_id, scim_group_mappings.org_id", "group"),
    // PostgreSQL reports the violated constraint or unique index by name
    // (migrations/postgres names every one of them).
    ("users_username_key", "username"),
    ("users_email_key", "email"),
    ("roles_name_key", "name"),
    ("orgs_name_key", "name"),
    ("memberships_pkey", "member"),
    ("memberships_org_username", "member"),
    ("passkeys_credential_id", "passkey"),
    ("sso_links_issuer_subject", "sso_link"),
    ("sso_links_provider_user", "sso_link"),
    ("databases_org_db_id", "db_id"),
    ("database_credentials_name", "credential"),
    ("database_mappings_user_database", "mapping"),
    ("scim_connections_slug", "slug"),
    ("scim_users_user_name", "userName"),
    ("scim_groups_display_name", "displayName"),
    ("scim_group_mappings_group_org", "group"),
];

/// The input a violated uniqueness rule names (see `UNIQUE_FIELDS`).
pub fn conflict_field(rule: &str) -> Option<&'static str> {
    UNIQUE_FIELDS.iter().find(|(r, _)| *r == rule).map(|(_, field)| *field)
}

/// Counts the write transactions this process has committed: what was read before the count
/// moved may be stale (the in-memory session and token look-ups compare it). A backend only
/// hands the same counter to each transaction it opens; `Tx::commit` moves it, so every backend
/// behaves the same.
#[derive(Debug, Clone, Default)]
pub struct WriteGeneration(Arc<AtomicU64>);

impl WriteGeneration {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Also moved by the change feed when another instance commits a write: what this
    /// process cached may be stale from then on.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// What another instance committed, as heard on the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// An access-changing transaction moved the access version to `version`, at `sent_at`
    /// (ms since the epoch, by the database's clock).
    Access { version: i64, change: Change, sent_at: i64 },
    /// A write transaction committed: sessions, tokens, passwords or second factors may have
    /// changed, so what this instance cached is stale.
    Write,
}

/// Another instance's commits, in commit order, on a connection of the feed's own.
#[async_trait]
pub trait ChangeFeed: Send {
    /// The next notice. `Ok(None)` or an error: the connection was lost, and notices sent
    /// meanwhile are gone (listen again, then reload everything).
    async fn next(&mut self) -> StoreResult<Option<Notice>>;
}

/// A database pool's connections: how many are open, how many of those sit idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
}

/// Every port's reads, on one object.
#[async_trait]
pub trait Store:
    UserStore
    + AccessStore
    + SessionStore
    + SecondFactorStore
    + TokenStore
    + SsoStore
    + ClientStore
    + GrantStore
    + SigningKeyStore
    + AuditStore
    + DatabaseStore
    + DatabaseAccessStore
    + PictureStore
    + ThrottleStore
    + SettingsStore
    + WebhookStore
    + ScimStore
    + ScimGroupStore
    + ScimMappingStore
    + InvitationStore
    + Send
    + Sync
    + 'static
{
    /// Opens a write transaction (serialised with every other writer).
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// Applies the migrations this binary knows and the database has not applied yet.
    async fn migrate(&self) -> StoreResult<()>;
    /// Migrations known to this binary that the database has not applied yet.
    async fn pending_migrations(&self) -> StoreResult<Vec<i64>>;
    /// Listens for what other instances commit. `None`: this backend has no feed (SQLite:
    /// another process on the same file is noticed by polling the access version).
    async fn change_feed(&self) -> StoreResult<Option<Box<dyn ChangeFeed>>> {
        Ok(None)
    }
    /// Whether `change_feed` gives a feed (then an instance is ready only while it listens).
    fn has_change_feed(&self) -> bool {
        false
    }
    /// The connections of this store's pool(s), for the metrics.
    fn pool_use(&self) -> PoolUse;
    /// The counter this store hands to its transactions.
    fn generation(&self) -> &WriteGeneration;
    /// A number that changes after every write transaction this process commits: what was
    /// read before it changed may be stale (the in-memory session and token look-ups).
    fn write_generation(&self) -> u64 {
        self.generation().get()
    }
}

/// Opens the store a database URL names: `sqlite:PATH` (created if missing) or
/// `postgres://...` / `postgresql://...` (the database must exist). Migrations are not
/// applied here (`Store::migrate`).
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    match backend_of(url)? {
        Backend::Sqlite => Ok(Arc::new(sqlite::SqliteStore::open(url).await?)),
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(Arc::new(postgres::PgStore::open(url).await?)),
    }
}

/// The backends a database URL can name in this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// Which backend serves `url`, by its scheme; a clear error for a URL this build cannot
/// open (a PostgreSQL URL in a SQLite-only build says so rather than "unsupported").
pub fn backend_of(url: &str) -> StoreResult<Backend> {
    if url.starts_with("sqlite:") {
        return Ok(Backend::Sqlite);
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        return Ok(Backend::Postgres);
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Unsupported(
            "this build of Roster supports SQLite only (built without the `postgres` feature); \
             use a sqlite: URL or a build with PostgreSQL support"
                .to_string(),
        ));
    }
    // The URL may hold a password: name only its scheme.
    let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
    Err(StoreError::Unsupported(format!(
        "unsupported database URL (scheme '{scheme}'): use sqlite:PATH or postgres://USER@HOST/DATABASE"
    )))
}

/// Every port's transactional reads and writes, on one transaction.
#[async_trait]
pub trait Tx:
    UserTx
    + AccessTx
    + SessionTx
    + SecondFactorTx
    + TokenTx
    + SsoTx
    + ClientTx
    + GrantTx
    + SigningKeyTx
    + AuditTx
    + DatabaseTx
    + DatabaseAccessTx
    + SealedTx
    + PictureTx
    + ThrottleTx
    + SettingsTx
    + WebhookTx
    + ScimTx
    + ScimGroupTx
    + ScimMappingTx
    + InvitationTx
    + BulkPlanTx
    + Send
{
    /// The backend's COMMIT only; callers use `commit`, which also moves the write generation.
    async fn commit_backend(self: Box<Self>) -> StoreResult<()>;
    /// The counter of the store that opened this transaction.
    fn generation(&self) -> &WriteGeneration;

    /// Commits, then moves the write generation (only once the write is durable, so a reader
    /// that saw the old number re-reads after it).
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let generation = self.generation().clone();
        self.commit_backend().await?;
        generation.bump();
        Ok(())
    }

    /// Sets the account's 2FA flag from what it has (the rule is
    /// `domain::security::has_two_factor`); returns the flag.
    async fn refresh_two_factor(&mut self, user: crate::domain::ids::UserId) -> StoreResult<bool> {
        let facts = self.second_factor_facts(user).await?;
        let on = crate::domain::security::has_two_factor(facts.confirmed_totp, facts.passkey);
        self.set_two_factor(user, on).await?;
        Ok(on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_names_one_field() {
        assert_eq!(conflict_field("users.email_key"), Some("email"));
        assert_eq!(conflict_field("memberships.org_id, memberships.username_key"), Some("member"));
        assert_eq!(conflict_field("sso_links.provider_id, sso_links.user_id"), Some("sso_link"));
        assert_eq!(conflict_field("index 'users_one_public'"), None);
        // PostgreSQL names constraints.
        assert_eq!(conflict_field("users_username_key"), Some("username"));
        assert_eq!(conflict_field("memberships_pkey"), Some("member"));
        assert_eq!(conflict_field("sso_links_provider_user"), Some("sso_link"));
        assert_eq!(conflict_field("users_one_public"), None);
        for (i, (rule, _)) in UNIQUE_FIELDS.iter().enumerate() {
            assert!(UNIQUE_FIELDS[i + 1..].iter().all(|(r, _)| r != rule), "{rule} listed twice");
        }
    }

    #[test]
    fn urls_pick_their_backend() {
        assert_eq!(backend_of("sqlite:data/roster.db").ok(), Some(Backend::Sqlite));
        assert_eq!(backend_of("sqlite://data/roster.db").ok(), Some(Backend::Sqlite));
        #[cfg(feature = "postgres")]
        {
            assert_eq!(backend_of("postgres://u@h/db").ok(), Some(Backend::Postgres));
            assert_eq!(backend_of("postgresql://u@h/db?sslmode=require").ok(), Some(Backend::Postgres));
        }
        #[cfg(not(feature = "postgres"))]
        assert!(backend_of("postgres://u@h/db").unwrap_err().to_string().contains("SQLite only"));
        let e = backend_of("mysql://root:secret@h/db").unwrap_err().to_string();
        assert!(e.contains("unsupported database URL") && !e.contains("secret"), "{e}");
    }

    /// Both backends' migrations carry the same versions and names: a database migrated by
    /// one binary has the same schema version on either backend.
    #[test]
    fn both_backends_have_the_same_migrations() {
        let list = |dir: &str| -> Vec<String> {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(dir);
            let mut names: Vec<String> = std::fs::read_dir(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            names.sort();
            names
        };
        let sqlite = list("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, list("postgres"));
    }

    #[test]
    fn the_generation_moves_on_bump_only() {
        let g = WriteGeneration::default();
        let shared = g.clone();
        assert_eq!(g.get(), 0);
        shared.bump();
        assert_eq!(g.get(), 1);
    }
}

/// The port traits, for code that calls their methods on a concrete store rather than on
/// `dyn Store` / `dyn Tx` (whose supertrait methods need no import).
pub mod prelude {
    pub use super::access::{AccessStore, AccessTx};
    pub use super::audit::{AuditStore, AuditTx};
    pub use super::clients::{ClientStore, ClientTx};
    pub use super::databases::{DatabaseAccessStore, DatabaseAccessTx, DatabaseStore, DatabaseTx};
    pub use super::grants::{GrantStore, GrantTx};
    pub use super::pictures::{PictureStore, PictureTx};
    pub use super::sealed::SealedTx;
    pub use super::second_factors::{SecondFactorStore, SecondFactorTx};
    pub use super::sessions::{SessionStore, SessionTx};
    pub use super::settings::{SettingsStore, SettingsTx};
    pub use super::signing_keys::{SigningKeyStore, SigningKeyTx};
    pub use super::sso::{SsoStore, SsoTx};
    pub use super::throttles::{ThrottleStore, ThrottleTx};
    pub use super::tokens::{TokenStore, TokenTx};
    pub use super::users::{UserStore, UserTx};
    pub use super::{Store, Tx};
}
