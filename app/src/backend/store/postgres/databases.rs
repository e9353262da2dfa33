//! SQL for database definitions (PostgreSQL).
use async_trait::async_trait;
use sqlx::Row;

use super::{savepoint, settle, PgStore, PgTx};
use crate::backend::store::rows::DatabaseColumns;
use crate::backend::store::{DatabaseRecord, DatabaseStore, DatabaseTx, StoreResult};
use crate::domain::ids::OrgId;

pub(super) const COLS: &str = "id, org_id, db_id, engine, host, port, name, tls, description, default_login, \
     default_password, created_at, updated_at, last_test_at, last_test_outcome, last_test_message, last_test_millis";

pub(super) fn row(r: &sqlx::postgres::PgRow) -> Result<DatabaseRecord, sqlx::Error> {
    DatabaseColumns {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        db_id: r.try_get("db_id")?,
        engine: r.try_get("engine")?,
        host: r.try_get("host")?,
        port: r.try_get("port")?,
        name: r.try_get("name")?,
        tls: r.try_get("tls")?,
        description: r.try_get("description")?,
        default_login: r.try_get("default_login")?,
        default_password: r.try_get("default_password")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        last_test_at: r.try_get("last_test_at")?,
        last_test_outcome: r.try_get("last_test_outcome")?,
        last_test_message: r.try_get("last_test_message")?,
        last_test_millis: r.try_get("last_test_millis")?,
    }
    .record()
}

/// Binds what every write of a definition sets, in this order: db_id, db_id_key, engine, host,
/// port, name, tls, description, default_login, default_password, updated_at.
fn bind_written<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    d: &'q DatabaseRecord,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let s = &d.spec;
    q.bind(&s.db_id)
        .bind(crate::domain::databases::db_id_key(&s.db_id))
        .bind(s.engine.as_str())
        .bind(&s.host)
        .bind(s.port.map(i32::from))
        .bind(&s.name)
        .bind(s.tls.as_str())
        .bind(&s.description)
        .bind(&s.default_login)
        .bind(&d.default_password)
        .bind(d.updated_at)
}

#[async_trait]
impl DatabaseStore for PgStore {
    async fn list_databases(&self, org: OrgId, after: Option<&str>, limit: u32) -> StoreResult<Vec<DatabaseRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM databases WHERE org_id = $1 AND db_id_key > $2 ORDER BY db_id_key LIMIT $3"
        ))
        .bind(org.0)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    async fn find_database(&self, org: OrgId, key: &str) -> StoreResult<Option<DatabaseRecord>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM databases WHERE org_id = $1 AND db_id_key = $2"))
            .bind(org.0)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(row).transpose()?)
    }
}

#[async_trait]
impl DatabaseTx for PgTx {
    async fn database(&mut self, org: OrgId, key: &str) -> StoreResult<Option<DatabaseRecord>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM databases WHERE org_id = $1 AND db_id_key = $2"))
            .bind(org.0)
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(r.as_ref().map(row).transpose()?)
    }

    async fn insert_database(&mut self, d: &DatabaseRecord) -> StoreResult<i64> {
        savepoint(&mut self.tx).await?;
        let q = sqlx::query(
            "INSERT INTO databases (db_id, db_id_key, engine, host, port, name, tls, description, default_login, \
             default_password, updated_at, org_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        );
        let r = bind_written(q, d).bind(d.org_id.0).bind(d.created_at).fetch_one(&mut *self.tx).await;
        let row = settle(&mut self.tx, r).await?;
        Ok(row.try_get("id")?)
    }

    async fn update_database(&mut self, d: &DatabaseRecord) -> StoreResult<()> {
        savepoint(&mut self.tx).await?;
        let q = sqlx::query(
            "UPDATE databases SET db_id = $1, db_id_key = $2, engine = $3, host = $4, port = $5, name = $6, tls = $7, \
             description = $8, default_login = $9, default_password = $10, updated_at = $11 WHERE id = $12",
        );
        let r = bind_written(q, d).bind(d.id).execute(&mut *self.tx).await;
        settle(&mut self.tx, r).await?;
        Ok(())
    }

    async fn delete_database(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM databases WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn record_database_test(&mut self, id: i64, t: &crate::domain::databases::ConnectionTest) -> StoreResult<()> {
        record_test(&mut self.tx, "databases", id, t).await
    }
}

/// Keeps a Test Connection's outcome on row `id` of `table` (definitions, credentials and
/// mappings have the same four `last_test_*` columns).
pub(super) async fn record_test(
    conn: &mut sqlx::PgConnection,
    table: &'static str,
    id: i64,
    t: &crate::domain::databases::ConnectionTest,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "UPDATE {table} SET last_test_at = $1, last_test_outcome = $2, last_test_message = $3, \
         last_test_millis = $4 WHERE id = $5"
    ))
    .bind(t.at)
    .bind(t.outcome.as_str())
    .bind(&t.message)
    .bind(t.millis.min(i64::MAX as u64) as i64)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
