//! Single sign-on: providers (client secret sealed), accounts linked to provider
//! identities, and authorization flows in progress (single-use).
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::{OrgId, RoleId, UserId};

/// A single sign-on provider as stored; `client_secret` is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsoProviderRecord {
    /// 0 for a provider not yet stored (ignored when saving: the slug identifies it).
    pub id: i64,
    pub slug: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Vec<u8>>,
    pub scopes: String,
    pub username_claim: String,
    pub email_claim: String,
    pub name_claim: String,
    pub auto_create: bool,
    pub org_id: Option<OrgId>,
    pub role_id: Option<RoleId>,
    pub allowed_domains: String,
    pub enabled: bool,
    pub created_at: i64,
}

/// An account linked to a provider identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLinkRecord {
    pub id: i64,
    pub provider_id: i64,
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// An authorization request in flight (see migration 0007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFlowRecord {
    pub state_hash: Vec<u8>,
    pub browser_hash: Vec<u8>,
    pub provider_id: i64,
    pub link_user_id: Option<UserId>,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: i64,
    /// Set when the flow started from an invitation page: the SHA-256 of its token (a new
    /// account accepts that invitation).
    pub invitation_hash: Option<Vec<u8>>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait SsoStore {
    /// Every single sign-on provider, by display name.
    async fn sso_providers(&self) -> StoreResult<Vec<SsoProviderRecord>>;
    async fn sso_links_of(&self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait SsoTx: Send {
    async fn sso_provider(&mut self, slug: &str) -> StoreResult<Option<SsoProviderRecord>>;
    async fn sso_provider_by_id(&mut self, id: i64) -> StoreResult<Option<SsoProviderRecord>>;
    /// Inserts or updates (by slug) a provider; an update with no secret keeps the stored one.
    /// The service decides which of the two it means.
    async fn save_sso_provider(&mut self, p: &SsoProviderRecord) -> StoreResult<i64>;
    async fn delete_sso_provider(&mut self, id: i64) -> StoreResult<()>;
    /// Stores a flow, dropping flows started before `purge_before`.
    async fn insert_sso_flow(&mut self, f: &SsoFlowRecord, purge_before: i64) -> StoreResult<()>;
    /// Removes and returns a flow (single-use).
    async fn take_sso_flow(&mut self, state_hash: &[u8]) -> StoreResult<Option<SsoFlowRecord>>;
    async fn sso_link(&mut self, issuer: &str, subject: &str) -> StoreResult<Option<SsoLinkRecord>>;
    async fn sso_links_of(&mut self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>>;
    /// `Conflict { field: "sso_link" }` when the identity or the (provider, account) pair is
    /// linked already.
    async fn insert_sso_link(&mut self, l: &SsoLinkRecord) -> StoreResult<i64>;
    async fn touch_sso_link(&mut self, id: i64, now: i64) -> StoreResult<()>;
    async fn delete_sso_link(&mut self, id: i64) -> StoreResult<()>;
}
