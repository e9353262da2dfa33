//! First-run sign-up, sign-in and sign-out.
//! Threats handled: user enumeration (one error and equal work for unknown, wrong, disabled
//! and throttled), online guessing (per-name escalating throttle claimed atomically before any
//! hashing), session fixation (new token at each sign-in, old one ended), and a first-run race
//! (the account count is read in the write transaction that creates the super admin).
use serde_json::json;

use super::throttles::password_throttle_key;
use super::{audit, user_snapshot, Fields};
use crate::backend::access::Change;
use crate::backend::password::check_new;
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{NewSession, UserInsert};
use crate::backend::{Backend, Ctx};
use crate::domain::abilities::AbilitySet;
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId, ADMIN_ROLE, DEFAULT_ORG};
use crate::domain::orgs::OrgRef;
use crate::domain::policy;
use crate::domain::users::{Me, UserStatus};
use crate::domain::validate;

/// A new session: the raw token goes into the cookie and nowhere else.
pub struct SignedIn {
    pub token: String,
    pub me: Me,
}

#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct SignUp {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub password: String,
}

/// Whether self sign-up is open (no account exists yet).
pub async fn sign_up_open(b: &Backend) -> Result<bool, Error> {
    Ok(b.store.user_count().await? == 0)
}

/// Creates the first account as super admin and signs it in. Once any account exists this
/// always fails with `SignUpClosed`, also for two sign-ups racing each other.
pub async fn sign_up(b: &Backend, ctx: &Ctx, input: SignUp) -> Result<SignedIn, Error> {
    if !sign_up_open(b).await? {
        return Err(Error::Forbidden(policy::Denied::SignUpClosed));
    }
    let mut f = Fields::default();
    let username = f.take(validate::username(&input.username));
    let full_name = f.take(validate::full_name(&input.full_name));
    let email = f.take(validate::email(&input.email));
    let context = [input.username.as_str(), validate::email_local(&input.email)];
    let password = f.take(check_new(&b.config.password_policy, "password", &input.password, &context));
    f.finish()?;
    let (Some(username), Some(full_name), Some(email), Some(password)) = (username, full_name, email, password) else {
        return Err(Error::invalid("username", "Invalid input."));
    };
    let hash = b.hasher.hash(password).await?;
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_sign_up(tx.user_count().await?).map_err(Error::Forbidden)?;
    // (and the instance's one-time flag: a unique row, so that only one sign-up can ever claim
    // it even if the count above were read concurrently)
    if !tx.claim_first_sign_up().await? {
        return Err(Error::Forbidden(policy::Denied::SignUpClosed));
    }
    let insert = UserInsert {
        username: username.clone(),
        full_name,
        email,
        password_hash: Some(hash),
        status: UserStatus::Active,
        super_admin: true,
        created_at: now,
    };
    let id = tx.insert_user(&insert).await?;
    tx.add_membership(DEFAULT_ORG, id, ADMIN_ROLE, now).await?;
    let token = new_token();
    let token_hash = hash_token(&token);
    tx.insert_session(&NewSession {
        token_hash: &token_hash,
        user_id: id,
        org_id: DEFAULT_ORG,
        now,
        // (the first account signs up with a password)
        method: "password",
        ip: ctx.ip.as_deref(),
        user_agent: ctx.user_agent.as_deref(),
    })
    .await?;
    tx.record_sign_in(id, now).await?;
    let record =
        tx.user_by_username(&validate::username_key(&username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let mut ev = audit(b, ctx, "user.signed_up", true);
    ev.actor_id = Some(id);
    ev.actor = Some(username.clone());
    ev.target = Some(username);
    ev.after = Some(user_snapshot(&record));
    tx.insert_audit(&ev).await?;
    let version = super::record_change(b, &mut tx, Change::User(id), Default::default()).await?;
    tx.commit().await?;
    b.access.apply(b.store.as_ref(), version, Change::User(id)).await?;
    Ok(SignedIn { token, me: me_of(b, &record, DEFAULT_ORG) })
}

fn me_of(b: &Backend, r: &crate::backend::store::UserRecord, org: OrgId) -> Me {
    me_for(b, r.id, &r.username, &r.full_name, &r.email, r.super_admin, org)
}

/// The signed-in account with its organizations and what it may do in the current one,
/// from the access model (so it follows role changes at once).
pub(crate) fn me_for(
    b: &Backend,
    id: UserId,
    username: &str,
    full_name: &str,
    email: &str,
    super_admin: bool,
    org: OrgId,
) -> Me {
    let m = b.access.read();
    let ids: Vec<OrgId> = if super_admin {
        let mut all: Vec<OrgId> = m.orgs.keys().copied().collect();
        all.sort_by_key(|o| m.orgs.get(o).map(|n| n.to_lowercase()));
        all
    } else {
        m.orgs_of(id)
    };
    let refs: Vec<OrgRef> =
        ids.iter().filter_map(|o| m.orgs.get(o).map(|n| OrgRef { id: o.0, name: n.clone() })).collect();
    let current = refs.iter().find(|r| r.id == org.0).cloned();
    let abilities = match &current {
        Some(c) => m.abilities(Some(id), OrgId(c.id)).1,
        None => AbilitySet::EMPTY,
    };
    Me {
        username: username.to_string(),
        full_name: full_name.to_string(),
        email: email.to_string(),
        super_admin,
        org: current,
        orgs: refs,
        abilities: if super_admin { AbilitySet::all() } else { abilities },
        needs_two_factor: false,
    }
}

/// Where a new session starts: the first organization the account belongs to.
fn first_org(b: &Backend, id: UserId) -> OrgId {
    b.access.read().orgs_of(id).first().copied().unwrap_or(DEFAULT_ORG)
}

/// Password sign-in with a username or an email.
pub async fn sign_in(b: &Backend, ctx: &Ctx, login: &str, password: &str) -> Result<SignInOutcome, Error> {
    let key = login.trim().to_lowercase();
    // Refuse absurd input early: same answer as any failure.
    if key.is_empty() || key.len() > validate::EMAIL_MAX || password.len() > validate::PASSWORD_MAX_BYTES {
        return Err(Error::SignInFailed);
    }
    // 1. Claim an attempt (counted as a failure until it succeeds). Throttled: refuse before
    //    any hashing. The key is the account, whichever name (username or email) was typed;
    //    names with no account are throttled by name, the same way.
    let user = b.store.user_by_login(&key).await?;
    let throttle_key = match &user {
        Some(u) => password_throttle_key(u.id),
        None => format!("name:{key}"),
    };
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let allowed = tx.throttle_claim(&throttle_key, now).await?;
    if !allowed {
        let mut ev = audit(b, ctx, "sign_in", false);
        ev.target = user.map(|u| u.username);
        ev.after = Some(json!({ "reason": "throttled" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        crate::backend::metrics::sign_in("throttled");
        crate::backend::metrics::throttled("password");
        return Err(Error::SignInFailed);
    }
    tx.commit().await?;

    // 2. Verify outside any transaction (argon2 takes tens of milliseconds); a hash imported
    //    from another system is hashed again with argon2id here too.
    let checked = b.hasher.check(password, user.as_ref().and_then(|u| u.password_hash.clone())).await?;
    let ok = checked.ok && user.as_ref().is_some_and(|u| u.status == UserStatus::Active && !u.public);
    let rehash = match &user {
        Some(u) if ok => super::rehash::prepare(b, u, password, checked).await?,
        _ => None,
    };

    let now = b.now();
    let mut tx = b.store.begin().await?;
    let user = match user {
        Some(u) if ok => u,
        other => {
            let mut ev = audit(b, ctx, "sign_in", false);
            // Name the account only if it exists: a typed name may be a mistyped password.
            let reason = match &other {
                Some(u) if u.status != UserStatus::Active => "disabled",
                Some(_) => "bad_credentials",
                None => "unknown_account",
            };
            ev.target = other.map(|u| u.username);
            ev.after = Some(json!({ "reason": reason }));
            tx.insert_audit(&ev).await?;
            tx.commit().await?;
            crate::backend::metrics::sign_in("failed");
            return Err(Error::SignInFailed);
        }
    };
    tx.throttle_clear(&throttle_key).await?;
    super::rehash::store(b, ctx, &mut tx, &user, rehash).await?;
    after_first_factor(b, ctx, tx, &user, now, "password").await
}

/// After a first factor (a password, a single sign-on): when the account has a second
/// factor, no session yet, only a short-lived, single-use challenge that reaches nothing but
/// the second-factor step; otherwise the session. Commits `tx` either way.
pub(crate) async fn after_first_factor(
    b: &Backend,
    ctx: &Ctx,
    mut tx: Box<dyn crate::backend::store::Tx>,
    user: &crate::backend::store::UserRecord,
    now: i64,
    method: &str,
) -> Result<SignInOutcome, Error> {
    let totp = tx.totp(user.id).await?.is_some_and(|t| t.confirmed);
    let passkey = !tx.passkeys_of(user.id).await?.is_empty();
    if totp || passkey {
        let challenge = new_token();
        tx.insert_challenge(&hash_token(&challenge), user.id, now).await?;
        let mut ev = audit(b, ctx, "sign_in.password_accepted", true);
        ev.actor_id = Some(user.id);
        ev.actor = Some(user.username.clone());
        ev.target = Some(user.username.clone());
        ev.after = Some(json!({ "method": method, "next": "second_factor" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        crate::backend::metrics::sign_in("second_factor_required");
        return Ok(SignInOutcome::SecondFactor { challenge, totp, passkey });
    }
    let signed_in = start_session(b, ctx, &mut tx, user, now, method).await?;
    tx.commit().await?;
    Ok(SignInOutcome::Done(signed_in))
}

/// What a correct password leads to.
pub enum SignInOutcome {
    Done(SignedIn),
    /// The raw challenge token goes into its own short-lived cookie; the flags say which
    /// second factors the account has.
    SecondFactor {
        challenge: String,
        totp: bool,
        passkey: bool,
    },
}

/// Opens a session in `tx` (ending the browser's previous one: no fixation) and audits the
/// sign-in.
pub(crate) async fn start_session(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn crate::backend::store::Tx>,
    user: &crate::backend::store::UserRecord,
    now: i64,
    method: &str,
) -> Result<SignedIn, Error> {
    if let Some(old) = &ctx.session {
        tx.delete_session(old).await?;
    }
    let token = new_token();
    let token_hash = hash_token(&token);
    let org = first_org(b, user.id);
    tx.insert_session(&NewSession {
        token_hash: &token_hash,
        user_id: user.id,
        org_id: org,
        now,
        method,
        ip: ctx.ip.as_deref(),
        user_agent: ctx.user_agent.as_deref(),
    })
    .await?;
    tx.record_sign_in(user.id, now).await?;
    let mut ev = audit(b, ctx, "sign_in", true);
    ev.actor_id = Some(user.id);
    ev.actor = Some(user.username.clone());
    ev.target = Some(user.username.clone());
    ev.after = Some(json!({ "method": method }));
    tx.insert_audit(&ev).await?;
    // (every method ends here; counted before the caller's commit, which fails only when the
    // database does, and then the request answers an error anyway)
    crate::backend::metrics::sign_in("success");
    Ok(SignedIn { token, me: me_of(b, user, org) })
}

/// The account a valid (unexpired) second-factor challenge belongs to.
pub(crate) async fn challenged_user(b: &Backend, ctx: &Ctx) -> Result<UserId, Error> {
    let expired = || Error::invalid("code", "This sign-in has expired. Start again with your password.");
    let challenge = ctx.challenge.clone().ok_or_else(expired)?;
    let mut tx = b.store.begin().await?;
    let found = tx.challenge(&challenge).await?;
    tx.commit().await?;
    match found {
        Some((user, created)) if b.now() - created <= b.config.mfa_challenge_ms => Ok(user),
        _ => Err(expired()),
    }
}

/// The second step still due in this browser (after a single sign-on, which lands on the
/// sign-in page by a redirect): which factors the challenged account has.
pub async fn pending_second_factor(b: &Backend, ctx: &Ctx) -> Result<Option<(bool, bool)>, Error> {
    let Ok(user) = challenged_user(b, ctx).await else { return Ok(None) };
    let totp = b.store.two_factor_of(user).await?.0;
    let passkey = !b.store.passkeys_of(user).await?.is_empty();
    Ok(Some((totp, passkey)))
}

/// The second step: a TOTP or recovery code for the challenge in the browser's cookie.
/// One write transaction checks the challenge and the throttle, consumes the code and
/// opens the session, so two submissions of one code cannot both succeed.
pub async fn second_factor(b: &Backend, ctx: &Ctx, code: &str) -> Result<SignedIn, Error> {
    let expired = || Error::invalid("code", "This sign-in has expired. Start again with your password.");
    let Some(challenge) = ctx.challenge.clone() else { return Err(expired()) };
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let Some((user_id, created)) = tx.challenge(&challenge).await? else { return Err(expired()) };
    if now - created > b.config.mfa_challenge_ms {
        tx.delete_challenge(&challenge).await?;
        tx.commit().await?;
        return Err(expired());
    }
    let user = match tx.user_by_id(user_id).await? {
        Some(u) if u.status == UserStatus::Active && !u.public => u,
        _ => return Err(expired()),
    };
    let key = super::throttles::code_throttle_key(user.id);
    if !tx.throttle_claim(&key, now).await? {
        let mut ev = audit(b, ctx, "sign_in", false);
        ev.target = Some(user.username.clone());
        ev.after = Some(json!({ "reason": "throttled", "step": "second_factor" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        return Err(super::security::too_many());
    }
    let Some(method) = super::security::verify_code(b, &mut tx, user.id, code, now).await? else {
        let mut ev = audit(b, ctx, "sign_in", false);
        ev.target = Some(user.username.clone());
        ev.after = Some(json!({ "reason": "bad_second_factor" }));
        tx.insert_audit(&ev).await?;
        tx.commit().await?;
        return Err(Error::invalid("code", "That code is not valid."));
    };
    if !tx.delete_challenge(&challenge).await? {
        return Err(expired());
    }
    tx.throttle_clear(&key).await?;
    if method == "recovery_code" {
        let left = tx.recovery_codes_left(user.id).await?;
        let mut ev = audit(b, ctx, "2fa.recovery_code_used", true);
        ev.actor_id = Some(user.id);
        ev.actor = Some(user.username.clone());
        ev.target = Some(user.username.clone());
        ev.after = Some(json!({ "recovery_codes_left": left }));
        tx.insert_audit(&ev).await?;
    }
    let signed_in = start_session(b, ctx, &mut tx, &user, now, method).await?;
    tx.commit().await?;
    Ok(signed_in)
}

/// Ends the current session server-side.
pub async fn sign_out(b: &Backend, ctx: &Ctx) -> Result<(), Error> {
    let Some(hash) = &ctx.session else { return Ok(()) };
    let mut tx = b.store.begin().await?;
    tx.delete_session(hash).await?;
    let mut ev = audit(b, ctx, "sign_out", true);
    ev.target = ctx.actor_name();
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

pub fn me(b: &Backend, ctx: &Ctx) -> Option<Me> {
    match &ctx.caller {
        crate::backend::Caller::User(u) => {
            let mut me = me_for(b, u.id, &u.username, &u.full_name, &u.email, u.super_admin, u.org);
            me.needs_two_factor = u.needs_two_factor;
            if u.needs_two_factor {
                me.abilities = AbilitySet::EMPTY;
            }
            if u.token.is_some() {
                let owner_sa = b.access.read().abilities(Some(u.id), u.org).0;
                me.abilities = u.narrow(owner_sa, me.abilities).1;
            }
            Some(me)
        }
        _ => None,
    }
}

/// Makes `org` the session's current organization (a member's, or any for super admins).
pub async fn switch_org(b: &Backend, ctx: &Ctx, org: i64) -> Result<Me, Error> {
    let u = ctx.user()?;
    let org = OrgId(org);
    let allowed = {
        let m = b.access.read();
        m.orgs.contains_key(&org) && (u.super_admin || m.is_member(u.id, org))
    };
    if !allowed {
        return Err(Error::not_found("Organization"));
    }
    let Some(hash) = &ctx.session else { return Err(Error::Unauthenticated) };
    let mut tx = b.store.begin().await?;
    tx.set_session_org(hash, org).await?;
    tx.commit().await?;
    Ok(me_for(b, u.id, &u.username, &u.full_name, &u.email, u.super_admin, org))
}
