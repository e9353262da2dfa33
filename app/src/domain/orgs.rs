//! Organizations and their members as the UI and the API show them.
use serde::{Deserialize, Serialize};

use super::abilities::AbilitySet;
use super::users::UserStatus;

// Defined beside the ids so `users` (an account's organizations) need not import this module,
// which imports `users` for member rows.
pub use super::ids::OrgRef;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Org {
    pub id: i64,
    pub name: String,
    pub members: i64,
    /// Members must have two-factor authentication.
    #[serde(default)]
    pub require_2fa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Member {
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub status: UserStatus,
    pub super_admin: bool,
    pub public: bool,
    pub role: String,
    pub role_id: i64,
    pub extras: AbilitySet,
    /// Whether the account also belongs to other organizations (org admins then remove it
    /// from theirs instead of deleting it).
    pub other_orgs: bool,
    /// Where the membership comes from: the SCIM connection (its name) that manages it from
    /// directory groups, or `None` for one made by hand.
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberPage {
    pub org: OrgRef,
    pub members: Vec<Member>,
    /// Cursor for the next page (a username), when there is one.
    pub next: Option<String>,
}

/// One organization an account belongs to, with its role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Membership {
    pub org: OrgRef,
    pub role: String,
    pub role_id: i64,
    pub extras: AbilitySet,
}

/// An account that may be added to an organization (search-as-you-type when adding a
/// member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub username: String,
    pub full_name: String,
}
