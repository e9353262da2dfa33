//! Directory group mappings (a connection's SCIM group -> an organization and role) and the
//! reconcile step that keeps the memberships a connection manages in line with them.
//!
//! Mappings are managed by super admins (they grant roles through an identity provider),
//! inside what the connection's service account may grant in that organization. Every SCIM
//! change that can move a person's access (a create, a group's members, a group deleted, a
//! mapping made or removed) calls `reconcile` for the people concerned, in its own
//! transaction: one plan (`domain::scim_mapping::plan`), its writes, one audit event per
//! membership changed, one access change per person.
use serde_json::json;
use std::collections::BTreeMap;

use super::{actor_in, audit, audit_global, record_change, sudo_grants, EventNote};
use crate::backend::access::Change;
use crate::backend::store::{ScimConnectionRecord, ScimMappingRecord, Tx};
use crate::backend::{Backend, Ctx};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy::{self, Actor};
use crate::domain::scim_mapping::{self as m, MembershipChange, Placement, ScimMapping, ScimMappingInput};

/// Past this many people changed at once, the other instances reload the access model once
/// rather than hear of each person (a first push of a large mapped group).
const MANY: usize = 200;

fn describe(r: &ScimMappingRecord) -> ScimMapping {
    ScimMapping {
        id: r.id,
        group: r.group_name.clone(),
        org: r.org_name.clone(),
        role: r.role_name.clone(),
        abilities: r.abilities,
        priority: r.priority,
        members: r.members,
    }
}

async fn connection(tx: &mut Box<dyn Tx>, slug: &str) -> Result<ScimConnectionRecord, Error> {
    tx.scim_connection(slug.trim()).await?.ok_or_else(|| Error::not_found("SCIM connection"))
}

/// A connection's mappings, by group then organization.
pub async fn list_mappings(b: &Backend, ctx: &Ctx, slug: &str) -> Result<Vec<ScimMapping>, Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    let c = b.store.scim_connection(slug.trim()).await?.ok_or_else(|| Error::not_found("SCIM connection"))?;
    Ok(b.store.scim_mappings(c.id).await?.iter().map(describe).collect())
}

/// Maps a group to an organization and role; its members get (or move to) that role there
/// now, where it is their highest-priority mapping.
pub async fn create_mapping(b: &Backend, ctx: &Ctx, slug: &str, input: ScimMappingInput) -> Result<ScimMapping, Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut extras = AbilitySet::default();
    for code in input.abilities.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let a = Ability::parse(code)
            .ok_or_else(|| Error::invalid("abilities", format!("'{code}' is not an ability Roster knows.")))?;
        extras.insert(a);
    }
    if !m::PRIORITIES.contains(&input.priority) {
        return Err(Error::invalid(
            "priority",
            format!("The priority must be between {} and {}.", m::PRIORITIES.start(), m::PRIORITIES.end()),
        ));
    }
    let group_name = input.group.trim();
    if group_name.is_empty() {
        return Err(Error::invalid("group", "Name the directory group to map."));
    }
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_manage_scim(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let conn = connection(&mut tx, slug).await?;
    if tx.count_scim_mappings(conn.id).await? >= crate::backend::store::scim_mappings::MAX_MAPPINGS {
        return Err(Error::invalid(
            "group",
            format!(
                "This connection has {} mappings, the most it may have.",
                crate::backend::store::scim_mappings::MAX_MAPPINGS
            ),
        ));
    }
    let group = tx.scim_group_by_name(conn.id, &group_name.to_lowercase()).await?.ok_or_else(|| {
        Error::invalid(
            "group",
            format!("This connection has no group named '{group_name}' (groups arrive from the identity provider)."),
        )
    })?;
    let org_name = input.org.trim();
    let org =
        tx.org_by_name(&org_name.to_lowercase()).await?.filter(|o| conn.orgs.contains(&o.id)).ok_or_else(|| {
            Error::invalid("org", format!("'{org_name}' is not one of the connection's organizations."))
        })?;
    let role_name = input.role.trim();
    let role = tx
        .role_by_name(&role_name.to_lowercase())
        .await?
        .ok_or_else(|| Error::invalid("role", format!("There is no role named '{role_name}'.")))?;
    // Never beyond what the connection's service account may grant there.
    let (_, held) = tx.actor_facts(conn.service_user_id, org.id).await?.unwrap_or_default();
    let service = Actor { id: conn.service_user_id, super_admin: false, abilities: held };
    policy::can_create_member(Some(service), role.abilities.union(extras)).map_err(Error::Forbidden)?;
    let rec = ScimMappingRecord {
        group_id: group.id,
        org: org.id,
        role: role.id,
        abilities: extras,
        priority: input.priority,
        created_at: now,
        id: 0,
        group_name: String::new(),
        org_name: String::new(),
        role_name: String::new(),
        members: 0,
    };
    let id = tx.insert_scim_mapping(&rec).await.map_err(|e| match Error::from(e) {
        Error::Conflict { .. } => Error::Conflict {
            field: Some("group".into()),
            message: format!("{} is mapped to {} already: remove that mapping first.", group.display_name, org.name),
        },
        other => other,
    })?;
    let mut ev = audit_global(b, ctx, "scim.mapping_created", true);
    ev.target = Some(conn.slug.clone());
    ev.after = Some(json!({
        "mapping_id": id, "group": group.display_name, "group_id": group.id, "org": org.name,
        "role": role.name, "abilities": extras.codes(), "priority": input.priority,
    }));
    tx.insert_audit(&ev).await?;
    let members: Vec<UserId> = tx.scim_group_member_ids(group.id).await?.into_iter().map(UserId).collect();
    let changed = reconcile(b, ctx, &mut tx, &conn, &members).await?;
    let saved = tx.scim_mapping(conn.id, id).await?.ok_or_else(|| Error::not_found("Mapping"))?;
    commit_people(b, tx, changed).await?;
    Ok(describe(&saved))
}

/// Removes a mapping; its group's members lose what it gave them (falling back to their next
/// mapping there, or leaving the organization when none is left).
pub async fn delete_mapping(b: &Backend, ctx: &Ctx, slug: &str, id: i64) -> Result<(), Error> {
    policy::can_manage_scim(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_manage_scim(actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let conn = connection(&mut tx, slug).await?;
    let before = tx.scim_mapping(conn.id, id).await?.ok_or_else(|| Error::not_found("Mapping"))?;
    tx.delete_scim_mapping(before.id).await?;
    let mut ev = audit_global(b, ctx, "scim.mapping_deleted", true);
    ev.target = Some(conn.slug.clone());
    ev.before = Some(json!({
        "mapping_id": before.id, "group": before.group_name, "group_id": before.group_id, "org": before.org_name,
        "role": before.role_name, "abilities": before.abilities.codes(), "priority": before.priority,
    }));
    tx.insert_audit(&ev).await?;
    let members: Vec<UserId> = tx.scim_group_member_ids(before.group_id).await?.into_iter().map(UserId).collect();
    let changed = reconcile(b, ctx, &mut tx, &conn, &members).await?;
    commit_people(b, tx, changed).await
}

/// People whose memberships changed, with the organizations each left (their access events
/// name those too).
#[derive(Debug, Default)]
pub(crate) struct Changed(BTreeMap<UserId, Vec<OrgId>>);

impl Changed {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Counts `user` as changed (an account the same transaction created or updated).
    pub(crate) fn with(mut self, user: UserId) -> Self {
        self.0.entry(user).or_default();
        self
    }
}

/// Brings the memberships this connection manages for `users` in line with its mappings and
/// its placement for new people, inside `tx`: people it does not manage (not linked to it, a
/// super admin, the public account) are left alone, and so is every membership made by hand.
/// Each change is audited with `ctx` (the connection's service account, or the admin who
/// changed a mapping) as actor. Takes the caller's access writer turn for granted.
pub(crate) async fn reconcile(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    conn: &ScimConnectionRecord,
    users: &[UserId],
) -> Result<Changed, Error> {
    if users.is_empty() {
        return Ok(Changed::default());
    }
    let people: BTreeMap<UserId, String> = tx.scim_managed_people(conn.id, users).await?.into_iter().collect();
    let ids: Vec<UserId> = people.keys().copied().collect();
    if ids.is_empty() {
        return Ok(Changed::default());
    }
    let mut placements = tx.scim_placements(conn.id, &ids).await?;
    if let (Some(org), Some(role)) = (conn.default_org, conn.default_role) {
        placements.extend(ids.iter().map(|u| Placement {
            user: *u,
            org,
            role,
            extras: AbilitySet::default(),
            priority: 0,
            mapping: None,
        }));
    }
    let held = tx.held_memberships(&ids).await?;
    let changes = m::plan(conn.id, &ids, &placements, &held);
    if changes.is_empty() {
        return Ok(Changed::default());
    }
    tx.apply_membership_changes(conn.id, &changes, b.now()).await?;
    let (org_names, role_names) = {
        let model = b.access.read();
        (model.orgs.clone(), model.roles.iter().map(|(id, r)| (*id, r.name.clone())).collect::<BTreeMap<_, _>>())
    };
    let org_name = |o: OrgId| org_names.get(&o).cloned().unwrap_or_else(|| o.0.to_string());
    let role_name = |r| role_names.get(&r).cloned().unwrap_or_default();
    let source = format!("scim:{}", conn.slug);
    let mut changed = Changed::default();
    for c in &changes {
        let user = c.user();
        let left = changed.0.entry(user).or_default();
        let (event, org, before, after) = match c {
            MembershipChange::Add(p) => ("member.added", p.org, None, Some(placed(p, &role_name))),
            MembershipChange::Update { from, to } => (
                "member.updated",
                to.org,
                Some(json!({ "role": role_name(from.role), "extras": from.extras.codes() })),
                Some(placed(to, &role_name)),
            ),
            MembershipChange::Remove(h) => {
                left.push(h.org);
                ("member.removed", h.org, Some(json!({ "role": role_name(h.role), "extras": h.extras.codes() })), None)
            }
        };
        let mut ev = audit(b, ctx, event, true);
        ev.org_id = Some(org);
        ev.target = people.get(&user).cloned();
        let with_org = |v: Option<serde_json::Value>| {
            v.map(|mut v| {
                v["org"] = json!(org_name(org));
                v["source"] = json!(source);
                v
            })
        };
        ev.before = with_org(before);
        ev.after = with_org(after);
        tx.insert_audit(&ev).await?;
    }
    Ok(changed)
}

fn placed(p: &Placement, role_name: &impl Fn(crate::domain::ids::RoleId) -> String) -> serde_json::Value {
    json!({ "role": role_name(p.role), "extras": p.extras.codes(), "mapping_id": p.mapping })
}

/// Commits a transaction that changed `changed` people's memberships: one access change (and
/// event) per person, or one reload everywhere past `MANY`. The caller holds the writer turn.
pub(crate) async fn commit_people(b: &Backend, mut tx: Box<dyn Tx>, changed: Changed) -> Result<(), Error> {
    if changed.is_empty() {
        tx.commit().await?;
        return Ok(());
    }
    if changed.0.len() > MANY {
        let version = record_change(b, &mut tx, Change::All, EventNote::default()).await?;
        tx.commit().await?;
        b.access.apply(b.store.as_ref(), version, Change::All).await?;
        return Ok(());
    }
    let mut versions = Vec::with_capacity(changed.0.len());
    for (user, left) in changed.0 {
        let note = EventNote { name: None, orgs: left };
        versions.push((record_change(b, &mut tx, Change::User(user), note).await?, user));
    }
    tx.commit().await?;
    for (version, user) in versions {
        b.access.apply(b.store.as_ref(), version, Change::User(user)).await?;
    }
    Ok(())
}
