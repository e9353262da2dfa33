//! SQL for the provider's signing keys.
use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, SqliteTx};
use crate::backend::store::{SigningKeyRecord, SigningKeyStore, SigningKeyTx, StoreResult};

const COLS: &str = "id, kid, alg, private_key, public_jwk, created_at, retired_at";

fn key_row(r: &sqlx::sqlite::SqliteRow) -> Result<SigningKeyRecord, sqlx::Error> {
    Ok(SigningKeyRecord {
        id: r.try_get("id")?,
        kid: r.try_get("kid")?,
        alg: r.try_get("alg")?,
        private_key: r.try_get("private_key")?,
        public_jwk: r.try_get("public_jwk")?,
        created_at: r.try_get("created_at")?,
        retired_at: r.try_get("retired_at")?,
    })
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn signing_keys(&self, retired_since: i64) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM signing_keys WHERE retired_at IS NULL OR retired_at >= ? ORDER BY id DESC"
        ))
        .bind(retired_since)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(key_row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl SigningKeyTx for SqliteTx {
    async fn active_signing_key(&mut self) -> StoreResult<Option<SigningKeyRecord>> {
        let row =
            sqlx::query(&format!("SELECT {COLS} FROM signing_keys WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1"))
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(row.as_ref().map(key_row).transpose()?)
    }

    async fn insert_signing_key(&mut self, k: &SigningKeyRecord) -> StoreResult<i64> {
        let r = sqlx::query(
            "INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&k.kid)
        .bind(&k.alg)
        .bind(&k.private_key)
        .bind(&k.public_jwk)
        .bind(k.created_at)
        .bind(k.retired_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.last_insert_rowid())
    }

    async fn retire_signing_keys(&mut self, at: i64) -> StoreResult<u64> {
        let r = sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL")
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    async fn delete_signing_keys_retired_before(&mut self, before: i64) -> StoreResult<u64> {
        let r =
            sqlx::query("DELETE FROM signing_keys WHERE retired_at < ?").bind(before).execute(&mut *self.tx).await?;
        Ok(r.rows_affected())
    }
}
