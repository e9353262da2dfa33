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

/// A database's shared credentials (current organization), a page at a time.
#[server(prefix = "/rpc", endpoint = "list_credentials")]
pub async fn list_credentials(
    db_id: String,
    #[server(default)] after: Option<String>,
) -> Result<crate::domain::database_access::CredentialPage, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::list_credentials(&b, &ctx, ctx.org(), &db_id, after).await
}

/// Creates a shared credential on `db_id`, or (with `original`, its name before) changes one;
/// an empty password keeps the stored one.
#[server(prefix = "/rpc", endpoint = "save_credential")]
pub async fn save_credential(
    db_id: String,
    fields: crate::domain::database_access::CredentialInput,
    #[server(default)] original: String,
) -> Result<crate::domain::database_access::Credential, Error> {
    use crate::backend::services::database_access as svc;
    let (b, ctx) = super::ctx()?;
    if original.trim().is_empty() {
        return svc::create_credential(&b, &ctx, ctx.org(), &db_id, fields).await;
    }
    svc::update_credential(&b, &ctx, ctx.org(), &db_id, &original, fields.into()).await
}

/// How many accounts' mappings go through a credential (said before it is deleted).
#[server(prefix = "/rpc", endpoint = "credential_uses")]
pub async fn credential_uses(db_id: String, name: String) -> Result<u64, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::credential_uses(&b, &ctx, ctx.org(), &db_id, &name).await
}

/// Deletes a credential and the mappings through it; answers how many mappings went.
#[server(prefix = "/rpc", endpoint = "delete_credential")]
pub async fn delete_credential(db_id: String, name: String) -> Result<u64, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::delete_credential(&b, &ctx, ctx.org(), &db_id, &name).await
}

/// Test Connection as a shared credential; the outcome.
#[server(prefix = "/rpc", endpoint = "test_credential")]
pub async fn test_credential(db_id: String, name: String) -> Result<crate::domain::database_access::Tested, Error> {
    let (b, ctx) = super::ctx()?;
    let test = crate::backend::services::database_access::test_credential(&b, &ctx, ctx.org(), &db_id, &name).await?;
    Ok(crate::domain::database_access::Tested { what: name.trim().to_string(), test })
}

/// The names of a database's credentials, for an account's mapping form.
#[server(prefix = "/rpc", endpoint = "credential_names")]
pub async fn credential_names(db_id: String) -> Result<Vec<String>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::credential_names(&b, &ctx, ctx.org(), &db_id).await
}

/// An account's mappings to the current organization's databases.
#[server(prefix = "/rpc", endpoint = "list_mappings")]
pub async fn list_mappings(
    username: String,
    #[server(default)] after: Option<String>,
) -> Result<crate::domain::database_access::MappingPage, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::list_mappings(&b, &ctx, ctx.org(), &username, after).await
}

/// Creates or replaces an account's mapping to one of the current organization's databases.
#[server(prefix = "/rpc", endpoint = "save_mapping")]
pub async fn save_mapping(
    username: String,
    mapping: crate::domain::database_access::MappingInput,
) -> Result<crate::domain::database_access::Mapping, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::set_mapping(&b, &ctx, ctx.org(), &username, mapping).await
}

#[server(prefix = "/rpc", endpoint = "delete_mapping")]
pub async fn delete_mapping(username: String, db_id: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::database_access::delete_mapping(&b, &ctx, ctx.org(), &username, &db_id).await
}

/// Test Connection as an account's mapping; the outcome.
#[server(prefix = "/rpc", endpoint = "test_mapping")]
pub async fn test_mapping(username: String, db_id: String) -> Result<crate::domain::database_access::Tested, Error> {
    let (b, ctx) = super::ctx()?;
    let test = crate::backend::services::database_access::test_mapping(&b, &ctx, ctx.org(), &username, &db_id).await?;
    Ok(crate::domain::database_access::Tested { what: db_id.trim().to_string(), test })
}
