//! Every column that holds a value sealed with the instance key, for re-sealing them all under
//! a new key (`roster secrets rotate`). A migration that adds a sealed column adds it here
//! (`server/tests/it/secrets.rs` checks every BLOB/BYTEA column is either listed or known
//! not to be sealed).
use async_trait::async_trait;

use super::StoreResult;

/// A sealed column, with what its values are bound to (each service's associated data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// `totp.secret`, bound to the account (`totp:{user_id}`).
    TotpSecret,
    /// `sso_providers.client_secret`, bound to the provider's slug.
    SsoClientSecret,
    /// `databases.default_password`, bound to the definition's id.
    DatabaseDefaultPassword,
    /// `database_credentials.password`, bound to the credential's id.
    CredentialPassword,
    /// `database_mappings.password`, bound to the mapping's id.
    MappingPassword,
    /// `signing_keys.private_key`, bound to the key's id (`kid`).
    SigningKey,
    /// `webhooks.secret`, bound to the hook's id.
    WebhookSecret,
}

impl SealedColumn {
    pub const ALL: [SealedColumn; 7] = [
        SealedColumn::TotpSecret,
        SealedColumn::SsoClientSecret,
        SealedColumn::DatabaseDefaultPassword,
        SealedColumn::CredentialPassword,
        SealedColumn::MappingPassword,
        SealedColumn::SigningKey,
        SealedColumn::WebhookSecret,
    ];

    /// (table, key column, sealed column, the text the binding needs: a column or '')
    pub fn sql(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            SealedColumn::TotpSecret => ("totp", "user_id", "secret", "''"),
            SealedColumn::SsoClientSecret => ("sso_providers", "id", "client_secret", "slug"),
            SealedColumn::DatabaseDefaultPassword => ("databases", "id", "default_password", "''"),
            SealedColumn::CredentialPassword => ("database_credentials", "id", "password", "''"),
            SealedColumn::MappingPassword => ("database_mappings", "id", "password", "''"),
            SealedColumn::SigningKey => ("signing_keys", "id", "private_key", "kid"),
            SealedColumn::WebhookSecret => ("webhooks", "id", "secret", "''"),
        }
    }

    /// `table.column`, as people read it.
    pub fn name(self) -> String {
        let (table, _, column, _) = self.sql();
        format!("{table}.{column}")
    }
}

/// One sealed value: its row's key, the text its binding needs (a slug), the sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub row: i64,
    pub label: String,
    pub sealed: Vec<u8>,
}

/// Inside a write transaction.
#[async_trait]
pub trait SealedTx: Send {
    /// The non-null values of `column` by row key, after `after`, at most `limit`.
    async fn sealed_values(&mut self, column: SealedColumn, after: i64, limit: u32) -> StoreResult<Vec<SealedValue>>;
    /// Replaces the value of `column` in row `row`.
    async fn replace_sealed(&mut self, column: SealedColumn, row: i64, sealed: &[u8]) -> StoreResult<()>;
}
