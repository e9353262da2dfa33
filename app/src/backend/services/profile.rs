//! Self-service: an account changes its own name, email and password. Changing the password
//! needs the current one and ends the account's other sessions.
use serde_json::json;

use super::{audit, user_snapshot, Fields};
use crate::backend::password::check_new;
use crate::backend::{Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::users::{Me, UserStatus};
use crate::domain::validate;

pub async fn update(b: &Backend, ctx: &Ctx, full_name: &str, email: &str) -> Result<Me, Error> {
    let me = ctx.user()?;
    let mut f = Fields::default();
    let full_name = f.take(validate::full_name(full_name));
    let email = f.take(validate::optional_email(email));
    f.finish()?;
    let (Some(full_name), Some(email)) = (full_name, email) else {
        return Err(Error::invalid("email", "Invalid input."));
    };
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let before = tx.user_by_username(&validate::username_key(&me.username)).await?.ok_or(Error::Unauthenticated)?;
    // A new email can take over password resets and notifications: sudo mode.
    if before.email.to_lowercase() != email.to_lowercase() {
        super::sudo_credentials(b, ctx)?;
    }
    let mut after = before.clone();
    after.full_name = full_name;
    after.email = email;
    tx.update_user(&after, now).await?;
    let mut ev = audit(b, ctx, "user.updated", true);
    ev.target = Some(after.username.clone());
    ev.before = Some(user_snapshot(&before));
    ev.after = Some(user_snapshot(&after));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(super::auth::me_for(b, after.id, &after.username, &after.full_name, &after.email, after.super_admin, me.org))
}

/// The current password is the re-authentication here (sudo mode); a token may not do this.
pub async fn change_password(b: &Backend, ctx: &Ctx, current: &str, new: &str) -> Result<(), Error> {
    let me = ctx.user()?;
    if me.token.is_some() {
        return Err(Error::Forbidden(crate::domain::policy::Denied::TokenNotAllowed));
    }
    let record = b
        .store
        .user_by_username(&validate::username_key(&me.username))
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or(Error::Unauthenticated)?;
    let context = [me.username.as_str(), validate::email_local(&me.email)];
    let new = check_new(&b.config.password_policy, "new_password", new, &context)
        .map_err(|e| Error::Invalid { errors: vec![e] })?;
    let ok = b.hasher.check(current, record.password_hash.clone()).await?.ok;
    if !ok {
        let mut tx = b.store.begin().await?;
        let mut ev = audit(b, ctx, "password.changed", false);
        ev.target = Some(me.username.clone());
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        return Err(Error::invalid("current_password", "The current password is not correct."));
    }
    let hash = b.hasher.hash(new).await?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    tx.set_password_hash(record.id, Some(&hash), now).await?;
    let ended = tx.delete_sessions_of(record.id, ctx.session.as_deref()).await?;
    if let Some(s) = &ctx.session {
        tx.set_session_auth(s, now).await?;
    }
    let mut ev = audit(b, ctx, "password.changed", true);
    ev.target = Some(me.username.clone());
    ev.after = Some(json!({ "other_sessions_ended": ended }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the caller's picture from an upload (validated, cropped, resized, re-encoded: see
/// `backend::avatar`), off the async runtime.
pub async fn set_avatar(b: &Backend, ctx: &Ctx, upload: Vec<u8>) -> Result<(), Error> {
    let me = ctx.user()?.clone();
    // Decoding can take a second of CPU: it waits its turn in the queue hashing uses.
    let png = b
        .cpu
        .run(move || crate::backend::avatar::normalize(&upload))
        .await?
        .map_err(|e| Error::invalid("avatar", e.to_string()))?;
    let mut tx = b.store.begin().await?;
    let replaced = tx.set_avatar(me.id, Some(&png), b.now()).await?;
    let mut ev = audit(b, ctx, "user.avatar_set", true);
    ev.target = Some(me.username.clone());
    ev.after = Some(json!({ "bytes": png.len(), "replaced": replaced }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_avatar(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    let me = ctx.user()?.clone();
    let mut tx = b.store.begin().await?;
    if tx.set_avatar(me.id, None, b.now()).await? {
        let mut ev = audit(b, ctx, "user.avatar_removed", true);
        ev.target = Some(me.username.clone());
        tx.insert_audit(&ev).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An account's picture for a caller who may see the account (itself, or with view-users
/// there): the PNG, or `None` when it has none.
pub async fn avatar(b: &Backend, ctx: &Ctx, username: &str) -> Result<Option<Vec<u8>>, Error> {
    let me = ctx.user()?;
    let id = if me.username.eq_ignore_ascii_case(username) {
        me.id
    } else {
        super::users::get(b, ctx, username).await?;
        b.store.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?.id
    };
    Ok(b.store.avatar(id).await?.map(|(png, _)| png))
}

/// What the picture address's tag signs: the account and when its picture was set.
fn picture_message(user: crate::domain::ids::UserId, set_at: i64) -> Vec<u8> {
    format!("roster picture v1\n{}\n{set_at}", user.0).into_bytes()
}

/// The address a tool shows an account's picture from (the OpenID `picture` claim):
/// `/pictures/{id}-{set at}-{tag}.png`. Public, as tools load it in their own pages, but
/// unguessable (a 128-bit tag made with the instance key) and tied to this very picture: a
/// new or removed picture makes the old address answer 404.
pub fn picture_path(b: &Backend, user: crate::domain::ids::UserId, set_at: i64) -> String {
    use base64::Engine;
    let tag = b.outcomes.sign(&picture_message(user, set_at));
    format!("/pictures/{}-{set_at}-{}.png", user.0, base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..16]))
}

/// The picture an address from `picture_path` names, if it is still that account's picture.
pub async fn public_picture(b: &Backend, file: &str) -> Result<Option<Vec<u8>>, Error> {
    use base64::Engine;
    use subtle::ConstantTimeEq;
    let Some(stem) = file.strip_suffix(".png") else { return Ok(None) };
    let mut parts = stem.splitn(3, '-');
    let (Some(id), Some(at), Some(tag)) = (parts.next(), parts.next(), parts.next()) else { return Ok(None) };
    let (Ok(id), Ok(at)) = (id.parse::<i64>(), at.parse::<i64>()) else { return Ok(None) };
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tag) else { return Ok(None) };
    let user = crate::domain::ids::UserId(id);
    let want = b.outcomes.sign(&picture_message(user, at));
    if tag.len() != 16 || !bool::from(want[..16].ct_eq(&tag)) {
        return Ok(None);
    }
    Ok(b.store.avatar(user).await?.filter(|(_, set_at)| *set_at == at).map(|(png, _)| png))
}
