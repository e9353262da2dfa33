//! The ability catalogue: a closed set fixed in code, with stable string codes (stored in the
//! database, sent by other services to the check API) and a sentence for people. A set of
//! abilities is a bit set, so "does this role grant that" is one AND.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Ability {
    RunBackups,
    DownloadSnapshots,
    DeleteSnapshots,
    OperateRestores,
    UseAdminer,
    ManageDatabaseServers,
    ManageVolumes,
    ManageAgents,
    ManageBackupSettings,
    ManageNotifications,
    ManageUsers,
    ViewDatabases,
    CreateDatabases,
    ViewQueries,
    CreateQueries,
    ViewUsers,
    CreateUsers,
    ViewCredentials,
    CreateCredentials,
}

/// Data-tool abilities are what members may do in the data tools (backups, restores,
/// databases, queries); administrative privileges are what they may administer in Roster
/// itself (accounts, memberships, per-database credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AbilityKind {
    DataTool,
    Privilege,
}

impl Ability {
    pub const ALL: [Ability; 19] = [
        Ability::RunBackups,
        Ability::DownloadSnapshots,
        Ability::DeleteSnapshots,
        Ability::OperateRestores,
        Ability::UseAdminer,
        Ability::ManageDatabaseServers,
        Ability::ManageVolumes,
        Ability::ManageAgents,
        Ability::ManageBackupSettings,
        Ability::ManageNotifications,
        Ability::ManageUsers,
        Ability::ViewDatabases,
        Ability::CreateDatabases,
        Ability::ViewQueries,
        Ability::CreateQueries,
        Ability::ViewUsers,
        Ability::CreateUsers,
        Ability::ViewCredentials,
        Ability::CreateCredentials,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Ability::RunBackups => "run-backups",
            Ability::DownloadSnapshots => "download-snapshots",
            Ability::DeleteSnapshots => "delete-snapshots",
            Ability::OperateRestores => "operate-restores",
            Ability::UseAdminer => "use-adminer",
            Ability::ManageDatabaseServers => "manage-database-servers",
            Ability::ManageVolumes => "manage-volumes",
            Ability::ManageAgents => "manage-agents",
            Ability::ManageBackupSettings => "manage-backup-settings",
            Ability::ManageNotifications => "manage-notifications",
            Ability::ManageUsers => "manage-users",
            Ability::ViewDatabases => "view-databases",
            Ability::CreateDatabases => "create-databases",
            Ability::ViewQueries => "view-queries",
            Ability::CreateQueries => "create-queries",
            Ability::ViewUsers => "view-users",
            Ability::CreateUsers => "create-users",
            Ability::ViewCredentials => "view-credentials",
            Ability::CreateCredentials => "create-credentials",
        }
    }

    pub fn parse(code: &str) -> Option<Ability> {
        Ability::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn description(self) -> &'static str {
        match self {
            Ability::RunBackups => "Start backups on demand and manage their schedules.",
            Ability::DownloadSnapshots => "Download backup snapshots.",
            Ability::DeleteSnapshots => "Delete backup snapshots.",
            Ability::OperateRestores => "Restore databases from snapshots.",
            Ability::UseAdminer => "Open databases in the Adminer web client.",
            Ability::ManageDatabaseServers => "Add, change and delete database definitions (where tools connect).",
            Ability::ManageVolumes => "Add, change and remove storage volumes.",
            Ability::ManageAgents => "Register and remove backup agents.",
            Ability::ManageBackupSettings => "Change the organization's backup settings.",
            Ability::ManageNotifications => "Configure notification channels and rules.",
            Ability::ManageUsers => "Add members to the organization, change their roles and remove them.",
            Ability::ViewDatabases => "See database definitions.",
            Ability::CreateDatabases => "Add database definitions.",
            Ability::ViewQueries => "See saved SQL queries.",
            Ability::CreateQueries => "Create and change saved SQL queries.",
            Ability::ViewUsers => "See the organization's members and their access.",
            Ability::CreateUsers => "Create new accounts in the organization.",
            Ability::ViewCredentials => "See per-database credentials.",
            Ability::CreateCredentials => "Create and change per-database credentials.",
        }
    }

    pub fn kind(self) -> AbilityKind {
        match self {
            Ability::ManageUsers
            | Ability::ViewUsers
            | Ability::CreateUsers
            | Ability::ViewCredentials
            | Ability::CreateCredentials => AbilityKind::Privilege,
            _ => AbilityKind::DataTool,
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of abilities. Serialised as a list of codes, so stored and sent forms do not depend
/// on the order of the enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "Vec<Ability>", from = "Vec<Ability>")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = Vec<Ability>))]
pub struct AbilitySet(u32);

impl AbilitySet {
    pub const EMPTY: AbilitySet = AbilitySet(0);

    pub fn all() -> AbilitySet {
        Ability::ALL.into_iter().collect()
    }
    pub fn of(list: &[Ability]) -> AbilitySet {
        list.iter().copied().collect()
    }
    pub fn contains(self, a: Ability) -> bool {
        self.0 & a.bit() != 0
    }
    pub fn insert(&mut self, a: Ability) {
        self.0 |= a.bit();
    }
    pub fn remove(&mut self, a: Ability) {
        self.0 &= !a.bit();
    }
    pub fn with(mut self, a: Ability, on: bool) -> AbilitySet {
        if on {
            self.insert(a)
        } else {
            self.remove(a)
        }
        self
    }
    pub fn union(self, o: AbilitySet) -> AbilitySet {
        AbilitySet(self.0 | o.0)
    }
    pub fn intersect(self, o: AbilitySet) -> AbilitySet {
        AbilitySet(self.0 & o.0)
    }
    /// The abilities in `self` and not in `o`.
    pub fn minus(self, o: AbilitySet) -> AbilitySet {
        AbilitySet(self.0 & !o.0)
    }
    pub fn is_subset(self, o: AbilitySet) -> bool {
        self.0 & !o.0 == 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn iter(self) -> impl Iterator<Item = Ability> {
        Ability::ALL.into_iter().filter(move |a| self.contains(*a))
    }
    pub fn codes(self) -> Vec<&'static str> {
        self.iter().map(Ability::code).collect()
    }
}

impl FromIterator<Ability> for AbilitySet {
    fn from_iter<I: IntoIterator<Item = Ability>>(iter: I) -> Self {
        let mut s = AbilitySet::EMPTY;
        for a in iter {
            s.insert(a);
        }
        s
    }
}

impl From<Vec<Ability>> for AbilitySet {
    fn from(v: Vec<Ability>) -> Self {
        v.into_iter().collect()
    }
}

impl From<AbilitySet> for Vec<Ability> {
    fn from(s: AbilitySet) -> Self {
        s.iter().collect()
    }
}

/// The seeded roles' abilities (also written by the migration that creates them; a test
/// keeps the two in step).
pub mod defaults {
    use super::Ability::*;
    use super::AbilitySet;

    pub fn viewer() -> AbilitySet {
        AbilitySet::EMPTY
    }
    pub fn operator() -> AbilitySet {
        AbilitySet::of(&[RunBackups, DownloadSnapshots, OperateRestores])
    }
    pub fn member() -> AbilitySet {
        operator().union(AbilitySet::of(&[
            DeleteSnapshots,
            UseAdminer,
            ManageDatabaseServers,
            ManageVolumes,
            ManageAgents,
            ViewDatabases,
            CreateDatabases,
            ViewQueries,
            CreateQueries,
            ViewCredentials,
            CreateCredentials,
        ]))
    }
    pub fn admin() -> AbilitySet {
        member().union(AbilitySet::of(&[
            ManageUsers,
            ViewUsers,
            CreateUsers,
            ManageBackupSettings,
            ManageNotifications,
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_what_the_abilities_mean() {
        let admin: Vec<&str> =
            Ability::ALL.iter().filter(|a| a.kind() == AbilityKind::Privilege).map(|a| a.code()).collect();
        assert_eq!(admin, ["manage-users", "view-users", "create-users", "view-credentials", "create-credentials"]);
        for tool in ["run-backups", "operate-restores", "view-databases", "create-queries"] {
            assert_eq!(Ability::parse(tool).map(Ability::kind), Some(AbilityKind::DataTool), "{tool}");
        }
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let codes: std::collections::HashSet<_> = Ability::ALL.iter().map(|a| a.code()).collect();
        assert_eq!(codes.len(), Ability::ALL.len());
        for a in Ability::ALL {
            assert_eq!(Ability::parse(a.code()), Some(a));
            assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{}\"", a.code()));
            assert!(a.description().ends_with('.'));
        }
        assert_eq!(Ability::parse("Run-Backups"), None);
        assert_eq!(AbilitySet::all().len(), 19);
    }

    #[test]
    fn sets_serialise_as_code_lists() {
        let s = AbilitySet::of(&[Ability::ViewUsers, Ability::RunBackups]);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["run-backups","view-users"]"#);
        let back: AbilitySet = serde_json::from_str(r#"["view-users","run-backups"]"#).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<AbilitySet>(r#"["fly"]"#).is_err());
    }

    #[test]
    fn defaults_nest() {
        use defaults::*;
        assert!(viewer().is_empty());
        assert!(operator().is_subset(member()));
        assert!(member().is_subset(admin()));
        assert_eq!(operator().len(), 3);
        assert_eq!(member().len(), 14);
        assert_eq!(admin().len(), 19);
        assert!(!member().contains(Ability::ManageUsers));
        assert!(admin().contains(Ability::ManageUsers));
    }

    #[test]
    fn set_algebra() {
        let a = AbilitySet::of(&[Ability::RunBackups, Ability::ViewUsers]);
        let b = AbilitySet::of(&[Ability::RunBackups]);
        assert!(b.is_subset(a) && !a.is_subset(b));
        assert_eq!(a.minus(b), AbilitySet::of(&[Ability::ViewUsers]));
        assert_eq!(b.with(Ability::ViewUsers, true), a);
        assert_eq!(a.with(Ability::ViewUsers, false), b);
    }
}
