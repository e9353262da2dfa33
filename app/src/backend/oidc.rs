//! The OpenID Connect relying party: discovery (cached), the authorization URL with PKCE
//! (S256), state and nonce, and the code exchange with ID token verification (signature,
//! issuer, audience, expiry, nonce, access token hash) by the `openidconnect` crate.
//! Threats: SSRF (every request, the discovery document's endpoints included, goes through
//! `outbound::Fetcher`: no redirects, no userinfo, no internal addresses unless allowed), a
//! hung provider (timeouts), token substitution (at_hash checked when present; userinfo
//! bound to the ID token's subject).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde_json::{Map, Value};

use super::outbound::Fetcher;

/// How long discovery documents (and the signing keys fetched with them) are reused.
const METADATA_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("discovery failed: {0}")]
    Discovery(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("code exchange failed: {0}")]
    Exchange(String),
    #[error("ID token rejected: {0}")]
    Verify(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
}

/// What the relying party needs of a provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: String,
    pub redirect_uri: String,
}

/// The start of a flow: where to send the browser, and what to keep server-side.
pub struct Authorize {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Claims beyond the standard ones (for claim mapping to custom names).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

pub struct Oidc {
    /// `None` if the TLS backend could not start: single sign-on then fails cleanly rather
    /// than falling back to a client that follows redirects.
    http: Option<Fetcher>,
    metadata: Mutex<HashMap<String, (Arc<CoreProviderMetadata>, i64)>>,
}

impl Oidc {
    /// `allow_internal`: whether providers may live on loopback or private addresses.
    pub fn new(allow_internal: bool) -> Self {
        let http = Fetcher::new(allow_internal)
            .map_err(|e| tracing::error!(error = %e, "single sign-on is off: no HTTP client"))
            .ok();
        Self { http, metadata: Mutex::new(HashMap::new()) }
    }

    fn http(&self) -> Result<&Fetcher, OidcError> {
        self.http.as_ref().ok_or_else(|| OidcError::Config("no HTTP client (TLS backend unavailable)".into()))
    }

    /// The provider's discovery document and keys, from the cache when fresh.
    pub async fn metadata(&self, issuer: &str, now: i64) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        if let Ok(cache) = self.metadata.lock() {
            if let Some((m, at)) = cache.get(issuer) {
                if now - at < METADATA_TTL_MS {
                    return Ok(m.clone());
                }
            }
        }
        let url = IssuerUrl::new(issuer.to_string()).map_err(|e| OidcError::Config(e.to_string()))?;
        let http = self.http()?;
        let m =
            CoreProviderMetadata::discover_async(url, http).await.map_err(|e| OidcError::Discovery(error_chain(&e)))?;
        let m = Arc::new(m);
        if let Ok(mut cache) = self.metadata.lock() {
            cache.insert(issuer.to_string(), (m.clone(), now));
        }
        Ok(m)
    }

    /// Drops a provider's cached metadata (after a failure: its keys may have rotated).
    pub fn forget(&self, issuer: &str) {
        if let Ok(mut cache) = self.metadata.lock() {
            cache.remove(issuer);
        }
    }

    fn client(
        p: &ProviderConfig,
        m: &CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        OidcError,
    > {
        let redirect = RedirectUrl::new(p.redirect_uri.clone()).map_err(|e| OidcError::Config(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(p.client_id.clone()),
            p.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    pub async fn authorize(&self, p: &ProviderConfig, now: i64) -> Result<Authorize, OidcError> {
        let m = self.metadata(&p.issuer, now).await?;
        let client = Self::client(p, &m)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for s in p.scopes.split_whitespace().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(s.to_string()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Ok(Authorize {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code, verifies the ID token and returns the claims of the ID token and
    /// (when the provider has the endpoint) userinfo, merged.
    pub async fn exchange(
        &self,
        p: &ProviderConfig,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
        now: i64,
    ) -> Result<Map<String, Value>, OidcError> {
        let m = self.metadata(&p.issuer, now).await?;
        let client = Self::client(p, &m)?;
        let http = self.http()?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let id_token = response.id_token().ok_or_else(|| OidcError::Verify("no ID token in the response".into()))?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| OidcError::Verify(error_chain(&e)))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| OidcError::Verify(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| OidcError::Verify(e.to_string()))?;
            let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                .map_err(|e| OidcError::Verify(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::Verify("access token hash mismatch".into()));
            }
        }
        let mut merged = match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => map,
            _ => return Err(OidcError::Verify("unreadable claims".into())),
        };
        if m.userinfo_endpoint().is_some() {
            let req = client
                .user_info(response.access_token().clone(), Some(claims.subject().clone()))
                .map_err(|e| OidcError::Config(e.to_string()))?;
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> =
                req.request_async(http).await.map_err(|e| OidcError::UserInfo(error_chain(&e)))?;
            if let Ok(Value::Object(extra)) = serde_json::to_value(&info) {
                for (k, v) in extra {
                    // The ID token's own facts (iss, aud, sub, nonce...) stay as verified.
                    merged.entry(k).or_insert(v);
                }
            }
        }
        Ok(merged)
    }
}

/// An error with its sources, for the log (never shown to the browser).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}
