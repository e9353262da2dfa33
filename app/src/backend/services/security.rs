//! Second factors: TOTP enrolment with recovery codes, their use at sign-in and for
//! re-authentication, turning them off, and the admin reset. Threats: a stolen database
//! (seeds sealed with the instance key, recovery codes hashed), replay (the last accepted
//! step is consumed with a conditional UPDATE in the transaction that accepts the code),
//! guessing (a per-account throttle on every code check), a hijacked session turning 2FA off
//! or reading new codes (sudo mode), and lock-out (recovery codes; admins can reset).
use serde_json::json;

use super::throttles::code_throttle_key;
use super::{audit, sudo_credentials};
use crate::backend::store::Tx;
use crate::backend::totp;
use crate::backend::{Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy;
use crate::domain::security::{RecoveryCodes, SecurityStatus, TotpEnrolment};
use crate::domain::validate;

/// What a TOTP seed is bound to (its account).
pub(crate) fn totp_aad(user: UserId) -> String {
    format!("totp:{}", user.0)
}

pub async fn status(b: &Backend, ctx: &Ctx) -> Result<SecurityStatus, Error> {
    let u = ctx.user()?;
    let (totp, left) = b.store.two_factor_of(u.id).await?;
    let (org_req, instance_req) = b.store.two_factor_required(u.org).await?;
    Ok(SecurityStatus {
        totp,
        passkeys_available: b.webauthn.is_some(),
        recovery_codes_left: left,
        recently_authenticated: sudo_credentials(b, ctx).is_ok(),
        two_factor_required: org_req || instance_req,
    })
}

/// Starts enrolment: a new seed, stored sealed and unconfirmed until a code from the app
/// confirms it. Shown this once.
pub async fn begin_totp(b: &Backend, ctx: &Ctx) -> Result<TotpEnrolment, Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let secret = totp::new_secret();
    let sealed = b.secrets.seal(&secret, &totp_aad(u.id));
    let mut tx = b.store.begin().await?;
    if tx.totp(u.id).await?.is_some_and(|t| t.confirmed) {
        return Err(Error::Conflict {
            field: None,
            message: "Two-factor authentication is already on. Turn it off first to enrol a new app.".into(),
        });
    }
    tx.put_pending_totp(u.id, &sealed, b.now()).await?;
    tx.commit().await?;
    let uri = totp::otpauth_uri(&b.config.totp_issuer, &u.username, &secret);
    let qr_svg = totp::qr_svg(&uri).ok_or_else(|| crate::backend::internal("QR code could not be rendered"))?;
    Ok(TotpEnrolment { secret: totp::base32(&secret), uri, qr_svg })
}

/// The enrolment begun and not yet confirmed, shown again: for the page a form posted before
/// the WASM arrived lands on (the browser that ran `begin_totp` has no answer to show), and
/// after a wrong code. The same rule as beginning: a recent sign-in.
pub async fn resume_totp(b: &Backend, ctx: &Ctx) -> Result<Option<TotpEnrolment>, Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    let pending = tx.totp(u.id).await?.filter(|t| !t.confirmed);
    tx.commit().await?;
    let Some(pending) = pending else { return Ok(None) };
    let secret = b.secrets.open(&pending.secret, &totp_aad(u.id)).map_err(crate::backend::internal)?;
    let uri = totp::otpauth_uri(&b.config.totp_issuer, &u.username, &secret);
    let qr_svg = totp::qr_svg(&uri).ok_or_else(|| crate::backend::internal("QR code could not be rendered"))?;
    Ok(Some(TotpEnrolment { secret: totp::base32(&secret), uri, qr_svg }))
}

/// Confirms enrolment with a current code; turns 2FA on and returns the recovery codes
/// (shown once).
pub async fn confirm_totp(b: &Backend, ctx: &Ctx, code: &str) -> Result<RecoveryCodes, Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let pending = match tx.totp(u.id).await? {
        Some(t) if !t.confirmed => t,
        Some(_) => {
            return Err(Error::Conflict { field: None, message: "Two-factor authentication is already on.".into() })
        }
        None => return Err(Error::invalid("code", "Start again: choose Enable two-factor authentication.")),
    };
    let key = code_throttle_key(u.id);
    if !tx.throttle_claim(&key, now).await? {
        tx.commit().await?;
        return Err(too_many());
    }
    let secret = b.secrets.open(&pending.secret, &totp_aad(u.id)).map_err(crate::backend::internal)?;
    let Some(step) = totp::matching_steps(&secret, code, now).first().copied() else {
        let mut ev = audit(b, ctx, "2fa.enabled", false);
        ev.target = Some(u.username.clone());
        ev.after = Some(json!({ "reason": "bad_code" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        return Err(Error::invalid(
            "code",
            "That code is not valid. Check the time on your device and try the current code.",
        ));
    };
    if !tx.confirm_totp(u.id, step).await? {
        return Err(Error::Conflict { field: None, message: "Two-factor authentication is already on.".into() });
    }
    tx.throttle_clear(&key).await?;
    tx.refresh_two_factor(u.id).await?;
    let codes = totp::new_recovery_codes();
    tx.replace_recovery_codes(u.id, &codes.iter().map(|c| totp::recovery_hash(c)).collect::<Vec<_>>()).await?;
    let mut ev = audit(b, ctx, "2fa.enabled", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "totp": false }));
    ev.after = Some(json!({ "totp": true, "recovery_codes": codes.len() }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// A fresh batch of recovery codes; the old batch stops working.
pub async fn regenerate_recovery_codes(b: &Backend, ctx: &Ctx) -> Result<RecoveryCodes, Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    if !tx.totp(u.id).await?.is_some_and(|t| t.confirmed) {
        return Err(Error::Conflict { field: None, message: "Turn on two-factor authentication first.".into() });
    }
    let before = tx.recovery_codes_left(u.id).await?;
    let codes = totp::new_recovery_codes();
    tx.replace_recovery_codes(u.id, &codes.iter().map(|c| totp::recovery_hash(c)).collect::<Vec<_>>()).await?;
    let mut ev = audit(b, ctx, "2fa.recovery_codes_regenerated", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "recovery_codes_left": before }));
    ev.after = Some(json!({ "recovery_codes_left": codes.len() }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// Turns 2FA off for the signed-in account (sudo mode).
pub async fn disable(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    let was = tx.totp(u.id).await?.is_some_and(|t| t.confirmed);
    tx.delete_totp(u.id).await?;
    tx.refresh_two_factor(u.id).await?;
    let mut ev = audit(b, ctx, "2fa.disabled", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "totp": was }));
    ev.after = Some(json!({ "totp": false }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// An administrator turns off a user's 2FA (lost phone and codes), with a reason for the
/// audit trail. Same right as changing the account; the admin must have signed in recently.
pub async fn admin_reset(b: &Backend, ctx: &Ctx, username: &str, reason: &str) -> Result<(), Error> {
    let reason = reset_reason(reason)?;
    ctx.actor()?;
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    let record =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    reset_in(b, ctx, &mut tx, ctx.org(), &record, reason).await?;
    tx.commit().await?;
    Ok(())
}

/// The reason an admin gives for resetting someone's 2FA, checked.
pub(super) fn reset_reason(reason: &str) -> Result<&str, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "Give a reason: it is kept in the audit log."));
    }
    if reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "The reason must be at most 500 characters."));
    }
    Ok(reason)
}

/// Resets an account's 2FA inside the caller's transaction, if the caller may change the
/// account; `false` when it had none (nothing written). Shared with bulk actions.
pub(super) async fn reset_in(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    target_rec: &crate::backend::store::UserRecord,
    reason: &str,
) -> Result<bool, Error> {
    check_managed(tx, ctx, org, target_rec).await?;
    let was = tx.totp(target_rec.id).await?.is_some_and(|t| t.confirmed);
    tx.delete_totp(target_rec.id).await?;
    // Passkeys are second factors too (and may live on the lost device).
    let passkeys = tx.passkeys_of(target_rec.id).await?;
    for p in &passkeys {
        tx.delete_passkey(p.id).await?;
    }
    tx.refresh_two_factor(target_rec.id).await?;
    tx.throttle_clear(&code_throttle_key(target_rec.id)).await?;
    let mut ev = audit(b, ctx, "2fa.reset", true);
    ev.target = Some(target_rec.username.clone());
    ev.before = Some(json!({ "totp": was, "passkeys": passkeys.len() }));
    ev.after = Some(json!({ "totp": false, "passkeys": 0, "reason": reason }));
    tx.insert_audit(&ev).await?;
    Ok(true)
}

/// Whether the caller may change the account (the users admin's rule), read in `tx`.
async fn check_managed(
    tx: &mut Box<dyn Tx>,
    ctx: &Ctx,
    org: OrgId,
    record: &crate::backend::store::UserRecord,
) -> Result<(), Error> {
    let actor = super::actor_in(tx, ctx, org).await?;
    let target = super::target_of(tx, ctx, actor, org, record).await?;
    let active = super::super_admins_if_needed(tx, record).await?;
    policy::can_update_user(actor, org, target, None, None, active).map_err(Error::Forbidden)?;
    Ok(())
}

/// Checks a TOTP or recovery code for `user` inside `tx`, consuming it on success. Returns
/// the method that worked. The caller has claimed a throttle attempt already.
pub(crate) async fn verify_code(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    user: UserId,
    code: &str,
    now: i64,
) -> Result<Option<&'static str>, Error> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 {
        return Ok(None);
    }
    if totp::looks_like_recovery(code) {
        return Ok(tx.use_recovery_code(user, &totp::recovery_hash(code), now).await?.then_some("recovery_code"));
    }
    let Some(t) = tx.totp(user).await?.filter(|t| t.confirmed) else { return Ok(None) };
    let secret = b.secrets.open(&t.secret, &totp_aad(user)).map_err(crate::backend::internal)?;
    for step in totp::matching_steps(&secret, code, now) {
        if tx.consume_totp_step(user, step).await? {
            return Ok(Some("totp"));
        }
    }
    Ok(None)
}

pub(crate) fn too_many() -> Error {
    Error::invalid("code", "Too many attempts. Wait a few minutes, then try again.")
}

/// Sudo mode: proves the session's owner again with the password or a current code.
pub async fn reauthenticate(b: &Backend, ctx: &Ctx, password: &str, code: &str) -> Result<(), Error> {
    let u = ctx.user()?.clone();
    let Some(session) = ctx.session.clone() else {
        return Err(Error::Forbidden(policy::Denied::TokenNotAllowed));
    };
    let record = b.store.user_by_username(&validate::username_key(&u.username)).await?.ok_or(Error::Unauthenticated)?;
    let now = b.now();
    if !password.is_empty() {
        if password.len() > validate::PASSWORD_MAX_BYTES {
            return Err(Error::invalid("password", "The password is not correct."));
        }
        let key = super::throttles::password_throttle_key(u.id);
        let mut tx = b.store.begin().await?;
        let allowed = tx.throttle_claim(&key, now).await?;
        tx.commit().await?;
        if !allowed {
            return Err(Error::invalid("password", "Too many attempts. Wait a few minutes, then try again."));
        }
        let checked = b.hasher.check(password, record.password_hash.clone()).await?;
        let ok = checked.ok;
        let rehash = super::rehash::prepare(b, &record, password, checked).await?;
        let mut tx = b.store.begin().await?;
        if ok {
            tx.throttle_clear(&key).await?;
            tx.set_session_auth(&session, b.now()).await?;
            super::rehash::store(b, ctx, &mut tx, &record, rehash).await?;
        }
        let mut ev = audit(b, ctx, "reauthenticated", ok);
        ev.target = Some(u.username.clone());
        ev.after = Some(json!({ "method": "password" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        if !ok {
            return Err(Error::invalid("password", "The password is not correct."));
        }
        Ok(())
    } else if !code.trim().is_empty() {
        let key = code_throttle_key(u.id);
        let mut tx = b.store.begin().await?;
        if !tx.throttle_claim(&key, now).await? {
            tx.commit().await?;
            return Err(too_many());
        }
        let method = verify_code(b, &mut tx, u.id, code, now).await?;
        if method.is_some() {
            tx.throttle_clear(&key).await?;
            tx.set_session_auth(&session, now).await?;
        }
        let mut ev = audit(b, ctx, "reauthenticated", method.is_some());
        ev.target = Some(u.username.clone());
        ev.after = Some(json!({ "method": method.unwrap_or("code") }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        if method.is_none() {
            return Err(Error::invalid("code", "That code is not valid."));
        }
        Ok(())
    } else {
        Err(Error::invalid("password", "Enter your password."))
    }
}

/// Requires two-factor authentication of every member of `org`, or (`None`) of everyone.
/// Super admins only; they must have it themselves first (or they would lock themselves out).
pub async fn set_requirement(
    b: &Backend,
    ctx: &Ctx,
    org: Option<crate::domain::ids::OrgId>,
    required: bool,
) -> Result<(), Error> {
    let (_w, mut tx) = super::global_admin_tx(b, ctx, policy::can_manage_orgs).await?;
    if required {
        if let Some(me) = ctx.actor_id() {
            if !tx.user_by_id(me).await?.is_some_and(|u| u.two_factor) {
                return Err(Error::Conflict {
                    field: None,
                    message: "Turn on two-factor authentication for your own account first.".into(),
                });
            }
        }
    }
    let (before, scope) = match org {
        Some(o) => {
            let rec = tx.org(o).await?.ok_or_else(|| Error::not_found("Organization"))?;
            tx.set_org_two_factor(o, required).await?;
            (rec.require_2fa, format!("org:{}", rec.name))
        }
        None => {
            let before = b.store.instance_requires_2fa().await?;
            tx.set_setting("require_2fa", if required { "true" } else { "false" }).await?;
            (before, "instance".to_string())
        }
    };
    // Filed under the organization it is about, or under none for the whole instance.
    let mut ev = super::audit_global(b, ctx, "settings.two_factor_required", true);
    ev.org_id = org;
    ev.target = Some(scope);
    ev.before = Some(json!({ "required": before }));
    ev.after = Some(json!({ "required": required }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn instance_requirement(b: &Backend, ctx: &Ctx) -> Result<bool, Error> {
    policy::can_manage_orgs(ctx.actor()?).map_err(Error::Forbidden)?;
    Ok(b.store.instance_requires_2fa().await?)
}

/// An administrator lifts the sign-in throttle on an account (after a lock-out), audited.
/// The keys that throttle an account's sign-in (password, codes, and failed attempts by its
/// username or email).
fn sign_in_keys(u: &crate::backend::store::UserRecord) -> [String; 4] {
    [
        super::throttles::password_throttle_key(u.id),
        code_throttle_key(u.id),
        format!("name:{}", validate::username_key(&u.username)),
        format!("name:{}", validate::stored_email_key(&u.email, &u.username)),
    ]
}

/// Whether the account's sign-in is held back right now by failed attempts (for whoever may
/// see the account: the page offers "Unlock sign-in" only then).
pub async fn sign_in_locked(b: &Backend, ctx: &Ctx, username: &str) -> Result<bool, Error> {
    super::users::get(b, ctx, username).await?;
    let u =
        b.store.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let now = b.now();
    for key in sign_in_keys(&u) {
        if b.store.throttle_state(&key).await?.is_some_and(|(_, next)| next > now) {
            return Ok(true);
        }
    }
    Ok(false)
}

pub async fn unlock(b: &Backend, ctx: &Ctx, username: &str) -> Result<(), Error> {
    ctx.actor()?;
    let mut tx = b.store.begin().await?;
    let target_rec =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    check_managed(&mut tx, ctx, ctx.org(), &target_rec).await?;
    for key in sign_in_keys(&target_rec) {
        tx.throttle_clear(&key).await?;
    }
    let mut ev = audit(b, ctx, "user.unlocked", true);
    ev.target = Some(target_rec.username.clone());
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}
