//! Roster as an OpenID provider (issue 13), so far its signing keys: the published key set
//! verifies what Roster signs, a rotation keeps the previous key published until its tokens
//! have expired, the private halves are sealed, and two instances make one first key.
use crate::common;

use app::backend::services::signing_keys::{self, RETIRED_KEPT_MS};
use common::TestApp;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, PrivateSigningKey};
use serde_json::Value;

const RS256: CoreJwsSigningAlgorithm = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;

async fn jwks(app: &TestApp) -> Vec<Value> {
    let r = reqwest::get(format!("{}/oauth/jwks", app.base)).await.expect("jwks");
    assert_eq!(r.status().as_u16(), 200);
    let h = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(h("content-type"), "application/jwk-set+json");
    assert_eq!(h("cache-control"), "public, max-age=300");
    let set: Value = r.json().await.expect("json");
    set["keys"].as_array().cloned().unwrap_or_default()
}

/// Whether the published key `kid` verifies `signature` over `message`.
fn verifies(keys: &[Value], kid: &str, message: &[u8], signature: &[u8]) -> bool {
    keys.iter()
        .filter(|k| k["kid"] == kid)
        .filter_map(|k| serde_json::from_value::<CoreJsonWebKey>(k.clone()).ok())
        .any(|k| k.verify_signature(&RS256, message, signature).is_ok())
}

#[tokio::test]
async fn the_published_keys_verify_what_roster_signs_through_a_rotation() {
    let app = TestApp::start().await;
    app.admin().await;
    let first = jwks(&app).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let k = &first[0];
    assert_eq!((k["kty"].as_str(), k["alg"].as_str(), k["use"].as_str()), (Some("RSA"), Some("RS256"), Some("sig")));
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(k.get(private).is_none(), "no private part is published: {k}");
    }
    let key = signing_keys::active(&app.backend).await.expect("active");
    assert_eq!(k["kid"], key.kid.as_str());
    let sig = key.sign(&RS256, b"header.claims").expect("sign");
    assert!(verifies(&first, &key.kid, b"header.claims", &sig));
    // Sealed at rest, bound to its key id: the stored bytes are not the key, and they do not
    // open as another key's.
    let stored = app.int_bytes_rows("SELECT id, private_key FROM signing_keys").await;
    assert_eq!(stored.len(), 1);
    let der = key_der(&app, &key.kid).await;
    assert!(!contains(&stored[0].1, &der[40..80]), "the private key is not stored in the clear");
    assert!(app.backend.secrets.open(&stored[0].1, "signing-key:another").is_err());

    // A rotation: the new key signs, the previous one is still published.
    let r = signing_keys::rotate(&app.backend, &app::backend::Ctx::cli()).await.expect("rotate");
    assert_eq!((r.retired, r.removed), (1, 0));
    let second = signing_keys::active(&app.backend).await.expect("active");
    assert_eq!(second.kid, r.kid);
    assert_ne!(second.kid, key.kid);
    let both = jwks(&app).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[0]["kid"], second.kid.as_str(), "the signing key first");
    let sig2 = second.sign(&RS256, b"later").expect("sign");
    assert!(verifies(&both, &second.kid, b"later", &sig2));
    assert!(verifies(&both, &key.kid, b"header.claims", &sig), "tokens signed before still verify");

    // Once every token the old key signed has expired, it is no longer published, and the
    // next rotation removes it.
    app.clock.advance_ms(RETIRED_KEPT_MS + 1);
    let later = jwks(&app).await;
    assert_eq!(later.iter().map(|k| k["kid"].clone()).collect::<Vec<_>>(), vec![Value::from(second.kid.as_str())]);
    let done = signing_keys::rotate(&app.backend, &app::backend::Ctx::cli()).await.expect("rotate");
    assert_eq!((done.retired, done.removed), (1, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM signing_keys").await, 2);
    let events = app.texts("SELECT event FROM audit_events WHERE event = 'oidc.key_rotated'").await;
    assert_eq!(events.len(), 2);
}

async fn key_der(app: &TestApp, kid: &str) -> Vec<u8> {
    let stored = app.int_bytes_rows(&format!("SELECT id, private_key FROM signing_keys WHERE kid = '{kid}'")).await;
    app.backend.secrets.open(&stored[0].1, &format!("signing-key:{kid}")).expect("opens")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn two_instances_asked_at_once_make_one_first_key() {
    let app = TestApp::start_with(app::backend::Config { secret_key: Some([9; 32]), ..Default::default() }).await;
    let other = app.second_instance().await;
    let (a, b) = tokio::join!(signing_keys::active(&app.backend), signing_keys::active(&other.backend));
    let (a, b) = (a.expect("first instance"), b.expect("second instance"));
    assert_eq!(a.kid, b.kid, "one key for both");
    assert_eq!(app.count("SELECT COUNT(*) FROM signing_keys").await, 1);
    assert_eq!(jwks(&other).await.len(), 1);
}

#[tokio::test]
async fn the_cli_rotates_and_lists_the_keys() {
    let app = TestApp::start().await;
    let db = app.db_url.clone();
    let (code, out, err) = common::roster(&db, &["oidc", "rotate-key"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("signs from now on") && out.contains("(0 retired"), "the first key: {out}");
    let (code, out, err) = common::roster(&db, &["oidc", "rotate-key"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(1 retired"), "{out}");
    let (code, listed, _) = common::roster(&db, &["oidc", "keys", "--json"]);
    assert_eq!(code, 0);
    let keys: Vec<Value> = listed.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    assert_eq!(keys.len(), 2, "{listed}");
    assert!(keys[0]["retired_at"].is_null() && keys[1]["retired_at"].is_i64(), "the signing key first: {listed}");
    assert!(!listed.contains("private"), "{listed}");
    let (code, text, _) = common::roster(&db, &["oidc", "keys"]);
    assert_eq!(code, 0);
    assert!(text.lines().next().is_some_and(|l| l.ends_with("signing")) && text.contains("retired"), "{text}");
}
