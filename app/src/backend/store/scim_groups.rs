//! SCIM Groups and their members, per connection. One implementation serves both backends
//! (`impl_scim_group_store!`). Members are one row each, so parallel additions never lose each
//! other; a page of groups reads its members in one query (no query per group).
use async_trait::async_trait;

use super::scim::{like_escape, SqlBind};
use super::StoreResult;
use crate::domain::ids::UserId;
use crate::domain::scim::ScimError;
use crate::domain::scim_filter::{AttrPath, CompareOp, Filter};

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScimGroupRecord {
    /// 0 for one not yet stored.
    pub id: i64,
    pub connection_id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A page of a connection's groups (see `store::scim::ScimUserQuery`).
#[derive(Debug, Clone, Default)]
pub struct ScimGroupQuery {
    pub connection_id: i64,
    pub clause: Option<String>,
    pub binds: Vec<SqlBind>,
    pub offset: i64,
    pub limit: i64,
}

#[async_trait]
pub trait ScimGroupStore {
    async fn scim_group(&self, connection_id: i64, id: i64) -> StoreResult<Option<ScimGroupRecord>>;
    async fn scim_groups(&self, q: &ScimGroupQuery) -> StoreResult<Vec<ScimGroupRecord>>;
    async fn count_scim_groups(&self, q: &ScimGroupQuery) -> StoreResult<i64>;
    /// (group, member) pairs of these groups, in member id order.
    async fn scim_group_members(&self, groups: &[i64]) -> StoreResult<Vec<(i64, i64)>>;
}

#[async_trait]
pub trait ScimGroupTx: Send {
    async fn scim_group(&mut self, connection_id: i64, id: i64) -> StoreResult<Option<ScimGroupRecord>>;
    async fn scim_group_by_name(&mut self, connection_id: i64, name_key: &str) -> StoreResult<Option<ScimGroupRecord>>;
    async fn insert_scim_group(&mut self, g: &ScimGroupRecord) -> StoreResult<i64>;
    async fn update_scim_group(&mut self, g: &ScimGroupRecord) -> StoreResult<()>;
    async fn delete_scim_group(&mut self, id: i64) -> StoreResult<()>;
    /// Adds members; ones already there are left as they are.
    async fn add_scim_group_members(&mut self, group: i64, users: &[UserId]) -> StoreResult<()>;
    async fn remove_scim_group_members(&mut self, group: i64, users: &[UserId]) -> StoreResult<()>;
    async fn clear_scim_group_members(&mut self, group: i64) -> StoreResult<()>;
    async fn scim_group_member_ids(&mut self, group: i64) -> StoreResult<Vec<i64>>;
    /// Which of `users` this connection provisioned.
    async fn scim_linked_users(&mut self, connection_id: i64, users: &[i64]) -> StoreResult<Vec<i64>>;
}

pub(crate) const GROUP_COLS: &str = "g.id, g.connection_id, g.display_name, g.external_id, g.created_at, g.updated_at";

pub(crate) fn group_row<R: sqlx::Row>(r: &R) -> Result<ScimGroupRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ScimGroupRecord {
        id: r.try_get("id")?,
        connection_id: r.try_get("connection_id")?,
        display_name: r.try_get("display_name")?,
        external_id: r.try_get("external_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// `$first, $first+1, ...` for `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn unsupported(what: &str) -> ScimError {
    ScimError::invalid_filter(format!(
        "Filtering groups on {what} is not supported: filter on displayName, externalId, id or members."
    ))
}

/// Translates a filter on Groups into SQL over `scim_groups g`, placeholders from `$first`:
/// `displayName` (ignoring case, every operator), `externalId` (exactly: eq, ne, pr), `id`,
/// `members` / `members.value` (eq: has that member; pr: has any).
pub fn group_where_clause(f: &Filter, first: usize) -> Result<(String, Vec<SqlBind>), ScimError> {
    let mut binds = Vec::new();
    let sql = translate(f, first, &mut binds)?;
    Ok((sql, binds))
}

fn translate(f: &Filter, first: usize, binds: &mut Vec<SqlBind>) -> Result<String, ScimError> {
    let mut bind = |binds: &mut Vec<SqlBind>, b: SqlBind| {
        binds.push(b);
        format!("${}", first + binds.len() - 1)
    };
    Ok(match f {
        Filter::And(a, b) => format!("({} AND {})", translate(a, first, binds)?, translate(b, first, binds)?),
        Filter::Or(a, b) => format!("({} OR {})", translate(a, first, binds)?, translate(b, first, binds)?),
        Filter::Not(a) => format!("(NOT {})", translate(a, first, binds)?),
        Filter::ValuePath { path, filter } if path.is("members") => match filter.as_ref() {
            Filter::Compare { path: inner, op: CompareOp::Eq, value } if inner.is("value") => {
                member_eq(value, binds, &mut bind)?
            }
            _ => return Err(unsupported(&format!("{f}"))),
        },
        Filter::ValuePath { path, .. } => return Err(unsupported(&path.to_string())),
        Filter::Present(path) => match column(path)? {
            Col::Name | Col::Id => "1 = 1".into(),
            Col::ExternalId => "(g.external_id IS NOT NULL AND g.external_id <> '')".into(),
            Col::Members => "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id)".into(),
        },
        Filter::Compare { path, op, value } => {
            let cmp = match op {
                CompareOp::Eq => Some("="),
                CompareOp::Ne => Some("<>"),
                CompareOp::Gt => Some(">"),
                CompareOp::Ge => Some(">="),
                CompareOp::Lt => Some("<"),
                CompareOp::Le => Some("<="),
                _ => None,
            };
            match column(path)? {
                Col::Name => {
                    let Some(text) = value.as_str() else {
                        return Err(ScimError::invalid_filter("displayName is compared with a string."));
                    };
                    let text = text.to_lowercase();
                    let like = |p: String| format!("g.display_name_key LIKE {p} ESCAPE '\\'");
                    match op {
                        CompareOp::Co => like(bind(binds, SqlBind::Text(format!("%{}%", like_escape(&text))))),
                        CompareOp::Sw => like(bind(binds, SqlBind::Text(format!("{}%", like_escape(&text))))),
                        CompareOp::Ew => like(bind(binds, SqlBind::Text(format!("%{}", like_escape(&text))))),
                        other => {
                            let o = match other {
                                CompareOp::Ne => "<>",
                                CompareOp::Gt => ">",
                                CompareOp::Ge => ">=",
                                CompareOp::Lt => "<",
                                CompareOp::Le => "<=",
                                _ => "=",
                            };
                            format!("g.display_name_key {o} {}", bind(binds, SqlBind::Text(text)))
                        }
                    }
                }
                Col::ExternalId => {
                    let Some(text) = value.as_str() else {
                        return Err(ScimError::invalid_filter("externalId is compared with a string."));
                    };
                    let p = bind(binds, SqlBind::Text(text.to_string()));
                    match op {
                        CompareOp::Eq => format!("(g.external_id IS NOT NULL AND g.external_id = {p})"),
                        CompareOp::Ne => format!("(g.external_id IS NULL OR g.external_id <> {p})"),
                        _ => return Err(ScimError::invalid_filter("externalId takes eq, ne and pr.")),
                    }
                }
                Col::Id => {
                    let n = match value {
                        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
                        serde_json::Value::Number(n) => n.as_i64(),
                        _ => None,
                    };
                    match (n, cmp) {
                        (Some(n), Some(o)) => format!("g.id {o} {}", bind(binds, SqlBind::Int(n))),
                        (None, Some("<>")) => "1 = 1".into(),
                        (None, Some(_)) => "1 = 0".into(),
                        (_, None) => return Err(ScimError::invalid_filter("id takes eq, ne, gt, ge, lt, le and pr.")),
                    }
                }
                Col::Members if *op == CompareOp::Eq => member_eq(value, binds, &mut bind)?,
                Col::Members => return Err(ScimError::invalid_filter("members takes eq and pr.")),
            }
        }
    })
}

fn member_eq(
    value: &serde_json::Value,
    binds: &mut Vec<SqlBind>,
    bind: &mut impl FnMut(&mut Vec<SqlBind>, SqlBind) -> String,
) -> Result<String, ScimError> {
    let n = match value {
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        serde_json::Value::Number(n) => n.as_i64(),
        _ => return Err(ScimError::invalid_filter("members.value is compared with a User's id.")),
    };
    Ok(match n {
        Some(n) => format!(
            "EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND m.user_id = {})",
            bind(binds, SqlBind::Int(n))
        ),
        None => "1 = 0".into(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    ExternalId,
    Id,
    Members,
}

fn column(path: &AttrPath) -> Result<Col, ScimError> {
    let core = path.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(crate::domain::scim::GROUP_SCHEMA));
    if !core {
        return Err(unsupported(&path.to_string()));
    }
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    match (path.name.to_ascii_lowercase().as_str(), sub.as_deref()) {
        ("displayname", None) => Ok(Col::Name),
        ("externalid", None) => Ok(Col::ExternalId),
        ("id", None) => Ok(Col::Id),
        ("members", None | Some("value")) => Ok(Col::Members),
        _ => Err(unsupported(&path.to_string())),
    }
}

macro_rules! impl_scim_group_store {
    ($store:ty, $pool:ident, $tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::scim_groups::ScimGroupStore for $store {
            async fn scim_group(
                &self,
                connection_id: i64,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim_groups::ScimGroupRecord>> {
                use $crate::backend::store::scim_groups::*;
                let row = sqlx::query(&format!(
                    "SELECT {GROUP_COLS} FROM scim_groups g WHERE g.connection_id = $1 AND g.id = $2"
                ))
                .bind(connection_id)
                .bind(id)
                .fetch_optional(&self.$pool)
                .await?;
                Ok(row.as_ref().map(group_row).transpose()?)
            }

            async fn scim_groups(
                &self,
                q: &$crate::backend::store::scim_groups::ScimGroupQuery,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::scim_groups::ScimGroupRecord>> {
                use $crate::backend::store::scim::SqlBind;
                use $crate::backend::store::scim_groups::*;
                let n = q.binds.len() + 2;
                let sql = format!(
                    "SELECT {GROUP_COLS} FROM scim_groups g WHERE g.connection_id = $1 AND {} \
                     ORDER BY g.id LIMIT ${} OFFSET ${}",
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
                Ok(rows.iter().map(group_row).collect::<Result<_, _>>()?)
            }

            async fn count_scim_groups(
                &self,
                q: &$crate::backend::store::scim_groups::ScimGroupQuery,
            ) -> $crate::backend::store::StoreResult<i64> {
                use $crate::backend::store::scim::SqlBind;
                let sql = format!(
                    "SELECT COUNT(*) FROM scim_groups g WHERE g.connection_id = $1 AND {}",
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

            async fn scim_group_members(&self, groups: &[i64]) -> $crate::backend::store::StoreResult<Vec<(i64, i64)>> {
                use $crate::backend::store::scim_groups::*;
                if groups.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT group_id, user_id FROM scim_group_members WHERE group_id IN ({}) ORDER BY group_id, user_id",
                    placeholders(1, groups.len())
                );
                let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
                for g in groups {
                    query = query.bind(*g);
                }
                Ok(query.fetch_all(&self.$pool).await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::backend::store::scim_groups::ScimGroupTx for $tx {
            async fn scim_group(
                &mut self,
                connection_id: i64,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim_groups::ScimGroupRecord>> {
                use $crate::backend::store::scim_groups::*;
                let row = sqlx::query(&format!(
                    "SELECT {GROUP_COLS} FROM scim_groups g WHERE g.connection_id = $1 AND g.id = $2"
                ))
                .bind(connection_id)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.as_ref().map(group_row).transpose()?)
            }

            async fn scim_group_by_name(
                &mut self,
                connection_id: i64,
                name_key: &str,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim_groups::ScimGroupRecord>> {
                use $crate::backend::store::scim_groups::*;
                let row = sqlx::query(&format!(
                    "SELECT {GROUP_COLS} FROM scim_groups g WHERE g.connection_id = $1 AND g.display_name_key = $2"
                ))
                .bind(connection_id)
                .bind(name_key)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.as_ref().map(group_row).transpose()?)
            }

            async fn insert_scim_group(
                &mut self,
                g: &$crate::backend::store::scim_groups::ScimGroupRecord,
            ) -> $crate::backend::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO scim_groups (connection_id, display_name, display_name_key, external_id, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(g.connection_id)
                .bind(&g.display_name)
                .bind(g.display_name.to_lowercase())
                .bind(&g.external_id)
                .bind(g.created_at)
                .bind(g.updated_at)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_unique)?)
            }

            async fn update_scim_group(
                &mut self,
                g: &$crate::backend::store::scim_groups::ScimGroupRecord,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE scim_groups SET display_name = $1, display_name_key = $2, external_id = $3, \
                     updated_at = $4 WHERE id = $5",
                )
                .bind(&g.display_name)
                .bind(g.display_name.to_lowercase())
                .bind(&g.external_id)
                .bind(g.updated_at)
                .bind(g.id)
                .execute(&mut *self.tx)
                .await
                .map_err(map_unique)?;
                Ok(())
            }

            async fn delete_scim_group(&mut self, id: i64) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM scim_groups WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn add_scim_group_members(
                &mut self,
                group: i64,
                users: &[$crate::domain::ids::UserId],
            ) -> $crate::backend::store::StoreResult<()> {
                for chunk in users.chunks(500) {
                    let values = (0..chunk.len())
                        .map(|i| format!("($1, ${})", i + 2))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let sql = format!(
                        "INSERT INTO scim_group_members (group_id, user_id) VALUES {values} ON CONFLICT DO NOTHING"
                    );
                    let mut query = sqlx::query(&sql).bind(group);
                    for u in chunk {
                        query = query.bind(u.0);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn remove_scim_group_members(
                &mut self,
                group: i64,
                users: &[$crate::domain::ids::UserId],
            ) -> $crate::backend::store::StoreResult<()> {
                use $crate::backend::store::scim_groups::*;
                for chunk in users.chunks(500) {
                    let sql = format!(
                        "DELETE FROM scim_group_members WHERE group_id = $1 AND user_id IN ({})",
                        placeholders(2, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(group);
                    for u in chunk {
                        query = query.bind(u.0);
                    }
                    query.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn clear_scim_group_members(&mut self, group: i64) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1")
                    .bind(group)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn scim_group_member_ids(&mut self, group: i64) -> $crate::backend::store::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar("SELECT user_id FROM scim_group_members WHERE group_id = $1 ORDER BY user_id")
                    .bind(group)
                    .fetch_all(&mut *self.tx)
                    .await?)
            }

            async fn scim_linked_users(
                &mut self,
                connection_id: i64,
                users: &[i64],
            ) -> $crate::backend::store::StoreResult<Vec<i64>> {
                use $crate::backend::store::scim_groups::*;
                let mut out = Vec::new();
                for chunk in users.chunks(500) {
                    let sql = format!(
                        "SELECT user_id FROM scim_users WHERE connection_id = $1 AND user_id IN ({})",
                        placeholders(2, chunk.len())
                    );
                    let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(connection_id);
                    for u in chunk {
                        query = query.bind(*u);
                    }
                    out.extend(query.fetch_all(&mut *self.tx).await?);
                }
                Ok(out)
            }
        }
    };
}
// Expanded inside each backend's module, where its `map_unique` is in scope.
pub(crate) use impl_scim_group_store;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scim_filter::parse_filter;

    fn sql(f: &str) -> Result<(String, Vec<SqlBind>), ScimError> {
        group_where_clause(&parse_filter(f).expect("parses"), 2)
    }

    #[test]
    fn group_filters_become_where_clauses() {
        let (s, b) = sql("displayName eq \"Group 1\"").unwrap();
        assert_eq!((s.as_str(), b), ("g.display_name_key = $2", vec![SqlBind::Text("group 1".into())]));
        let (s, b) = sql("members[value eq \"7\"] and externalId eq \"x\"").unwrap();
        assert_eq!(
            s,
            "(EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND m.user_id = $2) AND \
             (g.external_id IS NOT NULL AND g.external_id = $3))"
        );
        assert_eq!(b, vec![SqlBind::Int(7), SqlBind::Text("x".into())]);
        let (s, _) = sql("displayName sw \"eng\" or members pr").unwrap();
        assert!(s.contains("LIKE $2") && s.contains("EXISTS"), "{s}");
        for bad in ["members co \"1\"", "members.display eq \"x\"", "owner eq \"x\""] {
            assert_eq!(sql(bad).unwrap_err().scim_type, Some("invalidFilter"), "{bad}");
        }
    }
}
