//! Second factors: TOTP seeds (sealed) with their replay state, recovery codes (hashed),
//! passkeys, WebAuthn user handles and ceremonies in progress.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::UserId;

/// An account's TOTP seed (sealed) and replay state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub secret: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
}

/// A registered passkey; `passkey` is webauthn-rs's serialised credential (public key and
/// counter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub credential_id: Vec<u8>,
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

impl PasskeyRecord {
    pub fn to_info(&self) -> crate::domain::passkeys::PasskeyInfo {
        crate::domain::passkeys::PasskeyInfo {
            id: self.id,
            name: self.name.clone(),
            created_at: self.created_at,
            last_used_at: (self.last_used_at > 0).then_some(self.last_used_at),
        }
    }
}

/// The second factors an account has, as far as its 2FA flag is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorFacts {
    pub confirmed_totp: bool,
    pub passkey: bool,
}

/// A WebAuthn ceremony in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    pub purpose: String,
    pub user_id: Option<UserId>,
    /// The passkey name chosen at registration.
    pub label: String,
    pub state: String,
    pub created_at: i64,
}

/// Reads outside a write transaction.
#[async_trait]
pub trait SecondFactorStore {
    /// Whether TOTP is on, and how many recovery codes are left.
    async fn two_factor_of(&self, user: UserId) -> StoreResult<(bool, i64)>;
    async fn passkeys_of(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait SecondFactorTx: Send {
    async fn totp(&mut self, user: UserId) -> StoreResult<Option<TotpRecord>>;
    /// Stores a new, unconfirmed seed (replacing an unconfirmed one).
    async fn put_pending_totp(&mut self, user: UserId, sealed: &[u8], now: i64) -> StoreResult<()>;
    /// Confirms a pending seed at `step`; false if there is none pending.
    async fn confirm_totp(&mut self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Records `step` as used if it is newer than the last one used: false means the code
    /// (or a later one) was already accepted — a replay.
    async fn consume_totp_step(&mut self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Removes the seed and every recovery code.
    async fn delete_totp(&mut self, user: UserId) -> StoreResult<()>;
    async fn replace_recovery_codes(&mut self, user: UserId, hashes: &[Vec<u8>]) -> StoreResult<()>;
    /// Marks an unused code used; false if no such unused code.
    async fn use_recovery_code(&mut self, user: UserId, hash: &[u8], now: i64) -> StoreResult<bool>;
    async fn recovery_codes_left(&mut self, user: UserId) -> StoreResult<i64>;
    /// What decides whether the account has 2FA (see `Tx::refresh_two_factor`).
    async fn second_factor_facts(&mut self, user: UserId) -> StoreResult<SecondFactorFacts>;
    async fn passkeys_of(&mut self, user: UserId) -> StoreResult<Vec<PasskeyRecord>>;
    /// `Conflict { field: "passkey" }` if the credential is registered already (to anyone).
    async fn insert_passkey(
        &mut self,
        user: UserId,
        name: &str,
        credential_id: &[u8],
        passkey: &str,
        now: i64,
    ) -> StoreResult<i64>;
    async fn update_passkey(&mut self, id: i64, passkey: &str, now: i64) -> StoreResult<()>;
    async fn rename_passkey(&mut self, id: i64, name: &str) -> StoreResult<()>;
    async fn delete_passkey(&mut self, id: i64) -> StoreResult<()>;
    async fn webauthn_handle(&mut self, user: UserId) -> StoreResult<Option<Vec<u8>>>;
    async fn set_webauthn_handle(&mut self, user: UserId, handle: &[u8]) -> StoreResult<()>;
    async fn user_by_webauthn_handle(&mut self, handle: &[u8]) -> StoreResult<Option<UserId>>;
    /// Stores a ceremony, and deletes those begun before `expired_before` (never finished).
    async fn insert_ceremony(&mut self, id_hash: &[u8], c: &CeremonyRecord, expired_before: i64) -> StoreResult<()>;
    /// Removes and returns a ceremony (single-use).
    async fn take_ceremony(&mut self, id_hash: &[u8]) -> StoreResult<Option<CeremonyRecord>>;
}
