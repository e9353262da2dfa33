//! The hashing bound for bench/signin.sh: how long one argon2id hash (m=19456 KiB, t=2, p=1,
//! the parameters sign-in verifies with) takes on this machine, alone and with one hash per
//! core at once (memory bandwidth is shared). Run with the server's own build settings:
//! `cargo bench -p server --bench argon2_hash --profile server-release`.
use std::time::Instant;

use app::backend::password::Hasher;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let h = Hasher::default();
    let n = 40;
    rt.block_on(async {
        let stored = h.hash("quiet bench passphrase number two".into()).await.expect("hash");
        // Alone: verifications one after another.
        let t = Instant::now();
        for _ in 0..n {
            h.verify("quiet bench passphrase number two".into(), Some(stored.clone())).await.expect("verify");
        }
        let alone = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
        // One stream per core.
        let t = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..cores {
            let (h, stored) = (h.clone(), stored.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..n {
                    let _ = h.verify("quiet bench passphrase number two".into(), Some(stored.clone())).await;
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let per_sec = (cores * n) as f64 / t.elapsed().as_secs_f64();
        println!(
            "argon2id verify alone: {alone:.2} ms -> bound {:.1}/s on {cores} cores",
            cores as f64 * 1000.0 / alone
        );
        println!(
            "argon2id verify, {cores} at once: {per_sec:.1}/s ({:.0}% of the bound)",
            per_sec * alone / (cores as f64 * 10.0)
        );
    });
}
