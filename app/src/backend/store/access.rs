//! Roles, organizations, memberships and their grants, the per-account view/edit lists,
//! the access version every access-changing transaction bumps, and loading the in-memory
//! access model.
use async_trait::async_trait;

use super::users::UserRecord;
use super::StoreResult;
use crate::domain::abilities::AbilitySet;
use crate::domain::access::{AccessModel, Grant, UserEntry};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::users::{AccountHolder, AccountLevel};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub id: RoleId,
    pub name: String,
    pub abilities: AbilitySet,
    /// Memberships (in any organization) that hold this role; counted by `list_roles` and
    /// `role_members` only (0 elsewhere).
    pub members: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: OrgId,
    pub name: String,
    pub members: i64,
    /// Members must have two-factor authentication.
    pub require_2fa: bool,
}

/// A member of an organization with their role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user: UserRecord,
    pub role: RoleId,
    pub role_name: String,
    pub extras: AbilitySet,
    /// How many organizations the account belongs to.
    pub org_count: i64,
    /// The SCIM connection that manages the membership (its name); `None`: made by hand.
    pub source: Option<String>,
}

/// One organization an account belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub org: OrgId,
    pub org_name: String,
    pub role: RoleId,
    pub role_name: String,
    pub extras: AbilitySet,
}

/// What the access model holds of one account.
#[derive(Debug, Clone)]
pub struct UserAccess {
    pub entry: UserEntry,
    pub public: bool,
    pub grants: Vec<(OrgId, Grant)>,
}

/// Reads outside a write transaction.
/// What a committed access-changing transaction changed, so only that part is re-read: by
/// the instance that committed it, and by every other one from the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    User(UserId),
    /// One role was created, changed or deleted (without moving members).
    Role(RoleId),
    Org(OrgId),
    /// Something broad (a role replaced in every membership): reload everything.
    All,
}

impl Change {
    /// As carried by the change feed: `user 12`, `role 3`, `org 2`, `all`.
    pub fn to_wire(self) -> String {
        match self {
            Change::User(id) => format!("user {}", id.0),
            Change::Role(id) => format!("role {}", id.0),
            Change::Org(id) => format!("org {}", id.0),
            Change::All => "all".to_string(),
        }
    }

    /// The inverse of `to_wire`; `None` for anything else (a newer instance's kind of
    /// change: the listener then reloads everything).
    pub fn from_wire(s: &str) -> Option<Self> {
        let (kind, rest) = s.split_once(' ').unwrap_or((s, ""));
        let id = || rest.parse::<i64>().ok();
        match kind {
            "user" => Some(Change::User(UserId(id()?))),
            "role" => Some(Change::Role(RoleId(id()?))),
            "org" => Some(Change::Org(OrgId(id()?))),
            "all" if rest.is_empty() => Some(Change::All),
            _ => None,
        }
    }
}

#[async_trait]
pub trait AccessStore {
    /// The counter every access-changing transaction bumps.
    async fn access_version(&self) -> StoreResult<i64>;
    /// The whole access model, with the version it was read at (one read transaction).
    async fn load_access(&self) -> StoreResult<(i64, AccessModel)>;
    /// One account's part of the access model; `None` once it is deleted.
    async fn load_user_access(&self, user: UserId) -> StoreResult<Option<UserAccess>>;
    /// Every role with its holder count (the role matrix).
    async fn list_roles(&self) -> StoreResult<Vec<RoleRecord>>;
    /// One role without counting holders (the access model).
    async fn load_role(&self, id: RoleId) -> StoreResult<Option<RoleRecord>>;
    async fn role_members(&self, id: RoleId) -> StoreResult<i64>;
    async fn list_orgs(&self) -> StoreResult<Vec<OrgRecord>>;
    /// Members of `org` in username order, after `after` (a username key), optionally
    /// filtered by a lower-cased substring of username, name or email.
    async fn list_members(
        &self,
        org: OrgId,
        search: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MemberRecord>>;
    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<MembershipRecord>>;
    /// `holder`'s place on `target`'s view/edit lists.
    async fn account_level(&self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>>;
    /// Everyone on `target`'s view/edit lists, by username.
    async fn account_holders(&self, target: UserId) -> StoreResult<Vec<AccountHolder>>;
    /// Every list entry of the accounts whose ids lie in `first..=last` (an export page):
    /// (target, holder's username, level).
    async fn account_levels_between(
        &self,
        first: UserId,
        last: UserId,
    ) -> StoreResult<Vec<(UserId, String, AccountLevel)>>;
    /// Accounts whose view/edit lists hold `holder`, matching `search` (lower-case substring
    /// of username, name or email), by username, at most `limit`.
    async fn accounts_listing(&self, holder: UserId, search: &str, limit: u32) -> StoreResult<Vec<UserRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait AccessTx: Send {
    async fn memberships(&mut self, user: UserId) -> StoreResult<Vec<OrgId>>;
    /// Adds a membership; `Conflict { field: "member" }` if the account already belongs.
    async fn add_membership(&mut self, org: OrgId, user: UserId, role: RoleId, now: i64) -> StoreResult<()>;
    /// New memberships with their extra abilities, in a few statements (imports).
    /// `Conflict { field: "member" }` (and nothing written) if one already exists.
    async fn add_memberships(&mut self, members: &[NewMembership], now: i64) -> StoreResult<()>;
    /// The member's role and extra abilities in `org`, if a member.
    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Grant>>;
    /// A change by hand: a membership SCIM managed becomes a manual one (provisioning then
    /// leaves it alone).
    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: RoleId) -> StoreResult<()>;
    async fn set_member_extras(&mut self, org: OrgId, user: UserId, extras: AbilitySet) -> StoreResult<()>;
    async fn remove_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<()>;
    /// Super admin flag (of an active account) and every ability held in `org` through the
    /// account's role and extras and the public account's. `None`: no such active account.
    async fn actor_facts(&mut self, user: UserId, org: OrgId) -> StoreResult<Option<(bool, AbilitySet)>>;
    /// Moves the access version on by one, for `change`; where other instances listen, they
    /// hear of it when the transaction commits (never before, never if it rolls back).
    async fn bump_access_version(&mut self, change: Change) -> StoreResult<i64>;
    /// A role (its `members` are not counted here).
    async fn role(&mut self, id: RoleId) -> StoreResult<Option<RoleRecord>>;
    async fn role_by_name(&mut self, name_key: &str) -> StoreResult<Option<RoleRecord>>;
    async fn insert_role(&mut self, name: &str, now: i64) -> StoreResult<RoleId>;
    async fn rename_role(&mut self, id: RoleId, name: &str) -> StoreResult<()>;
    async fn set_role_abilities(&mut self, id: RoleId, abilities: AbilitySet) -> StoreResult<()>;
    async fn role_in_use(&mut self, id: RoleId) -> StoreResult<bool>;
    /// Moves every membership holding `from` to `to`; returns how many moved.
    async fn reassign_role(&mut self, from: RoleId, to: RoleId) -> StoreResult<u64>;
    async fn delete_role(&mut self, id: RoleId) -> StoreResult<()>;
    /// An organization (its `members` are not counted here: see `org_member_count`).
    async fn org(&mut self, id: OrgId) -> StoreResult<Option<OrgRecord>>;
    async fn org_member_count(&mut self, id: OrgId) -> StoreResult<i64>;
    async fn org_by_name(&mut self, name_key: &str) -> StoreResult<Option<OrgRecord>>;
    async fn insert_org(&mut self, name: &str, now: i64) -> StoreResult<OrgId>;
    async fn rename_org(&mut self, id: OrgId, name: &str) -> StoreResult<()>;
    /// Deletes the organization and its memberships; sessions in it move to `fallback`.
    async fn delete_org(&mut self, id: OrgId, fallback: OrgId) -> StoreResult<()>;
    async fn set_org_two_factor(&mut self, org: OrgId, required: bool) -> StoreResult<()>;
    async fn account_level(&mut self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>>;
    /// Puts `holder` on `target`'s list at `level`, or takes it off (`None`).
    async fn set_account_level(
        &mut self,
        target: UserId,
        holder: UserId,
        level: Option<AccountLevel>,
    ) -> StoreResult<()>;
    /// Puts each (target, holder) pair on the list at its level, in a few statements.
    async fn set_account_levels(&mut self, levels: &[(UserId, UserId, AccountLevel)]) -> StoreResult<()>;
}

/// A membership written by `AccessTx::add_memberships`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMembership {
    pub org: OrgId,
    pub user: UserId,
    pub role: RoleId,
    pub extras: AbilitySet,
}
