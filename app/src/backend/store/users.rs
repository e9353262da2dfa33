//! Accounts: the stored record (with its password hash, which only the store and the
//! services see), new accounts, and the keyset-paged list of accounts.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::UserId;
use crate::domain::users::{SortDir, SortField, User, UserStatus};

/// An account as stored. Only the store and the services see the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// Only accounts whose password hash came from another system (not yet argon2).
    pub legacy_hash: bool,
}

impl UserRecord {
    /// The keyset value of this row for a sort column (lower-cased keys, like the indexes).
    pub fn page_key(&self, sort: SortField) -> PageKey {
        let value = match sort {
            SortField::Username => KeyValue::Text(self.username.to_ascii_lowercase()),
            SortField::FullName => KeyValue::Text(self.full_name.to_lowercase()),
            SortField::Email => KeyValue::Text(crate::domain::validate::stored_email_key(&self.email, &self.username)),
            SortField::Status => KeyValue::Text(self.status.as_str().to_string()),
            SortField::TwoFactor => KeyValue::Int(self.two_factor as i64),
            SortField::CreatedAt => KeyValue::Int(self.created_at),
            SortField::LastSignInAt => KeyValue::Int(self.last_sign_in_at),
        };
        PageKey { value, id: self.id.0 }
    }
}

/// Reads outside a write transaction.
#[async_trait]
pub trait UserStore {
    async fn user_count(&self) -> StoreResult<i64>;
    async fn list_users(&self, q: &UserListQuery) -> StoreResult<Vec<UserRecord>>;
    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>>;
    /// An account by id (the OpenID provider's userinfo: its grants name accounts by id).
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<UserRecord>>;
    /// By username or by email (both lower-cased): sign-in accepts either.
    async fn user_by_login(&self, key: &str) -> StoreResult<Option<UserRecord>>;
    /// Accounts whose password hash is not argon2 yet (imported from another system).
    async fn legacy_hash_count(&self) -> StoreResult<i64>;
    /// Accounts (the public one included) in id order after `after`: exports page by id so
    /// that each page's lists and mappings are read by one id range.
    async fn users_after_id(&self, after: i64, limit: u32) -> StoreResult<Vec<UserRecord>>;
}

/// Inside a write transaction.
#[async_trait]
pub trait UserTx: Send {
    async fn user_count(&mut self) -> StoreResult<i64>;
    /// Marks the instance as past its first sign-up; `false` when it already was (the
    /// unique row decides, whatever else raced).
    async fn claim_first_sign_up(&mut self) -> StoreResult<bool>;
    async fn user_by_username(&mut self, username_key: &str) -> StoreResult<Option<UserRecord>>;
    async fn active_super_admins(&mut self) -> StoreResult<i64>;
    async fn insert_user(&mut self, u: &UserInsert) -> StoreResult<UserId>;
    /// Many new accounts in a few statements (imports); their ids in the order given.
    /// `Conflict` (and nothing written) if any name or email is taken.
    async fn insert_users(&mut self, users: &[UserInsert]) -> StoreResult<Vec<UserId>>;
    /// The accounts whose username key or email key is one of `keys` (lower-cased), each
    /// once, in no particular order: an import's look-ups for a batch of rows.
    async fn users_by_keys(&mut self, keys: &[String]) -> StoreResult<Vec<UserRecord>>;
    /// Writes name, email, status and the super admin flag.
    async fn update_user(&mut self, u: &UserRecord, now: i64) -> StoreResult<()>;
    async fn set_password_hash(&mut self, id: UserId, hash: Option<&str>, now: i64) -> StoreResult<()>;
    /// Replaces the hash only if it is still `old` (a compare-and-swap: a password changed
    /// meanwhile is never overwritten); `false` when it was not. Not a change of the
    /// account, so `updated_at` stays.
    async fn swap_password_hash(&mut self, id: UserId, old: &str, new: &str) -> StoreResult<bool>;
    async fn delete_user(&mut self, id: UserId) -> StoreResult<()>;
    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<UserRecord>>;
    /// Writes the account's 2FA flag (decided by `Tx::refresh_two_factor`).
    async fn set_two_factor(&mut self, user: UserId, on: bool) -> StoreResult<()>;
    async fn record_sign_in(&mut self, user: UserId, now: i64) -> StoreResult<()>;
}
