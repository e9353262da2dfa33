//! The cost of an ID token (issue 13): what the token endpoint spends signing one, on every code
//! exchange and every refresh, and what a relying party spends verifying it. Roster signs with
//! RS256 only (RSA 2048 through OpenSSL, `app::backend::signing`); there is no other algorithm
//! to compare. Timed here, interleaved rounds on one machine:
//!   - the ID token as the provider makes it (`IdToken::new` with the claims of a member who
//!     holds one organization's role, `at_hash` of the access token, RS256 through
//!     `SigningKey`): claims to JSON, base64url, the signature;
//!   - the RSA signature alone (`SigningKey::sign` over a token's header and claims);
//!   - verifying the signature with the published key (`CoreJsonWebKey::verify_signature`, as
//!     the provider checks an `id_token_hint`);
//!   - a relying party's whole check with the openidconnect crate (`IdTokenVerifier`: parse,
//!     signature, issuer, audience, expiry, nonce).
//!
//!   cargo bench -p server --bench id_token      (ROSTER_BENCH_RUNS=10 rounds)
mod common;

use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use app::backend::signing::SigningKey;
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, ClientId, ClientSecret, IdToken, IdTokenClaims, IdTokenVerifier, IssuerUrl,
    JsonWebKey, Nonce, PrivateSigningKey,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// As the provider's (`services::provider::RosterClaims`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RosterClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    orgs: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    super_admin: Option<bool>,
}
impl AdditionalClaims for RosterClaims {}
type RosterIdToken = IdToken<RosterClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;

const ISSUER: &str = "https://roster.example.com";
const CLIENT: &str = "dbackup";
const RS256: CoreJwsSigningAlgorithm = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;

/// The claims `issue` signs for a member of Default (scopes openid profile email roster
/// offline_access; Member's 14 abilities), valid for ten minutes from now.
fn claims() -> IdTokenClaims<RosterClaims, CoreGenderClaim> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let abilities = [
        "create-credentials",
        "create-databases",
        "create-queries",
        "delete-snapshots",
        "download-snapshots",
        "manage-agents",
        "manage-database-servers",
        "manage-volumes",
        "operate-restores",
        "run-backups",
        "use-adminer",
        "view-credentials",
        "view-databases",
        "view-queries",
    ];
    serde_json::from_value(json!({
        "iss": ISSUER, "aud": [CLIENT], "exp": now + 600, "iat": now, "auth_time": now - 30,
        "nonce": "n-1", "amr": ["pwd"], "acr": "1",
        "sub": "q8bW3Z1kO5m0c7yH2dXf4g", "preferred_username": "ann", "name": "Ann Bench",
        "email": "ann@example.com", "email_verified": false,
        "orgs": [{ "id": 1, "name": "Default", "role": "Member", "abilities": abilities }],
    }))
    .expect("claims")
}

/// Mean µs per call of `f` over `n` calls.
fn time(n: usize, mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let key = SigningKey::generate().expect("key");
    let public: CoreJsonWebKey = serde_json::from_value(key.public_jwk().expect("jwk")).expect("a JWK");
    let keys: CoreJsonWebKeySet =
        serde_json::from_value(json!({ "keys": [key.public_jwk().expect("jwk")] })).expect("set");
    let access = AccessToken::new("Qm9vdHN0cmFwIGJlbmNoIGFjY2VzcyB0b2tlbiAzMiBi".into());
    let claims = claims();
    let sign_token = || RosterIdToken::new(claims.clone(), &key, RS256, Some(&access), None).expect("signed");

    let token = sign_token();
    let jwt = token.to_string();
    let (message, sig) = jwt.rsplit_once('.').expect("a JWT");
    let sig = base64_url(sig);
    let verifier = IdTokenVerifier::new_confidential_client(
        ClientId::new(CLIENT.into()),
        ClientSecret::new("unused: RS256".into()),
        IssuerUrl::new(ISSUER.into()).expect("issuer"),
        keys,
    );
    let nonce = Nonce::new("n-1".into());
    token.claims(&verifier, &nonce).expect("the token verifies");

    let names = [
        "ID token made and signed (IdToken::new, RS256)",
        "RSA 2048 signature alone (SigningKey::sign)",
        "signature verified with the public key",
        "relying party's whole check (IdTokenVerifier)",
    ];
    let counts = [200, 200, 4000, 4000];
    let mut totals = [0f64; 4];
    for _ in 0..runs {
        totals[0] += time(counts[0], || {
            black_box(sign_token());
        });
        totals[1] += time(counts[1], || {
            black_box(key.sign(&RS256, message.as_bytes()).expect("sign"));
        });
        totals[2] += time(counts[2], || {
            public.verify_signature(&RS256, black_box(message.as_bytes()), &sig).expect("verifies");
        });
        totals[3] += time(counts[3], || {
            let t: RosterIdToken = black_box(jwt.as_str()).parse().expect("a JWT");
            black_box(t.claims(&verifier, &nonce).expect("valid"));
        });
    }
    println!("ID token of {} bytes, {runs} rounds", jwt.len());
    println!("{:<50} {:>10} {:>12}", "one operation", "µs", "per core /s");
    for (name, total) in names.iter().zip(totals) {
        let us = total / runs as f64;
        println!("{name:<50} {us:>10.1} {:>12.0}", 1e6 / us);
    }
}

fn base64_url(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("base64url")
}
