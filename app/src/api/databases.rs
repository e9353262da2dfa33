use leptos::prelude::*;

use crate::domain::databases::{Database, DatabaseInput, DatabasePage};
use crate::domain::Error;

/// The current organization's database definitions, a page at a time.
#[server(prefix = "/rpc", endpoint = "list_databases")]
pub async fn list_databases(#[server(default)] after: Option<String>) -> Result<DatabasePage, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::databases::list(&b, &ctx, ctx.org(), after).await
}

/// Adds a definition to the current organization, or (with `original`, the id it had)
/// changes one: every field as the form shows it, an empty password keeping the stored one.
#[server(prefix = "/rpc", endpoint = "save_database")]
pub async fn save_database(database: DatabaseInput, #[server(default)] original: String) -> Result<Database, Error> {
    use crate::backend::services::databases as svc;
    let (b, ctx) = super::ctx()?;
    if original.trim().is_empty() {
        return svc::create(&b, &ctx, ctx.org(), database).await;
    }
    svc::update(&b, &ctx, ctx.org(), &original, database.into()).await
}

#[server(prefix = "/rpc", endpoint = "delete_database")]
pub async fn delete_database(db_id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::databases::delete(&b, &ctx, ctx.org(), &db_id).await
}

/// Test Connection for a definition of the current organization (its default login); the
/// definition comes back with the outcome as its last test.
#[server(prefix = "/rpc", endpoint = "test_database")]
pub async fn test_database(db_id: String) -> Result<Database, Error> {
    use crate::backend::services::databases as svc;
    let (b, ctx) = super::ctx()?;
    let test = svc::test(&b, &ctx, ctx.org(), &db_id).await?;
    let mut d = svc::get(&b, &ctx, ctx.org(), &db_id).await?;
    d.last_test = Some(test);
    Ok(d)
}
