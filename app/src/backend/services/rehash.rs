//! A password hash imported from another system (sha512-crypt, bcrypt, pbkdf2, scrypt)
//! becomes argon2id the first time its password is proven (sign-in, re-authentication).
//! The new hash is computed outside any transaction (argon2 takes tens of milliseconds) and
//! written with a compare-and-swap, so a password changed meanwhile (by the person or an
//! admin) is never overwritten. It is not a password change: sessions and `updated_at` stay.
use serde_json::json;

use super::audit;
use crate::backend::legacy_hash::Scheme;
use crate::backend::password::Checked;
use crate::backend::store::{Tx, UserRecord};
use crate::backend::{Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::validate;

/// The argon2id hash that replaces a legacy one, when `checked` matched a legacy hash.
pub struct Rehash {
    old: String,
    new: String,
    from: Scheme,
}

/// Hashes the proven password again, with argon2id, when the stored hash is a legacy one.
pub async fn prepare(b: &Backend, user: &UserRecord, typed: &str, checked: Checked) -> Result<Option<Rehash>, Error> {
    let (Some(from), Some(old)) = (checked.rehash.filter(|_| checked.ok), user.password_hash.clone()) else {
        return Ok(None);
    };
    let new = b.hasher.hash(validate::normalize_password(typed)).await?;
    Ok(Some(Rehash { old, new, from }))
}

/// Writes it in `tx` if the account still has the hash that was verified; audited.
pub async fn store(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    user: &UserRecord,
    rehash: Option<Rehash>,
) -> Result<(), Error> {
    let Some(r) = rehash else {
        return Ok(());
    };
    if !tx.swap_password_hash(user.id, &r.old, &r.new).await? {
        return Ok(());
    }
    let mut ev = audit(b, ctx, "user.password_rehashed", true);
    ev.actor_id = Some(user.id);
    ev.actor = Some(user.username.clone());
    ev.target = Some(user.username.clone());
    ev.after = Some(json!({ "from": r.from.as_str(), "to": "argon2id" }));
    tx.insert_audit(&ev).await?;
    Ok(())
}
