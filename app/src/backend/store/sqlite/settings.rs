//! SQL for instance settings and 2FA requirements.
use async_trait::async_trait;

use super::{SqliteStore, SqliteTx};
use crate::backend::store::{SettingsStore, SettingsTx, StoreResult};
use crate::domain::ids::OrgId;

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn two_factor_required(&self, org: OrgId) -> StoreResult<(bool, bool)> {
        let (o, i): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE((SELECT require_2fa FROM orgs WHERE id = ?), 0), \
                    COALESCE((SELECT value = 'true' FROM settings WHERE key = 'require_2fa'), 0)",
        )
        .bind(org.0)
        .fetch_one(&self.read)
        .await?;
        Ok((o != 0, i != 0))
    }

    async fn instance_requires_2fa(&self) -> StoreResult<bool> {
        Ok(self.two_factor_required(crate::domain::ids::DEFAULT_ORG).await?.1)
    }
}

#[async_trait]
impl SettingsTx for SqliteTx {
    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn set_setting(&mut self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2")
            .bind(key)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
