//! SQL for API keys and personal access tokens.
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::{abilities_from, user_from_row, USER_COLS};
use super::{PgStore, PgTx};
use crate::backend::store::{NewTokenRecord, StoreResult, TokenRecord, TokenStore, TokenTx, UserRecord};
use crate::domain::abilities::AbilitySet;
use crate::domain::ids::UserId;
use crate::domain::tokens::TokenKind;

const TOKEN_COLS: &str = "t.id AS t_id, t.user_id AS t_user, t.name AS t_name, t.kind AS t_kind, \
     t.prefix AS t_prefix, t.abilities AS t_abilities, t.created_at AS t_created, t.expires_at AS t_expires, \
     t.last_used_at AS t_used, t.revoked_at AS t_revoked";

fn token_from_row(r: &PgRow) -> Result<TokenRecord, sqlx::Error> {
    let abilities: Option<String> = r.try_get("t_abilities")?;
    let kind: String = r.try_get("t_kind")?;
    Ok(TokenRecord {
        id: r.try_get("t_id")?,
        user_id: UserId(r.try_get("t_user")?),
        name: r.try_get("t_name")?,
        kind: TokenKind::parse(&kind).unwrap_or(TokenKind::Pat),
        prefix: r.try_get("t_prefix")?,
        abilities: abilities.map(|a| {
            let codes: Vec<String> = a.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect();
            abilities_from(&codes)
        }),
        created_at: r.try_get("t_created")?,
        expires_at: r.try_get("t_expires")?,
        last_used_at: r.try_get("t_used")?,
        revoked_at: r.try_get("t_revoked")?,
    })
}

fn codes_text(set: AbilitySet) -> String {
    set.codes().join(",")
}

#[async_trait]
impl TokenStore for PgStore {
    async fn token_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLS}, {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((token_from_row(&r)?, user_from_row(&r)?)))
    }

    async fn touch_token(&self, id: i64, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn tokens_of(&self, user: UserId) -> StoreResult<Vec<TokenRecord>> {
        let rows =
            sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.user_id = $1 ORDER BY t.id DESC"))
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(token_from_row).collect::<Result<_, _>>()?)
    }
}

#[async_trait]
impl TokenTx for PgTx {
    async fn insert_token(&mut self, t: &NewTokenRecord<'_>) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, kind, prefix, token_hash, abilities, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(t.user_id.0)
        .bind(t.name)
        .bind(t.kind.as_str())
        .bind(t.prefix)
        .bind(t.token_hash)
        .bind(t.abilities.map(codes_text))
        .bind(t.created_at)
        .bind(t.expires_at)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    async fn token(&mut self, id: i64) -> StoreResult<Option<TokenRecord>> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(token_from_row).transpose()?)
    }

    async fn revoke_token(&mut self, id: i64, now: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0")
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
