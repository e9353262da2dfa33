//! Forward authentication (nginx `auth_request`, Traefik ForwardAuth, Caddy `forward_auth`):
//! the rules, pure. Which hosts a sign-in may send people back to (an allow-list: anything
//! else would make Roster an open redirector), and whether a caller may through.
use serde::{Deserialize, Serialize};

use super::abilities::Ability;
use super::policy::Actor;

/// One entry of `--forward-auth-hosts`: a host (with a port when the tool is on one), or
/// `*.domain` for every subdomain of `domain` (not `domain` itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReturnHost {
    Exact(String),
    Subdomains(String),
}

impl ReturnHost {
    /// Parses one entry (case-insensitive; no scheme, path or wildcard elsewhere).
    pub fn parse(raw: &str) -> Result<ReturnHost, String> {
        let s = raw.trim().to_ascii_lowercase();
        let ok_host = |h: &str| {
            !h.is_empty()
                && h.split(':').next().is_some_and(|n| !n.is_empty())
                && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        };
        match s.strip_prefix("*.") {
            Some(rest) if ok_host(rest) && rest.contains('.') => Ok(ReturnHost::Subdomains(rest.to_string())),
            Some(_) => Err(format!("{raw}: a wildcard names a domain, e.g. *.tools.example.com")),
            None if ok_host(&s) => Ok(ReturnHost::Exact(s)),
            None => Err(format!("{raw}: enter a host name (with :port if the tool is on one), or *.domain")),
        }
    }

    /// Whether `host` (`name` or `name:port`, as in a URL's authority) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match self {
            ReturnHost::Exact(h) => *h == host,
            ReturnHost::Subdomains(d) => {
                let name = host
                    .rsplit_once(':')
                    .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
                    .map_or(host.as_str(), |(n, _)| n);
                name.len() > d.len() + 1 && name.ends_with(d.as_str()) && name[..name.len() - d.len()].ends_with('.')
            }
        }
    }
}

/// Whether `host` is on the allow-list.
pub fn host_allowed(rules: &[ReturnHost], host: &str) -> bool {
    rules.iter().any(|r| r.allows(host))
}

/// What forward authentication answers the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Through.
    Allowed,
    /// Nobody signed in: the proxy sends the browser to sign in.
    Unauthenticated,
    /// Signed in, not allowed: the reason.
    Forbidden(String),
}

/// Whether `actor` (None: nobody signed in), a member of the organization or not, may
/// through, holding `ability` when one is asked for.
pub fn decide(actor: Option<&Actor>, member: bool, username: &str, org: &str, ability: Option<Ability>) -> Decision {
    let Some(actor) = actor else { return Decision::Unauthenticated };
    if actor.super_admin {
        return Decision::Allowed;
    }
    if !member {
        return Decision::Forbidden(format!("{username} is not a member of {org}."));
    }
    match ability {
        Some(a) if !actor.abilities.contains(a) => {
            Decision::Forbidden(format!("{username} may not {} in {org}.", a.code()))
        }
        _ => Decision::Allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::abilities::AbilitySet;
    use crate::domain::ids::UserId;

    #[test]
    fn hosts_are_matched_exactly_or_as_subdomains() {
        let rules: Vec<ReturnHost> = ["adminer.example.com", "localhost:8080", "*.tools.example.com"]
            .iter()
            .map(|r| ReturnHost::parse(r).expect("valid"))
            .collect();
        for ok in [
            "adminer.example.com",
            "ADMINER.example.com",
            "localhost:8080",
            "a.tools.example.com",
            "a.b.tools.example.com:8443",
        ] {
            assert!(host_allowed(&rules, ok), "{ok}");
        }
        for no in [
            "example.com",
            "adminer.example.com.evil.com",
            "localhost",
            "localhost:8081",
            "tools.example.com",
            "atools.example.com",
            "evil.com",
            "",
        ] {
            assert!(!host_allowed(&rules, no), "{no}");
        }
        for bad in ["https://x.example.com", "x.example.com/path", "*", "*.com", "a.*.example.com", "", "user@host"] {
            assert!(ReturnHost::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn members_need_the_ability_asked_for_super_admins_always_pass() {
        let member = Actor { id: UserId(1), super_admin: false, abilities: AbilitySet::of(&[Ability::ViewDatabases]) };
        let root = Actor { id: UserId(2), super_admin: true, abilities: AbilitySet::EMPTY };
        assert_eq!(decide(None, false, "", "Acme", None), Decision::Unauthenticated);
        assert_eq!(decide(Some(&member), true, "ann", "Acme", Some(Ability::ViewDatabases)), Decision::Allowed);
        assert_eq!(decide(Some(&member), true, "ann", "Acme", None), Decision::Allowed);
        assert_eq!(
            decide(Some(&member), true, "ann", "Acme", Some(Ability::ManageUsers)),
            Decision::Forbidden(format!("ann may not {} in Acme.", Ability::ManageUsers.code()))
        );
        assert_eq!(
            decide(Some(&member), false, "ann", "Acme", None),
            Decision::Forbidden("ann is not a member of Acme.".into())
        );
        assert_eq!(decide(Some(&root), false, "root", "Acme", Some(Ability::ManageUsers)), Decision::Allowed);
    }
}
