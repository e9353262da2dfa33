//! Roster as the OpenID provider of the data tools: the authorization endpoint's decisions
//! (sign in first, consent, a code), the token endpoint (code exchange, refresh rotation),
//! userinfo, introspection and revocation. The HTTP shapes live in `server::oauth`; the rules
//! of a request in `domain::oauth`.
//!
//! Threats: a stolen code (60 seconds, single use, bound to the redirect URI and the PKCE
//! challenge; a second use revokes everything the first obtained), a stolen refresh token
//! (rotated on every use; presenting a used one revokes the whole grant), a copied database
//! (codes and tokens are kept as SHA-256 only), a tool learning more than the person holds
//! (claims are computed from the access model when a token is issued, and userinfo and
//! introspection answer from the current one), and an application that was switched off or a
//! person disabled (their tokens stop working on the next call).
use base64::Engine;
use openidconnect::core::{CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm};
use openidconnect::{
    AccessToken, AdditionalClaims, Audience, AuthenticationContextClass, AuthenticationMethodReference, EndUserEmail,
    EndUserName, EndUserPictureUrl, EndUserUsername, IdToken, IdTokenClaims, IssuerUrl, LocalizedClaim, Nonce,
    StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{audit, clients::to_view, signing_keys};
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{ClientRecord, GrantRecord, OAuthTokenKind, OAuthTokenRecord, UserRecord};
use crate::backend::{Backend, Caller, Ctx};
use crate::domain::clients::SCOPES;
use crate::domain::error::Error;
use crate::domain::oauth::{self, AuthorizeParams, ConsentRequest, Refused, Rejection, Unsafe, CODE_SECONDS};
use crate::domain::users::UserStatus;

/// A refusal in OAuth's terms: the HTTP status, the error code and a description (RFC 6749
/// section 5.2, RFC 6750 section 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into() }
    }
    fn request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }
    fn grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }
    fn client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }
    fn token(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_token", description)
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        // (what went wrong is in the log under the error's reference)
        OAuthError::new(500, "server_error", e.to_string())
    }
}

impl From<crate::backend::store::StoreError> for OAuthError {
    fn from(e: crate::backend::store::StoreError) -> Self {
        Error::from(e).into()
    }
}

/// The issuer: the public URL Roster is reached at (`--public-url`). Without one the provider
/// is off: tokens must name a fixed issuer, never one taken from a request's Host header.
pub fn issuer(b: &Backend) -> Option<String> {
    b.config.public_origin.as_deref().map(|o| o.trim_end_matches('/').to_string())
}

fn issuer_or_off(b: &Backend) -> Result<String, OAuthError> {
    issuer(b).ok_or_else(|| {
        OAuthError::new(503, "temporarily_unavailable", "Roster's OpenID provider needs its public URL (--public-url)")
    })
}

/// The provider's metadata (OpenID Connect Discovery 1.0, RFC 8414).
pub fn discovery(b: &Backend) -> Result<Value, OAuthError> {
    let iss = issuer_or_off(b)?;
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    Ok(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "jwks_uri": format!("{iss}/oauth/jwks"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "end_session_endpoint": format!("{iss}/oauth/logout"),
        "scopes_supported": SCOPES.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [crate::backend::signing::ALG],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "acr_values_supported": [ACR_ONE_FACTOR, ACR_TWO_FACTORS],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "at_hash",
            "preferred_username", "name", "picture", "email", "email_verified", "orgs", "super_admin"
        ],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}

/// `acr` of a sign-in with one factor, and with two (or a passkey).
pub const ACR_ONE_FACTOR: &str = "1";
pub const ACR_TWO_FACTORS: &str = "2";

/// A person's stable subject (`sub`) for the tools: derived from the account's id and
/// creation time, so an id a database hands out again after a deletion never names the
/// earlier person, and nothing about the account shows through.
pub fn subject(u: &UserRecord) -> String {
    let digest = Sha256::digest(format!("roster-subject:{}:{}", u.id.0, u.created_at).as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Where the authorization endpoint sends the browser next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A page of Roster's own says why it stops (never redirected to the tool).
    Stop(Unsafe),
    /// To the tool, with a code or an error.
    Redirect(String),
    /// To Roster's sign-in, then back to `return_to` (a path of Roster's).
    SignIn { return_to: String },
    /// To the consent page.
    Consent(Box<ConsentRequest>),
}

/// `uri` with `pairs` added to its query (the tool's own query parameters kept).
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        // (a registered redirect URI always parses: it was checked when it was saved)
        Err(_) => uri.to_string(),
    }
}

fn refused_at(redirect_uri: &str, state: Option<&str>, r: &Refused, iss: &str) -> Step {
    let mut pairs = vec![("error", r.error), ("error_description", r.description.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", iss));
    Step::Redirect(with_query(redirect_uri, &pairs))
}

/// The authorization endpoint's path with a request's parameters (where a sign-in returns).
pub fn authorize_path(p: &AuthorizeParams) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in p.pairs() {
        q.append_pair(k, &v);
    }
    format!("/oauth/authorize?{}", q.finish())
}

/// What the scope `roster` tells a tool: the person's role and abilities in each organization
/// the application may see, and whether they are a super admin. Read from the access model
/// as it is now.
fn roster_claims(b: &Backend, user: &UserRecord, client: &ClientRecord) -> (Vec<Value>, bool) {
    let m = b.access.read();
    let mut orgs: Vec<Value> = Vec::new();
    for org in &client.orgs {
        let Some(name) = m.orgs.get(org) else { continue };
        let (_, set) = m.abilities(Some(user.id), *org);
        let role = m.role_in(user.id, *org);
        if role.is_none() && !user.super_admin {
            continue;
        }
        orgs.push(json!({ "id": org.0, "name": name, "role": role, "abilities": set.codes() }));
    }
    orgs.sort_by_key(|o| o["name"].as_str().map(str::to_lowercase));
    (orgs, user.super_admin)
}

/// The claims `scopes` give a tool about `user` (userinfo; the ID token carries the same).
async fn claims(b: &Backend, user: &UserRecord, client: &ClientRecord, scopes: &[String]) -> Result<Value, Error> {
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut c = json!({ "sub": subject(user) });
    if has("profile") {
        c["preferred_username"] = json!(user.username);
        c["name"] = json!(if user.full_name.is_empty() { &user.username } else { &user.full_name });
        // (only a picture the person set: tools draw their own initials otherwise)
        if let Some(set_at) = b.store.avatar_at(user.id).await? {
            let path = super::profile::picture_path(b, user.id, set_at);
            c["picture"] = json!(format!("{}{path}", issuer(b).unwrap_or_default()));
        }
    }
    if has("email") {
        c["email"] = json!(user.email);
        // (Roster does not verify addresses: an admin typed it, or the person did)
        c["email_verified"] = json!(false);
    }
    if has("roster") {
        let (orgs, super_admin) = roster_claims(b, user, client);
        c["orgs"] = json!(orgs);
        if super_admin {
            c["super_admin"] = json!(true);
        }
    }
    Ok(c)
}

/// The person and the application behind a request, when both may still be used: the account
/// exists and is active, the application exists and is switched on.
async fn current(b: &Backend, g: &GrantRecord) -> Result<Option<(UserRecord, ClientRecord)>, OAuthError> {
    let Some(user) = b.store.user_by_id(g.user_id).await? else { return Ok(None) };
    if user.status != UserStatus::Active {
        return Ok(None);
    }
    let Some(client) = b.store.client_by_row(g.client).await? else { return Ok(None) };
    if !client.enabled {
        return Ok(None);
    }
    Ok(Some((user, client)))
}

/// The authorization endpoint: checks the request, then answers where the browser goes.
/// `decision` is the consent page's answer (None: no page was shown).
pub async fn authorize(b: &Backend, ctx: &Ctx, p: &AuthorizeParams, decision: Option<bool>) -> Result<Step, Error> {
    let Some(iss) = issuer(b) else { return Ok(Step::Stop(Unsafe::NotConfigured)) };
    let record =
        if p.client_id.is_empty() || p.client_id.len() > 64 { None } else { b.store.client(&p.client_id).await? };
    let view = record.as_ref().map(|r| to_view(b, r));
    let a = match oauth::check(p, view.as_ref()) {
        Ok(a) => a,
        Err(Rejection::Unsafe(u)) => return Ok(Step::Stop(u)),
        Err(Rejection::Redirect { redirect_uri, state, refused }) => {
            return Ok(refused_at(&redirect_uri, state.as_deref(), &refused, &iss))
        }
    };
    let (Some(record), Some(view)) = (record, view) else { return Ok(Step::Stop(Unsafe::UnknownClient)) };
    let refuse = |error: &'static str, description: &str| {
        refused_at(&a.redirect_uri, a.state.as_deref(), &Refused::new(error, description), &iss)
    };
    let now = b.now();
    let user = match &ctx.caller {
        Caller::User(u) if ctx.session.is_some() => u,
        _ => {
            if a.prompt.none {
                return Ok(refuse("login_required", "nobody is signed in to Roster in this browser"));
            }
            return Ok(Step::SignIn { return_to: authorize_path(p) });
        }
    };
    if oauth::must_sign_in_again(&a, ctx.auth_at, now) {
        if a.prompt.none {
            return Ok(refuse("login_required", "the sign-in at Roster is older than the application allows"));
        }
        return Ok(Step::SignIn { return_to: authorize_path(&p.after_sign_in(now)) });
    }
    if user.needs_two_factor {
        return Ok(refuse("access_denied", "two-factor authentication must be set up at Roster first"));
    }
    let method = ctx.auth_method.clone().unwrap_or_default();
    if record.require_two_factor && !oauth::amr(&method).1 {
        return Ok(refuse(
            "access_denied",
            "this application admits only people signed in to Roster with a second factor or a passkey",
        ));
    }
    if decision == Some(false) {
        return Ok(refuse("access_denied", "the person declined"));
    }
    if record.consent && decision.is_none() {
        let agreed = b.store.consent(user.id, record.id).await?;
        let covered = agreed.as_ref().is_some_and(|s| a.scopes.iter().all(|x| s.contains(x)));
        if a.prompt.consent || !covered {
            if a.prompt.none {
                return Ok(refuse("consent_required", "the person has not agreed to share this with the application"));
            }
            let describe = |s: &str| SCOPES.iter().find(|(n, _)| *n == s).map(|(_, d)| d.to_string());
            return Ok(Step::Consent(Box::new(ConsentRequest {
                client_name: record.name.clone(),
                client_id: record.client_id.clone(),
                scopes: a
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .filter_map(|s| describe(s).map(|d| (s.clone(), d)))
                    .collect(),
                orgs: if a.scopes.iter().any(|s| s == "roster") { view.orgs.clone() } else { vec![] },
                account: user.username.clone(),
                fields: p.pairs().into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            })));
        }
    }
    let code = new_token();
    let mut tx = b.store.begin().await?;
    if decision == Some(true) {
        // (the answer replaces the one before, whole: nothing read to merge, so two answers
        // at once cannot lose part of each other; the last one stands)
        tx.save_consent(user.id, record.id, &a.scopes, now).await?;
    }
    let grant = GrantRecord {
        id: 0,
        client: record.id,
        user_id: user.id,
        scopes: a.scopes.clone(),
        nonce: a.nonce.clone(),
        auth_at: ctx.auth_at.unwrap_or(now),
        method,
        created_at: now,
        revoked_at: None,
    };
    let id = tx.insert_grant(&grant).await?;
    tx.insert_code(&hash_token(&code), id, &a.redirect_uri, a.code_challenge.as_deref(), now + CODE_SECONDS * 1000)
        .await?;
    let mut ev = audit(b, ctx, "oauth.authorized", true);
    ev.target = Some(record.client_id.clone());
    ev.after = Some(json!({ "client_id": record.client_id, "scopes": a.scopes, "consented": decision == Some(true) }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = a.state.as_deref() {
        pairs.push(("state", s));
    }
    pairs.push(("iss", iss.as_str()));
    Ok(Step::Redirect(with_query(&a.redirect_uri, &pairs)))
}

/// How a client authenticated at the token, introspection or revocation endpoint: its id,
/// and its secret when it sent one (HTTP Basic or form fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

/// The client a request comes from: a confidential client with its secret, or a public
/// client by its id alone.
pub async fn authenticate_client(b: &Backend, creds: &ClientCredentials) -> Result<ClientRecord, OAuthError> {
    if creds.client_id.is_empty() {
        return Err(OAuthError::client("client authentication is required (client_id)"));
    }
    let record = if creds.client_id.len() > 64 { None } else { b.store.client(&creds.client_id).await? };
    let Some(record) = record else { return Err(OAuthError::client("unknown client")) };
    if !record.enabled {
        return Err(OAuthError::client("this application is switched off in Roster"));
    }
    match (&record.secret_hash, &creds.secret) {
        (Some(stored), Some(secret)) => {
            if !bool::from(hash_token(secret).as_slice().ct_eq(stored.as_slice())) {
                return Err(OAuthError::client("the client secret is wrong"));
            }
        }
        (Some(_), None) => return Err(OAuthError::client("this application must authenticate with its client secret")),
        (None, Some(_)) => return Err(OAuthError::client("a public application has no client secret")),
        (None, None) => {}
    }
    Ok(record)
}

/// A token request's form fields (RFC 6749 sections 4.1.3 and 6).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub grant_type: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub code_verifier: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
    pub id_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Claims of Roster's own in an ID token (scope `roster`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RosterClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    orgs: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    super_admin: Option<bool>,
}
impl AdditionalClaims for RosterClaims {}

type RosterIdToken = IdToken<RosterClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

fn at(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Issues an access token (and a refresh token when the grant holds `offline_access` and the
/// application allows them) and signs the ID token, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
async fn issue(
    b: &Backend,
    tx: &mut Box<dyn crate::backend::store::Tx>,
    iss: &str,
    g: &GrantRecord,
    user: &UserRecord,
    client: &ClientRecord,
    nonce: Option<&str>,
    key: &crate::backend::signing::SigningKey,
) -> Result<TokenResponse, OAuthError> {
    let now = b.now();
    let access = new_token();
    let lifetime = client.access_token_seconds.max(60);
    tx.insert_oauth_token(&hash_token(&access), g.id, OAuthTokenKind::Access, now, now + lifetime * 1000).await?;
    let refresh = if g.scopes.iter().any(|s| s == "offline_access") && client.refresh_token_seconds > 0 {
        let r = new_token();
        tx.insert_oauth_token(
            &hash_token(&r),
            g.id,
            OAuthTokenKind::Refresh,
            now,
            now + client.refresh_token_seconds * 1000,
        )
        .await?;
        Some(r)
    } else {
        None
    };
    let c = claims(b, user, client, &g.scopes).await?;
    let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    let mut standard = StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(subject(user)));
    if let Some(u) = text("preferred_username") {
        standard = standard.set_preferred_username(Some(EndUserUsername::new(u)));
    }
    if let Some(n) = text("name") {
        standard = standard.set_name(Some(LocalizedClaim::from(EndUserName::new(n))));
    }
    if let Some(e) = text("email") {
        standard = standard.set_email(Some(EndUserEmail::new(e))).set_email_verified(Some(false));
    }
    if let Some(p) = text("picture") {
        standard = standard.set_picture(Some(LocalizedClaim::from(EndUserPictureUrl::new(p))));
    }
    let extra = RosterClaims {
        orgs: c.get("orgs").and_then(|o| o.as_array().cloned()),
        super_admin: c.get("super_admin").and_then(Value::as_bool),
    };
    let (amr, second_factor) = oauth::amr(&g.method);
    let id_claims = IdTokenClaims::new(
        IssuerUrl::new(iss.to_string()).map_err(crate::backend::internal)?,
        vec![Audience::new(client.client_id.clone())],
        at(now + lifetime * 1000),
        at(now),
        standard,
        extra,
    )
    .set_auth_time(Some(at(g.auth_at)))
    .set_nonce(nonce.map(|n| Nonce::new(n.to_string())))
    .set_auth_method_refs(
        (!amr.is_empty()).then(|| amr.iter().map(|m| AuthenticationMethodReference::new(m.to_string())).collect()),
    )
    .set_auth_context_ref(Some(AuthenticationContextClass::new(
        if second_factor { ACR_TWO_FACTORS } else { ACR_ONE_FACTOR }.to_string(),
    )));
    let id_token = RosterIdToken::new(
        id_claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&AccessToken::new(access.clone())),
        None,
    )
    .map_err(crate::backend::internal)?;
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: lifetime,
        scope: g.scopes.join(" "),
        id_token: id_token.to_string(),
        refresh_token: refresh,
    })
}

/// Whether `verifier` answers the S256 `challenge` (RFC 7636 section 4.6).
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let digest = Sha256::digest(verifier.as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    oauth::verifier_ok(verifier) && bool::from(expected.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The token endpoint: a code exchanged, or a refresh token rotated.
pub async fn token(
    b: &Backend,
    ctx: &Ctx,
    creds: &ClientCredentials,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let iss = issuer_or_off(b)?;
    match req.grant_type.as_str() {
        "authorization_code" | "refresh_token" => {}
        "" => return Err(OAuthError::request("grant_type is required")),
        other => {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!("grant_type {other} is not supported: use authorization_code or refresh_token"),
            ))
        }
    }
    let client = authenticate_client(b, creds).await?;
    if req.grant_type == "authorization_code" {
        exchange(b, ctx, &iss, &client, req).await
    } else {
        refresh(b, ctx, &iss, &client, req).await
    }
}

/// Revokes a grant because something issued from it (`event`: a code or a refresh token)
/// was presented twice, records why, and answers the refusal for the second presentation.
async fn revoke_for_reuse(
    b: &Backend,
    ctx: &Ctx,
    mut tx: Box<dyn crate::backend::store::Tx>,
    g: &GrantRecord,
    client: &ClientRecord,
    event: &'static str,
) -> OAuthError {
    let mut ev = audit(b, ctx, event, false);
    ev.target = Some(client.client_id.clone());
    ev.after = Some(json!({ "client_id": client.client_id, "user_id": g.user_id.0 }));
    let revoked = async {
        tx.revoke_grant(g.id, b.now()).await?;
        tx.insert_audit(&ev).await?;
        tx.commit().await
    };
    if let Err(e) = revoked.await {
        return OAuthError::from(e);
    }
    tracing::warn!(client = %client.client_id, event, "a code or refresh token was presented twice: its grant is revoked");
    OAuthError::grant(if event == "oauth.code_reused" {
        "the code was used already: the tokens issued from it are revoked"
    } else {
        "the refresh token was used already: every token of this sign-in is revoked"
    })
}

async fn exchange(
    b: &Backend,
    ctx: &Ctx,
    iss: &str,
    client: &ClientRecord,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let code = req.code.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| OAuthError::request("code is required"))?;
    let hash = hash_token(code);
    // (before the transaction: the first key is made in a transaction of its own)
    let key = signing_keys::active(b).await?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let Some(c) = tx.oauth_code(&hash).await? else {
        return Err(OAuthError::grant("the code is not valid"));
    };
    if c.grant.client != client.id {
        return Err(OAuthError::grant("the code was issued to another application"));
    }
    if c.used_at.is_some() {
        return Err(revoke_for_reuse(b, ctx, tx, &c.grant, client, "oauth.code_reused").await);
    }
    if c.expires_at < now {
        return Err(OAuthError::grant("the code has expired"));
    }
    if c.grant.revoked_at.is_some() {
        return Err(OAuthError::grant("the code was revoked"));
    }
    if req.redirect_uri.as_deref() != Some(c.redirect_uri.as_str()) {
        return Err(OAuthError::grant("redirect_uri does not match the authorization request"));
    }
    match (c.code_challenge.as_deref(), req.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (Some(_), Some(_)) => return Err(OAuthError::grant("the code_verifier does not match the code_challenge")),
        (Some(_), None) => {
            return Err(OAuthError::grant("code_verifier is required: the request had a code_challenge"))
        }
        (None, Some(_)) => return Err(OAuthError::grant("the authorization request had no code_challenge")),
        (None, None) if client.public => return Err(OAuthError::grant("a public application must use PKCE")),
        (None, None) => {}
    }
    if !tx.use_code(&hash, now).await? {
        // (another exchange of the same code won the race: this is the second use)
        return Err(revoke_for_reuse(b, ctx, tx, &c.grant, client, "oauth.code_reused").await);
    }
    let Some(user) = tx.user_by_id(c.grant.user_id).await?.filter(|u| u.status == UserStatus::Active) else {
        return Err(OAuthError::grant("the account is disabled"));
    };
    let answer = issue(b, &mut tx, iss, &c.grant, &user, client, c.grant.nonce.as_deref(), &key).await?;
    tx.commit().await?;
    Ok(answer)
}

async fn refresh(
    b: &Backend,
    ctx: &Ctx,
    iss: &str,
    client: &ClientRecord,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let presented = req
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::request("refresh_token is required"))?;
    let hash = hash_token(presented);
    let key = signing_keys::active(b).await?;
    let now = b.now();
    let mut tx = b.store.begin().await?;
    let Some(t) = tx.oauth_token(&hash).await?.filter(|t| t.kind == OAuthTokenKind::Refresh) else {
        return Err(OAuthError::grant("the refresh token is not valid"));
    };
    if t.grant.client != client.id {
        return Err(OAuthError::grant("the refresh token was issued to another application"));
    }
    if t.grant.revoked_at.is_some() {
        return Err(OAuthError::grant("the refresh token was revoked"));
    }
    if t.used_at.is_some() {
        return Err(revoke_for_reuse(b, ctx, tx, &t.grant, client, "oauth.refresh_reused").await);
    }
    if t.expires_at < now {
        return Err(OAuthError::grant("the refresh token has expired"));
    }
    if client.refresh_token_seconds <= 0 {
        return Err(OAuthError::grant("this application no longer receives refresh tokens"));
    }
    if let Some(scope) = req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        let mut asked: Vec<&str> = scope.split_whitespace().collect();
        let mut granted: Vec<&str> = t.grant.scopes.iter().map(String::as_str).collect();
        asked.sort_unstable();
        asked.dedup();
        granted.sort_unstable();
        if asked != granted {
            return Err(OAuthError::new(400, "invalid_scope", "a refresh keeps the scopes granted: leave scope out"));
        }
    }
    if !tx.use_refresh_token(&hash, now).await? {
        return Err(revoke_for_reuse(b, ctx, tx, &t.grant, client, "oauth.refresh_reused").await);
    }
    let Some(user) = tx.user_by_id(t.grant.user_id).await?.filter(|u| u.status == UserStatus::Active) else {
        return Err(OAuthError::grant("the account is disabled"));
    };
    let answer = issue(b, &mut tx, iss, &t.grant, &user, client, None, &key).await?;
    tx.commit().await?;
    Ok(answer)
}

/// A presented token that may still be used, with its person and application.
async fn live_token(
    b: &Backend,
    token: &str,
) -> Result<Option<(OAuthTokenRecord, UserRecord, ClientRecord)>, OAuthError> {
    if token.is_empty() || token.len() > 512 {
        return Ok(None);
    }
    let Some(t) = b.store.oauth_token(&hash_token(token)).await? else { return Ok(None) };
    if t.grant.revoked_at.is_some() || t.expires_at < b.now() || t.used_at.is_some() {
        return Ok(None);
    }
    Ok(current(b, &t.grant).await?.map(|(u, c)| (t, u, c)))
}

/// Userinfo (OpenID Connect Core section 5.3): the claims of the access token's scopes, as
/// they are now.
pub async fn userinfo(b: &Backend, access_token: Option<&str>) -> Result<Value, OAuthError> {
    issuer_or_off(b)?;
    let token = access_token.ok_or_else(|| OAuthError::new(401, "invalid_request", "an access token is required"))?;
    match live_token(b, token).await? {
        Some((t, user, client)) if t.kind == OAuthTokenKind::Access => {
            Ok(claims(b, &user, &client, &t.grant.scopes).await?)
        }
        _ => Err(OAuthError::token("the access token is not valid (unknown, expired or revoked)")),
    }
}

/// Introspection (RFC 7662) for resource servers: whether a token is active, and for whom.
/// Only confidential applications may ask.
pub async fn introspect(b: &Backend, creds: &ClientCredentials, token: &str) -> Result<Value, OAuthError> {
    let iss = issuer_or_off(b)?;
    let caller = authenticate_client(b, creds).await?;
    if caller.public {
        return Err(OAuthError::client("only a confidential application may introspect tokens"));
    }
    let Some((t, user, client)) = live_token(b, token).await? else { return Ok(json!({ "active": false })) };
    let mut answer = claims(b, &user, &client, &t.grant.scopes).await?;
    answer["active"] = json!(true);
    answer["iss"] = json!(iss);
    answer["client_id"] = json!(client.client_id);
    answer["aud"] = json!(client.client_id);
    answer["username"] = json!(user.username);
    answer["scope"] = json!(t.grant.scopes.join(" "));
    answer["token_type"] = json!(match t.kind {
        OAuthTokenKind::Access => "Bearer",
        OAuthTokenKind::Refresh => "refresh_token",
    });
    answer["iat"] = json!(t.created_at / 1000);
    answer["exp"] = json!(t.expires_at / 1000);
    answer["auth_time"] = json!(t.grant.auth_at / 1000);
    Ok(answer)
}

/// Revocation (RFC 7009): a token of the calling application ends, and with it every token
/// of the same sign-in. Unknown tokens, and other applications' tokens, change nothing (and
/// the answer does not say which it was).
pub async fn revoke(b: &Backend, ctx: &Ctx, creds: &ClientCredentials, token: &str) -> Result<(), OAuthError> {
    issuer_or_off(b)?;
    let client = authenticate_client(b, creds).await?;
    if token.is_empty() || token.len() > 512 {
        return Ok(());
    }
    let mut tx = b.store.begin().await?;
    let Some(t) = tx.oauth_token(&hash_token(token)).await? else { return Ok(()) };
    if t.grant.client != client.id || t.grant.revoked_at.is_some() {
        return Ok(());
    }
    tx.revoke_grant(t.grant.id, b.now()).await?;
    let mut ev = audit(b, ctx, "oauth.revoked", true);
    ev.target = Some(client.client_id.clone());
    ev.after = Some(json!({ "client_id": client.client_id, "user_id": t.grant.user_id.0 }));
    tx.insert_audit(&ev).await?;
    tx.commit().await?;
    Ok(())
}

/// Where an RP-initiated logout goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutStep {
    /// A page of Roster's own says why (an address not registered is never followed).
    Stop(Unsafe),
    /// Ask the person first (`/oauth/sign-out`): nothing proved the tool speaks for them.
    Confirm,
    /// Go to `to`; `ended` says whether Roster's session was ended (its cookie to clear).
    Done { to: String, ended: bool },
}

/// The audience and subject of an ID token Roster signed (expired or not: a hint names who
/// the tool signed in, it grants nothing), if it verifies with a published key.
async fn hinted(b: &Backend, iss: &str, jwt: &str) -> Result<Option<(String, String)>, Error> {
    use openidconnect::core::CoreJsonWebKey;
    use openidconnect::JsonWebKey;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (Some(h), Some(c), Some(sig), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Ok(None);
    };
    let header: Value = b64.decode(h).ok().and_then(|x| serde_json::from_slice(&x).ok()).unwrap_or_default();
    let claims: Value = b64.decode(c).ok().and_then(|x| serde_json::from_slice(&x).ok()).unwrap_or_default();
    let (Some(kid), Some("RS256"), Ok(sig)) = (header["kid"].as_str(), header["alg"].as_str(), b64.decode(sig)) else {
        return Ok(None);
    };
    let keys = b.store.signing_keys(b.now() - signing_keys::RETIRED_KEPT_MS).await?;
    let Some(key) =
        keys.iter().filter(|k| k.kid == kid).find_map(|k| serde_json::from_str::<CoreJsonWebKey>(&k.public_jwk).ok())
    else {
        return Ok(None);
    };
    let message = format!("{h}.{c}");
    if key.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, message.as_bytes(), &sig).is_err()
        || claims["iss"].as_str() != Some(iss)
    {
        return Ok(None);
    }
    let aud = claims["aud"].as_str().or_else(|| claims["aud"][0].as_str()).map(str::to_string);
    Ok(aud.zip(claims["sub"].as_str().map(str::to_string)))
}

/// RP-initiated logout: a tool sends the person here to sign out of Roster too. With an ID
/// token of this person as the hint (or the person's `confirmed` answer) the session ends;
/// then back to the tool's registered post-logout address, if it named one.
pub async fn logout(b: &Backend, ctx: &Ctx, p: &oauth::LogoutParams, confirmed: bool) -> Result<LogoutStep, Error> {
    let Some(iss) = issuer(b) else { return Ok(LogoutStep::Stop(Unsafe::NotConfigured)) };
    let hint = match p.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => match hinted(b, &iss, h).await? {
            Some(found) => Some(found),
            None => return Ok(LogoutStep::Stop(Unsafe::Malformed)),
        },
        None => None,
    };
    let named = p.client_id.as_deref().filter(|c| !c.is_empty());
    if let (Some(c), Some((aud, _))) = (named, &hint) {
        if c != aud {
            return Ok(LogoutStep::Stop(Unsafe::Malformed));
        }
    }
    let client_id = named.map(str::to_string).or_else(|| hint.as_ref().map(|(aud, _)| aud.clone()));
    let to = match p.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty()) {
        None => "/sign-in".to_string(),
        Some(uri) => {
            let client = match client_id.as_deref().filter(|c| c.len() <= 64) {
                Some(c) => b.store.client(c).await?,
                None => None,
            };
            let Some(client) = client else { return Ok(LogoutStep::Stop(Unsafe::UnknownClient)) };
            if !client.post_logout_redirect_uris.iter().any(|u| u == uri) {
                return Ok(LogoutStep::Stop(Unsafe::RedirectUri));
            }
            match p.state.as_deref().filter(|s| !s.is_empty() && s.len() <= oauth::MAX_ECHOED) {
                Some(state) => with_query(uri, &[("state", state)]),
                None => uri.to_string(),
            }
        }
    };
    let Caller::User(user) = &ctx.caller else { return Ok(LogoutStep::Done { to, ended: false }) };
    if ctx.session.is_none() {
        return Ok(LogoutStep::Done { to, ended: false });
    }
    let same_person = match &hint {
        Some((_, sub)) => match b.store.user_by_id(user.id).await? {
            Some(u) => subject(&u) == *sub,
            None => false,
        },
        None => false,
    };
    if !same_person && !confirmed {
        return Ok(LogoutStep::Confirm);
    }
    super::auth::sign_out(b, ctx).await?;
    Ok(LogoutStep::Done { to, ended: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_as_in_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn a_query_is_added_to_the_tools_own() {
        assert_eq!(
            with_query("https://tool.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]),
            "https://tool.example/cb?x=1&code=a+b&state=s%26t"
        );
    }

    #[test]
    fn subjects_are_stable_and_never_reused() {
        let u = UserRecord { id: crate::domain::ids::UserId(7), created_at: 1_000, ..Default::default() };
        let again = UserRecord { username: "renamed".into(), ..u.clone() };
        let reused_id = UserRecord { created_at: 2_000, ..u.clone() };
        assert_eq!(subject(&u), subject(&again));
        assert_ne!(subject(&u), subject(&reused_id));
        assert_eq!(subject(&u).len(), 22);
    }
}
