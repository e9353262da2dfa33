//! Who may do what. Every adapter (server functions, JSON API, CLI) reaches these functions
//! through the same service, so a rule cannot exist in one path and be missing in another.
//! The facts passed in (the actor's abilities in the organization, the number of active super
//! admins, the target's memberships) are read in the same transaction as the write that
//! follows, so concurrent changes cannot both pass.
//!
//! An actor of `None` is the `roster` command line, run by whoever operates the machine and
//! its database file: it is not a person, so rules about "yourself" do not apply, but the
//! rules that keep the instance usable (one super admin, the public account) do.
use serde::{Deserialize, Serialize};

use super::abilities::{Ability, AbilitySet};
use super::ids::{OrgId, UserId};
use super::users::{AccountLevel, UserStatus};

/// Why an action was refused: a stable code for machines and a sentence for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Denied {
    NotSuperAdmin,
    CannotDeleteSelf,
    CannotDisableSelf,
    CannotChangeOwnSuperAdmin,
    LastSuperAdmin,
    SignUpClosed,
    CrossSiteRequest,
    MissingAbility(Ability),
    GrantExceedsOwn,
    CannotChangeOwnAccess,
    InOtherOrgs,
    TargetIsSuperAdmin,
    PublicAccount,
    RoleInUse,
    NotMember,
    ReauthRequired,
    TokenNotAllowed,
    TwoFactorRequired,
}

impl Denied {
    pub const ALL: [Denied; 18] = [
        Denied::NotSuperAdmin,
        Denied::CannotDeleteSelf,
        Denied::CannotDisableSelf,
        Denied::CannotChangeOwnSuperAdmin,
        Denied::LastSuperAdmin,
        Denied::SignUpClosed,
        Denied::CrossSiteRequest,
        Denied::MissingAbility(Ability::ManageUsers),
        Denied::GrantExceedsOwn,
        Denied::CannotChangeOwnAccess,
        Denied::InOtherOrgs,
        Denied::TargetIsSuperAdmin,
        Denied::PublicAccount,
        Denied::RoleInUse,
        Denied::NotMember,
        Denied::ReauthRequired,
        Denied::TokenNotAllowed,
        Denied::TwoFactorRequired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Denied::NotSuperAdmin => "not_super_admin",
            Denied::CannotDeleteSelf => "cannot_delete_self",
            Denied::CannotDisableSelf => "cannot_disable_self",
            Denied::CannotChangeOwnSuperAdmin => "cannot_change_own_super_admin",
            Denied::LastSuperAdmin => "last_super_admin",
            Denied::SignUpClosed => "sign_up_closed",
            Denied::CrossSiteRequest => "cross_site_request",
            Denied::MissingAbility(_) => "missing_ability",
            Denied::GrantExceedsOwn => "grant_exceeds_own",
            Denied::CannotChangeOwnAccess => "cannot_change_own_access",
            Denied::InOtherOrgs => "in_other_orgs",
            Denied::TargetIsSuperAdmin => "target_is_super_admin",
            Denied::PublicAccount => "public_account",
            Denied::RoleInUse => "role_in_use",
            Denied::NotMember => "not_member",
            Denied::ReauthRequired => "reauth_required",
            Denied::TokenNotAllowed => "token_not_allowed",
            Denied::TwoFactorRequired => "two_factor_required",
        }
    }

    pub fn message(self) -> String {
        match self {
            Denied::NotSuperAdmin => "Only super admins can do this.".into(),
            Denied::CannotDeleteSelf => "You cannot delete your own account.".into(),
            Denied::CannotDisableSelf => "You cannot disable your own account.".into(),
            Denied::CannotChangeOwnSuperAdmin => "You cannot change your own super admin status.".into(),
            Denied::LastSuperAdmin => "This is the last active super admin: there must always be at least one.".into(),
            Denied::SignUpClosed => "Self sign-up is closed. Ask an administrator to create an account for you.".into(),
            Denied::CrossSiteRequest => "Cross-site request refused.".into(),
            Denied::MissingAbility(a) => format!("You need the {} ability in this organization.", a.code()),
            Denied::GrantExceedsOwn => "You cannot grant abilities you do not hold in this organization.".into(),
            Denied::CannotChangeOwnAccess => "You cannot change your own role, grants or membership.".into(),
            Denied::InOtherOrgs => {
                "This user also belongs to other organizations: remove them from this organization instead.".into()
            }
            Denied::TargetIsSuperAdmin => "Only super admins can change or delete a super admin.".into(),
            Denied::PublicAccount => {
                "The public account is built in: it cannot be signed in to, disabled, renamed or deleted.".into()
            }
            Denied::RoleInUse => {
                "This role is still assigned (to members, directory group mappings or a SCIM connection's new \
                 people): choose a replacement role."
                    .into()
            }
            Denied::NotMember => "You are not a member of this organization.".into(),
            Denied::ReauthRequired => "For your security, confirm it is you: enter your password again.".into(),
            Denied::TokenNotAllowed => {
                "API tokens cannot change sign-in credentials or create tokens: sign in to do this.".into()
            }
            Denied::TwoFactorRequired => {
                "Two-factor authentication is required here: turn it on under Profile, Security first.".into()
            }
        }
    }
}

/// The account performing an action, with what it holds in the organization concerned
/// (role, extra grants and the public account's; empty for global actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub super_admin: bool,
    pub abilities: AbilitySet,
}

impl Actor {
    fn holds(&self, a: Ability) -> bool {
        self.super_admin || self.abilities.contains(a)
    }
}

/// What policy needs to know about the account being acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub id: UserId,
    pub super_admin: bool,
    pub status: UserStatus,
    /// The built-in account for anonymous visitors.
    pub public: bool,
    /// The one organization the account belongs to, when it belongs to exactly one.
    pub sole_org: Option<OrgId>,
    /// The actor's place on this account's own view/edit lists.
    pub listed: Option<AccountLevel>,
}

impl Target {
    fn is_active_super_admin(&self) -> bool {
        self.super_admin && self.status == UserStatus::Active
    }
}

fn require_super_admin(actor: Option<Actor>) -> Result<(), Denied> {
    match actor {
        Some(a) if !a.super_admin => Err(Denied::NotSuperAdmin),
        _ => Ok(()),
    }
}

fn require(actor: Option<Actor>, a: Ability) -> Result<(), Denied> {
    match actor {
        Some(x) if !x.holds(a) => Err(Denied::MissingAbility(a)),
        _ => Ok(()),
    }
}

/// Self sign-up opens only while no account exists; the first account becomes super admin.
pub fn can_sign_up(existing_accounts: i64) -> Result<(), Denied> {
    if existing_accounts == 0 {
        Ok(())
    } else {
        Err(Denied::SignUpClosed)
    }
}

/// The instance-wide list of accounts (every organization).
pub fn can_view_users(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Planning (and applying) a bulk action: manage-users in the organization; each account's
/// own rule still decides its outcome, and "every account matching" the instance-wide list
/// needs what listing it needs.
pub fn can_plan_bulk(actor: Option<Actor>) -> Result<(), Denied> {
    require(actor, Ability::ManageUsers)
}

/// Creating an account outside any organization's rules (the users admin, super admin flag).
pub fn can_create_user(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Imports create super admins and set password hashes; exports carry every account's hash:
/// super admins only (and, being credentials, in sudo mode and never with a token).
pub fn can_import_accounts(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

pub fn can_export_accounts(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

pub fn can_view_audit(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Roles, organizations and authentication settings are global: super admins only.
pub fn can_manage_roles(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

pub fn can_manage_orgs(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Single sign-on providers decide who gets in (and can create accounts): super admins only.
pub fn can_manage_sso(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Applications (OAuth clients) decide where people's identities and abilities are sent:
/// super admins only.
pub fn can_manage_clients(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Webhooks decide where news of every change is sent: super admins only.
pub fn can_manage_webhooks(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// SCIM connections create accounts and act for an identity provider: super admins (and the
/// command line) manage them.
pub fn can_manage_scim(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// What a SCIM connection may change: the accounts it provisioned or adopted (`linked_here`),
/// and never a super admin or the public account, even one it provisioned and someone
/// promoted since (an identity provider must not be a way to take over an administrator).
/// An account it does not manage is "not found" to it (`None`), like one that does not exist.
pub fn scim_may_change(linked_here: bool, target: Target) -> Result<(), Option<Denied>> {
    if !linked_here {
        return Err(None);
    }
    if target.public {
        return Err(Some(Denied::PublicAccount));
    }
    if target.super_admin {
        return Err(Some(Denied::TargetIsSuperAdmin));
    }
    Ok(())
}

/// Whether a SCIM create may take over a local account with the same username: only when the
/// connection allows adoption, never a super admin or the public account, never an account
/// another connection manages.
pub fn scim_may_adopt(adopt_allowed: bool, target: Target, linked_elsewhere: bool) -> bool {
    adopt_allowed && !linked_elsewhere && !target.super_admin && !target.public
}

/// Who listens on the event stream, as far as deciding what they hear goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventListener {
    pub id: UserId,
    pub super_admin: bool,
    /// Organizations they belong to.
    pub member_of: Vec<OrgId>,
    /// Of those, the ones whose members they may see (view-users or manage-users).
    pub sees_members_of: Vec<OrgId>,
}

/// Whether a listener hears of a change of `kind` to `subject` concerning `orgs` (empty:
/// every organization). Super admins hear everything. Others hear of their own account, of
/// other accounts only where they may see members (the stream names the account), of roles
/// (every organization's business), and of the organizations they belong to.
pub fn hears_event(l: &EventListener, kind: &str, subject: Option<i64>, orgs: &[OrgId]) -> bool {
    if l.super_admin {
        return true;
    }
    match kind {
        "user" if subject == Some(l.id.0) => true,
        "user" => orgs.iter().any(|o| l.sees_members_of.contains(o)),
        _ if orgs.is_empty() => true,
        _ => orgs.iter().any(|o| l.member_of.contains(o)),
    }
}

/// Seeing an organization's members and their access: membership there (super admins
/// aside) and view-users or manage-users there. What the public account grants does not make
/// a non-member one.
pub fn can_view_members(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    match actor {
        Some(a) if !a.super_admin && !actor_is_member => Err(Denied::NotMember),
        Some(a) if !(a.holds(Ability::ViewUsers) || a.holds(Ability::ManageUsers)) => {
            Err(Denied::MissingAbility(Ability::ViewUsers))
        }
        _ => Ok(()),
    }
}

/// Membership in the organization (super admins aside; the public account's grants do not
/// make a non-member one) and one of `any`; refused as missing `any[0]`.
fn member_holding(actor: Option<Actor>, actor_is_member: bool, any: &[Ability]) -> Result<(), Denied> {
    match actor {
        Some(a) if !a.super_admin && !actor_is_member => Err(Denied::NotMember),
        Some(a) if !any.iter().any(|x| a.holds(*x)) => Err(Denied::MissingAbility(any[0])),
        _ => Ok(()),
    }
}

/// Seeing an organization's database definitions: view-databases there, or an ability to
/// create or change them (what one manages, one sees).
pub fn can_view_databases(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(
        actor,
        actor_is_member,
        &[Ability::ViewDatabases, Ability::CreateDatabases, Ability::ManageDatabaseServers],
    )
}

/// Adding a database definition: create-databases (or manage-database-servers) there.
pub fn can_create_database(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(actor, actor_is_member, &[Ability::CreateDatabases, Ability::ManageDatabaseServers])
}

/// Changing or deleting a definition (where tools connect, with which default login):
/// manage-database-servers there.
pub fn can_manage_database(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(actor, actor_is_member, &[Ability::ManageDatabaseServers])
}

/// Test Connection on a definition: it makes the server connect where the definition points
/// (and sign in with its default login), so only those who may change where it points:
/// manage-database-servers there.
pub fn can_test_database(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    can_manage_database(actor, actor_is_member)
}

/// Seeing a database's shared credentials (names and logins, never passwords):
/// view-credentials or create-credentials there.
pub fn can_view_credentials(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(actor, actor_is_member, &[Ability::ViewCredentials, Ability::CreateCredentials])
}

/// Creating, changing and deleting shared credentials: create-credentials there.
pub fn can_manage_credentials(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(actor, actor_is_member, &[Ability::CreateCredentials])
}

/// Naming a shared credential in an account's mapping (the form's choice of credentials):
/// whoever sees credentials, and account managers, who may assign one without seeing more
/// than its name.
pub fn can_name_credentials(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    member_holding(
        actor,
        actor_is_member,
        &[Ability::ViewCredentials, Ability::CreateCredentials, Ability::ManageUsers],
    )
}

/// Test Connection with a shared credential: it signs in to a database server with a stored
/// password, so the holders of manage-database-servers, or the credential's creator while
/// they still hold create-credentials (they know the password already).
pub fn can_test_credential(actor: Option<Actor>, actor_is_member: bool, creator: bool) -> Result<(), Denied> {
    if creator && can_manage_credentials(actor, actor_is_member).is_ok() {
        return Ok(());
    }
    can_manage_database(actor, actor_is_member)
}

/// Test Connection with an account's mapping: manage-database-servers there (a test is a
/// password guess against the database server, so no one else may run them).
pub fn can_test_mapping(actor: Option<Actor>, actor_is_member: bool) -> Result<(), Denied> {
    can_manage_database(actor, actor_is_member)
}

/// Reading the login and password a data tool must use for an account, in the clear: super
/// admins, and API tokens holding view-credentials in the database's organization. People
/// holding view-credentials see credentials in the console, never their passwords.
pub fn can_read_database_login(actor: Option<Actor>, actor_is_member: bool, token: bool) -> Result<(), Denied> {
    match actor {
        Some(a) if a.super_admin => Ok(()),
        Some(_) if !token => Err(Denied::NotSuperAdmin),
        _ => member_holding(actor, actor_is_member, &[Ability::ViewCredentials]),
    }
}

/// Giving `target` a role and extra abilities in the actor's organization (adding them, or
/// changing what they have). `granted` is what the target would hold afterwards from the
/// role and extras; only what is new compared with `before` must be held by the actor.
pub fn can_set_access(
    actor: Option<Actor>,
    target: UserId,
    before: AbilitySet,
    granted: AbilitySet,
) -> Result<(), Denied> {
    let Some(a) = actor else { return Ok(()) };
    if a.id == target {
        return Err(Denied::CannotChangeOwnAccess);
    }
    require(actor, Ability::ManageUsers)?;
    if !a.super_admin && !granted.minus(before).is_subset(a.abilities) {
        return Err(Denied::GrantExceedsOwn);
    }
    Ok(())
}

/// Adding an account that is not yet a member of the actor's organization. Super admins
/// (and the CLI) add anyone. Holders of manage-users add only accounts they can already see
/// (`listed`: on their view or edit list): accounts of other organizations are theirs to
/// keep, and adding one would reveal its details. `Ok(false)`: answer "not found", as for an
/// account that does not exist. (Invitations, which the account accepts, come later.)
pub fn can_pull_in(actor: Option<Actor>, listed: bool) -> Result<bool, Denied> {
    match actor {
        Some(a) if !a.super_admin => {
            require(actor, Ability::ManageUsers)?;
            Ok(listed)
        }
        _ => Ok(true),
    }
}

/// Creating an account straight into an organization with a role (org admins).
pub fn can_create_member(actor: Option<Actor>, granted: AbilitySet) -> Result<(), Denied> {
    let Some(a) = actor else { return Ok(()) };
    require(actor, Ability::CreateUsers)?;
    if !a.super_admin && !granted.is_subset(a.abilities) {
        return Err(Denied::GrantExceedsOwn);
    }
    Ok(())
}

/// Inviting an email address into the actor's organization with `granted` (the role's
/// abilities and extras): as creating a member there (create-users, never beyond what the
/// actor holds). Checked again with what the inviter holds when the link is used.
pub fn can_invite(actor: Option<Actor>, granted: AbilitySet) -> Result<(), Denied> {
    can_create_member(actor, granted)
}

/// Listing, re-sending and withdrawing an organization's invitations.
pub fn can_manage_invitations(actor: Option<Actor>) -> Result<(), Denied> {
    require(actor, Ability::CreateUsers)
}

/// Removing `target` from the actor's organization.
pub fn can_remove_member(actor: Option<Actor>, target: UserId) -> Result<(), Denied> {
    if actor.is_some_and(|a| a.id == target) {
        return Err(Denied::CannotChangeOwnAccess);
    }
    require(actor, Ability::ManageUsers)
}

/// Acting on an account as a whole (edit, disable, delete, its access lists) in
/// organization `org`: super admins on anyone; holders of manage-users in `org` on accounts
/// that are not super admins and either belong to `org` alone or list the actor as an
/// editor — anything else would reach into other organizations.
pub fn can_manage_account(actor: Option<Actor>, org: OrgId, target: Target) -> Result<(), Denied> {
    match actor {
        Some(a) if !a.super_admin => {
            require(actor, Ability::ManageUsers)?;
            if target.super_admin {
                return Err(Denied::TargetIsSuperAdmin);
            }
            if target.sole_org != Some(org) && target.listed != Some(AccountLevel::Edit) {
                return Err(Denied::InOtherOrgs);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether the actor may learn that an account exists when acting on it: super admins (and
/// the CLI) always; anyone else when it belongs to their organization or lists them. The
/// others get "not found", the same answer as for an account that does not exist.
pub fn sees_account(actor: Option<Actor>, target_in_org: bool, listed: Option<AccountLevel>) -> bool {
    match actor {
        Some(a) if !a.super_admin => target_in_org || listed.is_some(),
        _ => true,
    }
}

/// Seeing an account: super admins see any; members holding view-users or manage-users in
/// their organization see its members and the accounts that list them. `Ok(false)`: the
/// account stays hidden (answered as "not found", so its existence is not revealed).
pub fn can_view_account(
    actor: Option<Actor>,
    actor_is_member: bool,
    target_is_member: bool,
    listed: Option<AccountLevel>,
) -> Result<bool, Denied> {
    match actor {
        Some(a) if !a.super_admin => {
            can_view_members(actor, actor_is_member)?;
            Ok(target_is_member || listed.is_some())
        }
        _ => Ok(true),
    }
}

/// Deleting: never the public account, never yourself, never the last active super admin;
/// org admins only within their organization (see `can_manage_account`).
pub fn can_delete_user(
    actor: Option<Actor>,
    org: OrgId,
    target: Target,
    active_super_admins: i64,
) -> Result<(), Denied> {
    if target.public {
        return Err(Denied::PublicAccount);
    }
    if actor.is_some_and(|a| a.id == target.id) {
        return Err(Denied::CannotDeleteSelf);
    }
    can_manage_account(actor, org, target)?;
    if target.is_active_super_admin() && active_super_admins <= 1 {
        return Err(Denied::LastSuperAdmin);
    }
    Ok(())
}

/// Editing an account: name, email and password resets are plain edits; status and the
/// super admin flag follow the rules that keep at least one active super admin, and only
/// super admins grant or revoke super admin.
pub fn can_update_user(
    actor: Option<Actor>,
    org: OrgId,
    target: Target,
    new_status: Option<UserStatus>,
    new_super_admin: Option<bool>,
    active_super_admins: i64,
) -> Result<(), Denied> {
    if target.public {
        return Err(Denied::PublicAccount);
    }
    let is_self = actor.is_some_and(|a| a.id == target.id);
    let status_changes = new_status.is_some_and(|s| s != target.status);
    let flag_changes = new_super_admin.is_some_and(|f| f != target.super_admin);
    if is_self && status_changes {
        return Err(Denied::CannotDisableSelf);
    }
    if is_self && flag_changes {
        return Err(Denied::CannotChangeOwnSuperAdmin);
    }
    if flag_changes {
        require_super_admin(actor)?;
    }
    can_manage_account(actor, org, target)?;
    let after = Target {
        super_admin: new_super_admin.unwrap_or(target.super_admin),
        status: new_status.unwrap_or(target.status),
        ..target
    };
    if target.is_active_super_admin() && !after.is_active_super_admin() && active_super_admins <= 1 {
        return Err(Denied::LastSuperAdmin);
    }
    Ok(())
}

/// Creating an account as a copy of another needs the same right as creating one; the copy
/// may carry the super admin flag only when a super admin makes it.
pub fn can_copy_user(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Sudo mode: changing credentials, creating tokens and granting roles need a sign-in or a
/// re-authentication within `window_ms`. `auth_at` is `None` for token callers, which may
/// never change credentials (a leaked token must not be able to lock its owner out).
pub fn recent_auth(auth_at: Option<i64>, now: i64, window_ms: i64) -> Result<(), Denied> {
    match auth_at {
        Some(t) if t <= now && now - t <= window_ms => Ok(()),
        Some(_) => Err(Denied::ReauthRequired),
        None => Err(Denied::TokenNotAllowed),
    }
}

/// What a token may do where its owner holds `owner_abilities`: an unscoped token is its
/// owner; a scoped one holds its scope intersected with the owner's abilities of the moment
/// (so it shrinks when the owner loses one) and never the super admin bypass.
pub fn token_abilities(
    owner_super_admin: bool,
    owner_abilities: AbilitySet,
    scope: Option<AbilitySet>,
) -> (bool, AbilitySet) {
    match scope {
        None => (owner_super_admin, owner_abilities),
        Some(s) => {
            let base = if owner_super_admin { AbilitySet::all() } else { owner_abilities };
            (false, base.intersect(s))
        }
    }
}

/// A new token's scope may not name abilities its owner holds nowhere.
pub fn can_scope_token(
    owner_super_admin: bool,
    owner_anywhere: AbilitySet,
    scope: Option<AbilitySet>,
) -> Result<(), Denied> {
    match scope {
        Some(s) if !owner_super_admin && !s.is_subset(owner_anywhere) => Err(Denied::GrantExceedsOwn),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::abilities::defaults;
    use UserStatus::*;

    const ORG: OrgId = OrgId(1);
    const OTHER: OrgId = OrgId(2);
    const ADMIN: Actor = Actor { id: UserId(1), super_admin: true, abilities: AbilitySet::EMPTY };
    const PLAIN: Actor = Actor { id: UserId(2), super_admin: false, abilities: AbilitySet::EMPTY };

    fn org_admin(id: i64) -> Actor {
        Actor { id: UserId(id), super_admin: false, abilities: defaults::admin() }
    }

    #[test]
    fn scim_connections_change_only_their_own_accounts_never_super_admins_or_the_public_one() {
        let t = |super_admin: bool, public: bool| Target {
            id: UserId(9),
            super_admin,
            status: Active,
            public,
            sole_org: None,
            listed: None,
        };
        assert_eq!(scim_may_change(true, t(false, false)), Ok(()));
        assert_eq!(scim_may_change(false, t(false, false)), Err(None), "not its own: not found");
        assert_eq!(scim_may_change(true, t(true, false)), Err(Some(Denied::TargetIsSuperAdmin)));
        assert_eq!(scim_may_change(true, t(false, true)), Err(Some(Denied::PublicAccount)));
        assert!(scim_may_adopt(true, t(false, false), false));
        assert!(!scim_may_adopt(false, t(false, false), false), "adoption is off");
        assert!(!scim_may_adopt(true, t(true, false), false), "never a super admin");
        assert!(!scim_may_adopt(true, t(false, true), false), "never the public account");
        assert!(!scim_may_adopt(true, t(false, false), true), "never another connection's");
        assert_eq!(can_manage_scim(None), Ok(()));
        assert_eq!(can_manage_scim(Some(ADMIN)), Ok(()));
        assert_eq!(can_manage_scim(Some(org_admin(3))), Err(Denied::NotSuperAdmin));
    }
    fn member(id: i64) -> Actor {
        Actor { id: UserId(id), super_admin: false, abilities: defaults::member() }
    }

    type DeleteCase = (Option<Actor>, Target, i64, Result<(), Denied>);
    type UpdateCase = (Option<Actor>, Target, Option<UserStatus>, Option<bool>, i64, Result<(), Denied>);

    fn t(id: i64, super_admin: bool, status: UserStatus) -> Target {
        Target { id: UserId(id), super_admin, status, public: false, sole_org: Some(ORG), listed: None }
    }
    fn multi(id: i64) -> Target {
        Target { sole_org: None, ..t(id, false, Active) }
    }
    fn public() -> Target {
        Target { public: true, ..t(9, false, Active) }
    }

    #[test]
    fn pulling_in_accounts_from_elsewhere() {
        // (actor, listed) -> Ok(visible) or the denial
        let cases: &[(Option<Actor>, bool, Result<bool, Denied>)] = &[
            (None, false, Ok(true)),
            (Some(ADMIN), false, Ok(true)),
            (Some(org_admin(5)), true, Ok(true)),
            (Some(org_admin(5)), false, Ok(false)),
            (Some(member(6)), true, Err(Denied::MissingAbility(Ability::ManageUsers))),
            (Some(PLAIN), false, Err(Denied::MissingAbility(Ability::ManageUsers))),
        ];
        for (actor, listed, want) in cases {
            assert_eq!(can_pull_in(*actor, *listed), *want, "{actor:?} listed={listed}");
        }
    }

    #[test]
    fn database_definitions() {
        let holding =
            |a: &[Ability]| Actor { id: UserId(7), super_admin: false, abilities: a.iter().copied().collect() };
        let viewer = holding(&[Ability::ViewDatabases]);
        let creator = holding(&[Ability::CreateDatabases]);
        let manager = holding(&[Ability::ManageDatabaseServers]);
        // (actor, member) -> (view, create, manage)
        type Case = (Option<Actor>, bool, [Result<(), Denied>; 3]);
        let missing = |a| Err(Denied::MissingAbility(a));
        let cases: Vec<Case> = vec![
            (None, false, [Ok(()), Ok(()), Ok(())]),
            (Some(ADMIN), false, [Ok(()), Ok(()), Ok(())]),
            (
                Some(PLAIN),
                true,
                [
                    missing(Ability::ViewDatabases),
                    missing(Ability::CreateDatabases),
                    missing(Ability::ManageDatabaseServers),
                ],
            ),
            (Some(viewer), true, [Ok(()), missing(Ability::CreateDatabases), missing(Ability::ManageDatabaseServers)]),
            (Some(creator), true, [Ok(()), Ok(()), missing(Ability::ManageDatabaseServers)]),
            (Some(manager), true, [Ok(()), Ok(()), Ok(())]),
            // Abilities without membership (the public account's grants) count for nothing.
            (Some(manager), false, [Err(Denied::NotMember), Err(Denied::NotMember), Err(Denied::NotMember)]),
            (Some(org_admin(3)), true, [Ok(()), Ok(()), Ok(())]),
            (
                Some(Actor { id: UserId(4), super_admin: false, abilities: defaults::viewer() }),
                true,
                [
                    missing(Ability::ViewDatabases),
                    missing(Ability::CreateDatabases),
                    missing(Ability::ManageDatabaseServers),
                ],
            ),
        ];
        for (actor, member, want) in cases {
            let got = [
                can_view_databases(actor, member),
                can_create_database(actor, member),
                can_manage_database(actor, member),
            ];
            assert_eq!(got, want, "{actor:?} member={member}");
        }
    }

    #[test]
    fn credentials_and_database_logins() {
        let holding =
            |a: &[Ability]| Actor { id: UserId(7), super_admin: false, abilities: a.iter().copied().collect() };
        let viewer = holding(&[Ability::ViewCredentials]);
        let creator = holding(&[Ability::CreateCredentials]);
        let servers = holding(&[Ability::ManageDatabaseServers]);
        let assistant = holding(&[Ability::ManageUsers]);
        let missing = |a| Err(Denied::MissingAbility(a));
        // (actor, member) -> (view, manage, name)
        type Case = (Option<Actor>, bool, [Result<(), Denied>; 3]);
        let cases: Vec<Case> = vec![
            (None, false, [Ok(()), Ok(()), Ok(())]),
            (Some(ADMIN), false, [Ok(()), Ok(()), Ok(())]),
            (Some(viewer), true, [Ok(()), missing(Ability::CreateCredentials), Ok(())]),
            (Some(creator), true, [Ok(()), Ok(()), Ok(())]),
            (Some(assistant), true, [missing(Ability::ViewCredentials), missing(Ability::CreateCredentials), Ok(())]),
            (
                Some(servers),
                true,
                [missing(Ability::ViewCredentials), missing(Ability::CreateCredentials), {
                    missing(Ability::ViewCredentials)
                }],
            ),
            (Some(creator), false, [Err(Denied::NotMember), Err(Denied::NotMember), Err(Denied::NotMember)]),
        ];
        for (actor, member, want) in cases {
            let got = [
                can_view_credentials(actor, member),
                can_manage_credentials(actor, member),
                can_name_credentials(actor, member),
            ];
            assert_eq!(got, want, "{actor:?} member={member}");
        }
        // Testing a credential: manage-database-servers, or its creator while they hold
        // create-credentials; a mapping: manage-database-servers only.
        assert_eq!(can_test_credential(Some(creator), true, true), Ok(()));
        assert_eq!(can_test_credential(Some(creator), true, false), missing(Ability::ManageDatabaseServers));
        assert_eq!(can_test_credential(Some(viewer), true, true), missing(Ability::ManageDatabaseServers));
        assert_eq!(can_test_credential(Some(servers), true, false), Ok(()));
        assert_eq!(can_test_mapping(Some(servers), true), Ok(()));
        assert_eq!(can_test_mapping(Some(creator), true), missing(Ability::ManageDatabaseServers));
        // Database logins in the clear: super admins (session or token) and tokens holding
        // view-credentials; never a person's session without super admin.
        assert_eq!(can_read_database_login(Some(ADMIN), false, false), Ok(()));
        assert_eq!(can_read_database_login(Some(ADMIN), false, true), Ok(()));
        assert_eq!(can_read_database_login(Some(viewer), true, false), Err(Denied::NotSuperAdmin));
        assert_eq!(can_read_database_login(Some(viewer), true, true), Ok(()));
        assert_eq!(can_read_database_login(Some(viewer), false, true), Err(Denied::NotMember));
        assert_eq!(can_read_database_login(Some(creator), true, true), missing(Ability::ViewCredentials));
        assert_eq!(can_read_database_login(None, false, false), Ok(()));
    }

    #[test]
    fn sign_up_only_while_empty() {
        assert_eq!(can_sign_up(0), Ok(()));
        assert_eq!(can_sign_up(1), Err(Denied::SignUpClosed));
    }

    #[test]
    fn delete_rules() {
        // (actor, target, active super admins) -> expected, all in ORG
        let cases: &[DeleteCase] = &[
            (Some(ADMIN), t(3, false, Active), 1, Ok(())),
            (Some(ADMIN), t(1, true, Active), 2, Err(Denied::CannotDeleteSelf)),
            (Some(ADMIN), t(3, true, Active), 2, Ok(())),
            (Some(ADMIN), t(3, true, Active), 1, Err(Denied::LastSuperAdmin)),
            (Some(ADMIN), multi(3), 1, Ok(())),
            (Some(ADMIN), public(), 1, Err(Denied::PublicAccount)),
            // a disabled super admin is not one of the active ones
            (Some(ADMIN), t(3, true, Disabled), 1, Ok(())),
            (Some(PLAIN), t(3, false, Active), 1, Err(Denied::MissingAbility(Ability::ManageUsers))),
            (Some(PLAIN), t(2, false, Active), 1, Err(Denied::CannotDeleteSelf)),
            (Some(member(5)), t(3, false, Active), 1, Err(Denied::MissingAbility(Ability::ManageUsers))),
            // org admins: only accounts that belong to their organization alone
            (Some(org_admin(5)), t(3, false, Active), 1, Ok(())),
            (Some(org_admin(5)), multi(3), 1, Err(Denied::InOtherOrgs)),
            (Some(org_admin(5)), Target { sole_org: Some(OTHER), ..t(3, false, Active) }, 1, Err(Denied::InOtherOrgs)),
            (Some(org_admin(5)), t(3, true, Active), 2, Err(Denied::TargetIsSuperAdmin)),
            (Some(org_admin(5)), public(), 2, Err(Denied::PublicAccount)),
            // ...or accounts elsewhere that list them as editors (SlashDB's edit list)
            (Some(org_admin(5)), Target { listed: Some(AccountLevel::Edit), ..multi(3) }, 1, Ok(())),
            (Some(org_admin(5)), Target { listed: Some(AccountLevel::View), ..multi(3) }, 1, Err(Denied::InOtherOrgs)),
            (
                Some(org_admin(5)),
                Target { listed: Some(AccountLevel::Edit), ..t(3, true, Active) },
                2,
                Err(Denied::TargetIsSuperAdmin),
            ),
            // an editor still needs manage-users
            (
                Some(member(5)),
                Target { listed: Some(AccountLevel::Edit), ..multi(3) },
                1,
                Err(Denied::MissingAbility(Ability::ManageUsers)),
            ),
            // the CLI (no actor) still keeps one super admin and the public account
            (None, t(3, true, Active), 1, Err(Denied::LastSuperAdmin)),
            (None, t(3, true, Active), 2, Ok(())),
            (None, multi(3), 1, Ok(())),
            (None, public(), 2, Err(Denied::PublicAccount)),
        ];
        for (actor, target, n, want) in cases {
            assert_eq!(can_delete_user(*actor, ORG, *target, *n), *want, "{actor:?} {target:?} {n}");
        }
    }

    #[test]
    fn update_rules() {
        let cases: &[UpdateCase] = &[
            (Some(ADMIN), t(3, false, Active), Some(Disabled), None, 1, Ok(())),
            (Some(ADMIN), t(1, true, Active), Some(Disabled), None, 2, Err(Denied::CannotDisableSelf)),
            (Some(ADMIN), t(1, true, Active), Some(Active), None, 1, Ok(())),
            (Some(ADMIN), t(1, true, Active), None, Some(false), 2, Err(Denied::CannotChangeOwnSuperAdmin)),
            (Some(ADMIN), t(1, true, Active), None, Some(true), 1, Ok(())),
            (Some(ADMIN), t(3, true, Active), None, Some(false), 2, Ok(())),
            (Some(ADMIN), t(3, true, Active), Some(Disabled), None, 1, Err(Denied::LastSuperAdmin)),
            (Some(ADMIN), t(3, true, Active), None, Some(false), 1, Err(Denied::LastSuperAdmin)),
            (Some(ADMIN), t(3, false, Active), None, Some(true), 1, Ok(())),
            (Some(ADMIN), t(3, true, Disabled), Some(Active), None, 1, Ok(())),
            (Some(ADMIN), public(), Some(Disabled), None, 1, Err(Denied::PublicAccount)),
            (Some(PLAIN), t(3, false, Active), None, None, 1, Err(Denied::MissingAbility(Ability::ManageUsers))),
            // a plain user cannot reset their own password through the users admin
            (Some(PLAIN), t(2, false, Active), None, None, 1, Err(Denied::MissingAbility(Ability::ManageUsers))),
            // org admins edit and disable their own organization's accounts, never promote
            (Some(org_admin(5)), t(3, false, Active), Some(Disabled), None, 1, Ok(())),
            (Some(org_admin(5)), t(3, false, Active), None, Some(true), 1, Err(Denied::NotSuperAdmin)),
            (Some(org_admin(5)), multi(3), Some(Disabled), None, 1, Err(Denied::InOtherOrgs)),
            (Some(org_admin(5)), t(3, true, Active), None, None, 2, Err(Denied::TargetIsSuperAdmin)),
            (None, t(3, true, Active), Some(Disabled), None, 1, Err(Denied::LastSuperAdmin)),
            (None, t(3, true, Active), Some(Disabled), None, 2, Ok(())),
        ];
        for (actor, target, status, flag, n, want) in cases {
            assert_eq!(
                can_update_user(*actor, ORG, *target, *status, *flag, *n),
                *want,
                "{actor:?} {target:?} {status:?} {flag:?} {n}"
            );
        }
    }

    #[test]
    fn global_settings_are_for_super_admins() {
        for f in [
            can_view_users,
            can_create_user,
            can_view_audit,
            can_copy_user,
            can_manage_roles,
            can_manage_orgs,
            can_manage_sso,
            can_manage_clients,
            can_manage_webhooks,
        ] {
            assert_eq!(f(Some(ADMIN)), Ok(()));
            assert_eq!(f(Some(PLAIN)), Err(Denied::NotSuperAdmin));
            // an org admin is not a super admin
            assert_eq!(f(Some(org_admin(5))), Err(Denied::NotSuperAdmin));
            assert_eq!(f(None), Ok(()));
        }
    }

    #[test]
    fn membership_rules() {
        use Ability::*;
        let viewer_only = Actor { abilities: AbilitySet::of(&[ViewUsers]), ..PLAIN };
        assert_eq!(can_view_members(Some(viewer_only), true), Ok(()));
        assert_eq!(can_view_members(Some(org_admin(5)), true), Ok(()));
        assert_eq!(can_view_members(Some(member(5)), true), Err(Denied::MissingAbility(ViewUsers)));
        // abilities through the public account do not make a non-member one
        assert_eq!(can_view_members(Some(viewer_only), false), Err(Denied::NotMember));
        assert_eq!(can_view_members(Some(ADMIN), false), Ok(()));
        assert_eq!(can_view_members(None, false), Ok(()));
        let weak_admin = Actor { abilities: AbilitySet::of(&[ManageUsers, RunBackups]), ..PLAIN };
        let run = AbilitySet::of(&[RunBackups]);
        let cases = [
            (Some(ADMIN), UserId(3), AbilitySet::EMPTY, AbilitySet::all(), Ok(())),
            (Some(ADMIN), ADMIN.id, AbilitySet::EMPTY, run, Err(Denied::CannotChangeOwnAccess)),
            (Some(weak_admin), UserId(3), AbilitySet::EMPTY, run, Ok(())),
            (Some(weak_admin), UserId(3), AbilitySet::EMPTY, defaults::operator(), Err(Denied::GrantExceedsOwn)),
            // keeping what the target already had is not a grant
            (Some(weak_admin), UserId(3), defaults::operator(), defaults::operator(), Ok(())),
            (Some(weak_admin), UserId(3), defaults::admin(), run, Ok(())),
            (Some(weak_admin), weak_admin.id, AbilitySet::EMPTY, run, Err(Denied::CannotChangeOwnAccess)),
            (Some(member(5)), UserId(3), AbilitySet::EMPTY, run, Err(Denied::MissingAbility(ManageUsers))),
            (None, UserId(3), AbilitySet::EMPTY, AbilitySet::all(), Ok(())),
        ];
        for (actor, target, before, granted, want) in cases {
            assert_eq!(can_set_access(actor, target, before, granted), want, "{actor:?} {target:?} {granted:?}");
        }
        assert_eq!(can_remove_member(Some(org_admin(5)), UserId(3)), Ok(()));
        assert_eq!(can_remove_member(Some(org_admin(5)), UserId(5)), Err(Denied::CannotChangeOwnAccess));
        assert_eq!(can_remove_member(Some(member(5)), UserId(3)), Err(Denied::MissingAbility(ManageUsers)));
        assert_eq!(can_create_member(Some(org_admin(5)), defaults::member()), Ok(()));
        assert_eq!(can_create_member(Some(weak_admin), run), Err(Denied::MissingAbility(CreateUsers)));
        let creator = Actor { abilities: AbilitySet::of(&[CreateUsers]), ..PLAIN };
        assert_eq!(can_create_member(Some(creator), run), Err(Denied::GrantExceedsOwn));
    }

    #[test]
    fn account_visibility() {
        use AccountLevel::*;
        let viewer = Actor { abilities: AbilitySet::of(&[Ability::ViewUsers]), ..PLAIN };
        let cases = [
            (Some(ADMIN), false, None, Ok(true)),
            (None, false, None, Ok(true)),
            (Some(viewer), true, None, Ok(true)),
            (Some(viewer), false, None, Ok(false)),
            (Some(viewer), false, Some(View), Ok(true)),
            (Some(viewer), false, Some(Edit), Ok(true)),
            (Some(PLAIN), true, Some(Edit), Err(Denied::MissingAbility(Ability::ViewUsers))),
        ];
        for (actor, member, listed, want) in cases {
            assert_eq!(can_view_account(actor, true, member, listed), want, "{actor:?} {member} {listed:?}");
        }
        assert_eq!(can_view_account(Some(viewer), false, true, None), Err(Denied::NotMember));
    }

    #[test]
    fn denials_have_distinct_codes_and_sentences() {
        let codes: std::collections::HashSet<_> = Denied::ALL.iter().map(|d| d.code()).collect();
        assert_eq!(codes.len(), Denied::ALL.len());
        assert!(Denied::ALL.iter().all(|d| d.message().ends_with('.')));
        assert_eq!(
            Denied::MissingAbility(Ability::ViewUsers).message(),
            "You need the view-users ability in this organization."
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Op {
            Delete(usize, usize),
            Disable(usize, usize),
            Enable(usize, usize),
            Demote(usize, usize),
            Promote(usize, usize),
        }

        fn op() -> impl Strategy<Value = Op> {
            let i = 0usize..5;
            prop_oneof![
                (i.clone(), i.clone()).prop_map(|(a, b)| Op::Delete(a, b)),
                (i.clone(), i.clone()).prop_map(|(a, b)| Op::Disable(a, b)),
                (i.clone(), i.clone()).prop_map(|(a, b)| Op::Enable(a, b)),
                (i.clone(), i.clone()).prop_map(|(a, b)| Op::Demote(a, b)),
                (i.clone(), i).prop_map(|(a, b)| Op::Promote(a, b)),
            ]
        }

        /// A grant attempt: actor, target, and the abilities (a role's plus extras) to give.
        fn grant() -> impl Strategy<Value = (usize, usize, u32)> {
            (0usize..6, 0usize..6, 0u32..(1 << 19))
        }

        proptest! {
            /// Whatever sequence of deletes, disables and demotions is attempted, every change the
            /// policy allows leaves at least one active super admin.
            #[test]
            fn at_least_one_active_super_admin_remains(ops in proptest::collection::vec(op(), 1..60)) {
                // five accounts; 0 and 1 start as active super admins
                let mut users: Vec<Option<Target>> = (0..5)
                    .map(|i| Some(t(i as i64, i < 2, Active)))
                    .collect();
                for o in ops {
                    let active_sa = users.iter().flatten().filter(|u| u.is_active_super_admin()).count() as i64;
                    let (a, b) = match o { Op::Delete(a, b) | Op::Disable(a, b) | Op::Enable(a, b) | Op::Demote(a, b) | Op::Promote(a, b) => (a, b) };
                    let (Some(actor_t), Some(target)) = (users[a], users[b]) else { continue };
                    if actor_t.status != Active { continue; } // disabled accounts cannot act
                    // everyone else is an org admin: org admins must not be able to break the rule either
                    let actor = Some(Actor { id: actor_t.id, super_admin: actor_t.super_admin, abilities: defaults::admin() });
                    match o {
                        Op::Delete(..) => if can_delete_user(actor, ORG, target, active_sa).is_ok() { users[b] = None; },
                        Op::Disable(..) => if can_update_user(actor, ORG, target, Some(Disabled), None, active_sa).is_ok() { users[b] = Some(Target { status: Disabled, ..target }); },
                        Op::Enable(..) => if can_update_user(actor, ORG, target, Some(Active), None, active_sa).is_ok() { users[b] = Some(Target { status: Active, ..target }); },
                        Op::Demote(..) => if can_update_user(actor, ORG, target, None, Some(false), active_sa).is_ok() { users[b] = Some(Target { super_admin: false, ..target }); },
                        Op::Promote(..) => if can_update_user(actor, ORG, target, None, Some(true), active_sa).is_ok() { users[b] = Some(Target { super_admin: true, ..target }); },
                    }
                    let left = users.iter().flatten().filter(|u| u.is_active_super_admin()).count();
                    prop_assert!(left >= 1, "no active super admin left");
                }
            }

            /// No sequence of grants between non-super-admins lets anyone end up with an ability
            /// that no one held at the start, nor change their own access.
            #[test]
            fn grants_never_create_abilities(
                start in proptest::collection::vec(0u32..(1 << 19), 6),
                ops in proptest::collection::vec(grant(), 1..80),
            ) {
                let mut held: Vec<AbilitySet> = start.iter().map(|bits| {
                    Ability::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, a)| a).collect()
                }).collect();
                let initial_union = held.iter().fold(AbilitySet::EMPTY, |u, s| u.union(*s));
                for (a, b, bits) in ops {
                    let give: AbilitySet = Ability::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, x)| x).collect();
                    let actor = Actor { id: UserId(a as i64), super_admin: false, abilities: held[a] };
                    if can_set_access(Some(actor), UserId(b as i64), held[b], give).is_ok() {
                        prop_assert!(a != b, "changed own access");
                        prop_assert!(give.minus(held[b]).is_subset(held[a]), "granted what the actor lacks");
                        held[b] = give;
                    }
                    let union = held.iter().fold(AbilitySet::EMPTY, |u, s| u.union(*s));
                    prop_assert!(union.is_subset(initial_union), "an ability appeared from nowhere");
                }
            }
        }
    }

    #[test]
    fn recent_auth_window() {
        let w = 10 * 60_000;
        assert_eq!(recent_auth(Some(1_000), 1_000, w), Ok(()));
        assert_eq!(recent_auth(Some(1_000), 1_000 + w, w), Ok(()));
        assert_eq!(recent_auth(Some(1_000), 1_001 + w, w), Err(Denied::ReauthRequired));
        // A clock that went backwards is not "recent".
        assert_eq!(recent_auth(Some(5_000), 1_000, w), Err(Denied::ReauthRequired));
        assert_eq!(recent_auth(None, 1_000, w), Err(Denied::TokenNotAllowed));
    }

    #[test]
    fn token_scope_rules() {
        let member = defaults::member();
        let scope = Some(AbilitySet::of(&[Ability::ViewUsers, Ability::ManageUsers]));
        assert_eq!(token_abilities(false, member, None), (false, member));
        assert_eq!(token_abilities(true, AbilitySet::EMPTY, None), (true, AbilitySet::EMPTY));
        let (sa, got) = token_abilities(true, AbilitySet::EMPTY, scope);
        assert!(!sa, "a scoped token never bypasses checks");
        assert_eq!(Some(got), scope);
        assert_eq!(can_scope_token(false, defaults::viewer(), scope), Err(Denied::GrantExceedsOwn));
        assert_eq!(can_scope_token(true, AbilitySet::EMPTY, scope), Ok(()));
        assert_eq!(can_scope_token(false, AbilitySet::EMPTY, None), Ok(()));
    }

    proptest::proptest! {
        /// Whatever the owner holds and whatever the scope says, a token never holds an
        /// ability its owner lacks at that moment.
        #[test]
        fn token_never_wider_than_owner(owner in 0u32..(1 << 19), scope in proptest::option::of(0u32..(1 << 19)), sa in proptest::bool::ANY) {
            let bits = |b: u32| Ability::ALL.iter().enumerate().filter(|(i, _)| b & (1 << i) != 0).map(|(_, a)| *a).collect::<AbilitySet>();
            let owner_set = bits(owner);
            let (tsa, got) = token_abilities(sa, owner_set, scope.map(bits));
            proptest::prop_assert!(!tsa || sa);
            if !sa {
                proptest::prop_assert!(got.is_subset(owner_set));
            }
            if let Some(s) = scope {
                proptest::prop_assert!(got.is_subset(bits(s)) && !tsa);
            }
        }
    }

    #[test]
    fn listeners_hear_what_they_may_see() {
        let plain = EventListener { id: UserId(7), member_of: vec![OrgId(1)], ..Default::default() };
        let admin_of_1 = EventListener { sees_members_of: vec![OrgId(1)], ..plain.clone() };
        let sup = EventListener { id: UserId(1), super_admin: true, ..Default::default() };
        // their own account, wherever it changed
        assert!(hears_event(&plain, "user", Some(7), &[]));
        assert!(hears_event(&plain, "user", Some(7), &[OrgId(2)]));
        // other accounts only where members are visible to them
        assert!(!hears_event(&plain, "user", Some(8), &[OrgId(1)]));
        assert!(hears_event(&admin_of_1, "user", Some(8), &[OrgId(1)]));
        assert!(!hears_event(&admin_of_1, "user", Some(8), &[OrgId(2)]));
        assert!(!hears_event(&admin_of_1, "user", Some(8), &[]), "an account in no organization");
        // roles and "reload everything" concern everyone; organizations their members
        assert!(hears_event(&plain, "role", Some(3), &[]));
        assert!(hears_event(&plain, "all", None, &[]));
        assert!(hears_event(&plain, "org", Some(1), &[OrgId(1)]));
        assert!(!hears_event(&plain, "org", Some(2), &[OrgId(2)]));
        for (kind, orgs) in [("user", vec![]), ("org", vec![OrgId(9)]), ("role", vec![])] {
            assert!(hears_event(&sup, kind, Some(42), &orgs));
        }
    }
}
