//! SQL for shared database credentials and per-account database mappings.
use async_trait::async_trait;
use sqlx::Row;

use super::{map_unique, SqliteStore, SqliteTx};
use crate::backend::store::rows::{
    credential_row, mapping_row, CREDENTIAL_COLS, CREDENTIAL_FROM, MAPPING_COLS, MAPPING_FROM,
};
use crate::backend::store::{
    CredentialRecord, DatabaseAccessStore, DatabaseAccessTx, DatabaseRecord, MappingRecord, StoreResult,
};
use crate::domain::databases::ConnectionTest;
use crate::domain::ids::{OrgId, UserId};

fn credential(r: &sqlx::sqlite::SqliteRow) -> Result<CredentialRecord, sqlx::Error> {
    credential_row!(r)
}

fn mapping(r: &sqlx::sqlite::SqliteRow) -> Result<MappingRecord, sqlx::Error> {
    mapping_row!(r)
}

#[async_trait]
impl DatabaseAccessStore for SqliteStore {
    async fn list_credentials(
        &self,
        database_id: i64,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CredentialRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = ? AND c.name_key > ? \
             ORDER BY c.name_key LIMIT ?"
        ))
        .bind(database_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(credential).collect::<Result<_, _>>()?)
    }

    async fn find_credential(&self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = ? AND c.name_key = ?"
        ))
        .bind(database_id)
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(r.as_ref().map(credential).transpose()?)
    }

    async fn credential_by_id(&self, id: i64) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!("SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
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
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = ? AND d.org_id = ? AND d.db_id_key > ? \
             ORDER BY d.db_id_key LIMIT ?"
        ))
        .bind(user.0)
        .bind(org.0)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(mapping).collect::<Result<_, _>>()?)
    }

    async fn mappings_between(&self, first: UserId, last: UserId) -> StoreResult<Vec<(OrgId, MappingRecord)>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAPPING_COLS}, d.org_id FROM {MAPPING_FROM} WHERE m.user_id BETWEEN ? AND ? \
             ORDER BY m.user_id, d.org_id, d.db_id_key"
        ))
        .bind(first.0)
        .bind(last.0)
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push((OrgId(r.try_get("org_id")?), mapping(r)?));
        }
        Ok(out)
    }

    async fn find_mapping(&self, user: UserId, database_id: i64) -> StoreResult<Option<MappingRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = ? AND m.database_id = ?"
        ))
        .bind(user.0)
        .bind(database_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(r.as_ref().map(mapping).transpose()?)
    }

    async fn databases_by_key(&self, key: &str, limit: u32) -> StoreResult<Vec<DatabaseRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM databases WHERE db_id_key = ? ORDER BY org_id LIMIT ?",
            super::databases::COLS
        ))
        .bind(key)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.iter().map(super::databases::row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl DatabaseAccessTx for SqliteTx {
    async fn credential(&mut self, database_id: i64, key: &str) -> StoreResult<Option<CredentialRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {CREDENTIAL_COLS} FROM {CREDENTIAL_FROM} WHERE c.database_id = ? AND c.name_key = ?"
        ))
        .bind(database_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(r.as_ref().map(credential).transpose()?)
    }

    async fn insert_credential(&mut self, c: &CredentialRecord) -> StoreResult<i64> {
        let r = sqlx::query(
            "INSERT INTO database_credentials (database_id, name, name_key, login, password, created_by, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.database_id)
        .bind(&c.spec.name)
        .bind(crate::domain::database_access::credential_key(&c.spec.name))
        .bind(&c.spec.login)
        .bind(&c.password)
        .bind(c.created_by.map(|u| u.0))
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(r.last_insert_rowid())
    }

    async fn update_credential(&mut self, c: &CredentialRecord) -> StoreResult<()> {
        sqlx::query(
            "UPDATE database_credentials SET name = ?, name_key = ?, login = ?, password = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&c.spec.name)
        .bind(crate::domain::database_access::credential_key(&c.spec.name))
        .bind(&c.spec.login)
        .bind(&c.password)
        .bind(c.updated_at)
        .bind(c.id)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn delete_credential(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM database_credentials WHERE id = ?").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_credential_test(&mut self, id: i64, t: &ConnectionTest) -> StoreResult<()> {
        super::databases::record_test(&mut self.tx, "database_credentials", id, t).await
    }

    async fn mapping(&mut self, user: UserId, database_id: i64) -> StoreResult<Option<MappingRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = ? AND m.database_id = ?"
        ))
        .bind(user.0)
        .bind(database_id)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(r.as_ref().map(mapping).transpose()?)
    }

    async fn mappings_of(&mut self, user: UserId) -> StoreResult<Vec<MappingRecord>> {
        let rows = sqlx::query(&format!("SELECT {MAPPING_COLS} FROM {MAPPING_FROM} WHERE m.user_id = ? ORDER BY m.id"))
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(rows.iter().map(mapping).collect::<Result<_, _>>()?)
    }

    async fn insert_mapping(&mut self, m: &MappingRecord) -> StoreResult<i64> {
        let r = sqlx::query(
            "INSERT INTO database_mappings (user_id, database_id, login, password, credential_id, created_at, \
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(m.user_id.0)
        .bind(m.database_id)
        .bind(&m.login)
        .bind(&m.password)
        .bind(m.credential_id)
        .bind(m.created_at)
        .bind(m.updated_at)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(r.last_insert_rowid())
    }

    async fn update_mapping(&mut self, m: &MappingRecord) -> StoreResult<()> {
        sqlx::query(
            "UPDATE database_mappings SET login = ?, password = ?, credential_id = ?, updated_at = ? WHERE id = ?",
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
        sqlx::query("DELETE FROM database_mappings WHERE id = ?").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_mapping_test(&mut self, id: i64, t: &ConnectionTest) -> StoreResult<()> {
        super::databases::record_test(&mut self.tx, "database_mappings", id, t).await
    }
}
