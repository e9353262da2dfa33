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
pub mod pictures;
pub mod second_factors;
pub mod sessions;
pub mod settings;
pub mod sqlite;
pub mod sso;
pub mod throttles;
pub mod tokens;
pub mod users;

use async_trait::async_trait;

pub use access::*;
pub use audit::*;
pub use pictures::*;
pub use second_factors::*;
pub use sessions::*;
pub use settings::*;
pub use sso::*;
pub use throttles::*;
pub use tokens::*;
pub use users::*;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; `field` names the input that collided.
    #[error("{field} already exists")]
    Conflict { field: &'static str },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every port's reads, on one object.
#[async_trait]
pub trait Store:
    UserStore
    + AccessStore
    + SessionStore
    + SecondFactorStore
    + TokenStore
    + SsoStore
    + AuditStore
    + PictureStore
    + ThrottleStore
    + SettingsStore
    + Send
    + Sync
    + 'static
{
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A number that changes after every write transaction this process commits: what was
    /// read before it changed may be stale (the in-memory session and token look-ups).
    fn write_generation(&self) -> u64;
}

/// Every port's transactional reads and writes, on one transaction.
#[async_trait]
pub trait Tx:
    UserTx + AccessTx + SessionTx + SecondFactorTx + TokenTx + SsoTx + AuditTx + PictureTx + ThrottleTx + SettingsTx + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// The port traits, for code that calls their methods on a concrete store rather than on
/// `dyn Store` / `dyn Tx` (whose supertrait methods need no import).
pub mod prelude {
    pub use super::access::{AccessStore, AccessTx};
    pub use super::audit::{AuditStore, AuditTx};
    pub use super::pictures::{PictureStore, PictureTx};
    pub use super::second_factors::{SecondFactorStore, SecondFactorTx};
    pub use super::sessions::{SessionStore, SessionTx};
    pub use super::settings::{SettingsStore, SettingsTx};
    pub use super::sso::{SsoStore, SsoTx};
    pub use super::throttles::{ThrottleStore, ThrottleTx};
    pub use super::tokens::{TokenStore, TokenTx};
    pub use super::users::{UserStore, UserTx};
    pub use super::{Store, Tx};
}
