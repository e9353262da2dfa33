//! SQL for passkeys, WebAuthn user handles and ceremony state.
use sqlx::{Row, SqliteConnection};

use crate::backend::store::{CeremonyRecord, PasskeyRecord, StoreError, StoreResult};
use crate::domain::ids::UserId;

const COLS: &str = "id, user_id, name, credential_id, passkey, created_at, last_used_at";

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<PasskeyRecord, sqlx::Error> {
    Ok(PasskeyRecord {
        id: r.try_get("id")?,
        user_id: UserId(r.try_get("user_id")?),
        name: r.try_get("name")?,
        credential_id: r.try_get("credential_id")?,
        passkey: r.try_get("passkey")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// An account's passkeys, through the read pool or inside a transaction.
pub(super) async fn passkeys_of<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    user: UserId,
) -> StoreResult<Vec<PasskeyRecord>> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM passkeys WHERE user_id = ? ORDER BY id"))
        .bind(user.0)
        .fetch_all(e)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub(super) async fn refresh_two_factor(c: &mut SqliteConnection, user: UserId) -> StoreResult<bool> {
    let on: i64 = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM totp WHERE user_id = ?1 AND confirmed = 1) \
             OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?1)",
    )
    .bind(user.0)
    .fetch_one(&mut *c)
    .await?;
    sqlx::query("UPDATE users SET two_factor = ? WHERE id = ?").bind(on).bind(user.0).execute(&mut *c).await?;
    Ok(on != 0)
}

pub(super) async fn insert_passkey(
    c: &mut SqliteConnection,
    user: UserId,
    name: &str,
    credential_id: &[u8],
    passkey: &str,
    now: i64,
) -> StoreResult<i64> {
    let r =
        sqlx::query("INSERT INTO passkeys (user_id, name, credential_id, passkey, created_at) VALUES (?, ?, ?, ?, ?)")
            .bind(user.0)
            .bind(name)
            .bind(credential_id)
            .bind(passkey)
            .bind(now)
            .execute(c)
            .await
            .map_err(|e| match e.as_database_error() {
                Some(db) if db.is_unique_violation() => StoreError::Conflict { field: "passkey" },
                _ => StoreError::Db(e),
            })?;
    Ok(r.last_insert_rowid())
}

pub(super) async fn update_passkey(c: &mut SqliteConnection, id: i64, passkey: &str, now: i64) -> StoreResult<()> {
    sqlx::query("UPDATE passkeys SET passkey = ?, last_used_at = ? WHERE id = ?")
        .bind(passkey)
        .bind(now)
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

pub(super) async fn rename_passkey(c: &mut SqliteConnection, id: i64, name: &str) -> StoreResult<()> {
    sqlx::query("UPDATE passkeys SET name = ? WHERE id = ?").bind(name).bind(id).execute(c).await?;
    Ok(())
}

pub(super) async fn delete_passkey(c: &mut SqliteConnection, id: i64) -> StoreResult<()> {
    sqlx::query("DELETE FROM passkeys WHERE id = ?").bind(id).execute(c).await?;
    Ok(())
}

pub(super) async fn webauthn_handle(c: &mut SqliteConnection, user: UserId) -> StoreResult<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT handle FROM webauthn_handles WHERE user_id = ?")
        .bind(user.0)
        .fetch_optional(c)
        .await?)
}

pub(super) async fn set_webauthn_handle(c: &mut SqliteConnection, user: UserId, handle: &[u8]) -> StoreResult<()> {
    sqlx::query("INSERT INTO webauthn_handles (user_id, handle) VALUES (?, ?)")
        .bind(user.0)
        .bind(handle)
        .execute(c)
        .await?;
    Ok(())
}

pub(super) async fn user_by_webauthn_handle(c: &mut SqliteConnection, handle: &[u8]) -> StoreResult<Option<UserId>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT user_id FROM webauthn_handles WHERE handle = ?")
        .bind(handle)
        .fetch_optional(c)
        .await?;
    Ok(id.map(UserId))
}

pub(super) async fn insert_ceremony(c: &mut SqliteConnection, id_hash: &[u8], r: &CeremonyRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id_hash, purpose, user_id, label, state, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id_hash)
    .bind(&r.purpose)
    .bind(r.user_id.map(|u| u.0))
    .bind(&r.label)
    .bind(&r.state)
    .bind(r.created_at)
    .execute(c)
    .await?;
    Ok(())
}

pub(super) async fn take_ceremony(c: &mut SqliteConnection, id_hash: &[u8]) -> StoreResult<Option<CeremonyRecord>> {
    let row = sqlx::query(
        "DELETE FROM webauthn_ceremonies WHERE id_hash = ? RETURNING purpose, user_id, label, state, created_at",
    )
    .bind(id_hash)
    .fetch_optional(c)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(CeremonyRecord {
        purpose: r.try_get("purpose")?,
        user_id: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        label: r.try_get("label")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
    }))
}
