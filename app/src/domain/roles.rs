//! Roles as the UI and the API show them.
use serde::{Deserialize, Serialize};

use super::abilities::AbilitySet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub abilities: AbilitySet,
    /// Memberships holding the role, in every organization.
    pub members: i64,
}

/// The role matrix: every role with its abilities, and a version that grows with every
/// change of the access model (live pages compare it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    pub roles: Vec<Role>,
    pub editable: bool,
}
