//! Forward authentication for reverse proxies (nginx `auth_request`, Traefik ForwardAuth,
//! Caddy `forward_auth`): the proxy asks, for each request to a tool, whether the browser's
//! session (or a token) may through, for an organization and an ability; Roster answers from
//! the access model in memory, so the check costs what the check API costs. Signing in sends
//! people back to the tool only on the hosts of `--forward-auth-hosts`.
use crate::backend::{sessions, Backend, Caller, Ctx};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::error::Error;
use crate::domain::forward::{self, Decision};
use crate::domain::ids::OrgId;
use crate::domain::oauth::Unsafe;
use crate::domain::policy::Denied;

/// Who is let through, for the proxy to pass to the tool (`X-Roster-*` headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passport {
    pub username: String,
    pub email: String,
    pub org: String,
    /// The role's name; `super admin` for a super admin without a role there.
    pub role: String,
    pub abilities: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Allowed(Passport),
    /// Nobody signed in: the proxy sends the browser to sign in.
    Unauthenticated,
    /// Signed in, not allowed: the reason.
    Forbidden(String),
    /// The proxy asks about an organization or ability that does not exist (its settings
    /// are wrong: nobody passes until they are fixed).
    Misconfigured(String),
}

/// Whether the caller may through to a tool of organization `org` (name or id; the session's
/// current one when absent) holding `ability` (any member when absent).
pub fn check(b: &Backend, ctx: &Ctx, org: Option<&str>, ability: Option<&str>) -> Answer {
    let Caller::User(user) = &ctx.caller else { return Answer::Unauthenticated };
    let org_id = match org.map(str::trim).filter(|o| !o.is_empty()) {
        None => user.org,
        Some(o) => {
            let m = b.access.read();
            let by_id = o.parse::<i64>().ok().map(OrgId).filter(|id| m.orgs.contains_key(id));
            match m.org_id(o).or(by_id) {
                Some(id) => id,
                None => return Answer::Misconfigured(format!("There is no organization {o}.")),
            }
        }
    };
    let ability = match ability.map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match Ability::parse(a) {
            Some(x) => Some(x),
            None => return Answer::Misconfigured(format!("There is no ability {a}.")),
        },
    };
    let actor = match ctx.reader(b, org_id) {
        Ok(Some(a)) => a,
        Ok(None) => return Answer::Unauthenticated,
        Err(Error::Forbidden(Denied::TwoFactorRequired)) => {
            return Answer::Forbidden("Two-factor authentication must be set up at Roster first.".into())
        }
        Err(_) => return Answer::Unauthenticated,
    };
    let (member, role, org_name) = {
        let m = b.access.read();
        (m.is_member(user.id, org_id), m.role_in(user.id, org_id), m.orgs.get(&org_id).cloned().unwrap_or_default())
    };
    match forward::decide(Some(&actor), member, &user.username, &org_name, ability) {
        Decision::Allowed => Answer::Allowed(Passport {
            username: user.username.clone(),
            email: user.email.clone(),
            org: org_name,
            role: role.unwrap_or_else(|| "super admin".into()),
            abilities: if actor.super_admin { AbilitySet::all().codes() } else { actor.abilities.codes() },
        }),
        Decision::Unauthenticated => Answer::Unauthenticated,
        Decision::Forbidden(why) => Answer::Forbidden(why),
    }
}

/// Where `/auth/forward/start?rd=...` sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    Stop(Unsafe),
    /// To sign in, then back to the tool.
    SignIn {
        return_to: String,
    },
}

/// The way to sign in for a tool behind the proxy, back to `rd` afterwards.
pub fn start(b: &Backend, ctx: &Ctx, rd: &str) -> Start {
    if !sessions::forward_return_ok(&b.config.forward_auth_hosts, rd) {
        return Start::Stop(Unsafe::ReturnAddress);
    }
    if ctx.session.is_some() {
        // (signed in, yet the proxy saw no session: the cookie does not reach the tool)
        return Start::Stop(Unsafe::SessionNotShared);
    }
    Start::SignIn { return_to: rd.to_string() }
}
