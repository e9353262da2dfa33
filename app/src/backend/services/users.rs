//! The users admin: list (search, sort, keyset paging), get, create/provision, copy, update
//! (including disable and password reset) and delete.
//! Invariants: at least one active super admin always remains (checked with facts read in the
//! write transaction); disabling an account or resetting its password ends its sessions in
//! the same transaction; every change writes one audit event with before/after values.
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{actor_in, audit, commit_access, target_of, user_snapshot, Fields};
use crate::backend::access::Change;
use crate::backend::password::{check_new, random_password};
use crate::backend::store::{KeyValue, PageKey, Seek, Tx, UserInsert, UserListQuery, UserRecord};
use crate::backend::{Backend, Ctx};
use crate::domain::abilities::AbilitySet;
use crate::domain::error::{Error, FieldError};
use crate::domain::ids::{OrgId, RoleId, ADMIN_ROLE, VIEWER_ROLE};
use crate::domain::policy;
use crate::domain::users::{
    AccountHolder, AccountLevel, NewUser, User, UserChanges, UserPage, UserQuery, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
use crate::domain::validate;

/// Cursor contents: the sort it belongs to and the boundary row's key.
#[derive(Serialize, Deserialize)]
struct Cursor {
    s: String,
    d: String,
    v: KeyValue,
    i: i64,
}

fn encode_cursor(q: &UserQuery, k: PageKey) -> String {
    let c = Cursor { s: q.sort.as_str().into(), d: q.dir.as_str().into(), v: k.value, i: k.id };
    let json = serde_json::to_vec(&c).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor(q: &UserQuery, raw: &str) -> Result<PageKey, Error> {
    let bad = || Error::invalid("cursor", "This page link is no longer valid. Start again from the first page.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if c.s != q.sort.as_str() || c.d != q.dir.as_str() {
        return Err(bad());
    }
    let numeric = matches!(
        q.sort,
        crate::domain::users::SortField::TwoFactor
            | crate::domain::users::SortField::CreatedAt
            | crate::domain::users::SortField::LastSignInAt
    );
    if numeric != matches!(c.v, KeyValue::Int(_)) {
        return Err(bad());
    }
    Ok(PageKey { value: c.v, id: c.i })
}

pub async fn list(b: &Backend, ctx: &Ctx, q: UserQuery) -> Result<UserPage, Error> {
    policy::can_view_users(ctx.actor()?).map_err(Error::Forbidden)?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.to_lowercase());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(Error::invalid("search", "Search text must be at most 200 characters."));
    }
    let seek = match (&q.after, &q.before) {
        (Some(_), Some(_)) => return Err(Error::invalid("cursor", "Give either `after` or `before`, not both.")),
        (Some(a), None) => Seek::After(decode_cursor(&q, a)?),
        (None, Some(bf)) => Seek::Before(decode_cursor(&q, bf)?),
        (None, None) => Seek::First,
    };
    let query = UserListQuery {
        search,
        sort: q.sort,
        dir: q.dir,
        seek: seek.clone(),
        limit: limit + 1,
        legacy_hash: q.legacy_hash,
    };
    let mut rows = b.store.list_users(&query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    if matches!(seek, Seek::Before(_)) {
        rows.reverse();
    }
    let first = rows.first().map(|r| encode_cursor(&q, r.page_key(q.sort)));
    let last = rows.last().map(|r| encode_cursor(&q, r.page_key(q.sort)));
    let (prev, next) = match seek {
        Seek::First => (None, if more { last } else { None }),
        Seek::After(_) => (first, if more { last } else { None }),
        Seek::Before(_) => (if more { first } else { None }, last),
    };
    let legacy_hashes = b.store.legacy_hash_count().await?.max(0) as u64;
    Ok(UserPage { users: rows.iter().map(UserRecord::to_user).collect(), next, prev, legacy_hashes })
}

/// One account: super admins see any; holders of view-users or manage-users in the current
/// organization see its members and the accounts that list them (others are "not found",
/// not "forbidden": no enumeration).
pub async fn get(b: &Backend, ctx: &Ctx, username: &str) -> Result<User, Error> {
    Ok(visible(b, ctx, username).await?.to_user())
}

/// The account if the caller may see it.
async fn visible(b: &Backend, ctx: &Ctx, username: &str) -> Result<UserRecord, Error> {
    visible_in(b, ctx, ctx.org(), username).await
}

/// The account if the caller may see it from organization `org`.
pub(crate) async fn visible_in(b: &Backend, ctx: &Ctx, org: OrgId, username: &str) -> Result<UserRecord, Error> {
    let actor = ctx.reader(b, org)?;
    let actor_member = actor.is_some_and(|a| b.access.read().is_member(a.id, org));
    // The ability comes first: without it, even a missing account is "forbidden".
    policy::can_view_account(actor, actor_member, true, None).map_err(Error::Forbidden)?;
    let u =
        b.store.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let member = b.access.read().is_member(u.id, org);
    let listed = match actor {
        Some(a) if !a.super_admin && !member => b.store.account_level(u.id, a.id).await?,
        _ => None,
    };
    if !policy::can_view_account(actor, actor_member, member, listed).map_err(Error::Forbidden)? {
        return Err(Error::not_found("User"));
    }
    Ok(u)
}

/// Who else may view or edit `username` (visible to whoever may see the account).
pub async fn account_holders(b: &Backend, ctx: &Ctx, username: &str) -> Result<Vec<AccountHolder>, Error> {
    let u = visible(b, ctx, username).await?;
    Ok(b.store.account_holders(u.id).await?)
}

/// Puts `holder` on `username`'s view or edit list, or takes it off (`None`). Needs the
/// right to manage the account itself.
pub async fn set_account_holder(
    b: &Backend,
    ctx: &Ctx,
    username: &str,
    holder: &str,
    level: Option<AccountLevel>,
) -> Result<Vec<AccountHolder>, Error> {
    ctx.actor()?;
    let org = ctx.org();
    let mut tx = b.store.begin().await?;
    let target =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let actor = actor_in(&mut tx, ctx, org).await?;
    let facts = target_of(&mut tx, ctx, actor, org, &target).await?;
    policy::can_manage_account(actor, org, facts).map_err(Error::Forbidden)?;
    let h = tx
        .user_by_username(&validate::username_key(holder))
        .await?
        .ok_or_else(|| Error::invalid("holder", format!("There is no account named '{}'.", holder.trim())))?;
    if h.public {
        return Err(Error::invalid("holder", "The public account cannot be given access to accounts."));
    }
    if h.id == target.id {
        return Err(Error::invalid("holder", "An account always has access to itself."));
    }
    let before = tx.account_level(target.id, h.id).await?;
    tx.set_account_level(target.id, h.id, level).await?;
    let event = if level.is_some() { "account_access.granted" } else { "account_access.revoked" };
    let mut ev = audit(b, ctx, event, true);
    ev.org_id = Some(org);
    ev.target = Some(target.username.clone());
    ev.before = Some(json!({ "holder": h.username, "level": before.map(AccountLevel::as_str) }));
    ev.after = Some(json!({ "holder": h.username, "level": level.map(AccountLevel::as_str) }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(b.store.account_holders(target.id).await?)
}

/// Where a new account goes: an organization and a role there, by name.
async fn placement(tx: &mut Box<dyn Tx>, ctx: &Ctx, n: &NewUser) -> Result<(OrgId, RoleId, AbilitySet), Error> {
    let org = match n.org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => {
            tx.org_by_name(&name.to_lowercase())
                .await?
                .ok_or_else(|| Error::invalid("org", format!("There is no organization named '{name}'.")))?
                .id
        }
        None => ctx.org(),
    };
    let role = match n.role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => tx
            .role_by_name(&name.to_lowercase())
            .await?
            .ok_or_else(|| Error::invalid("role", format!("There is no role named '{name}'.")))?,
        None => {
            let id = if n.super_admin { ADMIN_ROLE } else { VIEWER_ROLE };
            tx.role(id).await?.ok_or_else(|| Error::invalid("role", "Choose a role."))?
        }
    };
    Ok((org, role.id, role.abilities))
}

/// What to do when the username already exists (Databand's `--skip-existing` /
/// `--update-existing`; imports take the same choice).
pub use crate::domain::import::OnExisting;

#[derive(Debug, Clone, Copy, Default)]
pub struct Provision {
    /// Do nothing when any account exists (Databand's `--only-if-empty`).
    pub only_if_empty: bool,
    pub on_existing: OnExisting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned {
    Created(User),
    Updated(User),
    SkippedNotEmpty,
    SkippedExisting(User),
}

struct ValidNew {
    username: String,
    full_name: String,
    email: String,
    password: Option<String>,
    /// A hash made elsewhere (an import), kept as given until the next sign-in.
    hash: Option<String>,
}

fn validate_new(b: &Backend, n: &NewUser) -> Result<ValidNew, Error> {
    let mut f = Fields::default();
    let username = f.take(validate::username(&n.username));
    let full_name = f.take(validate::full_name(&n.full_name));
    let email = f.take(validate::optional_email(&n.email));
    let context = [n.username.as_str(), validate::email_local(&n.email)];
    let password = match &n.password {
        Some(p) => f.take(check_new(&b.config.password_policy, "password", p, &context)).map(Some),
        None => Some(None),
    };
    let hash = match (&n.password, n.password_hash.as_deref().map(str::trim)) {
        (_, None) => Some(None),
        (Some(_), Some(_)) => {
            f.take(Err(FieldError::new("password_hash", "Give a password or a password hash, not both.")))
        }
        (None, Some(h)) => f
            .take(crate::backend::legacy_hash::parse(h).map_err(|e| FieldError::new("password_hash", e.0)))
            .map(|_| Some(h.to_string())),
    };
    f.finish()?;
    match (username, full_name, email, password, hash) {
        (Some(username), Some(full_name), Some(email), Some(password), Some(hash)) => {
            Ok(ValidNew { username, full_name, email, password, hash })
        }
        _ => Err(Error::invalid("username", "Invalid input.")),
    }
}

/// Creates an account. `password: None` gives one with no usable password.
pub async fn create(b: &Backend, ctx: &Ctx, n: NewUser) -> Result<User, Error> {
    match provision(b, ctx, n, Provision::default()).await? {
        Provisioned::Created(u) => Ok(u),
        _ => Err(Error::Conflict { field: Some("username".into()), message: "That username is already taken.".into() }),
    }
}

/// Creates, skips or updates, all decided inside one transaction (so `only_if_empty` holds
/// even when two provisioning scripts run at once).
pub async fn provision(b: &Backend, ctx: &Ctx, n: NewUser, how: Provision) -> Result<Provisioned, Error> {
    ctx.actor()?;
    let v = validate_new(b, &n)?;
    let hash = match &v.password {
        Some(p) => Some(b.hasher.hash(p.clone()).await?),
        None => v.hash.clone(),
    };
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let (org, role, role_abilities) = placement(&mut tx, ctx, &n).await?;
    let actor = actor_in(&mut tx, ctx, org).await?;
    // An organization the caller may not see is answered like one that does not exist.
    if actor.is_some_and(|a| !a.super_admin && !b.access.read().is_member(a.id, org)) {
        let name = n.org.as_deref().unwrap_or_default().trim();
        return Err(Error::invalid("org", format!("There is no organization named '{name}'.")));
    }
    // Only super admins make super admins; org admins create members with what they hold.
    if n.super_admin {
        policy::can_create_user(actor).map_err(Error::Forbidden)?;
    }
    policy::can_create_member(actor, role_abilities).map_err(Error::Forbidden)?;
    if how.only_if_empty && tx.user_count().await? > 0 {
        return Ok(Provisioned::SkippedNotEmpty);
    }
    if let Some(existing) = tx.user_by_username(&validate::username_key(&v.username)).await? {
        return match how.on_existing {
            OnExisting::Fail => Err(Error::Conflict {
                field: Some("username".into()),
                message: "That username is already taken.".into(),
            }),
            OnExisting::Skip => Ok(Provisioned::SkippedExisting(existing.to_user())),
            OnExisting::Update => {
                let changes = Valid {
                    full_name: Some(v.full_name),
                    email: Some(v.email),
                    status: Some(n.status),
                    super_admin: Some(n.super_admin),
                    hash,
                };
                let after = write_update(b, ctx, &mut tx, org, &existing, changes).await?;
                commit_access(b, tx, Change::User(after.id)).await?;
                Ok(Provisioned::Updated(after.to_user()))
            }
        };
    }
    let insert = UserInsert {
        username: v.username.clone(),
        full_name: v.full_name,
        email: v.email,
        password_hash: hash,
        status: n.status,
        super_admin: n.super_admin,
        created_at: now,
    };
    let id = tx.insert_user(&insert).await?;
    tx.add_membership(org, id, role, now).await?;
    let record =
        tx.user_by_username(&validate::username_key(&v.username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let mut ev = audit(b, ctx, "user.created", true);
    ev.org_id = Some(org);
    ev.target = Some(record.username.clone());
    let mut snap = user_snapshot(&record);
    snap["password"] = json!(if record.password_hash.is_some() { "set" } else { "none" });
    snap["org_id"] = json!(org.0);
    snap["role_id"] = json!(role.0);
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::User(id)).await?;
    Ok(Provisioned::Created(record.to_user()))
}

/// Creates a new account with the configuration of `source` (status, super admin flag and
/// organization memberships; later roles and grants) and none of its personal details.
pub async fn copy(b: &Backend, ctx: &Ctx, source: &str, n: NewUser) -> Result<User, Error> {
    policy::can_copy_user(ctx.actor()?).map_err(Error::Forbidden)?;
    let v = validate_new(b, &n)?;
    let password = v.password.clone().unwrap_or_else(random_password);
    let hash = b.hasher.hash(password).await?;
    let has_password = v.password.is_some();
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let src =
        tx.user_by_username(&validate::username_key(source)).await?.ok_or_else(|| Error::not_found("User to copy"))?;
    let insert = UserInsert {
        username: v.username.clone(),
        full_name: v.full_name,
        email: v.email,
        password_hash: if has_password { Some(hash) } else { None },
        status: src.status,
        super_admin: src.super_admin,
        created_at: now,
    };
    let id = tx.insert_user(&insert).await?;
    for org in tx.memberships(src.id).await? {
        if let Some(g) = tx.membership(org, src.id).await? {
            tx.add_membership(org, id, g.role, now).await?;
            tx.set_member_extras(org, id, g.extras).await?;
        }
    }
    let mappings = super::database_access::copy_mappings(b, &mut tx, src.id, id).await?;
    let record =
        tx.user_by_username(&validate::username_key(&v.username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let mut ev = audit(b, ctx, "user.created", true);
    ev.target = Some(record.username.clone());
    let mut snap = user_snapshot(&record);
    snap["copied_from"] = json!(src.username);
    snap["database_mappings"] = json!(mappings);
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::User(id)).await?;
    Ok(record.to_user())
}

/// Validated changes to an account (the password already hashed).
struct Valid {
    full_name: Option<String>,
    email: Option<String>,
    status: Option<crate::domain::users::UserStatus>,
    super_admin: Option<bool>,
    hash: Option<String>,
}

/// Policy, write, session ends and audit of an account change, inside the caller's
/// transaction (shared by `update` and provisioning's `--update-existing`).
async fn write_update(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    before: &UserRecord,
    c: Valid,
) -> Result<UserRecord, Error> {
    let actor = actor_in(tx, ctx, org).await?;
    let active = super::super_admins_if_needed(tx, before).await?;
    let target = target_of(tx, ctx, actor, org, before).await?;
    policy::can_update_user(actor, org, target, c.status, c.super_admin, active).map_err(Error::Forbidden)?;
    if c.super_admin.is_some_and(|f| f != before.super_admin) {
        super::sudo_grants(b, ctx)?;
    }
    // A new password or email is a way into the account (sign-in, or a reset link by email):
    // like every credential change, it needs sudo mode and is never done with a token, so a
    // stolen token or an unattended session cannot take over someone else's account.
    if c.hash.is_some() || c.email.as_ref().is_some_and(|e| *e != before.email) {
        super::sudo_credentials(b, ctx)?;
    }
    let now = b.now();
    let mut after = before.clone();
    if let Some(n) = c.full_name {
        after.full_name = n;
    }
    if let Some(e) = c.email {
        after.email = e;
    }
    if let Some(s) = c.status {
        after.status = s;
    }
    if let Some(sa) = c.super_admin {
        after.super_admin = sa;
    }
    tx.update_user(&after, now).await?;
    let disabled = before.status == crate::domain::users::UserStatus::Active && after.status != before.status;
    if let Some(h) = &c.hash {
        tx.set_password_hash(after.id, Some(h), now).await?;
    }
    // A disabled account or a reset password ends every session of that account now.
    if disabled || c.hash.is_some() {
        tx.delete_sessions_of(after.id, None).await?;
    }
    let event = if disabled {
        "user.disabled"
    } else if before.status != after.status {
        "user.enabled"
    } else {
        "user.updated"
    };
    let mut ev = audit(b, ctx, event, true);
    ev.org_id = Some(org);
    ev.target = Some(after.username.clone());
    ev.before = Some(user_snapshot(before));
    let mut snap = user_snapshot(&after);
    if c.hash.is_some() {
        snap["password_changed"] = json!(true);
    }
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    Ok(after)
}

pub async fn update(b: &Backend, ctx: &Ctx, username: &str, c: UserChanges) -> Result<User, Error> {
    ctx.actor()?;
    let mut f = Fields::default();
    let full_name = c.full_name.as_deref().map(validate::full_name).and_then(|r| f.take(r));
    let email = c.email.as_deref().map(validate::optional_email).and_then(|r| f.take(r));
    let context_email = c.email.clone().unwrap_or_default();
    let context = [username, validate::email_local(&context_email)];
    let password = c
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .map(|p| check_new(&b.config.password_policy, "password", p, &context))
        .and_then(|r| f.take(r));
    f.finish()?;
    let hash = match password {
        Some(p) => Some(b.hasher.hash(p).await?),
        None => None,
    };
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let before =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let valid = Valid { full_name, email, status: c.status, super_admin: c.super_admin, hash };
    let after = write_update(b, ctx, &mut tx, ctx.org(), &before, valid).await?;
    commit_access(b, tx, Change::User(after.id)).await?;
    Ok(after.to_user())
}

/// Deletes an account. Org admins get `InOtherOrgs` for accounts that belong elsewhere too:
/// the UI then offers removal from the organization instead.
pub async fn delete(b: &Backend, ctx: &Ctx, username: &str) -> Result<(), Error> {
    ctx.actor()?;
    let org = ctx.org();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let target =
        tx.user_by_username(&validate::username_key(username)).await?.ok_or_else(|| Error::not_found("User"))?;
    let left = delete_in(b, ctx, &mut tx, org, &target).await?;
    let note = super::EventNote { name: Some(target.username.clone()), orgs: left };
    super::commit_access_noting(b, tx, Change::User(target.id), note).await?;
    Ok(())
}

/// Disables or enables an account inside the caller's transaction, by the users admin's
/// rules in `org` (bulk actions).
pub(super) async fn set_status_in(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    before: &UserRecord,
    status: crate::domain::users::UserStatus,
) -> Result<UserRecord, Error> {
    let valid = Valid { full_name: None, email: None, status: Some(status), super_admin: None, hash: None };
    write_update(b, ctx, tx, org, before, valid).await
}

/// Policy, delete and audit of an account inside the caller's transaction; the
/// organizations it left (for the change's event).
pub(super) async fn delete_in(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    target: &UserRecord,
) -> Result<Vec<OrgId>, Error> {
    let actor = actor_in(tx, ctx, org).await?;
    let active = super::super_admins_if_needed(tx, target).await?;
    let facts = target_of(tx, ctx, actor, org, target).await?;
    policy::can_delete_user(actor, org, facts, active).map_err(Error::Forbidden)?;
    // A SCIM connection's service account goes with its connection, never alone (the
    // connection would be left acting as no one).
    if let Some(slug) = tx.scim_connection_served_by(target.id).await? {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "{} is the service account of the SCIM connection {slug}: delete the connection under \
                 Settings -> Provisioning instead.",
                target.username
            ),
        });
    }
    let left = tx.memberships(target.id).await?;
    tx.delete_user(target.id).await?;
    let mut ev = audit(b, ctx, "user.deleted", true);
    ev.org_id = Some(org);
    ev.target = Some(target.username.clone());
    ev.before = Some(user_snapshot(target));
    tx.insert_audit(&ev).await?;
    Ok(left)
}
