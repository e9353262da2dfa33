//! SQL for the sign-in throttle state.
use async_trait::async_trait;

use super::{PgStore, PgTx};
use crate::backend::store::{StoreResult, ThrottleStore, ThrottleTx};

#[async_trait]
impl ThrottleStore for PgStore {
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<(i64, i64)>> {
        Ok(sqlx::query_as("SELECT failures, next_allowed_at FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }
}

#[async_trait]
impl ThrottleTx for PgTx {
    async fn throttle_state(&mut self, key: &str) -> StoreResult<Option<(i64, i64)>> {
        Ok(sqlx::query_as("SELECT failures, next_allowed_at FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn put_throttle_state(&mut self, key: &str, failures: i64, next_allowed_at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, next_allowed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET failures = $2, next_allowed_at = $3",
        )
        .bind(key)
        .bind(failures)
        .bind(next_allowed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn throttle_claim(&mut self, key: &str, now: i64) -> StoreResult<bool> {
        static SQL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| crate::domain::throttle::claim_sql("$1", "$2"));
        let counted: Option<i64> = sqlx::query_scalar(&SQL).bind(key).bind(now).fetch_optional(&mut *self.tx).await?;
        Ok(counted.is_some())
    }

    async fn throttle_clear(&mut self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1").bind(key).execute(&mut *self.tx).await?;
        Ok(())
    }
}
