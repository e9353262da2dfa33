//! SCIM 2.0 (RFC 7643 / 7644) as Roster speaks it: the attributes it stores (and so
//! advertises), reading a User resource an identity provider sent, applying a PATCH the way
//! real providers send them (Okta's and Entra ID's habits included), the resource Roster
//! answers with, the discovery documents, and SCIM error bodies. Pure: no I/O.
//!
//! Values are kept exactly as sent: a provider compares what it reads back with what it
//! wrote and re-sends "changes" forever when they differ. Attributes Roster does not store
//! are dropped, and only the stored ones are advertised in `/Schemas`.
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::scim_filter::{self, Filter, PatchPath};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SP_CONFIG_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// The media type of every answer.
pub const CONTENT_TYPE: &str = "application/scim+json";

/// `count` when a list request gives none, and the most one page holds.
pub const DEFAULT_COUNT: i64 = 100;
pub const MAX_COUNT: i64 = 200;
/// The largest request body read: the server's limit for every request (a PUT of a group with
/// ten thousand members is about 400 KB).
pub const MAX_BODY: usize = 1024 * 1024;
/// Operations in one PATCH.
pub const MAX_OPERATIONS: usize = 1000;

/// A SCIM connection as admins see it (Settings -> Provisioning, the API, the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScimConnection {
    /// Its id, part of its URL: `/scim/v2/{id}`.
    pub id: String,
    pub name: String,
    /// The organizations it may provision into.
    pub orgs: Vec<String>,
    /// Where new people land, and their role there (`None`: deleted since; creates refused).
    pub default_org: Option<String>,
    pub default_role: Option<String>,
    /// What a SCIM DELETE does: `disable` (and let go) or `delete`.
    pub delete_mode: String,
    /// Whether a create may take over a local account with the same username.
    pub adopt_existing: bool,
    /// The account its requests act as (`scim-{id}`).
    pub service_account: String,
    /// Its bearer tokens (never shown again).
    pub tokens: i64,
    /// Accounts it provisioned.
    pub accounts: i64,
    /// Its SCIM base URL (`{--public-url}/scim/v2/{id}`; the path alone when no public URL
    /// is set).
    pub base_url: String,
}

/// A connection with a new bearer token, answered once (made, or a token added).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScimConnectionToken {
    pub connection: ScimConnection,
    /// `rscim_` and 256 random bits: the provider sends it as `Authorization: Bearer`.
    pub token: String,
}

/// What a new connection is made of (organizations and roles by name).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ScimConnectionInput {
    /// Lower-case letters, digits and '-', starting with a letter (at most 40).
    pub id: String,
    pub name: String,
    /// At least one.
    pub orgs: Vec<String>,
    /// Default: the first of `orgs`.
    pub default_org: Option<String>,
    /// Default: Viewer.
    pub default_role: Option<String>,
    /// `disable` (default) or `delete`.
    pub delete_mode: Option<String>,
    pub adopt_existing: bool,
}

/// A SCIM error answer: HTTP status, `scimType` and a message for the provider's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into() }
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// The body (RFC 7644 §3.12: `status` is a string).
    pub fn body(&self) -> Value {
        let mut b = json!({ "schemas": [ERROR_SCHEMA], "status": self.status.to_string(), "detail": self.detail });
        if let Some(t) = self.scim_type {
            b["scimType"] = json!(t);
        }
        b
    }
}

impl std::fmt::Display for ScimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.detail, self.status)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Boolean,
    Complex,
    Reference,
}

/// One attribute Roster stores, as `/Schemas` describes it.
#[derive(Debug)]
struct Attr {
    name: &'static str,
    kind: Kind,
    multi: bool,
    required: bool,
    case_exact: bool,
    mutability: &'static str,
    returned: &'static str,
    uniqueness: &'static str,
    subs: &'static [Attr],
    /// The values it takes (`/Schemas`' canonicalValues); empty: any.
    canonical: &'static [&'static str],
    description: &'static str,
}

const fn string(name: &'static str, description: &'static str) -> Attr {
    Attr {
        name,
        kind: Kind::String,
        multi: false,
        required: false,
        case_exact: false,
        mutability: "readWrite",
        returned: "default",
        uniqueness: "none",
        subs: &[],
        canonical: &[],
        description,
    }
}

const NAME_SUBS: &[Attr] = &[
    string("formatted", "The full name, formatted for display."),
    string("familyName", "The family name."),
    string("givenName", "The given name."),
    string("middleName", "The middle name(s)."),
    string("honorificPrefix", "Title before the name (Ms.)."),
    string("honorificSuffix", "Suffix after the name (III)."),
];

const EMAIL_SUBS: &[Attr] = &[
    string("value", "The email address."),
    string("display", "A display label."),
    string("type", "work, home or other."),
    Attr { kind: Kind::Boolean, ..string("primary", "The primary address (Roster's account email).") },
];

const USER_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        uniqueness: "server",
        ..string("userName", "Unique per connection; Roster's username when it is a valid one.")
    },
    Attr { kind: Kind::Complex, subs: NAME_SUBS, ..string("name", "The person's name.") },
    string("displayName", "The name shown; Roster's full name."),
    string("nickName", "A casual name."),
    string("title", "Job title."),
    string("userType", "Relationship to the organization."),
    string("preferredLanguage", "Preferred written or spoken language."),
    string("locale", "Locale for localised values."),
    string("timezone", "Time zone (IANA)."),
    Attr { kind: Kind::Boolean, ..string("active", "false disables the Roster account and ends its sessions.") },
    Attr {
        mutability: "writeOnly",
        returned: "never",
        ..string("password", "Ignored: provisioned accounts sign in through single sign-on or passkeys.")
    },
    Attr { kind: Kind::Complex, multi: true, subs: EMAIL_SUBS, ..string("emails", "Email addresses.") },
];

const MANAGER_SUBS: &[Attr] = &[
    Attr { kind: Kind::Reference, ..string("value", "The id of the manager's User.") },
    string("displayName", "The manager's name."),
];

const ENTERPRISE_ATTRS: &[Attr] = &[
    string("employeeNumber", "Employee number."),
    string("costCenter", "Cost center."),
    string("organization", "Organization."),
    string("division", "Division."),
    string("department", "Department."),
    Attr { kind: Kind::Complex, subs: MANAGER_SUBS, ..string("manager", "The person's manager.") },
];

const MEMBER_SUBS: &[Attr] = &[
    Attr { mutability: "immutable", ..string("value", "The id of a member User (one this connection provisioned).") },
    Attr { kind: Kind::Reference, mutability: "immutable", ..string("$ref", "The member's URI.") },
    Attr { mutability: "immutable", canonical: &["User"], ..string("type", "User.") },
];

const GROUP_ATTRS: &[Attr] = &[
    Attr { required: true, uniqueness: "server", ..string("displayName", "Unique per connection, ignoring case.") },
    Attr { kind: Kind::Complex, multi: true, subs: MEMBER_SUBS, ..string("members", "The group's members (Users).") },
];

fn find<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// Reads a boolean the way identity providers send it: `true`, or the strings "True"/"false"
/// in any case (Entra ID without its compliance flag).
pub fn tolerant_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Keeps what `attr` stores of `v`, with names spelled as the schema spells them.
fn clean_value(attr: &Attr, v: &Value, at: &str) -> Result<Option<Value>, ScimError> {
    if v.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let single = Attr { multi: false, ..*attr };
        let mut out = Vec::new();
        for item in items {
            if let Some(c) = clean_value(&single, item, at)? {
                out.push(c);
            }
        }
        return Ok(if out.is_empty() { None } else { Some(Value::Array(out)) });
    }
    match attr.kind {
        Kind::String | Kind::Reference => match v {
            Value::String(_) => Ok(Some(v.clone())),
            _ => Err(ScimError::invalid_value(format!("{at} must be a string."))),
        },
        Kind::Boolean => match tolerant_bool(v) {
            Some(b) => Ok(Some(Value::Bool(b))),
            None => Err(ScimError::invalid_value(format!("{at} must be true or false."))),
        },
        Kind::Complex => {
            let Value::Object(m) = v else {
                return Err(ScimError::invalid_value(format!("{at} must be an object.")));
            };
            let mut out = Map::new();
            for (k, sv) in m {
                if let Some(sub) = find(attr.subs, k) {
                    if let Some(c) = clean_value(sub, sv, &format!("{at}.{}", sub.name))? {
                        out.insert(sub.name.to_string(), c);
                    }
                }
            }
            Ok(if out.is_empty() { None } else { Some(Value::Object(out)) })
        }
    }
}

/// A User as an identity provider sent it, checked and reduced to what Roster stores.
#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    pub user_name: String,
    pub external_id: Option<String>,
    /// `None`: not sent (a create makes the account active; a change keeps its status).
    pub active: Option<bool>,
    /// Roster's full name: displayName, else name.formatted, else given + family name.
    pub full_name: String,
    /// Roster's account email: the primary address, else the work one, else the first.
    pub email: String,
    /// The stored attributes (everything below except id, meta, active and password).
    pub attributes: Value,
}

/// Reads a User resource (POST, PUT, or the result of a PATCH). `active` defaults to true.
pub fn read_user(body: &Value) -> Result<UserInput, ScimError> {
    let Value::Object(m) = body else {
        return Err(ScimError::invalid_syntax("The request body must be a JSON object."));
    };
    let mut attributes = Map::new();
    let mut external_id = None;
    let mut active = None;
    for (k, v) in m {
        if k.eq_ignore_ascii_case("externalId") {
            match v {
                Value::String(s) => external_id = Some(s.clone()),
                Value::Null => {}
                _ => return Err(ScimError::invalid_value("externalId must be a string.")),
            }
        } else if k.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
            let Value::Object(e) = v else {
                if v.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!("{ENTERPRISE_SCHEMA} must be an object.")));
            };
            let mut out = Map::new();
            for (ek, ev) in e {
                if let Some(a) = find(ENTERPRISE_ATTRS, ek) {
                    if let Some(c) = clean_value(a, ev, a.name)? {
                        out.insert(a.name.to_string(), c);
                    }
                }
            }
            if !out.is_empty() {
                attributes.insert(ENTERPRISE_SCHEMA.to_string(), Value::Object(out));
            }
        } else if let Some(a) = find(USER_ATTRS, k) {
            match a.name {
                // Kept as a key (its value is the account's status) so a provider that never
                // sent it, or removed it, does not get it back.
                "active" => {
                    if !v.is_null() {
                        let b = tolerant_bool(v)
                            .ok_or_else(|| ScimError::invalid_value("active must be true or false."))?;
                        active = Some(b);
                        attributes.insert("active".into(), Value::Bool(b));
                    }
                }
                // Never stored, never echoed: provisioned accounts sign in through the
                // identity provider (single sign-on) or passkeys.
                "password" => {}
                _ => {
                    if let Some(c) = clean_value(a, v, a.name)? {
                        attributes.insert(a.name.to_string(), c);
                    }
                }
            }
        }
        // Anything else (schemas, id, meta, groups, attributes Roster does not store) is
        // ignored: read-only or not kept.
    }
    let user_name = match attributes.get("userName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(ScimError::invalid_value("userName is required.")),
    };
    if user_name.chars().count() > 256 {
        return Err(ScimError::invalid_value("userName must be at most 256 characters."));
    }
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).unwrap_or("").to_string();
    let name = attributes.get("name");
    let mut full_name = text(attributes.get("displayName"));
    if full_name.is_empty() {
        full_name = text(name.and_then(|n| n.get("formatted")));
    }
    if full_name.is_empty() {
        let given = text(name.and_then(|n| n.get("givenName")));
        let family = text(name.and_then(|n| n.get("familyName")));
        full_name = format!("{given} {family}").trim().to_string();
    }
    let emails: Vec<&Value> =
        attributes.get("emails").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let pick = emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            emails
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("work")))
        })
        .or_else(|| emails.first());
    let email = text(pick.and_then(|e| e.get("value")));
    Ok(UserInput { user_name, external_id, active, full_name, email, attributes: Value::Object(attributes) })
}

/// Roster's username for a SCIM userName: the same text when Roster accepts it as a
/// username; else one derived from it (each character Roster refuses becomes `_`, a leading
/// `_` when it does not start with a letter, at most `USERNAME_MAX` characters), the `n`-th
/// candidate (n > 1) ending in `-n` for when the earlier ones are taken. Identity providers
/// send emails, UPNs and UUIDs; the SCIM userName itself is kept as sent.
pub fn roster_username(user_name: &str, n: u32) -> String {
    if n <= 1 && super::validate::username(user_name).is_ok() {
        return user_name.to_string();
    }
    let mut out: String = user_name
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "@_-~.".contains(c) { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    let suffix = if n > 1 { format!("-{n}") } else { String::new() };
    let max = super::validate::USERNAME_MAX - suffix.len();
    out.truncate(max);
    out + &suffix
}

/// The stored facts a User resource is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    pub id: i64,
    pub external_id: Option<String>,
    pub attributes: Value,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The User resource Roster answers with (`base`: the connection's `/scim/v2/{slug}` URL).
pub fn user_resource(u: &StoredUser, base: &str) -> Value {
    let mut out = Map::new();
    let mut schemas = vec![json!(USER_SCHEMA)];
    if u.attributes.get(ENTERPRISE_SCHEMA).is_some() {
        schemas.push(json!(ENTERPRISE_SCHEMA));
    }
    out.insert("schemas".into(), Value::Array(schemas));
    out.insert("id".into(), json!(u.id.to_string()));
    if let Some(e) = &u.external_id {
        out.insert("externalId".into(), json!(e));
    }
    let mut sent_active = false;
    if let Value::Object(m) = &u.attributes {
        for (k, v) in m {
            if k == "active" {
                sent_active = true;
            } else {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    // The account's status, when the provider sent one or the account is disabled (an admin
    // may have disabled it in Roster).
    if sent_active || !u.active {
        out.insert("active".into(), json!(u.active));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": super::audit::iso_time(u.created_at),
            "lastModified": super::audit::iso_time(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
            "version": format!("W/\"{}\"", u.updated_at),
        }),
    );
    Value::Object(out)
}

/// Applies `attributes` / `excludedAttributes` of a query to a resource (RFC 7644 §3.9):
/// `id` and `schemas` are always returned; names may be dotted or URN-qualified.
pub fn project(resource: Value, attributes: &[String], excluded: &[String]) -> Value {
    let Value::Object(mut m) = resource else { return resource };
    let norm = |s: &String| s.trim().trim_start_matches(&format!("{USER_SCHEMA}:")).to_string();
    if !attributes.is_empty() {
        let wanted: Vec<String> = attributes.iter().map(norm).collect();
        let keep = |k: &str| {
            k == "id"
                || k == "schemas"
                || wanted.iter().any(|w| {
                    w.eq_ignore_ascii_case(k)
                        || w.split('.').next().is_some_and(|head| head.eq_ignore_ascii_case(k))
                        || (k.eq_ignore_ascii_case(ENTERPRISE_SCHEMA)
                            && w.len() > k.len()
                            && w[..k.len()].eq_ignore_ascii_case(k))
                })
        };
        m.retain(|k, _| keep(k));
    }
    for ex in excluded.iter().map(norm) {
        if ex.eq_ignore_ascii_case("id") || ex.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let (head, sub) = match ex.split_once('.') {
            Some((h, s)) if !ex.to_ascii_lowercase().starts_with("urn:") => (h.to_string(), Some(s.to_string())),
            _ => (ex.clone(), None),
        };
        let key = m.keys().find(|k| k.eq_ignore_ascii_case(&head)).cloned();
        if let Some(key) = key {
            match sub {
                None => {
                    m.remove(&key);
                }
                Some(s) => {
                    if let Some(Value::Object(inner)) = m.get_mut(&key) {
                        let sk = inner.keys().find(|k| k.eq_ignore_ascii_case(&s)).cloned();
                        if let Some(sk) = sk {
                            inner.remove(&sk);
                        }
                    }
                }
            }
        }
    }
    Value::Object(m)
}

/// What a client sent as a PATCH (`Operations`, spelled in any case).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PatchOp {
    pub op: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
}

/// Reads a PATCH request body into its operations.
pub fn read_patch(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let Value::Object(m) = body else {
        return Err(ScimError::invalid_syntax("The request body must be a JSON object."));
    };
    let ops = m
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
        .map(|(_, v)| v)
        .ok_or_else(|| ScimError::invalid_syntax("A PATCH needs Operations."))?;
    let Value::Array(list) = ops else {
        return Err(ScimError::invalid_syntax("Operations must be an array."));
    };
    if list.len() > MAX_OPERATIONS {
        return Err(ScimError::new(400, Some("tooMany"), format!("At most {MAX_OPERATIONS} operations per PATCH.")));
    }
    list.iter()
        .map(|o| {
            let Value::Object(om) = o else {
                return Err(ScimError::invalid_syntax("Each operation must be an object."));
            };
            let get = |name: &str| om.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            let op = match get("op") {
                Some(Value::String(s)) => s,
                _ => return Err(ScimError::invalid_syntax("Each operation needs an op (add, remove or replace).")),
            };
            let path = match get("path") {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
                Some(Value::String(_)) | Some(Value::Null) | None => None,
                Some(_) => return Err(ScimError::invalid_path("path must be a string.")),
            };
            Ok(PatchOp { op, path, value: get("value") })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Remove,
    Replace,
}

/// The resource being patched: the stored attributes plus `active` and `externalId`, keyed
/// as `read_user` keys them, so the result is read back with `read_user` (a PATCH ends up
/// exactly as valid as a PUT).
pub fn patch_user(current: &StoredUser, user_name_fallback: &str, ops: &[PatchOp]) -> Result<Value, ScimError> {
    let mut r = match &current.attributes {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if !r.contains_key("userName") {
        r.insert("userName".into(), json!(user_name_fallback));
    }
    if r.contains_key("active") || !current.active {
        r.insert("active".into(), json!(current.active));
    }
    if let Some(e) = &current.external_id {
        r.insert("externalId".into(), json!(e));
    }
    let mut r = Value::Object(r);
    for o in ops {
        let op = match o.op.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "remove" => Op::Remove,
            "replace" => Op::Replace,
            other => {
                return Err(ScimError::invalid_syntax(format!("Unknown op '{other}': use add, remove or replace.")))
            }
        };
        match &o.path {
            None => {
                if op == Op::Remove {
                    return Err(ScimError::no_target("A remove needs a path."));
                }
                let Some(Value::Object(values)) = &o.value else {
                    return Err(ScimError::invalid_value("An add or replace without a path takes an object."));
                };
                for (k, v) in values {
                    // Read-only attributes sent along (Okta sends `id`) are ignored, not refused.
                    if ["id", "meta", "schemas"].iter().any(|ro| k.eq_ignore_ascii_case(ro)) {
                        continue;
                    }
                    if k.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
                        if let Value::Object(ext) = v {
                            for (ek, ev) in ext {
                                let p = parse(&format!("{ENTERPRISE_SCHEMA}:{ek}"))?;
                                apply(&mut r, op, &p, Some(ev))?;
                            }
                            continue;
                        }
                    }
                    // Keys may be attribute paths: `name.givenName`, URN-qualified names.
                    let p = parse(k)?;
                    apply(&mut r, op, &p, Some(v))?;
                }
            }
            Some(path) => {
                let p = parse(path)?;
                if op != Op::Remove && o.value.is_none() {
                    return Err(ScimError::invalid_value(format!("{} of {path} needs a value.", o.op)));
                }
                apply(&mut r, op, &p, o.value.as_ref())?;
            }
        }
    }
    Ok(r)
}

fn parse(path: &str) -> Result<PatchPath, ScimError> {
    scim_filter::parse_path(path).map_err(|e| ScimError::invalid_path(format!("{path}: {e}")))
}

/// The object an attribute of `p` lives in: the resource, or its enterprise extension.
fn container<'a>(
    r: &'a mut Value,
    p: &PatchPath,
    create: bool,
) -> Result<Option<&'a mut Map<String, Value>>, ScimError> {
    let urn = p.attr.urn.as_deref().unwrap_or("");
    let Value::Object(root) = r else { return Ok(None) };
    if urn.is_empty() || urn.eq_ignore_ascii_case(USER_SCHEMA) {
        return Ok(Some(root));
    }
    if !urn.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) {
        return Err(ScimError::invalid_path(format!("Unknown schema {urn}.")));
    }
    if !root.contains_key(ENTERPRISE_SCHEMA) {
        if !create {
            return Ok(None);
        }
        root.insert(ENTERPRISE_SCHEMA.into(), Value::Object(Map::new()));
    }
    match root.get_mut(ENTERPRISE_SCHEMA) {
        Some(Value::Object(m)) => Ok(Some(m)),
        _ => Err(ScimError::invalid_value(format!("{ENTERPRISE_SCHEMA} must be an object."))),
    }
}

fn key_of(m: &Map<String, Value>, name: &str) -> String {
    m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned().unwrap_or_else(|| name.to_string())
}

fn is_multi(p: &PatchPath) -> bool {
    let urn = p.attr.urn.as_deref().unwrap_or("");
    let attrs = if urn.eq_ignore_ascii_case(ENTERPRISE_SCHEMA) { ENTERPRISE_ATTRS } else { USER_ATTRS };
    find(attrs, &p.attr.name).is_some_and(|a| a.multi)
}

/// Whether `p` names the enterprise extension itself (`urn:...:enterprise:2.0:User`), which the
/// path grammar reads as the attribute `User` of the schema `urn:...:enterprise:2.0`.
fn is_extension(p: &PatchPath) -> bool {
    p.filter.is_none()
        && p.sub.is_none()
        && p.attr.urn.as_deref().is_some_and(|u| format!("{u}:{}", p.attr.name).eq_ignore_ascii_case(ENTERPRISE_SCHEMA))
}

fn apply(r: &mut Value, op: Op, p: &PatchPath, value: Option<&Value>) -> Result<(), ScimError> {
    if is_extension(p) {
        let Value::Object(root) = r else { return Ok(()) };
        match (op, value) {
            (Op::Remove, _) => {
                root.remove(ENTERPRISE_SCHEMA);
            }
            (Op::Replace, Some(v)) => {
                root.insert(ENTERPRISE_SCHEMA.into(), v.clone());
            }
            (_, Some(Value::Object(new))) => {
                let ext = root.entry(ENTERPRISE_SCHEMA).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(old) = ext {
                    for (k, v) in new {
                        let k2 = key_of(old, k);
                        old.insert(k2, v.clone());
                    }
                }
            }
            _ => return Err(ScimError::invalid_value(format!("{ENTERPRISE_SCHEMA} takes an object."))),
        }
        return Ok(());
    }
    let multi = is_multi(p);
    let Some(c) = container(r, p, op != Op::Remove)? else { return Ok(()) };
    let key = key_of(c, &p.attr.name);
    // `a.b` (attribute and sub-attribute) without a filter.
    let sub = p.sub.clone().or_else(|| p.attr.sub.clone());
    match (&p.filter, sub) {
        (None, None) => match op {
            Op::Remove => {
                match (c.get_mut(&key), value) {
                    // Entra ID's legacy member removal: remove the listed values, not all.
                    (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                        items.retain(|i| !gone.iter().any(|g| same_value(i, g)));
                    }
                    _ => {
                        c.remove(&key);
                    }
                }
                Ok(())
            }
            Op::Add if multi => {
                let new: Vec<Value> = match value {
                    Some(Value::Array(a)) => a.clone(),
                    Some(v) => vec![v.clone()],
                    None => vec![],
                };
                let entry = c.entry(key).or_insert_with(|| Value::Array(vec![]));
                if !entry.is_array() {
                    *entry = Value::Array(vec![]);
                }
                if let Value::Array(items) = entry {
                    for n in new {
                        // Adding what is there already is a no-op (providers retry).
                        if !items.iter().any(|i| i == &n) {
                            items.push(n);
                        }
                    }
                }
                Ok(())
            }
            Op::Add => {
                let v = value.cloned().unwrap_or(Value::Null);
                match (c.get_mut(&key), v) {
                    (Some(Value::Object(old)), Value::Object(new)) => {
                        for (k, v) in new {
                            let k2 = key_of(old, &k);
                            old.insert(k2, v);
                        }
                    }
                    (_, v) => {
                        c.insert(key, v);
                    }
                }
                Ok(())
            }
            Op::Replace => {
                c.insert(key, value.cloned().unwrap_or(Value::Null));
                Ok(())
            }
        },
        (None, Some(sub)) => {
            match c.get_mut(&key) {
                Some(Value::Object(inner)) => {
                    let sk = key_of(inner, &sub);
                    if op == Op::Remove {
                        inner.remove(&sk);
                    } else {
                        inner.insert(sk, value.cloned().unwrap_or(Value::Null));
                    }
                }
                // `emails.value` on a multi-valued attribute: every element.
                Some(Value::Array(items)) => {
                    for i in items.iter_mut() {
                        if let Value::Object(inner) = i {
                            let sk = key_of(inner, &sub);
                            if op == Op::Remove {
                                inner.remove(&sk);
                            } else {
                                inner.insert(sk, value.cloned().unwrap_or(Value::Null));
                            }
                        }
                    }
                }
                _ if op == Op::Remove => {}
                _ => {
                    let mut inner = Map::new();
                    inner.insert(sub, value.cloned().unwrap_or(Value::Null));
                    c.insert(key, Value::Object(inner));
                }
            }
            Ok(())
        }
        (Some(filter), sub) => {
            let items = match c.get_mut(&key) {
                Some(Value::Array(items)) => Some(items),
                _ => None,
            };
            let matched: Vec<usize> = items
                .as_ref()
                .map(|items| {
                    items.iter().enumerate().filter(|(_, i)| scim_filter::matches(filter, i)).map(|(n, _)| n).collect()
                })
                .unwrap_or_default();
            if matched.is_empty() {
                if op == Op::Remove {
                    // Removing what is not there is a no-op (providers retry).
                    return Ok(());
                }
                // `emails[type eq "work"].value` replaced before any work address exists
                // (Entra ID does this): the address is added with that type.
                if let (Some((attr, v)), Some(sub)) = (simple_eq(filter), sub.as_ref()) {
                    let mut entry = Map::new();
                    entry.insert(attr, v);
                    entry.insert(sub.clone(), value.cloned().unwrap_or(Value::Null));
                    let list = c.entry(key).or_insert_with(|| Value::Array(vec![]));
                    if let Value::Array(items) = list {
                        items.push(Value::Object(entry));
                    }
                    return Ok(());
                }
                return Err(ScimError::no_target(format!("No value matches {p}.")));
            }
            let Some(items) = c.get_mut(&key).and_then(Value::as_array_mut) else { return Ok(()) };
            match (op, sub) {
                (Op::Remove, None) => {
                    let mut n = 0;
                    items.retain(|_| {
                        let keep = !matched.contains(&n);
                        n += 1;
                        keep
                    });
                }
                (Op::Remove, Some(sub)) => {
                    for &n in &matched {
                        if let Some(Value::Object(inner)) = items.get_mut(n) {
                            let sk = key_of(inner, &sub);
                            inner.remove(&sk);
                        }
                    }
                }
                (_, Some(sub)) => {
                    for &n in &matched {
                        if let Some(Value::Object(inner)) = items.get_mut(n) {
                            let sk = key_of(inner, &sub);
                            inner.insert(sk, value.cloned().unwrap_or(Value::Null));
                        }
                    }
                }
                (_, None) => {
                    for &n in &matched {
                        if let (Some(Value::Object(inner)), Some(Value::Object(new))) = (items.get_mut(n), value) {
                            for (k, v) in new {
                                let k2 = key_of(inner, k);
                                inner.insert(k2, v.clone());
                            }
                        } else if let (Some(slot), Some(v)) = (items.get_mut(n), value) {
                            *slot = v.clone();
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

/// `type eq "work"` as (attribute, value), for adding the value a filter looked for.
fn simple_eq(f: &Filter) -> Option<(String, Value)> {
    match f {
        Filter::Compare { path, op: scim_filter::CompareOp::Eq, value } if path.sub.is_none() && path.urn.is_none() => {
            Some((path.name.clone(), value.clone()))
        }
        _ => None,
    }
}

/// Two values of a multi-valued attribute are the same one when their `value`s are.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A Group as an identity provider sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInput {
    pub display_name: String,
    pub external_id: Option<String>,
    /// The members' ids as sent (`None`: not sent; a create then has none, a replace keeps
    /// them out: RFC 7644 PUT replaces, so `None` there means none).
    pub members: Option<Vec<String>>,
}

/// The member ids of a `members` value (one member object or a list of them).
fn member_values(v: &Value) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    };
    items
        .into_iter()
        .map(|m| match m.get("value") {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(ScimError::invalid_value("Each member needs a value: the id of a User.")),
        })
        .collect()
}

/// Reads a Group resource (POST, PUT).
pub fn read_group(body: &Value) -> Result<GroupInput, ScimError> {
    let Value::Object(m) = body else {
        return Err(ScimError::invalid_syntax("The request body must be a JSON object."));
    };
    let get = |name: &str| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let display_name = match get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(ScimError::invalid_value("displayName is required."))
        }
        Some(_) => return Err(ScimError::invalid_value("displayName must be a string.")),
    };
    if display_name.chars().count() > 256 {
        return Err(ScimError::invalid_value("displayName must be at most 256 characters."));
    }
    let external_id = match get("externalId") {
        Some(Value::String(s)) => Some(s.clone()),
        None | Some(Value::Null) => None,
        Some(_) => return Err(ScimError::invalid_value("externalId must be a string.")),
    };
    let members = get("members").map(member_values).transpose()?;
    Ok(GroupInput { display_name, external_id, members })
}

/// The stored facts a Group resource is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    pub id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    /// `None`: not loaded (`excludedAttributes=members`).
    pub members: Option<Vec<i64>>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The Group resource Roster answers with.
pub fn group_resource(g: &StoredGroup, base: &str) -> Value {
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_SCHEMA]));
    out.insert("id".into(), json!(g.id.to_string()));
    if let Some(e) = &g.external_id {
        out.insert("externalId".into(), json!(e));
    }
    out.insert("displayName".into(), json!(g.display_name));
    if let Some(members) = &g.members {
        let list: Vec<Value> = members
            .iter()
            .map(|m| json!({ "value": m.to_string(), "$ref": format!("{base}/Users/{m}"), "type": "User" }))
            .collect();
        out.insert("members".into(), Value::Array(list));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": super::audit::iso_time(g.created_at),
            "lastModified": super::audit::iso_time(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
            "version": format!("W/\"{}\"", g.updated_at),
        }),
    );
    Value::Object(out)
}

/// A change to a group's members, in the order the PATCH gave them.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    Add(Vec<String>),
    Remove(Vec<String>),
    /// `members[filter]`: those of the current members the filter matches.
    RemoveWhere(Filter),
    RemoveAll,
    Replace(Vec<String>),
}

/// What a PATCH of a Group changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupPatch {
    pub display_name: Option<String>,
    /// `Some(None)`: removed.
    pub external_id: Option<Option<String>>,
    pub members: Vec<MemberOp>,
}

/// Reads a Group PATCH the way real providers send it: Okta's rename with the read-only `id`
/// in the value, `members[value eq "..."]` removals, Entra's PascalCase ops and its legacy
/// removal with a value list (those members, not all), adds of members already there.
pub fn plan_group_patch(ops: &[PatchOp]) -> Result<GroupPatch, ScimError> {
    let mut plan = GroupPatch::default();
    let text = |v: &Value, what: &str| match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(ScimError::invalid_value(format!("{what} must be a string."))),
    };
    for o in ops {
        let op = match o.op.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "remove" => Op::Remove,
            "replace" => Op::Replace,
            other => {
                return Err(ScimError::invalid_syntax(format!("Unknown op '{other}': use add, remove or replace.")))
            }
        };
        match &o.path {
            None => {
                if op == Op::Remove {
                    return Err(ScimError::no_target("A remove needs a path."));
                }
                let Some(Value::Object(values)) = &o.value else {
                    return Err(ScimError::invalid_value("An add or replace without a path takes an object."));
                };
                for (k, v) in values {
                    let k = k.trim_start_matches(&format!("{GROUP_SCHEMA}:"));
                    if k.eq_ignore_ascii_case("displayName") {
                        plan.display_name = Some(text(v, "displayName")?);
                    } else if k.eq_ignore_ascii_case("externalId") {
                        plan.external_id = Some(if v.is_null() { None } else { Some(text(v, "externalId")?) });
                    } else if k.eq_ignore_ascii_case("members") {
                        let ids = member_values(v)?;
                        plan.members.push(if op == Op::Add { MemberOp::Add(ids) } else { MemberOp::Replace(ids) });
                    }
                    // (id, meta, schemas and attributes Roster does not store: ignored)
                }
            }
            Some(path) => {
                let p = parse(path)?;
                let urn_ok = p.attr.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(GROUP_SCHEMA));
                let name = p.attr.name.to_ascii_lowercase();
                if !urn_ok {
                    return Err(ScimError::invalid_path(format!("{path}: Groups have no such attribute.")));
                }
                let value = o.value.as_ref();
                match (name.as_str(), op) {
                    ("displayname", Op::Remove) => {
                        return Err(ScimError::invalid_value("displayName is required: it cannot be removed."))
                    }
                    ("displayname", _) => {
                        let v = value.ok_or_else(|| ScimError::invalid_value("displayName needs a value."))?;
                        plan.display_name = Some(text(v, "displayName")?);
                    }
                    ("externalid", Op::Remove) => plan.external_id = Some(None),
                    ("externalid", _) => {
                        let v = value.ok_or_else(|| ScimError::invalid_value("externalId needs a value."))?;
                        plan.external_id = Some(Some(text(v, "externalId")?));
                    }
                    ("members", Op::Remove) => match (&p.filter, value) {
                        (Some(f), _) => plan.members.push(match simple_eq(f) {
                            Some((attr, Value::String(v))) if attr.eq_ignore_ascii_case("value") => {
                                MemberOp::Remove(vec![v])
                            }
                            _ => MemberOp::RemoveWhere(f.clone()),
                        }),
                        // Entra ID's legacy form: remove the listed members, not all of them.
                        (None, Some(v)) if !v.is_null() => plan.members.push(MemberOp::Remove(member_values(v)?)),
                        (None, _) => plan.members.push(MemberOp::RemoveAll),
                    },
                    ("members", _) if p.filter.is_some() => {
                        return Err(ScimError::invalid_path(
                            "Members are added or replaced as a list, not through a filter.",
                        ))
                    }
                    ("members", op) => {
                        let v = value.ok_or_else(|| ScimError::invalid_value("members needs a value."))?;
                        let ids = member_values(v)?;
                        plan.members.push(if op == Op::Add { MemberOp::Add(ids) } else { MemberOp::Replace(ids) });
                    }
                    _ => return Err(ScimError::invalid_path(format!("{path}: Groups have no such attribute."))),
                }
            }
        }
    }
    Ok(plan)
}

/// The schema description of `attrs` (for `/Schemas`).
fn describe(attrs: &[Attr]) -> Vec<Value> {
    attrs
        .iter()
        .map(|a| {
            let mut d = json!({
                "name": a.name,
                "type": match a.kind { Kind::String => "string", Kind::Boolean => "boolean", Kind::Complex => "complex", Kind::Reference => "reference" },
                "multiValued": a.multi,
                "description": a.description,
                "required": a.required,
                "caseExact": a.case_exact,
                "mutability": a.mutability,
                "returned": a.returned,
                "uniqueness": a.uniqueness,
            });
            if a.kind == Kind::Complex {
                d["subAttributes"] = Value::Array(describe(a.subs));
            }
            if !a.canonical.is_empty() {
                d["canonicalValues"] = json!(a.canonical);
            }
            if a.kind == Kind::Reference {
                // (a manager and a group member are Users: groups do not nest in Roster)
                d["referenceTypes"] = json!(["User"]);
            }
            d
        })
        .collect()
}

/// `/Schemas`: the User schema and the enterprise extension, with only what Roster stores.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": USER_SCHEMA,
            "name": "User",
            "description": "A Roster account provisioned by this connection.",
            "attributes": describe(USER_ATTRS),
            "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{USER_SCHEMA}") },
        }),
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": GROUP_SCHEMA,
            "name": "Group",
            "description": "A group the identity provider pushes; it grants nothing until mapped.",
            "attributes": describe(GROUP_ATTRS),
            "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{GROUP_SCHEMA}") },
        }),
        json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": ENTERPRISE_SCHEMA,
            "name": "EnterpriseUser",
            "description": "Enterprise attributes, stored as sent.",
            "attributes": describe(ENTERPRISE_ATTRS),
            "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{ENTERPRISE_SCHEMA}") },
        }),
    ]
}

/// `/ResourceTypes`.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "Roster accounts",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{ "schema": ENTERPRISE_SCHEMA, "required": false }],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") },
        }),
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Directory groups",
            "schema": GROUP_SCHEMA,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") },
        }),
    ]
}

/// `/ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SP_CONFIG_SCHEMA],
        "documentationUri": "https://github.com/roster/roster/blob/main/docs/provisioning.md",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token of this SCIM connection, in the Authorization header.",
            "primary": true,
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig") },
    })
}

/// A list response page.
pub fn list_response(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A list request's `startIndex` and `count`, tolerating what the RFC says to tolerate
/// (startIndex < 1 means 1; a negative count means 0) and capping the page.
pub fn paging(start_index: Option<&str>, count: Option<&str>) -> Result<(i64, i64), ScimError> {
    let num = |name: &str, v: Option<&str>, default: i64| -> Result<i64, ScimError> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => {
                s.parse::<i64>().map_err(|_| ScimError::invalid_value(format!("{name} must be a whole number.")))
            }
        }
    };
    let start = num("startIndex", start_index, 1)?.max(1);
    let count = num("count", count, DEFAULT_COUNT)?.clamp(0, MAX_COUNT);
    Ok((start, count))
}

/// Splits a comma-separated `attributes` parameter.
pub fn attribute_list(raw: Option<&str>) -> Vec<String> {
    raw.map(|s| s.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(attributes: Value) -> StoredUser {
        StoredUser { id: 7, external_id: Some("ext-7".into()), attributes, active: true, created_at: 0, updated_at: 0 }
    }

    #[test]
    fn an_okta_create_is_read_and_kept_as_sent() {
        let body = json!({
            "schemas": [USER_SCHEMA],
            "userName": "test.user@okta.local",
            "name": { "givenName": "Test", "familyName": "User" },
            "emails": [{ "primary": true, "value": "test.user@okta.local", "type": "work" }],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": true,
            "unknownThing": 1,
        });
        let u = read_user(&body).unwrap();
        assert_eq!(u.user_name, "test.user@okta.local");
        assert_eq!(u.full_name, "Test User");
        assert_eq!(u.email, "test.user@okta.local");
        assert_eq!(u.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
        assert_eq!(u.active, Some(true));
        assert!(u.attributes.get("password").is_none(), "never stored");
        assert!(u.attributes.get("unknownThing").is_none(), "not stored, so not kept");
        assert_eq!(u.attributes["emails"], body["emails"]);
        assert_eq!(u.attributes["locale"], "en-US");
    }

    #[test]
    fn names_and_emails_fall_back_in_order() {
        let u = read_user(&json!({"userName": "a", "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "home@x.org", "type": "home"}, {"value": "WORK@x.org", "type": "Work"}]}))
        .unwrap();
        assert_eq!(u.full_name, "Ada Lovelace");
        assert_eq!(u.email, "WORK@x.org", "the work address when none is primary, as sent");
        let u = read_user(&json!({"userName": "a", "name": {"formatted": "Dr. Ada"}, "emails": [{"value": "x@y.z"}]}))
            .unwrap();
        assert_eq!((u.full_name.as_str(), u.email.as_str()), ("Dr. Ada", "x@y.z"));
    }

    #[test]
    fn bad_users_are_refused_with_invalid_value() {
        for (body, says) in [
            (json!({}), "userName is required"),
            (json!({"userName": 5}), "userName must be a string"),
            (json!({"userName": "a", "active": "maybe"}), "active must be true or false"),
            (json!({"userName": "a", "emails": [{"value": 1}]}), "emails.value must be a string"),
            (json!({"userName": "a", "name": "x"}), "name must be an object"),
        ] {
            let e = read_user(&body).unwrap_err();
            assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")), "{body}");
            assert!(e.detail.contains(says), "{} should say {says}", e.detail);
        }
        assert_eq!(read_user(&json!([])).unwrap_err().scim_type, Some("invalidSyntax"));
    }

    #[test]
    fn active_takes_strings_in_any_case() {
        assert_eq!(read_user(&json!({"userName": "a", "active": "False"})).unwrap().active, Some(false));
        assert_eq!(read_user(&json!({"userName": "a", "active": "TRUE"})).unwrap().active, Some(true));
        assert_eq!(read_user(&json!({"userName": "a"})).unwrap().active, None);
    }

    fn patch(current: &StoredUser, ops: Value) -> Result<UserInput, ScimError> {
        let ops = read_patch(&json!({ "schemas": [PATCH_SCHEMA], "Operations": ops }))?;
        read_user(&patch_user(current, "fallback", &ops)?)
    }

    #[test]
    fn okta_deactivates_with_a_replace_without_a_path() {
        let cur = stored(json!({"userName": "u1"}));
        let u = patch(&cur, json!([{"op": "replace", "value": {"active": false}}])).unwrap();
        assert_eq!(u.active, Some(false));
        assert_eq!(u.user_name, "u1");
        assert_eq!(u.external_id.as_deref(), Some("ext-7"), "kept");
    }

    #[test]
    fn entra_pascal_case_ops_string_booleans_and_value_paths() {
        let cur =
            stored(json!({"userName": "u1", "emails": [{"value": "old@x.org", "type": "work", "primary": true}]}));
        let u = patch(
            &cur,
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"},
                {"op": "Add", "path": "name.givenName", "value": "Given"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": "42"},
            ]),
        )
        .unwrap();
        assert_eq!(u.active, Some(false));
        assert_eq!(u.email, "new@x.org");
        assert_eq!(u.attributes["emails"][0]["type"], "work");
        assert_eq!(u.attributes["name"]["givenName"], "Given");
        assert_eq!(u.attributes[ENTERPRISE_SCHEMA]["employeeNumber"], "42");
    }

    #[test]
    fn a_replace_without_a_path_takes_dotted_and_urn_keys_and_ignores_id() {
        let cur = stored(json!({"userName": "u1", "name": {"familyName": "F"}}));
        let u = patch(
            &cur,
            json!([{"op": "replace", "value": {
                "id": "999",
                "displayName": "New Name",
                "name.givenName": "G",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Data",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
            }}]),
        )
        .unwrap();
        assert_eq!(u.full_name, "New Name");
        assert_eq!(u.attributes["name"], json!({"familyName": "F", "givenName": "G"}));
        assert_eq!(u.attributes[ENTERPRISE_SCHEMA], json!({"department": "Data", "employeeNumber": "7"}));
    }

    #[test]
    fn adding_an_email_twice_is_a_no_op_and_removes_take_filters() {
        let cur = stored(json!({"userName": "u1", "emails": [{"value": "a@x.org", "type": "work"}]}));
        let add = json!({"op": "add", "path": "emails", "value": [{"value": "b@x.org", "type": "home"}]});
        let u = patch(&cur, json!([add.clone(), add])).unwrap();
        assert_eq!(u.attributes["emails"].as_array().unwrap().len(), 2);
        let u = patch(&cur, json!([{"op": "remove", "path": "emails[type eq \"work\"]"}])).unwrap();
        assert!(u.attributes.get("emails").is_none(), "an empty list is not kept");
        // Removing what is not there succeeds.
        patch(&cur, json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).unwrap();
        patch(&cur, json!([{"op": "remove", "path": "title"}])).unwrap();
    }

    #[test]
    fn the_legacy_remove_with_a_value_list_removes_only_those() {
        let cur = stored(json!({"userName": "u1", "emails": [{"value": "a@x.org"}, {"value": "b@x.org"}]}));
        let u = patch(&cur, json!([{"op": "Remove", "path": "emails", "value": [{"value": "a@x.org"}]}])).unwrap();
        assert_eq!(u.attributes["emails"], json!([{"value": "b@x.org"}]));
    }

    #[test]
    fn bad_patches_say_why() {
        let cur = stored(json!({"userName": "u1"}));
        for (ops, kind) in [
            (json!([{"op": "move", "path": "title", "value": "x"}]), "invalidSyntax"),
            (json!([{"op": "remove"}]), "noTarget"),
            (json!([{"op": "replace", "value": 3}]), "invalidValue"),
            (json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]), "invalidPath"),
            (json!([{"op": "replace", "path": "urn:x:y:Thing:attr", "value": "x"}]), "invalidPath"),
            (json!([{"op": "replace", "path": "userName"}]), "invalidValue"),
            (json!([{"op": "replace", "path": "userName", "value": ""}]), "invalidValue"),
            (json!([{"op": "replace", "path": "emails[value eq \"none\"]", "value": {"type": "x"}}]), "noTarget"),
        ] {
            let e = patch(&cur, ops.clone()).unwrap_err();
            assert_eq!(e.scim_type, Some(kind), "{ops}: {e}");
        }
        assert!(read_patch(&json!({"schemas": []})).is_err());
        assert!(read_patch(&json!({"operations": []})).is_ok(), "the key in any case");
    }

    #[test]
    fn the_resource_carries_id_meta_and_active_and_never_a_password() {
        let u = read_user(&json!({"userName": "u1", "password": "secret", "active": false})).unwrap();
        let s = StoredUser {
            id: 3,
            external_id: None,
            attributes: u.attributes,
            active: u.active.unwrap_or(true),
            created_at: 1_000,
            updated_at: 2_000,
        };
        let r = user_resource(&s, "https://r.example/scim/v2/okta");
        assert_eq!(r["id"], "3");
        assert_eq!(r["active"], false);
        assert_eq!(r["meta"]["location"], "https://r.example/scim/v2/okta/Users/3");
        assert_eq!(r["meta"]["created"], "1970-01-01T00:00:01.000Z");
        assert!(!r.to_string().contains("secret"));
        let p = project(r.clone(), &["userName".into()], &[]);
        assert_eq!(p.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["id", "schemas", "userName"]);
        let p = project(r, &[], &["meta".into(), "active".into()]);
        assert!(p.get("meta").is_none() && p.get("active").is_none() && p.get("userName").is_some());
    }

    #[test]
    fn active_is_echoed_when_sent_or_when_the_account_is_disabled() {
        let mut s = stored(json!({"userName": "u1"}));
        assert!(user_resource(&s, "b").get("active").is_none());
        s.active = false;
        assert_eq!(user_resource(&s, "b")["active"], false);
        let u = patch(&stored(json!({"userName": "u1", "active": true})), json!([{"op": "remove", "path": "active"}]))
            .unwrap();
        assert_eq!(u.active, None, "removed: the status is left as it is");
        assert!(u.attributes.get("active").is_none());
    }

    #[test]
    fn the_enterprise_extension_is_removed_or_replaced_whole() {
        let cur = stored(json!({"userName": "u1", ENTERPRISE_SCHEMA: {"department": "D"}}));
        let u = patch(&cur, json!([{"op": "remove", "path": ENTERPRISE_SCHEMA}])).unwrap();
        assert!(u.attributes.get(ENTERPRISE_SCHEMA).is_none());
        let u = patch(&cur, json!([{"op": "add", "path": ENTERPRISE_SCHEMA, "value": {"division": "V"}}])).unwrap();
        assert_eq!(u.attributes[ENTERPRISE_SCHEMA], json!({"department": "D", "division": "V"}));
    }

    #[test]
    fn user_names_roster_refuses_become_usernames_it_accepts() {
        assert_eq!(roster_username("test.user@okta.local", 1), "test.user@okta.local");
        assert_eq!(roster_username("59cec259-fcc5", 1), "_59cec259-fcc5");
        assert_eq!(roster_username("Ann Lee+x", 1), "Ann_Lee_x");
        assert_eq!(roster_username("ann", 2), "ann-2");
        let long = "a".repeat(300);
        assert_eq!(roster_username(&long, 12).len(), super::super::validate::USERNAME_MAX);
        for n in [1, 2, 99] {
            for name in ["59cec259", "ünïcode", " lead", "x".repeat(100).as_str(), "ok@x.org"] {
                let u = roster_username(name, n);
                assert!(super::super::validate::username(&u).is_ok(), "{name} -> {u}");
            }
        }
    }

    fn group_plan(ops: Value) -> Result<GroupPatch, ScimError> {
        plan_group_patch(&read_patch(&json!({ "Operations": ops }))?)
    }

    #[test]
    fn group_patches_are_read_the_way_providers_send_them() {
        let p = group_plan(json!([
            {"op": "replace", "value": {"id": "9", "displayName": "Eng"}},
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "1"}, {"value": 2}]},
            {"op": "remove", "path": "members[value eq \"1\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "2"}]},
            {"op": "remove", "path": "members[value sw \"3\"]"},
            {"op": "remove", "path": "members"},
            {"op": "replace", "path": "externalId", "value": "x"},
        ]))
        .unwrap();
        assert_eq!(p.display_name.as_deref(), Some("Eng"), "the read-only id ignored");
        assert_eq!(p.external_id, Some(Some("x".into())));
        assert_eq!(p.members.len(), 5);
        assert_eq!(p.members[0], MemberOp::Add(vec!["1".into(), "2".into()]));
        assert_eq!(p.members[1], MemberOp::Remove(vec!["1".into()]));
        assert_eq!(p.members[2], MemberOp::Remove(vec!["2".into()]), "the legacy value list: those only");
        assert!(matches!(p.members[3], MemberOp::RemoveWhere(_)));
        assert_eq!(p.members[4], MemberOp::RemoveAll);
        for (ops, kind) in [
            (json!([{"op": "remove", "path": "displayName"}]), "invalidValue"),
            (json!([{"op": "add", "path": "members", "value": [{"display": "x"}]}]), "invalidValue"),
            (json!([{"op": "add", "path": "owner", "value": "x"}]), "invalidPath"),
            (json!([{"op": "add", "path": "members[value eq \"1\"]", "value": "x"}]), "invalidPath"),
        ] {
            assert_eq!(group_plan(ops.clone()).unwrap_err().scim_type, Some(kind), "{ops}");
        }
        assert_eq!(read_group(&json!({"members": []})).unwrap_err().scim_type, Some("invalidValue"));
        let g = read_group(&json!({"displayName": "G", "members": [{"value": "4"}]})).unwrap();
        assert_eq!(g.members, Some(vec!["4".to_string()]));
    }

    #[test]
    fn paging_is_tolerant_and_capped() {
        assert_eq!(paging(None, None).unwrap(), (1, DEFAULT_COUNT));
        assert_eq!(paging(Some("0"), Some("-5")).unwrap(), (1, 0));
        assert_eq!(paging(Some("3"), Some("100000")).unwrap(), (3, MAX_COUNT));
        assert_eq!(paging(Some("x"), None).unwrap_err().scim_type, Some("invalidValue"));
    }

    #[test]
    fn schemas_advertise_exactly_what_read_user_keeps() {
        let s = schemas("b");
        let names: Vec<&str> =
            s[0]["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        for n in &names {
            assert!(find(USER_ATTRS, n).is_some());
        }
        assert!(names.contains(&"userName") && names.contains(&"emails") && !names.contains(&"phoneNumbers"));
        let pw = s[0]["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!((pw["mutability"].as_str(), pw["returned"].as_str()), (Some("writeOnly"), Some("never")));
    }
}
