//! SQL for second factors, second-factor challenges, tokens and 2FA requirements. The trait
//! impls in `mod.rs` delegate here so that file stays about accounts and access.
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::{abilities_from, user_from_row, USER_COLS};
use crate::backend::store::{NewTokenRecord, StoreResult, TokenRecord, TotpRecord, UserRecord};
use crate::domain::abilities::AbilitySet;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::tokens::TokenKind;

const TOKEN_COLS: &str = "t.id AS t_id, t.user_id AS t_user, t.name AS t_name, t.kind AS t_kind, \
     t.prefix AS t_prefix, t.abilities AS t_abilities, t.created_at AS t_created, t.expires_at AS t_expires, \
     t.last_used_at AS t_used, t.revoked_at AS t_revoked";

fn token_from_row(r: &SqliteRow) -> Result<TokenRecord, sqlx::Error> {
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

pub(super) async fn token_by_hash(
    pool: &SqlitePool,
    token_hash: &[u8],
) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
    let row = sqlx::query(&format!(
        "SELECT {TOKEN_COLS}, {USER_COLS} FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?"
    ))
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some((token_from_row(&r)?, user_from_row(&r)?)))
}

pub(super) async fn touch_token(pool: &SqlitePool, id: i64, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").bind(now).bind(id).execute(pool).await?;
    Ok(())
}

pub(super) async fn tokens_of(pool: &SqlitePool, user: UserId) -> StoreResult<Vec<TokenRecord>> {
    let rows = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.user_id = ? ORDER BY t.id DESC"))
        .bind(user.0)
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(token_from_row).collect::<Result<_, _>>()?)
}

pub(super) async fn two_factor_of(pool: &SqlitePool, user: UserId) -> StoreResult<(bool, i64)> {
    let (on, left): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM totp WHERE user_id = ?1 AND confirmed = 1), \
                (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL)",
    )
    .bind(user.0)
    .fetch_one(pool)
    .await?;
    Ok((on > 0, left))
}

pub(super) async fn two_factor_required(pool: &SqlitePool, org: OrgId) -> StoreResult<(bool, bool)> {
    let (o, i): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE((SELECT require_2fa FROM orgs WHERE id = ?), 0), \
                COALESCE((SELECT value = 'true' FROM settings WHERE key = 'require_2fa'), 0)",
    )
    .bind(org.0)
    .fetch_one(pool)
    .await?;
    Ok((o != 0, i != 0))
}

pub(super) async fn throttle_state(pool: &SqlitePool, key: &str) -> StoreResult<Option<(i64, i64)>> {
    Ok(sqlx::query_as("SELECT failures, next_allowed_at FROM sign_in_throttle WHERE key = ?")
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn set_session_auth(c: &mut SqliteConnection, token_hash: &[u8], now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET auth_at = ? WHERE token_hash = ?").bind(now).bind(token_hash).execute(c).await?;
    Ok(())
}

pub(super) async fn totp(c: &mut SqliteConnection, user: UserId) -> StoreResult<Option<TotpRecord>> {
    let row: Option<(Vec<u8>, i64, i64)> =
        sqlx::query_as("SELECT secret, confirmed, last_step FROM totp WHERE user_id = ?")
            .bind(user.0)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(secret, confirmed, last_step)| TotpRecord { secret, confirmed: confirmed != 0, last_step }))
}

pub(super) async fn put_pending_totp(
    c: &mut SqliteConnection,
    user: UserId,
    sealed: &[u8],
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO totp (user_id, secret, confirmed, last_step, created_at) VALUES (?1, ?2, 0, 0, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET secret = ?2, last_step = 0, created_at = ?3 WHERE confirmed = 0",
    )
    .bind(user.0)
    .bind(sealed)
    .bind(now)
    .execute(c)
    .await?;
    Ok(())
}

pub(super) async fn confirm_totp(c: &mut SqliteConnection, user: UserId, step: i64) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE totp SET confirmed = 1, last_step = ? WHERE user_id = ? AND confirmed = 0")
        .bind(step)
        .bind(user.0)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn consume_totp_step(c: &mut SqliteConnection, user: UserId, step: i64) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE totp SET last_step = ?1 WHERE user_id = ?2 AND confirmed = 1 AND last_step < ?1")
        .bind(step)
        .bind(user.0)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn delete_totp(c: &mut SqliteConnection, user: UserId) -> StoreResult<()> {
    sqlx::query("DELETE FROM totp WHERE user_id = ?").bind(user.0).execute(&mut *c).await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?").bind(user.0).execute(&mut *c).await?;
    Ok(())
}

pub(super) async fn replace_recovery_codes(
    c: &mut SqliteConnection,
    user: UserId,
    hashes: &[Vec<u8>],
) -> StoreResult<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?").bind(user.0).execute(&mut *c).await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)")
            .bind(user.0)
            .bind(h.as_slice())
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub(super) async fn use_recovery_code(
    c: &mut SqliteConnection,
    user: UserId,
    hash: &[u8],
    now: i64,
) -> StoreResult<bool> {
    let r =
        sqlx::query("UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL")
            .bind(now)
            .bind(user.0)
            .bind(hash)
            .execute(c)
            .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn recovery_codes_left(c: &mut SqliteConnection, user: UserId) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
        .bind(user.0)
        .fetch_one(c)
        .await?)
}

pub(super) async fn insert_challenge(
    c: &mut SqliteConnection,
    token_hash: &[u8],
    user: UserId,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO mfa_challenges (token_hash, user_id, created_at) VALUES (?, ?, ?)")
        .bind(token_hash)
        .bind(user.0)
        .bind(now)
        .execute(c)
        .await?;
    Ok(())
}

pub(super) async fn challenge(c: &mut SqliteConnection, token_hash: &[u8]) -> StoreResult<Option<(UserId, i64)>> {
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT user_id, created_at FROM mfa_challenges WHERE token_hash = ?")
        .bind(token_hash)
        .fetch_optional(c)
        .await?;
    Ok(row.map(|(u, t)| (UserId(u), t)))
}

pub(super) async fn delete_challenge(c: &mut SqliteConnection, token_hash: &[u8]) -> StoreResult<bool> {
    let r = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = ?").bind(token_hash).execute(c).await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn insert_token(c: &mut SqliteConnection, t: &NewTokenRecord<'_>) -> StoreResult<i64> {
    let r = sqlx::query(
        "INSERT INTO api_tokens (user_id, name, kind, prefix, token_hash, abilities, created_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.user_id.0)
    .bind(t.name)
    .bind(t.kind.as_str())
    .bind(t.prefix)
    .bind(t.token_hash)
    .bind(t.abilities.map(codes_text))
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(c)
    .await?;
    Ok(r.last_insert_rowid())
}

pub(super) async fn token(c: &mut SqliteConnection, id: i64) -> StoreResult<Option<TokenRecord>> {
    let row = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.id = ?"))
        .bind(id)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(token_from_row).transpose()?)
}

pub(super) async fn revoke_token(c: &mut SqliteConnection, id: i64, now: i64) -> StoreResult<bool> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0")
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub(super) async fn set_org_two_factor(c: &mut SqliteConnection, org: OrgId, required: bool) -> StoreResult<()> {
    sqlx::query("UPDATE orgs SET require_2fa = ? WHERE id = ?").bind(required as i64).bind(org.0).execute(c).await?;
    Ok(())
}

pub(super) async fn set_setting(c: &mut SqliteConnection, key: &str, value: &str) -> StoreResult<()> {
    sqlx::query("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")
        .bind(key)
        .bind(value)
        .execute(c)
        .await?;
    Ok(())
}
