//! Rotating the instance key (`roster secrets rotate`): every sealed value (TOTP seeds, single
//! sign-on client secrets, database passwords of definitions, credentials and mappings, the
//! OpenID provider's signing keys) and
//! the key check value are opened with the configured keys (the new one, or the previous one
//! given as `ROSTER_SECRET_KEY_PREVIOUS`) and sealed again under the new key, in one
//! transaction: either every value moves to the new key or none does. Each value stays bound
//! to its row. Afterwards the previous key opens nothing and can be dropped.
use serde_json::json;

use super::audit;
use crate::backend::store::{SealedColumn, SealedValue};
use crate::backend::{Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::ids::UserId;

/// Values read and re-sealed at a time (the transaction covers them all).
const BATCH: u32 = 1_000;

/// How many values of each column were sealed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub columns: Vec<(SealedColumn, u64)>,
}

impl Rotated {
    pub fn total(&self) -> u64 {
        self.columns.iter().map(|(_, n)| n).sum()
    }
}

/// What a value of `column` is bound to.
fn aad(column: SealedColumn, v: &SealedValue) -> String {
    match column {
        SealedColumn::TotpSecret => super::security::totp_aad(UserId(v.row)),
        SealedColumn::SsoClientSecret => super::sso::client_secret_aad(&v.label),
        SealedColumn::DatabaseDefaultPassword => super::databases::default_password_aad(v.row),
        SealedColumn::CredentialPassword => super::database_access::credential_aad(v.row),
        SealedColumn::MappingPassword => super::database_access::mapping_aad(v.row),
        SealedColumn::SigningKey => super::signing_keys::key_aad(&v.label),
        SealedColumn::WebhookSecret => super::webhooks::secret_aad(v.row),
    }
}

/// Seals every stored secret again under the current key. A value neither key opens stops
/// the rotation with nothing written, naming where it is.
pub async fn rotate(b: &Backend, ctx: &Ctx) -> Result<Rotated, Error> {
    // (the operator's command line only: it runs with the keys themselves)
    if !matches!(ctx.caller, crate::backend::Caller::Cli) {
        return Err(Error::Forbidden(crate::domain::policy::Denied::NotSuperAdmin));
    }
    let mut tx = b.store.begin().await?;
    let mut columns = Vec::new();
    for column in SealedColumn::ALL {
        let mut after = i64::MIN;
        let mut n = 0u64;
        loop {
            let batch = tx.sealed_values(column, after, BATCH).await?;
            let Some(last) = batch.last().map(|v| v.row) else { break };
            for v in &batch {
                let binding = aad(column, v);
                let plain = b.secrets.open(&v.sealed, &binding).map_err(|_| Error::Conflict {
                    field: None,
                    message: format!(
                        "{} of row {} opens with neither the key nor the previous key: nothing was changed. \
                         Give the key it was sealed with as ROSTER_SECRET_KEY_PREVIOUS.",
                        column.name(),
                        v.row
                    ),
                })?;
                tx.replace_sealed(column, v.row, &b.secrets.seal(&plain, &binding)).await?;
                n += 1;
            }
            after = last;
        }
        columns.push((column, n));
    }
    super::instance_key::reseal(b, &mut tx).await?;
    let rotated = Rotated { columns };
    let mut ev = audit(b, ctx, "secrets.rotated", true);
    ev.after = Some(json!({
        "resealed": rotated.columns.iter().map(|(c, n)| (c.name(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(rotated)
}
