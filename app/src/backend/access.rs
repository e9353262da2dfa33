//! The in-memory access model every check reads, kept in step with the database.
//!
//! Writers that change access hold `writer()` across their transaction and the `apply` that
//! follows its commit, so in-process changes reach the model in commit order before the
//! request that made them returns: the next check anywhere sees them. Each such transaction
//! bumps `access_version` in the database. Another server on the same PostgreSQL announces its
//! changes on the change feed (`feed.rs`: `apply_notice`, at once); any other process (the
//! CLI) shows up as a version this model has not seen, and `sync` (polled, the backstop)
//! reloads everything. Every applied change is broadcast, for pages that update live.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard};

use tokio::sync::{broadcast, Mutex, MutexGuard};

pub use super::store::Change;
use super::store::{Store, StoreResult};
use crate::domain::access::AccessModel;
use crate::domain::ids::OrgId;

pub struct Access {
    model: RwLock<AccessModel>,
    version: AtomicI64,
    writer: Mutex<()>,
    events: broadcast::Sender<i64>,
}

impl Default for Access {
    fn default() -> Self {
        Self {
            model: RwLock::new(AccessModel::default()),
            version: AtomicI64::new(-1),
            writer: Mutex::new(()),
            events: broadcast::channel(64).0,
        }
    }
}

impl Access {
    /// Read access for checks. A poisoned lock only means a panic happened while patching;
    /// the data is still the last good state, so keep serving it.
    pub fn read(&self) -> RwLockReadGuard<'_, AccessModel> {
        self.model.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn version(&self) -> i64 {
        self.version.load(Ordering::SeqCst)
    }

    /// Held by a writer from before its transaction until after `apply`.
    pub async fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// A receiver of access versions, one per applied change.
    pub fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.events.subscribe()
    }

    fn publish(&self, version: i64) {
        self.version.store(version, Ordering::SeqCst);
        // No subscribers is fine.
        let _ = self.events.send(version);
    }

    pub async fn reload(&self, store: &dyn Store) -> StoreResult<()> {
        let (version, model) = store.load_access().await?;
        *self.model.write().unwrap_or_else(|e| e.into_inner()) = model;
        self.publish(version);
        Ok(())
    }

    /// Brings the model up to date after a commit that moved the database to `version`:
    /// re-reads just the changed part when this is the next version, everything otherwise.
    pub async fn apply(&self, store: &dyn Store, version: i64, change: Change) -> StoreResult<()> {
        if version != self.version() + 1 || change == Change::All {
            return self.reload(store).await;
        }
        match change {
            Change::User(id) => {
                let loaded = store.load_user_access(id).await?;
                let org_ids: Vec<OrgId> = self.read().orgs.keys().copied().collect();
                let mut m = self.model.write().unwrap_or_else(|e| e.into_inner());
                for o in org_ids {
                    m.grants.remove(&(id, o));
                }
                match loaded {
                    Some(u) => {
                        if u.public {
                            m.public = Some(id);
                        }
                        m.set_user(id, u.entry);
                        for (o, g) in u.grants {
                            m.grants.insert((id, o), g);
                        }
                    }
                    None => m.remove_user(id),
                }
            }
            Change::Role(id) => {
                // Read first, then hold the write lock only for one map entry.
                let role = store.load_role(id).await?;
                let mut m = self.model.write().unwrap_or_else(|e| e.into_inner());
                match role {
                    Some(r) => {
                        m.roles.insert(id, crate::domain::access::RoleEntry { name: r.name, abilities: r.abilities });
                    }
                    None => {
                        m.roles.remove(&id);
                    }
                }
            }
            Change::Org(id) => {
                let org = store.list_orgs().await?.into_iter().find(|o| o.id == id);
                let mut m = self.model.write().unwrap_or_else(|e| e.into_inner());
                match org {
                    Some(o) => m.set_org(id, o.name),
                    None => m.remove_org(id),
                }
            }
            Change::All => {}
        }
        self.publish(version);
        Ok(())
    }

    /// Applies a change another instance committed, heard on the change feed: the next
    /// version is patched in, an older one was seen already, and after a gap (a notice
    /// missed) everything is reloaded: a change is never applied across a gap.
    pub async fn apply_notice(&self, store: &dyn Store, version: i64, change: Change) -> StoreResult<()> {
        let _w = self.writer().await;
        if version <= self.version() {
            return Ok(());
        }
        self.apply(store, version, change).await
    }

    /// Reloads when the database moved on without us (another process wrote).
    pub async fn sync(&self, store: &dyn Store) -> StoreResult<bool> {
        let v = store.access_version().await?;
        if v == self.version() {
            return Ok(false);
        }
        let _w = self.writer().await;
        if store.access_version().await? != self.version() {
            self.reload(store).await?;
        }
        Ok(true)
    }
}
