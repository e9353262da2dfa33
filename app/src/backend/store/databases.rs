//! Database definitions (issue 12): per organization, keyed by `db_id_key`; the default
//! login's password sealed (bound to the row's id).
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::databases::DatabaseSpec;
use crate::domain::ids::OrgId;

/// A definition as stored; `default_password` is sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseRecord {
    /// 0 for a definition not yet stored.
    pub id: i64,
    pub org_id: OrgId,
    pub spec: DatabaseSpec,
    pub default_password: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The last Test Connection (written only by `record_database_test`).
    pub last_test: Option<crate::domain::databases::ConnectionTest>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait DatabaseStore {
    /// An organization's definitions in `db_id_key` order, after the key `after`.
    async fn list_databases(&self, org: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<DatabaseRecord>>;
    /// By organization and `db_id_key`.
    async fn find_database(&self, org: OrgId, key: &str) -> StoreResult<Option<DatabaseRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait DatabaseTx: Send {
    /// By organization and `db_id_key`.
    async fn database(&mut self, org: OrgId, key: &str) -> StoreResult<Option<DatabaseRecord>>;
    /// Stores a new definition (id, password and times as given, id ignored); returns its id.
    /// `Conflict { field: "db_id" }` when the organization has the id already.
    async fn insert_database(&mut self, d: &DatabaseRecord) -> StoreResult<i64>;
    /// Replaces the definition `d.id` (spec, password, updated_at); `Conflict` as above.
    async fn update_database(&mut self, d: &DatabaseRecord) -> StoreResult<()>;
    async fn delete_database(&mut self, id: i64) -> StoreResult<()>;
    /// Keeps the outcome of a Test Connection on the definition (not a change of it:
    /// `updated_at` stays).
    async fn record_database_test(
        &mut self,
        id: i64,
        test: &crate::domain::databases::ConnectionTest,
    ) -> StoreResult<()>;
}
