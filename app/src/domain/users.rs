//! User types shared by the UI, server functions, the JSON API and the CLI.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum UserStatus {
    #[default]
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// A place on an account's own access lists (SlashDB's per-user view and edit lists): other
/// accounts that may see it, or see, change and delete it. Holders also need view-users or
/// manage-users in the organization they are working in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum AccountLevel {
    View,
    Edit,
}

impl AccountLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountLevel::View => "view",
            AccountLevel::Edit => "edit",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "view" => Some(AccountLevel::View),
            "edit" => Some(AccountLevel::Edit),
            _ => None,
        }
    }
}

/// Someone on an account's view or edit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountHolder {
    pub username: String,
    pub full_name: String,
    pub level: AccountLevel,
}

/// What an admin sees of an account. Never carries a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub status: UserStatus,
    pub super_admin: bool,
    pub two_factor: bool,
    /// Unix milliseconds, UTC.
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// The built-in account for anonymous visitors (never signs in, never deleted).
    #[serde(default)]
    pub public: bool,
}

/// Columns the users list can be sorted by.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    #[default]
    Username,
    FullName,
    Email,
    Status,
    TwoFactor,
    CreatedAt,
    LastSignInAt,
}

impl SortField {
    pub const ALL: [SortField; 7] = [
        SortField::Username,
        SortField::FullName,
        SortField::Email,
        SortField::Status,
        SortField::TwoFactor,
        SortField::CreatedAt,
        SortField::LastSignInAt,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Username => "username",
            SortField::FullName => "full_name",
            SortField::Email => "email",
            SortField::Status => "status",
            SortField::TwoFactor => "two_factor",
            SortField::CreatedAt => "created_at",
            SortField::LastSignInAt => "last_sign_in_at",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            SortField::Username => "Username",
            SortField::FullName => "Full name",
            SortField::Email => "Email",
            SortField::Status => "Status",
            SortField::TwoFactor => "2FA",
            SortField::CreatedAt => "Created",
            SortField::LastSignInAt => "Last sign-in",
        }
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

impl SortDir {
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "asc",
            SortDir::Desc => "desc",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "asc" => Some(SortDir::Asc),
            "desc" => Some(SortDir::Desc),
            _ => None,
        }
    }
    pub fn flip(self) -> Self {
        match self {
            SortDir::Asc => SortDir::Desc,
            SortDir::Desc => SortDir::Asc,
        }
    }
}

pub const DEFAULT_PAGE_SIZE: u32 = 25;
pub const MAX_PAGE_SIZE: u32 = 200;

/// A users-list request. Cursors are opaque strings produced by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserQuery {
    pub search: Option<String>,
    pub sort: SortField,
    pub dir: SortDir,
    /// Page after this cursor (the `next` of a previous page)...
    pub after: Option<String>,
    /// ...or before it (the `prev` of a previous page). At most one of the two.
    pub before: Option<String>,
    pub limit: Option<u32>,
    /// Only accounts whose password hash came from another system and is not argon2 yet.
    #[serde(default)]
    pub legacy_hash: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub users: Vec<User>,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<String>,
    /// Cursor for the previous page; `None` on the first page.
    pub prev: Option<String>,
    /// How many accounts (in all, not just this page) still have a password hash imported
    /// from another system; each becomes argon2id at the account's next sign-in.
    #[serde(default)]
    pub legacy_hashes: u64,
}

/// Input of "create user" (UI form, JSON API and CLI). Unknown fields are refused, so a
/// misspelt or invented field (say `rol`) is an error rather than silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub full_name: String,
    /// Optional (empty: none); unique when given.
    #[serde(default)]
    pub email: String,
    /// `None` creates an account with an unknown random password (service users).
    #[serde(default)]
    pub password: Option<String>,
    /// Instead of a password: a hash made by another system (sha512-crypt `$6$`, bcrypt,
    /// werkzeug pbkdf2/scrypt, Django pbkdf2_sha256, or argon2), replaced by argon2id at the
    /// account's first sign-in. Unknown and weak formats are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(default)]
    pub super_admin: bool,
    #[serde(default = "active")]
    pub status: UserStatus,
    /// The organization to place the account in, by name (default: the caller's current one).
    #[serde(default)]
    pub org: Option<String>,
    /// Its role there, by name (default: Admin for super admins, Viewer otherwise).
    #[serde(default)]
    pub role: Option<String>,
}

fn active() -> UserStatus {
    UserStatus::Active
}

/// Partial update of an account by an admin. `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserChanges {
    pub full_name: Option<String>,
    pub email: Option<String>,
    pub status: Option<UserStatus>,
    pub super_admin: Option<bool>,
    /// Admin password reset.
    pub password: Option<String>,
}

/// The signed-in account, as the UI needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub super_admin: bool,
    /// The organization the session is working in (None: the account belongs to none).
    pub org: Option<crate::domain::ids::OrgRef>,
    /// Every organization the account may switch to.
    pub orgs: Vec<crate::domain::ids::OrgRef>,
    /// What the account may do in `org` (all of it for super admins).
    pub abilities: crate::domain::abilities::AbilitySet,
    /// Two-factor authentication is required here and the account has none: only the
    /// profile is open until it is set up.
    #[serde(default)]
    pub needs_two_factor: bool,
}

impl Me {
    /// Whether to offer an action; the server decides again on every request.
    pub fn can(&self, a: crate::domain::abilities::Ability) -> bool {
        self.super_admin || self.abilities.contains(a)
    }
}

// The audit trail's types live in `domain::audit`; re-exported for existing users.
pub use super::audit::{AuditEntry, AuditPage};

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM UTC` (UI and CLI).
pub fn format_time(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => {
            format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
        }
        Err(_) => "-".to_string(),
    }
}
