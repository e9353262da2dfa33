//! The keys Roster signs ID tokens with (private part sealed, bound to its key id).
use async_trait::async_trait;

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigningKeyRecord {
    pub id: i64,
    pub kid: String,
    pub alg: String,
    /// Sealed PKCS#8.
    pub private_key: Vec<u8>,
    /// The public half as a JSON Web Key.
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait SigningKeyStore {
    /// The keys still published: not retired, or retired at or after `retired_since`, newest
    /// first.
    async fn signing_keys(&self, retired_since: i64) -> StoreResult<Vec<SigningKeyRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait SigningKeyTx: Send {
    /// The key that signs: the newest one not retired.
    async fn active_signing_key(&mut self) -> StoreResult<Option<SigningKeyRecord>>;
    async fn insert_signing_key(&mut self, k: &SigningKeyRecord) -> StoreResult<i64>;
    /// Retires every key not retired yet; answers how many.
    async fn retire_signing_keys(&mut self, at: i64) -> StoreResult<u64>;
    /// Removes keys retired before `before` (no token they signed is still valid).
    async fn delete_signing_keys_retired_before(&mut self, before: i64) -> StoreResult<u64>;
}
