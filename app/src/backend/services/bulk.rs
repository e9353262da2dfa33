//! Bulk actions with a dry run. `plan` fixes the selection (named accounts, or every account
//! matching a users-list search, however many pages) and runs the real services on each
//! account inside one write transaction that is then rolled back: what it answers per account
//! is what would happen, earlier accounts included (of three super admins, "disable" changes
//! two and refuses the last). The plan is stored (any instance can apply it) and given an id.
//! `apply` runs it again in one transaction and commits only if every account's outcome is
//! still the planned one; otherwise nothing is written and the answer names what moved.
//! Nothing of a dry run reaches the audit log, the change feed or the access model.
use serde_json::json;

use super::{audit, record_change, EventNote};
use crate::backend::access::Change;
use crate::backend::sessions::{hash_token, new_token};
use crate::backend::store::{BulkPlanRecord, OrgRecord, RoleRecord, Tx, UserListQuery, UserRecord};
use crate::backend::{internal, Backend, Caller, Ctx};
use crate::domain::bulk::{
    drift, listed, BulkAction, BulkApplied, BulkCounts, BulkItem, BulkOutcome, BulkPlan, BulkRequest, Selection,
    MAX_ACCOUNTS, PLAN_MINUTES,
};
use crate::domain::error::Error;
use crate::domain::ids::{OrgId, UserId};
use crate::domain::policy;
use crate::domain::users::{SortDir, SortField, UserStatus};
use crate::domain::validate;

const PLAN_MS: i64 = PLAN_MINUTES * 60_000;

/// An action with its organization and role read (in the transaction).
enum Resolved {
    Status(UserStatus),
    Delete,
    Member { org: OrgRecord, role: RoleRecord, add: bool },
    Remove { org: OrgRecord },
    Reset { reason: String },
}

/// Checks the action's own input (before any account is looked at) and the caller's sudo
/// mode for actions that need it.
fn check_action(b: &Backend, ctx: &Ctx, action: &BulkAction) -> Result<(), Error> {
    match action {
        BulkAction::AddToOrg { .. } | BulkAction::SetRole { .. } => super::sudo_grants(b, ctx),
        BulkAction::ResetTwoFactor { reason } => {
            super::security::reset_reason(reason)?;
            super::sudo_credentials(b, ctx)
        }
        _ => Ok(()),
    }
}

async fn resolve(b: &Backend, tx: &mut Box<dyn Tx>, action: &BulkAction) -> Result<Resolved, Error> {
    async fn org_of(b: &Backend, tx: &mut Box<dyn Tx>, name: &str) -> Result<OrgRecord, Error> {
        let id = super::orgs::resolve(b, name)
            .map_err(|_| Error::invalid("org", format!("There is no organization named {}.", name.trim())))?;
        tx.org(id).await?.ok_or_else(|| Error::invalid("org", "That organization is gone."))
    }
    async fn role_of(b: &Backend, tx: &mut Box<dyn Tx>, name: &str) -> Result<RoleRecord, Error> {
        let id = super::roles::resolve(b, name)
            .map_err(|_| Error::invalid("role", format!("There is no role named {}.", name.trim())))?;
        tx.role(id).await?.ok_or_else(|| Error::invalid("role", "That role is gone."))
    }
    Ok(match action {
        BulkAction::Disable => Resolved::Status(UserStatus::Disabled),
        BulkAction::Enable => Resolved::Status(UserStatus::Active),
        BulkAction::Delete => Resolved::Delete,
        BulkAction::AddToOrg { org, role } => {
            Resolved::Member { org: org_of(b, tx, org).await?, role: role_of(b, tx, role).await?, add: true }
        }
        BulkAction::SetRole { org, role } => {
            Resolved::Member { org: org_of(b, tx, org).await?, role: role_of(b, tx, role).await?, add: false }
        }
        BulkAction::RemoveFromOrg { org } => Resolved::Remove { org: org_of(b, tx, org).await? },
        BulkAction::ResetTwoFactor { reason } => {
            Resolved::Reset { reason: super::security::reset_reason(reason)?.to_string() }
        }
    })
}

/// The selected accounts in selection order, with the names of those that do not exist.
/// Read in the plan's transaction (named ones) or from the users list's query (a search).
async fn select(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    selection: &Selection,
) -> Result<(Vec<UserRecord>, Vec<String>), Error> {
    match selection {
        Selection::Usernames { usernames } => {
            if usernames.len() > MAX_ACCOUNTS {
                return Err(Error::invalid("selection", format!("Select at most {MAX_ACCOUNTS} accounts at once.")));
            }
            let keys: Vec<String> = usernames.iter().map(|u| validate::username_key(u)).collect();
            let mut by_key = std::collections::HashMap::new();
            for chunk in keys.chunks(500) {
                for u in tx.users_by_keys(chunk).await? {
                    by_key.insert(validate::username_key(&u.username), u);
                }
            }
            let (mut found, mut missing) = (Vec::new(), Vec::new());
            let mut seen = std::collections::HashSet::new();
            for (name, key) in usernames.iter().zip(keys) {
                if !seen.insert(key.clone()) {
                    continue;
                }
                match by_key.remove(&key) {
                    Some(u) => found.push(u),
                    None => missing.push(name.trim().to_string()),
                }
            }
            Ok((found, missing))
        }
        Selection::Matching { search, legacy_hash } => {
            // (the users list's own rule for who may list accounts)
            policy::can_view_users(ctx.actor()?).map_err(Error::Forbidden)?;
            let search = search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
            if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
                return Err(Error::invalid("search", "Search text must be at most 200 characters."));
            }
            let q = UserListQuery {
                search,
                sort: SortField::Username,
                dir: SortDir::Asc,
                seek: crate::backend::store::Seek::First,
                limit: (MAX_ACCOUNTS + 1) as u32,
                legacy_hash: *legacy_hash,
            };
            let rows = b.store.list_users(&q).await?;
            if rows.len() > MAX_ACCOUNTS {
                return Err(Error::invalid(
                    "selection",
                    format!("More than {MAX_ACCOUNTS} accounts match: narrow the search."),
                ));
            }
            Ok((rows, Vec::new()))
        }
    }
}

/// Runs the action on one account in `tx`: its outcome and, when refused or unchanged, why.
async fn run_one(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    action: &Resolved,
    id: UserId,
) -> Result<(BulkOutcome, Option<String>), Error> {
    // (read again in the transaction: an earlier account's change may matter)
    let Some(user) = tx.user_by_id(id).await? else {
        return Ok((BulkOutcome::Refused, Some("The account is gone.".into())));
    };
    let done = match action {
        Resolved::Status(status) => {
            if user.status == *status {
                let word = if *status == UserStatus::Active { "enabled" } else { "disabled" };
                return Ok((BulkOutcome::Unchanged, Some(format!("Already {word}."))));
            }
            super::users::set_status_in(b, ctx, tx, org, &user, *status).await.map(|_| ())
        }
        Resolved::Delete => super::users::delete_in(b, ctx, tx, org, &user).await.map(|_| ()),
        Resolved::Member { org, role, add } => {
            let current = tx.membership(org.id, user.id).await?;
            match (current, add) {
                (Some(g), _) if g.role == role.id => {
                    return Ok((BulkOutcome::Unchanged, Some(format!("Already {} in {}.", role.name, org.name))))
                }
                // (adding someone who is a member already changes their role, as the plan
                // says; the extra abilities they hold stay)
                (Some(g), _) => super::orgs::set_member_in(b, ctx, tx, org, &user, role, g.extras, false).await,
                (None, true) => {
                    super::orgs::set_member_in(b, ctx, tx, org, &user, role, Default::default(), true).await
                }
                (None, false) => return Ok((BulkOutcome::Unchanged, Some(format!("Not a member of {}.", org.name)))),
            }
        }
        Resolved::Remove { org } => {
            if tx.membership(org.id, user.id).await?.is_none() {
                return Ok((BulkOutcome::Unchanged, Some(format!("Not a member of {}.", org.name))));
            }
            super::orgs::remove_member_in(b, ctx, tx, org, &user).await
        }
        Resolved::Reset { reason } => match super::security::reset_in(b, ctx, tx, org, &user, reason).await {
            Ok(true) => Ok(()),
            Ok(false) => return Ok((BulkOutcome::Unchanged, Some("No two-factor authentication to reset.".into()))),
            Err(e) => Err(e),
        },
    };
    match done {
        Ok(()) => Ok((BulkOutcome::Change, None)),
        // The rules' answers are this account's outcome; anything else (the database) ends
        // the whole run.
        Err(e @ (Error::Forbidden(_) | Error::NotFound { .. } | Error::Conflict { .. } | Error::Invalid { .. })) => {
            Ok((BulkOutcome::Refused, Some(e.to_string())))
        }
        Err(e) => Err(e),
    }
}

/// Runs the action on every account in `tx`, in order.
async fn run_all(
    b: &Backend,
    ctx: &Ctx,
    tx: &mut Box<dyn Tx>,
    org: OrgId,
    action: &Resolved,
    ids: &[(UserId, String)],
) -> Result<Vec<(UserId, BulkItem)>, Error> {
    let mut out = Vec::with_capacity(ids.len());
    for (id, name) in ids {
        let (outcome, reason) = run_one(b, ctx, tx, org, action, *id).await?;
        out.push((*id, BulkItem { username: name.clone(), outcome, reason }));
    }
    Ok(out)
}

fn encode(items: &[(UserId, BulkItem)]) -> String {
    items.iter().map(|(id, i)| format!("{}:{}", id.0, i.outcome.code())).collect::<Vec<_>>().join(",")
}

fn decode(items: &str) -> Result<Vec<(i64, BulkOutcome)>, Error> {
    items
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (id, code) = s.split_once(':').ok_or_else(|| internal("bad plan item"))?;
            let id = id.parse::<i64>().map_err(internal)?;
            let o = code.chars().next().and_then(BulkOutcome::of_code).ok_or_else(|| internal("bad plan outcome"))?;
            Ok((id, o))
        })
        .collect()
}

fn actor_id(ctx: &Ctx) -> Option<UserId> {
    match &ctx.caller {
        Caller::User(u) => Some(u.id),
        _ => None,
    }
}

/// The dry run: what the action would do to each selected account. Writes nothing but the
/// plan itself.
pub async fn plan(b: &Backend, ctx: &Ctx, req: BulkRequest) -> Result<BulkPlan, Error> {
    ctx.actor()?;
    check_action(b, ctx, &req.action)?;
    let org = ctx.org();
    let (items, missing) = {
        let _w = b.access.writer().await;
        let mut tx = b.store.begin().await?;
        policy::can_plan_bulk(super::actor_in(&mut tx, ctx, org).await?).map_err(Error::Forbidden)?;
        let action = resolve(b, &mut tx, &req.action).await?;
        let (users, missing) = select(b, ctx, &mut tx, &req.selection).await?;
        let ids: Vec<(UserId, String)> = users.iter().map(|u| (u.id, u.username.clone())).collect();
        let items = run_all(b, ctx, &mut tx, org, &action, &ids).await?;
        // The dry run ends here: dropping the transaction rolls back everything it did.
        drop(tx);
        (items, missing)
    };
    let id = new_token();
    let now = b.now();
    let record = BulkPlanRecord {
        actor: actor_id(ctx),
        org,
        action: serde_json::to_string(&req.action).map_err(internal)?,
        items: encode(&items),
        created_at: now,
        applied_at: None,
    };
    let mut tx = b.store.begin().await?;
    tx.insert_bulk_plan(&hash_token(&id), &record, now - PLAN_MS).await?;
    tx.commit().await?;
    let mut all: Vec<BulkItem> = missing
        .into_iter()
        // (worded as for an account the caller may not see: no telling which names exist)
        .map(|name| BulkItem {
            username: name,
            outcome: BulkOutcome::Refused,
            reason: Some(Error::not_found("User").to_string()),
        })
        .collect();
    all.extend(items.into_iter().map(|(_, i)| i));
    Ok(BulkPlan {
        id,
        action: req.action.describe(),
        counts: BulkCounts::of(&all),
        items: listed(&all),
        expires_at: now + PLAN_MS,
    })
}

fn stale(message: String) -> Error {
    Error::Conflict { field: Some("plan".into()), message }
}

/// Applies a plan made by the same caller, if every account's outcome is still the planned
/// one; refused accounts are left as they are. One transaction, one audit event per changed
/// account plus a summary, one access change.
pub async fn apply(b: &Backend, ctx: &Ctx, plan_id: &str) -> Result<BulkApplied, Error> {
    ctx.actor()?;
    let hash = hash_token(plan_id.trim());
    let now = b.now();
    let _w = b.access.writer().await;
    let mut tx = b.store.begin().await?;
    policy::can_plan_bulk(super::actor_in(&mut tx, ctx, ctx.org()).await?).map_err(Error::Forbidden)?;
    // (someone else's plan is as unknown as one that never was)
    let rec = tx
        .bulk_plan(&hash)
        .await?
        .filter(|r| r.actor == actor_id(ctx))
        .ok_or_else(|| Error::NotFound { what: "Plan (make a new one)".into() })?;
    // (the rights that count are the maker's in the organization the plan was made in, whichever
    // the session has switched to since)
    policy::can_plan_bulk(super::actor_in(&mut tx, ctx, rec.org).await?).map_err(Error::Forbidden)?;
    if now - rec.created_at > PLAN_MS {
        return Err(Error::Gone { message: "This plan has expired: make a new one.".into() });
    }
    if rec.applied_at.is_some() {
        return Err(Error::Gone { message: "This plan has been applied already.".into() });
    }
    let action: BulkAction = serde_json::from_str(&rec.action).map_err(internal)?;
    check_action(b, ctx, &action)?;
    let planned = decode(&rec.items)?;
    let mut ids = Vec::with_capacity(planned.len());
    for (id, _) in &planned {
        let name = tx.user_by_id(UserId(*id)).await?.map(|u| u.username).unwrap_or_else(|| format!("#{id}"));
        ids.push((UserId(*id), name));
    }
    let resolved = resolve(b, &mut tx, &action).await?;
    let items = run_all(b, ctx, &mut tx, rec.org, &resolved, &ids).await?;
    let now_outcomes: Vec<(i64, BulkOutcome)> = items.iter().map(|(id, i)| (id.0, i.outcome)).collect();
    let names: std::collections::HashMap<i64, String> = ids.iter().map(|(id, n)| (id.0, n.clone())).collect();
    let moved = drift(&planned, &now_outcomes, |id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")));
    if !moved.is_empty() {
        // (nothing of this run is kept: the transaction rolls back)
        drop(tx);
        let shown: Vec<String> = moved.iter().take(20).cloned().collect();
        let more = if moved.len() > 20 { format!(" and {} more", moved.len() - 20) } else { String::new() };
        return Err(stale(format!(
            "The accounts changed since the plan was made, so nothing was applied: {}{more}. Make a new plan.",
            shown.join("; ")
        )));
    }
    if !tx.finish_bulk_plan(&hash, now).await? {
        return Err(Error::Gone { message: "This plan has been applied already.".into() });
    }
    let all: Vec<BulkItem> = items.into_iter().map(|(_, i)| i).collect();
    let counts = BulkCounts::of(&all);
    let mut ev = audit(b, ctx, "bulk.applied", true);
    ev.org_id = Some(rec.org);
    ev.after = Some(
        json!({ "action": action.describe(), "changed": counts.change, "unchanged": counts.unchanged, "refused": counts.refused }),
    );
    tx.insert_audit(&ev).await?;
    // One access change for the lot: every instance reloads once.
    let change = if counts.change > 0 { Some(Change::All) } else { None };
    let version = match change {
        Some(c) => Some(record_change(b, &mut tx, c, EventNote::default()).await?),
        None => None,
    };
    tx.commit().await?;
    if let (Some(c), Some(v)) = (change, version) {
        b.access.apply(b.store.as_ref(), v, c).await?;
    }
    Ok(BulkApplied { action: action.describe(), counts, items: listed(&all) })
}
