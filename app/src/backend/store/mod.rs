//! Persistence behind a trait, so services never see SQL and a PostgreSQL implementation can
//! be added beside `sqlite` without touching them. Reads that need no consistency with a
//! write use `Store`; every use case that writes opens one `Tx`, reads its facts there,
//! writes, appends its audit event and commits — all or nothing.
pub mod sqlite;

use async_trait::async_trait;

use crate::domain::abilities::AbilitySet;
use crate::domain::access::{AccessModel, Grant, UserEntry};
use crate::domain::audit::{AuditEntry, AuditFilter, AuditSeek};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::users::{AccountHolder, AccountLevel, SortDir, SortField, User, UserStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was hit; `field` names the input that collided.
    #[error("{field} already exists")]
    Conflict { field: &'static str },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An account as stored. Only the store and the services see the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub super_admin: bool,
    pub two_factor: bool,
    pub created_at: i64,
    /// 0 = never signed in.
    pub last_sign_in_at: i64,
    /// The built-in account standing for anonymous visitors.
    pub public: bool,
}

impl UserRecord {
    pub fn to_user(&self) -> User {
        User {
            username: self.username.clone(),
            full_name: self.full_name.clone(),
            email: self.email.clone(),
            status: self.status,
            super_admin: self.super_admin,
            two_factor: self.two_factor,
            created_at: self.created_at,
            last_sign_in_at: (self.last_sign_in_at > 0).then_some(self.last_sign_in_at),
            public: self.public,
        }
    }
}

/// A new account; the password is already hashed.
#[derive(Debug, Clone)]
pub struct UserInsert {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub super_admin: bool,
    pub created_at: i64,
}

/// The value of the sort column at a page boundary, plus the id that breaks ties.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum KeyValue {
    Int(i64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    pub value: KeyValue,
    pub id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seek {
    First,
    After(PageKey),
    Before(PageKey),
}

#[derive(Debug, Clone)]
pub struct UserListQuery {
    /// Lower-cased substring matched against username, full name and email.
    pub search: Option<String>,
    pub sort: SortField,
    pub dir: SortDir,
    pub seek: Seek,
    /// Rows to fetch (the service asks for one more than a page to know if more exist).
    pub limit: u32,
}

impl UserRecord {
    /// The keyset value of this row for a sort column (lower-cased keys, like the indexes).
    pub fn page_key(&self, sort: SortField) -> PageKey {
        let value = match sort {
            SortField::Username => KeyValue::Text(self.username.to_ascii_lowercase()),
            SortField::FullName => KeyValue::Text(self.full_name.to_lowercase()),
            SortField::Email => KeyValue::Text(self.email.to_lowercase()),
            SortField::Status => KeyValue::Text(self.status.as_str().to_string()),
            SortField::TwoFactor => KeyValue::Int(self.two_factor as i64),
            SortField::CreatedAt => KeyValue::Int(self.created_at),
            SortField::LastSignInAt => KeyValue::Int(self.last_sign_in_at),
        };
        PageKey { value, id: self.id.0 }
    }
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Last sign-in or re-authentication (sudo mode).
    pub auth_at: i64,
    /// Whether the session's organization or the instance requires 2FA (read with the
    /// session: no second query on every request).
    pub requires_2fa: bool,
}

/// An account's TOTP seed (sealed) and replay state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    pub secret: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
}

/// A stored API key or personal access token (its hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub kind: crate::domain::tokens::TokenKind,
    pub prefix: String,
    pub abilities: Option<AbilitySet>,
    pub created_at: i64,
    /// 0: never / not yet.
    pub expires_at: i64,
    pub last_used_at: i64,
    pub revoked_at: i64,
}

impl TokenRecord {
    pub fn to_info(&self) -> crate::domain::tokens::TokenInfo {
        let some = |t: i64| (t > 0).then_some(t);
        crate::domain::tokens::TokenInfo {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind,
            prefix: self.prefix.clone(),
            abilities: self.abilities,
            created_at: self.created_at,
            expires_at: some(self.expires_at),
            last_used_at: some(self.last_used_at),
            revoked_at: some(self.revoked_at),
        }
    }
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

/// A single sign-on provider as stored; `client_secret` is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsoProviderRecord {
    /// 0 for a provider not yet stored (ignored when saving: the slug identifies it).
    pub id: i64,
    pub slug: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<Vec<u8>>,
    pub scopes: String,
    pub username_claim: String,
    pub email_claim: String,
    pub name_claim: String,
    pub auto_create: bool,
    pub org_id: Option<OrgId>,
    pub role_id: Option<RoleId>,
    pub allowed_domains: String,
    pub enabled: bool,
    pub created_at: i64,
}

/// An account linked to a provider identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoLinkRecord {
    pub id: i64,
    pub provider_id: i64,
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
    pub email: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// An authorization request in flight (see migration 0007).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoFlowRecord {
    pub state_hash: Vec<u8>,
    pub browser_hash: Vec<u8>,
    pub provider_id: i64,
    pub link_user_id: Option<UserId>,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewTokenRecord<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub kind: crate::domain::tokens::TokenKind,
    pub prefix: &'a str,
    pub token_hash: &'a [u8],
    pub abilities: Option<AbilitySet>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: UserId,
    pub org_id: OrgId,
    pub now: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub id: RoleId,
    pub name: String,
    pub abilities: AbilitySet,
    /// Memberships (in any organization) that hold this role; counted by `list_roles` and
    /// `role_members` only (0 elsewhere).
    pub members: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: OrgId,
    pub name: String,
    pub members: i64,
    /// Members must have two-factor authentication.
    pub require_2fa: bool,
}

/// A member of an organization with their role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub user: UserRecord,
    pub role: RoleId,
    pub role_name: String,
    pub extras: AbilitySet,
    /// How many organizations the account belongs to.
    pub org_count: i64,
}

/// One organization an account belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub org: OrgId,
    pub org_name: String,
    pub role: RoleId,
    pub role_name: String,
    pub extras: AbilitySet,
}

/// What the access model holds of one account.
#[derive(Debug, Clone)]
pub struct UserAccess {
    pub entry: UserEntry,
    pub public: bool,
    pub grants: Vec<(OrgId, Grant)>,
}

/// One audit event. `before`/`after` are JSON documents that never contain a secret.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub at: i64,
    pub actor_id: Option<UserId>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub org_id: Option<OrgId>,
    pub event: &'static str,
    pub success: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A number that changes after every write transaction this process commits: what was
    /// read before it changed may be stale (the in-memory session and token look-ups).
    fn write_generation(&self) -> u64;
    async fn user_count(&self) -> StoreResult<i64>;
    async fn list_users(&self, q: &UserListQuery) -> StoreResult<Vec<UserRecord>>;
    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>>;
    /// By username or by email (both lower-cased): sign-in accepts either.
    async fn user_by_login(&self, key: &str) -> StoreResult<Option<UserRecord>>;
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>>;
    async fn touch_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()>;
    /// Ends sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64>;
    /// Up to `limit` events matching `filter`, in (time, id) order walking away from the
    /// cursor: newest first for `Newest`/`Before`, oldest first for `After` (the caller
    /// reverses). One query, answered from one index per filter (migration 0005).
    async fn list_audit(&self, filter: &AuditFilter, seek: AuditSeek, limit: u32) -> StoreResult<Vec<AuditEntry>>;
    /// The counter every access-changing transaction bumps.
    async fn access_version(&self) -> StoreResult<i64>;
    /// A token by the SHA-256 of its text, with its owner.
    async fn token_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>>;
    async fn touch_token(&self, id: i64, now: i64) -> StoreResult<()>;
    /// An account's tokens, newest first.
    async fn tokens_of(&self, user: UserId) -> StoreResult<Vec<TokenRecord>>;
    /// Whether TOTP is on, and how many recovery codes are left.
    async fn two_factor_of(&self, user: UserId) -> StoreResult<(bool, i64)>;
    /// Whether the organization requires two-factor authentication of its members, and
    /// whether the instance does.
    async fn two_factor_required(&self, org: OrgId) -> StoreResult<(bool, bool)>;
    async fn passkeys_of(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>>;
    /// An account's picture (PNG) and when it was set.
    async fn avatar(&self, user: UserId) -> StoreResult<Option<(Vec<u8>, i64)>>;
    /// Every single sign-on provider, by display name.
    async fn sso_providers(&self) -> StoreResult<Vec<SsoProviderRecord>>;
    async fn sso_links_of(&self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>>;
    /// Whether the whole instance requires two-factor authentication.
    async fn instance_requires_2fa(&self) -> StoreResult<bool>;
    /// (consecutive failures, next allowed time) of a throttle key.
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<(i64, i64)>>;
    /// The whole access model, with the version it was read at (one read transaction).
    async fn load_access(&self) -> StoreResult<(i64, AccessModel)>;
    /// One account's part of the access model; `None` once it is deleted.
    async fn load_user_access(&self, user: UserId) -> StoreResult<Option<UserAccess>>;
    /// Every role with its holder count (the role matrix).
    async fn list_roles(&self) -> StoreResult<Vec<RoleRecord>>;
    /// One role without counting holders (the access model).
    async fn load_role(&self, id: RoleId) -> StoreResult<Option<RoleRecord>>;
    async fn role_members(&self, id: RoleId) -> StoreResult<i64>;
    async fn list_orgs(&self) -> StoreResult<Vec<OrgRecord>>;
    /// Members of `org` in username order, after `after` (a username key), optionally
    /// filtered by a lower-cased substring of username, name or email.
    async fn list_members(
        &self,
        org: OrgId,
        search: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MemberRecord>>;
    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<MembershipRecord>>;
    /// `holder`'s place on `target`'s view/edit lists.
    async fn account_level(&self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>>;
    /// Everyone on `target`'s view/edit lists, by username.
    async fn account_holders(&self, target: UserId) -> StoreResult<Vec<AccountHolder>>;
    /// Accounts whose view/edit lists hold `holder`, matching `search` (lower-case substring
    /// of username, name or email), by username, at most `limit`.
    async fn accounts_listing(&self, holder: UserId, search: &str, limit: u32) -> StoreResult<Vec<UserRecord>>;
}

#[async_trait]
pub trait Tx: Send {
    async fn commit(self: Box<Self>) -> StoreResult<()>;
    async fn user_count(&mut self) -> StoreResult<i64>;
    async fn user_by_username(&mut self, username_key: &str) -> StoreResult<Option<UserRecord>>;
    async fn active_super_admins(&mut self) -> StoreResult<i64>;
    async fn insert_user(&mut self, u: &UserInsert) -> StoreResult<UserId>;
    /// Writes name, email, status and the super admin flag.
    async fn update_user(&mut self, u: &UserRecord, now: i64) -> StoreResult<()>;
    async fn set_password_hash(&mut self, id: UserId, hash: Option<&str>, now: i64) -> StoreResult<()>;
    async fn delete_user(&mut self, id: UserId) -> StoreResult<()>;
    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<UserRecord>>;
    async fn memberships(&mut self, user: UserId) -> StoreResult<Vec<OrgId>>;
    /// Adds a membership; `Conflict { field: "member" }` if the account already belongs.
    async fn add_membership(&mut self, org: OrgId, user: UserId, role: RoleId, now: i64) -> StoreResult<()>;
    /// The member's role and extra abilities in `org`, if a member.
    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Grant>>;
    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: RoleId) -> StoreResult<()>;
    async fn set_member_extras(&mut self, org: OrgId, user: UserId, extras: AbilitySet) -> StoreResult<()>;
    async fn remove_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<()>;
    /// Super admin flag (of an active account) and every ability held in `org` through the
    /// account's role and extras and the public account's. `None`: no such active account.
    async fn actor_facts(&mut self, user: UserId, org: OrgId) -> StoreResult<Option<(bool, AbilitySet)>>;
    async fn bump_access_version(&mut self) -> StoreResult<i64>;
    /// A role (its `members` are not counted here).
    async fn role(&mut self, id: RoleId) -> StoreResult<Option<RoleRecord>>;
    async fn role_by_name(&mut self, name_key: &str) -> StoreResult<Option<RoleRecord>>;
    async fn insert_role(&mut self, name: &str, now: i64) -> StoreResult<RoleId>;
    async fn rename_role(&mut self, id: RoleId, name: &str) -> StoreResult<()>;
    async fn set_role_abilities(&mut self, id: RoleId, abilities: AbilitySet) -> StoreResult<()>;
    async fn role_in_use(&mut self, id: RoleId) -> StoreResult<bool>;
    /// Moves every membership holding `from` to `to`; returns how many moved.
    async fn reassign_role(&mut self, from: RoleId, to: RoleId) -> StoreResult<u64>;
    async fn delete_role(&mut self, id: RoleId) -> StoreResult<()>;
    /// An organization (its `members` are not counted here: see `org_member_count`).
    async fn org(&mut self, id: OrgId) -> StoreResult<Option<OrgRecord>>;
    async fn org_member_count(&mut self, id: OrgId) -> StoreResult<i64>;
    async fn org_by_name(&mut self, name_key: &str) -> StoreResult<Option<OrgRecord>>;
    async fn insert_org(&mut self, name: &str, now: i64) -> StoreResult<OrgId>;
    async fn rename_org(&mut self, id: OrgId, name: &str) -> StoreResult<()>;
    /// Deletes the organization and its memberships; sessions in it move to `fallback`.
    async fn delete_org(&mut self, id: OrgId, fallback: OrgId) -> StoreResult<()>;
    async fn set_session_org(&mut self, token_hash: &[u8], org: OrgId) -> StoreResult<()>;
    async fn account_level(&mut self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>>;
    /// Puts `holder` on `target`'s list at `level`, or takes it off (`None`).
    async fn set_account_level(
        &mut self,
        target: UserId,
        holder: UserId,
        level: Option<AccountLevel>,
    ) -> StoreResult<()>;
    async fn insert_session(&mut self, s: &NewSession<'_>) -> StoreResult<()>;
    async fn delete_session(&mut self, token_hash: &[u8]) -> StoreResult<()>;
    async fn delete_sessions_of(&mut self, user: UserId, except: Option<&[u8]>) -> StoreResult<u64>;
    async fn record_sign_in(&mut self, user: UserId, now: i64) -> StoreResult<()>;
    /// Claims one sign-in attempt for `key`: counts it as a failure up front (cleared on
    /// success) and returns false, without counting, while the key must still wait.
    async fn throttle_claim(&mut self, key: &str, now: i64) -> StoreResult<bool>;
    async fn throttle_clear(&mut self, key: &str) -> StoreResult<()>;
    async fn insert_audit(&mut self, e: &AuditRecord) -> StoreResult<()>;
    async fn set_session_auth(&mut self, token_hash: &[u8], now: i64) -> StoreResult<()>;
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
    async fn insert_challenge(&mut self, token_hash: &[u8], user: UserId, now: i64) -> StoreResult<()>;
    /// The account and creation time of a second-factor challenge.
    async fn challenge(&mut self, token_hash: &[u8]) -> StoreResult<Option<(UserId, i64)>>;
    /// Ends a challenge; false if it was already gone (used by a concurrent request).
    async fn delete_challenge(&mut self, token_hash: &[u8]) -> StoreResult<bool>;
    async fn insert_token(&mut self, t: &NewTokenRecord<'_>) -> StoreResult<i64>;
    async fn token(&mut self, id: i64) -> StoreResult<Option<TokenRecord>>;
    async fn revoke_token(&mut self, id: i64, now: i64) -> StoreResult<bool>;
    async fn set_org_two_factor(&mut self, org: OrgId, required: bool) -> StoreResult<()>;
    async fn set_setting(&mut self, key: &str, value: &str) -> StoreResult<()>;
    /// Sets the account's 2FA flag from what it has: a confirmed TOTP seed or a passkey.
    async fn refresh_two_factor(&mut self, user: UserId) -> StoreResult<bool>;
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
    async fn insert_ceremony(&mut self, id_hash: &[u8], c: &CeremonyRecord) -> StoreResult<()>;
    /// Removes and returns a ceremony (single-use).
    async fn take_ceremony(&mut self, id_hash: &[u8]) -> StoreResult<Option<CeremonyRecord>>;
    /// Sets (`Some`) or removes an account's picture; whether one existed before.
    async fn set_avatar(&mut self, user: UserId, png: Option<&[u8]>, now: i64) -> StoreResult<bool>;
    async fn sso_provider(&mut self, slug: &str) -> StoreResult<Option<SsoProviderRecord>>;
    async fn sso_provider_by_id(&mut self, id: i64) -> StoreResult<Option<SsoProviderRecord>>;
    /// Inserts or updates (by slug) a provider; an update with no secret keeps the stored one.
    /// The service decides which of the two it means.
    async fn save_sso_provider(&mut self, p: &SsoProviderRecord) -> StoreResult<i64>;
    async fn delete_sso_provider(&mut self, id: i64) -> StoreResult<()>;
    /// Stores a flow, dropping flows started before `purge_before`.
    async fn insert_sso_flow(&mut self, f: &SsoFlowRecord, purge_before: i64) -> StoreResult<()>;
    /// Removes and returns a flow (single-use).
    async fn take_sso_flow(&mut self, state_hash: &[u8]) -> StoreResult<Option<SsoFlowRecord>>;
    async fn sso_link(&mut self, issuer: &str, subject: &str) -> StoreResult<Option<SsoLinkRecord>>;
    async fn sso_links_of(&mut self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>>;
    /// `Conflict { field: "sso_link" }` when the identity or the (provider, account) pair is
    /// linked already.
    async fn insert_sso_link(&mut self, l: &SsoLinkRecord) -> StoreResult<i64>;
    async fn touch_sso_link(&mut self, id: i64, now: i64) -> StoreResult<()>;
    async fn delete_sso_link(&mut self, id: i64) -> StoreResult<()>;
}
