//! SQLite store: WAL, foreign keys on, busy timeout, and a single writer connection so write
//! transactions queue in-process instead of failing with SQLITE_BUSY. Write transactions start
//! with BEGIN IMMEDIATE, so facts read inside them cannot be changed by another process (the
//! CLI) before the write lands.
mod auth;
mod passkeys;
mod sso;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::*;
use crate::domain::abilities::Ability;
use crate::domain::access::RoleEntry;
use crate::domain::audit::{AuditEntry, AuditFilter, AuditSeek, EventMatch};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::users::{AccountHolder, AccountLevel, SortDir, SortField, UserStatus};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    /// Moves after every committed write transaction (see `Store::write_generation`).
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite:path` or `sqlite://path`).
    /// Migrations are not applied here; see `migrate`.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        Ok(Self { read, write, generation: Default::default() })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.write).await?;
        Ok(())
    }

    /// Migrations known to this binary that the database has not applied yet.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<i64>> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = 1")
            .fetch_all(&self.read)
            .await
            .unwrap_or_default();
        Ok(MIGRATOR.iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect())
    }

    /// For benchmarks and bulk seeding: direct access to the writer pool.
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }
}

/// `AND (col, id) > (?, ?)` (or `<`) when paging from a cursor: a row-value comparison that
/// SQLite answers with a range scan on the (col, id) index.
fn keyset_sql(col: &str, cmp: &str, key: Option<&PageKey>) -> String {
    if key.is_some() {
        format!(" AND ({col}, u.id) {cmp} (?, ?)")
    } else {
        String::new()
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds a cursor's (value, id) in the order `keyset_sql` expects.
fn bind_key<'q>(query: Query<'q>, k: &PageKey) -> Query<'q> {
    let query = match &k.value {
        KeyValue::Int(i) => query.bind(*i),
        KeyValue::Text(s) => query.bind(s.clone()),
    };
    query.bind(k.id)
}

/// Rows of the sort order a search looks through before it turns to the trigram index.
const SEARCH_WINDOW: i64 = 2000;

impl SqliteStore {
    /// Keyset part shared by the list queries: (comparison, order) for the seek direction.
    fn seek_parts(q: &UserListQuery) -> (&'static str, &'static str, Option<&PageKey>) {
        // Walking backwards (previous page) flips both the comparison and the order; the
        // service reverses the rows afterwards.
        let backwards = matches!(q.seek, Seek::Before(_));
        let ascending = (q.dir == SortDir::Asc) != backwards;
        let (cmp, ord) = if ascending { (">", "ASC") } else { ("<", "DESC") };
        let key = match &q.seek {
            Seek::First => None,
            Seek::After(k) | Seek::Before(k) => Some(k),
        };
        (cmp, ord, key)
    }

    /// The plain query: the sort index from the cursor on, filtered by LIKE when searching.
    /// With `window`, only the next `window` rows of the sort order are looked at.
    async fn list_users_scan(&self, q: &UserListQuery, window: Option<i64>) -> StoreResult<Vec<UserRecord>> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let keyset = keyset_sql(col, cmp, key);
        let like = " AND (u.username_key LIKE ? ESCAPE '\\' OR u.full_name_key LIKE ? ESCAPE '\\' OR u.email_key LIKE ? ESCAPE '\\')";
        let sql = match window {
            None => format!(
                "SELECT {USER_COLS} FROM users u WHERE 1=1{}{keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?",
                if q.search.is_some() { like } else { "" }
            ),
            Some(_) => format!(
                "SELECT {USER_COLS} FROM (SELECT * FROM users u WHERE 1=1{keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?) u \
                 WHERE 1=1{like} ORDER BY {col} {ord}, u.id {ord} LIMIT ?"
            ),
        };
        let mut query = sqlx::query(&sql);
        let pattern = q.search.as_deref().map(like_pattern);
        if window.is_none() {
            if let Some(p) = &pattern {
                query = query.bind(p.clone()).bind(p.clone()).bind(p.clone());
            }
        }
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        if let Some(w) = window {
            query = query.bind(w);
            if let Some(p) = &pattern {
                query = query.bind(p.clone()).bind(p.clone()).bind(p.clone());
            }
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    /// Whether the search window was full (more rows follow it in sort order).
    async fn window_full(&self, q: &UserListQuery) -> StoreResult<bool> {
        let col = sort_column(q.sort);
        let (cmp, _, key) = Self::seek_parts(q);
        let keyset = keyset_sql(col, cmp, key);
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM users u WHERE 1=1{keyset} LIMIT ?)");
        let mut query = sqlx::query(&sql);
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        let n: i64 = query.bind(SEARCH_WINDOW + 1).fetch_one(&self.read).await?.try_get(0)?;
        Ok(n > SEARCH_WINDOW)
    }

    /// Search through the trigram index, then sort the (few) matches.
    async fn list_users_indexed(&self, q: &UserListQuery, search: &str) -> StoreResult<Vec<UserRecord>> {
        let col = sort_column(q.sort);
        let (cmp, ord, key) = Self::seek_parts(q);
        let keyset = keyset_sql(col, cmp, key);
        let sql = format!(
            "SELECT {USER_COLS} FROM users u WHERE u.id IN (SELECT rowid FROM users_search WHERE users_search MATCH ?)\
             {keyset} ORDER BY {col} {ord}, u.id {ord} LIMIT ?"
        );
        let mut query = sqlx::query(&sql).bind(fts_phrase(search));
        if let Some(k) = key {
            query = bind_key(query, k);
        }
        query = query.bind(q.limit as i64);
        let rows = query.fetch_all(&self.read).await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }
}

/// How a member list is filtered.
#[derive(Clone, Copy)]
enum MemberFilter<'a> {
    All,
    /// LIKE over every member (short search text).
    Like(&'a str),
    /// LIKE over the next `SEARCH_WINDOW` members in username order.
    Window(&'a str),
    /// Through the trigram index.
    Indexed(&'a str),
}

impl SqliteStore {
    async fn members_query(
        &self,
        org: OrgId,
        filter: MemberFilter<'_>,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<MemberRecord>> {
        let like = " AND (u.username_key LIKE ?3 ESCAPE '\\' OR u.full_name_key LIKE ?3 ESCAPE '\\' OR u.email_key LIKE ?3 ESCAPE '\\')";
        // CROSS JOIN keeps memberships as the outer loop, walking (org_id, username_key): no
        // sort, whatever the organization's size.
        let (source, filter_sql, pattern) = match filter {
            MemberFilter::All => ("memberships m".to_string(), String::new(), None),
            MemberFilter::Like(s) => ("memberships m".to_string(), like.to_string(), Some(like_pattern(s))),
            MemberFilter::Window(s) => (
                format!(
                    "(SELECT * FROM memberships WHERE org_id = ?1 AND username_key > ?2 ORDER BY username_key LIMIT {SEARCH_WINDOW}) m"
                ),
                like.to_string(),
                Some(like_pattern(s)),
            ),
            MemberFilter::Indexed(s) => (
                "memberships m".to_string(),
                " AND m.user_id IN (SELECT rowid FROM users_search WHERE users_search MATCH ?3)".to_string(),
                Some(fts_phrase(s)),
            ),
        };
        let sql = format!(
            "SELECT {USER_COLS}, m.role_id, r.name AS role_name, \
             (SELECT group_concat(ability) FROM member_abilities x WHERE x.org_id = m.org_id AND x.user_id = m.user_id) AS extras, \
             (SELECT COUNT(*) FROM memberships o WHERE o.user_id = u.id) AS org_count \
             FROM {source} CROSS JOIN users u ON u.id = m.user_id CROSS JOIN roles r ON r.id = m.role_id \
             WHERE m.org_id = ?1 AND m.username_key > ?2{filter_sql} ORDER BY m.username_key LIMIT ?4"
        );
        let rows =
            sqlx::query(&sql).bind(org.0).bind(after).bind(pattern).bind(limit as i64).fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                let extras: Option<String> = r.try_get("extras")?;
                let codes: Vec<String> = extras.unwrap_or_default().split(',').map(str::to_string).collect();
                Ok(MemberRecord {
                    user: user_from_row(r)?,
                    role: RoleId(r.try_get("role_id")?),
                    role_name: r.try_get("role_name")?,
                    extras: abilities_from(&codes),
                    org_count: r.try_get("org_count")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Whether more members follow the search window.
    async fn members_window_full(&self, org: OrgId, after: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM memberships WHERE org_id = ? AND username_key > ? LIMIT ?)",
        )
        .bind(org.0)
        .bind(after)
        .bind(SEARCH_WINDOW + 1)
        .fetch_one(&self.read)
        .await?;
        Ok(n > SEARCH_WINDOW)
    }
}

/// A bound parameter of the audit list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditArg {
    Int(i64),
    Text(String),
}

/// The audit list query for a filter and cursor, with its parameters in order. Every
/// predicate is written exactly as an index of migration 0005 is defined (`COLLATE NOCASE`
/// for actor and target, the category expression for event prefixes), and the order is
/// (at, id) — the tail of each of those indexes — so SQLite walks one index from the cursor
/// and stops after `limit` rows. The cursor is an event id; its time is looked up in the same
/// statement (a primary-key probe, evaluated once).
pub fn audit_query(f: &AuditFilter, seek: AuditSeek, limit: u32) -> (String, Vec<AuditArg>) {
    let mut sql = String::from(
        "SELECT id, at, actor, target, org_id, event, outcome, ip, user_agent, before, after \
         FROM audit_events WHERE 1=1",
    );
    let mut args = Vec::new();
    if let Some(a) = &f.actor {
        sql.push_str(" AND actor = ? COLLATE NOCASE");
        args.push(AuditArg::Text(a.clone()));
    }
    if let Some(t) = &f.target {
        sql.push_str(" AND target = ? COLLATE NOCASE");
        args.push(AuditArg::Text(t.clone()));
    }
    if let Some(o) = f.org {
        sql.push_str(" AND org_id = ?");
        args.push(AuditArg::Int(o));
    }
    match &f.event {
        Some(EventMatch::Exact(e)) => {
            sql.push_str(" AND event = ?");
            args.push(AuditArg::Text(e.clone()));
        }
        Some(EventMatch::Category(c)) => {
            sql.push_str(" AND substr(event, 1, instr(event, '.')) = ?");
            args.push(AuditArg::Text(c.clone()));
        }
        None => {}
    }
    if let Some(o) = f.outcome {
        sql.push_str(" AND outcome = ?");
        args.push(AuditArg::Text(o.as_str().to_string()));
    }
    if let Some(from) = f.from {
        sql.push_str(" AND at >= ?");
        args.push(AuditArg::Int(from));
    }
    if let Some(to) = f.to {
        sql.push_str(" AND at <= ?");
        args.push(AuditArg::Int(to));
    }
    let (cmp, ord, cursor) = match seek {
        AuditSeek::Newest => ("", "DESC", None),
        AuditSeek::Before(id) => ("<", "DESC", Some(id)),
        AuditSeek::After(id) => (">", "ASC", Some(id)),
    };
    if let Some(id) = cursor {
        // An unknown id gives NULL, so no rows rather than the wrong ones.
        sql.push_str(&format!(" AND (at, id) {cmp} ((SELECT at FROM audit_events WHERE id = ?), ?)"));
        args.push(AuditArg::Int(id));
        args.push(AuditArg::Int(id));
    }
    sql.push_str(&format!(" ORDER BY at {ord}, id {ord} LIMIT ?"));
    args.push(AuditArg::Int(limit as i64));
    (sql, args)
}

const USER_COLS: &str = "u.id, u.username, u.full_name, u.email, u.password_hash, u.status, u.super_admin, \
     u.two_factor, u.created_at, u.last_sign_in_at, u.kind";

fn user_from_row(r: &SqliteRow) -> Result<UserRecord, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(UserRecord {
        id: UserId(r.try_get("id")?),
        username: r.try_get("username")?,
        full_name: r.try_get("full_name")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        status: UserStatus::parse(&status).unwrap_or(UserStatus::Disabled),
        super_admin: r.try_get::<i64, _>("super_admin")? != 0,
        two_factor: r.try_get::<i64, _>("two_factor")? != 0,
        created_at: r.try_get("created_at")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
        public: r.try_get::<String, _>("kind")? == "public",
    })
}

/// Abilities from stored codes; codes this version does not know (written by a newer one)
/// grant nothing here.
fn abilities_from(codes: &[String]) -> AbilitySet {
    codes.iter().filter_map(|c| Ability::parse(c)).collect()
}

/// Rows of (key, ability code) grouped into sets.
fn group_abilities<K: std::hash::Hash + Eq>(rows: Vec<(K, String)>) -> std::collections::HashMap<K, AbilitySet> {
    let mut m: std::collections::HashMap<K, AbilitySet> = std::collections::HashMap::new();
    for (k, code) in rows {
        if let Some(a) = Ability::parse(&code) {
            m.entry(k).or_default().insert(a);
        }
    }
    m
}

const ROLE_SQL: &str = "SELECT r.id, r.name, \
     (SELECT COUNT(*) FROM memberships m WHERE m.role_id = r.id) AS members, \
     (SELECT group_concat(ability) FROM role_abilities ra WHERE ra.role_id = r.id) AS abilities FROM roles r";

/// A role without counting its holders (what writes and the access model need).
const ROLE_SQL_UNCOUNTED: &str = "SELECT r.id, r.name, 0 AS members, \
     (SELECT group_concat(ability) FROM role_abilities ra WHERE ra.role_id = r.id) AS abilities FROM roles r";

fn role_from_row(r: &SqliteRow) -> Result<RoleRecord, sqlx::Error> {
    let codes: Option<String> = r.try_get("abilities")?;
    let codes: Vec<String> = codes.unwrap_or_default().split(',').map(str::to_string).collect();
    Ok(RoleRecord {
        id: RoleId(r.try_get("id")?),
        name: r.try_get("name")?,
        abilities: abilities_from(&codes),
        members: r.try_get("members")?,
    })
}

/// An organization without counting its members (what writes need).
const ORG_SQL_UNCOUNTED: &str = "SELECT o.id, o.name, 0 AS members, o.require_2fa FROM orgs o";

const ORG_SQL: &str =
    "SELECT o.id, o.name, (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id) AS members, o.require_2fa \
     FROM orgs o";

fn org_from_row(r: &SqliteRow) -> Result<OrgRecord, sqlx::Error> {
    Ok(OrgRecord {
        id: OrgId(r.try_get("id")?),
        name: r.try_get("name")?,
        members: r.try_get("members")?,
        require_2fa: r.try_get::<i64, _>("require_2fa")? != 0,
    })
}

/// A packed row of `load_access` that does not parse (cannot happen with our own schema).
fn packed_error(table: &str, line: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("unexpected {table} row in the access model: {line:?}")))
}

const PUBLIC_ID: &str = "(SELECT id FROM users WHERE kind = 'public')";

fn sort_column(f: SortField) -> &'static str {
    match f {
        SortField::Username => "u.username_key",
        SortField::FullName => "u.full_name_key",
        SortField::Email => "u.email_key",
        SortField::Status => "u.status",
        SortField::TwoFactor => "u.two_factor",
        SortField::CreatedAt => "u.created_at",
        SortField::LastSignInAt => "u.last_sign_in_at",
    }
}

fn like_pattern(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// A trigram FTS5 phrase: matches the text as a substring, with no query syntax (quotes are
/// doubled, so `"`, `*`, `OR` and the like are searched for literally).
fn fts_phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn map_unique(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error() {
        if db.is_unique_violation() {
            let msg = db.message();
            if msg.contains("email") {
                return StoreError::Conflict { field: "email" };
            }
            if msg.contains("memberships") {
                return StoreError::Conflict { field: "member" };
            }
            if msg.contains("username") {
                return StoreError::Conflict { field: "username" };
            }
            if msg.contains("name_key") {
                return StoreError::Conflict { field: "name" };
            }
        }
    }
    StoreError::Db(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx, generation: self.generation.clone() }))
    }

    fn write_generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'").fetch_one(&self.read).await?)
    }

    async fn list_users(&self, q: &UserListQuery) -> StoreResult<Vec<UserRecord>> {
        let Some(search) = q.search.as_deref().filter(|s| s.chars().count() >= 3) else {
            return self.list_users_scan(q, None).await;
        };
        // Frequent terms: the first rows in sort order already fill the page, so a bounded
        // LIKE scan of the sort index answers at once (the trigram index would have to
        // intersect huge posting lists). Rare terms: the trigram index finds the few rows.
        // Both give exactly the rows the full query would.
        let rows = self.list_users_scan(q, Some(SEARCH_WINDOW)).await?;
        if rows.len() >= q.limit as usize || !self.window_full(q).await? {
            return Ok(rows);
        }
        self.list_users_indexed(q, search).await
    }

    async fn user_by_username(&self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = ?"))
            .bind(username_key)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn user_by_login(&self, key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.username_key = ?1 UNION ALL \
             SELECT {USER_COLS} FROM users u WHERE u.email_key = ?1 LIMIT 1"
        ))
        .bind(key)
        .fetch_optional(&self.read)
        .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, s.org_id AS s_org, s.created_at AS s_created, s.last_seen_at AS s_seen, \
             s.auth_at AS s_auth, \
             COALESCE((SELECT require_2fa FROM orgs WHERE id = s.org_id), 0) \
               OR COALESCE((SELECT value = 'true' FROM settings WHERE key = 'require_2fa'), 0) AS s_2fa \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let user = user_from_row(&r)?;
        let session = SessionRecord {
            user_id: user.id,
            org_id: OrgId(r.try_get("s_org")?),
            created_at: r.try_get("s_created")?,
            last_seen_at: r.try_get("s_seen")?,
            auth_at: r.try_get("s_auth")?,
            requires_2fa: r.try_get::<i64, _>("s_2fa")? != 0,
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
            .bind(now)
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?")
            .bind(idle_before)
            .bind(created_before)
            .execute(&self.write)
            .await?;
        Ok(r.rows_affected())
    }

    async fn list_audit(&self, filter: &AuditFilter, seek: AuditSeek, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let (sql, args) = audit_query(filter, seek, limit);
        let mut query = sqlx::query(&sql);
        for a in args {
            query = match a {
                AuditArg::Int(i) => query.bind(i),
                AuditArg::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    target: r.try_get("target")?,
                    org_id: r.try_get("org_id")?,
                    event: r.try_get("event")?,
                    outcome: r.try_get("outcome")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    async fn token_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        auth::token_by_hash(&self.read, token_hash).await
    }
    async fn touch_token(&self, id: i64, now: i64) -> StoreResult<()> {
        auth::touch_token(&self.write, id, now).await
    }
    async fn tokens_of(&self, user: UserId) -> StoreResult<Vec<TokenRecord>> {
        auth::tokens_of(&self.read, user).await
    }
    async fn two_factor_of(&self, user: UserId) -> StoreResult<(bool, i64)> {
        auth::two_factor_of(&self.read, user).await
    }
    async fn two_factor_required(&self, org: OrgId) -> StoreResult<(bool, bool)> {
        auth::two_factor_required(&self.read, org).await
    }
    async fn passkeys_of(&self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        passkeys::passkeys_of(&self.read, user).await
    }
    async fn avatar(&self, user: UserId) -> StoreResult<Option<(Vec<u8>, i64)>> {
        Ok(sqlx::query_as("SELECT image, updated_at FROM avatars WHERE user_id = ?")
            .bind(user.0)
            .fetch_optional(&self.read)
            .await?)
    }
    async fn sso_providers(&self) -> StoreResult<Vec<SsoProviderRecord>> {
        sso::providers(&self.read).await
    }
    async fn sso_links_of(&self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>> {
        sso::links_of(&self.read, user).await
    }
    async fn instance_requires_2fa(&self) -> StoreResult<bool> {
        Ok(self.two_factor_required(crate::domain::ids::DEFAULT_ORG).await?.1)
    }
    async fn throttle_state(&self, key: &str) -> StoreResult<Option<(i64, i64)>> {
        auth::throttle_state(&self.read, key).await
    }

    async fn access_version(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT version FROM access_version WHERE id = 1").fetch_one(&self.read).await?)
    }

    async fn load_access(&self) -> StoreResult<(i64, AccessModel)> {
        // One read transaction: a consistent picture, whatever commits meanwhile.
        let mut tx = self.read.begin().await?;
        let version: i64 =
            sqlx::query_scalar("SELECT version FROM access_version WHERE id = 1").fetch_one(&mut *tx).await?;
        let mut m = AccessModel::default();
        let roles: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM roles").fetch_all(&mut *tx).await?;
        let role_abilities = group_abilities(
            sqlx::query_as::<_, (i64, String)>("SELECT role_id, ability FROM role_abilities")
                .fetch_all(&mut *tx)
                .await?,
        );
        for (id, name) in roles {
            let abilities = role_abilities.get(&id).copied().unwrap_or_default();
            m.roles.insert(RoleId(id), RoleEntry { name, abilities });
        }
        for (id, name) in sqlx::query_as::<_, (i64, String)>("SELECT id, name FROM orgs").fetch_all(&mut *tx).await? {
            m.set_org(OrgId(id), name);
        }
        // Accounts and memberships arrive as one packed text each: at 100k accounts, row-by-row
        // decoding costs several times the query itself. Usernames hold no ',' or newline.
        let users: Option<String> = sqlx::query_scalar(
            "SELECT group_concat(id || ',' || super_admin || ',' || (status = 'active') || ',' || (kind = 'public') \
             || ',' || username, char(10)) FROM users",
        )
        .fetch_one(&mut *tx)
        .await?;
        let users = users.unwrap_or_default();
        m.users.reserve(users.len() / 24);
        for line in users.lines() {
            let mut f = line.splitn(5, ',');
            let (Some(id), Some(sa), Some(active), Some(public), Some(username)) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return Err(packed_error("users", line));
            };
            let id = UserId(id.parse().map_err(|_| packed_error("users", line))?);
            if public == "1" {
                m.public = Some(id);
            }
            m.set_user(id, UserEntry { username: username.to_string(), super_admin: sa == "1", active: active == "1" });
        }
        let extras_rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT user_id, org_id, ability FROM member_abilities").fetch_all(&mut *tx).await?;
        let mut extras_map: std::collections::HashMap<(i64, i64), AbilitySet> = std::collections::HashMap::new();
        for (u, o, code) in extras_rows {
            if let Some(a) = Ability::parse(&code) {
                extras_map.entry((u, o)).or_default().insert(a);
            }
        }
        let grants: Option<String> = sqlx::query_scalar(
            "SELECT group_concat(user_id || ',' || org_id || ',' || role_id, char(10)) FROM memberships",
        )
        .fetch_one(&mut *tx)
        .await?;
        let grants = grants.unwrap_or_default();
        m.grants.reserve(grants.len() / 12);
        for line in grants.lines() {
            let mut f = line.split(',').map(str::parse::<i64>);
            let (Some(Ok(u)), Some(Ok(o)), Some(Ok(r))) = (f.next(), f.next(), f.next()) else {
                return Err(packed_error("memberships", line));
            };
            let extras = extras_map.get(&(u, o)).copied().unwrap_or_default();
            m.grants.insert((UserId(u), OrgId(o)), Grant { role: RoleId(r), extras });
        }
        tx.commit().await?;
        Ok((version, m))
    }

    async fn load_user_access(&self, user: UserId) -> StoreResult<Option<UserAccess>> {
        let row: Option<(String, i64, String, String)> =
            sqlx::query_as("SELECT username, super_admin, status, kind FROM users WHERE id = ?")
                .bind(user.0)
                .fetch_optional(&self.read)
                .await?;
        let Some((username, sa, status, kind)) = row else { return Ok(None) };
        let memberships: Vec<(i64, i64)> = sqlx::query_as("SELECT org_id, role_id FROM memberships WHERE user_id = ?")
            .bind(user.0)
            .fetch_all(&self.read)
            .await?;
        let extras = group_abilities(
            sqlx::query_as::<_, (i64, String)>("SELECT org_id, ability FROM member_abilities WHERE user_id = ?")
                .bind(user.0)
                .fetch_all(&self.read)
                .await?,
        );
        let grants = memberships
            .into_iter()
            .map(|(o, r)| (OrgId(o), Grant { role: RoleId(r), extras: extras.get(&o).copied().unwrap_or_default() }))
            .collect();
        Ok(Some(UserAccess {
            entry: UserEntry { username, super_admin: sa != 0, active: status == "active" },
            public: kind == "public",
            grants,
        }))
    }

    async fn list_roles(&self) -> StoreResult<Vec<RoleRecord>> {
        let rows = sqlx::query(&format!("{ROLE_SQL} ORDER BY r.id")).fetch_all(&self.read).await?;
        rows.iter().map(role_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    async fn load_role(&self, id: RoleId) -> StoreResult<Option<RoleRecord>> {
        let row =
            sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.id = ?")).bind(id.0).fetch_optional(&self.read).await?;
        Ok(row.as_ref().map(role_from_row).transpose()?)
    }

    async fn role_members(&self, id: RoleId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE role_id = ?")
            .bind(id.0)
            .fetch_one(&self.read)
            .await?)
    }

    async fn list_orgs(&self) -> StoreResult<Vec<OrgRecord>> {
        let rows = sqlx::query(&format!("{ORG_SQL} ORDER BY o.name_key")).fetch_all(&self.read).await?;
        rows.iter().map(org_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    async fn list_members(
        &self,
        org: OrgId,
        search: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MemberRecord>> {
        let after = after.unwrap_or("");
        let Some(search) = search else {
            return self.members_query(org, MemberFilter::All, after, limit).await;
        };
        if search.chars().count() < 3 {
            return self.members_query(org, MemberFilter::Like(search), after, limit).await;
        }
        // As for the users list: frequent terms fill the page from the first rows of the
        // organization's username order; rare ones are found through the trigram index.
        let rows = self.members_query(org, MemberFilter::Window(search), after, limit).await?;
        if rows.len() >= limit as usize || !self.members_window_full(org, after).await? {
            return Ok(rows);
        }
        self.members_query(org, MemberFilter::Indexed(search), after, limit).await
    }

    async fn account_level(&self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>> {
        let level: Option<String> =
            sqlx::query_scalar(LEVEL_SQL).bind(target.0).bind(holder.0).fetch_optional(&self.read).await?;
        Ok(level.as_deref().and_then(AccountLevel::parse))
    }

    async fn accounts_listing(&self, holder: UserId, search: &str, limit: u32) -> StoreResult<Vec<UserRecord>> {
        // (an account is on few lists: the holder index bounds the scan)
        let sql = format!(
            "SELECT {USER_COLS} FROM account_access a JOIN users u ON u.id = a.target_id WHERE a.holder_id = ? \
             AND (u.username_key LIKE ?2 ESCAPE '\\' OR u.full_name_key LIKE ?2 ESCAPE '\\' OR u.email_key LIKE ?2 ESCAPE '\\') \
             ORDER BY u.username_key LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(holder.0)
            .bind(like_pattern(search))
            .bind(limit as i64)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    async fn account_holders(&self, target: UserId) -> StoreResult<Vec<AccountHolder>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.username, u.full_name, a.level FROM account_access a JOIN users u ON u.id = a.holder_id \
             WHERE a.target_id = ? ORDER BY u.username_key",
        )
        .bind(target.0)
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(username, full_name, level)| {
                AccountLevel::parse(&level).map(|level| AccountHolder { username, full_name, level })
            })
            .collect())
    }

    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<MembershipRecord>> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name AS org_name, m.role_id, r.name AS role_name, \
             (SELECT group_concat(ability) FROM member_abilities x WHERE x.org_id = m.org_id AND x.user_id = m.user_id) AS extras \
             FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id \
             WHERE m.user_id = ? ORDER BY o.name_key",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let extras: Option<String> = r.try_get("extras")?;
                let codes: Vec<String> = extras.unwrap_or_default().split(',').map(str::to_string).collect();
                Ok(MembershipRecord {
                    org: OrgId(r.try_get("org_id")?),
                    org_name: r.try_get("org_name")?,
                    role: RoleId(r.try_get("role_id")?),
                    role_name: r.try_get("role_name")?,
                    extras: abilities_from(&codes),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

/// Roles and organizations share their naming: a display name and its lower-cased key,
/// unique. `table` is one of our own table names, never input.
async fn insert_named(
    tx: &mut Transaction<'static, Sqlite>,
    table: &'static str,
    name: &str,
    now: i64,
) -> StoreResult<i64> {
    sqlx::query_scalar(&format!("INSERT INTO {table} (name, name_key, created_at) VALUES (?, ?, ?) RETURNING id"))
        .bind(name)
        .bind(name.to_lowercase())
        .bind(now)
        .fetch_one(&mut **tx)
        .await
        .map_err(map_unique)
}

async fn rename_named(
    tx: &mut Transaction<'static, Sqlite>,
    table: &'static str,
    id: i64,
    name: &str,
) -> StoreResult<()> {
    sqlx::query(&format!("UPDATE {table} SET name = ?, name_key = ? WHERE id = ?"))
        .bind(name)
        .bind(name.to_lowercase())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(map_unique)?;
    Ok(())
}

const LEVEL_SQL: &str = "SELECT level FROM account_access WHERE target_id = ? AND holder_id = ?";

pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        self.generation.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    async fn user_count(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'person'").fetch_one(&mut *self.tx).await?)
    }

    async fn user_by_username(&mut self, username_key: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.username_key = ?"))
            .bind(username_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn active_super_admins(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE super_admin = 1 AND status = 'active'")
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn insert_user(&mut self, u: &UserInsert) -> StoreResult<UserId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, full_name, full_name_key, email, email_key, \
             password_hash, status, super_admin, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&u.username)
        .bind(u.username.to_ascii_lowercase())
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(u.email.to_lowercase())
        .bind(&u.password_hash)
        .bind(u.status.as_str())
        .bind(u.super_admin as i64)
        .bind(u.created_at)
        .bind(u.created_at)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(UserId(id))
    }

    async fn update_user(&mut self, u: &UserRecord, now: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET full_name = ?, full_name_key = ?, email = ?, email_key = ?, status = ?, \
             super_admin = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&u.full_name)
        .bind(u.full_name.to_lowercase())
        .bind(&u.email)
        .bind(u.email.to_lowercase())
        .bind(u.status.as_str())
        .bind(u.super_admin as i64)
        .bind(now)
        .bind(u.id.0)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn set_password_hash(&mut self, id: UserId, hash: Option<&str>, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_user(&mut self, id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM users WHERE id = ?").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    async fn memberships(&mut self, user: UserId) -> StoreResult<Vec<OrgId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT org_id FROM memberships WHERE user_id = ? ORDER BY org_id")
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    async fn add_membership(&mut self, org: OrgId, user: UserId, role: RoleId, now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at) \
             SELECT ?, id, ?, username_key, ? FROM users WHERE id = ?",
        )
        .bind(org.0)
        .bind(role.0)
        .bind(now)
        .bind(user.0)
        .execute(&mut *self.tx)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Grant>> {
        let role: Option<i64> = sqlx::query_scalar("SELECT role_id FROM memberships WHERE org_id = ? AND user_id = ?")
            .bind(org.0)
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(role) = role else { return Ok(None) };
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT ability FROM member_abilities WHERE org_id = ? AND user_id = ?")
                .bind(org.0)
                .bind(user.0)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(Some(Grant { role: RoleId(role), extras: abilities_from(&codes) }))
    }

    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: RoleId) -> StoreResult<()> {
        sqlx::query("UPDATE memberships SET role_id = ? WHERE org_id = ? AND user_id = ?")
            .bind(role.0)
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_member_extras(&mut self, org: OrgId, user: UserId, extras: AbilitySet) -> StoreResult<()> {
        sqlx::query("DELETE FROM member_abilities WHERE org_id = ? AND user_id = ?")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        for code in extras.codes() {
            sqlx::query("INSERT INTO member_abilities (org_id, user_id, ability) VALUES (?, ?, ?)")
                .bind(org.0)
                .bind(user.0)
                .bind(code)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn remove_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM memberships WHERE org_id = ? AND user_id = ?")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn actor_facts(&mut self, user: UserId, org: OrgId) -> StoreResult<Option<(bool, AbilitySet)>> {
        let sa: Option<i64> = sqlx::query_scalar("SELECT super_admin FROM users WHERE id = ? AND status = 'active'")
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(sa) = sa else { return Ok(None) };
        let codes: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT ra.ability FROM memberships m JOIN role_abilities ra ON ra.role_id = m.role_id \
             WHERE m.org_id = ?1 AND m.user_id IN (?2, {PUBLIC_ID}) \
             UNION SELECT ability FROM member_abilities WHERE org_id = ?1 AND user_id IN (?2, {PUBLIC_ID})"
        ))
        .bind(org.0)
        .bind(user.0)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(Some((sa != 0, abilities_from(&codes))))
    }

    async fn bump_access_version(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("UPDATE access_version SET version = version + 1 WHERE id = 1 RETURNING version")
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn role(&mut self, id: RoleId) -> StoreResult<Option<RoleRecord>> {
        let row = sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.id = ?"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(role_from_row).transpose()?)
    }

    async fn role_by_name(&mut self, name_key: &str) -> StoreResult<Option<RoleRecord>> {
        let row = sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.name_key = ?"))
            .bind(name_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(role_from_row).transpose()?)
    }

    async fn insert_role(&mut self, name: &str, now: i64) -> StoreResult<RoleId> {
        Ok(RoleId(insert_named(&mut self.tx, "roles", name, now).await?))
    }

    async fn rename_role(&mut self, id: RoleId, name: &str) -> StoreResult<()> {
        rename_named(&mut self.tx, "roles", id.0, name).await
    }

    async fn set_role_abilities(&mut self, id: RoleId, abilities: AbilitySet) -> StoreResult<()> {
        sqlx::query("DELETE FROM role_abilities WHERE role_id = ?").bind(id.0).execute(&mut *self.tx).await?;
        for code in abilities.codes() {
            sqlx::query("INSERT INTO role_abilities (role_id, ability) VALUES (?, ?)")
                .bind(id.0)
                .bind(code)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn role_in_use(&mut self, id: RoleId) -> StoreResult<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM memberships WHERE role_id = ?)")
            .bind(id.0)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn reassign_role(&mut self, from: RoleId, to: RoleId) -> StoreResult<u64> {
        let r = sqlx::query("UPDATE memberships SET role_id = ? WHERE role_id = ?")
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    async fn delete_role(&mut self, id: RoleId) -> StoreResult<()> {
        sqlx::query("DELETE FROM roles WHERE id = ?").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn org(&mut self, id: OrgId) -> StoreResult<Option<OrgRecord>> {
        let row = sqlx::query(&format!("{ORG_SQL_UNCOUNTED} WHERE o.id = ?"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(org_from_row).transpose()?)
    }

    async fn org_by_name(&mut self, name_key: &str) -> StoreResult<Option<OrgRecord>> {
        let row = sqlx::query(&format!("{ORG_SQL_UNCOUNTED} WHERE o.name_key = ?"))
            .bind(name_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(org_from_row).transpose()?)
    }

    async fn insert_org(&mut self, name: &str, now: i64) -> StoreResult<OrgId> {
        Ok(OrgId(insert_named(&mut self.tx, "orgs", name, now).await?))
    }

    async fn rename_org(&mut self, id: OrgId, name: &str) -> StoreResult<()> {
        rename_named(&mut self.tx, "orgs", id.0, name).await
    }

    async fn org_member_count(&mut self, id: OrgId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = ?")
            .bind(id.0)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn delete_org(&mut self, id: OrgId, fallback: OrgId) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET org_id = ? WHERE org_id = ?")
            .bind(fallback.0)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM orgs WHERE id = ?").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn account_level(&mut self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>> {
        let level: Option<String> =
            sqlx::query_scalar(LEVEL_SQL).bind(target.0).bind(holder.0).fetch_optional(&mut *self.tx).await?;
        Ok(level.as_deref().and_then(AccountLevel::parse))
    }

    async fn set_account_level(
        &mut self,
        target: UserId,
        holder: UserId,
        level: Option<AccountLevel>,
    ) -> StoreResult<()> {
        match level {
            Some(l) => {
                sqlx::query(
                    "INSERT INTO account_access (target_id, holder_id, level) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (target_id, holder_id) DO UPDATE SET level = ?3",
                )
                .bind(target.0)
                .bind(holder.0)
                .bind(l.as_str())
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM account_access WHERE target_id = ? AND holder_id = ?")
                    .bind(target.0)
                    .bind(holder.0)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    async fn set_session_org(&mut self, token_hash: &[u8], org: OrgId) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET org_id = ? WHERE token_hash = ?")
            .bind(org.0)
            .bind(token_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_session(&mut self, s: &NewSession<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, org_id, created_at, last_seen_at, auth_at, ip, user_agent) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.token_hash)
        .bind(s.user_id.0)
        .bind(s.org_id.0)
        .bind(s.now)
        .bind(s.now)
        .bind(s.now)
        .bind(s.ip)
        .bind(s.user_agent)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn delete_session(&mut self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn delete_sessions_of(&mut self, user: UserId, except: Option<&[u8]>) -> StoreResult<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = ? AND token_hash IS NOT ?")
            .bind(user.0)
            .bind(except)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    async fn record_sign_in(&mut self, user: UserId, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET last_sign_in_at = ? WHERE id = ?")
            .bind(now)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn throttle_claim(&mut self, key: &str, now: i64) -> StoreResult<bool> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, next_allowed_at FROM sign_in_throttle WHERE key = ?")
                .bind(key)
                .fetch_optional(&mut *self.tx)
                .await?;
        let (failures, next_allowed) = row.unwrap_or((0, 0));
        if now < next_allowed {
            return Ok(false);
        }
        let failures = failures.saturating_add(1);
        let next = now + crate::domain::throttle::delay_after(failures.clamp(0, u32::MAX as i64) as u32);
        sqlx::query(
            "INSERT INTO sign_in_throttle (key, failures, next_allowed_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET failures = ?2, next_allowed_at = ?3",
        )
        .bind(key)
        .bind(failures)
        .bind(next)
        .execute(&mut *self.tx)
        .await?;
        Ok(true)
    }

    async fn throttle_clear(&mut self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE key = ?").bind(key).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn insert_audit(&mut self, e: &AuditRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_events (at, actor_id, actor, target, org_id, event, outcome, ip, user_agent, before, after) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(e.at)
        .bind(e.actor_id.map(|u| u.0))
        .bind(&e.actor)
        .bind(&e.target)
        .bind(e.org_id.map(|o| o.0))
        .bind(e.event)
        .bind(if e.success { "success" } else { "failure" })
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(e.before.as_ref().map(|v| v.to_string()))
        .bind(e.after.as_ref().map(|v| v.to_string()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
    async fn set_session_auth(&mut self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        auth::set_session_auth(&mut self.tx, token_hash, now).await
    }
    async fn totp(&mut self, user: UserId) -> StoreResult<Option<TotpRecord>> {
        auth::totp(&mut self.tx, user).await
    }
    async fn put_pending_totp(&mut self, user: UserId, sealed: &[u8], now: i64) -> StoreResult<()> {
        auth::put_pending_totp(&mut self.tx, user, sealed, now).await
    }
    async fn confirm_totp(&mut self, user: UserId, step: i64) -> StoreResult<bool> {
        auth::confirm_totp(&mut self.tx, user, step).await
    }
    async fn consume_totp_step(&mut self, user: UserId, step: i64) -> StoreResult<bool> {
        auth::consume_totp_step(&mut self.tx, user, step).await
    }
    async fn delete_totp(&mut self, user: UserId) -> StoreResult<()> {
        auth::delete_totp(&mut self.tx, user).await
    }
    async fn replace_recovery_codes(&mut self, user: UserId, hashes: &[Vec<u8>]) -> StoreResult<()> {
        auth::replace_recovery_codes(&mut self.tx, user, hashes).await
    }
    async fn use_recovery_code(&mut self, user: UserId, hash: &[u8], now: i64) -> StoreResult<bool> {
        auth::use_recovery_code(&mut self.tx, user, hash, now).await
    }
    async fn recovery_codes_left(&mut self, user: UserId) -> StoreResult<i64> {
        auth::recovery_codes_left(&mut self.tx, user).await
    }
    async fn insert_challenge(&mut self, token_hash: &[u8], user: UserId, now: i64) -> StoreResult<()> {
        auth::insert_challenge(&mut self.tx, token_hash, user, now).await
    }
    async fn challenge(&mut self, token_hash: &[u8]) -> StoreResult<Option<(UserId, i64)>> {
        auth::challenge(&mut self.tx, token_hash).await
    }
    async fn delete_challenge(&mut self, token_hash: &[u8]) -> StoreResult<bool> {
        auth::delete_challenge(&mut self.tx, token_hash).await
    }
    async fn insert_token(&mut self, t: &NewTokenRecord<'_>) -> StoreResult<i64> {
        auth::insert_token(&mut self.tx, t).await
    }
    async fn token(&mut self, id: i64) -> StoreResult<Option<TokenRecord>> {
        auth::token(&mut self.tx, id).await
    }
    async fn revoke_token(&mut self, id: i64, now: i64) -> StoreResult<bool> {
        auth::revoke_token(&mut self.tx, id, now).await
    }
    async fn set_org_two_factor(&mut self, org: OrgId, required: bool) -> StoreResult<()> {
        auth::set_org_two_factor(&mut self.tx, org, required).await
    }
    async fn set_setting(&mut self, key: &str, value: &str) -> StoreResult<()> {
        auth::set_setting(&mut self.tx, key, value).await
    }
    async fn refresh_two_factor(&mut self, user: UserId) -> StoreResult<bool> {
        passkeys::refresh_two_factor(&mut self.tx, user).await
    }
    async fn passkeys_of(&mut self, user: UserId) -> StoreResult<Vec<PasskeyRecord>> {
        passkeys::passkeys_of(&mut *self.tx, user).await
    }
    async fn insert_passkey(
        &mut self,
        user: UserId,
        name: &str,
        credential_id: &[u8],
        passkey: &str,
        now: i64,
    ) -> StoreResult<i64> {
        passkeys::insert_passkey(&mut self.tx, user, name, credential_id, passkey, now).await
    }
    async fn update_passkey(&mut self, id: i64, passkey: &str, now: i64) -> StoreResult<()> {
        passkeys::update_passkey(&mut self.tx, id, passkey, now).await
    }
    async fn rename_passkey(&mut self, id: i64, name: &str) -> StoreResult<()> {
        passkeys::rename_passkey(&mut self.tx, id, name).await
    }
    async fn delete_passkey(&mut self, id: i64) -> StoreResult<()> {
        passkeys::delete_passkey(&mut self.tx, id).await
    }
    async fn webauthn_handle(&mut self, user: UserId) -> StoreResult<Option<Vec<u8>>> {
        passkeys::webauthn_handle(&mut self.tx, user).await
    }
    async fn set_webauthn_handle(&mut self, user: UserId, handle: &[u8]) -> StoreResult<()> {
        passkeys::set_webauthn_handle(&mut self.tx, user, handle).await
    }
    async fn user_by_webauthn_handle(&mut self, handle: &[u8]) -> StoreResult<Option<UserId>> {
        passkeys::user_by_webauthn_handle(&mut self.tx, handle).await
    }
    async fn insert_ceremony(&mut self, id_hash: &[u8], c: &CeremonyRecord) -> StoreResult<()> {
        passkeys::insert_ceremony(&mut self.tx, id_hash, c).await
    }
    async fn take_ceremony(&mut self, id_hash: &[u8]) -> StoreResult<Option<CeremonyRecord>> {
        passkeys::take_ceremony(&mut self.tx, id_hash).await
    }
    async fn set_avatar(&mut self, user: UserId, png: Option<&[u8]>, now: i64) -> StoreResult<bool> {
        let existed: i64 = sqlx::query_scalar("SELECT count(*) FROM avatars WHERE user_id = ?")
            .bind(user.0)
            .fetch_one(&mut *self.tx)
            .await?;
        match png {
            Some(png) => {
                sqlx::query(
                    "INSERT INTO avatars (user_id, image, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, updated_at = excluded.updated_at",
                )
                .bind(user.0)
                .bind(png)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM avatars WHERE user_id = ?").bind(user.0).execute(&mut *self.tx).await?;
            }
        }
        Ok(existed > 0)
    }
    async fn sso_provider(&mut self, slug: &str) -> StoreResult<Option<SsoProviderRecord>> {
        sso::provider_by_slug(&mut self.tx, slug).await
    }
    async fn sso_provider_by_id(&mut self, id: i64) -> StoreResult<Option<SsoProviderRecord>> {
        sso::provider_by_id(&mut self.tx, id).await
    }
    async fn save_sso_provider(&mut self, p: &SsoProviderRecord) -> StoreResult<i64> {
        sso::save_provider(&mut self.tx, p).await
    }
    async fn delete_sso_provider(&mut self, id: i64) -> StoreResult<()> {
        sso::delete_provider(&mut self.tx, id).await
    }
    async fn insert_sso_flow(&mut self, f: &SsoFlowRecord, purge_before: i64) -> StoreResult<()> {
        sso::insert_flow(&mut self.tx, f, purge_before).await
    }
    async fn take_sso_flow(&mut self, state_hash: &[u8]) -> StoreResult<Option<SsoFlowRecord>> {
        sso::take_flow(&mut self.tx, state_hash).await
    }
    async fn sso_link(&mut self, issuer: &str, subject: &str) -> StoreResult<Option<SsoLinkRecord>> {
        sso::link(&mut self.tx, issuer, subject).await
    }
    async fn sso_links_of(&mut self, user: UserId) -> StoreResult<Vec<SsoLinkRecord>> {
        sso::links_of(&mut *self.tx, user).await
    }
    async fn insert_sso_link(&mut self, l: &SsoLinkRecord) -> StoreResult<i64> {
        sso::insert_link(&mut self.tx, l).await
    }
    async fn touch_sso_link(&mut self, id: i64, now: i64) -> StoreResult<()> {
        sso::touch_link(&mut self.tx, id, now).await
    }
    async fn delete_sso_link(&mut self, id: i64) -> StoreResult<()> {
        sso::delete_link(&mut self.tx, id).await
    }
}
