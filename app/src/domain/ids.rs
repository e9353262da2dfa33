//! Newtype ids so a user's primary key cannot be passed where an org id is expected, and
//! `OrgRef` (an organization by id and name), which accounts and organizations both show.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct UserId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrgId(pub i64);

/// The organization every instance starts with (created by the first migration).
pub const DEFAULT_ORG: OrgId = OrgId(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleId(pub i64);

/// The roles the first migration seeds (their ids are fixed so data-tool defaults can name them).
pub const VIEWER_ROLE: RoleId = RoleId(1);
pub const OPERATOR_ROLE: RoleId = RoleId(2);
pub const MEMBER_ROLE: RoleId = RoleId(3);
pub const ADMIN_ROLE: RoleId = RoleId(4);

/// An organization as a reference: its id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
}
