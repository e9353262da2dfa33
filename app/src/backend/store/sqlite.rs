//! SQLite store: WAL, foreign keys on, busy timeout, and a single writer connection so write
//! transactions queue in-process instead of failing with SQLITE_BUSY. Write transactions start
//! with BEGIN IMMEDIATE, so facts read inside them cannot be changed by another process (the
//! CLI) before the write lands.
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::*;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::users::{AuditEntry, SortDir, SortField, UserStatus};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
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
        Ok(Self { read, write })
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

const USER_COLS: &str =
    "u.id, u.username, u.full_name, u.email, u.password_hash, u.status, u.super_admin, u.two_factor, u.created_at, u.last_sign_in_at";

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
    })
}

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
            if msg.contains("username") {
                return StoreError::Conflict { field: "username" };
            }
        }
    }
    StoreError::Db(e)
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn user_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.read).await?)
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
            "SELECT {USER_COLS}, s.org_id AS s_org, s.created_at AS s_created, s.last_seen_at AS s_seen \
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

    async fn list_audit(&self, before_id: Option<i64>, limit: u32) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, target, event, outcome, ip, before, after FROM audit_events \
             WHERE id < ? ORDER BY id DESC LIMIT ?",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(limit as i64)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    target: r.try_get("target")?,
                    event: r.try_get("event")?,
                    outcome: r.try_get("outcome")?,
                    ip: r.try_get("ip")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}

pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }

    async fn user_count(&mut self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut *self.tx).await?)
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

    async fn memberships(&mut self, user: UserId) -> StoreResult<Vec<OrgId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT org_id FROM memberships WHERE user_id = ? ORDER BY org_id")
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    async fn add_membership(&mut self, org: OrgId, user: UserId, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT OR IGNORE INTO memberships (org_id, user_id, created_at) VALUES (?, ?, ?)")
            .bind(org.0)
            .bind(user.0)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_session(&mut self, s: &NewSession<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, org_id, created_at, last_seen_at, ip, user_agent) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.token_hash)
        .bind(s.user_id.0)
        .bind(s.org_id.0)
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
}
