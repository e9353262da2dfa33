//! The keys Roster signs ID tokens with as an OpenID provider: RSA 2048 with RS256, the
//! algorithm every relying party must accept. Made and used through OpenSSL, whose private-key
//! operations are constant-time and blinded (the `rsa` crate's are not: RUSTSEC-2023-0071).
//! The openidconnect crate builds the tokens (claims, `at_hash`) and calls [`SigningKey`] to
//! sign them.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKeyId, PrivateSigningKey, SigningError};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;

/// The one algorithm keys are made for.
pub const ALG: &str = "RS256";

/// A private signing key and its id (`kid`, published in the key set and in each token's
/// header).
pub struct SigningKey {
    pub kid: String,
    key: PKey<Private>,
}

impl std::fmt::Debug for SigningKey {
    // (never the key itself)
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub struct KeyError(String);

impl From<openssl::error::ErrorStack> for KeyError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        KeyError(e.to_string())
    }
}

impl SigningKey {
    /// A new RSA 2048 key with a random id (a few tens of milliseconds of CPU).
    pub fn generate() -> Result<Self, KeyError> {
        let key = PKey::from_rsa(Rsa::generate(2048)?)?;
        let mut id = [0u8; 12];
        openssl::rand::rand_bytes(&mut id)?;
        Ok(SigningKey { kid: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id), key })
    }

    /// The key from its PKCS#8 DER (as stored, once unsealed).
    pub fn from_pkcs8(kid: &str, der: &[u8]) -> Result<Self, KeyError> {
        let key = PKey::private_key_from_pkcs8(der)?;
        if key.rsa().is_err() {
            return Err(KeyError("not an RSA key".into()));
        }
        Ok(SigningKey { kid: kid.to_string(), key })
    }

    /// PKCS#8 DER, to seal and store.
    pub fn to_pkcs8(&self) -> Result<Vec<u8>, KeyError> {
        Ok(self.key.private_key_to_pkcs8()?)
    }

    /// The public half as a JSON Web Key (`kty`, `use`, `kid`, `alg`, `n`, `e`).
    pub fn public_jwk(&self) -> Result<serde_json::Value, KeyError> {
        let rsa = self.key.rsa()?;
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        Ok(serde_json::json!({
            "kty": "RSA", "use": "sig", "alg": ALG, "kid": self.kid,
            "n": b64(rsa.n().to_vec()), "e": b64(rsa.e().to_vec()),
        }))
    }
}

impl PrivateSigningKey for SigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(&self, alg: &CoreJwsSigningAlgorithm, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        if *alg != CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256 {
            return Err(SigningError::UnsupportedAlg(format!("{alg:?}")));
        }
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).map_err(|_| SigningError::CryptoError)?;
        signer.update(message).map_err(|_| SigningError::CryptoError)?;
        signer.sign_to_vec().map_err(|_| SigningError::CryptoError)
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        let (n, e) = self.key.rsa().map(|r| (r.n().to_vec(), r.e().to_vec())).unwrap_or_default();
        CoreJsonWebKey::new_rsa(n, e, Some(JsonWebKeyId::new(self.kid.clone())))
    }
}

/// Private keys already unsealed and parsed, by `kid` (a key never changes once made, so
/// nothing here goes stale; a retired key is simply no longer asked for).
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Arc<SigningKey>>>);

impl KeyCache {
    pub fn get(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.0.lock().ok()?.get(kid).cloned()
    }

    pub fn put(&self, key: Arc<SigningKey>) {
        if let Ok(mut m) = self.0.lock() {
            // (a handful of keys over an instance's life; never more than a few at once)
            if m.len() > 16 {
                m.clear();
            }
            m.insert(key.kid.clone(), key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::core::CoreJsonWebKey;
    use openidconnect::JsonWebKey;

    #[test]
    fn a_key_signs_what_its_public_half_verifies_and_survives_storage() {
        let key = SigningKey::generate().expect("key");
        assert_eq!(key.kid.len(), 16);
        let sig = key.sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, b"header.claims").expect("sign");
        let public: CoreJsonWebKey = serde_json::from_value(key.public_jwk().expect("jwk")).expect("a JWK");
        public
            .verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, b"header.claims", &sig)
            .expect("verifies");
        assert!(public.verify_signature(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, b"other", &sig).is_err());
        let again = SigningKey::from_pkcs8(&key.kid, &key.to_pkcs8().expect("der")).expect("parsed");
        assert_eq!(again.public_jwk().expect("jwk"), key.public_jwk().expect("jwk"));
        assert!(key.sign(&CoreJwsSigningAlgorithm::HmacSha256, b"x").is_err(), "RS256 only");
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }
}
