//! Password hashing with argon2id (m=19456 KiB, t=2, p=1, the OWASP baseline), always off the
//! async runtime and with bounded concurrency so a burst of sign-ins cannot exhaust memory
//! (19 MiB each) or starve the runtime. Unknown accounts are verified against a dummy hash so
//! they take as long as known ones.
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use super::cpu::CpuQueue;

use super::internal;
use super::legacy_hash::{self, Scheme};
use crate::domain::error::{Error, FieldError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Argon2<'static> {
    // Params::new only fails for out-of-range values; these are the documented defaults.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The answer of `Hasher::check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub ok: bool,
    /// The legacy format the password matched: its hash should now become argon2id.
    pub rehash: Option<Scheme>,
}

#[derive(Clone)]
pub struct Hasher {
    cpu: CpuQueue,
    dummy: Arc<OnceLock<String>>,
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new(CpuQueue::default())
    }
}

impl Hasher {
    /// Hashing runs in `cpu`, the queue shared with other CPU-heavy work.
    pub fn new(cpu: CpuQueue) -> Self {
        Self { cpu, dummy: Arc::new(OnceLock::new()) }
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        self.cpu.run(f).await
    }

    /// Hashes an already normalised password.
    pub async fn hash(&self, password: String) -> Result<String, Error> {
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await?
        .map_err(internal)
    }

    /// Verifies an already normalised password against `hash` (argon2 or a legacy format),
    /// or against a dummy hash when there is none, so that unknown accounts and accounts
    /// without a password cost the same time as a wrong password.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Error> {
        Ok(self.check(&password, hash).await?.ok)
    }

    /// Verifies a password as typed against `hash`. Argon2 hashes are checked with the
    /// normalised password (as they were made); legacy hashes with the password as typed
    /// (as their systems made them), then normalised if that differs. `rehash` names the
    /// legacy format when the password matched one, so the caller can replace it.
    pub async fn check(&self, typed: &str, hash: Option<String>) -> Result<Checked, Error> {
        let known = hash.is_some();
        let hash = match hash {
            Some(h) => h,
            None => self.dummy_hash().await?,
        };
        let typed = typed.to_string();
        let (ok, scheme) = self
            .blocking(move || {
                let normalised = crate::domain::validate::normalize_password(&typed);
                match legacy_hash::parse(&hash) {
                    Ok(Scheme::Argon2) => (
                        PasswordHash::new(&hash)
                            .is_ok_and(|parsed| argon2().verify_password(normalised.as_bytes(), &parsed).is_ok()),
                        Scheme::Argon2,
                    ),
                    Ok(legacy) => (
                        legacy_hash::verify(&typed, &hash)
                            || (normalised != typed && legacy_hash::verify(&normalised, &hash)),
                        legacy,
                    ),
                    Err(_) => (false, Scheme::Argon2),
                }
            })
            .await?;
        let ok = ok && known;
        Ok(Checked { ok, rehash: (ok && scheme.is_legacy()).then_some(scheme) })
    }

    async fn dummy_hash(&self) -> Result<String, Error> {
        if let Some(h) = self.dummy.get() {
            return Ok(h.clone());
        }
        let h = self.hash("roster-dummy-password-for-timing".to_string()).await?;
        Ok(self.dummy.get_or_init(|| h).clone())
    }

    /// Computes the dummy hash ahead of the first sign-in.
    pub async fn warm_up(&self) -> Result<(), Error> {
        self.dummy_hash().await.map(|_| ())
    }
}

static COMMON: OnceLock<HashSet<&'static str>> = OnceLock::new();

/// The bundled list of common passwords (lower-cased).
pub fn is_common(password: &str) -> bool {
    let set = COMMON.get_or_init(|| include_str!("../../data/common-passwords.txt").lines().collect());
    set.contains(password.to_lowercase().as_str())
}

/// The whole password check for a new password: policy (length, bytes, optional complexity,
/// context words) and the common-password list. Returns the normalised password.
pub fn check_new(
    policy: &crate::domain::validate::PasswordPolicy,
    field: &str,
    raw: &str,
    context: &[&str],
) -> Result<String, FieldError> {
    let pw = policy.check(field, raw, context)?;
    if is_common(&pw) {
        return Err(FieldError::new(field, "This password is too common. Choose a less predictable one."));
    }
    Ok(pw)
}

/// A random password nobody knows (CLI `--use-random-password`, copies without a password).
pub fn random_password() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let h = Hasher::default();
        let a = h.hash("correct horse battery".into()).await.unwrap();
        let b = h.hash("correct horse battery".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "same password must give different hashes");
        assert!(h.verify("correct horse battery".into(), Some(a.clone())).await.unwrap());
        assert!(!h.verify("correct horse batterY".into(), Some(a)).await.unwrap());
        // No hash (unknown account): always false, even for the dummy's own password.
        assert!(!h.verify("roster-dummy-password-for-timing".into(), None).await.unwrap());
        assert!(!h.verify("x".into(), Some("not a phc string".into())).await.unwrap());
    }

    #[tokio::test]
    async fn legacy_hashes_verify_and_ask_for_a_rehash() {
        let h = Hasher::default();
        let legacy =
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1";
        let c = h.check("Hello world!", Some(legacy.into())).await.unwrap();
        assert_eq!(c, Checked { ok: true, rehash: Some(Scheme::Sha512Crypt) });
        let c = h.check("Hello world", Some(legacy.into())).await.unwrap();
        assert_eq!(c, Checked { ok: false, rehash: None }, "a wrong password never re-hashes");
        let own = h.hash("correct horse battery".into()).await.unwrap();
        let c = h.check("correct horse battery", Some(own)).await.unwrap();
        assert_eq!(c, Checked { ok: true, rehash: None });
        // Argon2 hashes were made from the normalised password: a full-width variant matches.
        let own = h.hash(crate::domain::validate::normalize_password("ｐａｓｓ word 42")).await.unwrap();
        assert!(h.check("ｐａｓｓ word 42", Some(own)).await.unwrap().ok);
    }

    #[test]
    fn common_passwords_are_refused() {
        assert!(is_common("password"));
        assert!(is_common("PassWord"));
        assert!(!is_common("a rather unusual sentence"));
        let policy = crate::domain::validate::PasswordPolicy { min_length: 8, ..Default::default() };
        let e = check_new(&policy, "password", "password1", &[]).unwrap_err();
        assert!(e.message.contains("too common"));
        assert!(check_new(&policy, "password", "tangerine-orbit-42", &[]).is_ok());
    }
}
