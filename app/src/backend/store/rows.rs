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
