//! SQL for shared database credentials and per-account database mappings (PostgreSQL).
use async_trait::async_trait;
use sqlx::Row;

use super::{savepoint, settle, PgStore, PgTx};
use crate::backend::store::rows::{
    credential_row, mapping_row, CREDENTIAL_COLS, CREDENTIAL_FROM, MAPPING_COLS, MAPPING_FROM,
};
use crate::backend::store::{
    CredentialRecord, DatabaseAccessStore, DatabaseAccessTx, DatabaseRecord, MappingRecord, StoreResult,
};
use crate::domain::databases::ConnectionTest;
use crate::domain::ids::{OrgId, UserId};

fn credential(r: &sqlx::postgres::PgRow) -> Result<CredentialRecord, sqlx::Error> {
    credential_row!(r)
}

fn mapping(r: &sqlx::postgres::PgRow) -> Result<MappingRecord, sqlx::Error> {
    mapping_row!(r)
}

#[async_trait]
impl DatabaseAccessStore for PgStore {
    async fn list_credentials(
        &self,
        database_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CredentialRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = $1 AND c.name_key > $2 \
             ORDER BY c.name_key LIMIT $3"
        ))
        .bind(database_id)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(credential).collect::<Result<_, _>>()?)
    }

    async fn find_credential(&self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = $1 AND c.name_key = $2"
        ))
        .bind(database_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(credential).transpose()?)
    }

    async fn credential_by_id(&self, id: i64) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!("SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(credential).transpose()?)
    }

    async fn list_mappings(
        &self,
        user: UserId,
        org: OrgId,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MappingRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = $1 AND d.org_id = $2 AND d.db_id_key > $3 \
             ORDER BY d.db_id_key LIMIT $4"
        ))
        .bind(user.0)
        .bind(org.0)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(mapping).collect::<Result<_, _>>()?)
    }

    async fn mappings_between(&self, first: UserId, last: UserId) -> StoreResult<Vec<(OrgId, MappingRecord)>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAPPING_COLS}, d.org_id FROM {MAPPING_FROM} WHERE m.user_id BETWEEN $1 AND $2 \
             ORDER BY m.user_id, d.org_id, d.db_id_key"
        ))
        .bind(first.0)
        .bind(last.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push((OrgId(r.try_get("org_id")?), mapping(r)?));
        }
        Ok(out)
    }

    async fn find_mapping(&self, user: UserId, database_id: i64) -> StoreResult<Option<MappingRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = $1 AND m.database_id = $2"
        ))
        .bind(user.0)
        .bind(database_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.as_ref().map(mapping).transpose()?)
    }

    async fn databases_by_key(&self, key: &str, limit: u32) -> StoreResult<Vec<DatabaseRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM databases WHERE db_id_key = $1 ORDER BY org_id LIMIT $2",
            super::databases::COLS
        ))
        .bind(key)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(super::databases::row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl DatabaseAccessTx for PgTx {
    async fn credential(&mut self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = $1 AND c.name_key = $2"
        ))
        .bind(database_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(r.as_ref().map(credential).transpose()?)
    }

    async fn insert_credential(&mut self, c: &CredentialRecord) -> StoreResult<i64> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "INSERT INTO database_credentials (database_id, name, name_key, login, password, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(c.database_id)
        .bind(&c.spec.name)
        .bind(crate::domain::database_access::credential_key(&c.spec.name))
        .bind(&c.spec.login)
        .bind(&c.password)
        .bind(c.created_by.map(|u| u.0))
        .bind(c.created_at)
        .bind(c.updated_at)
        .fetch_one(&mut *self.tx)
        .await;
        let row = settle(&mut self.tx, r).await?;
        Ok(row.try_get("id")?)
    }

    async fn update_credential(&mut self, c: &CredentialRecord) -> StoreResult<()> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "UPDATE database_credentials SET name = $1, name_key = $2, login = $3, password = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(&c.spec.name)
        .bind(crate::domain::database_access::credential_key(&c.spec.name))
        .bind(&c.spec.login)
        .bind(&c.password)
        .bind(c.updated_at)
        .bind(c.id)
        .execute(&mut *self.tx)
        .await;
        settle(&mut self.tx, r).await?;
        Ok(())
    }

    async fn delete_credential(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM database_credentials WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_credential_test(&mut self, id: i64, t: &ConnectionTest) -> StoreResult<()> {
        super::databases::record_test(&mut self.tx, "database_credentials", id, t).await
    }

    async fn mapping(&mut self, user: UserId, database_id: i64) -> StoreResult<Option<MappingRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = $1 AND m.database_id = $2"
        ))
        .bind(user.0)
        .bind(database_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(r.as_ref().map(mapping).transpose()?)
    }

    async fn mappings_of(&mut self, user: UserId) -> StoreResult<Vec<MappingRecord>> {
        let rows =
            sqlx::query(&format!("SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = $1 ORDER BY m.id"))
                .bind(user.0)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(rows.iter().map(mapping).collect::<Result<_, _>>()?)
    }

    async fn insert_mapping(&mut self, m: &MappingRecord) -> StoreResult<i64> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "INSERT INTO database_mappings (user_id, database_id, login, password, credential_id, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(m.user_id.0)
        .bind(m.database_id)
        .bind(&m.login)
        .bind(&m.password)
        .bind(m.credential_id)
        .bind(m.created_at)
        .bind(m.updated_at)
        .fetch_one(&mut *self.tx)
        .await;
        let row = settle(&mut self.tx, r).await?;
        Ok(row.try_get("id")?)
    }

    async fn update_mapping(&mut self, m: &MappingRecord) -> StoreResult<()> {
        sqlx::query(
            "UPDATE database_mappings SET login = $1, password = $2, credential_id = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&m.login)
        .bind(&m.password)
        .bind(m.credential_id)
        .bind(m.updated_at)
        .bind(m.id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn delete_mapping(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM database_mappings WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_mapping_test(&mut self, id: i64, t: &ConnectionTest) -> StoreResult<()> {
        super::databases::record_test(&mut self.tx, "database_mappings", id, t).await
    }
}
