//! The SQL migrations, embedded at build time (`app/build.rs` lists `migrations/{sqlite,
//! postgres}`), as sqlx's migrator runs them: the same versions, descriptions and checksums
//! `sqlx::migrate!` would give, without its macro crate (which compiled every database driver
//! a second time for the compiler's own use).
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateError, Migration, MigrationSource, MigrationType, Migrator};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}
/// (version, description, SQL) of each backend's migrations, in version order.
pub use embedded::{POSTGRES, SQLITE};

#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    // (sqlx's rule: a file starting so runs outside a transaction)
                    let no_tx = sql.starts_with("-- no-transaction");
                    Migration::new(
                        *version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        no_tx,
                    )
                })
                .collect())
        })
    }
}

/// The migrator of one backend's list (`SQLITE` or `POSTGRES`).
pub async fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Result<Migrator, MigrateError> {
    Migrator::new(Embedded(list)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_is_embedded_once_in_order_on_both_backends() {
        for list in [SQLITE, POSTGRES] {
            let versions: Vec<i64> = list.iter().map(|m| m.0).collect();
            assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>(), "{versions:?}");
        }
        // (the twins: one migration per version on each backend, named alike)
        let names = |l: &[(i64, &str, &str)]| l.iter().map(|m| m.1.to_string()).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
        assert_eq!(SQLITE[0].1, "init");
        assert!(SQLITE[0].2.contains("CREATE TABLE"));
    }
}
