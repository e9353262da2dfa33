//! Secrets at rest (TOTP seeds today, database credentials later): XChaCha20-Poly1305 with a
//! random 192-bit nonce per value and associated data that binds each ciphertext to its row
//! (e.g. `totp:42`), so a value copied onto another account fails to decrypt. The key comes
//! from the environment or a key file outside the database, so a stolen database file alone
//! reveals no secret.
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the secret key must be 32 bytes, base64-encoded")]
    BadKey,
    /// Wrong key, wrong row, or tampered data: never tells which.
    #[error("a stored secret could not be decrypted (wrong key or tampered data)")]
    Decrypt,
}

#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// The key secrets were sealed with before a rotation (`ROSTER_SECRET_KEY_PREVIOUS`):
    /// still opens, never seals, until `roster secrets rotate` has re-sealed everything.
    previous: Option<XChaCha20Poly1305>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: XChaCha20Poly1305::new(key.into()), previous: None }
    }

    /// This box, also opening what `previous` sealed (during a key rotation).
    pub fn with_previous(mut self, previous: &[u8; 32]) -> Self {
        self.previous = Some(XChaCha20Poly1305::new(previous.into()));
        self
    }

    /// Whether a previous key is configured (a rotation is under way).
    pub fn has_previous(&self) -> bool {
        self.previous.is_some()
    }

    /// A box with a fresh random key: for tests and for processes that never read secrets
    /// written by another process.
    pub fn random() -> Self {
        Self::new(&new_key())
    }

    /// From the base64 text of a key file or `ROSTER_SECRET_KEY`.
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| CryptoError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self::new(&key))
    }

    /// nonce || ciphertext+tag
    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let payload = Payload { msg: plaintext, aad: aad.as_bytes() };
        // Encryption with a valid key and nonce cannot fail for inputs of this size.
        let ct = self.cipher.encrypt(XNonce::from_slice(&nonce), payload).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &str) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Decrypt);
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let with =
            |c: &XChaCha20Poly1305| c.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() });
        with(&self.cipher)
            .or_else(|e| self.previous.as_ref().map(with).unwrap_or(Err(e)))
            .map_err(|_| CryptoError::Decrypt)
    }
}

/// Signs what the server hands a page through its URL (the outcome of a form posted before
/// the WASM arrived), so a page shows only messages this server wrote: a crafted link cannot
/// put its own words on our pages (content spoofing). HMAC-SHA-256 under a key derived from
/// the instance key (every instance agrees), or a random one without it.
pub struct Signer {
    key: [u8; 32],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn from_instance_key(instance: &[u8; 32]) -> Self {
        let derived = hmac_sha256(instance, b"roster form outcomes v1");
        Self { key: derived }
    }

    pub fn random() -> Self {
        Self { key: new_key() }
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.key, msg)
    }

    /// Constant-time comparison of the tag.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> bool {
        use hmac::Mac;
        let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&self.key) else { return false };
        mac.update(msg);
        mac.verify_slice(tag).is_ok()
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    // (HMAC takes keys of any length: the error case does not happen)
    let Ok(mut mac) = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key) else { return [0u8; 32] };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

pub fn new_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut k);
    k
}

pub fn key_to_base64(key: &[u8; 32]) -> String {
    base64::engine::general_purpose::STANDARD.encode(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_their_message_and_key() {
        let a = Signer::from_instance_key(&[7u8; 32]);
        let b = Signer::from_instance_key(&[7u8; 32]);
        let other = Signer::from_instance_key(&[8u8; 32]);
        let tag = a.sign(b"sign_in\nerror");
        assert!(b.verify(b"sign_in\nerror", &tag), "instances with one key agree");
        assert!(!a.verify(b"sign_in\nerrors", &tag));
        assert!(!other.verify(b"sign_in\nerror", &tag));
        assert!(!a.verify(b"sign_in\nerror", &tag[..31]));
    }

    #[test]
    fn round_trip_and_tamper() {
        let b = SecretBox::random();
        let sealed = b.seal(b"seed bytes", "totp:1");
        assert_eq!(b.open(&sealed, "totp:1").as_deref(), Ok(&b"seed bytes"[..]));
        // Same plaintext, different nonce each time.
        assert_ne!(sealed, b.seal(b"seed bytes", "totp:1"));
        // Bound to its row.
        assert_eq!(b.open(&sealed, "totp:2"), Err(CryptoError::Decrypt));
        // Any flipped bit is caught.
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert_eq!(b.open(&t, "totp:1"), Err(CryptoError::Decrypt), "bit flip at {i}");
        }
        // Another key.
        assert_eq!(SecretBox::random().open(&sealed, "totp:1"), Err(CryptoError::Decrypt));
        assert_eq!(b.open(&sealed[..10], "totp:1"), Err(CryptoError::Decrypt));
    }

    #[test]
    fn a_previous_key_opens_but_never_seals() {
        let (old, new) = (new_key(), new_key());
        let sealed_before = SecretBox::new(&old).seal(b"seed", "totp:1");
        let rotating = SecretBox::new(&new).with_previous(&old);
        assert_eq!(rotating.open(&sealed_before, "totp:1").as_deref(), Ok(&b"seed"[..]));
        assert_eq!(rotating.open(&sealed_before, "totp:2"), Err(CryptoError::Decrypt), "still bound to its row");
        let sealed_now = rotating.seal(b"seed", "totp:1");
        assert_eq!(SecretBox::new(&new).open(&sealed_now, "totp:1").as_deref(), Ok(&b"seed"[..]));
        assert_eq!(SecretBox::new(&old).open(&sealed_now, "totp:1"), Err(CryptoError::Decrypt));
        assert!(rotating.has_previous() && !SecretBox::new(&new).has_previous());
    }

    #[test]
    fn key_text() {
        let k = new_key();
        let b = SecretBox::from_base64(&format!("{}\n", key_to_base64(&k))).expect("valid key");
        let sealed = SecretBox::new(&k).seal(b"x", "a");
        assert_eq!(b.open(&sealed, "a").as_deref(), Ok(&b"x"[..]));
        assert_eq!(SecretBox::from_base64("c2hvcnQ=").err(), Some(CryptoError::BadKey));
        assert_eq!(SecretBox::from_base64("not base64!").err(), Some(CryptoError::BadKey));
    }
}
