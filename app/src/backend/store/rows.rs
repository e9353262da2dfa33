//! Row helpers every backend uses the same way (the SQL differs by dialect; these do not).
use crate::domain::abilities::{Ability, AbilitySet};

/// Abilities from stored codes; codes this version does not know (written by a newer one)
/// grant nothing here.
pub(crate) fn abilities_from(codes: &[String]) -> AbilitySet {
    codes.iter().filter_map(|c| Ability::parse(c)).collect()
}

/// Rows of (key, ability code) grouped into sets.
pub(crate) fn group_abilities<K: std::hash::Hash + Eq>(
    rows: Vec<(K, String)>,
) -> std::collections::HashMap<K, AbilitySet> {
    let mut m: std::collections::HashMap<K, AbilitySet> = std::collections::HashMap::new();
    for (k, code) in rows {
        if let Some(a) = Ability::parse(&code) {
            m.entry(k).or_default().insert(a);
        }
    }
    m
}

/// `%text%` for `LIKE ... ESCAPE '\'`, with the pattern characters of `s` escaped.
pub(crate) fn like_pattern(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// A database definition's columns as both backends read them; `record` checks the stored
/// names of its engine and TLS mode (written by this or a newer version).
pub(crate) struct DatabaseColumns {
    pub id: i64,
    pub org_id: i64,
    pub db_id: String,
    pub engine: String,
    pub host: String,
    pub port: Option<i32>,
    pub name: String,
    pub tls: String,
    pub description: String,
    pub default_login: Option<String>,
    pub default_password: Option<Vec<u8>>,
    pub created_at: i64,
    pub updated_at: i64,
    /// 0: never tested.
    pub last_test_at: i64,
    pub last_test_outcome: String,
    pub last_test_message: String,
    pub last_test_millis: i64,
}

impl DatabaseColumns {
    pub(crate) fn record(self) -> Result<super::DatabaseRecord, sqlx::Error> {
        use crate::domain::databases::{ConnectionTest, DatabaseSpec, Engine, TestOutcome, TlsMode};
        let unknown = |what: &str, v: &str| sqlx::Error::Decode(format!("unknown {what} '{v}' in databases").into());
        let engine = Engine::parse(&self.engine).ok_or_else(|| unknown("engine", &self.engine))?;
        let tls = TlsMode::parse(&self.tls).ok_or_else(|| unknown("TLS mode", &self.tls))?;
        let port = match self.port {
            None => None,
            Some(p) => Some(u16::try_from(p).map_err(|_| unknown("port", &p.to_string()))?),
        };
        Ok(super::DatabaseRecord {
            id: self.id,
            org_id: crate::domain::ids::OrgId(self.org_id),
            spec: DatabaseSpec {
                db_id: self.db_id,
                engine,
                host: self.host,
                port,
                name: self.name,
                tls,
                description: self.description,
                default_login: self.default_login,
            },
            default_password: self.default_password,
            created_at: self.created_at,
            updated_at: self.updated_at,
            // (an outcome this version does not know reads as "other")
            last_test: (self.last_test_at > 0).then(|| ConnectionTest {
                outcome: TestOutcome::parse(&self.last_test_outcome).unwrap_or(TestOutcome::Other),
                message: self.last_test_message,
                millis: self.last_test_millis.max(0) as u64,
                at: self.last_test_at,
            }),
        })
    }
}

/// The last Test Connection from its four columns (`at` 0: never tested; an outcome this
/// version does not know reads as "other").
pub(crate) fn last_test(at: i64, outcome: String, message: String, millis: i64) -> Option<ConnectionTestOf> {
    use crate::domain::databases::TestOutcome;
    (at > 0).then(|| ConnectionTestOf {
        outcome: TestOutcome::parse(&outcome).unwrap_or(TestOutcome::Other),
        message,
        millis: millis.max(0) as u64,
        at,
    })
}

type ConnectionTestOf = crate::domain::databases::ConnectionTest;

/// A shared credential from a row of `CREDENTIAL_COLS` (both backends: the columns and their
/// Rust types are the same).
macro_rules! credential_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, sqlx::Error>(crate::backend::store::CredentialRecord {
            id: r.try_get("id")?,
            database_id: r.try_get("database_id")?,
            spec: crate::domain::database_access::CredentialSpec {
                name: r.try_get("name")?,
                login: r.try_get("login")?,
            },
            password: r.try_get("password")?,
            created_by: r.try_get::<Option<i64>, _>("created_by")?.map(crate::domain::ids::UserId),
            created_by_name: r.try_get("created_by_name")?,
            uses: r.try_get("uses")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            last_test: crate::backend::store::rows::last_test(
                r.try_get("last_test_at")?,
                r.try_get("last_test_outcome")?,
                r.try_get("last_test_message")?,
                r.try_get("last_test_millis")?,
            ),
        })
    }};
}
pub(crate) use credential_row;

/// The columns `credential_row!` reads, from `database_credentials c` left-joined with the
/// creator `u`.
pub(crate) const CREDENTIAL_COLS: &str = "c.id, c.database_id, c.name, c.login, c.password, c.created_by, \
     u.username AS created_by_name, c.created_at, c.updated_at, c.last_test_at, c.last_test_outcome, \
     c.last_test_message, c.last_test_millis, \
     (SELECT COUNT(*) FROM database_mappings x WHERE x.credential_id = c.id) AS uses";
pub(crate) const CREDENTIAL_FROM: &str = "database_credentials c LEFT JOIN users u ON u.id = c.created_by";

/// A mapping from a row of `MAPPING_COLS`.
macro_rules! mapping_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, sqlx::Error>(crate::backend::store::MappingRecord {
            id: r.try_get("id")?,
            user_id: crate::domain::ids::UserId(r.try_get("user_id")?),
            database_id: r.try_get("database_id")?,
            login: r.try_get("login")?,
            password: r.try_get("password")?,
            credential_id: r.try_get("credential_id")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            last_test: crate::backend::store::rows::last_test(
                r.try_get("last_test_at")?,
                r.try_get("last_test_outcome")?,
                r.try_get("last_test_message")?,
                r.try_get("last_test_millis")?,
            ),
            db_id: r.try_get("db_id")?,
            credential_name: r.try_get("credential_name")?,
        })
    }};
}
pub(crate) use mapping_row;

/// The columns `mapping_row!` reads, from `MAPPING_FROM`.
pub(crate) const MAPPING_COLS: &str = "m.id, m.user_id, m.database_id, m.login, m.password, m.credential_id, \
     m.created_at, m.updated_at, m.last_test_at, m.last_test_outcome, m.last_test_message, m.last_test_millis, \
     d.db_id, c.name AS credential_name";
pub(crate) const MAPPING_FROM: &str = "database_mappings m JOIN databases d ON d.id = m.database_id \
     LEFT JOIN database_credentials c ON c.id = m.credential_id";

/// Rows per multi-row statement of the batch writes (imports): well under both backends'
/// limits on bound parameters (SQLite 32,766, PostgreSQL 65,535) at a dozen columns a row.
pub(crate) const BATCH_ROWS: usize = 500;

/// The ids of `users` in the order given, from the (id, username key) pairs an
/// `INSERT ... RETURNING` gave back (neither backend promises their order).
pub(crate) fn ids_in_order(
    users: &[super::UserInsert],
    returned: Vec<(i64, String)>,
) -> super::StoreResult<Vec<crate::domain::ids::UserId>> {
    let by_key: std::collections::HashMap<String, i64> = returned.into_iter().map(|(id, k)| (k, id)).collect();
    users
        .iter()
        .map(|u| {
            by_key
                .get(&u.username.to_ascii_lowercase())
                .map(|&id| crate::domain::ids::UserId(id))
                .ok_or(super::StoreError::Db(sqlx::Error::RowNotFound))
        })
        .collect()
}

/// Records read by several look-ups at once, each account once.
pub(crate) fn each_once(mut users: Vec<super::UserRecord>) -> Vec<super::UserRecord> {
    let mut seen = std::collections::HashSet::new();
    users.retain(|u| seen.insert(u.id));
    users
}
