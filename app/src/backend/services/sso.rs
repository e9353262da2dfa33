//! Single sign-on through OpenID Connect: providers (super admins), sign-in with first-sign-in
//! provisioning, and linking from the profile.
//! Threats: login CSRF and code injection (the `state` is single-use, expires in minutes and
//! is bound to the browser that started the flow by a cookie; PKCE S256 binds the code to the
//! verifier kept server-side), ID token replay (nonce), account takeover through a provider
//! (accounts are found by (issuer, subject) only, never joined by email or username; a new
//! account that would collide with an existing name or email is refused), untrusted domains
//! (allowed-domain list, unverified emails refused there), guessing callbacks (per-address
//! escalating throttle), and the provider's secret leaking from the database (sealed).
use serde_json::json;

use super::auth::{start_session, SignInOutcome, SignedIn};
use super::{audit, commit_access, sudo_credentials, sudo_grants, user_snapshot, validate_name, Fields};
use crate::backend::access::Change;
use crate::backend::oidc::ProviderConfig;
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{SsoFlowRecord, SsoLinkRecord, SsoProviderRecord, Tx, UserInsert, UserRecord};
use crate::backend::{internal, Backend, Caller, Ctx};
use crate::domain::error::Error;
use crate::domain::policy;
use crate::domain::sso::{self, Identity, LinkedProvider, SsoButton, SsoProvider, SsoRefusal};
use crate::domain::users::UserStatus;
use crate::domain::validate;

/// How long the browser has at the provider.
const FLOW_MS: i64 = 10 * 60_000;

/// What a provider's client secret is bound to (its slug).
pub(crate) fn client_secret_aad(slug: &str) -> String {
    format!("sso:{slug}")
}

/// `{public URL}/auth/oidc/{slug}/callback`, or `None` without a public URL.
pub fn redirect_uri(b: &Backend, slug: &str) -> Option<String> {
    b.config.public_origin.as_deref().map(|o| format!("{}/auth/oidc/{slug}/callback", o.trim_end_matches('/')))
}

fn to_view(b: &Backend, r: &SsoProviderRecord) -> SsoProvider {
    let m = b.access.read();
    SsoProvider {
        slug: r.slug.clone(),
        display_name: r.display_name.clone(),
        issuer: r.issuer.clone(),
        client_id: r.client_id.clone(),
        client_secret: String::new(),
        scopes: r.scopes.clone(),
        username_claim: r.username_claim.clone(),
        email_claim: r.email_claim.clone(),
        name_claim: r.name_claim.clone(),
        auto_create: r.auto_create,
        org: r.org_id.and_then(|o| m.orgs.get(&o).cloned()).unwrap_or_default(),
        role: r.role_id.and_then(|id| m.roles.get(&id).map(|e| e.name.clone())).unwrap_or_default(),
        allowed_domains: r.allowed_domains.clone(),
        enabled: r.enabled,
        has_secret: r.client_secret.is_some(),
        redirect_uri: redirect_uri(b, &r.slug).unwrap_or_default(),
    }
}

/// What the audit trail keeps of a provider: everything but the secret.
fn snapshot(r: &SsoProviderRecord) -> serde_json::Value {
    json!({
        "slug": r.slug, "display_name": r.display_name, "issuer": r.issuer, "client_id": r.client_id,
        "client_secret": if r.client_secret.is_some() { "set" } else { "none" },
        "scopes": r.scopes, "username_claim": r.username_claim, "email_claim": r.email_claim,
        "name_claim": r.name_claim, "auto_create": r.auto_create, "org_id": r.org_id.map(|o| o.0),
        "role_id": r.role_id.map(|r| r.0), "allowed_domains": r.allowed_domains, "enabled": r.enabled,
    })
}

pub async fn list_providers(b: &Backend, ctx: &Ctx) -> Result<Vec<SsoProvider>, Error> {
    policy::can_manage_sso(ctx.reader(b, ctx.org())?).map_err(Error::Forbidden)?;
    Ok(b.store.sso_providers().await?.iter().map(|r| to_view(b, r)).collect())
}

/// The sign-in page's buttons: enabled providers (only when SSO can work at all).
pub async fn buttons(b: &Backend) -> Result<Vec<SsoButton>, Error> {
    if b.config.public_origin.is_none() {
        return Ok(vec![]);
    }
    Ok(b.store
        .sso_providers()
        .await?
        .into_iter()
        .filter(|p| p.enabled)
        .map(|p| SsoButton { slug: p.slug, display_name: p.display_name })
        .collect())
}

/// Creates (`create`) or updates a provider. Validates every field, resolves the
/// organization and role for new accounts, and reads the issuer's discovery document so a
/// typo shows here rather than at the first sign-in.
pub async fn save_provider(b: &Backend, ctx: &Ctx, input: SsoProvider, create: bool) -> Result<SsoProvider, Error> {
    policy::can_manage_sso(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut f = Fields::default();
    let slug = f.take(sso::slug(&input.slug));
    let display_name = f.take(
        validate_name("display_name", "provider", &input.display_name)
            .map_err(|e| super::first_field(e, "display_name")),
    );
    let issuer = f.take(crate::backend::outbound::issuer(&input.issuer, b.config.allow_internal_urls));
    let client_id = input.client_id.trim().to_string();
    if client_id.is_empty() || client_id.len() > 200 {
        f.take::<()>(Err(crate::domain::FieldError::new(
            "client_id",
            "Enter the client ID the provider issued (at most 200 characters).",
        )));
    }
    if input.client_secret.len() > 500 {
        f.take::<()>(Err(crate::domain::FieldError::new(
            "client_secret",
            "The client secret must be at most 500 characters.",
        )));
    }
    let scopes = f.take(sso::scopes(&input.scopes));
    let username_claim = f.take(sso::claim_name("username_claim", &input.username_claim));
    let email_claim = f.take(sso::claim_name("email_claim", &input.email_claim));
    let name_claim = f.take(sso::claim_name("name_claim", &input.name_claim));
    let domains = f.take(sso::domains(&input.allowed_domains));
    f.finish()?;
    let (
        Some(slug),
        Some(display_name),
        Some(issuer),
        Some(scopes),
        Some(username_claim),
        Some(email_claim),
        Some(name_claim),
        Some(domains),
    ) = (slug, display_name, issuer, scopes, username_claim, email_claim, name_claim, domains)
    else {
        return Err(Error::invalid("slug", "Invalid input."));
    };
    if input.enabled {
        if let Err(e) = b.oidc.metadata(&issuer, b.now()).await {
            tracing::warn!(issuer, error = %e, "single sign-on provider: discovery failed");
            // The reason stays in the log: echoed, it would turn this form into a port
            // scanner (connection refused vs timed out vs not JSON).
            return Err(Error::invalid(
                "issuer",
                "Could not read a valid discovery document at this issuer URL \
                 (/.well-known/openid-configuration). Check the URL; the server log has the reason.",
            ));
        }
    }
    let mut tx = b.store.begin().await?;
    policy::can_manage_sso(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let (org_id, role_id) = if input.auto_create || !input.org.trim().is_empty() || !input.role.trim().is_empty() {
        let org = tx.org_by_name(&input.org.trim().to_lowercase()).await?;
        let role = tx.role_by_name(&input.role.trim().to_lowercase()).await?;
        let mut f = Fields::default();
        if org.is_none() {
            f.take::<()>(Err(crate::domain::FieldError::new("org", "Choose the organization new accounts join.")));
        }
        if role.is_none() {
            f.take::<()>(Err(crate::domain::FieldError::new("role", "Choose the role new accounts get there.")));
        }
        f.finish()?;
        (org.map(|o| o.id), role.map(|r| r.id))
    } else {
        (None, None)
    };
    let before = tx.sso_provider(&slug).await?;
    let existing = match (create, &before) {
        (true, Some(_)) => {
            return Err(Error::Conflict {
                field: Some("slug".into()),
                message: "A provider with that short name exists already.".into(),
            })
        }
        (false, None) => return Err(Error::not_found("Provider")),
        (_, b) => b.clone(),
    };
    let secret = input.client_secret.trim();
    let record = SsoProviderRecord {
        id: existing.as_ref().map(|e| e.id).unwrap_or(0),
        slug: slug.clone(),
        display_name,
        issuer,
        client_id,
        client_secret: (!secret.is_empty()).then(|| b.secrets.seal(secret.as_bytes(), &client_secret_aad(&slug))),
        scopes,
        username_claim,
        email_claim,
        name_claim,
        auto_create: input.auto_create,
        org_id,
        role_id,
        allowed_domains: domains.join(", "),
        enabled: input.enabled,
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or_else(|| b.now()),
    };
    let id = tx.save_sso_provider(&record).await?;
    let saved = tx.sso_provider_by_id(id).await?.ok_or_else(|| Error::not_found("Provider"))?;
    let mut ev =
        super::audit_global(b, ctx, if create { "sso.provider_created" } else { "sso.provider_updated" }, true);
    ev.target = Some(slug);
    ev.before = before.as_ref().map(snapshot);
    let mut after = snapshot(&saved);
    if !create {
        after["client_secret"] = json!(if secret.is_empty() { "kept" } else { "changed" });
    }
    ev.after = Some(after);
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    b.oidc.forget(&saved.issuer);
    Ok(to_view(b, &saved))
}

/// Removes a provider and every account link to it (accounts stay).
pub async fn delete_provider(b: &Backend, ctx: &Ctx, slug: &str) -> Result<(), Error> {
    policy::can_manage_sso(ctx.actor()?).map_err(Error::Forbidden)?;
    sudo_grants(b, ctx)?;
    let mut tx = b.store.begin().await?;
    policy::can_manage_sso(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    let p = tx.sso_provider(slug.trim()).await?.ok_or_else(|| Error::not_found("Provider"))?;
    tx.delete_sso_provider(p.id).await?;
    let mut ev = super::audit_global(b, ctx, "sso.provider_deleted", true);
    ev.target = Some(p.slug.clone());
    ev.before = Some(snapshot(&p));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Where to send the browser, and the value for its flow cookie.
pub struct Begun {
    pub url: String,
    pub browser_secret: String,
}

fn config_of(b: &Backend, p: &SsoProviderRecord) -> Result<ProviderConfig, Error> {
    let redirect = redirect_uri(b, &p.slug).ok_or_else(unavailable)?;
    let client_secret = match &p.client_secret {
        Some(sealed) => Some(
            String::from_utf8(b.secrets.open(sealed, &client_secret_aad(&p.slug)).map_err(internal)?)
                .map_err(internal)?,
        ),
        None => None,
    };
    Ok(ProviderConfig {
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        client_secret,
        scopes: p.scopes.clone(),
        redirect_uri: redirect,
    })
}

fn unavailable() -> Error {
    Error::Conflict { field: None, message: SsoRefusal::Unavailable.message().into() }
}

/// Starts a sign-in through `slug`, or (`link`) linking it to the signed-in account.
pub async fn begin(b: &Backend, ctx: &Ctx, slug: &str, link: bool) -> Result<Begun, Error> {
    begin_flow(b, ctx, slug, link, None).await
}

/// Starts creating an account through `slug` from the invitation page of `invitation` (its
/// token): the new account accepts it at the callback.
pub async fn begin_from_invitation(b: &Backend, ctx: &Ctx, slug: &str, invitation: &str) -> Result<Begun, Error> {
    let hash = super::invitations::check_for_sign_on(b, invitation).await?;
    begin_flow(b, ctx, slug, false, Some(hash)).await
}

async fn begin_flow(
    b: &Backend,
    ctx: &Ctx,
    slug: &str,
    link: bool,
    invitation_hash: Option<Vec<u8>>,
) -> Result<Begun, Error> {
    let link_user = if link {
        let u = ctx.user()?;
        sudo_credentials(b, ctx)?;
        Some(u.id)
    } else {
        None
    };
    // (a read: no write transaction, which would also make every remembered look-up stale)
    let p = b.store.sso_providers().await?.into_iter().find(|p| p.slug == slug && p.enabled).ok_or_else(unavailable)?;
    let cfg = config_of(b, &p)?;
    let now = b.now();
    let started = b.oidc.authorize(&cfg, now).await.map_err(|e| {
        tracing::warn!(provider = %p.slug, error = %e, "single sign-on: could not start");
        Error::Conflict {
            field: None,
            message: format!(
                "{} cannot be reached right now. Try again later, or sign in another way.",
                p.display_name
            ),
        }
    })?;
    let browser_secret = new_token();
    let flow = SsoFlowRecord {
        state_hash: hash_token(&started.state),
        browser_hash: hash_token(&browser_secret),
        provider_id: p.id,
        link_user_id: link_user,
        nonce: started.nonce,
        pkce_verifier: started.pkce_verifier,
        created_at: now,
        invitation_hash,
    };
    let mut tx = b.store.begin().await?;
    tx.insert_sso_flow(&flow, now - FLOW_MS).await?;
    tx.commit().await?;
    Ok(Begun { url: started.url, browser_secret })
}

/// The provider's redirect back to us.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

pub enum Finished {
    SignedIn(SignedIn),
    /// The account has a second factor: the raw challenge goes into its cookie.
    SecondFactor {
        challenge: String,
    },
    Linked,
}

/// A refused callback; `link`: it was a linking flow (the browser goes back to the profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub reason: SsoRefusal,
    pub link: bool,
}

/// Completes a flow. Every refusal is audited (with the detail) and counted against the
/// client address.
pub async fn finish(
    b: &Backend,
    ctx: &Ctx,
    slug: &str,
    cb: Callback,
    browser: Option<&str>,
) -> Result<Finished, Refused> {
    let throttle_key = format!("sso:{}", ctx.ip.as_deref().unwrap_or(""));
    let now = b.now();
    if !b.token_failures.allowed(&throttle_key, now) {
        crate::backend::metrics::throttled("sso");
        return Err(Refused { reason: SsoRefusal::Throttled, link: false });
    }
    let mut link = false;
    let r = run(b, ctx, slug, cb, browser, &mut link).await;
    match r {
        Ok(done) => Ok(done),
        Err(Failure::Internal(e)) => {
            tracing::error!(error = %e, "single sign-on callback failed");
            Err(Refused { reason: SsoRefusal::Failed, link })
        }
        Err(Failure::Refused(reason, detail, target)) => {
            b.token_failures.fail(&throttle_key, now);
            let mut ev = audit(b, ctx, "sso.sign_in", false);
            ev.target = target;
            ev.after = Some(json!({ "provider": slug, "reason": reason.code(), "detail": detail, "link": link }));
            let write = async {
                let mut tx = b.store.begin().await?;
                tx.insert_audit(&ev).await?;
                tx.commit().await
            };
            if let Err(e) = write.await {
                tracing::error!(error = %e, "could not audit a refused single sign-on");
            }
            Err(Refused { reason, link })
        }
    }
}

enum Failure {
    /// (reason, detail for the audit log, account concerned)
    Refused(SsoRefusal, String, Option<String>),
    Internal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Internal(e)
    }
}
impl From<crate::backend::store::StoreError> for Failure {
    fn from(e: crate::backend::store::StoreError) -> Self {
        Failure::Internal(e.into())
    }
}

fn refuse<T>(reason: SsoRefusal, detail: impl Into<String>) -> Result<T, Failure> {
    Err(Failure::Refused(reason, detail.into(), None))
}

async fn run(
    b: &Backend,
    ctx: &Ctx,
    slug: &str,
    cb: Callback,
    browser: Option<&str>,
    link: &mut bool,
) -> Result<Finished, Failure> {
    let Some(state) = cb.state.filter(|s| !s.is_empty() && s.len() <= 512) else {
        return refuse(SsoRefusal::State, "no state");
    };
    // Single use: the flow is gone whatever happens next.
    let mut tx = b.store.begin().await?;
    let flow = tx.take_sso_flow(&hash_token(&state)).await?;
    let provider = match &flow {
        Some(f) => tx.sso_provider_by_id(f.provider_id).await?,
        None => None,
    };
    tx.commit().await?;
    let Some(flow) = flow else { return refuse(SsoRefusal::State, "unknown or used state") };
    *link = flow.link_user_id.is_some();
    if b.now() - flow.created_at > FLOW_MS {
        return refuse(SsoRefusal::State, "expired");
    }
    if browser.map(hash_token).as_deref() != Some(flow.browser_hash.as_slice()) {
        return refuse(SsoRefusal::State, "started in another browser");
    }
    let Some(p) = provider.filter(|p| p.slug == slug) else {
        return refuse(SsoRefusal::State, "callback for another provider");
    };
    if !p.enabled {
        return refuse(SsoRefusal::Unavailable, "provider disabled");
    }
    if let Some(err) = cb.error {
        return refuse(SsoRefusal::Denied, err.chars().take(100).collect::<String>());
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty() && c.len() <= 2048) else {
        return refuse(SsoRefusal::Failed, "no code");
    };
    let cfg = config_of(b, &p)?;
    let claims = match b.oidc.exchange(&cfg, &code, &flow.pkce_verifier, &flow.nonce, b.now()).await {
        Ok(c) => c,
        Err(e) => {
            b.oidc.forget(&p.issuer);
            return refuse(SsoRefusal::Failed, e.to_string());
        }
    };
    let Some(id) = sso::identity(&p.issuer, &claims, &p.username_claim, &p.email_claim, &p.name_claim) else {
        return refuse(SsoRefusal::Failed, "no subject");
    };
    match (flow.link_user_id, flow.invitation_hash) {
        (Some(user), _) => link_identity(b, ctx, &p, user, &id).await.map(|_| Finished::Linked),
        (None, Some(invitation)) => accept_invitation(b, ctx, &p, &id, &invitation).await,
        (None, None) => sign_in(b, ctx, &p, &id).await,
    }
}

/// A sign-on begun from an invitation page: a new account (no password) linked to the
/// identity accepts the invitation, whether or not the provider creates accounts by itself
/// (the invitation is the admin's say-so). An identity that has an account already is sent to
/// sign in and open the link again (joining then asks for its second factor like any sign-in).
async fn accept_invitation(
    b: &Backend,
    ctx: &Ctx,
    p: &SsoProviderRecord,
    id: &Identity,
    invitation: &[u8],
) -> Result<Finished, Failure> {
    let domains = sso::domains(&p.allowed_domains).unwrap_or_default();
    if !sso::email_admitted(&domains, id.email.as_deref(), id.email_verified) {
        return refuse(SsoRefusal::Domain, format!("email {:?} (verified: {:?})", id.email, id.email_verified));
    }
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    if let Some(l) = tx.sso_link(&id.issuer, &id.subject).await? {
        let who = tx.user_by_id(l.user_id).await?.map(|u| u.username);
        return Err(Failure::Refused(SsoRefusal::InvitationAccount, "identity linked to an account".into(), who));
    }
    let rec = match super::invitations::usable_by_hash(b, &mut tx, invitation).await {
        Ok(rec) => rec,
        Err(Error::Gone { message }) => return refuse(SsoRefusal::Invitation, message),
        Err(e @ (Error::NotFound { .. } | Error::Forbidden(_))) => {
            return refuse(SsoRefusal::Invitation, e.to_string())
        }
        Err(e) => return Err(e.into()),
    };
    let Some(username) = sso::new_username(id) else {
        return refuse(SsoRefusal::MissingClaims, format!("no valid username in claim {}", p.username_claim));
    };
    let full_name = id.name.as_deref().and_then(|n| validate::full_name(n).ok()).unwrap_or_default();
    let who = super::invitations::Invitee { username: username.clone(), full_name, password_hash: None };
    let opened = super::invitations::open_account(b, ctx, &mut tx, &rec, who, "sso").await;
    let (record, session) = match opened {
        Ok(done) => done,
        Err(Error::Conflict { message, .. }) => {
            return Err(Failure::Refused(SsoRefusal::AccountExists, message, Some(username)))
        }
        Err(Error::Gone { message }) => return refuse(SsoRefusal::Invitation, message),
        Err(e) => return Err(e.into()),
    };
    let link = SsoLinkRecord {
        id: 0,
        provider_id: p.id,
        issuer: id.issuer.clone(),
        subject: id.subject.clone(),
        user_id: record.id,
        email: id.email.clone(),
        created_at: b.now(),
        last_used_at: b.now(),
    };
    if let Err(e) = tx.insert_sso_link(&link).await {
        return match e {
            crate::backend::store::StoreError::Conflict { .. } => refuse(SsoRefusal::State, "concurrent first sign-in"),
            e => Err(e.into()),
        };
    }
    let mut ev = audit(b, ctx, "sso.linked", true);
    ev.actor_id = Some(record.id);
    ev.actor = Some(record.username.clone());
    ev.target = Some(record.username.clone());
    ev.after = Some(json!({ "provider": p.slug, "subject": id.subject, "email": id.email, "invitation_id": rec.id }));
    tx.insert_audit(&ev).await?;
    Ok(Finished::SignedIn(super::invitations::signed_in(b, tx, &record, session, rec.org).await?))
}

async fn link_identity(
    b: &Backend,
    ctx: &Ctx,
    p: &SsoProviderRecord,
    user: crate::domain::ids::UserId,
    id: &Identity,
) -> Result<(), Failure> {
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let Some(record) = tx.user_by_id(user).await? else { return refuse(SsoRefusal::State, "account gone") };
    if ctx.actor_id() != Some(user) {
        return Err(Failure::Refused(SsoRefusal::State, "signed in as another account".into(), Some(record.username)));
    }
    if let Some(l) = tx.sso_link(&id.issuer, &id.subject).await? {
        if l.user_id == user {
            return Ok(());
        }
        return Err(Failure::Refused(
            SsoRefusal::LinkedElsewhere,
            "identity linked to another account".into(),
            Some(record.username),
        ));
    }
    let l = SsoLinkRecord {
        id: 0,
        provider_id: p.id,
        issuer: id.issuer.clone(),
        subject: id.subject.clone(),
        user_id: user,
        email: id.email.clone(),
        created_at: now,
        last_used_at: 0,
    };
    match tx.insert_sso_link(&l).await {
        Ok(_) => {}
        Err(crate::backend::store::StoreError::Conflict { .. }) => {
            return Err(Failure::Refused(
                SsoRefusal::LinkedElsewhere,
                "another identity of this provider is linked to the account".into(),
                Some(record.username),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    let mut ev = audit(b, ctx, "sso.linked", true);
    ev.target = Some(record.username.clone());
    ev.after = Some(json!({ "provider": p.slug, "subject": id.subject, "email": id.email }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

async fn sign_in(b: &Backend, ctx: &Ctx, p: &SsoProviderRecord, id: &Identity) -> Result<Finished, Failure> {
    let domains = sso::domains(&p.allowed_domains).unwrap_or_default();
    if !sso::email_admitted(&domains, id.email.as_deref(), id.email_verified) {
        return refuse(SsoRefusal::Domain, format!("email {:?} (verified: {:?})", id.email, id.email_verified));
    }
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let user = match tx.sso_link(&id.issuer, &id.subject).await? {
        Some(l) => {
            let Some(u) = tx.user_by_id(l.user_id).await? else {
                return refuse(SsoRefusal::NoAccount, "linked account gone");
            };
            if u.status != UserStatus::Active || u.public {
                return Err(Failure::Refused(SsoRefusal::Disabled, "account disabled".into(), Some(u.username)));
            }
            tx.touch_sso_link(l.id, now).await?;
            u
        }
        None => {
            drop(tx);
            return provision(b, ctx, p, id).await;
        }
    };
    finish_sign_in(b, ctx, tx, &user, now).await
}

/// A session, or the second-factor step for an account that has one (the provider vouches for
/// the first factor only).
async fn finish_sign_in(
    b: &Backend,
    ctx: &Ctx,
    tx: Box<dyn Tx>,
    user: &UserRecord,
    now: i64,
) -> Result<Finished, Failure> {
    Ok(match super::auth::after_first_factor(b, ctx, tx, user, now, "sso").await? {
        SignInOutcome::Done(s) => Finished::SignedIn(s),
        SignInOutcome::SecondFactor { challenge, .. } => Finished::SecondFactor { challenge },
    })
}

/// First sign-in of an unknown identity: a new account (no password) in the provider's
/// organization with its role, linked to the identity, in one transaction.
async fn provision(b: &Backend, ctx: &Ctx, p: &SsoProviderRecord, id: &Identity) -> Result<Finished, Failure> {
    if !p.auto_create {
        return refuse(SsoRefusal::NoAccount, format!("no account linked to subject {}", id.subject));
    }
    let (Some(org), Some(role)) = (p.org_id, p.role_id) else {
        return refuse(SsoRefusal::NoAccount, "the provider has no organization or role for new accounts");
    };
    let Some(username) = sso::new_username(id) else {
        return refuse(SsoRefusal::MissingClaims, format!("no valid username in claim {}", p.username_claim));
    };
    let Some(email) = id.email.clone() else { return refuse(SsoRefusal::MissingClaims, "no email") };
    let full_name = id.name.as_deref().and_then(|n| validate::full_name(n).ok()).unwrap_or_default();
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    let insert = UserInsert {
        username: username.clone(),
        full_name,
        email,
        password_hash: None,
        status: UserStatus::Active,
        super_admin: false,
        created_at: now,
    };
    let user_id = match tx.insert_user(&insert).await {
        Ok(id) => id,
        Err(crate::backend::store::StoreError::Conflict { field }) => {
            return Err(Failure::Refused(SsoRefusal::AccountExists, format!("{field} exists"), Some(username)));
        }
        Err(e) => return Err(e.into()),
    };
    tx.add_membership(org, user_id, role, now).await?;
    let link = SsoLinkRecord {
        id: 0,
        provider_id: p.id,
        issuer: id.issuer.clone(),
        subject: id.subject.clone(),
        user_id,
        email: id.email.clone(),
        created_at: now,
        last_used_at: now,
    };
    if let Err(e) = tx.insert_sso_link(&link).await {
        // (a concurrent first sign-in of the same identity won; this one rolls back)
        return match e {
            crate::backend::store::StoreError::Conflict { .. } => refuse(SsoRefusal::State, "concurrent first sign-in"),
            e => Err(e.into()),
        };
    }
    let record = tx.user_by_id(user_id).await?.ok_or_else(|| Error::not_found("User"))?;
    let mut ev = audit(b, ctx, "user.created", true);
    ev.actor_id = Some(user_id);
    ev.actor = Some(record.username.clone());
    ev.org_id = Some(org);
    ev.target = Some(record.username.clone());
    let mut snap = user_snapshot(&record);
    snap["password"] = json!("none");
    snap["org_id"] = json!(org.0);
    snap["role_id"] = json!(role.0);
    snap["via"] = json!({ "sso": p.slug, "subject": id.subject });
    ev.after = Some(snap);
    tx.insert_audit(&ev).await?;
    let s = start_session(b, ctx, &mut tx, &record, now, "sso").await?;
    commit_access(b, tx, Change::User(user_id)).await?;
    Ok(Finished::SignedIn(s))
}

/// The signed-in account's view of the providers: linked or available to link.
pub async fn links(b: &Backend, ctx: &Ctx) -> Result<Vec<LinkedProvider>, Error> {
    let u = ctx.user()?;
    let providers = b.store.sso_providers().await?;
    let links = b.store.sso_links_of(u.id).await?;
    let usable = b.config.public_origin.is_some();
    Ok(providers
        .into_iter()
        .filter_map(|p| {
            let l = links.iter().find(|l| l.provider_id == p.id);
            (l.is_some() || (p.enabled && usable)).then(|| LinkedProvider {
                slug: p.slug,
                display_name: p.display_name,
                linked_at: l.map(|l| l.created_at),
                email: l.and_then(|l| l.email.clone()),
            })
        })
        .collect())
}

/// Removes the signed-in account's link to `slug` (sudo mode), keeping a way in.
pub async fn unlink(b: &Backend, ctx: &Ctx, slug: &str) -> Result<(), Error> {
    let u = ctx.user()?.clone();
    if matches!(ctx.caller, Caller::User(ref s) if s.token.is_some()) {
        return Err(Error::Forbidden(policy::Denied::TokenNotAllowed));
    }
    sudo_credentials(b, ctx)?;
    let mut tx = b.store.begin().await?;
    let p = tx.sso_provider(slug.trim()).await?.ok_or_else(|| Error::not_found("Provider"))?;
    let links = tx.sso_links_of(u.id).await?;
    let l = links.iter().find(|l| l.provider_id == p.id).ok_or_else(|| Error::not_found("Linked provider"))?;
    let record = tx.user_by_id(u.id).await?.ok_or(Error::Unauthenticated)?;
    let passkeys = tx.passkeys_of(u.id).await?;
    if record.password_hash.is_none() && passkeys.is_empty() && links.len() == 1 {
        return Err(Error::Conflict {
            field: None,
            message: format!("{} is your only way to sign in: add a passkey first.", p.display_name),
        });
    }
    tx.delete_sso_link(l.id).await?;
    let mut ev = audit(b, ctx, "sso.unlinked", true);
    ev.target = Some(u.username.clone());
    ev.before = Some(json!({ "provider": p.slug, "subject": l.subject, "email": l.email }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}
