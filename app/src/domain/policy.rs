//! Who may do what. Every adapter (server functions, JSON API, CLI) reaches these functions
//! through the same service, so a rule cannot exist in one path and be missing in another.
//! The facts passed in (such as the number of active super admins) are read in the same
//! transaction as the write that follows, so concurrent changes cannot both pass.
//! Roles and per-organization abilities arrive with the access model; until then the users
//! admin is for super admins.
use serde::{Deserialize, Serialize};

use super::ids::UserId;
use super::users::UserStatus;

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
}

impl Denied {
    pub fn code(self) -> &'static str {
        match self {
            Denied::NotSuperAdmin => "not_super_admin",
            Denied::CannotDeleteSelf => "cannot_delete_self",
            Denied::CannotDisableSelf => "cannot_disable_self",
            Denied::CannotChangeOwnSuperAdmin => "cannot_change_own_super_admin",
            Denied::LastSuperAdmin => "last_super_admin",
            Denied::SignUpClosed => "sign_up_closed",
            Denied::CrossSiteRequest => "cross_site_request",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Denied::NotSuperAdmin => "Only super admins can do this.",
            Denied::CannotDeleteSelf => "You cannot delete your own account.",
            Denied::CannotDisableSelf => "You cannot disable your own account.",
            Denied::CannotChangeOwnSuperAdmin => "You cannot change your own super admin status.",
            Denied::LastSuperAdmin => "This is the last active super admin: there must always be at least one.",
            Denied::SignUpClosed => "Self sign-up is closed. Ask an administrator to create an account for you.",
            Denied::CrossSiteRequest => "Cross-site request refused.",
        }
    }
}

/// The account performing an action. `None` as an actor means the CLI run by the operator of
/// the machine, who already has the database file: the same rules about the last super admin
/// apply, but no actor-specific ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub super_admin: bool,
}

/// What policy needs to know about the account being acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub id: UserId,
    pub super_admin: bool,
    pub status: UserStatus,
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

/// Self sign-up opens only while no account exists; the first account becomes super admin.
pub fn can_sign_up(existing_accounts: i64) -> Result<(), Denied> {
    if existing_accounts == 0 {
        Ok(())
    } else {
        Err(Denied::SignUpClosed)
    }
}

pub fn can_view_users(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

pub fn can_create_user(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

pub fn can_view_audit(actor: Option<Actor>) -> Result<(), Denied> {
    require_super_admin(actor)
}

/// Deleting: super admins only; never yourself; never the last active super admin.
pub fn can_delete_user(actor: Option<Actor>, target: Target, active_super_admins: i64) -> Result<(), Denied> {
    require_super_admin(actor)?;
    if actor.is_some_and(|a| a.id == target.id) {
        return Err(Denied::CannotDeleteSelf);
    }
    if target.is_active_super_admin() && active_super_admins <= 1 {
        return Err(Denied::LastSuperAdmin);
    }
    Ok(())
}

/// Editing an account: name, email and password resets are plain edits; status and the
/// super admin flag follow the rules that keep at least one active super admin.
pub fn can_update_user(
    actor: Option<Actor>,
    target: Target,
    new_status: Option<UserStatus>,
    new_super_admin: Option<bool>,
    active_super_admins: i64,
) -> Result<(), Denied> {
    require_super_admin(actor)?;
    let is_self = actor.is_some_and(|a| a.id == target.id);
    let status_changes = new_status.is_some_and(|s| s != target.status);
    let flag_changes = new_super_admin.is_some_and(|f| f != target.super_admin);
    if is_self && status_changes {
        return Err(Denied::CannotDisableSelf);
    }
    if is_self && flag_changes {
        return Err(Denied::CannotChangeOwnSuperAdmin);
    }
    let after = Target {
        id: target.id,
        super_admin: new_super_admin.unwrap_or(target.super_admin),
        status: new_status.unwrap_or(target.status),
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

#[cfg(test)]
mod tests {
    use super::*;
    use UserStatus::*;

    const ADMIN: Actor = Actor { id: UserId(1), super_admin: true };
    const PLAIN: Actor = Actor { id: UserId(2), super_admin: false };

    type DeleteCase = (Option<Actor>, Target, i64, Result<(), Denied>);
    type UpdateCase = (Option<Actor>, Target, Option<UserStatus>, Option<bool>, i64, Result<(), Denied>);

    fn t(id: i64, super_admin: bool, status: UserStatus) -> Target {
        Target { id: UserId(id), super_admin, status }
    }

    #[test]
    fn sign_up_only_while_empty() {
        assert_eq!(can_sign_up(0), Ok(()));
        assert_eq!(can_sign_up(1), Err(Denied::SignUpClosed));
    }

    #[test]
    fn delete_rules() {
        // (actor, target, active super admins) -> expected
        let cases: &[DeleteCase] = &[
            (Some(ADMIN), t(3, false, Active), 1, Ok(())),
            (Some(ADMIN), t(1, true, Active), 2, Err(Denied::CannotDeleteSelf)),
            (Some(ADMIN), t(3, true, Active), 2, Ok(())),
            (Some(ADMIN), t(3, true, Active), 1, Err(Denied::LastSuperAdmin)),
            // a disabled super admin is not one of the active ones
            (Some(ADMIN), t(3, true, Disabled), 1, Ok(())),
            (Some(PLAIN), t(3, false, Active), 1, Err(Denied::NotSuperAdmin)),
            (Some(PLAIN), t(2, false, Active), 1, Err(Denied::NotSuperAdmin)),
            // the CLI (no actor) still keeps one super admin
            (None, t(3, true, Active), 1, Err(Denied::LastSuperAdmin)),
            (None, t(3, true, Active), 2, Ok(())),
            (None, t(3, false, Active), 1, Ok(())),
        ];
        for (actor, target, n, want) in cases {
            assert_eq!(can_delete_user(*actor, *target, *n), *want, "{actor:?} {target:?} {n}");
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
            (Some(PLAIN), t(3, false, Active), None, None, 1, Err(Denied::NotSuperAdmin)),
            (None, t(3, true, Active), Some(Disabled), None, 1, Err(Denied::LastSuperAdmin)),
            (None, t(3, true, Active), Some(Disabled), None, 2, Ok(())),
        ];
        for (actor, target, status, flag, n, want) in cases {
            assert_eq!(
                can_update_user(*actor, *target, *status, *flag, *n),
                *want,
                "{actor:?} {target:?} {status:?} {flag:?} {n}"
            );
        }
    }

    #[test]
    fn only_super_admins_administer_users() {
        for f in [can_view_users, can_create_user, can_view_audit, can_copy_user] {
            assert_eq!(f(Some(ADMIN)), Ok(()));
            assert_eq!(f(Some(PLAIN)), Err(Denied::NotSuperAdmin));
            assert_eq!(f(None), Ok(()));
        }
    }

    #[test]
    fn denials_have_distinct_codes_and_sentences() {
        let all = [
            Denied::NotSuperAdmin,
            Denied::CannotDeleteSelf,
            Denied::CannotDisableSelf,
            Denied::CannotChangeOwnSuperAdmin,
            Denied::LastSuperAdmin,
            Denied::SignUpClosed,
            Denied::CrossSiteRequest,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|d| d.code()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|d| d.message().ends_with('.')));
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
                    let actor = Some(Actor { id: actor_t.id, super_admin: actor_t.super_admin });
                    match o {
                        Op::Delete(..) => if can_delete_user(actor, target, active_sa).is_ok() { users[b] = None; },
                        Op::Disable(..) => if can_update_user(actor, target, Some(Disabled), None, active_sa).is_ok() { users[b] = Some(Target { status: Disabled, ..target }); },
                        Op::Enable(..) => if can_update_user(actor, target, Some(Active), None, active_sa).is_ok() { users[b] = Some(Target { status: Active, ..target }); },
                        Op::Demote(..) => if can_update_user(actor, target, None, Some(false), active_sa).is_ok() { users[b] = Some(Target { super_admin: false, ..target }); },
                        Op::Promote(..) => if can_update_user(actor, target, None, Some(true), active_sa).is_ok() { users[b] = Some(Target { super_admin: true, ..target }); },
                    }
                    let left = users.iter().flatten().filter(|u| u.is_active_super_admin()).count();
                    prop_assert!(left >= 1, "no active super admin left");
                }
            }
        }
    }
}
