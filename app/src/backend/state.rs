//! `Backend`: the shared state every service receives (store, config, clock, caches, the
//! access model, crypto), built once per process and cheap to clone.
use std::sync::Arc;

use super::store::{Store, StoreError};
use super::{access, auth_cache, cpu, crypto, feed, oidc, password, sessions, tokens, Clock, Config};

/// Everything a service needs; cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub hasher: password::Hasher,
    /// CPU-heavy work (hashing, picture decoding), one job per core at a time.
    pub cpu: cpu::CpuQueue,
    pub access: Arc<access::Access>,
    /// Seals secrets stored in the database (TOTP seeds).
    pub secrets: crypto::SecretBox,
    /// Signs the outcomes of forms posted before the WASM arrived (see `server/src/rpc.rs`).
    pub outcomes: Arc<crypto::Signer>,
    /// Failed token look-ups and single sign-on callbacks per client address (tokens are
    /// too long to guess, but every pathway is throttled; kept in memory so a valid token
    /// costs no extra write).
    pub token_failures: Arc<tokens::FailureThrottle>,
    /// The OpenID Connect relying party (HTTP client and discovery cache).
    pub oidc: Arc<oidc::Oidc>,
    /// Resolved sessions and tokens (see `auth_cache`): no database read per request.
    pub session_cache: Arc<auth_cache::AuthCache<sessions::CachedSession>>,
    pub token_cache: Arc<auth_cache::AuthCache<tokens::CachedToken>>,
    /// The WebAuthn relying party: present when the public URL is configured (browsers bind
    /// passkeys to it, so it cannot be guessed from request headers).
    pub webauthn: Option<Arc<webauthn_rs::Webauthn>>,
    /// Set when the server shuts down: long-lived answers (event streams) end, so that the
    /// requests in flight can finish and the process exit.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Whether the change feed from the other instances listens (see `feed`).
    pub feed: Arc<feed::FeedStatus>,
    /// The OpenID provider's private signing keys, once unsealed (by key id).
    pub signing_keys: Arc<super::signing::KeyCache>,
    /// The event outbox as this instance reads it (streams and webhooks listen here).
    pub events: Arc<super::events::EventHub>,
    /// This process, as the holder of a webhook's delivery lease.
    pub instance_id: Arc<str>,
}

/// The relying party for `origin` (`https://roster.example.com`, or `http://localhost:PORT`
/// for local use): RP id = its host, exact origin match (no other ports or subdomains).
pub fn relying_party(origin: &str) -> Option<webauthn_rs::Webauthn> {
    let url = webauthn_rs::prelude::Url::parse(origin).ok()?;
    let host = url.host_str()?.to_string();
    let built = webauthn_rs::WebauthnBuilder::new(&host, &url).and_then(|b| b.rp_name("Roster").build());
    match built {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(origin, error = %e, "passkeys are off: the public URL is not a valid WebAuthn origin");
            None
        }
    }
}

impl Backend {
    /// Call `load_access` before serving: until then every check is denied.
    pub fn new(store: Arc<dyn Store>, config: Config, clock: Arc<dyn Clock>) -> Self {
        let webauthn = config.public_origin.as_deref().and_then(relying_party).map(Arc::new);
        let oidc = Arc::new(oidc::Oidc::new(config.allow_internal_urls));
        let cpu = cpu::CpuQueue::default();
        let secrets = config.secret_key.as_ref().map(crypto::SecretBox::new).unwrap_or_else(crypto::SecretBox::random);
        let secrets = match &config.secret_key_previous {
            Some(previous) => secrets.with_previous(previous),
            None => secrets,
        };
        let outcomes = Arc::new(
            config.secret_key.as_ref().map(crypto::Signer::from_instance_key).unwrap_or_else(crypto::Signer::random),
        );
        Self {
            store,
            config: Arc::new(config),
            clock,
            hasher: password::Hasher::new(cpu.clone()),
            cpu,
            access: Arc::new(access::Access::default()),
            secrets,
            outcomes,
            token_failures: Arc::new(tokens::FailureThrottle::default()),
            oidc,
            session_cache: Arc::default(),
            token_cache: Arc::default(),
            webauthn,
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            feed: Arc::default(),
            signing_keys: Arc::default(),
            events: Arc::default(),
            instance_id: super::sessions::new_token().into(),
        }
    }

    /// Ends the event streams (see `stopping`).
    pub fn stop_streams(&self) {
        self.stopping.send_replace(true);
    }

    pub async fn load_access(&self) -> Result<(), StoreError> {
        self.access.reload(self.store.as_ref()).await
    }
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}
