use leptos::prelude::*;

use crate::domain::import::ImportReport;
use crate::domain::Error;

/// Imports a file's accounts (the console's Import page). Every argument is a string so the
/// form also posts natively before the WASM arrives: `format` slashdb|csv|jsonl,
/// `on_existing` fail|skip|update, `dry_run` and `plaintext_passwords` "true"/"on" or empty.
#[server(prefix = "/rpc", endpoint = "import_accounts")]
pub async fn import_accounts(
    format: String,
    text: String,
    #[server(default)] dry_run: String,
    #[server(default)] on_existing: String,
    #[server(default)] plaintext_passwords: String,
    #[server(default)] org: String,
) -> Result<ImportReport, Error> {
    use crate::domain::import::{ImportFormat, ImportOptions, OnExisting};
    let (b, ctx) = super::ctx()?;
    let format = ImportFormat::parse(&format)
        .ok_or_else(|| Error::invalid("format", "Choose the format: SlashDB users.cfg, CSV or JSON Lines."))?;
    let yes = |v: &str| matches!(v.trim(), "true" | "on" | "1");
    let mut opts = ImportOptions::new(format);
    opts.dry_run = yes(&dry_run);
    opts.plaintext_passwords = yes(&plaintext_passwords);
    opts.on_existing = match on_existing.trim() {
        "" | "fail" => OnExisting::Fail,
        "skip" => OnExisting::Skip,
        "update" => OnExisting::Update,
        other => return Err(Error::invalid("on_existing", format!("'{other}': choose fail, skip or update."))),
    };
    opts.org = Some(org).filter(|o| !o.trim().is_empty());
    crate::backend::services::import::import(&b, &ctx, opts, &text).await
}
