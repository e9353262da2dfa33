//! OAuth clients (Settings -> Applications, `roster client`, `/api/v1/clients`): the data
//! tools that sign people in through Roster. Super admins only: a client decides where
//! people's identities and abilities are sent.
//! Threats: an open redirect or a stolen code through a loose redirect URI (URIs are matched
//! exactly, so no wildcards; https only, but for loopback addresses, as OAuth 2.1 asks; no
//! fragments, no credentials in them), a leaked client secret (256
//! random bits shown once, only its SHA-256 kept, rotated on demand), and a tool learning
//! about organizations it has no business with (it names the ones it receives).
use serde_json::json;

use super::{audit_global, sudo_grants, Fields};
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{ClientRecord, Tx};
use crate::backend::{Backend, Ctx};
use crate::domain::clients::{self, ClientKind, ClientSecret, OAuthClient, MAX_CLIENTS, MAX_URIS};
use crate::domain::error::{Error, FieldError};
use crate::domain::ids::OrgId;
use crate::domain::policy;

pub(crate) fn to_view(b: &Backend, r: &ClientRecord) -> OAuthClient {
    let m = b.access.read();
    let mut orgs: Vec<String> = r.orgs.iter().filter_map(|o| m.orgs.get(o).cloned()).collect();
    orgs.sort_by_key(|o| o.to_lowercase());
    OAuthClient {
        client_id: r.client_id.clone(),
        name: r.name.clone(),
        kind: if r.public { ClientKind::Public } else { ClientKind::Confidential },
        redirect_uris: r.redirect_uris.clone(),
        post_logout_redirect_uris: r.post_logout_redirect_uris.clone(),
        orgs,
        scopes: r.scopes.clone(),
        consent: r.consent,
        require_two_factor: r.require_two_factor,
        access_token_seconds: u32::try_from(r.access_token_seconds).unwrap_or(0),
        refresh_token_seconds: u32::try_from(r.refresh_token_seconds).unwrap_or(0),
        enabled: r.enabled,
        has_secret: r.secret_hash.is_some(),
        secret_created_at: r.secret_created_at,
        created_at: r.created_at,
    }
}

/// What the audit trail keeps of a client (never its secret or its hash).
fn snapshot(b: &Backend, r: &ClientRecord) -> serde_json::Value {
    let v = to_view(b, r);
    json!({
        "client_id": v.client_id, "name": v.name, "kind": v.kind.as_str(), "redirect_uris": v.redirect_uris,
        "post_logout_redirect_uris": v.post_logout_redirect_uris, "orgs": v.orgs, "scopes": v.scopes,
        "consent": v.consent, "require_two_factor": v.require_two_factor,
        "access_token_seconds": v.access_token_seconds, "refresh_token_seconds": v.refresh_token_seconds,
        "enabled": v.enabled, "secret": if v.has_secret { "set" } else { "none" },
    })
}

/// Whether `host` is a loopback address (a tool on the admin's own machine).
fn loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Checks one redirect URI and answers it as typed (it is compared as a string, exactly).
pub fn redirect_uri(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let f = |m: String| Err(FieldError::new(field, m));
    if s.len() > 2000 {
        return f("A redirect URI must be at most 2,000 characters.".into());
    }
    if s.contains('*') {
        return f(format!("{s}: redirect URIs are matched exactly, so list each one (no wildcards)."));
    }
    let Ok(u) = url::Url::parse(s) else {
        return f(format!("{s} is not an absolute URL like https://tool.example.com/callback."));
    };
    let scheme = u.scheme();
    if scheme != "https" && scheme != "http" {
        return f(format!("{s}: Roster sends people back to https addresses only, not {scheme}:."));
    }
    let Some(host) = u.host() else {
        return f(format!("{s} has no host."));
    };
    if scheme == "http" && !loopback(&host) {
        return f(format!("{s}: use https (plain http only on this machine: localhost, 127.0.0.1, [::1])."));
    }
    if u.fragment().is_some() {
        return f(format!("{s}: a redirect URI has no #fragment."));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return f(format!("{s}: a redirect URI holds no user name or password."));
    }
    Ok(s.to_string())
}

fn uris(field: &'static str, list: &[String], at_least_one: bool) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for raw in list.iter().flat_map(|l| clients::uri_lines(l)) {
        let u = redirect_uri(field, &raw)?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    if out.len() > MAX_URIS {
        return Err(FieldError::new(field, format!("At most {MAX_URIS} URIs.")));
    }
    if at_least_one && out.is_empty() {
        return Err(FieldError::new(field, "Enter the address the tool receives people back at (its redirect URI)."));
    }
    Ok(out)
}

pub async fn list(b: &Backend, ctx: &Ctx) -> Result<Vec<OAuthClient>, Error> {
    policy::can_manage_clients(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    Ok(b.store.clients(MAX_CLIENTS as i64).await?.iter().map(|r| to_view(b, r)).collect())
}

pub async fn get(b: &Backend, ctx: &Ctx, client_id: &str) -> Result<OAuthClient, Error> {
    policy::can_manage_clients(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    let r = b.store.client(client_id.trim()).await?.ok_or_else(|| Error::not_found("Application"))?;
    Ok(to_view(b, &r))
}

/// A new secret and what is stored of it.
fn new_secret() -> (String, Vec<u8>) {
    let secret = new_token();
    let hash = hash_token(&secret);
    (secret, hash)
}

/// Creates (`create`) or replaces a client's settings. A confidential client gets a secret
/// when it is created or turned from public (answered once); turned public, it loses it.
pub async fn save(b: &Backend, ctx: &Ctx, input: OAuthClient, create: bool) -> Result<ClientSecret, Error> {
    policy::can_manage_clients(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut f = Fields::default();
    let client_id = f.take(clients::client_id(&input.client_id));
    let name =
        f.take(super::validate_name("name", "application", &input.name).map_err(|e| super::first_field(e, "name")));
    let redirect_uris = f.take(uris("redirect_uris", &input.redirect_uris, true));
    let logout_uris = f.take(uris("post_logout_redirect_uris", &input.post_logout_redirect_uris, false));
    let scopes = f.take(clients::scopes(&input.scopes));
    let lifetimes = match clients::lifetimes(input.access_token_seconds, input.refresh_token_seconds) {
        Ok(l) => Some(l),
        Err(errors) => {
            for e in errors {
                f.take::<()>(Err(e));
            }
            None
        }
    };
    f.finish()?;
    let (Some(client_id), Some(name), Some(redirect_uris), Some(logout_uris), Some(scopes), Some((access, refresh))) =
        (client_id, name, redirect_uris, logout_uris, scopes, lifetimes)
    else {
        return Err(Error::invalid("client_id", "Invalid input."));
    };
    let mut tx = b.store.begin().await?;
    policy::can_manage_clients(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let orgs = org_ids(&mut tx, &input.orgs).await?;
    let before = tx.client(&client_id).await?;
    match (create, &before) {
        (true, Some(_)) => {
            return Err(Error::Conflict {
                field: Some("client_id".into()),
                message: "An application with that client ID exists already.".into(),
            })
        }
        (false, None) => return Err(Error::not_found("Application")),
        _ => {}
    }
    if create && tx.count_clients().await? >= MAX_CLIENTS as i64 {
        return Err(Error::invalid("client_id", format!("An instance has at most {MAX_CLIENTS} applications.")));
    }
    let now = b.now();
    let public = input.kind == ClientKind::Public;
    let record = ClientRecord {
        id: before.as_ref().map(|e| e.id).unwrap_or(0),
        client_id: client_id.clone(),
        name,
        public,
        secret_hash: None,
        secret_created_at: None,
        redirect_uris,
        post_logout_redirect_uris: logout_uris,
        scopes,
        consent: input.consent,
        require_two_factor: input.require_two_factor,
        access_token_seconds: i64::from(access),
        refresh_token_seconds: i64::from(refresh),
        enabled: input.enabled,
        created_at: before.as_ref().map(|e| e.created_at).unwrap_or(now),
        updated_at: now,
        orgs,
    };
    let id = tx.save_client(&record).await?;
    let had_secret = before.as_ref().is_some_and(|c| c.secret_hash.is_some());
    let secret = match (public, had_secret) {
        (false, false) => {
            let (secret, hash) = new_secret();
            tx.set_client_secret(id, Some(&hash), now).await?;
            Some(secret)
        }
        (true, true) => {
            tx.set_client_secret(id, None, now).await?;
            None
        }
        _ => None,
    };
    let saved = tx.client(&client_id).await?.ok_or_else(|| Error::not_found("Application"))?;
    let mut ev = audit_global(b, ctx, if create { "client.created" } else { "client.updated" }, true);
    ev.target = Some(client_id);
    ev.before = before.as_ref().map(|r| snapshot(b, r));
    ev.after = Some(snapshot(b, &saved));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(ClientSecret { client: to_view(b, &saved), client_secret: secret })
}

/// [`save`] from a form that may not have read: why it did not is answered only to those
/// who may register applications (others learn nothing from a malformed form).
pub async fn save_form(
    b: &Backend,
    ctx: &Ctx,
    input: Result<OAuthClient, Error>,
    create: bool,
) -> Result<ClientSecret, Error> {
    policy::can_manage_clients(ctx.actor()?).map_err(Error::Forbidden)?;
    save(b, ctx, input?, create).await
}

/// The organizations named (a list, or names separated by commas), by id; an unknown name is
/// the `orgs` field's error. (Applications and webhooks name them alike.)
pub(crate) async fn org_ids(tx: &mut Box<dyn Tx>, names: &[String]) -> Result<Vec<OrgId>, Error> {
    let mut ids = Vec::new();
    for name in names.iter().flat_map(|n| n.split(',')).map(str::trim).filter(|n| !n.is_empty()) {
        match tx.org_by_name(&name.to_lowercase()).await? {
            Some(o) if !ids.contains(&o.id) => ids.push(o.id),
            Some(_) => {}
            None => return Err(Error::invalid("orgs", format!("There is no organization named {name}."))),
        }
    }
    ids.sort();
    Ok(ids)
}

/// A new secret for a confidential client; the old one stops working at once.
pub async fn rotate_secret(b: &Backend, ctx: &Ctx, client_id: &str) -> Result<ClientSecret, Error> {
    policy::can_manage_clients(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut tx = b.store.begin().await?;
    policy::can_manage_clients(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let c = tx.client(client_id.trim()).await?.ok_or_else(|| Error::not_found("Application"))?;
    if c.public {
        return Err(Error::invalid("client_id", "A public application has no secret (it uses PKCE)."));
    }
    let (secret, hash) = new_secret();
    tx.set_client_secret(c.id, Some(&hash), b.now()).await?;
    let saved = tx.client(&c.client_id).await?.ok_or_else(|| Error::not_found("Application"))?;
    let mut ev = audit_global(b, ctx, "client.secret_rotated", true);
    ev.target = Some(c.client_id.clone());
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(ClientSecret { client: to_view(b, &saved), client_secret: Some(secret) })
}

/// Removes a client: the tool can no longer sign anyone in.
pub async fn delete(b: &Backend, ctx: &Ctx, client_id: &str) -> Result<(), Error> {
    policy::can_manage_clients(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut tx = b.store.begin().await?;
    policy::can_manage_clients(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let c = tx.client(client_id.trim()).await?.ok_or_else(|| Error::not_found("Application"))?;
    tx.delete_client(c.id).await?;
    let mut ev = audit_global(b, ctx, "client.deleted", true);
    ev.target = Some(c.client_id.clone());
    ev.before = Some(snapshot(b, &c));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redirect_uri;

    #[test]
    fn redirect_uris_are_exact_https_addresses() {
        let ok = |u: &str| redirect_uri("redirect_uris", u);
        assert_eq!(
            ok(" https://dbackup.example.com/api/auth/callback "),
            Ok("https://dbackup.example.com/api/auth/callback".into())
        );
        // (kept as typed: compared as a string, so no slash is added)
        assert_eq!(ok("https://tool.example.com"), Ok("https://tool.example.com".into()));
        for local in ["http://localhost:8080/cb", "http://127.0.0.1:3000/cb", "http://[::1]/cb"] {
            assert!(ok(local).is_ok(), "{local}");
        }
        for (bad, says) in [
            ("http://tool.example.com/cb", "use https"),
            ("http://tool.internal/cb", "use https"),
            ("https://*.example.com/cb", "no wildcards"),
            ("https://tool.example.com/cb#x", "#fragment"),
            ("https://user:pw@tool.example.com/cb", "no user name"),
            ("/callback", "absolute URL"),
            ("javascript:alert(1)", "not javascript:"),
            ("ftp://tool.example.com/cb", "not ftp:"),
        ] {
            let e = ok(bad).expect_err(bad);
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
    }
}
