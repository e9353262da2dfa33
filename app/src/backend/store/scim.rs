//! SCIM connections, their tokens and the accounts they provisioned. One implementation
//! serves both backends (`impl_scim_store!`): the SQL is the same text on SQLite and
//! PostgreSQL. A list filter (RFC 7644) becomes a WHERE clause over indexed columns
//! (`where_clause`), so a `userName eq` look-up stays one index probe at a million accounts.
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::scim::ScimError;
use crate::domain::scim_filter::{AttrPath, CompareOp, Filter};

/// A connection as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimConnectionRecord {
    /// 0 for one not yet stored.
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub service_user_id: UserId,
    pub default_org: Option<OrgId>,
    pub default_role: Option<RoleId>,
    /// The organizations it may touch.
    pub orgs: Vec<OrgId>,
    /// `disable` or `delete`.
    pub delete_mode: String,
    pub adopt_existing: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Read with the row (ignored when written): its tokens, the accounts it provisioned, its
    /// service account's username.
    pub tokens: i64,
    pub accounts: i64,
    pub service_account: String,
}

/// An account a connection provisioned, with the account facts SCIM answers from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimUserRecord {
    pub user_id: UserId,
    pub connection_id: i64,
    pub user_name: String,
    pub external_id: Option<String>,
    /// The resource as sent (JSON text).
    pub attributes: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// From the account: whether it is active, a super admin.
    pub active: bool,
    pub super_admin: bool,
}

/// A value bound into a translated filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlBind {
    Text(String),
    Int(i64),
}

/// A page of a connection's accounts: a WHERE clause from `where_clause` (placeholders from
/// `$2`), its values, and the window.
#[derive(Debug, Clone, Default)]
pub struct ScimUserQuery {
    pub connection_id: i64,
    pub clause: Option<String>,
    pub binds: Vec<SqlBind>,
    /// Rows to skip (startIndex - 1).
    pub offset: i64,
    pub limit: i64,
}

#[async_trait]
pub trait ScimStore {
    async fn scim_connections(&self, limit: i64) -> StoreResult<Vec<ScimConnectionRecord>>;
    async fn scim_connection(&self, slug: &str) -> StoreResult<Option<ScimConnectionRecord>>;
    /// The connection a token (SHA-256) belongs to.
    async fn scim_token_connection(&self, token_hash: &[u8]) -> StoreResult<Option<ScimConnectionRecord>>;
    async fn scim_user(&self, connection_id: i64, user: UserId) -> StoreResult<Option<ScimUserRecord>>;
    async fn scim_users(&self, q: &ScimUserQuery) -> StoreResult<Vec<ScimUserRecord>>;
    async fn count_scim_users(&self, q: &ScimUserQuery) -> StoreResult<i64>;
}

#[async_trait]
pub trait ScimTx: Send {
    async fn scim_connection(&mut self, slug: &str) -> StoreResult<Option<ScimConnectionRecord>>;
    async fn insert_scim_connection(&mut self, c: &ScimConnectionRecord) -> StoreResult<i64>;
    async fn delete_scim_connection(&mut self, id: i64) -> StoreResult<()>;
    async fn insert_scim_token(
        &mut self,
        token_hash: &[u8],
        connection_id: i64,
        prefix: &str,
        now: i64,
    ) -> StoreResult<()>;
    async fn scim_user(&mut self, connection_id: i64, user: UserId) -> StoreResult<Option<ScimUserRecord>>;
    /// The link of an account to any connection.
    async fn scim_link(&mut self, user: UserId) -> StoreResult<Option<i64>>;
    /// The connection an account is the service account of.
    async fn scim_connection_served_by(&mut self, user: UserId) -> StoreResult<Option<String>>;
    async fn scim_user_by_name(
        &mut self,
        connection_id: i64,
        user_name_key: &str,
    ) -> StoreResult<Option<ScimUserRecord>>;
    /// Inserts or replaces the link and what was sent.
    async fn save_scim_user(&mut self, u: &ScimUserRecord) -> StoreResult<()>;
    async fn delete_scim_user(&mut self, user: UserId) -> StoreResult<()>;
}

// (the PostgreSQL store's; a SQLite-only build leaves it unused)
#[allow(dead_code)]
pub(crate) const CONN_COLS: &str = "c.id, c.slug, c.name, c.service_user_id, c.default_org_id, c.default_role_id, \
     c.delete_mode, c.adopt_existing, c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM scim_tokens t WHERE t.connection_id = c.id) AS tokens, \
     (SELECT COUNT(*) FROM scim_users s WHERE s.connection_id = c.id) AS accounts, \
     COALESCE((SELECT u.username FROM users u WHERE u.id = c.service_user_id), '') AS service_account, \
     COALESCE((SELECT string_agg(CAST(o.org_id AS TEXT), ',') FROM scim_connection_orgs o \
               WHERE o.connection_id = c.id), '') AS orgs";
pub(crate) const SQLITE_CONN_COLS: &str = "c.id, c.slug, c.name, c.service_user_id, c.default_org_id, \
     c.default_role_id, c.delete_mode, c.adopt_existing, c.created_at, c.updated_at, \
     (SELECT COUNT(*) FROM scim_tokens t WHERE t.connection_id = c.id) AS tokens, \
     (SELECT COUNT(*) FROM scim_users s WHERE s.connection_id = c.id) AS accounts, \
     COALESCE((SELECT u.username FROM users u WHERE u.id = c.service_user_id), '') AS service_account, \
     COALESCE((SELECT group_concat(o.org_id, ',') FROM scim_connection_orgs o \
               WHERE o.connection_id = c.id), '') AS orgs";
pub(crate) const USER_COLS: &str = "s.user_id, s.connection_id, s.user_name, s.external_id, s.attributes, \
     s.created_at, s.updated_at, u.status, u.super_admin";

pub(crate) fn conn_row<R: sqlx::Row>(r: &R) -> Result<ScimConnectionRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ScimConnectionRecord {
        id: r.try_get("id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        service_user_id: UserId(r.try_get("service_user_id")?),
        default_org: r.try_get::<Option<i64>, _>("default_org_id")?.map(OrgId),
        default_role: r.try_get::<Option<i64>, _>("default_role_id")?.map(RoleId),
        orgs: super::webhooks::split_ids(&r.try_get::<String, _>("orgs")?),
        delete_mode: r.try_get("delete_mode")?,
        adopt_existing: r.try_get("adopt_existing")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        tokens: r.try_get("tokens")?,
        accounts: r.try_get("accounts")?,
        service_account: r.try_get("service_account")?,
    })
}

pub(crate) fn user_row<R: sqlx::Row>(r: &R) -> Result<ScimUserRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ScimUserRecord {
        user_id: UserId(r.try_get("user_id")?),
        connection_id: r.try_get("connection_id")?,
        user_name: r.try_get("user_name")?,
        external_id: r.try_get("external_id")?,
        attributes: r.try_get("attributes")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        active: r.try_get::<String, _>("status")? == "active",
        super_admin: r.try_get("super_admin")?,
    })
}

/// Escapes LIKE's wildcards (the pattern uses `ESCAPE '\'`; the group filters use it too).
pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

fn unsupported(what: &str) -> ScimError {
    ScimError::invalid_filter(format!(
        "Filtering on {what} is not supported: filter on userName, externalId, id, active or emails."
    ))
}

/// Translates a filter on Users into SQL over `scim_users s JOIN users u`, numbering
/// placeholders from `$first`. Supported: `userName` (ignoring case, every operator),
/// `externalId` (exactly: eq, ne, pr), `id` (numbers), `active` (eq, ne), `emails` /
/// `emails.value` / `emails[...]` (Roster keeps one address per account: the value
/// comparisons apply to it, `type`/`primary` conditions hold for it). Others answer
/// `invalidFilter`, never a 500.
pub fn where_clause(f: &Filter, first: usize) -> Result<(String, Vec<SqlBind>), ScimError> {
    let mut binds = Vec::new();
    let sql = translate(f, first, &mut binds, false)?;
    Ok((sql, binds))
}

fn translate(f: &Filter, first: usize, binds: &mut Vec<SqlBind>, in_emails: bool) -> Result<String, ScimError> {
    Ok(match f {
        Filter::And(a, b) => {
            format!("({} AND {})", translate(a, first, binds, in_emails)?, translate(b, first, binds, in_emails)?)
        }
        Filter::Or(a, b) => {
            format!("({} OR {})", translate(a, first, binds, in_emails)?, translate(b, first, binds, in_emails)?)
        }
        Filter::Not(a) => format!("(NOT {})", translate(a, first, binds, in_emails)?),
        Filter::ValuePath { path, filter } => {
            if !path.is("emails") || in_emails {
                return Err(unsupported(&path.to_string()));
            }
            translate(filter, first, binds, true)?
        }
        Filter::Present(path) => {
            let column = column(path, in_emails)?;
            match column {
                Column::UserName | Column::Id => "1 = 1".to_string(),
                Column::ExternalId => "(s.external_id IS NOT NULL AND s.external_id <> '')".to_string(),
                Column::Active => "1 = 1".to_string(),
                Column::Email => "u.email <> ''".to_string(),
                Column::Always => "1 = 1".to_string(),
            }
        }
        Filter::Compare { path, op, value } => {
            let column = column(path, in_emails)?;
            let mut bind = |b: SqlBind| {
                binds.push(b);
                format!("${}", first + binds.len() - 1)
            };
            let cmp = |op: &CompareOp| match op {
                CompareOp::Eq => Some("="),
                CompareOp::Ne => Some("<>"),
                CompareOp::Gt => Some(">"),
                CompareOp::Ge => Some(">="),
                CompareOp::Lt => Some("<"),
                CompareOp::Le => Some("<="),
                _ => None,
            };
            match column {
                Column::Always => "1 = 1".to_string(),
                Column::UserName | Column::Email => {
                    let col = if column == Column::UserName { "s.user_name_key" } else { "u.email_key" };
                    let Some(text) = value.as_str() else {
                        return Err(ScimError::invalid_filter(format!("{path} is compared with a string.")));
                    };
                    let text = text.to_lowercase();
                    match op {
                        CompareOp::Co => format!(
                            "{col} LIKE {} ESCAPE '\\'",
                            bind(SqlBind::Text(format!("%{}%", like_escape(&text))))
                        ),
                        CompareOp::Sw => format!(
                            "{col} LIKE {} ESCAPE '\\'",
                            bind(SqlBind::Text(format!("{}%", like_escape(&text))))
                        ),
                        CompareOp::Ew => format!(
                            "{col} LIKE {} ESCAPE '\\'",
                            bind(SqlBind::Text(format!("%{}", like_escape(&text))))
                        ),
                        other => format!("{col} {} {}", cmp(other).unwrap_or("="), bind(SqlBind::Text(text))),
                    }
                }
                Column::ExternalId => {
                    let Some(text) = value.as_str() else {
                        return Err(ScimError::invalid_filter("externalId is compared with a string."));
                    };
                    match op {
                        // (NULL-safe both ways, so `not (externalId eq "x")` includes accounts
                        // without one)
                        CompareOp::Eq => format!(
                            "(s.external_id IS NOT NULL AND s.external_id = {})",
                            bind(SqlBind::Text(text.to_string()))
                        ),
                        CompareOp::Ne => format!(
                            "(s.external_id IS NULL OR s.external_id <> {})",
                            bind(SqlBind::Text(text.to_string()))
                        ),
                        _ => return Err(ScimError::invalid_filter("externalId takes eq, ne and pr.")),
                    }
                }
                Column::Id => {
                    let n = match value {
                        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
                        serde_json::Value::Number(n) => n.as_i64(),
                        _ => None,
                    };
                    match (n, cmp(op)) {
                        (Some(n), Some(o)) => format!("s.user_id {o} {}", bind(SqlBind::Int(n))),
                        // An id Roster never gives matches nothing (and differs from every one).
                        (None, Some("<>")) => "1 = 1".to_string(),
                        (None, Some(_)) => "1 = 0".to_string(),
                        (_, None) => return Err(ScimError::invalid_filter("id takes eq, ne, gt, ge, lt, le and pr.")),
                    }
                }
                Column::Active => {
                    let Some(b) = crate::domain::scim::tolerant_bool(value) else {
                        return Err(ScimError::invalid_filter("active is compared with true or false."));
                    };
                    let status = if b { "active" } else { "disabled" };
                    match op {
                        CompareOp::Eq => format!("u.status = {}", bind(SqlBind::Text(status.into()))),
                        CompareOp::Ne => format!("u.status <> {}", bind(SqlBind::Text(status.into()))),
                        _ => return Err(ScimError::invalid_filter("active takes eq, ne and pr.")),
                    }
                }
            }
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    UserName,
    ExternalId,
    Id,
    Active,
    Email,
    /// A condition that holds for Roster's one address (`type`, `primary` inside emails[...]).
    Always,
}

fn column(path: &AttrPath, in_emails: bool) -> Result<Column, ScimError> {
    let core = path.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(crate::domain::scim::USER_SCHEMA));
    if !core {
        return Err(unsupported(&path.to_string()));
    }
    if in_emails {
        return match (path.name.to_ascii_lowercase().as_str(), &path.sub) {
            ("value", None) => Ok(Column::Email),
            ("type" | "primary" | "display", None) => Ok(Column::Always),
            _ => Err(unsupported(&format!("emails[{path}]"))),
        };
    }
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    match (path.name.to_ascii_lowercase().as_str(), sub.as_deref()) {
        ("username", None) => Ok(Column::UserName),
        ("externalid", None) => Ok(Column::ExternalId),
        ("id", None) => Ok(Column::Id),
        ("active", None) => Ok(Column::Active),
        ("emails", None | Some("value")) => Ok(Column::Email),
        ("emails", Some("type" | "primary")) => Ok(Column::Always),
        _ => Err(unsupported(&path.to_string())),
    }
}

macro_rules! impl_scim_store {
    ($store:ty, $pool:ident, $tx:ty, $conn_cols:expr) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::scim::ScimStore for $store {
            async fn scim_connections(
                &self,
                limit: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::scim::ScimConnectionRecord>> {
                use $crate::backend::store::scim::*;
                let rows =
                    sqlx::query(&format!("SELECT {} FROM scim_connections c ORDER BY c.slug LIMIT $1", $conn_cols))
                        .bind(limit)
                        .fetch_all(&self.$pool)
                        .await?;
                Ok(rows.iter().map(conn_row).collect::<Result<_, _>>()?)
            }

            async fn scim_connection(
                &self,
                slug: &str,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimConnectionRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!("SELECT {} FROM scim_connections c WHERE c.slug = $1", $conn_cols))
                    .bind(slug)
                    .fetch_optional(&self.$pool)
                    .await?;
                Ok(row.as_ref().map(conn_row).transpose()?)
            }

            async fn scim_token_connection(
                &self,
                token_hash: &[u8],
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimConnectionRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!(
                    "SELECT {} FROM scim_tokens t JOIN scim_connections c ON c.id = t.connection_id \
                     WHERE t.token_hash = $1",
                    $conn_cols
                ))
                .bind(token_hash)
                .fetch_optional(&self.$pool)
                .await?;
                Ok(row.as_ref().map(conn_row).transpose()?)
            }

            async fn scim_user(
                &self,
                connection_id: i64,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimUserRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLS} FROM scim_users s JOIN users u ON u.id = s.user_id \
                     WHERE s.connection_id = $1 AND s.user_id = $2"
                ))
                .bind(connection_id)
                .bind(user.0)
                .fetch_optional(&self.$pool)
                .await?;
                Ok(row.as_ref().map(user_row).transpose()?)
            }

            async fn scim_users(
                &self,
                q: &$crate::backend::store::scim::ScimUserQuery,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::scim::ScimUserRecord>> {
                use $crate::backend::store::scim::*;
                let n = q.binds.len() + 2;
                let sql = format!(
                    "SELECT {USER_COLS} FROM scim_users s JOIN users u ON u.id = s.user_id \
                     WHERE s.connection_id = $1 AND {} ORDER BY s.user_id LIMIT ${} OFFSET ${}",
                    q.clause.as_deref().unwrap_or("1 = 1"),
                    n,
                    n + 1
                );
                let mut query = sqlx::query(&sql).bind(q.connection_id);
                for b in &q.binds {
                    query = match b {
                        SqlBind::Text(t) => query.bind(t.clone()),
                        SqlBind::Int(i) => query.bind(*i),
                    };
                }
                let rows = query.bind(q.limit).bind(q.offset).fetch_all(&self.$pool).await?;
                Ok(rows.iter().map(user_row).collect::<Result<_, _>>()?)
            }

            async fn count_scim_users(
                &self,
                q: &$crate::backend::store::scim::ScimUserQuery,
            ) -> $crate::backend::store::StoreResult<i64> {
                use $crate::backend::store::scim::*;
                let sql = format!(
                    "SELECT COUNT(*) FROM scim_users s JOIN users u ON u.id = s.user_id \
                     WHERE s.connection_id = $1 AND {}",
                    q.clause.as_deref().unwrap_or("1 = 1")
                );
                let mut query = sqlx::query_scalar(&sql).bind(q.connection_id);
                for b in &q.binds {
                    query = match b {
                        SqlBind::Text(t) => query.bind(t.clone()),
                        SqlBind::Int(i) => query.bind(*i),
                    };
                }
                Ok(query.fetch_one(&self.$pool).await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::backend::store::scim::ScimTx for $tx {
            async fn scim_connection(
                &mut self,
                slug: &str,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimConnectionRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!("SELECT {} FROM scim_connections c WHERE c.slug = $1", $conn_cols))
                    .bind(slug)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.as_ref().map(conn_row).transpose()?)
            }

            async fn insert_scim_connection(
                &mut self,
                c: &$crate::backend::store::scim::ScimConnectionRecord,
            ) -> $crate::backend::store::StoreResult<i64> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO scim_connections (slug, name, service_user_id, default_org_id, default_role_id, \
                     delete_mode, adopt_existing, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                )
                .bind(&c.slug)
                .bind(&c.name)
                .bind(c.service_user_id.0)
                .bind(c.default_org.map(|o| o.0))
                .bind(c.default_role.map(|r| r.0))
                .bind(&c.delete_mode)
                .bind(c.adopt_existing)
                .bind(c.created_at)
                .bind(c.updated_at)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_unique)?;
                for org in &c.orgs {
                    sqlx::query("INSERT INTO scim_connection_orgs (connection_id, org_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(org.0)
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(id)
            }

            async fn delete_scim_connection(&mut self, id: i64) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM scim_connections WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn insert_scim_token(
                &mut self,
                token_hash: &[u8],
                connection_id: i64,
                prefix: &str,
                now: i64,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO scim_tokens (token_hash, connection_id, prefix, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(connection_id)
                .bind(prefix)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn scim_user(
                &mut self,
                connection_id: i64,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimUserRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLS} FROM scim_users s JOIN users u ON u.id = s.user_id \
                     WHERE s.connection_id = $1 AND s.user_id = $2"
                ))
                .bind(connection_id)
                .bind(user.0)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.as_ref().map(user_row).transpose()?)
            }

            async fn scim_link(
                &mut self,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT connection_id FROM scim_users WHERE user_id = $1")
                    .bind(user.0)
                    .fetch_optional(&mut *self.tx)
                    .await?)
            }

            async fn scim_connection_served_by(
                &mut self,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT slug FROM scim_connections WHERE service_user_id = $1")
                    .bind(user.0)
                    .fetch_optional(&mut *self.tx)
                    .await?)
            }

            async fn scim_user_by_name(
                &mut self,
                connection_id: i64,
                user_name_key: &str,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim::ScimUserRecord>> {
                use $crate::backend::store::scim::*;
                let row = sqlx::query(&format!(
                    "SELECT {USER_COLS} FROM scim_users s JOIN users u ON u.id = s.user_id \
                     WHERE s.connection_id = $1 AND s.user_name_key = $2"
                ))
                .bind(connection_id)
                .bind(user_name_key)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.as_ref().map(user_row).transpose()?)
            }

            async fn save_scim_user(
                &mut self,
                u: &$crate::backend::store::scim::ScimUserRecord,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO scim_users (user_id, connection_id, user_name, user_name_key, external_id, \
                     attributes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (user_id) DO UPDATE SET user_name = excluded.user_name, \
                     user_name_key = excluded.user_name_key, external_id = excluded.external_id, \
                     attributes = excluded.attributes, updated_at = excluded.updated_at",
                )
                .bind(u.user_id.0)
                .bind(u.connection_id)
                .bind(&u.user_name)
                .bind(u.user_name.to_lowercase())
                .bind(&u.external_id)
                .bind(&u.attributes)
                .bind(u.created_at)
                .bind(u.updated_at)
                .execute(&mut *self.tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn delete_scim_user(
                &mut self,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM scim_users WHERE user_id = $1").bind(user.0).execute(&mut *self.tx).await?;
                Ok(())
            }
        }
    };
}
// Expanded inside each backend's module, where its `map_unique` (a unique violation as the
// input it collided on) is in scope.
pub(crate) use impl_scim_store;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scim_filter::parse_filter;

    fn sql(f: &str) -> Result<(String, Vec<SqlBind>), ScimError> {
        where_clause(&parse_filter(f).expect("parses"), 2)
    }

    #[test]
    fn filters_become_where_clauses_over_indexed_columns() {
        let (s, b) = sql("userName eq \"Ann@X.org\"").unwrap();
        assert_eq!((s.as_str(), b), ("s.user_name_key = $2", vec![SqlBind::Text("ann@x.org".into())]));
        let (s, b) = sql("externalId eq \"E1\" and (active eq false or id gt \"7\")").unwrap();
        assert_eq!(s, "((s.external_id IS NOT NULL AND s.external_id = $2) AND (u.status = $3 OR s.user_id > $4))");
        assert_eq!(b, vec![SqlBind::Text("E1".into()), SqlBind::Text("disabled".into()), SqlBind::Int(7)]);
        let (s, b) = sql("userName co \"50%_\\\\\"").unwrap();
        assert_eq!(s, "s.user_name_key LIKE $2 ESCAPE '\\'");
        assert_eq!(b, vec![SqlBind::Text("%50\\%\\_\\\\%".into())]);
        let (s, _) = sql("emails[type eq \"work\"].value eq \"a@b.c\"").unwrap();
        assert_eq!(s, "(1 = 1 AND u.email_key = $2)");
        let (s, b) = sql("id eq \"not-a-number\"").unwrap();
        assert_eq!((s.as_str(), b.len()), ("1 = 0", 0));
        let (s, _) = sql("not (externalId pr)").unwrap();
        assert_eq!(s, "(NOT (s.external_id IS NOT NULL AND s.external_id <> ''))");
    }

    #[test]
    fn what_cannot_be_translated_is_an_invalid_filter() {
        for f in [
            "displayName eq \"x\"",
            "name.givenName sw \"A\"",
            "externalId co \"x\"",
            "active gt true",
            "userName eq 5",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"",
            "emails[display eq \"x\" and value.sub eq \"y\"]",
        ] {
            let e = sql(f).expect_err(f);
            assert_eq!((e.status, e.scim_type), (400, Some("invalidFilter")), "{f}");
        }
    }
}
