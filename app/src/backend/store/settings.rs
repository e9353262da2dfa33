//! Instance settings (such as the instance-wide 2FA requirement) and the 2FA
//! requirements a session is subject to.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::OrgId;

/// Reads outside a write transaction.
#[async_trait]
pub trait SettingsStore {
    /// Whether the organization requires two-factor authentication of its members, and
    /// whether the instance does.
    async fn two_factor_required(&self, org: OrgId) -> StoreResult<(bool, bool)>;
    /// Whether the whole instance requires two-factor authentication.
    async fn instance_requires_2fa(&self) -> StoreResult<bool>;
}

/// Inside a write transaction.
#[async_trait]
pub trait SettingsTx: Send {
    /// The stored value of an instance setting.
    async fn setting(&mut self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&mut self, key: &str, value: &str) -> StoreResult<()>;
}
