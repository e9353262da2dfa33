//! SQL for OAuth clients.
use async_trait::async_trait;
use sqlx::Row;

use super::{SqliteStore, SqliteTx};
use crate::backend::store::clients::{join_lines, split_lines, split_scopes};
use crate::backend::store::{ClientRecord, ClientStore, ClientTx, StoreResult};
use crate::domain::ids::OrgId;

/// (its organizations in one column: a list is one statement however many clients)
const COLS: &str = "c.id, c.client_id, c.name, c.public, c.secret_hash, c.secret_created_at, c.redirect_uris, \
     c.post_logout_redirect_uris, c.scopes, c.consent, c.require_two_factor, c.access_token_seconds, \
     c.refresh_token_seconds, c.enabled, c.created_at, c.updated_at, \
     (SELECT group_concat(o.org_id) FROM oauth_client_orgs o WHERE o.client_id = c.id) AS org_ids";

fn client_row(r: &sqlx::sqlite::SqliteRow) -> Result<ClientRecord, sqlx::Error> {
    let orgs: Option<String> = r.try_get("org_ids")?;
    let mut orgs: Vec<OrgId> =
        orgs.unwrap_or_default().split(',').filter_map(|s| s.trim().parse().ok()).map(OrgId).collect();
    orgs.sort();
    Ok(ClientRecord {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        name: r.try_get("name")?,
        public: r.try_get("public")?,
        secret_hash: r.try_get("secret_hash")?,
        secret_created_at: r.try_get("secret_created_at")?,
        redirect_uris: split_lines(&r.try_get::<String, _>("redirect_uris")?),
        post_logout_redirect_uris: split_lines(&r.try_get::<String, _>("post_logout_redirect_uris")?),
        scopes: split_scopes(&r.try_get::<String, _>("scopes")?),
        consent: r.try_get("consent")?,
        require_two_factor: r.try_get("require_two_factor")?,
        access_token_seconds: r.try_get("access_token_seconds")?,
        refresh_token_seconds: r.try_get("refresh_token_seconds")?,
        enabled: r.try_get("enabled")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        orgs,
    })
}

async fn client_by_id<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    client_id: &str,
) -> StoreResult<Option<ClientRecord>> {
    let row = sqlx::query(&format!("SELECT {COLS} FROM oauth_clients c WHERE c.client_id = ?"))
        .bind(client_id)
        .fetch_optional(e)
        .await?;
    Ok(row.as_ref().map(client_row).transpose()?)
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn clients(&self, limit: i64) -> StoreResult<Vec<ClientRecord>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM oauth_clients c ORDER BY c.client_id LIMIT ?"))
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(client_row).collect::<Result<_, _>>()?)
    }

    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
        client_by_id(&self.read, client_id).await
    }

    async fn client_by_row(&self, id: i64) -> StoreResult<Option<ClientRecord>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM oauth_clients c WHERE c.id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(client_row).transpose()?)
    }
}

#[async_trait]
impl ClientTx for SqliteTx {
    async fn client(&mut self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
        client_by_id(&mut *self.tx, client_id).await
    }

    async fn count_clients(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM oauth_clients").fetch_one(&mut *self.tx).await?)
    }

    async fn save_client(&mut self, c: &ClientRecord) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO oauth_clients (client_id, name, public, secret_hash, secret_created_at, redirect_uris, \
             post_logout_redirect_uris, scopes, consent, require_two_factor, access_token_seconds, \
             refresh_token_seconds, enabled, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, public = excluded.public, \
             redirect_uris = excluded.redirect_uris, post_logout_redirect_uris = excluded.post_logout_redirect_uris, \
             scopes = excluded.scopes, consent = excluded.consent, require_two_factor = excluded.require_two_factor, \
             access_token_seconds = excluded.access_token_seconds, refresh_token_seconds = excluded.refresh_token_seconds, \
             enabled = excluded.enabled, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(c.public)
        .bind(&c.secret_hash)
        .bind(c.secret_created_at)
        .bind(join_lines(&c.redirect_uris))
        .bind(join_lines(&c.post_logout_redirect_uris))
        .bind(c.scopes.join(" "))
        .bind(c.consent)
        .bind(c.require_two_factor)
        .bind(c.access_token_seconds)
        .bind(c.refresh_token_seconds)
        .bind(c.enabled)
        .bind(c.created_at)
        .bind(c.updated_at)
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM oauth_client_orgs WHERE client_id = ?").bind(id).execute(&mut *self.tx).await?;
        for org in &c.orgs {
            sqlx::query("INSERT INTO oauth_client_orgs (client_id, org_id) VALUES (?, ?)")
                .bind(id)
                .bind(org.0)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(id)
    }

    async fn set_client_secret(&mut self, id: i64, hash: Option<&[u8]>, at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE oauth_clients SET secret_hash = ?, secret_created_at = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(hash.map(|_| at))
            .bind(at)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_client(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM oauth_clients WHERE id = ?").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }
}
