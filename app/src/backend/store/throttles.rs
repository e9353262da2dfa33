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
    /// (consecutive failures, next allowed time) of a throttle key, read inside the write
    /// transaction so the claim below cannot interleave with another.
    async fn throttle_state(&mut self, key: &str) -> StoreResult<Option<(i64, i64)>>;
    async fn put_throttle_state(&mut self, key: &str, failures: i64, next_allowed_at: i64) -> StoreResult<()>;
    /// Claims one sign-in attempt for `key`: counts it as a failure up front (cleared on
    /// success) and returns false, without counting, while the key must still wait. The
    /// schedule is `domain::throttle::claim`; the transaction makes read-then-write atomic.
    async fn throttle_claim(&mut self, key: &str, now: i64) -> StoreResult<bool> {
        let (failures, next_allowed_at) = self.throttle_state(key).await?.unwrap_or((0, 0));
        match crate::domain::throttle::claim(failures, next_allowed_at, now) {
            Some((failures, next)) => {
                self.put_throttle_state(key, failures, next).await?;
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn throttle_clear(&mut self, key: &str) -> StoreResult<()>;
}
