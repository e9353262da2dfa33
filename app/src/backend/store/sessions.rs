//! Browser sessions (by the SHA-256 of their token) and the short-lived second-factor
//! challenges between a correct password and its code.
use async_trait::async_trait;

use super::users::UserRecord;
use super::StoreResult;
use crate::domain::ids::{OrgId, UserId};

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Last sign-in or re-authentication (sudo mode).
    pub auth_at: i64,
    /// How it was signed in (`password`, `totp`, `passkey`...; '' for sessions from before
    /// this was kept).
    pub method: String,
    /// Whether the session's organization or the instance requires 2FA (read with the
    /// session: no second query on every request).
    pub requires_2fa: bool,
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub org_id: OrgId,
    pub now: i64,
    /// How it was signed in.
    pub method: &'a str,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait SessionStore {
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>>;
    async fn touch_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()>;
    /// Ends sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64>;
}

/// Inside a write transaction.
#[async_trait]
pub trait SessionTx: Send {
    async fn insert_session(&mut self, s: &NewSession<'_>) -> StoreResult<()>;
    async fn set_session_org(&mut self, token_hash: &[u8], org: OrgId) -> StoreResult<()>;
    async fn set_session_auth(&mut self, token_hash: &[u8], now: i64) -> StoreResult<()>;
    async fn delete_session(&mut self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_sessions_of(&mut self, user: UserId, except: Option<&[u8]>) -> StoreResult<u64>;
    async fn insert_challenge(&mut self, token_hash: &[u8], user: UserId, now: i64) -> StoreResult<()>;
    /// The account and creation time of a second-factor challenge.
    async fn challenge(&mut self, token_hash: &[u8]) -> StoreResult<Option<(UserId, i64)>>;
    /// Ends a challenge; false if it was already gone (used by a concurrent request).
    async fn delete_challenge(&mut self, token_hash: &[u8]) -> StoreResult<bool>;
}
