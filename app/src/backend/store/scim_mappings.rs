//! Directory group mappings and the memberships SCIM manages. One implementation serves both
//! backends (`impl_scim_mapping_store!`: the SQL text is the same). Everything is read and
//! written for a set of people at once (chunked `IN` lists): no query per person. Reconciling
//! reads then writes; that is safe across instances because write transactions run one at a
//! time on both backends (SQLite's one writer, PostgreSQL's transaction-wide write lock).
use async_trait::async_trait;

use super::StoreResult;
use crate::domain::abilities::AbilitySet;
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::scim_mapping::{Held, MembershipChange, Placement};

/// The most mappings a connection lists (and may have).
pub const MAX_MAPPINGS: i64 = 500;
/// Ids per `IN (...)` list.
pub(crate) const CHUNK: usize = 500;

/// A mapping as stored, with the names and the member count it is shown with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimMappingRecord {
    /// 0 for one not yet stored.
    pub id: i64,
    pub group_id: i64,
    pub org: OrgId,
    pub role: RoleId,
    pub abilities: AbilitySet,
    pub priority: i64,
    pub created_at: i64,
    /// Read with the row (ignored when written).
    pub group_name: String,
    pub org_name: String,
    pub role_name: String,
    pub members: i64,
}

#[async_trait]
pub trait ScimMappingStore {
    /// A connection's mappings, by group name then organization name (at most `MAX_MAPPINGS`).
    async fn scim_mappings(&self, connection_id: i64) -> StoreResult<Vec<ScimMappingRecord>>;
}

#[async_trait]
pub trait ScimMappingTx: Send {
    async fn scim_mapping(&mut self, connection_id: i64, id: i64) -> StoreResult<Option<ScimMappingRecord>>;
    async fn count_scim_mappings(&mut self, connection_id: i64) -> StoreResult<i64>;
    /// `Conflict { field: "group" }` when the group is mapped to that organization already.
    async fn insert_scim_mapping(&mut self, m: &ScimMappingRecord) -> StoreResult<i64>;
    async fn delete_scim_mapping(&mut self, id: i64) -> StoreResult<()>;
    /// Whether any mapping names this group (an unmapped group's changes grant nothing).
    async fn scim_group_mapped(&mut self, group: i64) -> StoreResult<bool>;
    /// Of `users`, the people this connection manages (linked to it, neither a super admin
    /// nor the public account), with their usernames, in id order.
    async fn scim_managed_people(&mut self, connection_id: i64, users: &[UserId])
        -> StoreResult<Vec<(UserId, String)>>;
    /// What this connection's group mappings give `users` (the placement for new people is
    /// the caller's to add).
    async fn scim_placements(&mut self, connection_id: i64, users: &[UserId]) -> StoreResult<Vec<Placement>>;
    /// Every membership of `users`, with its extras and who manages it.
    async fn held_memberships(&mut self, users: &[UserId]) -> StoreResult<Vec<Held>>;
    /// Writes planned changes (only ever to memberships this connection manages).
    async fn apply_membership_changes(
        &mut self,
        connection_id: i64,
        changes: &[MembershipChange],
        now: i64,
    ) -> StoreResult<()>;
    /// A person the connection lets go: out of its groups, their memberships become manual.
    async fn release_scim_person(&mut self, connection_id: i64, user: UserId) -> StoreResult<()>;
}

pub(crate) const MAPPING_SQL: &str = "SELECT mp.id, mp.group_id, mp.org_id, mp.role_id, mp.abilities, mp.priority, \
     mp.created_at, g.display_name AS group_name, o.name AS org_name, r.name AS role_name, \
     (SELECT COUNT(*) FROM scim_group_members gm WHERE gm.group_id = mp.group_id) AS members \
     FROM scim_group_mappings mp JOIN scim_groups g ON g.id = mp.group_id \
     JOIN orgs o ON o.id = mp.org_id JOIN roles r ON r.id = mp.role_id";

pub(crate) fn codes_of(text: &str) -> AbilitySet {
    let codes: Vec<String> = text.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect();
    super::rows::abilities_from(&codes)
}

pub(crate) fn mapping_row<R: sqlx::Row>(r: &R) -> Result<ScimMappingRecord, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let abilities: String = r.try_get("abilities")?;
    Ok(ScimMappingRecord {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        org: OrgId(r.try_get("org_id")?),
        role: RoleId(r.try_get("role_id")?),
        abilities: codes_of(&abilities),
        priority: r.try_get("priority")?,
        created_at: r.try_get("created_at")?,
        group_name: r.try_get("group_name")?,
        org_name: r.try_get("org_name")?,
        role_name: r.try_get("role_name")?,
        members: r.try_get("members")?,
    })
}

macro_rules! impl_scim_mapping_store {
    ($store:ty, $pool:ident, $tx:ty) => {
        #[async_trait::async_trait]
        impl $crate::backend::store::scim_mappings::ScimMappingStore for $store {
            async fn scim_mappings(
                &self,
                connection_id: i64,
            ) -> $crate::backend::store::StoreResult<Vec<$crate::backend::store::scim_mappings::ScimMappingRecord>>
            {
                use $crate::backend::store::scim_mappings::*;
                let rows = sqlx::query(&format!(
                    "{MAPPING_SQL} WHERE g.connection_id = $1 ORDER BY g.display_name_key, o.name_key LIMIT $2"
                ))
                .bind(connection_id)
                .bind(MAX_MAPPINGS)
                .fetch_all(&self.$pool)
                .await?;
                Ok(rows.iter().map(mapping_row).collect::<Result<_, _>>()?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::backend::store::scim_mappings::ScimMappingTx for $tx {
            async fn scim_mapping(
                &mut self,
                connection_id: i64,
                id: i64,
            ) -> $crate::backend::store::StoreResult<Option<$crate::backend::store::scim_mappings::ScimMappingRecord>>
            {
                use $crate::backend::store::scim_mappings::*;
                let row = sqlx::query(&format!("{MAPPING_SQL} WHERE g.connection_id = $1 AND mp.id = $2"))
                    .bind(connection_id)
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.as_ref().map(mapping_row).transpose()?)
            }

            async fn count_scim_mappings(&mut self, connection_id: i64) -> $crate::backend::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM scim_group_mappings mp JOIN scim_groups g ON g.id = mp.group_id \
                     WHERE g.connection_id = $1",
                )
                .bind(connection_id)
                .fetch_one(&mut *self.tx)
                .await?)
            }

            async fn insert_scim_mapping(
                &mut self,
                m: &$crate::backend::store::scim_mappings::ScimMappingRecord,
            ) -> $crate::backend::store::StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "INSERT INTO scim_group_mappings (group_id, org_id, role_id, abilities, priority, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(m.group_id)
                .bind(m.org.0)
                .bind(m.role.0)
                .bind(m.abilities.codes().join(","))
                .bind(m.priority)
                .bind(m.created_at)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(map_unique)?)
            }

            async fn delete_scim_mapping(&mut self, id: i64) -> $crate::backend::store::StoreResult<()> {
                sqlx::query("DELETE FROM scim_group_mappings WHERE id = $1").bind(id).execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn scim_group_mapped(&mut self, group: i64) -> $crate::backend::store::StoreResult<bool> {
                Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM scim_group_mappings WHERE group_id = $1)")
                    .bind(group)
                    .fetch_one(&mut *self.tx)
                    .await?)
            }

            async fn scim_managed_people(
                &mut self,
                connection_id: i64,
                users: &[$crate::domain::ids::UserId],
            ) -> $crate::backend::store::StoreResult<Vec<($crate::domain::ids::UserId, String)>> {
                use $crate::backend::store::scim_groups::placeholders;
                use $crate::backend::store::scim_mappings::CHUNK;
                let mut ids: Vec<i64> = users.iter().map(|u| u.0).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut out = Vec::new();
                for chunk in ids.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT u.id, u.username FROM users u JOIN scim_users s ON s.user_id = u.id \
                         WHERE s.connection_id = $1 AND u.id IN ({}) AND NOT u.super_admin AND u.kind = 'person' \
                         ORDER BY u.id",
                        placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (i64, String)>(&sql).bind(connection_id);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for (id, name) in q.fetch_all(&mut *self.tx).await? {
                        out.push(($crate::domain::ids::UserId(id), name));
                    }
                }
                Ok(out)
            }

            async fn scim_placements(
                &mut self,
                connection_id: i64,
                users: &[$crate::domain::ids::UserId],
            ) -> $crate::backend::store::StoreResult<Vec<$crate::domain::scim_mapping::Placement>> {
                use $crate::backend::store::scim_groups::placeholders;
                use $crate::backend::store::scim_mappings::{codes_of, CHUNK};
                use $crate::domain::ids::{OrgId, RoleId, UserId};
                let mut out = Vec::new();
                for chunk in users.chunks(CHUNK) {
                    let sql = format!(
                        "SELECT gm.user_id, mp.org_id, mp.role_id, mp.abilities, mp.priority, mp.id \
                         FROM scim_group_members gm JOIN scim_groups g ON g.id = gm.group_id \
                         JOIN scim_group_mappings mp ON mp.group_id = g.id \
                         WHERE g.connection_id = $1 AND gm.user_id IN ({})",
                        placeholders(2, chunk.len())
                    );
                    let mut q = sqlx::query_as::<_, (i64, i64, i64, String, i64, i64)>(&sql).bind(connection_id);
                    for u in chunk {
                        q = q.bind(u.0);
                    }
                    for (user, org, role, abilities, priority, id) in q.fetch_all(&mut *self.tx).await? {
                        out.push($crate::domain::scim_mapping::Placement {
                            user: UserId(user),
                            org: OrgId(org),
                            role: RoleId(role),
                            extras: codes_of(&abilities),
                            priority,
                            mapping: Some(id),
                        });
                    }
                }
                Ok(out)
            }

            async fn held_memberships(
                &mut self,
                users: &[$crate::domain::ids::UserId],
            ) -> $crate::backend::store::StoreResult<Vec<$crate::domain::scim_mapping::Held>> {
                use $crate::backend::store::scim_groups::placeholders;
                use $crate::backend::store::scim_mappings::CHUNK;
                use $crate::domain::ids::{OrgId, RoleId, UserId};
                let mut out = Vec::new();
                for chunk in users.chunks(CHUNK) {
                    let list = placeholders(1, chunk.len());
                    let sql = format!(
                        "SELECT user_id, org_id, role_id, scim_connection_id FROM memberships WHERE user_id IN ({list})"
                    );
                    let mut q = sqlx::query_as::<_, (i64, i64, i64, Option<i64>)>(&sql);
                    for u in chunk {
                        q = q.bind(u.0);
                    }
                    let rows = q.fetch_all(&mut *self.tx).await?;
                    let sql = format!("SELECT user_id, org_id, ability FROM member_abilities WHERE user_id IN ({list})");
                    let mut q = sqlx::query_as::<_, (i64, i64, String)>(&sql);
                    for u in chunk {
                        q = q.bind(u.0);
                    }
                    let extras = $crate::backend::store::rows::group_abilities(
                        q.fetch_all(&mut *self.tx).await?.into_iter().map(|(u, o, a)| ((u, o), a)).collect(),
                    );
                    for (user, org, role, connection) in rows {
                        out.push($crate::domain::scim_mapping::Held {
                            user: UserId(user),
                            org: OrgId(org),
                            role: RoleId(role),
                            extras: extras.get(&(user, org)).copied().unwrap_or_default(),
                            connection,
                        });
                    }
                }
                Ok(out)
            }

            async fn apply_membership_changes(
                &mut self,
                connection_id: i64,
                changes: &[$crate::domain::scim_mapping::MembershipChange],
                now: i64,
            ) -> $crate::backend::store::StoreResult<()> {
                use $crate::domain::scim_mapping::MembershipChange;
                for c in changes {
                    let (org, user, extras) = match c {
                        MembershipChange::Add(p) => {
                            sqlx::query(
                                "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at, \
                                 scim_connection_id) SELECT $1, id, $2, username_key, $3, $4 FROM users WHERE id = $5",
                            )
                            .bind(p.org.0)
                            .bind(p.role.0)
                            .bind(now)
                            .bind(connection_id)
                            .bind(p.user.0)
                            .execute(&mut *self.tx)
                            .await
                            .map_err(map_unique)?;
                            (p.org, p.user, p.extras)
                        }
                        MembershipChange::Update { to, .. } => {
                            sqlx::query(
                                "UPDATE memberships SET role_id = $1 \
                                 WHERE org_id = $2 AND user_id = $3 AND scim_connection_id = $4",
                            )
                            .bind(to.role.0)
                            .bind(to.org.0)
                            .bind(to.user.0)
                            .bind(connection_id)
                            .execute(&mut *self.tx)
                            .await?;
                            sqlx::query("DELETE FROM member_abilities WHERE org_id = $1 AND user_id = $2")
                                .bind(to.org.0)
                                .bind(to.user.0)
                                .execute(&mut *self.tx)
                                .await?;
                            (to.org, to.user, to.extras)
                        }
                        MembershipChange::Remove(h) => {
                            sqlx::query(
                                "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 AND scim_connection_id = $3",
                            )
                            .bind(h.org.0)
                            .bind(h.user.0)
                            .bind(connection_id)
                            .execute(&mut *self.tx)
                            .await?;
                            continue;
                        }
                    };
                    for code in extras.codes() {
                        sqlx::query("INSERT INTO member_abilities (org_id, user_id, ability) VALUES ($1, $2, $3)")
                            .bind(org.0)
                            .bind(user.0)
                            .bind(code)
                            .execute(&mut *self.tx)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn release_scim_person(
                &mut self,
                connection_id: i64,
                user: $crate::domain::ids::UserId,
            ) -> $crate::backend::store::StoreResult<()> {
                sqlx::query(
                    "DELETE FROM scim_group_members WHERE user_id = $1 \
                     AND group_id IN (SELECT id FROM scim_groups WHERE connection_id = $2)",
                )
                .bind(user.0)
                .bind(connection_id)
                .execute(&mut *self.tx)
                .await?;
                sqlx::query("UPDATE memberships SET scim_connection_id = NULL WHERE user_id = $1 AND scim_connection_id = $2")
                    .bind(user.0)
                    .bind(connection_id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }
        }
    };
}
// Expanded inside each backend's module, where its `map_unique` is in scope.
pub(crate) use impl_scim_mapping_store;
