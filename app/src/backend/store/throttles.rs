//! Sign-in throttle state per key: consecutive failures and when the next attempt is
//! allowed. The schedule itself is `domain::throttle`.
use async_trait::async_trait;

use super::StoreResult;

/// Reads outside a write transaction.
#[async_trait]
pub trait ThrottleStore {
    /// (consecutive failures, next allowed time) of a throttle key.
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<(i64, i64)>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait ThrottleTx: Send {
    /// (consecutive failures, next allowed time) of a throttle key.
    async fn throttle_state(&mut self, key: &str) -> StoreResult<Option<(i64, i64)>>;
    async fn put_throttle_state(&mut self, key: &str, failures: i64, next_allowed_at: i64) -> StoreResult<()>;
    /// Claims one sign-in attempt for `key`: counts it as a failure up front (cleared on
    /// success) and returns false, without counting, while the key must still wait. One
    /// statement (`domain::throttle::claim_sql`): atomic on its own, on every backend.
    async fn throttle_claim(&mut self, key: &str, now: i64) -> StoreResult<bool>;
    async fn throttle_clear(&mut self, key: &str) -> StoreResult<()>;
}
