//! SQL for TOTP seeds, recovery codes, passkeys, WebAuthn user handles and ceremonies.
use async_trait::async_trait;
use sqlx::Row;

use super::{map_unique, SqliteStore, SqliteTx};
use crate::backend::store::{
    CeremonyRecord, PasskeyRecord, SecondFactorFacts, SecondFactorStore, SecondFactorTx, StoreResult, TotpRecord,
};
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
async fn passkeys_of<'e>(
    e: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    user: UserId,
) -> StoreResult<Vec<PasskeyRecord>> {
    let rows = sqlx::query(&format!("SELECT {COLS} FROM passkeys WHERE user_id = ? ORDER BY id"))
        .bind(user.0)
        .fetch_all(e)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

#[async_trait]
impl SecondFactorStore for SqliteStore {
    async fn two_factor_of(&self, user: UserId) -> StoreResult<(bool, i64)> {
        let (on, left): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM totp WHERE user_id = ?1 AND confirmed = 1), \
                    (SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL)",
        )
        .bind(user.0)
        .fetch_one(&self.read)
        .await?;
        Ok((on > 0, left))
    }

    async fn passkeys_of(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        passkeys_of(&self.read, user).await
    }
}

#[async_trait]
impl SecondFactorTx for SqliteTx {
    async fn totp(&mut self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        let row: Option<(Vec<u8>, i64, i64)> =
            sqlx::query_as("SELECT secret, confirmed, last_step FROM totp WHERE user_id = ?")
                .bind(user.0)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(row.map(|(secret, confirmed, last_step)| TotpRecord { secret, confirmed: confirmed != 0, last_step }))
    }

    async fn put_pending_totp(&mut self, user: UserId, sealed: &[u8], now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO totp (user_id, secret, confirmed, last_step, created_at) VALUES (?1, ?2, 0, 0, ?3) \
             ON CONFLICT (user_id) DO UPDATE SET secret = ?2, last_step = 0, created_at = ?3 WHERE confirmed = 0",
        )
        .bind(user.0)
        .bind(sealed)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn confirm_totp(&mut self, user: UserId, step: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE totp SET confirmed = 1, last_step = ? WHERE user_id = ? AND confirmed = 0")
            .bind(step)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn consume_totp_step(&mut self, user: UserId, step: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE totp SET last_step = ?1 WHERE user_id = ?2 AND confirmed = 1 AND last_step < ?1")
            .bind(step)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn delete_totp(&mut self, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM totp WHERE user_id = ?").bind(user.0).execute(&mut *self.tx).await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?").bind(user.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn replace_recovery_codes(&mut self, user: UserId, hashes: &[Vec<u8>]) -> StoreResult<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = ?").bind(user.0).execute(&mut *self.tx).await?;
        for h in hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)")
                .bind(user.0)
                .bind(h.as_slice())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn use_recovery_code(&mut self, user: UserId, hash: &[u8], now: i64) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(user.0)
        .bind(hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    async fn recovery_codes_left(&mut self, user: UserId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
            .bind(user.0)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn second_factor_facts(&mut self, user: UserId) -> StoreResult<SecondFactorFacts> {
        let (totp, passkey): (i64, i64) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM totp WHERE user_id = ?1 AND confirmed = 1), \
                    EXISTS (SELECT 1 FROM passkeys WHERE user_id = ?1)",
        )
        .bind(user.0)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(SecondFactorFacts { confirmed_totp: totp != 0, passkey: passkey != 0 })
    }

    async fn passkeys_of(&mut self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        passkeys_of(&mut *self.tx, user).await
    }

    async fn insert_passkey(
        &mut self,
        user: UserId,
        name: &str,
        credential_id: &[u8],
        passkey: &str,
        now: i64,
    ) -> StoreResult<i64> {
        let r = sqlx::query(
            "INSERT INTO passkeys (user_id, name, credential_id, passkey, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(user.0)
        .bind(name)
        .bind(credential_id)
        .bind(passkey)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(r.last_insert_rowid())
    }

    async fn update_passkey(&mut self, id: i64, passkey: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET passkey = ?, last_used_at = ? WHERE id = ?")
            .bind(passkey)
            .bind(now)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn rename_passkey(&mut self, id: i64, name: &str) -> StoreResult<()> {
        sqlx::query("UPDATE passkeys SET name = ? WHERE id = ?").bind(name).bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn delete_passkey(&mut self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM passkeys WHERE id = ?").bind(id).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn webauthn_handle(&mut self, user: UserId) -> StoreResult<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar("SELECT handle FROM webauthn_handles WHERE user_id = ?")
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn set_webauthn_handle(&mut self, user: UserId, handle: &[u8]) -> StoreResult<()> {
        sqlx::query("INSERT INTO webauthn_handles (user_id, handle) VALUES (?, ?)")
            .bind(user.0)
            .bind(handle)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn user_by_webauthn_handle(&mut self, handle: &[u8]) -> StoreResult<Option<UserId>> {
        let id: Option<i64> = sqlx::query_scalar("SELECT user_id FROM webauthn_handles WHERE handle = ?")
            .bind(handle)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(id.map(UserId))
    }

    async fn insert_ceremony(&mut self, id_hash: &[u8], r: &CeremonyRecord, expired_before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE created_at < ?")
            .bind(expired_before)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id_hash, purpose, user_id, label, state, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id_hash)
        .bind(&r.purpose)
        .bind(r.user_id.map(|u| u.0))
        .bind(&r.label)
        .bind(&r.state)
        .bind(r.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn take_ceremony(&mut self, id_hash: &[u8]) -> StoreResult<Option<CeremonyRecord>> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id_hash = ? RETURNING purpose, user_id, label, state, created_at",
        )
        .bind(id_hash)
        .fetch_optional(&mut *self.tx)
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
}
