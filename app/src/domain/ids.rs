//! Newtype ids so a user's primary key cannot be passed where an org id is expected.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrgId(pub i64);

/// The organization every instance starts with (created by the first migration).
pub const DEFAULT_ORG: OrgId = OrgId(1);
