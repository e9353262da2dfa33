//! The cost of verifying one password against a hash imported from another system, next to
//! Roster's own argon2id (issue 12): SlashDB's sha512-crypt (656,000 rounds), DBackup's
//! bcrypt (cost 12) and werkzeug's scrypt (N=32768, r=8, p=1, its default), each verified
//! once at the account's first sign-in and then replaced by argon2id. Interleaved rounds on
//! one machine; compare the ratios, not the absolute figures.
//!
//!   cargo bench -p server --bench legacy_hashes      (ROSTER_BENCH_RUNS=10)
use std::time::Instant;

use app::backend::password::Hasher;

const PASSWORD: &str = "quiet bench passphrase number two";

fn main() {
    let runs: usize = std::env::var("ROSTER_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let h = Hasher::default();
    rt.block_on(async {
        let argon2id = h.hash(PASSWORD.into()).await.expect("hash");
        let hashes = [
            ("argon2id (m=19456, t=2, p=1)", argon2id),
            // mkpasswd -m sha-512 -R 656000 (SlashDB's rounds)
            ("sha512-crypt, 656,000 rounds", "$6$rounds=656000$5y.kmvX2FgSZ0cWF$tH0ZfBh9sMoo/OiCGv1G/Mgd//1c/GlxVleJO8UEZ4RjTM/HnOrYyNLMwCfqUsdHGM4TD9hr1uLk7.ll3wGhI1".to_string()),
            // htpasswd -nbB -C 12
            ("bcrypt, cost 12", "$2y$12$Vo/MOlmqSoHhwCe4mi94n.tk8jbC6tD6UT5wG19..luKlT2raeATO".to_string()),
            // werkzeug 3.1.8 generate_password_hash(PASSWORD) (its default method)
            ("werkzeug scrypt, N=32768 r=8 p=1", "scrypt:32768:8:1$DQJXipTMaXVB1okn$84dd7070ee101644f18e2d86d6de6bf4371de0f77f31c9eb15b8265ecc25ee7cd9f5eb1451517426aec9479e4485e4f2b9a22668b78e5c0b381d5d911be55d5f".to_string()),
        ];
        let mut totals = vec![0f64; hashes.len()];
        for _ in 0..runs {
            for (i, (_, hash)) in hashes.iter().enumerate() {
                let t = Instant::now();
                let c = h.check(PASSWORD, Some(hash.clone())).await.expect("check");
                totals[i] += t.elapsed().as_secs_f64() * 1000.0;
                assert!(c.ok, "{hash}");
            }
        }
        let base = totals[0] / runs as f64;
        println!("{:<36} {:>10} {:>8}", "one verification", "ms", "ratio");
        for ((name, _), total) in hashes.iter().zip(totals) {
            let ms = total / runs as f64;
            println!("{name:<36} {ms:>10.1} {:>7.1}x", ms / base);
        }
    });
}
