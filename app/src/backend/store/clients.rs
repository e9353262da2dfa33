//! OAuth clients (the data tools Roster signs people into): their settings, the hash of a
//! confidential client's secret, and the organizations whose claims each one receives.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::OrgId;

/// A client as stored. `secret_hash` is the SHA-256 of its secret (`None`: a public client).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRecord {
    /// 0 for a client not yet stored (the client id identifies it when saving).
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub secret_hash: Option<Vec<u8>>,
    pub secret_created_at: Option<i64>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub consent: bool,
    pub require_two_factor: bool,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The organizations whose claims it receives, by id.
    pub orgs: Vec<OrgId>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait ClientStore {
    /// Every client by client id, at most `limit`.
    async fn clients(&self, limit: i64) -> StoreResult<Vec<ClientRecord>>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    /// A client by its row id (what grants refer to).
    async fn client_by_row(&self, id: i64) -> StoreResult<Option<ClientRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait ClientTx: Send {
    async fn client(&mut self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    async fn count_clients(&mut self) -> StoreResult<i64>;
    /// Inserts a client, or updates the one with its client id (its secret untouched: see
    /// `set_client_secret`), and sets its organizations; answers its row id.
    async fn save_client(&mut self, c: &ClientRecord) -> StoreResult<i64>;
    async fn set_client_secret(&mut self, id: i64, hash: Option<&[u8]>, at: i64) -> StoreResult<()>;
    async fn delete_client(&mut self, id: i64) -> StoreResult<()>;
}

/// URIs as stored: one per line (a URI holds no line break).
pub(crate) fn join_lines(uris: &[String]) -> String {
    uris.join("\n")
}

pub(crate) fn split_lines(stored: &str) -> Vec<String> {
    stored.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()
}

pub(crate) fn split_scopes(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_string).collect()
}
