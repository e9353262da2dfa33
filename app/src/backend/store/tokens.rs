//! API keys and personal access tokens; only the SHA-256 of a token's text is stored.
use async_trait::async_trait;

use super::users::UserRecord;
use super::StoreResult;
use crate::domain::abilities::AbilitySet;
use crate::domain::ids::UserId;

/// A stored API key or personal access token (its hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub kind: crate::domain::tokens::TokenKind,
    pub prefix: String,
    pub abilities: Option<AbilitySet>,
    pub created_at: i64,
    /// 0: never / not yet.
    pub expires_at: i64,
    pub last_used_at: i64,
    pub revoked_at: i64,
}

impl TokenRecord {
    pub fn to_info(&self) -> crate::domain::tokens::TokenInfo {
        let some = |t: i64| (t > 0).then_some(t);
        crate::domain::tokens::TokenInfo {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            prefix: self.prefix.clone(),
            abilities: self.abilities,
            created_at: self.created_at,
            expires_at: some(self.expires_at),
            last_used_at: some(self.last_used_at),
            revoked_at: some(self.revoked_at),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewTokenRecord<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub kind: crate::domain::tokens::TokenKind,
    pub prefix: &'a str,
    pub token_hash: &'a [u8],
    pub abilities: Option<AbilitySet>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait TokenStore {
    /// A token by the SHA-256 of its text, with its owner.
    async fn token_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>>;
    async fn touch_token(&self, id: i64, now: i64) -> StoreResult<()>;
    /// An account's tokens, newest first.
    async fn tokens_of(&self, user: UserId) -> StoreResult<Vec<TokenRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait TokenTx: Send {
    async fn insert_token(&mut self, t: &NewTokenRecord<'_>) -> StoreResult<i64>;
    async fn token(&mut self, id: i64) -> StoreResult<Option<TokenRecord>>;
    async fn revoke_token(&mut self, id: i64, now: i64) -> StoreResult<bool>;
}
