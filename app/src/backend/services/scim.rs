//! SCIM 2.0 provisioning: connections (managed by super admins and the command line) and the
//! `/scim/v2/{connection}/Users` use cases an identity provider drives.
//!
//! A connection acts as its own service account (an account without a password, Admin in
//! the organizations the connection may touch): its requests go through the same policy as a
//! person's, so it never grants beyond that account (`policy::can_create_member`), it only
//! changes the accounts it provisioned or adopted and never a super admin
//! (`policy::scim_may_change`), and the audit trail names it as the actor. Each request is
//! one transaction. Its tokens are stored as SHA-256 and shown once.
use serde_json::{json, Value};

use super::{actor_in, audit, audit_global, commit_access, scim_mappings, sudo_grants, user_snapshot, validate_name};
use crate::backend::access::Change;
use crate::backend::sessions::hash_token;
use crate::backend::store::scim::where_clause;
use crate::backend::store::{ScimConnectionRecord, ScimUserQuery, ScimUserRecord, Tx, UserInsert, UserRecord};
use crate::backend::{Backend, Caller, Ctx, SessionUser};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId, ADMIN_ROLE, VIEWER_ROLE};
use crate::domain::policy::{self, Target};
use crate::domain::scim::{self as d, ScimError, StoredUser, UserInput};
use crate::domain::scim_filter;
use crate::domain::scim_mapping::{MembershipChange, Placement};
use crate::domain::users::UserStatus;
use crate::domain::validate;

/// The most connections listed.
const MAX_CONNECTIONS: i64 = 200;
/// The prefix of a connection's bearer tokens (so a leaked one is recognisable).
pub const TOKEN_PREFIX: &str = "rscim_";

pub use crate::domain::scim::{
    ScimConnection as Connection, ScimConnectionInput as ConnectionInput, ScimConnectionToken,
};

fn check_slug(slug: &str) -> Result<String, Error> {
    let s = slug.trim();
    let ok = (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(Error::invalid(
            "id",
            "The connection id must be 1 to 40 lower-case letters, digits or '-', starting with a letter \
             (it is part of the SCIM URL).",
        ));
    }
    Ok(s.to_string())
}

/// A connection as admins see it, from its row (names from the access model; the counts and
/// the service account's name come with the row: no query per connection).
fn describe(b: &Backend, c: &ScimConnectionRecord) -> Connection {
    let (orgs, default_org, role_name) = {
        let model = b.access.read();
        let org_name = |o: OrgId| model.orgs.get(&o).cloned();
        let role_name = c.default_role.and_then(|r| model.roles.get(&r).map(|e| e.name.clone()));
        (c.orgs.iter().filter_map(|o| org_name(*o)).collect(), c.default_org.and_then(org_name), role_name)
    };
    Connection {
        id: c.slug.clone(),
        name: c.name.clone(),
        orgs,
        default_org,
        default_role: role_name,
        delete_mode: c.delete_mode.clone(),
        adopt_existing: c.adopt_existing,
        service_account: c.service_account.clone(),
        tokens: c.tokens,
        accounts: c.accounts,
        base_url: format!("{}/scim/v2/{}", super::provider::issuer(b).unwrap_or_default(), c.slug),
    }
}

/// A new bearer token: its text (shown once), its hash and its public prefix.
fn new_token() -> (String, Vec<u8>, String) {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let token = format!("{TOKEN_PREFIX}{secret}");
    let prefix = format!("{TOKEN_PREFIX}{}", secret.chars().take(6).collect::<String>());
    (token.clone(), hash_token(&token), prefix)
}

/// Creates a connection, its service account and its first token (returned, shown once).
pub async fn create_connection(b: &Backend, ctx: &Ctx, input: ConnectionInput) -> Result<ScimConnectionToken, Error> {
    // (refused before anything is validated: the form's rules are no one else's business;
    // checked again in the transaction)
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    // (a connection creates accounts and grants their role: a recent sign-in, like webhooks
    // and applications)
    sudo_grants(b, ctx)?;
    let slug = check_slug(&input.id)?;
    let name = validate_name("name", "connection", &input.name)?;
    if input.orgs.is_empty() {
        return Err(Error::invalid("orgs", "Name at least one organization the connection may provision into."));
    }
    let delete_mode = match input.delete_mode.as_deref().map(str::trim) {
        None | Some("") | Some("disable") => "disable",
        Some("delete") => "delete",
        Some(other) => {
            return Err(Error::invalid(
                "delete_mode",
                format!("'{other}' is not a delete mode: use disable or delete."),
            ))
        }
    };
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_manage_scim(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let mut orgs = Vec::new();
    for o in &input.orgs {
        let rec = tx
            .org_by_name(&o.trim().to_lowercase())
            .await?
            .ok_or_else(|| Error::invalid("orgs", format!("There is no organization named '{}'.", o.trim())))?;
        if !orgs.contains(&rec.id) {
            orgs.push(rec.id);
        }
    }
    let default_org = match input.default_org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => orgs[0],
        Some(n) => {
            let rec = tx
                .org_by_name(&n.to_lowercase())
                .await?
                .ok_or_else(|| Error::invalid("default_org", format!("There is no organization named '{n}'.")))?;
            if !orgs.contains(&rec.id) {
                return Err(Error::invalid(
                    "default_org",
                    format!("'{n}' is not one of the connection's organizations."),
                ));
            }
            rec.id
        }
    };
    let default_role = match input.default_role.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => VIEWER_ROLE,
        Some(n) => {
            tx.role_by_name(&n.to_lowercase())
                .await?
                .ok_or_else(|| Error::invalid("default_role", format!("There is no role named '{n}'.")))?
                .id
        }
    };
    // The service account: no password (it never signs in), Admin where the connection may
    // provision, so policy lets it create members there and nothing more.
    let service_name = format!("scim-{slug}");
    if tx.user_by_username(&validate::username_key(&service_name)).await?.is_some() {
        return Err(Error::Conflict {
            field: Some("id".into()),
            message: format!("An account named {service_name} exists already: choose another connection id."),
        });
    }
    let service = tx
        .insert_user(&UserInsert {
            username: service_name.clone(),
            full_name: format!("SCIM connection {name}"),
            email: String::new(),
            password_hash: None,
            status: UserStatus::Active,
            super_admin: false,
            created_at: now,
        })
        .await?;
    let rec = ScimConnectionRecord {
        id: 0,
        slug: slug.clone(),
        name,
        service_user_id: service,
        default_org: Some(default_org),
        default_role: Some(default_role),
        orgs,
        delete_mode: delete_mode.to_string(),
        adopt_existing: input.adopt_existing,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    let id = tx.insert_scim_connection(&rec).await.map_err(|e| match Error::from(e) {
        Error::Conflict { .. } => Error::Conflict {
            field: Some("id".into()),
            message: format!("A connection with the id {slug} exists already."),
        },
        other => other,
    })?;
    // (memberships the connection manages: the members page shows whose service account it is)
    let placed: Vec<MembershipChange> = rec
        .orgs
        .iter()
        .map(|org| {
            MembershipChange::Add(Placement {
                user: service,
                org: *org,
                role: ADMIN_ROLE,
                extras: Default::default(),
                priority: 0,
                mapping: None,
            })
        })
        .collect();
    tx.apply_membership_changes(id, &placed, now).await?;
    let (token, hash, prefix) = new_token();
    tx.insert_scim_token(&hash, id, &prefix, now).await?;
    let mut ev = audit_global(b, ctx, "scim.connection_created", true);
    ev.target = Some(slug.clone());
    ev.after = Some(json!({
        "slug": slug, "name": rec.name, "orgs": rec.orgs.iter().map(|o| o.0).collect::<Vec<_>>(),
        "default_org_id": default_org.0, "default_role_id": default_role.0, "delete_mode": delete_mode,
        "adopt_existing": rec.adopt_existing, "service_account": service_name, "token": prefix,
    }));
    tx.insert_audit(&ev).await?;
    commit_access(b, tx, Change::User(service)).await?;
    let stored = b.store.scim_connection(&slug).await?.ok_or_else(|| Error::not_found("Connection"))?;
    Ok(ScimConnectionToken { connection: describe(b, &stored), token })
}

pub async fn list_connections(b: &Backend, ctx: &Ctx) -> Result<Vec<Connection>, Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    Ok(b.store.scim_connections(MAX_CONNECTIONS).await?.iter().map(|c| describe(b, c)).collect())
}

/// Adds a token to a connection (the old ones keep working until the connection goes, so a
/// provider can be moved to the new one without a gap); returns it, shown once.
pub async fn add_token(b: &Backend, ctx: &Ctx, slug: &str) -> Result<ScimConnectionToken, Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    policy::can_manage_scim(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let c = tx.scim_connection(slug.trim()).await?.ok_or_else(|| Error::not_found("SCIM connection"))?;
    let (token, hash, prefix) = new_token();
    tx.insert_scim_token(&hash, c.id, &prefix, now).await?;
    let mut ev = audit_global(b, ctx, "scim.token_created", true);
    ev.target = Some(c.slug.clone());
    ev.after = Some(json!({ "token": prefix }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    let c = b.store.scim_connection(&c.slug).await?.ok_or_else(|| Error::not_found("SCIM connection"))?;
    Ok(ScimConnectionToken { connection: describe(b, &c), token })
}

/// Deletes a connection, its tokens and its service account. The accounts it provisioned
/// stay, as ordinary accounts.
pub async fn delete_connection(b: &Backend, ctx: &Ctx, slug: &str) -> Result<(), Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_manage_scim(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let c = tx.scim_connection(slug.trim()).await?.ok_or_else(|| Error::not_found("SCIM connection"))?;
    tx.delete_scim_connection(c.id).await?;
    let service = tx.user_by_id(c.service_user_id).await?;
    tx.delete_user(c.service_user_id).await?;
    let mut ev = audit_global(b, ctx, "scim.connection_deleted", true);
    ev.target = Some(c.slug.clone());
    ev.before = Some(json!({ "slug": c.slug, "name": c.name, "service_account": service.map(|u| u.username) }));
    tx.insert_audit(&ev).await?;
    let note = super::EventNote { name: Some(format!("scim-{}", c.slug)), orgs: c.orgs.clone() };
    super::commit_access_noting(b, tx, Change::User(c.service_user_id), note).await?;
    Ok(())
}

/// A SCIM request's caller: the connection and a context acting as its service account.
pub struct ScimCaller {
    pub connection: ScimConnectionRecord,
    pub ctx: Ctx,
    /// The connection's base URL (`{public URL}/scim/v2/{slug}`), for `meta.location`.
    pub base: String,
}

/// Checks a request's bearer token against the connection in its URL. A token of another
/// connection is refused like a wrong one (a connection never reaches another's accounts);
/// failed look-ups are throttled per client address like API tokens.
pub async fn authenticate(
    b: &Backend,
    slug: &str,
    authorization: Option<&str>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<ScimCaller, ScimError> {
    let client = ip.clone().unwrap_or_default();
    let now = b.now();
    let refused = || ScimError::new(401, None, "A valid bearer token of this SCIM connection is required.");
    let token = authorization
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() < 128);
    let Some(token) = token else {
        return Err(refused());
    };
    // The token is looked up first: a valid one is never refused because others from the same
    // address (or behind the same proxy) failed.
    let found = b.store.scim_token_connection(&hash_token(token)).await.map_err(|e| internal(Error::from(e)))?;
    let Some(connection) = found.filter(|c| c.slug == slug) else {
        if !b.token_failures.allowed(&client, now) {
            let wait = b.token_failures.wait_ms(&client, now).max(1000) / 1000;
            return Err(ScimError::new(429, None, format!("Too many failed attempts. Try again in {wait} seconds.")));
        }
        b.token_failures.fail(&client, now);
        return Err(refused());
    };
    let service = b
        .store
        .user_by_id(connection.service_user_id)
        .await
        .map_err(|e| internal(Error::from(e)))?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| ScimError::new(403, None, "This connection's service account is disabled."))?;
    let org = connection.default_org.or(connection.orgs.first().copied()).unwrap_or(crate::domain::ids::DEFAULT_ORG);
    let ctx = Ctx {
        caller: Caller::User(SessionUser {
            id: service.id,
            username: service.username.clone(),
            full_name: service.full_name.clone(),
            email: service.email.clone(),
            super_admin: false,
            org,
            token: None,
            needs_two_factor: false,
        }),
        ip,
        user_agent,
        ..Ctx::anonymous()
    };
    let base = format!("{}/scim/v2/{}", super::provider::issuer(b).unwrap_or_default(), connection.slug);
    Ok(ScimCaller { connection, ctx, base })
}

/// An unexpected failure, logged with a reference the answer carries.
fn internal(e: Error) -> ScimError {
    match e {
        Error::Internal { ref_id } => {
            ScimError::new(500, None, format!("Something went wrong on our side. Reference: {ref_id}."))
        }
        other => from_error(other),
    }
}

/// A service's refusal as a SCIM error.
fn from_error(e: Error) -> ScimError {
    match e {
        Error::Conflict { message, .. } => ScimError::uniqueness(message),
        Error::NotFound { what } => ScimError::not_found(format!("{what} not found.")),
        Error::Invalid { errors } => {
            ScimError::invalid_value(errors.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join(" "))
        }
        Error::Forbidden(d) => ScimError::new(403, None, d.message()),
        Error::Unauthenticated => ScimError::new(401, None, "A valid bearer token is required."),
        Error::TooManyRequests { wait_secs } => {
            ScimError::new(429, None, format!("Too many requests. Try again in {wait_secs} seconds."))
        }
        other => ScimError::new(500, None, other.to_string()),
    }
}

fn store_err(e: crate::backend::store::StoreError) -> ScimError {
    internal(Error::from(e))
}

fn stored(r: &ScimUserRecord) -> StoredUser {
    StoredUser {
        id: r.user_id.0,
        external_id: r.external_id.clone(),
        attributes: serde_json::from_str(&r.attributes).unwrap_or_else(|_| json!({})),
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn parse_id(id: &str) -> Result<UserId, ScimError> {
    id.trim().parse::<i64>().map(UserId).map_err(|_| ScimError::not_found(format!("User {id} not found.")))
}

fn target(u: &UserRecord) -> Target {
    Target { id: u.id, super_admin: u.super_admin, status: u.status, public: u.public, sole_org: None, listed: None }
}

/// The account behind a SCIM id, if this connection manages it.
async fn managed(tx: &mut Box<dyn Tx>, c: &ScimCaller, id: &str) -> Result<(ScimUserRecord, UserRecord), ScimError> {
    let id = parse_id(id)?;
    let link = tx.scim_user(c.connection.id, id).await.map_err(store_err)?;
    let user = tx.user_by_id(id).await.map_err(store_err)?;
    let gone = || ScimError::not_found(format!("User {} not found.", id.0));
    let (Some(link), Some(user)) = (link, user) else { return Err(gone()) };
    match policy::scim_may_change(true, target(&user)) {
        Ok(()) => Ok((link, user)),
        Err(None) => Err(gone()),
        Err(Some(d)) => Err(ScimError::new(403, None, d.message())),
    }
}

fn check_email(input: &UserInput) -> Result<String, ScimError> {
    validate::optional_email(&input.email).map_err(|e| ScimError::invalid_value(format!("emails: {}", e.message)))
}

/// `POST /Users`.
pub async fn create_user(b: &Backend, c: &ScimCaller, body: &Value) -> Result<Value, ScimError> {
    let input = d::read_user(body)?;
    let email = check_email(&input)?;
    let full_name = validate::full_name(&input.full_name).map_err(|e| ScimError::invalid_value(e.message))?;
    let now = b.now();
    let ctx = &c.ctx;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let conn = &c.connection;
    if tx.scim_user_by_name(conn.id, &input.user_name.to_lowercase()).await.map_err(store_err)?.is_some() {
        return Err(ScimError::uniqueness(format!("A user with userName {} exists already.", input.user_name)));
    }
    let org = conn.default_org.ok_or_else(|| {
        ScimError::new(409, None, "This connection has no organization for new people: a super admin must set one.")
    })?;
    let role = conn.default_role.ok_or_else(|| {
        ScimError::new(409, None, "This connection has no role for new people: a super admin must set one.")
    })?;
    let role_rec = tx
        .role(role)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::new(409, None, "The connection's role is gone."))?;
    let actor = actor_in(&mut tx, ctx, org).await.map_err(from_error)?;
    policy::can_create_member(actor, role_rec.abilities).map_err(|d| ScimError::new(403, None, d.message()))?;
    let status = if input.active.unwrap_or(true) { UserStatus::Active } else { UserStatus::Disabled };
    // The userName as the Roster username when Roster accepts it (then an existing account of
    // that name is a conflict, or adopted); else a derived one, numbered past those taken.
    let exact = validate::username(&input.user_name).is_ok();
    let mut username = d::roster_username(&input.user_name, 1);
    let mut existing = tx.user_by_username(&validate::username_key(&username)).await.map_err(store_err)?;
    let mut n = 2;
    while !exact && existing.is_some() {
        if n > 50 {
            return Err(ScimError::uniqueness(format!("No free Roster username for userName {}.", input.user_name)));
        }
        username = d::roster_username(&input.user_name, n);
        existing = tx.user_by_username(&validate::username_key(&username)).await.map_err(store_err)?;
        n += 1;
    }
    let (id, event, before) = match existing {
        Some(u) => {
            let elsewhere = tx.scim_link(u.id).await.map_err(store_err)?.is_some();
            if !policy::scim_may_adopt(conn.adopt_existing, target(&u), elsewhere) {
                return Err(ScimError::uniqueness(format!(
                    "A Roster account named {username} exists already and this connection does not take over \
                     existing accounts."
                )));
            }
            let mut after = u.clone();
            after.full_name = full_name;
            after.email = email;
            after.status = status;
            tx.update_user(&after, now).await.map_err(store_err)?;
            if u.status == UserStatus::Active && status == UserStatus::Disabled {
                tx.delete_sessions_of(u.id, None).await.map_err(store_err)?;
            }
            (u.id, "user.adopted", Some(user_snapshot(&u)))
        }
        None => {
            let id = tx
                .insert_user(&UserInsert {
                    username: username.clone(),
                    full_name,
                    email,
                    password_hash: None,
                    status,
                    super_admin: false,
                    created_at: now,
                })
                .await
                .map_err(store_err)?;
            (id, "user.created", None)
        }
    };
    let link = ScimUserRecord {
        user_id: id,
        connection_id: conn.id,
        user_name: input.user_name.clone(),
        external_id: input.external_id.clone(),
        attributes: input.attributes.to_string(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    tx.save_scim_user(&link).await.map_err(store_err)?;
    let after = tx.user_by_id(id).await.map_err(store_err)?.ok_or_else(|| ScimError::not_found("User not found."))?;
    let mut ev = audit(b, ctx, event, true);
    ev.org_id = Some(org);
    ev.target = Some(after.username.clone());
    ev.before = before;
    let mut snap = user_snapshot(&after);
    snap["scim"] = json!(conn.slug);
    snap["org_id"] = json!(org.0);
    snap["role_id"] = json!(role.0);
    ev.after = Some(snap);
    tx.insert_audit(&ev).await.map_err(store_err)?;
    // The placement for new people (a membership the connection manages; an adopted
    // account's own membership there stays as it was made).
    let changed = scim_mappings::reconcile(b, ctx, &mut tx, conn, &[id]).await.map_err(from_error)?;
    scim_mappings::commit_people(b, tx, changed.with(id)).await.map_err(from_error)?;
    let saved = b
        .store
        .scim_user(conn.id, id)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::not_found("User not found."))?;
    Ok(d::user_resource(&stored(&saved), &c.base))
}

/// `GET /Users/{id}`: deactivated accounts stay readable (Okta checks that).
pub async fn get_user(b: &Backend, c: &ScimCaller, id: &str) -> Result<Value, ScimError> {
    let uid = parse_id(id)?;
    let r = b
        .store
        .scim_user(c.connection.id, uid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::not_found(format!("User {id} not found.")))?;
    Ok(d::user_resource(&stored(&r), &c.base))
}

/// `GET /Users` and `POST /Users/.search`.
pub async fn list_users(
    b: &Backend,
    c: &ScimCaller,
    filter: Option<&str>,
    start_index: i64,
    count: i64,
) -> Result<Value, ScimError> {
    let mut q =
        ScimUserQuery { connection_id: c.connection.id, offset: start_index - 1, limit: count, ..Default::default() };
    if let Some(text) = filter.map(str::trim).filter(|f| !f.is_empty()) {
        let f = scim_filter::parse_filter(text).map_err(|e| ScimError::invalid_filter(format!("{text}: {e}")))?;
        let (clause, binds) = where_clause(&f, 2)?;
        q.clause = Some(clause);
        q.binds = binds;
    }
    let total = b.store.count_scim_users(&q).await.map_err(store_err)?;
    let rows = if count == 0 { vec![] } else { b.store.scim_users(&q).await.map_err(store_err)? };
    let resources = rows.iter().map(|r| d::user_resource(&stored(r), &c.base)).collect();
    Ok(d::list_response(resources, total, start_index))
}

/// `PUT /Users/{id}`: the whole resource replaced. The Roster username stays (usernames never
/// change); a new userName is kept as the SCIM one.
pub async fn replace_user(b: &Backend, c: &ScimCaller, id: &str, body: &Value) -> Result<Value, ScimError> {
    let input = d::read_user(body)?;
    write_user(b, c, id, Write::Replace(input)).await
}

/// `PATCH /Users/{id}`.
pub async fn patch_user(b: &Backend, c: &ScimCaller, id: &str, body: &Value) -> Result<Value, ScimError> {
    let ops = d::read_patch(body)?;
    write_user(b, c, id, Write::Patch(ops)).await
}

enum Write {
    Replace(UserInput),
    Patch(Vec<d::PatchOp>),
}

async fn write_user(b: &Backend, c: &ScimCaller, id: &str, w: Write) -> Result<Value, ScimError> {
    let now = b.now();
    let ctx = &c.ctx;
    let conn = &c.connection;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let (link, before) = managed(&mut tx, c, id).await?;
    let current = stored(&link);
    // `active` removed by a PATCH is unassigned: the account goes back to the default a create
    // gives (active). A PUT without it leaves the status as it is.
    let mut reactivate = false;
    let input = match w {
        Write::Replace(i) => i,
        Write::Patch(ops) => {
            let patched = d::patch_user(&current, &link.user_name, &ops)?;
            reactivate = current.attributes.get("active").is_some() && patched.get("active").is_none();
            d::read_user(&patched)?
        }
    };
    if !input.user_name.eq_ignore_ascii_case(&link.user_name) {
        if let Some(other) = tx.scim_user_by_name(conn.id, &input.user_name.to_lowercase()).await.map_err(store_err)? {
            if other.user_id != link.user_id {
                return Err(ScimError::uniqueness(format!("A user with userName {} exists already.", input.user_name)));
            }
        }
    }
    let email = check_email(&input)?;
    let full_name = validate::full_name(&input.full_name).map_err(|e| ScimError::invalid_value(e.message))?;
    let mut after = before.clone();
    after.full_name = full_name;
    after.email = email;
    if let Some(active) = input.active {
        after.status = if active { UserStatus::Active } else { UserStatus::Disabled };
    } else if reactivate {
        after.status = UserStatus::Active;
    }
    tx.update_user(&after, now).await.map_err(store_err)?;
    let disabled = before.status == UserStatus::Active && after.status == UserStatus::Disabled;
    // A deactivated person is signed out now, on every instance (the sessions are gone from
    // the database and the change reaches the others' caches through the change feed).
    if disabled {
        tx.delete_sessions_of(after.id, None).await.map_err(store_err)?;
    }
    let saved = ScimUserRecord {
        user_name: input.user_name.clone(),
        external_id: input.external_id.clone(),
        attributes: input.attributes.to_string(),
        updated_at: now,
        ..link.clone()
    };
    tx.save_scim_user(&saved).await.map_err(store_err)?;
    let event = if disabled {
        "user.disabled"
    } else if before.status != after.status {
        "user.enabled"
    } else {
        "user.updated"
    };
    let mut ev = audit(b, ctx, event, true);
    ev.target = Some(after.username.clone());
    ev.before = Some(user_snapshot(&before));
    let mut snap = user_snapshot(&after);
    snap["scim"] = json!(conn.slug);
    ev.after = Some(snap);
    tx.insert_audit(&ev).await.map_err(store_err)?;
    commit_access(b, tx, Change::User(after.id)).await.map_err(from_error)?;
    get_user(b, c, id).await
}

/// `DELETE /Users/{id}`: by default the account is disabled (its sessions end) and leaves the
/// connection (SCIM then answers 404 for it, as the RFC wants; the account and its history
/// stay in Roster); with `delete_mode = delete` it is deleted.
pub async fn delete_user(b: &Backend, c: &ScimCaller, id: &str) -> Result<(), ScimError> {
    let now = b.now();
    let ctx = &c.ctx;
    let conn = &c.connection;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let (_, before) = managed(&mut tx, c, id).await?;
    let left = tx.memberships(before.id).await.map_err(store_err)?;
    let event = if conn.delete_mode == "delete" {
        tx.delete_user(before.id).await.map_err(store_err)?;
        "user.deleted"
    } else {
        let mut after = before.clone();
        after.status = UserStatus::Disabled;
        tx.update_user(&after, now).await.map_err(store_err)?;
        tx.delete_sessions_of(before.id, None).await.map_err(store_err)?;
        // Let go: out of the connection's groups, and the memberships it managed stay as
        // manual ones (the account and what it could do are kept, as with any disabled one).
        tx.release_scim_person(conn.id, before.id).await.map_err(store_err)?;
        tx.delete_scim_user(before.id).await.map_err(store_err)?;
        "user.disabled"
    };
    let mut ev = audit(b, ctx, event, true);
    ev.target = Some(before.username.clone());
    ev.before = Some(user_snapshot(&before));
    ev.after = Some(json!({ "scim": conn.slug, "scim_delete": conn.delete_mode }));
    tx.insert_audit(&ev).await.map_err(store_err)?;
    let note = super::EventNote { name: Some(before.username.clone()), orgs: left };
    super::commit_access_noting(b, tx, Change::User(before.id), note).await.map_err(from_error)?;
    Ok(())
}

// ---- Groups ----------------------------------------------------------------------------
// A connection's directory groups: stored with their members (accounts it provisioned); they
// grant nothing until mapped to an organization and role.

use crate::backend::store::scim_groups::group_where_clause;
use crate::backend::store::{ScimGroupQuery, ScimGroupRecord};
use crate::domain::scim::{GroupInput, MemberOp, StoredGroup};
use std::collections::HashSet;

fn group_id(id: &str) -> Result<i64, ScimError> {
    id.trim().parse::<i64>().map_err(|_| ScimError::not_found(format!("Group {id} not found.")))
}

/// Member ids as sent, checked to be accounts this connection provisioned.
async fn resolve_members(tx: &mut Box<dyn Tx>, c: &ScimCaller, values: &[String]) -> Result<Vec<UserId>, ScimError> {
    let mut ids = Vec::with_capacity(values.len());
    for v in values {
        let id = v.parse::<i64>().map_err(|_| ScimError::invalid_value(format!("members: no User {v} here.")))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let linked = tx.scim_linked_users(c.connection.id, &ids).await.map_err(store_err)?;
    if let Some(missing) = ids.iter().find(|i| !linked.contains(i)) {
        return Err(ScimError::invalid_value(format!(
            "members: no User {missing} among this connection's accounts (groups hold Users it provisioned)."
        )));
    }
    Ok(ids.into_iter().map(UserId).collect())
}

/// Ids as sent, where they are numbers (removing one that is not there is a no-op).
fn loose_ids(values: &[String]) -> Vec<UserId> {
    values.iter().filter_map(|v| v.parse::<i64>().ok()).map(UserId).collect()
}

fn stored_group(g: &ScimGroupRecord, members: Option<Vec<i64>>) -> StoredGroup {
    StoredGroup {
        id: g.id,
        display_name: g.display_name.clone(),
        external_id: g.external_id.clone(),
        members,
        created_at: g.created_at,
        updated_at: g.updated_at,
    }
}

async fn group_audit(
    b: &Backend,
    c: &ScimCaller,
    tx: &mut Box<dyn Tx>,
    event: &'static str,
    g: &ScimGroupRecord,
    detail: Value,
) -> Result<(), ScimError> {
    let mut ev = audit_global(b, &c.ctx, event, true);
    ev.target = Some(g.display_name.clone());
    let mut after = json!({ "scim": c.connection.slug, "group_id": g.id, "display_name": g.display_name });
    if let (Value::Object(a), Value::Object(d)) = (&mut after, detail) {
        a.extend(d);
    }
    ev.after = Some(after);
    tx.insert_audit(&ev).await.map_err(store_err)
}

/// `POST /Groups`.
pub async fn create_group(b: &Backend, c: &ScimCaller, body: &Value) -> Result<Value, ScimError> {
    let input = d::read_group(body)?;
    let now = b.now();
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let key = input.display_name.to_lowercase();
    if tx.scim_group_by_name(c.connection.id, &key).await.map_err(store_err)?.is_some() {
        return Err(ScimError::uniqueness(format!("A group named {} exists already.", input.display_name)));
    }
    let members = resolve_members(&mut tx, c, input.members.as_deref().unwrap_or_default()).await?;
    let mut g = ScimGroupRecord {
        id: 0,
        connection_id: c.connection.id,
        display_name: input.display_name.clone(),
        external_id: input.external_id.clone(),
        created_at: now,
        updated_at: now,
    };
    g.id = tx.insert_scim_group(&g).await.map_err(|e| match e {
        crate::backend::store::StoreError::Conflict { .. } => {
            ScimError::uniqueness(format!("A group named {} exists already.", input.display_name))
        }
        other => store_err(other),
    })?;
    tx.add_scim_group_members(g.id, &members).await.map_err(store_err)?;
    group_audit(b, c, &mut tx, "scim.group_created", &g, json!({ "members": members.len() })).await?;
    tx.commit().await.map_err(store_err)?;
    get_group(b, c, &g.id.to_string(), true).await
}

/// `GET /Groups/{id}` (`with_members`: false for `excludedAttributes=members`).
pub async fn get_group(b: &Backend, c: &ScimCaller, id: &str, with_members: bool) -> Result<Value, ScimError> {
    let gid = group_id(id)?;
    let g = b
        .store
        .scim_group(c.connection.id, gid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::not_found(format!("Group {id} not found.")))?;
    let members = if with_members {
        Some(b.store.scim_group_members(&[g.id]).await.map_err(store_err)?.into_iter().map(|(_, u)| u).collect())
    } else {
        None
    };
    Ok(d::group_resource(&stored_group(&g, members), &c.base))
}

/// `GET /Groups` and `POST /Groups/.search`: one query for the page, one for its members.
pub async fn list_groups(
    b: &Backend,
    c: &ScimCaller,
    filter: Option<&str>,
    start_index: i64,
    count: i64,
    with_members: bool,
) -> Result<Value, ScimError> {
    let mut q =
        ScimGroupQuery { connection_id: c.connection.id, offset: start_index - 1, limit: count, ..Default::default() };
    if let Some(text) = filter.map(str::trim).filter(|f| !f.is_empty()) {
        let f = scim_filter::parse_filter(text).map_err(|e| ScimError::invalid_filter(format!("{text}: {e}")))?;
        let (clause, binds) = group_where_clause(&f, 2)?;
        q.clause = Some(clause);
        q.binds = binds;
    }
    let total = b.store.count_scim_groups(&q).await.map_err(store_err)?;
    let rows = if count == 0 { vec![] } else { b.store.scim_groups(&q).await.map_err(store_err)? };
    let mut members: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    if with_members && !rows.is_empty() {
        let ids: Vec<i64> = rows.iter().map(|g| g.id).collect();
        for (g, u) in b.store.scim_group_members(&ids).await.map_err(store_err)? {
            members.entry(g).or_default().push(u);
        }
    }
    let resources = rows
        .iter()
        .map(|g| {
            let m = with_members.then(|| members.remove(&g.id).unwrap_or_default());
            d::group_resource(&stored_group(g, m), &c.base)
        })
        .collect();
    Ok(d::list_response(resources, total, start_index))
}

/// `PUT /Groups/{id}`: name, externalId and members replaced.
pub async fn replace_group(b: &Backend, c: &ScimCaller, id: &str, body: &Value) -> Result<Value, ScimError> {
    let input: GroupInput = d::read_group(body)?;
    let plan = d::GroupPatch {
        display_name: Some(input.display_name),
        external_id: Some(input.external_id),
        members: vec![MemberOp::Replace(input.members.unwrap_or_default())],
    };
    write_group(b, c, id, plan).await?;
    get_group(b, c, id, true).await
}

/// `PATCH /Groups/{id}`: answered 204 (a provider patching a group of thousands does not want
/// them all back each time).
pub async fn patch_group(b: &Backend, c: &ScimCaller, id: &str, body: &Value) -> Result<(), ScimError> {
    let ops = d::read_patch(body)?;
    let plan = d::plan_group_patch(&ops)?;
    write_group(b, c, id, plan).await
}

async fn write_group(b: &Backend, c: &ScimCaller, id: &str, plan: d::GroupPatch) -> Result<(), ScimError> {
    let gid = group_id(id)?;
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let before = tx
        .scim_group(c.connection.id, gid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::not_found(format!("Group {id} not found.")))?;
    let mut g = before.clone();
    if let Some(name) = plan.display_name {
        if name.trim().is_empty() {
            return Err(ScimError::invalid_value("displayName is required."));
        }
        if !name.eq_ignore_ascii_case(&before.display_name)
            && tx.scim_group_by_name(c.connection.id, &name.to_lowercase()).await.map_err(store_err)?.is_some()
        {
            return Err(ScimError::uniqueness(format!("A group named {name} exists already.")));
        }
        g.display_name = name;
    }
    if let Some(e) = plan.external_id {
        g.external_id = e;
    }
    g.updated_at = now;
    tx.update_scim_group(&g).await.map_err(store_err)?;
    // A mapped group's member changes move access: the members before and after are
    // compared, and only those who joined or left are reconciled.
    let mapped = tx.scim_group_mapped(g.id).await.map_err(store_err)?;
    let members_before = if mapped { tx.scim_group_member_ids(g.id).await.map_err(store_err)? } else { vec![] };
    let (mut added, mut removed) = (0usize, 0usize);
    for op in plan.members {
        match op {
            MemberOp::Add(values) => {
                let ids = resolve_members(&mut tx, c, &values).await?;
                added += ids.len();
                tx.add_scim_group_members(g.id, &ids).await.map_err(store_err)?;
            }
            MemberOp::Replace(values) => {
                let ids = resolve_members(&mut tx, c, &values).await?;
                tx.clear_scim_group_members(g.id).await.map_err(store_err)?;
                added += ids.len();
                tx.add_scim_group_members(g.id, &ids).await.map_err(store_err)?;
            }
            MemberOp::Remove(values) => {
                let ids = loose_ids(&values);
                removed += ids.len();
                tx.remove_scim_group_members(g.id, &ids).await.map_err(store_err)?;
            }
            MemberOp::RemoveWhere(filter) => {
                let current = tx.scim_group_member_ids(g.id).await.map_err(store_err)?;
                let gone: Vec<UserId> = current
                    .into_iter()
                    .filter(|m| scim_filter::matches(&filter, &json!({ "value": m.to_string(), "type": "User" })))
                    .map(UserId)
                    .collect();
                removed += gone.len();
                tx.remove_scim_group_members(g.id, &gone).await.map_err(store_err)?;
            }
            MemberOp::RemoveAll => tx.clear_scim_group_members(g.id).await.map_err(store_err)?,
        }
    }
    let detail = json!({ "before": before.display_name, "added": added, "removed": removed });
    group_audit(b, c, &mut tx, "scim.group_updated", &g, detail).await?;
    let moved = if mapped {
        let after = tx.scim_group_member_ids(g.id).await.map_err(store_err)?;
        let (was, now): (HashSet<i64>, HashSet<i64>) =
            (members_before.into_iter().collect(), after.into_iter().collect());
        was.symmetric_difference(&now).map(|u| UserId(*u)).collect()
    } else {
        vec![]
    };
    let changed = scim_mappings::reconcile(b, &c.ctx, &mut tx, &c.connection, &moved).await.map_err(from_error)?;
    scim_mappings::commit_people(b, tx, changed).await.map_err(from_error)
}

/// `DELETE /Groups/{id}`.
pub async fn delete_group(b: &Backend, c: &ScimCaller, id: &str) -> Result<(), ScimError> {
    let gid = group_id(id)?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await.map_err(store_err)?;
    let g = tx
        .scim_group(c.connection.id, gid)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ScimError::not_found(format!("Group {id} not found.")))?;
    // Its mappings go with it: its members lose what they gave.
    let members = if tx.scim_group_mapped(g.id).await.map_err(store_err)? {
        tx.scim_group_member_ids(g.id).await.map_err(store_err)?.into_iter().map(UserId).collect()
    } else {
        vec![]
    };
    tx.delete_scim_group(g.id).await.map_err(store_err)?;
    group_audit(b, c, &mut tx, "scim.group_deleted", &g, json!({})).await?;
    let changed = scim_mappings::reconcile(b, &c.ctx, &mut tx, &c.connection, &members).await.map_err(from_error)?;
    scim_mappings::commit_people(b, tx, changed).await.map_err(from_error)
}
