//! The request context: who is calling (`Caller`: anonymous, a signed-in account, or the
//! CLI) and where the request came from, as the services see it. Turning it into a policy
//! actor is the one place that refuses anonymous callers and accounts that still owe a
//! second factor.
use super::Backend;
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy::Actor;

/// The signed-in account behind a request, as resolved from its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: UserId,
    pub username: String,
    pub full_name: String,
    pub email: String,
    /// The effective flag: false for a scoped token even when its owner is a super admin.
    pub super_admin: bool,
    pub org: OrgId,
    /// Set when the request authenticated with an API key or personal access token.
    pub token: Option<TokenAuth>,
    /// The organization or the instance requires two-factor authentication and the account
    /// has none yet: it may only reach its profile and security settings.
    pub needs_two_factor: bool,
}

/// The token behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAuth {
    pub id: i64,
    /// `None`: everything the owner holds.
    pub scope: Option<crate::domain::abilities::AbilitySet>,
}

impl SessionUser {
    /// What this caller holds where the account holds (`super_admin`, `abilities`): the
    /// account's own for a session, narrowed by a token's scope.
    pub fn narrow(
        &self,
        super_admin: bool,
        abilities: crate::domain::abilities::AbilitySet,
    ) -> (bool, crate::domain::abilities::AbilitySet) {
        crate::domain::policy::token_abilities(super_admin, abilities, self.token.as_ref().and_then(|t| t.scope))
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No valid session.
    Anonymous,
    User(SessionUser),
    /// The `roster` command line, run by whoever operates the machine and its database file.
    Cli,
}

/// Per-request facts the services need: the caller, and where the request came from (for
/// the audit trail). Put into request extensions by the session middleware.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// SHA-256 of the current session token, when there is one (to rotate or end it).
    pub session: Option<Vec<u8>>,
    /// When the session last proved its owner (sign-in, re-authentication); `None` for
    /// tokens and anonymous callers.
    pub auth_at: Option<i64>,
    /// How the session was signed in (`password`, `totp`, `passkey`...); `None` for tokens
    /// and anonymous callers.
    pub auth_method: Option<String>,
    /// SHA-256 of the second-factor challenge cookie, between password and code.
    pub challenge: Option<Vec<u8>>,
}

impl Ctx {
    pub fn cli() -> Self {
        Self { caller: Caller::Cli, ..Self::anonymous() }
    }

    pub fn anonymous() -> Self {
        Self {
            caller: Caller::Anonymous,
            ip: None,
            user_agent: None,
            session: None,
            auth_at: None,
            auth_method: None,
            challenge: None,
        }
    }

    /// The policy actor: `Ok(None)` for the CLI, an error for anonymous callers.
    pub fn actor(&self) -> Result<Option<Actor>, Error> {
        match &self.caller {
            Caller::Anonymous => Err(Error::Unauthenticated),
            Caller::User(u) if u.needs_two_factor => {
                Err(Error::Forbidden(crate::domain::policy::Denied::TwoFactorRequired))
            }
            Caller::User(u) => Ok(Some(Actor {
                id: u.id,
                super_admin: u.super_admin,
                abilities: crate::domain::abilities::AbilitySet::EMPTY,
            })),
            Caller::Cli => Ok(None),
        }
    }

    /// The caller as a policy actor in `org` from the in-memory model, for read-only
    /// decisions; a token's scope narrows it. `Ok(None)` for the CLI.
    pub fn reader(&self, b: &Backend, org: OrgId) -> Result<Option<Actor>, Error> {
        match &self.caller {
            Caller::Anonymous => Err(Error::Unauthenticated),
            Caller::Cli => Ok(None),
            Caller::User(u) if u.needs_two_factor => {
                Err(Error::Forbidden(crate::domain::policy::Denied::TwoFactorRequired))
            }
            Caller::User(u) => {
                let (sa, abilities) = b.access.read().abilities(Some(u.id), org);
                let owner_sa = sa || (u.token.is_none() && u.super_admin);
                let (super_admin, abilities) = u.narrow(owner_sa, abilities);
                Ok(Some(Actor { id: u.id, super_admin, abilities }))
            }
        }
    }

    pub fn user(&self) -> Result<&SessionUser, Error> {
        match &self.caller {
            Caller::User(u) => Ok(u),
            _ => Err(Error::Unauthenticated),
        }
    }

    /// The organization the request works in: the session's current one; the default
    /// organization for the CLI and anonymous visitors.
    pub fn org(&self) -> OrgId {
        match &self.caller {
            Caller::User(u) => u.org,
            _ => crate::domain::ids::DEFAULT_ORG,
        }
    }

    pub fn actor_name(&self) -> Option<String> {
        match &self.caller {
            Caller::User(u) => Some(u.username.clone()),
            Caller::Cli => Some("cli".to_string()),
            Caller::Anonymous => None,
        }
    }

    pub fn actor_id(&self) -> Option<UserId> {
        match &self.caller {
            Caller::User(u) => Some(u.id),
            _ => None,
        }
    }
}
