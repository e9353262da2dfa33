use leptos::prelude::*;

use crate::domain::import::ImportReport;
use crate::domain::Error;

/// Imports a file's accounts (the console's Import page). Every argument is a string so the
/// form also posts natively before the WASM arrives: `format` slashdb|slashdb-databases|csv|
/// jsonl, `on_existing` fail|skip|update, `dry_run` and `plaintext_passwords` "true"/"on" or
/// empty, `databases` SlashDB's databases.cfg beside a users.cfg (optional).
#[server(prefix = "/rpc", endpoint = "import_accounts")]
pub async fn import_accounts(
    format: String,
    text: String,
    #[server(default)] dry_run: String,
    #[server(default)] on_existing: String,
    #[server(default)] plaintext_passwords: String,
    #[server(default)] org: String,
    #[server(default)] databases: String,
) -> Result<ImportReport, Error> {
    use crate::domain::import::ImportOptions;
    let (b, ctx) = super::ctx()?;
    let opts = ImportOptions::from_text(&format, &dry_run, &on_existing, &plaintext_passwords, &org)?;
    crate::backend::services::import::import(&b, &ctx, opts, &text, Some(databases.as_str())).await
}
