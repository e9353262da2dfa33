//! SQL for roles, organizations, memberships, grants, view/edit lists, the access version
//! and the access model.
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::{abilities_from, group_abilities, like_keys, like_pattern, user_from_row, SEARCH_WINDOW, USER_COLS};
use super::{savepoint, settle, PgStore, PgTx};
use crate::backend::store::{
    AccessStore, AccessTx, Change, MemberRecord, MembershipRecord, NewMembership, OrgRecord, RoleRecord, StoreError,
    StoreResult, UserAccess, UserRecord,
};
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::access::{AccessModel, Grant, RoleEntry, UserEntry};
use crate::domain::ids::{OrgId, RoleId, UserId};
use crate::domain::users::{AccountHolder, AccountLevel};

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

impl PgStore {
    async fn members_query(
        &self,
        org: OrgId,
        filter: MemberFilter<'_>,
        after: &str,
        limit: u32,
    ) -> StoreResult<Vec<MemberRecord>> {
        let like = format!(" AND {}", like_keys(3));
        // Parameters: $1 org, $2 the username key to start after, $3 the pattern (NULL and
        // unused without a search), $4 the limit.
        let (source, filter_sql, pattern) = match filter {
            MemberFilter::All => ("memberships m".to_string(), String::new(), None),
            MemberFilter::Like(s) => ("memberships m".to_string(), like.clone(), Some(like_pattern(s))),
            MemberFilter::Window(s) => (
                format!(
                    "(SELECT * FROM memberships WHERE org_id = $1 AND username_key > $2 ORDER BY username_key LIMIT {SEARCH_WINDOW}) m"
                ),
                like.clone(),
                Some(like_pattern(s)),
            ),
            // The trigram index finds the matching accounts first; the members among them are
            // then sorted (OFFSET 0 keeps the subquery from being flattened into a scan of
            // the organization).
            MemberFilter::Indexed(s) => (
                "memberships m".to_string(),
                format!(" AND m.user_id IN (SELECT u.id FROM users u WHERE {} OFFSET 0)", like_keys(3)),
                Some(like_pattern(s)),
            ),
        };
        let sql = format!(
            "SELECT {USER_COLS}, m.role_id, r.name AS role_name, \
             (SELECT string_agg(ability, ',') FROM member_abilities x WHERE x.org_id = m.org_id AND x.user_id = m.user_id) AS extras, \
             (SELECT COUNT(*) FROM memberships o WHERE o.user_id = u.id) AS org_count, sc.name AS source \
             FROM {source} JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id \
             LEFT JOIN scim_connections sc ON sc.id = m.scim_connection_id \
             WHERE m.org_id = $1 AND m.username_key > $2{filter_sql} ORDER BY m.username_key LIMIT $4"
        );
        let rows =
            sqlx::query(&sql).bind(org.0).bind(after).bind(pattern).bind(limit as i64).fetch_all(&self.pool).await?;
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
                    source: r.try_get("source")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }

    /// Whether more members follow the search window.
    async fn members_window_full(&self, org: OrgId, after: &str) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM memberships WHERE org_id = $1 AND username_key > $2 LIMIT $3) w",
        )
        .bind(org.0)
        .bind(after)
        .bind(SEARCH_WINDOW + 1)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > SEARCH_WINDOW)
    }
}

const ROLE_SQL: &str = "SELECT r.id, r.name, \
     (SELECT COUNT(*) FROM memberships m WHERE m.role_id = r.id) AS members, \
     (SELECT string_agg(ability, ',') FROM role_abilities ra WHERE ra.role_id = r.id) AS abilities FROM roles r";

/// A role without counting its holders (what writes and the access model need).
const ROLE_SQL_UNCOUNTED: &str = "SELECT r.id, r.name, 0::int8 AS members, \
     (SELECT string_agg(ability, ',') FROM role_abilities ra WHERE ra.role_id = r.id) AS abilities FROM roles r";

fn role_from_row(r: &PgRow) -> Result<RoleRecord, sqlx::Error> {
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
const ORG_SQL_UNCOUNTED: &str = "SELECT o.id, o.name, 0::int8 AS members, o.require_2fa FROM orgs o";

const ORG_SQL: &str =
    "SELECT o.id, o.name, (SELECT COUNT(*) FROM memberships m WHERE m.org_id = o.id) AS members, o.require_2fa \
     FROM orgs o";

fn org_from_row(r: &PgRow) -> Result<OrgRecord, sqlx::Error> {
    Ok(OrgRecord {
        id: OrgId(r.try_get("id")?),
        name: r.try_get("name")?,
        members: r.try_get("members")?,
        require_2fa: r.try_get("require_2fa")?,
    })
}

/// A packed row of `load_access` that does not parse (cannot happen with our own schema).
fn packed_error(table: &str, line: &str) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(format!("unexpected {table} row in the access model: {line:?}")))
}

const PUBLIC_ID: &str = "(SELECT id FROM users WHERE kind = 'public')";

/// Roles and organizations share their naming: a display name and its lower-cased key,
/// unique. `table` is one of our own table names, never input.
async fn insert_named(
    tx: &mut Transaction<'static, Postgres>,
    table: &'static str,
    name: &str,
    now: i64,
) -> StoreResult<i64> {
    savepoint(tx).await?;
    let r = sqlx::query_scalar(&format!(
        "INSERT INTO {table} (name, name_key, created_at) VALUES ($1, $2, $3) RETURNING id"
    ))
    .bind(name)
    .bind(name.to_lowercase())
    .bind(now)
    .fetch_one(&mut **tx)
    .await;
    settle(tx, r).await
}

async fn rename_named(
    tx: &mut Transaction<'static, Postgres>,
    table: &'static str,
    id: i64,
    name: &str,
) -> StoreResult<()> {
    savepoint(tx).await?;
    let r = sqlx::query(&format!("UPDATE {table} SET name = $1, name_key = $2 WHERE id = $3"))
        .bind(name)
        .bind(name.to_lowercase())
        .bind(id)
        .execute(&mut **tx)
        .await;
    settle(tx, r).await?;
    Ok(())
}

const LEVEL_SQL: &str = "SELECT level FROM account_access WHERE target_id = $1 AND holder_id = $2";

#[async_trait]
impl AccessStore for PgStore {
    async fn access_version(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT version FROM access_version WHERE id = 1").fetch_one(&self.pool).await?)
    }

    async fn load_access(&self) -> StoreResult<(i64, AccessModel)> {
        // One snapshot for every query: a consistent picture, whatever commits meanwhile.
        let mut tx = self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
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
            "SELECT string_agg(concat_ws(',', id, super_admin::int, (status = 'active')::int, (kind = 'public')::int, \
             username), E'\\n') FROM users",
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
        let grants: Option<String> =
            sqlx::query_scalar("SELECT string_agg(concat_ws(',', user_id, org_id, role_id), E'\\n') FROM memberships")
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
        let row: Option<(String, bool, String, String)> =
            sqlx::query_as("SELECT username, super_admin, status, kind FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        let Some((username, sa, status, kind)) = row else { return Ok(None) };
        let memberships: Vec<(i64, i64)> = sqlx::query_as("SELECT org_id, role_id FROM memberships WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&self.pool)
            .await?;
        let extras = group_abilities(
            sqlx::query_as::<_, (i64, String)>("SELECT org_id, ability FROM member_abilities WHERE user_id = $1")
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?,
        );
        let grants = memberships
            .into_iter()
            .map(|(o, r)| (OrgId(o), Grant { role: RoleId(r), extras: extras.get(&o).copied().unwrap_or_default() }))
            .collect();
        Ok(Some(UserAccess {
            entry: UserEntry { username, super_admin: sa, active: status == "active" },
            public: kind == "public",
            grants,
        }))
    }

    async fn list_roles(&self) -> StoreResult<Vec<RoleRecord>> {
        let rows = sqlx::query(&format!("{ROLE_SQL} ORDER BY r.id")).fetch_all(&self.pool).await?;
        rows.iter().map(role_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }

    async fn load_role(&self, id: RoleId) -> StoreResult<Option<RoleRecord>> {
        let row =
            sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.id = $1")).bind(id.0).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(role_from_row).transpose()?)
    }

    async fn role_members(&self, id: RoleId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE role_id = $1")
            .bind(id.0)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn list_orgs(&self) -> StoreResult<Vec<OrgRecord>> {
        let rows = sqlx::query(&format!("{ORG_SQL} ORDER BY o.name_key")).fetch_all(&self.pool).await?;
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

    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<MembershipRecord>> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name AS org_name, m.role_id, r.name AS role_name, \
             (SELECT string_agg(ability, ',') FROM member_abilities x WHERE x.org_id = m.org_id AND x.user_id = m.user_id) AS extras \
             FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN roles r ON r.id = m.role_id \
             WHERE m.user_id = $1 ORDER BY o.name_key",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
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

    async fn account_level(&self, target: UserId, holder: UserId) -> StoreResult<Option<AccountLevel>> {
        let level: Option<String> =
            sqlx::query_scalar(LEVEL_SQL).bind(target.0).bind(holder.0).fetch_optional(&self.pool).await?;
        Ok(level.as_deref().and_then(AccountLevel::parse))
    }

    async fn account_holders(&self, target: UserId) -> StoreResult<Vec<AccountHolder>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.username, u.full_name, a.level FROM account_access a JOIN users u ON u.id = a.holder_id \
             WHERE a.target_id = $1 ORDER BY u.username_key",
        )
        .bind(target.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(username, full_name, level)| {
                AccountLevel::parse(&level).map(|level| AccountHolder { username, full_name, level })
            })
            .collect())
    }

    async fn account_levels_between(
        &self,
        first: UserId,
        last: UserId,
    ) -> StoreResult<Vec<(UserId, String, AccountLevel)>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT a.target_id, u.username, a.level FROM account_access a JOIN users u ON u.id = a.holder_id \
             WHERE a.target_id BETWEEN $1 AND $2 ORDER BY a.target_id, u.username_key",
        )
        .bind(first.0)
        .bind(last.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(target, holder, level)| AccountLevel::parse(&level).map(|l| (UserId(target), holder, l)))
            .collect())
    }

    async fn accounts_listing(&self, holder: UserId, search: &str, limit: u32) -> StoreResult<Vec<UserRecord>> {
        // (an account is on few lists: the holder index bounds the scan)
        let sql = format!(
            "SELECT {USER_COLS} FROM account_access a JOIN users u ON u.id = a.target_id WHERE a.holder_id = $1 \
             AND {} ORDER BY u.username_key LIMIT $3",
            like_keys(2)
        );
        let rows = sqlx::query(&sql)
            .bind(holder.0)
            .bind(like_pattern(search))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(Into::into)
    }
}

#[async_trait]
impl AccessTx for PgTx {
    async fn memberships(&mut self, user: UserId) -> StoreResult<Vec<OrgId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT org_id FROM memberships WHERE user_id = $1 ORDER BY org_id")
            .bind(user.0)
            .fetch_all(&mut *self.tx)
            .await?;
        Ok(ids.into_iter().map(OrgId).collect())
    }

    async fn add_membership(&mut self, org: OrgId, user: UserId, role: RoleId, now: i64) -> StoreResult<()> {
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at) \
             SELECT $1, id, $2, username_key, $3 FROM users WHERE id = $4",
        )
        .bind(org.0)
        .bind(role.0)
        .bind(now)
        .bind(user.0)
        .execute(&mut *self.tx)
        .await;
        settle(&mut self.tx, r).await?;
        Ok(())
    }

    async fn add_memberships(&mut self, members: &[NewMembership], now: i64) -> StoreResult<()> {
        // The username key is copied from the account, as `add_membership` does.
        let extras: Vec<(i64, i64, &'static str)> =
            members.iter().flat_map(|m| m.extras.codes().into_iter().map(move |c| (m.org.0, m.user.0, c))).collect();
        savepoint(&mut self.tx).await?;
        let r = sqlx::query(
            "INSERT INTO memberships (org_id, user_id, role_id, username_key, created_at) \
             SELECT m.org_id, u.id, m.role_id, u.username_key, $4 \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS m (org_id, user_id, role_id) \
             JOIN users u ON u.id = m.user_id",
        )
        .bind(members.iter().map(|m| m.org.0).collect::<Vec<i64>>())
        .bind(members.iter().map(|m| m.user.0).collect::<Vec<i64>>())
        .bind(members.iter().map(|m| m.role.0).collect::<Vec<i64>>())
        .bind(now)
        .execute(&mut *self.tx)
        .await;
        settle(&mut self.tx, r).await?;
        sqlx::query(
            "INSERT INTO member_abilities (org_id, user_id, ability) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[])",
        )
        .bind(extras.iter().map(|e| e.0).collect::<Vec<i64>>())
        .bind(extras.iter().map(|e| e.1).collect::<Vec<i64>>())
        .bind(extras.iter().map(|e| e.2).collect::<Vec<&str>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn membership(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<Grant>> {
        let role: Option<i64> =
            sqlx::query_scalar("SELECT role_id FROM memberships WHERE org_id = $1 AND user_id = $2")
                .bind(org.0)
                .bind(user.0)
                .fetch_optional(&mut *self.tx)
                .await?;
        let Some(role) = role else { return Ok(None) };
        let codes: Vec<String> =
            sqlx::query_scalar("SELECT ability FROM member_abilities WHERE org_id = $1 AND user_id = $2")
                .bind(org.0)
                .bind(user.0)
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(Some(Grant { role: RoleId(role), extras: abilities_from(&codes) }))
    }

    async fn set_member_role(&mut self, org: OrgId, user: UserId, role: RoleId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE memberships SET role_id = $1, scim_connection_id = NULL WHERE org_id = $2 AND user_id = $3",
        )
        .bind(role.0)
        .bind(org.0)
        .bind(user.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_member_extras(&mut self, org: OrgId, user: UserId, extras: AbilitySet) -> StoreResult<()> {
        sqlx::query("DELETE FROM member_abilities WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        for code in extras.codes() {
            sqlx::query("INSERT INTO member_abilities (org_id, user_id, ability) VALUES ($1, $2, $3)")
                .bind(org.0)
                .bind(user.0)
                .bind(code)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn remove_membership(&mut self, org: OrgId, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(org.0)
            .bind(user.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn actor_facts(&mut self, user: UserId, org: OrgId) -> StoreResult<Option<(bool, AbilitySet)>> {
        let sa: Option<bool> = sqlx::query_scalar("SELECT super_admin FROM users WHERE id = $1 AND status = 'active'")
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(sa) = sa else { return Ok(None) };
        let codes: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT ra.ability FROM memberships m JOIN role_abilities ra ON ra.role_id = m.role_id \
             WHERE m.org_id = $1 AND m.user_id IN ($2, {PUBLIC_ID}) \
             UNION SELECT ability FROM member_abilities WHERE org_id = $1 AND user_id IN ($2, {PUBLIC_ID})"
        ))
        .bind(org.0)
        .bind(user.0)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(Some((sa, abilities_from(&codes))))
    }

    async fn bump_access_version(&mut self, change: Change) -> StoreResult<i64> {
        let version: i64 =
            sqlx::query_scalar("UPDATE access_version SET version = version + 1 WHERE id = 1 RETURNING version")
                .fetch_one(&mut *self.tx)
                .await?;
        // Queued now, delivered to every listening instance at commit, in commit order (see
        // `feed.rs`), with the database's clock for the lag metric.
        sqlx::query(
            "SELECT pg_notify($1, $2 || ' ' || $3::text || ' ' \
             || (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text || ' ' || $4)",
        )
        .bind(super::feed::ACCESS_CHANNEL)
        .bind(&self.instance)
        .bind(version)
        .bind(change.to_wire())
        .execute(&mut *self.tx)
        .await?;
        Ok(version)
    }

    async fn role(&mut self, id: RoleId) -> StoreResult<Option<RoleRecord>> {
        let row = sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(role_from_row).transpose()?)
    }

    async fn role_by_name(&mut self, name_key: &str) -> StoreResult<Option<RoleRecord>> {
        let row = sqlx::query(&format!("{ROLE_SQL_UNCOUNTED} WHERE r.name_key = $1"))
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
        sqlx::query("DELETE FROM role_abilities WHERE role_id = $1").bind(id.0).execute(&mut *self.tx).await?;
        for code in abilities.codes() {
            sqlx::query("INSERT INTO role_abilities (role_id, ability) VALUES ($1, $2)")
                .bind(id.0)
                .bind(code)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn role_in_use(&mut self, id: RoleId) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE role_id = $1) \
             OR EXISTS (SELECT 1 FROM scim_group_mappings WHERE role_id = $1) \
             OR EXISTS (SELECT 1 FROM scim_connections WHERE default_role_id = $1) \
             OR EXISTS (SELECT 1 FROM invitations WHERE role_id = $1)",
        )
        .bind(id.0)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn reassign_role(&mut self, from: RoleId, to: RoleId) -> StoreResult<u64> {
        let r = sqlx::query("UPDATE memberships SET role_id = $1 WHERE role_id = $2")
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *self.tx)
            .await?;
        // (directory groups mapped to the role, connections placing new people with it and
        // invitations to it move with its members)
        sqlx::query("UPDATE scim_group_mappings SET role_id = $1 WHERE role_id = $2")
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE scim_connections SET default_role_id = $1 WHERE default_role_id = $2")
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE invitations SET role_id = $1 WHERE role_id = $2")
            .bind(to.0)
            .bind(from.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(r.rows_affected())
    }

    async fn delete_role(&mut self, id: RoleId) -> StoreResult<()> {
        sqlx::query("DELETE FROM roles WHERE id = $1").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn org(&mut self, id: OrgId) -> StoreResult<Option<OrgRecord>> {
        let row = sqlx::query(&format!("{ORG_SQL_UNCOUNTED} WHERE o.id = $1"))
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.as_ref().map(org_from_row).transpose()?)
    }

    async fn org_member_count(&mut self, id: OrgId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1")
            .bind(id.0)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    async fn org_by_name(&mut self, name_key: &str) -> StoreResult<Option<OrgRecord>> {
        let row = sqlx::query(&format!("{ORG_SQL_UNCOUNTED} WHERE o.name_key = $1"))
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

    async fn delete_org(&mut self, id: OrgId, fallback: OrgId) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET org_id = $1 WHERE org_id = $2")
            .bind(fallback.0)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM orgs WHERE id = $1").bind(id.0).execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn set_org_two_factor(&mut self, org: OrgId, required: bool) -> StoreResult<()> {
        sqlx::query("UPDATE orgs SET require_2fa = $1 WHERE id = $2")
            .bind(required)
            .bind(org.0)
            .execute(&mut *self.tx)
            .await?;
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
                    "INSERT INTO account_access (target_id, holder_id, level) VALUES ($1, $2, $3) \
                     ON CONFLICT (target_id, holder_id) DO UPDATE SET level = $3",
                )
                .bind(target.0)
                .bind(holder.0)
                .bind(l.as_str())
                .execute(&mut *self.tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM account_access WHERE target_id = $1 AND holder_id = $2")
                    .bind(target.0)
                    .bind(holder.0)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    async fn set_account_levels(&mut self, levels: &[(UserId, UserId, AccountLevel)]) -> StoreResult<()> {
        // One statement may not upsert a row twice here: a pair given again keeps its last level.
        let mut last = std::collections::HashMap::new();
        for (target, holder, level) in levels {
            last.insert((*target, *holder), *level);
        }
        let levels: Vec<(UserId, UserId, AccountLevel)> = last.into_iter().map(|((t, h), l)| (t, h, l)).collect();
        sqlx::query(
            "INSERT INTO account_access (target_id, holder_id, level) \
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) \
             ON CONFLICT (target_id, holder_id) DO UPDATE SET level = excluded.level",
        )
        .bind(levels.iter().map(|l| l.0 .0).collect::<Vec<i64>>())
        .bind(levels.iter().map(|l| l.1 .0).collect::<Vec<i64>>())
        .bind(levels.iter().map(|l| l.2.as_str()).collect::<Vec<&str>>())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
