//! Who reaches a database as which login: shared database credentials (SlashDB's "Database
//! Credentials": a named login and password for one database) and per-account database
//! mappings (the "Database Mapping" section of a SlashDB user: a login of the account's own,
//! a shared credential, or none for databases without logins), and the answer a data tool
//! gets when it asks which login to use for an account.
//!
//! Passwords are write-only here as for definitions: views say only whether one is set, and
//! an empty password on a change keeps the stored one.
use serde::{Deserialize, Serialize};

use super::databases::{self, ConnectionTest, Engine, TlsMode};
use super::error::{Error, FieldError};
use super::ids::OrgRef;

pub const CREDENTIAL_NAME_MAX: usize = 64;

/// A shared credential as its creator submits it. `password` is write-only: empty on a change
/// keeps the stored one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialInput {
    pub name: String,
    pub login: String,
    #[serde(default)]
    pub password: String,
}

/// Changes to a credential: what is absent stays; an absent or empty password keeps the
/// stored one.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CredentialPatch {
    pub name: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
}

impl From<CredentialInput> for CredentialPatch {
    fn from(c: CredentialInput) -> Self {
        CredentialPatch { name: Some(c.name), login: Some(c.login), password: Some(c.password) }
    }
}

impl CredentialPatch {
    /// The whole input: the patch over `current` (which carries no password).
    pub fn over(self, current: &Credential) -> CredentialInput {
        CredentialInput {
            name: self.name.unwrap_or_else(|| current.name.clone()),
            login: self.login.unwrap_or_else(|| current.login.clone()),
            password: self.password.unwrap_or_default(),
        }
    }
}

/// A credential once its rules hold (the password is sealed apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSpec {
    pub name: String,
    pub login: String,
}

/// A shared credential as its viewers see it: never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Credential {
    pub db_id: String,
    pub name: String,
    pub login: String,
    pub password_set: bool,
    /// The account that created it (it may test it without manage-database-servers); None
    /// once that account is deleted, or for credentials made at the command line.
    pub created_by: Option<String>,
    /// How many accounts are mapped through it (what deleting it takes away).
    pub mappings: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_test: Option<ConnectionTest>,
}

/// A database's credentials by name (case-insensitive), a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CredentialPage {
    pub org: OrgRef,
    pub db_id: String,
    pub credentials: Vec<Credential>,
    /// Pass back as `after` for the next page (None: this is the last).
    pub next: Option<String>,
}

/// Credential names follow the database ids' rule, with `.` allowed (`reporting.reader`).
pub fn credential_name(raw: &str) -> Result<String, FieldError> {
    databases::identifier(
        "name",
        "The name",
        "Name the credential, like reporting_reader.",
        CREDENTIAL_NAME_MAX,
        "@_-~.",
        raw,
    )
}

/// Case-insensitive key for uniqueness and look-ups.
pub fn credential_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// Checks a credential's fields, all problems at once.
pub fn credential_spec(input: &CredentialInput) -> Result<CredentialSpec, Error> {
    let mut errors = Vec::new();
    let name = credential_name(&input.name).map_err(|e| errors.push(e)).ok();
    let login = match databases::login("login", &input.login) {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            errors.push(FieldError::new("login", "Enter the login this credential signs in as."));
            None
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let Err(e) = databases::password("password", &input.password) {
        errors.push(e);
    }
    match (name, login) {
        (Some(name), Some(login)) if errors.is_empty() => Ok(CredentialSpec { name, login }),
        _ => Err(Error::Invalid { errors }),
    }
}

/// How an account reaches a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MappingKind {
    /// A login (and password) of its own.
    Own,
    /// A shared credential of the database.
    Credential,
    /// No login: the database needs none (SQLite files, trust authentication).
    None,
}

impl MappingKind {
    pub const ALL: [MappingKind; 3] = [MappingKind::Own, MappingKind::Credential, MappingKind::None];

    pub fn as_str(self) -> &'static str {
        match self {
            MappingKind::Own => "own",
            MappingKind::Credential => "credential",
            MappingKind::None => "none",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MappingKind::Own => "Its own login and password",
            MappingKind::Credential => "A shared credential",
            MappingKind::None => "No login",
        }
    }

    pub fn parse(raw: &str) -> Option<MappingKind> {
        MappingKind::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(raw.trim()))
    }
}

/// A mapping as an admin submits it (form, JSON API, CLI, import). `login` and `password`
/// are for `own`, `credential` (a credential's name) for `credential`; the others must be
/// empty. `password` is write-only: empty keeps the stored one while the login stays.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MappingInput {
    /// (the JSON API takes it from the path)
    #[serde(default)]
    pub db_id: String,
    /// `own`, `credential` or `none`.
    pub kind: String,
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub credential: String,
}

/// A mapping once its rules hold (the password apart, sealed by the backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingSpec {
    Own { login: String },
    Credential { name: String },
    None,
}

impl MappingSpec {
    pub fn kind(&self) -> MappingKind {
        match self {
            MappingSpec::Own { .. } => MappingKind::Own,
            MappingSpec::Credential { .. } => MappingKind::Credential,
            MappingSpec::None => MappingKind::None,
        }
    }
}

/// Checks a mapping's fields (the database id is checked by finding it).
pub fn mapping_spec(input: &MappingInput) -> Result<MappingSpec, Error> {
    let Some(kind) = MappingKind::parse(&input.kind) else {
        return Err(Error::invalid("kind", "Choose how the account signs in: own, credential or none."));
    };
    let mut errors = Vec::new();
    let spec = match kind {
        MappingKind::Own => {
            let login = match databases::login("login", &input.login) {
                Ok(Some(l)) => Some(l),
                Ok(None) => {
                    errors.push(FieldError::new("login", "Enter the account's login on this database."));
                    None
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            };
            if let Err(e) = databases::password("password", &input.password) {
                errors.push(e);
            }
            if !input.credential.trim().is_empty() {
                errors.push(FieldError::new("credential", "A mapping with its own login names no shared credential."));
            }
            login.map(|login| MappingSpec::Own { login })
        }
        MappingKind::Credential => {
            if !input.login.trim().is_empty() || !input.password.is_empty() {
                errors.push(FieldError::new(
                    "login",
                    "A mapping through a shared credential has no login or password of its own.",
                ));
            }
            credential_name(&input.credential)
                .map_err(|e| errors.push(FieldError::new("credential", e.message)))
                .ok()
                .map(|name| MappingSpec::Credential { name })
        }
        MappingKind::None => {
            if !input.login.trim().is_empty() || !input.password.is_empty() || !input.credential.trim().is_empty() {
                errors
                    .push(FieldError::new("login", "A mapping without a login has no login, password or credential."));
            }
            Some(MappingSpec::None)
        }
    };
    match spec {
        Some(s) if errors.is_empty() => Ok(s),
        _ => Err(Error::Invalid { errors }),
    }
}

/// A mapping as the account's viewers see it: never a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Mapping {
    pub db_id: String,
    pub kind: MappingKind,
    /// The login of its own (`own` only).
    pub login: Option<String>,
    /// Whether its own login has a stored password (`own` only).
    pub password_set: bool,
    /// The shared credential's name (`credential` only).
    pub credential: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_test: Option<ConnectionTest>,
}

/// An account's mappings to the databases of one organization, by database id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MappingPage {
    pub username: String,
    pub org: OrgRef,
    pub mappings: Vec<Mapping>,
    /// Pass back as `after` for the next page (None: this is the last).
    pub next: Option<String>,
}

/// A Test Connection's outcome with what was tested (a credential's name, a mapping's
/// database), for the console's notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tested {
    pub what: String,
    pub test: ConnectionTest,
}

/// Where the login a data tool gets for an account comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LoginSource {
    /// The account's own mapping.
    Mapping,
    /// A shared credential the account is mapped to.
    Credential,
    /// The definition's default login (super admins without a mapping).
    Default,
    /// Mapped without a login.
    None,
}

/// What a data tool needs to open a database for an account (SlashDB's look-up when a user
/// queries a database): where it is and the login and password to use, in the clear. Served
/// only to super admins and tokens holding view-credentials; every read is audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DatabaseLogin {
    pub username: String,
    pub org: OrgRef,
    pub db_id: String,
    pub engine: Engine,
    pub host: String,
    pub port: Option<u16>,
    pub name: String,
    pub tls: TlsMode,
    pub source: LoginSource,
    /// The shared credential's name when `source` is `credential`.
    pub credential: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Invalid { errors } => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn credential_names_follow_the_id_rule_with_dots() {
        for ok in ["reader", "reporting.reader", "_svc", "a@b-c~d"] {
            assert_eq!(credential_name(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in ["", "1x", ".x", "my reader", "x/y", "é", &"a".repeat(CREDENTIAL_NAME_MAX + 1)] {
            assert!(credential_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(credential_key(" Reader "), "reader");
    }

    #[test]
    fn a_credential_needs_a_name_and_a_login() {
        let ok = CredentialInput { name: "reader".into(), login: " app_ro ".into(), password: " p ".into() };
        assert_eq!(credential_spec(&ok), Ok(CredentialSpec { name: "reader".into(), login: "app_ro".into() }));
        let bad = CredentialInput { name: "".into(), login: "".into(), password: "a\0".into() };
        assert_eq!(fields(credential_spec(&bad).expect_err("invalid")), ["name", "login", "password"]);
    }

    #[test]
    fn a_credential_patch_keeps_what_it_does_not_name() {
        let current = Credential {
            db_id: "Chinook".into(),
            name: "reader".into(),
            login: "app_ro".into(),
            password_set: true,
            created_by: None,
            mappings: 0,
            created_at: 1,
            updated_at: 1,
            last_test: None,
        };
        let i = CredentialPatch { login: Some("app_ro2".into()), ..Default::default() }.over(&current);
        assert_eq!(i, CredentialInput { name: "reader".into(), login: "app_ro2".into(), password: "".into() });
    }

    #[test]
    fn each_kind_of_mapping_takes_only_its_fields() {
        let own = MappingInput { db_id: "a".into(), kind: "own".into(), login: "mike".into(), ..Default::default() };
        assert_eq!(mapping_spec(&own), Ok(MappingSpec::Own { login: "mike".into() }));
        let cred = MappingInput { kind: "Credential".into(), credential: "reader".into(), ..Default::default() };
        assert_eq!(mapping_spec(&cred), Ok(MappingSpec::Credential { name: "reader".into() }));
        assert_eq!(mapping_spec(&MappingInput { kind: "none".into(), ..Default::default() }), Ok(MappingSpec::None));

        let own_without_login = MappingInput { kind: "own".into(), ..Default::default() };
        assert_eq!(fields(mapping_spec(&own_without_login).expect_err("login")), ["login"]);
        let cred_with_password = MappingInput { password: "x".into(), ..cred.clone() };
        assert_eq!(fields(mapping_spec(&cred_with_password).expect_err("password")), ["login"]);
        let none_with_credential = MappingInput { kind: "none".into(), credential: "r".into(), ..Default::default() };
        assert!(mapping_spec(&none_with_credential).is_err());
        let unknown = MappingInput { kind: "shared".into(), ..Default::default() };
        assert_eq!(fields(mapping_spec(&unknown).expect_err("kind")), ["kind"]);
        let cred_unnamed = MappingInput { kind: "credential".into(), ..Default::default() };
        assert_eq!(fields(mapping_spec(&cred_unnamed).expect_err("credential")), ["credential"]);
    }

    #[test]
    fn mapping_kinds_round_trip_their_names() {
        for k in MappingKind::ALL {
            assert_eq!(MappingKind::parse(k.as_str()), Some(k));
        }
    }
}
