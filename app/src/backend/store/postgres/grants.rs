//! SQL for OAuth grants, codes, tokens and consents (PostgreSQL).
use async_trait::async_trait;
use sqlx::Row;

use super::{PgStore, PgTx};
use crate::backend::store::clients::split_scopes;
use crate::backend::store::grants::GRANT_COLS;
use crate::backend::store::{
    CodeRecord, GrantRecord, GrantStore, GrantTx, OAuthTokenKind, OAuthTokenRecord, StoreResult,
};
use crate::domain::ids::UserId;

type DbRow = sqlx::postgres::PgRow;

fn grant_row(r: &DbRow) -> Result<GrantRecord, sqlx::Error> {
    Ok(GrantRecord {
        id: r.try_get("g_id")?,
        client: r.try_get("g_client")?,
        user_id: UserId(r.try_get("g_user")?),
        scopes: split_scopes(&r.try_get::<String, _>("g_scopes")?),
        nonce: r.try_get("g_nonce")?,
        auth_at: r.try_get("g_auth_at")?,
        method: r.try_get("g_method")?,
        created_at: r.try_get("g_created_at")?,
        revoked_at: r.try_get("g_revoked_at")?,
    })
}

fn code_row(r: &DbRow) -> Result<CodeRecord, sqlx::Error> {
    Ok(CodeRecord {
        grant: grant_row(r)?,
        redirect_uri: r.try_get("redirect_uri")?,
        code_challenge: r.try_get("code_challenge")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    })
}

fn token_row(r: &DbRow) -> Result<OAuthTokenRecord, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(OAuthTokenRecord {
        grant: grant_row(r)?,
        kind: OAuthTokenKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("token kind {kind}").into()))?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    })
}

fn token_query() -> String {
    format!(
        "SELECT t.kind, t.created_at, t.expires_at, t.used_at, {GRANT_COLS} FROM oauth_tokens t \
         JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = $1"
    )
}

#[async_trait]
impl GrantStore for PgStore {
    async fn oauth_token(&self, hash: &[u8]) -> StoreResult<Option<OAuthTokenRecord>> {
        let row = sqlx::query(&token_query()).bind(hash).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(token_row).transpose()?)
    }

    async fn consent(&self, user: UserId, client: i64) -> StoreResult<Option<Vec<String>>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT scopes FROM oauth_consents WHERE user_id = $1 AND client_id = $2")
                .bind(user.0)
                .bind(client)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s,)| split_scopes(&s)))
    }

    async fn purge_grants(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let codes = sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1").bind(before).execute(&mut *tx).await?;
        let tokens =
            sqlx::query("DELETE FROM oauth_tokens WHERE expires_at < $1").bind(before).execute(&mut *tx).await?;
        // (a grant whose code is spent and whose tokens have all expired holds nothing more)
        let grants = sqlx::query(
            "DELETE FROM oauth_grants WHERE created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM oauth_codes c WHERE c.grant_id = oauth_grants.id) \
             AND NOT EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = oauth_grants.id)",
        )
        .bind(before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(codes.rows_affected() + tokens.rows_affected() + grants.rows_affected())
    }
}

#[async_trait]
impl GrantTx for PgTx {
    async fn insert_grant(&mut self, g: &GrantRecord) -> StoreResult<i64> {
        let r = sqlx::query(
            "INSERT INTO oauth_grants (client_id, user_id, scopes, nonce, auth_at, method, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(g.client)
        .bind(g.user_id.0)
        .bind(g.scopes.join(" "))
        .bind(&g.nonce)
        .bind(g.auth_at)
        .bind(&g.method)
        .bind(g.created_at)
        .bind(g.revoked_at)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(r.try_get("id")?)
    }

    async fn insert_code(
        &mut self,
        hash: &[u8],
        grant: i64,
        redirect_uri: &str,
        code_challenge: Option<&str>,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(grant)
        .bind(redirect_uri)
        .bind(code_challenge)
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn oauth_code(&mut self, hash: &[u8]) -> StoreResult<Option<CodeRecord>> {
        let row = sqlx::query(&format!(
            "SELECT c.redirect_uri, c.code_challenge, c.expires_at, c.used_at, {GRANT_COLS} FROM oauth_codes c \
             JOIN oauth_grants g ON g.id = c.grant_id WHERE c.code_hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.as_ref().map(code_row).transpose()?)
    }

    async fn use_code(&mut self, hash: &[u8], at: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(at)
            .bind(hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn insert_oauth_token(
        &mut self,
        hash: &[u8],
        grant: i64,
        kind: OAuthTokenKind,
        created_at: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, grant_id, kind, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hash)
        .bind(grant)
        .bind(kind.as_str())
        .bind(created_at)
        .bind(expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn oauth_token(&mut self, hash: &[u8]) -> StoreResult<Option<OAuthTokenRecord>> {
        let row = sqlx::query(&token_query()).bind(hash).fetch_optional(&mut *self.tx).await?;
        Ok(row.as_ref().map(token_row).transpose()?)
    }

    async fn use_refresh_token(&mut self, hash: &[u8], at: i64) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE oauth_tokens SET used_at = $1 WHERE token_hash = $2 AND kind = 'refresh' AND used_at IS NULL",
        )
        .bind(at)
        .bind(hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn revoke_grant(&mut self, id: i64, at: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn save_consent(&mut self, user: UserId, client: i64, scopes: &[String], at: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_consents (user_id, client_id, scopes, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, created_at = excluded.created_at",
        )
        .bind(user.0)
        .bind(client)
        .bind(scopes.join(" "))
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
