//! SQL for sessions and second-factor challenges.
use async_trait::async_trait;
use sqlx::Row;

use super::user_from_row;
use super::USER_COLS;
use super::{PgStore, PgTx};
use crate::backend::store::{NewSession, SessionRecord, SessionStore, SessionTx, StoreResult, UserRecord};
use crate::domain::ids::{OrgId, UserId};

#[async_trait]
impl SessionStore for PgStore {
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, s.org_id AS s_org, s.created_at AS s_created, s.last_seen_at AS s_seen, \
             s.auth_at AS s_auth, s.method AS s_method, \
             COALESCE((SELECT require_2fa FROM orgs WHERE id = s.org_id), FALSE) \
               OR COALESCE((SELECT value = 'true' FROM settings WHERE key = 'require_2fa'), FALSE) AS s_2fa \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row(&r)?;
        let session = SessionRecord {
            user_id: user.id,
            org_id: OrgId(r.try_get("s_org")?),
            created_at: r.try_get("s_created")?,
            last_seen_at: r.try_get("s_seen")?,
            auth_at: r.try_get("s_auth")?,
            method: r.try_get("s_method")?,
            requires_2fa: r.try_get("s_2fa")?,
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(idle_before)
            .bind(created_before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}

#[async_trait]
impl SessionTx for PgTx {
    async fn insert_session(&mut self, s: &NewSession<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, org_id, created_at, last_seen_at, auth_at, method, ip, \
             user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.token_hash)
        .bind(s.user_id.0)
        .bind(s.org_id.0)
        .bind(s.now)
        .bind(s.now)
        .bind(s.now)
        .bind(s.method)
        .bind(s.ip)
        .bind(s.user_agent)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_session_org(&mut self, token_hash: &[u8], org: OrgId) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET org_id = $1 WHERE token_hash = $2")
            .bind(org.0)
            .bind(token_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_session_auth(&mut self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET auth_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_session(&mut self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn delete_sessions_of(&mut self, user: UserId, except: Option<&[u8]>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
            .bind(user.0)
            .bind(except)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    async fn insert_challenge(&mut self, token_hash: &[u8], user: UserId, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO mfa_challenges (token_hash, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(user.0)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn challenge(&mut self, token_hash: &[u8]) -> StoreResult<Option<(UserId, i64)>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT user_id, created_at FROM mfa_challenges WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(row.map(|(u, t)| (UserId(u), t)))
    }

    async fn delete_challenge(&mut self, token_hash: &[u8]) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
