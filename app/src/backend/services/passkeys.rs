//! Passkeys (WebAuthn): registration from the profile, sign-in without a password
//! (discoverable credentials), and use as the second factor after a password. Threats:
//! replayed or forged assertions (server-side, single-use ceremony state that expires in
//! minutes; origin and RP id checked by webauthn-rs against the configured public URL; user
//! verification required), cloned authenticators (the signature counter is stored after
//! every use and a regression is refused and audited), a credential moved to another account
//! (credential ids are unique across accounts), and lock-out (the last way to sign in cannot
//! be removed; removing any factor needs sudo mode).
use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Uuid, WebauthnError,
};
use webauthn_rs_proto::{AuthenticatorSelectionCriteria, ResidentKeyRequirement, UserVerificationPolicy};

use super::auth::{start_session, SignedIn};
use super::{audit, sudo_credentials, validate_name};
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{CeremonyRecord, PasskeyRecord, Tx};
use crate::backend::{internal, Backend, Ctx};
use crate::domain::error::Error;
use crate::domain::ids::UserId;
use crate::domain::passkeys::{PasskeyChallenge, PasskeyInfo};
use crate::domain::users::UserStatus;

/// How long the browser has between "start" and "finish".
const CEREMONY_MS: i64 = 5 * 60_000;

pub(super) fn relying_party(b: &Backend) -> Result<&webauthn_rs::Webauthn, Error> {
    b.webauthn.as_deref().ok_or_else(|| Error::Conflict {
        field: None,
        message: "Passkeys are not available here: the administrator has to set Roster's public URL (--public-url)."
            .into(),
    })
}

fn refused() -> Error {
    Error::invalid("passkey", "That passkey was not accepted. Try again, or use another way to sign in.")
}

pub(super) fn expired() -> Error {
    Error::invalid("passkey", "This passkey request has expired. Start again.")
}

fn parse_passkey(r: &PasskeyRecord) -> Result<Passkey, Error> {
    serde_json::from_str(&r.passkey).map_err(internal)
}

pub(super) async fn start(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    purpose: &str,
    user: Option<UserId>,
    label: &str,
    state: String,
    options: String,
) -> Result<PasskeyChallenge, Error> {
    let ceremony = new_token();
    let record =
        CeremonyRecord { purpose: purpose.into(), user_id: user, label: label.into(), state, created_at: b.now() };
    tx.insert_ceremony(&hash_token(&ceremony), &record, record.created_at - CEREMONY_MS).await?;
    Ok(PasskeyChallenge { ceremony, options })
}

/// Takes (single-use) a ceremony of `purpose` that has not expired.
pub(super) async fn take(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    ceremony: &str,
    purpose: &str,
) -> Result<CeremonyRecord, Error> {
    match tx.take_ceremony(&hash_token(ceremony)).await? {
        Some(c) if c.purpose == purpose && b.now() - c.created_at <= CEREMONY_MS => Ok(c),
        _ => Err(expired()),
    }
}

pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<PasskeyInfo>, Error> {
    let u = ctx.user()?;
    Ok(b.store.passkeys_of(u.id).await?.iter().map(PasskeyRecord::to_info).collect())
}

/// Starts adding a passkey named `name` to the signed-in account (sudo mode).
pub async fn begin_registration(b: &Backend, ctx: &Ctx, name: &str) -> Result<PasskeyChallenge, Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let name = validate_name("name", "passkey", name)?;
    let rp = relying_party(b)?;
    let mut tx = b.store.begin().await?;
    let handle = match tx.webauthn_handle(u.id).await? {
        Some(h) => h,
        None => {
            let h = new_handle().as_bytes().to_vec();
            tx.set_webauthn_handle(u.id, &h).await?;
            h
        }
    };
    let handle = Uuid::from_slice(&handle).map_err(internal)?;
    let existing = tx.passkeys_of(u.id).await?;
    let exclude =
        existing.iter().map(|r| parse_passkey(r).map(|p| p.cred_id().clone())).collect::<Result<Vec<_>, _>>()?;
    let (state, options) = registration(rp, handle, &u.username, &u.full_name, exclude)?;
    let challenge = start(b, &mut tx, "register", Some(u.id), &name, state, options).await?;
    tx.commit().await?;
    Ok(challenge)
}

/// The options of a passkey registration for the account `username` (handle `handle`) and
/// its state to keep on the server, both as JSON.
pub(super) fn registration(
    rp: &webauthn_rs::Webauthn,
    handle: Uuid,
    username: &str,
    full_name: &str,
    exclude: Vec<webauthn_rs::prelude::CredentialID>,
) -> Result<(String, String), Error> {
    let display = if full_name.is_empty() { username } else { full_name };
    let (mut ccr, state) = rp.start_passkey_registration(handle, username, display, Some(exclude)).map_err(internal)?;
    // A passkey proper: discoverable, so it can sign in without a username.
    ccr.public_key.authenticator_selection = Some(AuthenticatorSelectionCriteria {
        authenticator_attachment: None,
        resident_key: Some(ResidentKeyRequirement::Required),
        require_resident_key: true,
        user_verification: UserVerificationPolicy::Required,
    });
    Ok((serde_json::to_string(&state).map_err(internal)?, serde_json::to_string(&ccr).map_err(internal)?))
}

/// Checks the browser's answer to a registration; the reason when it is refused.
pub(super) fn verify_registration(
    rp: &webauthn_rs::Webauthn,
    state: &str,
    credential: &str,
) -> Result<Result<Passkey, String>, Error> {
    let state: PasskeyRegistration = serde_json::from_str(state).map_err(internal)?;
    Ok(serde_json::from_str::<RegisterPublicKeyCredential>(credential)
        .map_err(|e| e.to_string())
        .and_then(|reg| rp.finish_passkey_registration(&reg, &state).map_err(|e| e.to_string())))
}

/// Finishes adding a passkey with the browser's answer (`PublicKeyCredential.toJSON()`).
pub async fn finish_registration(
    b: &Backend,
    ctx: &Ctx,
    ceremony: &str,
    credential: &str,
) -> Result<PasskeyInfo, Error> {
    let u = ctx.user()?.clone();
    let rp = relying_party(b)?;
    let mut tx = b.store.begin().await?;
    let c = take(b, &mut tx, ceremony, "register").await?;
    if c.user_id != Some(u.id) {
        return Err(expired());
    }
    let passkey = match verify_registration(rp, &c.state, credential)? {
        Ok(p) => p,
        Err(reason) => {
            let mut ev = audit(b, ctx, "passkey.added", false);
            ev.target = Some(u.username.clone());
            ev.after = Some(json!({ "reason": reason }));
            tx.insert_audit(&ev).await?;
            tx.commit().await?;
            return Err(Error::invalid("passkey", "The passkey could not be verified. Try again."));
        }
    };
    let now = b.now();
    let id = store_passkey(&mut tx, u.id, &c.label, &passkey, now).await?;
    let mut ev = audit(b, ctx, "passkey.added", true);
    ev.target = Some(u.username.clone());
    ev.after = Some(json!({ "id": id, "name": c.label }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(PasskeyInfo { id, name: c.label, created_at: now, last_used_at: None })
}

/// Stores a verified passkey of `user` (and its 2FA flag); a credential registered already
/// (to any account) is refused.
pub(super) async fn store_passkey(
    tx: &mut Box<dyn Tx>,
    user: UserId,
    name: &str,
    passkey: &Passkey,
    now: i64,
) -> Result<i64, Error> {
    let json = serde_json::to_string(passkey).map_err(internal)?;
    let id = match tx.insert_passkey(user, name, passkey.cred_id().as_ref(), &json, now).await {
        Ok(id) => id,
        Err(crate::backend::store::StoreError::Conflict { .. }) => {
            return Err(Error::Conflict {
                field: Some("passkey".into()),
                message: "This passkey is already registered.".into(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    tx.refresh_two_factor(user).await?;
    Ok(id)
}

/// A new user handle (WebAuthn's opaque, random account id).
pub(super) fn new_handle() -> Uuid {
    Uuid::from_bytes(rand::random::<[u8; 16]>())
}

pub async fn rename(b: &Backend, ctx: &Ctx, id: i64, name: &str) -> Result<(), Error> {
    let u = ctx.user()?.clone();
    let name = validate_name("name", "passkey", name)?;
    let mut tx = b.store.begin().await?;
    let before =
        tx.passkeys_of(u.id).await?.into_iter().find(|p| p.id == id).ok_or_else(|| Error::not_found("Passkey"))?;
    tx.rename_passkey(id, &name).await?;
    let mut ev = audit(b, ctx, "passkey.renamed", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "id": id, "name": before.name }));
    ev.after = Some(json!({ "id": id, "name": name }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a passkey (sudo mode). The account must keep a way in: a password, TOTP or
/// another passkey.
pub async fn delete(b: &Backend, ctx: &Ctx, id: i64) -> Result<(), Error> {
    let u = ctx.user()?.clone();
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    let all = tx.passkeys_of(u.id).await?;
    let target = all.iter().find(|p| p.id == id).ok_or_else(|| Error::not_found("Passkey"))?;
    let record = tx.user_by_id(u.id).await?.ok_or(Error::Unauthenticated)?;
    let totp = tx.totp(u.id).await?.is_some_and(|t| t.confirmed);
    let linked = !tx.sso_links_of(u.id).await?.is_empty();
    if all.len() == 1 && record.password_hash.is_none() && !totp && !linked {
        return Err(Error::Conflict {
            field: None,
            message: "This passkey is your only way to sign in: set a password or add another passkey first.".into(),
        });
    }
    tx.delete_passkey(id).await?;
    tx.refresh_two_factor(u.id).await?;
    let mut ev = audit(b, ctx, "passkey.removed", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "id": id, "name": target.name }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Sign-in with a passkey, no username: the browser offers the passkeys it has for us.
pub async fn begin_sign_in(b: &Backend, _ctx: &Ctx) -> Result<PasskeyChallenge, Error> {
    let rp = relying_party(b)?;
    let (rcr, state) = rp.start_discoverable_authentication().map_err(internal)?;
    let state = serde_json::to_string(&state).map_err(internal)?;
    let options = serde_json::to_string(&rcr).map_err(internal)?;
    let mut tx = b.store.begin().await?;
    let challenge = start(b, &mut tx, "sign_in", None, "", state, options).await?;
    tx.commit().await?;
    Ok(challenge)
}

/// Verifies an assertion for `user`'s passkeys; on success stores the updated counter.
/// A counter that went backwards (a cloned authenticator) is refused and audited.
async fn verify_assertion(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    username: &str,
    records: &[PasskeyRecord],
    cred: &PublicKeyCredential,
    check: impl FnOnce(&[Passkey]) -> Result<webauthn_rs::prelude::AuthenticationResult, WebauthnError>,
) -> Result<bool, Error> {
    let passkeys = records.iter().map(parse_passkey).collect::<Result<Vec<_>, _>>()?;
    match check(&passkeys) {
        Ok(result) => {
            let now = b.now();
            for (r, mut p) in records.iter().zip(passkeys) {
                if p.cred_id() == result.cred_id() {
                    p.update_credential(&result);
                    tx.update_passkey(r.id, &serde_json::to_string(&p).map_err(internal)?, now).await?;
                }
            }
            Ok(true)
        }
        Err(e) => {
            let clone = matches!(e, WebauthnError::CredentialPossibleCompromise);
            let mut ev = audit(b, ctx, if clone { "passkey.counter_regression" } else { "sign_in" }, false);
            ev.target = Some(username.to_string());
            ev.after = Some(
                json!({ "method": "passkey", "reason": if clone { "counter_regression".to_string() } else { e.to_string() }, "credential": cred.id }),
            );
            tx.insert_audit(&ev).await?;
            Ok(false)
        }
    }
}

pub async fn finish_sign_in(b: &Backend, ctx: &Ctx, ceremony: &str, credential: &str) -> Result<SignedIn, Error> {
    let rp = relying_party(b)?;
    let mut tx = b.store.begin().await?;
    let c = take(b, &mut tx, ceremony, "sign_in").await;
    let c = match c {
        Ok(c) => c,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    let state: DiscoverableAuthentication = serde_json::from_str(&c.state).map_err(internal)?;
    let Ok(cred) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        tx.commit().await?;
        return Err(refused());
    };
    let user = match rp.identify_discoverable_authentication(&cred) {
        Ok((handle, _)) => match tx.user_by_webauthn_handle(handle.as_bytes()).await? {
            Some(id) => tx.user_by_id(id).await?,
            None => None,
        },
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.status == UserStatus::Active && !u.public) else {
        let mut ev = audit(b, ctx, "sign_in", false);
        ev.after = Some(json!({ "method": "passkey", "reason": "unknown_passkey" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        return Err(refused());
    };
    let records = tx.passkeys_of(user.id).await?;
    let ok = verify_assertion(b, ctx, &mut tx, &user.username, &records, &cred, |pks| {
        let keys: Vec<DiscoverableKey> = pks.iter().map(DiscoverableKey::from).collect();
        rp.finish_discoverable_authentication(&cred, state, &keys)
    })
    .await?;
    if !ok {
        tx.commit().await?;
        return Err(refused());
    }
    let signed_in = start_session(b, ctx, &mut tx, &user, b.now(), "passkey").await?;
    tx.commit().await?;
    Ok(signed_in)
}

/// The second step after a password, with a passkey instead of a code.
pub async fn begin_second_factor(b: &Backend, ctx: &Ctx) -> Result<PasskeyChallenge, Error> {
    let rp = relying_party(b)?;
    let user = super::auth::challenged_user(b, ctx).await?;
    let mut tx = b.store.begin().await?;
    let records = tx.passkeys_of(user).await?;
    if records.is_empty() {
        return Err(Error::invalid("passkey", "This account has no passkey. Enter a code instead."));
    }
    let passkeys = records.iter().map(parse_passkey).collect::<Result<Vec<_>, _>>()?;
    let (rcr, state) = rp.start_passkey_authentication(&passkeys).map_err(internal)?;
    let state = serde_json::to_string(&state).map_err(internal)?;
    let options = serde_json::to_string(&rcr).map_err(internal)?;
    let challenge = start(b, &mut tx, "second_factor", Some(user), "", state, options).await?;
    tx.commit().await?;
    Ok(challenge)
}

pub async fn finish_second_factor(b: &Backend, ctx: &Ctx, ceremony: &str, credential: &str) -> Result<SignedIn, Error> {
    let rp = relying_party(b)?;
    let challenge = ctx.challenge.clone().ok_or_else(expired)?;
    let mut tx = b.store.begin().await?;
    let c = match take(b, &mut tx, ceremony, "second_factor").await {
        Ok(c) => c,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    let now = b.now();
    let user = match tx.challenge(&challenge).await? {
        Some((id, created)) if Some(id) == c.user_id && now - created <= b.config.mfa_challenge_ms => {
            tx.user_by_id(id).await?
        }
        _ => None,
    };
    let Some(user) = user.filter(|u| u.status == UserStatus::Active && !u.public) else {
        tx.commit().await?;
        return Err(expired());
    };
    let state: PasskeyAuthentication = serde_json::from_str(&c.state).map_err(internal)?;
    let Ok(cred) = serde_json::from_str::<PublicKeyCredential>(credential) else {
        tx.commit().await?;
        return Err(refused());
    };
    let records = tx.passkeys_of(user.id).await?;
    let ok = verify_assertion(b, ctx, &mut tx, &user.username, &records, &cred, |_| {
        rp.finish_passkey_authentication(&cred, &state)
    })
    .await?;
    if !ok || !tx.delete_challenge(&challenge).await? {
        tx.commit().await?;
        return Err(refused());
    }
    tx.throttle_clear(&super::throttles::code_throttle_key(user.id)).await?;
    let signed_in = start_session(b, ctx, &mut tx, &user, now, "password+passkey").await?;
    tx.commit().await?;
    Ok(signed_in)
}
