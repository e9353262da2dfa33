//! Bulk actions on accounts with a dry run: a selection (named accounts, or every account
//! matching a search, fixed on the server when the plan is made), an action, and a plan that
//! says per account what would happen or why it would be refused. Applying a plan runs it
//! again and refuses if any account's outcome changed since.
use serde::{Deserialize, Serialize};

/// The most accounts one plan takes (the users list's "all matching" included).
pub const MAX_ACCOUNTS: usize = 200_000;
/// How long a plan can be applied after it was made.
pub const PLAN_MINUTES: i64 = 30;
/// How many accounts a plan's answer lists (refused ones first); the counts cover all.
pub const LISTED: usize = 1_000;

/// What to do to each selected account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
// (no deny_unknown_fields: serde does not support it on a flattened enum)
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BulkAction {
    Disable,
    Enable,
    Delete,
    /// Makes each a member of `org` with `role` (by name or id).
    AddToOrg {
        org: String,
        role: String,
    },
    /// Gives each member of `org` the role `role`.
    SetRole {
        org: String,
        role: String,
    },
    RemoveFromOrg {
        org: String,
    },
    /// Turns off each one's TOTP and passkeys; the reason goes to the audit log.
    ResetTwoFactor {
        reason: String,
    },
}

impl BulkAction {
    /// In words, for the plan's heading: "disable", "add to Acme as Member"...
    pub fn describe(&self) -> String {
        match self {
            BulkAction::Disable => "disable".into(),
            BulkAction::Enable => "enable".into(),
            BulkAction::Delete => "delete".into(),
            BulkAction::AddToOrg { org, role } => format!("add to {org} as {role}"),
            BulkAction::SetRole { org, role } => format!("make {role} in {org}"),
            BulkAction::RemoveFromOrg { org } => format!("remove from {org}"),
            BulkAction::ResetTwoFactor { .. } => "reset two-factor authentication".into(),
        }
    }
}

/// Which accounts: named ones, or all that match a search of the users list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    Usernames {
        usernames: Vec<String>,
    },
    /// Every account the users list shows for this search (empty: all), however many pages.
    Matching {
        #[serde(default)]
        search: Option<String>,
        #[serde(default)]
        legacy_hash: bool,
    },
}

/// A plan's input: the action's fields beside `action`, and `selection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkRequest {
    #[serde(flatten)]
    pub action: BulkAction,
    pub selection: Selection,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BulkOutcome {
    /// The action changes this account.
    Change,
    /// Nothing to do (disabled already, not a member...).
    Unchanged,
    /// Not allowed, with the reason.
    Refused,
}

impl BulkOutcome {
    pub fn code(self) -> char {
        match self {
            BulkOutcome::Change => 'c',
            BulkOutcome::Unchanged => 'u',
            BulkOutcome::Refused => 'r',
        }
    }

    pub fn of_code(c: char) -> Option<Self> {
        match c {
            'c' => Some(BulkOutcome::Change),
            'u' => Some(BulkOutcome::Unchanged),
            'r' => Some(BulkOutcome::Refused),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkItem {
    pub username: String,
    pub outcome: BulkOutcome,
    /// Why it is refused (or what does not change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkCounts {
    pub change: u64,
    pub unchanged: u64,
    pub refused: u64,
}

impl BulkCounts {
    pub fn of(items: &[BulkItem]) -> Self {
        let mut c = BulkCounts::default();
        for i in items {
            match i.outcome {
                BulkOutcome::Change => c.change += 1,
                BulkOutcome::Unchanged => c.unchanged += 1,
                BulkOutcome::Refused => c.refused += 1,
            }
        }
        c
    }

    pub fn total(self) -> u64 {
        self.change + self.unchanged + self.refused
    }
}

/// A dry run's answer: nothing was written. `id` applies it (until `expires_at`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkPlan {
    pub id: String,
    pub action: String,
    pub counts: BulkCounts,
    /// Refused accounts first, then the others, at most `LISTED`.
    pub items: Vec<BulkItem>,
    pub expires_at: i64,
}

/// What applying a plan did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkApplied {
    pub action: String,
    pub counts: BulkCounts,
    pub items: Vec<BulkItem>,
}

/// The items to show: refused first (the ones to read), then the rest, in selection order
/// within each, at most `LISTED`.
pub fn listed(items: &[BulkItem]) -> Vec<BulkItem> {
    let refused = items.iter().filter(|i| i.outcome == BulkOutcome::Refused);
    let others = items.iter().filter(|i| i.outcome != BulkOutcome::Refused);
    refused.chain(others).take(LISTED).cloned().collect()
}

/// The accounts whose outcome is not what the plan said (a plan is stale when any is): each
/// as "name: planned -> now".
pub fn drift(planned: &[(i64, BulkOutcome)], now: &[(i64, BulkOutcome)], name: impl Fn(i64) -> String) -> Vec<String> {
    let before: std::collections::HashMap<i64, BulkOutcome> = planned.iter().copied().collect();
    let mut out = Vec::new();
    for (id, o) in now {
        match before.get(id) {
            Some(p) if p == o => {}
            Some(p) => out.push(format!("{}: {} -> {}", name(*id), word(*p), word(*o))),
            None => out.push(format!("{}: new in the selection", name(*id))),
        }
    }
    let seen: std::collections::HashSet<i64> = now.iter().map(|(id, _)| *id).collect();
    for (id, _) in planned {
        if !seen.contains(id) {
            out.push(format!("{}: gone", name(*id)));
        }
    }
    out
}

fn word(o: BulkOutcome) -> &'static str {
    match o {
        BulkOutcome::Change => "changes",
        BulkOutcome::Unchanged => "unchanged",
        BulkOutcome::Refused => "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, outcome: BulkOutcome) -> BulkItem {
        BulkItem { username: name.into(), outcome, reason: None }
    }

    #[test]
    fn a_request_reads_as_the_api_writes_it() {
        let r: BulkRequest = serde_json::from_str(
            r#"{"action": "add_to_org", "org": "Acme", "role": "Member", "selection": {"kind": "matching", "search": "ada"}}"#,
        )
        .expect("request");
        assert_eq!(r.action, BulkAction::AddToOrg { org: "Acme".into(), role: "Member".into() });
        assert_eq!(r.selection, Selection::Matching { search: Some("ada".into()), legacy_hash: false });
        assert!(
            serde_json::from_str::<BulkRequest>(r#"{"action": "explode", "selection": {"kind": "matching"}}"#).is_err()
        );
        assert!(serde_json::from_str::<BulkRequest>(
            r#"{"action": "disable", "selection": {"kind": "usernames", "usernames": ["a"], "extra": 1}}"#
        )
        .is_err());
    }

    #[test]
    fn refused_accounts_are_listed_first_and_counts_cover_all() {
        let items =
            vec![item("a", BulkOutcome::Change), item("b", BulkOutcome::Refused), item("c", BulkOutcome::Unchanged)];
        let names: Vec<String> = listed(&items).into_iter().map(|i| i.username).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(BulkCounts::of(&items), BulkCounts { change: 1, unchanged: 1, refused: 1 });
        let many: Vec<BulkItem> = (0..LISTED + 5).map(|n| item(&n.to_string(), BulkOutcome::Change)).collect();
        assert_eq!(listed(&many).len(), LISTED);
        for o in [BulkOutcome::Change, BulkOutcome::Unchanged, BulkOutcome::Refused] {
            assert_eq!(BulkOutcome::of_code(o.code()), Some(o));
        }
    }

    #[test]
    fn drift_names_each_account_whose_outcome_moved() {
        let planned = [(1, BulkOutcome::Change), (2, BulkOutcome::Change), (3, BulkOutcome::Refused)];
        let now = [(1, BulkOutcome::Change), (2, BulkOutcome::Refused), (4, BulkOutcome::Change)];
        let d = drift(&planned, &now, |id| format!("u{id}"));
        assert_eq!(d, ["u2: changes -> refused", "u4: new in the selection", "u3: gone"]);
        assert!(drift(&planned, &planned, |id| id.to_string()).is_empty());
    }
}
