//! The access model in memory: who holds which role in which organization, what each role
//! grants, extra grants, super admins and the public account. It answers "may this user do
//! this here?" with a hash look-up and a bit test, and explains the answer. The server keeps
//! one instance in step with the database (see `backend::access`); this module is pure.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::abilities::{Ability, AbilitySet};
use super::ids::{OrgId, RoleId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleEntry {
    pub name: String,
    pub abilities: AbilitySet,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    pub username: String,
    pub super_admin: bool,
    pub active: bool,
}

/// One user's place in one organization: exactly one role, plus extra abilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub role: RoleId,
    pub extras: AbilitySet,
}

/// Why a check came out the way it did (ids only: the fast path allocates nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grounds {
    SuperAdmin,
    Role(RoleId),
    Extra,
    PublicRole(RoleId),
    PublicExtra,
    /// A member whose role and extras (and the public account's) lack the ability.
    Lacking,
    NotMember,
    Disabled,
    UnknownUser,
    UnknownOrg,
}

impl Grounds {
    pub fn allowed(self) -> bool {
        matches!(
            self,
            Grounds::SuperAdmin | Grounds::Role(_) | Grounds::Extra | Grounds::PublicRole(_) | Grounds::PublicExtra
        )
    }

    pub fn code(self) -> &'static str {
        match self {
            Grounds::SuperAdmin => "super_admin",
            Grounds::Role(_) => "role",
            Grounds::Extra => "extra_grant",
            Grounds::PublicRole(_) => "public_role",
            Grounds::PublicExtra => "public_extra_grant",
            Grounds::Lacking => "missing_ability",
            Grounds::NotMember => "not_member",
            Grounds::Disabled => "account_disabled",
            Grounds::UnknownUser => "unknown_user",
            Grounds::UnknownOrg => "unknown_org",
        }
    }
}

/// One link of an explanation: where an ability could come from and whether it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Step {
    /// `super_admin`, `role`, `extra_grant`, `public_role`, `public_extra_grant`, `membership`, `account`.
    pub source: String,
    pub grants: bool,
    pub detail: String,
}

/// A decision with the chain that led to it, for people (UI page, API, CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Explanation {
    pub user: Option<String>,
    pub org: String,
    pub ability: Ability,
    pub allowed: bool,
    pub code: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessModel {
    pub roles: HashMap<RoleId, RoleEntry>,
    pub users: HashMap<UserId, UserEntry>,
    pub user_ids: HashMap<String, UserId>,
    pub orgs: HashMap<OrgId, String>,
    pub org_ids: HashMap<String, OrgId>,
    pub grants: HashMap<(UserId, OrgId), Grant>,
    /// The built-in account standing for anonymous visitors; what it may do, everyone may.
    pub public: Option<UserId>,
}

impl AccessModel {
    pub fn set_user(&mut self, id: UserId, e: UserEntry) {
        if let Some(old) = self.users.get(&id) {
            if old.username != e.username {
                self.user_ids.remove(&old.username.to_ascii_lowercase());
            }
        }
        self.user_ids.insert(e.username.to_ascii_lowercase(), id);
        self.users.insert(id, e);
    }

    pub fn remove_user(&mut self, id: UserId) {
        if let Some(old) = self.users.remove(&id) {
            self.user_ids.remove(&old.username.to_ascii_lowercase());
        }
        let orgs: Vec<OrgId> = self.orgs.keys().copied().collect();
        for o in orgs {
            self.grants.remove(&(id, o));
        }
    }

    pub fn set_org(&mut self, id: OrgId, name: String) {
        if let Some(old) = self.orgs.get(&id) {
            self.org_ids.remove(&old.to_lowercase());
        }
        self.org_ids.insert(name.to_lowercase(), id);
        self.orgs.insert(id, name);
    }

    pub fn remove_org(&mut self, id: OrgId) {
        if let Some(old) = self.orgs.remove(&id) {
            self.org_ids.remove(&old.to_lowercase());
        }
        self.grants.retain(|(_, o), _| *o != id);
    }

    pub fn user_id(&self, username: &str) -> Option<UserId> {
        self.user_ids.get(&username.to_ascii_lowercase()).copied()
    }

    pub fn org_id(&self, name: &str) -> Option<OrgId> {
        self.org_ids.get(&name.to_lowercase()).copied()
    }

    fn role_abilities(&self, r: RoleId) -> AbilitySet {
        self.roles.get(&r).map(|e| e.abilities).unwrap_or_default()
    }

    /// What the public account grants everyone in `org`.
    fn public_grant(&self, org: OrgId) -> Option<Grant> {
        self.public.and_then(|p| self.grants.get(&(p, org)).copied())
    }

    /// The decision for `user` (None: an anonymous visitor) doing `ability` in `org`.
    pub fn decide(&self, user: Option<UserId>, org: OrgId, ability: Ability) -> Grounds {
        if !self.orgs.contains_key(&org) {
            return Grounds::UnknownOrg;
        }
        let mut member = false;
        if let Some(u) = user {
            let Some(e) = self.users.get(&u) else { return Grounds::UnknownUser };
            if !e.active {
                return Grounds::Disabled;
            }
            if e.super_admin {
                return Grounds::SuperAdmin;
            }
            if let Some(g) = self.grants.get(&(u, org)) {
                member = true;
                if self.role_abilities(g.role).contains(ability) {
                    return Grounds::Role(g.role);
                }
                if g.extras.contains(ability) {
                    return Grounds::Extra;
                }
            }
        }
        if let Some(p) = self.public_grant(org) {
            if self.role_abilities(p.role).contains(ability) {
                return Grounds::PublicRole(p.role);
            }
            if p.extras.contains(ability) {
                return Grounds::PublicExtra;
            }
        }
        if member || user.is_none() {
            Grounds::Lacking
        } else {
            Grounds::NotMember
        }
    }

    /// Everything `user` may do in `org` (role, extras and the public account's), and whether
    /// the user bypasses checks as a super admin.
    pub fn abilities(&self, user: Option<UserId>, org: OrgId) -> (bool, AbilitySet) {
        let mut set = AbilitySet::EMPTY;
        if let Some(u) = user {
            match self.users.get(&u) {
                Some(e) if !e.active => return (false, set),
                Some(e) if e.super_admin => return (true, AbilitySet::all()),
                Some(_) => {}
                None => return (false, set),
            }
            if let Some(g) = self.grants.get(&(u, org)) {
                set = set.union(self.role_abilities(g.role)).union(g.extras);
            }
        }
        if let Some(p) = self.public_grant(org) {
            set = set.union(self.role_abilities(p.role)).union(p.extras);
        }
        (false, set)
    }

    pub fn is_member(&self, user: UserId, org: OrgId) -> bool {
        self.grants.contains_key(&(user, org))
    }

    /// Organizations `user` belongs to, by name. One look-up per organization: organizations
    /// are few next to accounts.
    pub fn orgs_of(&self, user: UserId) -> Vec<OrgId> {
        let mut v: Vec<OrgId> = self.orgs.keys().copied().filter(|o| self.grants.contains_key(&(user, *o))).collect();
        v.sort_by_key(|o| self.orgs.get(o).map(|n| n.to_lowercase()));
        v
    }

    /// The role `user` holds in `org` (by name), if a member.
    pub fn role_in(&self, user: UserId, org: OrgId) -> Option<String> {
        self.grants.get(&(user, org)).map(|g| self.role_name(g.role))
    }

    fn role_name(&self, r: RoleId) -> String {
        self.roles.get(&r).map(|e| e.name.clone()).unwrap_or_else(|| format!("#{}", r.0))
    }

    /// The decision with its one-sentence reason (what the check API answers): no chain.
    pub fn summary(&self, user: Option<UserId>, org: OrgId, ability: Ability) -> (Grounds, String) {
        let grounds = self.decide(user, org, ability);
        let org_name = self.orgs.get(&org).map(String::as_str).unwrap_or("?");
        let username = user.and_then(|u| self.users.get(&u)).map(|e| e.username.as_str());
        (grounds, self.sentence(username, org_name, ability, grounds))
    }

    fn sentence(&self, username: Option<&str>, org_name: &str, ability: Ability, grounds: Grounds) -> String {
        let who = username.unwrap_or("An anonymous visitor");
        let code = ability.code();
        match grounds {
            Grounds::SuperAdmin => format!("{who} may {code} in {org_name}: super admin."),
            Grounds::Role(r) => format!("{who} may {code} in {org_name}: role {}.", self.role_name(r)),
            Grounds::Extra => format!("{who} may {code} in {org_name}: extra grant."),
            Grounds::PublicRole(r) => {
                format!("{who} may {code} in {org_name}: the public account's role {}.", self.role_name(r))
            }
            Grounds::PublicExtra => format!("{who} may {code} in {org_name}: the public account's extra grant."),
            Grounds::Lacking => format!("{who} may not {code} in {org_name}: no role or grant gives it."),
            Grounds::NotMember => format!("{who} may not {code} in {org_name}: not a member."),
            Grounds::Disabled => format!("{who} may not {code}: the account is disabled."),
            Grounds::UnknownUser => "No such user.".into(),
            Grounds::UnknownOrg => "No such organization.".into(),
        }
    }

    /// The decision and every link that could have granted it.
    pub fn explain(&self, user: Option<UserId>, org: OrgId, ability: Ability) -> Explanation {
        let grounds = self.decide(user, org, ability);
        let org_name = self.orgs.get(&org).cloned().unwrap_or_else(|| format!("#{}", org.0));
        let username =
            user.map(|u| self.users.get(&u).map(|e| e.username.clone()).unwrap_or_else(|| format!("#{}", u.0)));
        let code = ability.code();
        let mut steps = Vec::new();
        let step = |source: &str, grants: bool, detail: String| Step { source: source.into(), grants, detail };
        if let Some(u) = user {
            if let Some(e) = self.users.get(&u) {
                if !e.active {
                    steps.push(step("account", false, "The account is disabled: it may do nothing.".into()));
                }
                steps.push(step(
                    "super_admin",
                    e.super_admin && e.active,
                    if e.super_admin {
                        "Super admin: bypasses every ability check in every organization.".into()
                    } else {
                        "Not a super admin.".into()
                    },
                ));
            }
            match self.grants.get(&(u, org)) {
                Some(g) => {
                    let has = self.role_abilities(g.role).contains(ability);
                    steps.push(step(
                        "role",
                        has,
                        format!(
                            "Role {} in {org_name} {} {code}.",
                            self.role_name(g.role),
                            if has { "grants" } else { "does not grant" }
                        ),
                    ));
                    let extra = g.extras.contains(ability);
                    steps.push(step(
                        "extra_grant",
                        extra,
                        if extra {
                            format!("An extra grant in {org_name} gives {code}.")
                        } else {
                            format!("No extra grant of {code} in {org_name}.")
                        },
                    ));
                }
                None => steps.push(step("membership", false, format!("Not a member of {org_name}."))),
            }
        }
        match self.public_grant(org) {
            Some(p) => {
                let has = self.role_abilities(p.role).contains(ability);
                steps.push(step(
                    "public_role",
                    has,
                    format!(
                        "The public account's role {} in {org_name} {} {code} to everyone.",
                        self.role_name(p.role),
                        if has { "grants" } else { "does not grant" }
                    ),
                ));
                if p.extras.contains(ability) {
                    steps.push(step(
                        "public_extra_grant",
                        true,
                        format!("The public account holds an extra grant of {code} in {org_name}."),
                    ));
                }
            }
            None => steps.push(step("public_role", false, format!("The public account has no role in {org_name}."))),
        }
        let summary = self.sentence(username.as_deref(), &org_name, ability, grounds);
        Explanation {
            user: username,
            org: org_name,
            ability,
            allowed: grounds.allowed(),
            code: grounds.code().into(),
            summary,
            steps,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::abilities::defaults;
    use Ability::*;

    const A: OrgId = OrgId(1);
    const B: OrgId = OrgId(2);
    const VIEWER: RoleId = RoleId(1);
    const OPERATOR: RoleId = RoleId(2);
    const ROOT: UserId = UserId(1);
    const OPS: UserId = UserId(2);
    const OFF: UserId = UserId(3);
    const PUBLIC: UserId = UserId(4);
    const STRANGER: UserId = UserId(5);

    fn model() -> AccessModel {
        let mut m = AccessModel::default();
        m.roles.insert(VIEWER, RoleEntry { name: "Viewer".into(), abilities: defaults::viewer() });
        m.roles.insert(OPERATOR, RoleEntry { name: "Operator".into(), abilities: defaults::operator() });
        m.set_org(A, "Acme".into());
        m.set_org(B, "Beta".into());
        for (id, name, sa, active) in [
            (ROOT, "root", true, true),
            (OPS, "ops", false, true),
            (OFF, "off", true, false),
            (PUBLIC, "public", false, true),
            (STRANGER, "stranger", false, true),
        ] {
            m.set_user(id, UserEntry { username: name.into(), super_admin: sa, active });
        }
        m.public = Some(PUBLIC);
        m.grants.insert((OPS, A), Grant { role: OPERATOR, extras: AbilitySet::of(&[ViewUsers]) });
        m.grants.insert((OPS, B), Grant { role: VIEWER, extras: AbilitySet::EMPTY });
        m.grants.insert((PUBLIC, B), Grant { role: VIEWER, extras: AbilitySet::of(&[ViewQueries]) });
        m
    }

    #[test]
    fn decisions() {
        let m = model();
        let cases = [
            (Some(ROOT), B, ManageUsers, Grounds::SuperAdmin),
            (Some(OPS), A, RunBackups, Grounds::Role(OPERATOR)),
            (Some(OPS), A, ViewUsers, Grounds::Extra),
            (Some(OPS), A, ManageUsers, Grounds::Lacking),
            (Some(OPS), B, RunBackups, Grounds::Lacking),
            (Some(OPS), B, ViewQueries, Grounds::PublicExtra),
            (None, B, ViewQueries, Grounds::PublicExtra),
            (None, A, ViewQueries, Grounds::Lacking),
            (Some(STRANGER), A, RunBackups, Grounds::NotMember),
            (Some(STRANGER), B, ViewQueries, Grounds::PublicExtra),
            (Some(OFF), A, RunBackups, Grounds::Disabled),
            (Some(UserId(99)), A, RunBackups, Grounds::UnknownUser),
            (Some(OPS), OrgId(9), RunBackups, Grounds::UnknownOrg),
        ];
        for (u, o, a, want) in cases {
            assert_eq!(m.decide(u, o, a), want, "{u:?} {o:?} {a:?}");
            assert_eq!(m.explain(u, o, a).allowed, want.allowed());
            assert_eq!(m.explain(u, o, a).code, want.code());
            assert_eq!(m.summary(u, o, a), (want, m.explain(u, o, a).summary));
        }
    }

    #[test]
    fn role_toggle_applies_to_every_holder_at_once() {
        let mut m = model();
        assert_eq!(m.decide(Some(OPS), A, DeleteSnapshots), Grounds::Lacking);
        m.roles.get_mut(&OPERATOR).unwrap().abilities.insert(DeleteSnapshots);
        assert_eq!(m.decide(Some(OPS), A, DeleteSnapshots), Grounds::Role(OPERATOR));
    }

    #[test]
    fn abilities_union_role_extras_and_public() {
        let m = model();
        let (sa, set) = m.abilities(Some(OPS), B);
        assert!(!sa);
        assert_eq!(set, AbilitySet::of(&[ViewQueries]));
        assert_eq!(m.abilities(Some(ROOT), A), (true, AbilitySet::all()));
        assert_eq!(m.abilities(Some(OFF), A), (false, AbilitySet::EMPTY));
        assert_eq!(m.abilities(Some(OPS), A).1, defaults::operator().with(ViewUsers, true));
    }

    #[test]
    fn explanation_names_the_chain() {
        let m = model();
        let e = m.explain(Some(OPS), A, ViewUsers);
        assert_eq!(e.summary, "ops may view-users in Acme: extra grant.");
        assert!(e.steps.iter().any(|s| s.source == "role" && !s.grants && s.detail.contains("Operator")));
        assert!(e.steps.iter().any(|s| s.source == "extra_grant" && s.grants));
        let e = m.explain(None, B, ViewQueries);
        assert!(e.summary.starts_with("An anonymous visitor may view-queries in Beta"));
    }

    #[test]
    fn renames_and_removals_keep_lookups_in_step() {
        let mut m = model();
        m.set_user(OPS, UserEntry { username: "Operations".into(), super_admin: false, active: true });
        assert_eq!(m.user_id("ops"), None);
        assert_eq!(m.user_id("operations"), Some(OPS));
        m.remove_org(B);
        assert_eq!(m.org_id("beta"), None);
        assert!(!m.is_member(OPS, B));
        m.remove_user(OPS);
        assert_eq!(m.decide(Some(OPS), A, RunBackups), Grounds::UnknownUser);
        assert!(m.grants.keys().all(|(u, _)| *u != OPS));
    }
}
