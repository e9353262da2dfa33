//! Every instance, and every restart, must run with the key the stored secrets were sealed
//! with (TOTP seeds, single sign-on client secrets). A different key opens none of them, yet
//! the server would look healthy: codes refused, providers broken, and on several instances
//! each sealing new secrets its peers cannot read. So the first start seals a known value
//! under the key, and every start after opens it and refuses to run with a key that cannot.
use base64::Engine;

use crate::backend::crypto::SecretBox;
use crate::backend::store::StoreError;
use crate::backend::Backend;

pub const SETTING: &str = "instance_key_check";
/// (binds the sealed value to its purpose: it opens nowhere else)
const PURPOSE: &str = "settings.instance_key_check";
const KNOWN: &[u8] = b"roster instance key";

#[derive(Debug, thiserror::Error)]
pub enum KeyCheck {
    #[error(
        "the instance key cannot open the secrets stored in this database (they were sealed with another key): \
         start with the key the database was first used with (ROSTER_SECRET_KEY or --key-file, the same on every instance)"
    )]
    WrongKey,
    #[error("cannot check the instance key: {0}")]
    Store(#[from] StoreError),
}

/// Checks the configured key against the database, sealing the check value on first use.
pub async fn verify(b: &Backend) -> Result<(), KeyCheck> {
    let mut tx = b.store.begin().await?;
    match tx.setting(SETTING).await? {
        Some(stored) => {
            if opens(&b.secrets, &stored) {
                Ok(())
            } else {
                Err(KeyCheck::WrongKey)
            }
        }
        None => {
            let sealed = b.secrets.seal(KNOWN, PURPOSE);
            tx.set_setting(SETTING, &base64::engine::general_purpose::STANDARD.encode(sealed)).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Seals the check value again under the current key, inside the caller's transaction (a key
/// rotation: afterwards only the new key passes `verify`).
pub(crate) async fn reseal(b: &Backend, tx: &mut Box<dyn crate::backend::store::Tx>) -> Result<(), StoreError> {
    let sealed = b.secrets.seal(KNOWN, PURPOSE);
    tx.set_setting(SETTING, &base64::engine::general_purpose::STANDARD.encode(sealed)).await
}

/// Whether `secrets` opens `stored`, the value of the `SETTING` a database holds: the key is
/// the one its secrets were sealed with. (Reads only: `copy-database` checks a source with it.)
pub fn opens(secrets: &SecretBox, stored: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(stored.trim())
        .ok()
        .and_then(|sealed| secrets.open(&sealed, PURPOSE).ok())
        .as_deref()
        == Some(KNOWN)
}
