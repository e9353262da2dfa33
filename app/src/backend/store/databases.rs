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

/// A shared credential as stored; `password` is sealed (bound to the row's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    /// 0 for a credential not yet stored.
    pub id: i64,
    pub database_id: i64,
    pub spec: crate::domain::database_access::CredentialSpec,
    pub password: Option<Vec<u8>>,
    pub created_by: Option<crate::domain::ids::UserId>,
    /// The creator's username (read only, joined).
    pub created_by_name: Option<String>,
    /// How many mappings go through it (read only, counted from the mappings' index).
    pub uses: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_test: Option<crate::domain::databases::ConnectionTest>,
}

/// An account's mapping to a database as stored: `login` and sealed `password` (bound to the
/// row's id) of its own, or `credential_id`, or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingRecord {
    /// 0 for a mapping not yet stored.
    pub id: i64,
    pub user_id: crate::domain::ids::UserId,
    pub database_id: i64,
    pub login: Option<String>,
    pub password: Option<Vec<u8>>,
    pub credential_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_test: Option<crate::domain::databases::ConnectionTest>,
    /// The database's id (read only, joined).
    pub db_id: String,
    /// The credential's name (read only, joined).
    pub credential_name: Option<String>,
}

/// Shared credentials and mappings, read outside a write transaction.
#[async_trait]
pub trait DatabaseAccessStore {
    /// A database's credentials in `name_key` order, after the key `after`.
    async fn list_credentials(
        &self,
        database_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CredentialRecord>>;
    /// By database and `name_key`.
    async fn find_credential(&self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>>;
    async fn credential_by_id(&self, id: i64) -> StoreResult<Option<CredentialRecord>>;
    /// An account's mappings to the databases of `org`, in `db_id_key` order after `after`.
    async fn list_mappings(
        &self,
        user: crate::domain::ids::UserId,
        org: OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MappingRecord>>;
    async fn find_mapping(
        &self,
        user: crate::domain::ids::UserId,
        database_id: i64,
    ) -> StoreResult<Option<MappingRecord>>;
    /// Definitions with this `db_id_key` in any organization, by organization id (at most
    /// `limit`).
    /// Every mapping of the accounts whose ids lie in `first..=last` (an export page), with
    /// its database's organization.
    async fn mappings_between(
        &self,
        first: crate::domain::ids::UserId,
        last: crate::domain::ids::UserId,
    ) -> StoreResult<Vec<(crate::domain::ids::OrgId, MappingRecord)>>;
    async fn databases_by_key(&self, key: &str, limit: u32) -> StoreResult<Vec<DatabaseRecord>>;
}

/// Shared credentials and mappings inside a write transaction.
#[async_trait]
pub trait DatabaseAccessTx: Send {
    async fn credential(&mut self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>>;
    /// Stores a new credential (id ignored); `Conflict { field: "credential" }` when the
    /// database has one by that name.
    async fn insert_credential(&mut self, c: &CredentialRecord) -> StoreResult<i64>;
    /// Replaces name, login, password and updated_at of `c.id`; `Conflict` as above.
    async fn update_credential(&mut self, c: &CredentialRecord) -> StoreResult<()>;
    /// Deletes it and the mappings through it.
    async fn delete_credential(&mut self, id: i64) -> StoreResult<()>;
    async fn record_credential_test(
        &mut self,
        id: i64,
        test: &crate::domain::databases::ConnectionTest,
    ) -> StoreResult<()>;
    async fn mapping(
        &mut self,
        user: crate::domain::ids::UserId,
        database_id: i64,
    ) -> StoreResult<Option<MappingRecord>>;
    /// Every mapping of an account (copying an account copies them).
    async fn mappings_of(&mut self, user: crate::domain::ids::UserId) -> StoreResult<Vec<MappingRecord>>;
    /// Stores a new mapping (id ignored); `Conflict { field: "mapping" }` when the account has
    /// one for the database.
    async fn insert_mapping(&mut self, m: &MappingRecord) -> StoreResult<i64>;
    /// Replaces login, password, credential and updated_at of `m.id`.
    async fn update_mapping(&mut self, m: &MappingRecord) -> StoreResult<()>;
    async fn delete_mapping(&mut self, id: i64) -> StoreResult<()>;
    async fn record_mapping_test(
        &mut self,
        id: i64,
        test: &crate::domain::databases::ConnectionTest,
    ) -> StoreResult<()>;
}
