//! SQL for re-sealing secrets (PostgreSQL).
use async_trait::async_trait;
use sqlx::Row;

use super::PgTx;
use crate::backend::store::{SealedColumn, SealedTx, SealedValue, StoreResult};

#[async_trait]
impl SealedTx for PgTx {
    async fn sealed_values(&mut self, column: SealedColumn, after: i64, limit: u32) -> StoreResult<Vec<SealedValue>> {
        let (table, key, value, label) = column.sql();
        let rows = sqlx::query(&format!(
            "SELECT {key} AS row_key, {label} AS label, {value} AS sealed FROM {table} \
             WHERE {value} IS NOT NULL AND {key} > $1 ORDER BY {key} LIMIT $2"
        ))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .iter()
            .map(|r| {
                Ok(SealedValue { row: r.try_get("row_key")?, label: r.try_get("label")?, sealed: r.try_get("sealed")? })
            })
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn replace_sealed(&mut self, column: SealedColumn, row: i64, sealed: &[u8]) -> StoreResult<()> {
        let (table, key, value, _) = column.sql();
        sqlx::query(&format!("UPDATE {table} SET {value} = $1 WHERE {key} = $2"))
            .bind(sealed)
            .bind(row)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
