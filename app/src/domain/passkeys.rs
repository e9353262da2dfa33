//! Passkeys (WebAuthn) as the browser sees them.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The first half of a WebAuthn ceremony: the options for `navigator.credentials` (JSON, as
/// `PublicKeyCredential.parse*OptionsFromJSON` expects under `publicKey`) and the opaque id
/// the browser sends back with the credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyChallenge {
    pub ceremony: String,
    pub options: String,
}
