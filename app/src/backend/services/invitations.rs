//! Invitation links: an organization admin invites an email address with a role (never more
//! than they may grant); the link is single-use, expires, and is stored only as a hash.
//! Opening it only shows a page (`preview`: mail scanners open links); the page's form
//! consumes it (`accept_new` creates the account and signs it in, `accept_existing` adds the
//! signed-in account), checking again that the inviter may still grant the role. Mailed over
//! SMTP when configured (after the commit), else the admin copies the link.
use serde_json::json;

use super::{actor_in, audit, record_change, sudo_grants, user_snapshot, Fields};
use crate::backend::access::Change;
use crate::backend::password::check_new;
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{InvitationRecord, NewSession, Tx, UserInsert};
use crate::backend::{mail, Backend, Caller, Ctx};
use crate::domain::abilities::AbilitySet;
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, RoleId};
use crate::domain::invitations::{
    Invitation, InvitationLink, InvitationPreview, InvitationStatus, DEFAULT_DAYS, LISTED, MAX_DAYS,
};
use crate::domain::policy::{self, Actor, Denied};
use crate::domain::users::UserStatus;
use crate::domain::validate;

/// Who invited, when an invitation was made from the command line (no account to check
/// again at acceptance: the operator is trusted, as everywhere in the CLI).
pub const CLI_INVITER: &str = "the command line";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn describe(r: &InvitationRecord, now: i64) -> Invitation {
    Invitation {
        id: r.id,
        email: r.email.clone(),
        org: r.org_name.clone(),
        role: r.role_name.clone(),
        abilities: r.abilities,
        invited_by: r.invited_by_name.clone(),
        created_at: r.created_at,
        expires_at: r.expires_at,
        status: InvitationStatus::of(r.accepted_at, r.revoked_at, r.expires_at, now),
        accepted_by: r.accepted_by.clone(),
    }
}

/// The path of an invitation's page; the whole link when the public URL is known.
fn link_of(b: &Backend, token: &str) -> String {
    format!("{}/invite/{token}", super::provider::issuer(b).unwrap_or_default())
}

/// Mails the link when SMTP is configured (and a public URL makes the link whole); else says
/// why not, and the inviter gets the link to pass on.
async fn deliver(b: &Backend, inv: Invitation, token: &str) -> InvitationLink {
    let link = link_of(b, token);
    let outcome = if !mail::configured(&b.config) {
        Err("Mail is not configured (--smtp-url): copy the link and send it yourself.".to_string())
    } else if super::provider::issuer(b).is_none() {
        Err("Mail needs Roster's public URL (--public-url) to write a whole link: copy the link instead.".to_string())
    } else {
        let body = format!(
            "{} invited you to join {} on Roster as {}.\n\nOpen this link to accept (it works once, until {}):\n\n{link}\n\n\
             If you did not expect this invitation, ignore this message.\n",
            inv.invited_by,
            inv.org,
            inv.role,
            crate::domain::users::format_time(inv.expires_at)
        );
        mail::send(&b.config, &inv.email, &format!("You are invited to {} on Roster", inv.org), body)
            .await
            .map_err(|e| format!("The invitation mail was not sent: {e}. Copy the link instead."))
    };
    match outcome {
        Ok(()) => InvitationLink { invitation: inv, link: None, emailed: true, delivery: None },
        Err(why) => InvitationLink { invitation: inv, link: Some(link), emailed: false, delivery: Some(why) },
    }
}

fn days_of(days: Option<i64>) -> Result<i64, Error> {
    let d = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&d) {
        return Err(Error::invalid("days", format!("An invitation lives 1 to {MAX_DAYS} days.")));
    }
    Ok(d)
}

/// The caller's name as the inviter.
fn inviter(ctx: &Ctx) -> (Option<crate::domain::ids::UserId>, String) {
    match &ctx.caller {
        Caller::User(u) => (Some(u.id), u.username.clone()),
        _ => (None, CLI_INVITER.to_string()),
    }
}

/// Invites `email` into `org` with `role` and `extras`, for `days` (default 7).
pub async fn create(
    b: &Backend,
    ctx: &Ctx,
    org: OrgId,
    email: &str,
    role: RoleId,
    extras: AbilitySet,
    days: Option<i64>,
) -> Result<InvitationLink, Error> {
    ctx.actor()?;
    sudo_grants(b, ctx)?;
    let email = validate::email(email).map_err(|e| Error::Invalid { errors: vec![e] })?;
    let days = days_of(days)?;
    let now = b.now();
    let token = new_token();
    let mut tx = b.store.begin().await?;
    let org_rec = tx.org(org).await?.ok_or_else(|| Error::not_found("Organization"))?;
    let role_rec = tx.role(role).await?.ok_or_else(|| Error::invalid("role", "There is no such role."))?;
    let actor = actor_in(&mut tx, ctx, org).await?;
    policy::can_invite(actor, role_rec.abilities.union(extras)).map_err(Error::Forbidden)?;
    let (invited_by, invited_by_name) = inviter(ctx);
    let mut rec = InvitationRecord {
        id: 0,
        org,
        email: email.clone(),
        role,
        abilities: extras,
        invited_by,
        invited_by_name,
        created_at: now,
        expires_at: now + days * DAY_MS,
        accepted_at: None,
        accepted_user: None,
        revoked_at: None,
        org_name: org_rec.name.clone(),
        role_name: role_rec.name.clone(),
        accepted_by: None,
    };
    rec.id = tx.insert_invitation(&rec, &hash_token(&token)).await?;
    let mut ev = audit(b, ctx, "invite.created", true);
    ev.org_id = Some(org);
    ev.target = Some(email.clone());
    ev.after = Some(json!({
        "invitation_id": rec.id, "org": org_rec.name, "role": role_rec.name, "extras": extras.codes(),
        "expires_at": rec.expires_at,
    }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(deliver(b, describe(&rec, now), &token).await)
}

/// An organization's most recent invitations, newest first.
pub async fn list(b: &Backend, ctx: &Ctx, org: OrgId) -> Result<Vec<Invitation>, Error> {
    policy::can_manage_invitations(ctx.reader(b, org)?).map_err(Error::Forbidden)?;
    let now = b.now();
    Ok(b.store.invitations(org, LISTED).await?.iter().map(|r| describe(r, now)).collect())
}

async fn managed(tx: &mut Box<dyn Tx>, ctx: &Ctx, org: OrgId, id: i64) -> Result<InvitationRecord, Error> {
    let actor = actor_in(tx, ctx, org).await?;
    policy::can_manage_invitations(actor).map_err(Error::Forbidden)?;
    tx.invitation(org, id).await?.ok_or_else(|| Error::not_found("Invitation"))
}

/// Withdraws a pending invitation: its link stops working at once.
pub async fn revoke(b: &Backend, ctx: &Ctx, org: OrgId, id: i64) -> Result<Invitation, Error> {
    ctx.actor()?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let rec = managed(&mut tx, ctx, org, id).await?;
    if !tx.revoke_invitation(rec.id, now).await? {
        return Err(Error::Conflict {
            field: None,
            message: format!("The invitation of {} is {} already.", rec.email, describe(&rec, now).status.as_str()),
        });
    }
    let mut ev = audit(b, ctx, "invite.revoked", true);
    ev.org_id = Some(org);
    ev.target = Some(rec.email.clone());
    ev.before = Some(json!({ "invitation_id": rec.id }));
    tx.insert_audit(&ev).await?;
    let after = tx.invitation(org, id).await?.ok_or_else(|| Error::not_found("Invitation"))?;
    tx.commit().await?;
    Ok(describe(&after, now))
}

/// A new link for a pending or expired invitation (the old one stops working), mailed again
/// or shown; the grant is checked again with what the caller holds now.
pub async fn resend(b: &Backend, ctx: &Ctx, org: OrgId, id: i64, days: Option<i64>) -> Result<InvitationLink, Error> {
    ctx.actor()?;
    sudo_grants(b, ctx)?;
    let days = days_of(days)?;
    let now = b.now();
    let token = new_token();
    let mut tx = b.store.begin().await?;
    let rec = managed(&mut tx, ctx, org, id).await?;
    let role = tx.role(rec.role).await?.ok_or_else(|| Error::not_found("Role"))?;
    policy::can_invite(actor_in(&mut tx, ctx, org).await?, role.abilities.union(rec.abilities))
        .map_err(Error::Forbidden)?;
    if !tx.renew_invitation(rec.id, &hash_token(&token), now + days * DAY_MS).await? {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "The invitation of {} was {} already: invite again.",
                rec.email,
                describe(&rec, now).status.as_str()
            ),
        });
    }
    let mut ev = audit(b, ctx, "invite.resent", true);
    ev.org_id = Some(org);
    ev.target = Some(rec.email.clone());
    ev.after = Some(json!({ "invitation_id": rec.id, "expires_at": now + days * DAY_MS }));
    tx.insert_audit(&ev).await?;
    let after = tx.invitation(org, id).await?.ok_or_else(|| Error::not_found("Invitation"))?;
    tx.commit().await?;
    Ok(deliver(b, describe(&after, now), &token).await)
}

fn unknown() -> Error {
    Error::NotFound { what: "Invitation (check that the whole link was copied)".into() }
}

/// Checks, before a single sign-on starts from an invitation page, that the invitation can
/// be used; the SHA-256 of its token for the flow to keep.
pub async fn check_for_sign_on(b: &Backend, token: &str) -> Result<Vec<u8>, Error> {
    let hash = hash_token(token.trim());
    let rec = b.store.invitation_by_token(&hash).await?.ok_or_else(unknown)?;
    match preview_of(&rec, b.now(), None).refusal() {
        Some(message) => Err(Error::Gone { message }),
        None => Ok(hash),
    }
}

/// What the invitation page shows. Changes nothing (mail scanners and previews open links).
pub async fn preview(b: &Backend, ctx: &Ctx, token: &str) -> Result<InvitationPreview, Error> {
    let rec = b.store.invitation_by_token(&hash_token(token.trim())).await?.ok_or_else(unknown)?;
    let signed_in_as = match &ctx.caller {
        Caller::User(u) => Some(u.username.clone()),
        _ => None,
    };
    let mut p = preview_of(&rec, b.now(), signed_in_as);
    p.passkeys = b.webauthn.is_some();
    p.sso = super::sso::buttons(b).await?;
    Ok(p)
}

fn preview_of(rec: &InvitationRecord, now: i64, signed_in_as: Option<String>) -> InvitationPreview {
    InvitationPreview {
        org: rec.org_name.clone(),
        role: rec.role_name.clone(),
        email: rec.email.clone(),
        invited_by: rec.invited_by_name.clone(),
        expires_at: rec.expires_at,
        status: InvitationStatus::of(rec.accepted_at, rec.revoked_at, rec.expires_at, now),
        signed_in_as,
        passkeys: false,
        sso: Vec::new(),
    }
}

/// The invitation behind `token`, still usable, with the inviter still allowed to grant its
/// role there (they may have lost the right since).
async fn usable(b: &Backend, tx: &mut Box<dyn Tx>, token: &str) -> Result<InvitationRecord, Error> {
    usable_by_hash(b, tx, &hash_token(token.trim())).await
}

/// `usable`, by the SHA-256 of the token (what a single sign-on flow keeps).
pub(super) async fn usable_by_hash(
    b: &Backend,
    tx: &mut Box<dyn Tx>,
    token_hash: &[u8],
) -> Result<InvitationRecord, Error> {
    let rec = tx.invitation_by_token(token_hash).await?.ok_or_else(unknown)?;
    if let Some(message) = preview_of(&rec, b.now(), None).refusal() {
        return Err(Error::Gone { message });
    }
    let role = tx.role(rec.role).await?.ok_or_else(|| Error::not_found("Role"))?;
    let granted = role.abilities.union(rec.abilities);
    match rec.invited_by {
        Some(inviter) => {
            let (super_admin, abilities) =
                tx.actor_facts(inviter, rec.org).await?.ok_or(Error::Forbidden(Denied::GrantExceedsOwn))?;
            policy::can_invite(Some(Actor { id: inviter, super_admin, abilities }), granted)
                .map_err(Error::Forbidden)?;
        }
        // (the inviter's account is gone: nobody vouches for the grant any more)
        None if rec.invited_by_name != CLI_INVITER => return Err(Error::Forbidden(Denied::GrantExceedsOwn)),
        None => {}
    }
    Ok(rec)
}

/// What an invitee types to create their account.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct NewAccount {
    pub username: String,
    pub full_name: String,
    pub password: String,
}

/// Checks what an invitee typed for a new account: a username and a full name.
fn names_of(username: &str, full_name: &str, f: &mut Fields) -> (Option<String>, Option<String>) {
    (f.take(validate::username(username)), f.take(validate::full_name(full_name)))
}

/// The account an invitee makes: checked names, and a password hash unless it signs in
/// otherwise (a passkey, single sign-on).
pub(super) struct Invitee {
    pub username: String,
    pub full_name: String,
    pub password_hash: Option<String>,
}

/// Creates the invited account in `tx` (the invitation's email; `password_hash` or none for
/// an account that signs in with a passkey), uses the invitation, places the account in the
/// organization and opens its session there. Exactly one of several parallel acceptances gets
/// this far: the invitation is taken by one conditional UPDATE.
pub(super) async fn open_account(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    rec: &InvitationRecord,
    who: Invitee,
    method: &str,
) -> Result<(crate::backend::store::UserRecord, String), Error> {
    let now = b.now();
    let username = who.username.as_str();
    let id = tx
        .insert_user(&UserInsert {
            username: username.to_string(),
            full_name: who.full_name,
            email: rec.email.clone(),
            password_hash: who.password_hash,
            status: UserStatus::Active,
            super_admin: false,
            created_at: now,
        })
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict { field, .. } if field.as_deref() == Some("email") => email_taken(&rec.email),
            Error::Conflict { .. } => username_taken(username),
            other => other,
        })?;
    if !tx.consume_invitation(rec.id, id, now).await? {
        return Err(Error::Gone { message: "This invitation has been used already.".into() });
    }
    tx.add_membership(rec.org, id, rec.role, now).await?;
    tx.set_member_extras(rec.org, id, rec.abilities).await?;
    if let Some(old) = &ctx.session {
        tx.delete_session(old).await?;
    }
    let session = new_token();
    tx.insert_session(&NewSession {
        token_hash: &hash_token(&session),
        user_id: id,
        org_id: rec.org,
        now,
        method,
        ip: ctx.ip.as_deref(),
        user_agent: ctx.user_agent.as_deref(),
    })
    .await?;
    tx.record_sign_in(id, now).await?;
    let record = tx.user_by_id(id).await?.ok_or_else(|| Error::not_found("User"))?;
    let mut ev = audit(b, ctx, "invite.accepted", true);
    ev.actor_id = Some(id);
    ev.actor = Some(record.username.clone());
    ev.org_id = Some(rec.org);
    ev.target = Some(record.username.clone());
    let mut snap = user_snapshot(&record);
    snap["invitation_id"] = json!(rec.id);
    snap["org"] = json!(rec.org_name);
    snap["role"] = json!(rec.role_name);
    snap["invited_by"] = json!(rec.invited_by_name);
    snap["method"] = json!(method);
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    Ok((record, session))
}

/// Commits a new account's transaction and signs it in, in the invitation's organization.
pub(super) async fn signed_in(
    b: &Backend,
    mut tx: Box<dyn Tx>,
    record: &crate::backend::store::UserRecord,
    session: String,
    org: OrgId,
) -> Result<super::auth::SignedIn, Error> {
    let version = record_change(b, &mut tx, Change::User(record.id), Default::default()).await?;
    tx.commit().await?;
    b.access.apply(b.store.as_ref(), version, Change::User(record.id)).await?;
    let me = super::auth::me_for(b, record.id, &record.username, &record.full_name, &record.email, false, org);
    Ok(super::auth::SignedIn { token: session, me })
}

fn email_taken(email: &str) -> Error {
    Error::Conflict {
        field: Some("username".into()),
        message: format!(
            "An account with the address {email} exists already: sign in to it, then open the link again to join."
        ),
    }
}

fn username_taken(username: &str) -> Error {
    Error::Conflict {
        field: Some("username".into()),
        message: format!("The username {username} is taken: choose another."),
    }
}

/// Accepts an invitation with a new account (the invited email, a password under the
/// policy) and signs it in. Exactly one of several parallel acceptances creates an account.
pub async fn accept_new(
    b: &Backend,
    ctx: &Ctx,
    token: &str,
    input: NewAccount,
) -> Result<super::auth::SignedIn, Error> {
    let found = b.store.invitation_by_token(&hash_token(token.trim())).await?.ok_or_else(unknown)?;
    let mut f = Fields::default();
    let (username, full_name) = names_of(&input.username, &input.full_name, &mut f);
    let context = [input.username.as_str(), validate::email_local(&found.email)];
    let password = f.take(check_new(&b.config.password_policy, "password", &input.password, &context));
    f.finish()?;
    let (Some(username), Some(full_name), Some(password)) = (username, full_name, password) else {
        return Err(Error::invalid("username", "Invalid input."));
    };
    let hash = b.hasher.hash(password).await?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let rec = usable(b, &mut tx, token).await?;
    let who = Invitee { username, full_name, password_hash: Some(hash) };
    let (record, session) = open_account(b, ctx, &mut tx, &rec, who, "password").await?;
    signed_in(b, tx, &record, session, rec.org).await
}

/// What a passkey ceremony started from an invitation page remembers until it finishes: the
/// invitation and the account to create (it exists only once the passkey is verified).
#[derive(serde::Serialize, serde::Deserialize)]
struct PendingAccount {
    invitation: i64,
    username: String,
    full_name: String,
    /// The new account's WebAuthn user handle, already inside the passkey.
    handle: Vec<u8>,
}

const PASSKEY_CEREMONY: &str = "invite";
/// The name the invitee's first passkey gets (renamed from the profile).
pub const FIRST_PASSKEY: &str = "Passkey";

/// Starts accepting an invitation with a passkey instead of a password: checks the names and
/// the invitation, and answers the browser's registration options for the account to be.
pub async fn begin_passkey(
    b: &Backend,
    token: &str,
    username: &str,
    full_name: &str,
) -> Result<crate::domain::passkeys::PasskeyChallenge, Error> {
    use super::passkeys;
    let mut f = Fields::default();
    let (username, full_name) = names_of(username, full_name, &mut f);
    f.finish()?;
    let (Some(username), Some(full_name)) = (username, full_name) else {
        return Err(Error::invalid("username", "Invalid input."));
    };
    let mut tx = b.store.begin().await?;
    let rec = usable(b, &mut tx, token).await?;
    let rp = passkeys::relying_party(b)?;
    // (taken names are said now, before the browser makes a passkey for nothing)
    if tx.user_by_username(&validate::username_key(&username)).await?.is_some() {
        return Err(username_taken(&username));
    }
    if b.store
        .user_by_login(&validate::email_key(&rec.email))
        .await?
        .is_some_and(|u| u.email.eq_ignore_ascii_case(&rec.email))
    {
        return Err(email_taken(&rec.email));
    }
    let handle = passkeys::new_handle();
    let (state, options) = passkeys::registration(rp, handle, &username, &full_name, Vec::new())?;
    let pending = PendingAccount { invitation: rec.id, username, full_name, handle: handle.as_bytes().to_vec() };
    let label = serde_json::to_string(&pending).map_err(crate::backend::internal)?;
    let challenge = passkeys::start(b, &mut tx, PASSKEY_CEREMONY, None, &label, state, options).await?;
    tx.commit().await?;
    Ok(challenge)
}

/// Finishes accepting with a passkey: with the browser's verified credential, creates the
/// account (no password), its passkey, its membership and its session in one transaction.
pub async fn finish_passkey(
    b: &Backend,
    ctx: &Ctx,
    token: &str,
    ceremony: &str,
    credential: &str,
) -> Result<super::auth::SignedIn, Error> {
    use super::passkeys;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let rec = usable(b, &mut tx, token).await?;
    let rp = passkeys::relying_party(b)?;
    let c = passkeys::take(b, &mut tx, ceremony, PASSKEY_CEREMONY).await?;
    let pending: PendingAccount = serde_json::from_str(&c.label).map_err(crate::backend::internal)?;
    if rec.id != pending.invitation {
        return Err(passkeys::expired());
    }
    let passkey = match passkeys::verify_registration(rp, &c.state, credential)? {
        Ok(p) => p,
        Err(reason) => {
            let mut ev = audit(b, ctx, "invite.accepted", false);
            ev.org_id = Some(rec.org);
            ev.target = Some(pending.username.clone());
            ev.after = Some(json!({ "invitation_id": rec.id, "method": "passkey", "reason": reason }));
            tx.insert_audit(&ev).await?;
            tx.commit().await?;
            return Err(Error::invalid("passkey", "The passkey could not be verified. Try again."));
        }
    };
    let who = Invitee { username: pending.username, full_name: pending.full_name, password_hash: None };
    let (record, session) = open_account(b, ctx, &mut tx, &rec, who, "passkey").await?;
    tx.set_webauthn_handle(record.id, &pending.handle).await?;
    let now = b.now();
    let id = passkeys::store_passkey(&mut tx, record.id, FIRST_PASSKEY, &passkey, now).await?;
    let mut ev = audit(b, ctx, "passkey.added", true);
    ev.actor_id = Some(record.id);
    ev.actor = Some(record.username.clone());
    ev.target = Some(record.username.clone());
    ev.after = Some(json!({ "id": id, "name": FIRST_PASSKEY }));
    tx.insert_audit(&ev).await?;
    signed_in(b, tx, &record, session, rec.org).await
}

/// Accepts an invitation with the signed-in account: it joins the organization with the
/// invited role (an account that is a member there already keeps its membership, and the
/// invitation is refused rather than used).
pub async fn accept_existing(b: &Backend, ctx: &Ctx, token: &str) -> Result<OrgId, Error> {
    let Caller::User(me) = &ctx.caller else { return Err(Error::Unauthenticated) };
    if me.token.is_some() {
        return Err(Error::Forbidden(Denied::TokenNotAllowed));
    }
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let rec = usable(b, &mut tx, token).await?;
    if tx.membership(rec.org, me.id).await?.is_some() {
        return Err(Error::Conflict {
            field: None,
            message: format!("You are a member of {} already; the invitation stays unused.", rec.org_name),
        });
    }
    if !tx.consume_invitation(rec.id, me.id, now).await? {
        return Err(Error::Gone { message: "This invitation has been used already.".into() });
    }
    tx.add_membership(rec.org, me.id, rec.role, now).await?;
    tx.set_member_extras(rec.org, me.id, rec.abilities).await?;
    let mut ev = audit(b, ctx, "invite.accepted", true);
    ev.org_id = Some(rec.org);
    ev.target = Some(me.username.clone());
    ev.after = Some(json!({
        "invitation_id": rec.id, "email": rec.email, "org": rec.org_name, "role": rec.role_name,
        "extras": rec.abilities.codes(), "invited_by": rec.invited_by_name, "existing_account": true,
    }));
    tx.insert_audit(&ev).await?;
    let version = record_change(b, &mut tx, Change::User(me.id), Default::default()).await?;
    tx.commit().await?;
    b.access.apply(b.store.as_ref(), version, Change::User(me.id)).await?;
    Ok(rec.org)
}
