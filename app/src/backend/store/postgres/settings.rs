//! SQL for instance settings and 2FA requirements.
use async_trait::async_trait;

use super::{PgStore, PgTx};
use crate::backend::store::{SettingsStore, SettingsTx, StoreResult};
use crate::domain::ids::OrgId;

#[async_trait]
impl SettingsStore for PgStore {
    async fn two_factor_required(&self, org: OrgId) -> StoreResult<(bool, bool)> {
        let (o, i): (bool, bool) = sqlx::query_as(
            "SELECT COALESCE((SELECT require_2fa FROM orgs WHERE id = $1), FALSE), \
                    COALESCE((SELECT value = 'true' FROM settings WHERE key = 'require_2fa'), FALSE)",
        )
        .bind(org.0)
        .fetch_one(&self.pool)
        .await?;
        Ok((o, i))
    }

    async fn instance_requires_2fa(&self) -> StoreResult<bool> {
        Ok(self.two_factor_required(crate::domain::ids::DEFAULT_ORG).await?.1)
    }
}

#[async_trait]
impl SettingsTx for PgTx {
    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?)
    }

    async fn set_setting(&mut self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
            .bind(key)
            .bind(value)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
