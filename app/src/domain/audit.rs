//! The audit trail as the viewer, the JSON API, the export and the CLI see it: one entry, a
//! page of entries, the filter and its validation, the before/after comparison shown in the
//! UI, and the CSV/JSON Lines encodings of an export.
//!
//! Filters arrive as text (URL query, form, CLI flags) and are validated here once, so every
//! adapter rejects the same input with the same field errors. Entries are ordered newest
//! first by (time, id); page cursors are event ids.
use serde::{Deserialize, Serialize};

use super::error::{Error, FieldError};

/// One audit event as listed at /admin/audit and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// Unix milliseconds, UTC.
    pub at: i64,
    pub actor: Option<String>,
    pub target: Option<String>,
    #[serde(default)]
    pub org_id: Option<i64>,
    pub event: String,
    pub outcome: String,
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// JSON documents (text), never containing a secret.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A page of entries, newest first, with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEntry>,
    /// Pass back as `before` for the next older page (None: this is the oldest).
    pub older: Option<i64>,
    /// Pass back as `after` for the next newer page (None: this is the newest).
    pub newer: Option<i64>,
}

/// Events the services write, for the viewer's suggestions (the filter accepts any name:
/// older versions may have written others).
pub const KNOWN_EVENTS: &[&str] = &[
    "sign_in",
    "sign_out",
    "password.changed",
    "user.",
    "user.created",
    "user.signed_up",
    "user.updated",
    "user.disabled",
    "user.enabled",
    "user.deleted",
    "user.password_rehashed",
    "user.imported",
    "user.import_updated",
    "account_access.",
    "account_access.granted",
    "account_access.revoked",
    "role.",
    "role.created",
    "role.renamed",
    "role.deleted",
    "role.ability_granted",
    "role.ability_revoked",
    "org.",
    "org.created",
    "org.renamed",
    "org.deleted",
    "member.",
    "member.added",
    "member.updated",
    "member.removed",
    "database.",
    "database.created",
    "database.updated",
    "database.deleted",
    "database.tested",
    "database_credential.",
    "database_credential.created",
    "database_credential.updated",
    "database_credential.deleted",
    "database_credential.tested",
    "database_mapping.",
    "database_mapping.created",
    "database_mapping.updated",
    "database_mapping.deleted",
    "database_mapping.tested",
    "database_login.",
    "database_login.read",
    "secrets.",
    "secrets.rotated",
    "accounts.",
    "accounts.imported",
    "accounts.exported",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Outcome::Success),
            "failure" => Some(Outcome::Failure),
            _ => None,
        }
    }
}

/// Which events: an exact name, or every event of a category (`user.` matches `user.created`,
/// `user.deleted` ...). Categories are what is before the first dot, so the store can answer
/// them from one index instead of sorting every match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventMatch {
    Exact(String),
    Category(String),
}

/// A validated filter; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Who acted (a username, or `cli`); compared case-insensitively.
    pub actor: Option<String>,
    /// What was acted on (a username, `role:NAME`, `org:NAME`); case-insensitive.
    pub target: Option<String>,
    pub org: Option<i64>,
    pub event: Option<EventMatch>,
    pub outcome: Option<Outcome>,
    /// Unix milliseconds, both inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditSeek {
    /// The newest matching events.
    #[default]
    Newest,
    /// Events older than this event id.
    Before(i64),
    /// Events newer than this event id (the store walks up, the page is still newest first).
    After(i64),
}

/// The filter and cursor as text, the way they arrive from a URL, a form or the CLI. Empty
/// strings mean "not given" (an HTML form sends every input).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub org: Option<String>,
    pub event: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

const MAX_NAME: usize = 200;

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl AuditQuery {
    /// Reads the query parameters a page, the API or an export link carries (unknown keys are
    /// ignored, so `format` or `limit` can share the query string).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = AuditQuery::default();
        for (k, v) in pairs {
            let slot = match k {
                "actor" => &mut q.actor,
                "target" => &mut q.target,
                "org" => &mut q.org,
                "event" => &mut q.event,
                "outcome" => &mut q.outcome,
                "from" => &mut q.from,
                "to" => &mut q.to,
                "before" => &mut q.before,
                "after" => &mut q.after,
                _ => continue,
            };
            *slot = Some(v.to_string());
        }
        q
    }

    /// The filter part as query-string pairs (non-empty values only), for links that keep
    /// the current filters: pager, export, CLI help.
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("target", &self.target),
            ("org", &self.org),
            ("event", &self.event),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k, v.to_string())))
        .collect()
    }

    /// Checks every field and reports all problems at once.
    pub fn validate(&self) -> Result<(AuditFilter, AuditSeek), Error> {
        let mut errors = Vec::new();
        let actor = keep(&mut errors, name_filter("actor", "actor", given(&self.actor)));
        let target = keep(&mut errors, name_filter("target", "target", given(&self.target)));
        let org = keep(
            &mut errors,
            given(&self.org)
                .map(|s| match s.parse::<i64>() {
                    Ok(id) if id > 0 => Ok(id),
                    _ => Err(FieldError::new("org", "The organization must be an organization id.")),
                })
                .transpose(),
        );
        let event = keep(&mut errors, given(&self.event).map(parse_event).transpose());
        let outcome = keep(
            &mut errors,
            given(&self.outcome)
                .map(|s| {
                    Outcome::parse(&s.to_ascii_lowercase())
                        .ok_or_else(|| FieldError::new("outcome", "The outcome must be success or failure."))
                })
                .transpose(),
        );
        let from = keep(&mut errors, given(&self.from).map(|s| parse_time("from", s, false)).transpose());
        let to = keep(&mut errors, given(&self.to).map(|s| parse_time("to", s, true)).transpose());
        let cursor = |field: &str, v: &Option<String>| {
            given(v)
                .map(|s| match s.parse::<i64>() {
                    Ok(id) if id > 0 => Ok(id),
                    _ => Err(FieldError::new(field, "The page cursor must be an event id.")),
                })
                .transpose()
        };
        let before = keep(&mut errors, cursor("before", &self.before));
        let after = keep(&mut errors, cursor("after", &self.after));
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push(FieldError::new("from", "The start of the time range is after its end."));
            }
        }
        let seek = match (before, after) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new("before", "Give either `before` or `after`, not both."));
                AuditSeek::Newest
            }
            (Some(b), None) => AuditSeek::Before(b),
            (None, Some(a)) => AuditSeek::After(a),
            (None, None) => AuditSeek::Newest,
        };
        if !errors.is_empty() {
            return Err(Error::Invalid { errors });
        }
        Ok((AuditFilter { actor, target, org, event, outcome, from, to }, seek))
    }
}

/// The value of a checked field; its error is collected so all are reported together.
fn keep<T>(errors: &mut Vec<FieldError>, r: Result<Option<T>, FieldError>) -> Option<T> {
    r.unwrap_or_else(|e| {
        errors.push(e);
        None
    })
}

fn name_filter(field: &str, what: &str, v: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(s) = v else { return Ok(None) };
    if s.chars().count() > MAX_NAME {
        return Err(FieldError::new(field, format!("The {what} must be at most {MAX_NAME} characters.")));
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("The {what} cannot contain control characters.")));
    }
    Ok(Some(s.to_string()))
}

/// `user.created` (exact), `user.` or `user.*` (category), `sign_in` (exact).
fn parse_event(raw: &str) -> Result<EventMatch, FieldError> {
    let s = raw.strip_suffix('*').unwrap_or(raw).to_ascii_lowercase();
    let bad =
        || FieldError::new("event", "Enter an event name like user.created, or a category ending in a dot like user.");
    if s.is_empty()
        || s.len() > 64
        || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c))
    {
        return Err(bad());
    }
    if let Some(category) = s.strip_suffix('.') {
        // Only the part before the first dot is a category (what the store indexes).
        if category.is_empty() || category.contains('.') {
            return Err(bad());
        }
        return Ok(EventMatch::Category(s));
    }
    if raw.ends_with('*') || s.starts_with('.') || s.contains("..") {
        return Err(bad());
    }
    Ok(EventMatch::Exact(s))
}

/// Unix milliseconds, or a UTC date / date-time as an `<input type=date|datetime-local>` sends
/// it (`2026-11-22`, `2026-11-22T10:30`, `2026-11-22T10:30:15`, optional trailing `Z`). An end
/// (`to`) given as a date or to the minute includes that whole day or minute: "to 22 Nov"
/// means up to the end of 22 Nov.
pub fn parse_time(field: &str, raw: &str, end: bool) -> Result<i64, FieldError> {
    let bad = || FieldError::new(field, "Enter a time as YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or unix milliseconds.");
    if raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse::<i64>().map_err(|_| bad());
    }
    let s = raw.strip_suffix('Z').unwrap_or(raw);
    let (date, clock) = match s.split_once(['T', ' ']) {
        Some((d, c)) => (d, Some(c)),
        None => (s, None),
    };
    let num = |p: &str, len: usize| -> Result<i64, FieldError> {
        if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
            p.parse::<i64>().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let d: Vec<&str> = date.split('-').collect();
    let [y, mo, da] = d.as_slice() else { return Err(bad()) };
    let (y, mo, da) = (num(y, 4)?, num(mo, 2)?, num(da, 2)?);
    let month = u8::try_from(mo).ok().and_then(|m| time::Month::try_from(m).ok()).ok_or_else(bad)?;
    let day = u8::try_from(da).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(y as i32, month, day).map_err(|_| bad())?;
    let (h, mi, se, span_ms) = match clock {
        None => (0, 0, 0, 86_400_000),
        Some(c) => {
            let c: Vec<&str> = c.split(':').collect();
            match c.as_slice() {
                [h, m] => (num(h, 2)?, num(m, 2)?, 0, 60_000),
                [h, m, sec] => (num(h, 2)?, num(m, 2)?, num(sec, 2)?, 1000),
                _ => return Err(bad()),
            }
        }
    };
    let t = time::Time::from_hms(
        u8::try_from(h).map_err(|_| bad())?,
        u8::try_from(mi).map_err(|_| bad())?,
        u8::try_from(se).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let start = time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp() * 1000;
    Ok(if end { start + span_ms - 1 } else { start })
}

/// Unix milliseconds as ISO 8601 UTC with milliseconds (`2026-11-22T10:30:00.123Z`).
pub fn iso_time(ms: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ms.rem_euclid(1000)
        ),
        Err(_) => String::new(),
    }
}

/// One key of a before/after comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// Key-by-key comparison of two JSON objects (values as compact JSON, strings unquoted), in
/// key order. `None` when either side is present but not an object: show it as text instead.
pub fn diff(before: Option<&str>, after: Option<&str>) -> Option<Vec<Change>> {
    use serde_json::{Map, Value};
    fn object(s: Option<&str>) -> Option<Option<Map<String, Value>>> {
        match s {
            None => Some(None),
            Some(t) => match serde_json::from_str::<Value>(t) {
                Ok(Value::Object(m)) => Some(Some(m)),
                Ok(Value::Null) => Some(None),
                _ => None,
            },
        }
    }
    fn text(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    let (b, a) = (object(before)?, object(after)?);
    let mut keys: Vec<&String> = b.iter().chain(a.iter()).flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    Some(
        keys.into_iter()
            .map(|k| Change {
                key: k.clone(),
                before: b.as_ref().and_then(|m| m.get(k)).map(text),
                after: a.as_ref().and_then(|m| m.get(k)).map(text),
            })
            .collect(),
    )
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "jsonl" => Ok(ExportFormat::JsonLines),
            _ => Err(Error::invalid("format", "The export format must be csv or jsonl.")),
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::JsonLines => "application/jsonl; charset=utf-8",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::JsonLines => "jsonl",
        }
    }
    /// What comes before the first entry (the CSV header row).
    pub fn header(self) -> &'static str {
        match self {
            ExportFormat::Csv => "id,time,at_ms,event,outcome,actor,target,org_id,ip,user_agent,before,after\r\n",
            ExportFormat::JsonLines => "",
        }
    }
    /// Appends one entry (one CSV record or one JSON line) to `out`.
    pub fn write(self, e: &AuditEntry, out: &mut String) {
        match self {
            ExportFormat::Csv => csv_record(e, out),
            ExportFormat::JsonLines => {
                out.push_str(&jsonl_line(e));
                out.push('\n');
            }
        }
    }
}

/// One CSV record (RFC 4180: CRLF line ends, fields quoted when they hold a quote, comma or
/// line break, quotes doubled). Text cells that a spreadsheet would run as a formula (starting
/// with = + - @, tab or CR) get a leading `'`: actors, targets and user agents come from
/// request input, so an export opened in a spreadsheet must not execute them.
fn csv_record(e: &AuditEntry, out: &mut String) {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let cells = [
        e.id.to_string(),
        iso_time(e.at),
        e.at.to_string(),
        guard(&e.event),
        guard(&e.outcome),
        guard(&o(&e.actor)),
        guard(&o(&e.target)),
        e.org_id.map(|i| i.to_string()).unwrap_or_default(),
        guard(&o(&e.ip)),
        guard(&o(&e.user_agent)),
        guard(&o(&e.before)),
        guard(&o(&e.after)),
    ];
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if c.contains(['"', ',', '\r', '\n']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push_str("\r\n");
}

/// The formula-injection guard for one CSV text cell.
pub fn guard(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// One JSON object per event; before/after as JSON values (text if they do not parse).
fn jsonl_line(e: &AuditEntry) -> String {
    let doc = |v: &Option<String>| match v {
        None => serde_json::Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.clone())),
    };
    serde_json::json!({
        "id": e.id,
        "time": iso_time(e.at),
        "at": e.at,
        "event": e.event,
        "outcome": e.outcome,
        "actor": e.actor,
        "target": e.target,
        "org_id": e.org_id,
        "ip": e.ip,
        "user_agent": e.user_agent,
        "before": doc(&e.before),
        "after": doc(&e.after),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> AuditQuery {
        AuditQuery::from_pairs(pairs.iter().copied())
    }

    fn fields(e: Error) -> Vec<String> {
        match e {
            Error::Invalid { errors } => errors.into_iter().map(|f| f.field).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn empty_query_is_no_filter_newest_first() {
        let (f, s) = q(&[("actor", ""), ("event", "  ")]).validate().expect("valid");
        assert_eq!(f, AuditFilter::default());
        assert_eq!(s, AuditSeek::Newest);
    }

    #[test]
    fn every_filter_parses() {
        let (f, s) = q(&[
            ("actor", " Admin "),
            ("target", "role:Viewer"),
            ("org", "3"),
            ("event", "user.created"),
            ("outcome", "Failure"),
            ("from", "2026-11-22"),
            ("to", "2026-11-22T10:30"),
            ("before", "42"),
        ])
        .validate()
        .expect("valid");
        assert_eq!(f.actor.as_deref(), Some("Admin"));
        assert_eq!(f.target.as_deref(), Some("role:Viewer"));
        assert_eq!(f.org, Some(3));
        assert_eq!(f.event, Some(EventMatch::Exact("user.created".into())));
        assert_eq!(f.outcome, Some(Outcome::Failure));
        assert_eq!(f.from, Some(1_795_305_600_000));
        // the whole minute 10:30 is included
        assert_eq!(f.to, Some(1_795_305_600_000 + (10 * 60 + 31) * 60_000 - 1));
        assert_eq!(s, AuditSeek::Before(42));
    }

    #[test]
    fn event_categories_and_their_limits() {
        let ev = |s: &str| q(&[("event", s)]).validate().map(|(f, _)| f.event);
        assert_eq!(ev("user.").expect("ok"), Some(EventMatch::Category("user.".into())));
        assert_eq!(ev("user.*").expect("ok"), Some(EventMatch::Category("user.".into())));
        assert_eq!(ev("sign_in").expect("ok"), Some(EventMatch::Exact("sign_in".into())));
        for bad in ["user*", ".", "role.ability.", "user created", "a.b'c", "*", "user..x"] {
            assert_eq!(fields(ev(bad).expect_err(bad)), ["event"], "{bad}");
        }
    }

    #[test]
    fn bad_input_names_its_fields_all_at_once() {
        let e = q(&[
            ("outcome", "maybe"),
            ("org", "acme"),
            ("from", "yesterday"),
            ("to", "2026-02-30"),
            ("before", "x"),
            ("actor", &"a".repeat(201)),
        ])
        .validate()
        .expect_err("invalid");
        assert_eq!(fields(e), ["actor", "org", "outcome", "from", "to", "before"]);
    }

    #[test]
    fn from_after_to_is_refused() {
        let e = q(&[("from", "2026-11-23"), ("to", "2026-11-22")]).validate().expect_err("invalid");
        assert_eq!(e.field("from").as_deref(), Some("The start of the time range is after its end."));
        // The same day as both ends is one whole day.
        let (f, _) = q(&[("from", "2026-11-22"), ("to", "2026-11-22")]).validate().expect("valid");
        assert_eq!(f.to.zip(f.from).map(|(t, f)| t - f), Some(86_400_000 - 1));
    }

    #[test]
    fn both_cursors_are_refused() {
        let e = q(&[("before", "5"), ("after", "3")]).validate().expect_err("invalid");
        assert_eq!(fields(e), ["before"]);
        assert_eq!(q(&[("after", "3")]).validate().expect("ok").1, AuditSeek::After(3));
    }

    #[test]
    fn times_accept_unix_ms_and_iso() {
        assert_eq!(parse_time("from", "1700000000000", false), Ok(1_700_000_000_000));
        assert_eq!(parse_time("from", "2023-11-14T22:13:20Z", false), Ok(1_700_000_000_000));
        assert_eq!(parse_time("to", "2023-11-14T22:13:20", true), Ok(1_700_000_000_999));
        assert!(parse_time("from", "2023-13-01", false).is_err());
        assert!(parse_time("from", "2023-1-01", false).is_err());
        assert!(parse_time("from", "2023-11-14T25:00", false).is_err());
        assert_eq!(iso_time(1_700_000_000_007), "2023-11-14T22:13:20.007Z");
    }

    #[test]
    fn filter_pairs_keep_only_given_filters() {
        let query = q(&[("actor", "ann"), ("target", ""), ("outcome", "success"), ("before", "9")]);
        assert_eq!(query.filter_pairs(), vec![("actor", "ann".to_string()), ("outcome", "success".to_string())]);
    }

    #[test]
    fn diff_marks_changed_keys() {
        let d = diff(Some(r#"{"status":"active","email":"a@x"}"#), Some(r#"{"status":"disabled","email":"a@x"}"#))
            .expect("objects");
        let changed: Vec<&str> = d.iter().filter(|c| c.changed()).map(|c| c.key.as_str()).collect();
        assert_eq!(changed, ["status"]);
        let created = diff(None, Some(r#"{"username":"ann"}"#)).expect("objects");
        assert_eq!(created[0].before, None);
        assert_eq!(created[0].after.as_deref(), Some("ann"));
        assert_eq!(diff(Some("[1]"), None), None);
    }

    fn entry() -> AuditEntry {
        AuditEntry {
            id: 7,
            at: 1_700_000_000_000,
            actor: Some("=HYPERLINK(\"http://evil\")".into()),
            target: Some("bob, \"the\" builder".into()),
            org_id: Some(1),
            event: "user.updated".into(),
            outcome: "success".into(),
            ip: Some("-1+1".into()),
            user_agent: Some("line\nbreak".into()),
            before: Some(r#"{"a":1}"#.into()),
            after: Some(r#"{"a":2}"#.into()),
        }
    }

    #[test]
    fn csv_quotes_and_guards_formulas() {
        let mut out = String::new();
        ExportFormat::Csv.write(&entry(), &mut out);
        assert_eq!(
            out,
            "7,2023-11-14T22:13:20.000Z,1700000000000,user.updated,success,\"'=HYPERLINK(\"\"http://evil\"\")\",\
             \"bob, \"\"the\"\" builder\",1,'-1+1,\"line\nbreak\",\"{\"\"a\"\":1}\",\"{\"\"a\"\":2}\"\r\n"
        );
        assert_eq!(guard("@SUM(1)"), "'@SUM(1)");
        assert_eq!(guard("+1"), "'+1");
        assert_eq!(guard("plain"), "plain");
    }

    #[test]
    fn jsonl_is_one_object_per_line_with_documents() {
        let mut out = String::new();
        ExportFormat::JsonLines.write(&entry(), &mut out);
        assert_eq!(out.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).expect("json");
        assert_eq!(v["after"]["a"], 2);
        assert_eq!(v["user_agent"], "line\nbreak");
        assert_eq!(v["actor"], "=HYPERLINK(\"http://evil\")");
    }
}
