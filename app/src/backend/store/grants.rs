//! What people granted the applications that sign them in through Roster (the OpenID
//! provider): grants, the authorization codes and tokens issued from each, and consents.
//! Codes and tokens are kept as their SHA-256 only.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::UserId;

/// One sign-in into one application: an authorization code and everything obtained from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantRecord {
    /// 0 for a grant not yet stored.
    pub id: i64,
    /// The application's row id (`oauth_clients.id`).
    pub client: i64,
    pub user_id: UserId,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub auth_at: i64,
    pub method: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An authorization code and its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub grant: GrantRecord,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// Access tokens are presented to userinfo and introspection; refresh tokens to the token
/// endpoint, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthTokenKind {
    Access,
    Refresh,
}

impl OAuthTokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthTokenKind::Access => "access",
            OAuthTokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<OAuthTokenKind> {
        match s {
            "access" => Some(OAuthTokenKind::Access),
            "refresh" => Some(OAuthTokenKind::Refresh),
            _ => None,
        }
    }
}

/// A token and its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthTokenRecord {
    pub grant: GrantRecord,
    pub kind: OAuthTokenKind,
    pub created_at: i64,
    pub expires_at: i64,
    /// A refresh token already exchanged (rotated).
    pub used_at: Option<i64>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait GrantStore {
    /// A token by its hash, with its grant (userinfo, introspection: one query).
    async fn oauth_token(&self, hash: &[u8]) -> StoreResult<Option<OAuthTokenRecord>>;
    /// The scopes `user` agreed application `client` may receive.
    async fn consent(&self, user: UserId, client: i64) -> StoreResult<Option<Vec<String>>>;
    /// Deletes codes and tokens expired before `before`, and grants left with neither;
    /// answers how many rows went.
    async fn purge_grants(&self, before: i64) -> StoreResult<u64>;
}

/// Inside a write transaction.
#[async_trait]
pub trait GrantTx: Send {
    /// Stores a grant; answers its id.
    async fn insert_grant(&mut self, g: &GrantRecord) -> StoreResult<i64>;
    async fn insert_code(
        &mut self,
        hash: &[u8],
        grant: i64,
        redirect_uri: &str,
        code_challenge: Option<&str>,
        expires_at: i64,
    ) -> StoreResult<()>;
    async fn oauth_code(&mut self, hash: &[u8]) -> StoreResult<Option<CodeRecord>>;
    /// Marks a code used; false when it already was (a concurrent exchange won).
    async fn use_code(&mut self, hash: &[u8], at: i64) -> StoreResult<bool>;
    async fn insert_oauth_token(
        &mut self,
        hash: &[u8],
        grant: i64,
        kind: OAuthTokenKind,
        created_at: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    async fn oauth_token(&mut self, hash: &[u8]) -> StoreResult<Option<OAuthTokenRecord>>;
    /// Marks a refresh token used; false when it already was (a concurrent refresh won).
    async fn use_refresh_token(&mut self, hash: &[u8], at: i64) -> StoreResult<bool>;
    /// Revokes a grant (every token issued from it); false when it already was.
    async fn revoke_grant(&mut self, id: i64, at: i64) -> StoreResult<bool>;
    /// Records that `user` agreed `client` may receive `scopes` (replacing what they agreed
    /// before).
    async fn save_consent(&mut self, user: UserId, client: i64, scopes: &[String], at: i64) -> StoreResult<()>;
}

/// The columns of a grant, prefixed `g.`, as the row readers expect them.
pub(crate) const GRANT_COLS: &str =
    "g.id AS g_id, g.client_id AS g_client, g.user_id AS g_user, g.scopes AS g_scopes, g.nonce AS g_nonce, \
     g.auth_at AS g_auth_at, g.method AS g_method, g.created_at AS g_created_at, g.revoked_at AS g_revoked_at";
