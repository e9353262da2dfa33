//! The queue for CPU-heavy work any signed-in account (or anyone, for sign-in) can cause:
//! password hashing (argon2, 19 MiB and tens of milliseconds each) and picture decoding (up
//! to a second or more for the largest accepted image). Work runs off the async runtime and
//! at most one job per core at a time, all kinds together, so a burst of uploads or sign-ins
//! waits its turn instead of exhausting memory or starving every other request.
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::internal;
use crate::domain::error::Error;

#[derive(Clone)]
pub struct CpuQueue {
    permits: Arc<Semaphore>,
}

impl Default for CpuQueue {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
    }
}

impl CpuQueue {
    pub fn new(slots: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(slots.max(1))) }
    }

    /// Runs `f` on a blocking thread once a slot is free.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let _permit = self.permits.acquire().await.map_err(internal)?;
        tokio::task::spawn_blocking(f).await.map_err(internal)
    }

    /// Takes every slot until the guard is dropped (tests: proves work waits for a slot).
    pub async fn hold_all(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let n = u32::try_from(self.permits.available_permits()).ok()?;
        self.permits.clone().acquire_many_owned(n).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_jobs_at_once_than_slots() {
        let q = CpuQueue::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let (q, running, most) = (q.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    q.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for j in jobs {
            j.await.expect("join").expect("ran");
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
