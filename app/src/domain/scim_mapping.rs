//! Directory group mappings: an admin maps one of a connection's SCIM groups to an
//! (organization, role) with optional extra abilities and a priority. A person's role in an
//! organization is then the highest-priority mapping among their groups; the connection's
//! own placement for new people (organization and role) counts as a mapping below every
//! other. `plan` turns "what the mappings say" and "what is held" into membership changes,
//! touching only the memberships the connection itself manages: one made by hand is never
//! changed or removed by provisioning.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::abilities::AbilitySet;
use super::ids::{OrgId, RoleId, UserId};

/// The priorities an admin may give (the connection's placement for new people ranks below
/// them all).
pub const PRIORITIES: std::ops::RangeInclusive<i64> = -1000..=1000;

/// A mapping as admins see it (Settings -> Provisioning, the API, the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScimMapping {
    pub id: i64,
    /// The group's display name (as the identity provider sent it).
    pub group: String,
    pub org: String,
    pub role: String,
    /// Extra abilities on top of the role.
    pub abilities: AbilitySet,
    /// Higher wins where a person's groups map to the same organization.
    pub priority: i64,
    /// The group's members now.
    pub members: i64,
}

/// A new mapping, by names.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScimMappingInput {
    /// The group's display name (ignoring case).
    pub group: String,
    pub org: String,
    pub role: String,
    /// Ability codes given on top of the role.
    #[serde(default)]
    pub abilities: Vec<String>,
    #[serde(default)]
    pub priority: i64,
}

/// What one mapping (or the connection's placement, `mapping: None`) gives one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub user: UserId,
    pub org: OrgId,
    pub role: RoleId,
    pub extras: AbilitySet,
    pub priority: i64,
    pub mapping: Option<i64>,
}

impl Placement {
    /// Ordering key: higher priority first, then the older mapping (lower id); the
    /// connection's placement last.
    fn rank(&self) -> (i64, i64) {
        match self.mapping {
            None => (i64::MIN, i64::MIN),
            Some(id) => (self.priority, -id),
        }
    }
}

/// A membership as it is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub user: UserId,
    pub org: OrgId,
    pub role: RoleId,
    pub extras: AbilitySet,
    /// The SCIM connection that manages it; `None` for one made by hand.
    pub connection: Option<i64>,
}

/// One change to a managed membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipChange {
    Add(Placement),
    Update { from: Held, to: Placement },
    Remove(Held),
}

impl MembershipChange {
    pub fn user(&self) -> UserId {
        match self {
            MembershipChange::Add(p) => p.user,
            MembershipChange::Update { to, .. } => to.user,
            MembershipChange::Remove(h) => h.user,
        }
    }
}

/// The changes that bring `users` (the connection's people concerned by a change) to what
/// `placements` say: per (person, organization), the highest-ranked placement. A membership
/// made by hand (or managed by another connection) is left exactly as it is; one this
/// connection manages follows the placements, and goes when none is left. In (person,
/// organization) order.
pub fn plan(connection: i64, users: &[UserId], placements: &[Placement], held: &[Held]) -> Vec<MembershipChange> {
    let wanted: std::collections::HashSet<UserId> = users.iter().copied().collect();
    let mut best: BTreeMap<(UserId, OrgId), Placement> = BTreeMap::new();
    for p in placements.iter().filter(|p| wanted.contains(&p.user)) {
        match best.get(&(p.user, p.org)) {
            Some(b) if b.rank() >= p.rank() => {}
            _ => {
                best.insert((p.user, p.org), *p);
            }
        }
    }
    let mut now: BTreeMap<(UserId, OrgId), Held> = BTreeMap::new();
    for h in held.iter().filter(|h| wanted.contains(&h.user)) {
        now.insert((h.user, h.org), *h);
    }
    let mut keys: Vec<(UserId, OrgId)> = best.keys().chain(now.keys()).copied().collect();
    keys.sort();
    keys.dedup();
    let mut changes = Vec::new();
    for key in keys {
        match (now.get(&key), best.get(&key)) {
            (Some(h), _) if h.connection != Some(connection) => {}
            (Some(h), Some(p)) => {
                if h.role != p.role || h.extras != p.extras {
                    changes.push(MembershipChange::Update { from: *h, to: *p });
                }
            }
            (Some(h), None) => changes.push(MembershipChange::Remove(*h)),
            (None, Some(p)) => changes.push(MembershipChange::Add(*p)),
            (None, None) => {}
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::abilities::Ability;

    const C: i64 = 7;
    const ENG: OrgId = OrgId(2);
    const OPS: OrgId = OrgId(3);
    const VIEWER: RoleId = RoleId(1);
    const EDITOR: RoleId = RoleId(2);
    const ADMIN: RoleId = RoleId(4);
    const ANN: UserId = UserId(10);
    const BOB: UserId = UserId(11);

    fn mapped(user: UserId, org: OrgId, role: RoleId, priority: i64, mapping: i64) -> Placement {
        Placement { user, org, role, extras: AbilitySet::default(), priority, mapping: Some(mapping) }
    }
    fn default_placement(user: UserId) -> Placement {
        Placement { user, org: ENG, role: VIEWER, extras: AbilitySet::default(), priority: 0, mapping: None }
    }
    fn held(user: UserId, org: OrgId, role: RoleId, connection: Option<i64>) -> Held {
        Held { user, org, role, extras: AbilitySet::default(), connection }
    }

    #[test]
    fn the_highest_priority_mapping_wins_and_the_default_placement_ranks_last() {
        let placements = [
            default_placement(ANN),
            mapped(ANN, ENG, EDITOR, 5, 1),
            mapped(ANN, ENG, ADMIN, 10, 2),
            mapped(ANN, OPS, EDITOR, -3, 3),
        ];
        let changes = plan(C, &[ANN], &placements, &[]);
        assert_eq!(
            changes,
            vec![
                MembershipChange::Add(mapped(ANN, ENG, ADMIN, 10, 2)),
                MembershipChange::Add(mapped(ANN, OPS, EDITOR, -3, 3)),
            ]
        );
        // Equal priorities: the older mapping (lower id) wins, whatever the order read.
        let tie = [mapped(ANN, ENG, ADMIN, 5, 9), mapped(ANN, ENG, EDITOR, 5, 4)];
        assert_eq!(plan(C, &[ANN], &tie, &[]), vec![MembershipChange::Add(mapped(ANN, ENG, EDITOR, 5, 4))]);
        // The default placement alone still places (even at the lowest priority an admin
        // can give, a mapping outranks it).
        let low = [default_placement(ANN), mapped(ANN, ENG, EDITOR, *PRIORITIES.start(), 1)];
        assert_eq!(plan(C, &[ANN], &low, &[]), vec![MembershipChange::Add(low[1])]);
        assert_eq!(
            plan(C, &[ANN], &[default_placement(ANN)], &[]),
            vec![MembershipChange::Add(default_placement(ANN))]
        );
    }

    #[test]
    fn managed_memberships_follow_the_mappings_and_go_with_the_last_one() {
        let h = held(ANN, OPS, EDITOR, Some(C));
        // Same role and abilities: nothing to do.
        assert!(plan(C, &[ANN], &[mapped(ANN, OPS, EDITOR, 0, 1)], &[h]).is_empty());
        // Another role, or other extras: an update.
        let to = mapped(ANN, OPS, ADMIN, 0, 1);
        assert_eq!(plan(C, &[ANN], &[to], &[h]), vec![MembershipChange::Update { from: h, to }]);
        let mut extra = mapped(ANN, OPS, EDITOR, 0, 1);
        extra.extras = AbilitySet::of(&[Ability::RunBackups]);
        assert_eq!(plan(C, &[ANN], &[extra], &[h]), vec![MembershipChange::Update { from: h, to: extra }]);
        // No mapping left: removed.
        assert_eq!(plan(C, &[ANN], &[], &[h]), vec![MembershipChange::Remove(h)]);
    }

    #[test]
    fn memberships_made_by_hand_or_by_another_connection_are_never_touched() {
        let manual = held(ANN, OPS, VIEWER, None);
        let other = held(ANN, ENG, VIEWER, Some(C + 1));
        let placements = [mapped(ANN, OPS, ADMIN, 9, 1), mapped(ANN, ENG, ADMIN, 9, 2)];
        assert!(plan(C, &[ANN], &placements, &[manual, other]).is_empty());
        assert!(plan(C, &[ANN], &[], &[manual, other]).is_empty());
    }

    #[test]
    fn only_the_people_concerned_are_planned() {
        let placements = [mapped(ANN, OPS, ADMIN, 0, 1), mapped(BOB, OPS, ADMIN, 0, 1)];
        let bob_held = held(BOB, ENG, VIEWER, Some(C));
        let changes = plan(C, &[ANN], &placements, &[bob_held]);
        assert_eq!(changes, vec![MembershipChange::Add(placements[0])]);
        assert!(changes.iter().all(|c| c.user() == ANN));
    }
}
