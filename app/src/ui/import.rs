//! `/admin/import`: import accounts from SlashDB's users.cfg, CSV or JSON Lines (check with a
//! dry run first, then import), and download exports. Super admins only.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use super::form_error;
use super::forms::{name_of, outcome, Fields, PostForm};
use super::security::{needs_reauth, posted_needs_reauth, SudoPrompt};
use crate::api::import::ImportAccounts;
use crate::domain::import::{ImportFormat, ImportReport, Outcome, RowKind, REPORT_ROWS_SHOWN};

fn input_of(f: &Fields) -> ImportAccounts {
    ImportAccounts {
        format: f.get("format"),
        text: f.get("text"),
        dry_run: f.get("dry_run"),
        on_existing: f.get("on_existing"),
        plaintext_passwords: f.get("plaintext_passwords"),
        org: f.get("org"),
        databases: f.get("databases"),
    }
}

/// Reads the file chosen in `ev`'s input into `text` (in the browser: what is sent is what
/// the admin can see), saying how it went in `note`; `picked` gets the file's name.
fn read_chosen_file(
    ev: leptos::ev::Event,
    text: RwSignal<String>,
    note: RwSignal<Option<String>>,
    picked: impl Fn(&str) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        let Some(file) = input.files().and_then(|l| l.get(0)) else { return };
        let name = file.name();
        picked(&name);
        if file.size() > crate::domain::import::MAX_UPLOAD_BYTES as f64 {
            note.set(Some(format!("{name} is larger than 64 MB: import it with `roster import`.")));
            return;
        }
        note.set(Some(format!("Reading {name}…")));
        leptos::task::spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(v) => {
                    text.set(v.as_string().unwrap_or_default());
                    note.set(Some(format!("{name} loaded.")));
                }
                Err(_) => note.set(Some(format!("{name} could not be read."))),
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (ev, text, note, picked);
}

#[component]
pub fn ImportPage() -> AnyView {
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let action = ServerAction::<ImportAccounts>::new();
    let result = outcome(action);
    let reauth = RwSignal::new(posted_needs_reauth(name_of::<ImportAccounts>()));
    let text = RwSignal::new(String::new());
    let format = RwSignal::new(ImportFormat::Slashdb.as_str().to_string());
    let file_note = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if action.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    let retry = move |_| {
        reauth.set(false);
        if let Some(input) = action.input().get_untracked() {
            action.dispatch(input);
        }
    };
    let on_file = move |ev: leptos::ev::Event| {
        read_chosen_file(ev, text, file_note, move |name| {
            if let Some(f) = ImportFormat::from_file_name(name) {
                format.set(f.as_str().to_string());
            }
        })
    };
    let databases = RwSignal::new(String::new());
    let databases_note = RwSignal::new(None::<String>);
    let on_databases_file = move |ev: leptos::ev::Event| read_chosen_file(ev, databases, databases_note, |_| ());
    let on_existing = RwSignal::new("fail".to_string());
    let imported = Signal::derive(move || action.value().with(|v| matches!(v, Some(Ok(r)) if !r.dry_run)));
    let pending = action.pending();
    let posted_report = super::forms::shown_once::<ImportAccounts>();
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Accounts are imported and exported by super admins."/> }>
        <section class="card wide" aria-labelledby="import-title">
            <h1 id="import-title">"Import accounts"</h1>
            <p class="muted">"From SlashDB's users.cfg (with its databases.cfg), a CSV file (one row per membership) or JSON Lines. Check the file first: "
                "the dry run shows what would happen to each account and writes nothing. Each account is imported whole or not at all, "
                "and importing the same file again changes nothing."</p>
            <PostForm action=action input=input_of enctype="multipart/form-data">
                <div class="field">
                    <label for="import_format">"Format"</label>
                    <select id="import_format" name="format" prop:value=move || format.get()
                        on:change=move |ev| format.set(event_target_value(&ev))>
                        {ImportFormat::ALL.into_iter().map(|f| view! { <option value=f.as_str()>{f.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="import_file">"File"</label>
                    <input id="import_file" name="text_file" type="file" accept=".cfg,.yaml,.yml,.csv,.jsonl,.ndjson" on:change=on_file
                        aria-describedby="import_file-hint"/>
                    <p class="hint" id="import_file-hint" aria-live="polite">
                        {move || file_note.get().unwrap_or_else(|| "users.cfg, databases.cfg, .csv or .jsonl, up to 64 MB; or paste it below.".into())}
                    </p>
                </div>
                <div class="field">
                    <label for="import_text">"Contents"</label>
                    <textarea id="import_text" name="text" rows="10" spellcheck="false" class="code"
                        prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                </div>
                <details class="field" open=move || !databases.get().is_empty()>
                    <summary>"SlashDB's databases.cfg (optional, with a users.cfg)"</summary>
                    <p class="hint" id="import_databases-hint">"Its databases become definitions of the organization below, imported first so the accounts' database logins find them."</p>
                    <label for="import_databases_file">"databases.cfg file"</label>
                    <input id="import_databases_file" name="databases_file" type="file" accept=".cfg,.yaml,.yml" on:change=on_databases_file
                        aria-describedby="import_databases_file-hint"/>
                    <p class="hint" id="import_databases_file-hint" aria-live="polite">
                        {move || databases_note.get().unwrap_or_else(|| "Or paste it below.".into())}
                    </p>
                    <label for="import_databases">"databases.cfg contents"</label>
                    <textarea id="import_databases" name="databases" rows="6" spellcheck="false" class="code"
                        aria-describedby="import_databases-hint"
                        prop:value=move || databases.get() on:input=move |ev| databases.set(event_target_value(&ev))></textarea>
                </details>
                <div class="field">
                    <label for="import_org">"Organization (SlashDB)"</label>
                    <input id="import_org" name="org" autocomplete="off" aria-describedby="import_org-hint"/>
                    <p class="hint" id="import_org-hint">"The organization SlashDB's accounts join, with dbdef, querydef and userdef as abilities there, and where its databases are defined. Empty: the one you are working in."</p>
                </div>
                <fieldset class="group">
                    <legend>"Accounts and databases that exist and differ from the file"</legend>
                    {[("fail", "Report them as errors"), ("skip", "Leave them as they are"), ("update", "Change them to what the file says")]
                        .into_iter().map(|(value, label)| {
                            let id = format!("existing_{value}");
                            view! {
                                <div class="field check"><input type="radio" id=id.clone() name="on_existing" value=value checked=value == "fail"
                                    on:change=move |_| on_existing.set(value.to_string())/>
                                    <label for=id>{label}</label></div>
                            }
                        }).collect_view()}
                </fieldset>
                <div class="field check"><input type="checkbox" id="import_plaintext" name="plaintext_passwords" value="true"/>
                    <label for="import_plaintext">"SlashDB's dbpass values are plain text (decrypted with slashdb-secret)"</label></div>
                {move || (!result.with(needs_reauth)).then(form_error(result, &[])).flatten()}
                <div class="buttons">
                    <button type="submit" class="primary" name="dry_run" value="true" disabled=move || pending.get()>"Check (dry run)"</button>
                    // A real import writes many accounts at once: it asks first, saying what
                    // changes (the dialog's button submits this form).
                    <ConfirmDialog id="import-confirm" trigger="Import…" trigger_class="" title="Import the file now?" done=imported>
                        <p>{move || if on_existing.get() == "update" {
                            "The accounts and databases in the file are created, and those that exist and differ are changed to what the file says: names, emails, password hashes, memberships, lists and logins. Nothing is removed, but changed values are not kept."
                        } else {
                            "The accounts and databases in the file are created; those that exist and differ are not changed."
                        }}</p>
                        <p class="muted">"Check (dry run) shows what happens to each one without writing anything."</p>
                        <div class="buttons">
                            <button type="submit" class="primary" name="dry_run" value="false" disabled=move || pending.get()>"Import"</button>
                            <CancelButton of="import-confirm"/>
                        </div>
                    </ConfirmDialog>
                </div>
            </PostForm>
            <div aria-live="polite">
                {move || pending.get().then(|| view! { <p class="alert" role="status">"Reading the file and checking every account…"</p> })}
            </div>
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=retry/> })}
            // (a form posted before the WASM arrived gets its report with the next page)
            {move || match action.value().get() {
                Some(Ok(r)) => Some(view! { <Report report=r/> }),
                Some(Err(_)) => None,
                None => posted_report.get().map(|r| view! { <Report report=r/> }),
            }}
        </section>
        <section class="card wide" aria-labelledby="export-title">
            <h2 id="export-title">"Export accounts"</h2>
            <p class="muted">"Every account with its password hash, memberships, view and edit lists and database logins (never a database password). "
                "Keep the file safe. Downloading needs a recent sign-in."</p>
            <ul class="links">
                <li><a href="/api/v1/export?format=jsonl" download="users.jsonl">"JSON Lines"</a>" — imports into another Roster as the same state."</li>
                <li><a href="/api/v1/export?format=csv" download="users.csv">"CSV"</a>" — one row per membership, for spreadsheets (no database logins)."</li>
                <li><a href="/api/v1/export?format=slashdb" download="users.cfg">"SlashDB users.cfg"</a>" — the abilities of this organization; the file lists the accounts SlashDB cannot use as they are."</li>
                <li><a href="/api/v1/export?format=slashdb-databases" download="databases.cfg">"SlashDB databases.cfg"</a>" — this organization's databases, with default logins but no passwords."</li>
            </ul>
        </section>
            </Show>
        </Transition>
    }
    .into_any()
}

#[component]
fn Report(report: ImportReport) -> impl IntoView {
    let total = report.total_rows();
    let shown_count = report.rows.len().min(REPORT_ROWS_SHOWN);
    let shortened = report.rows_left_out > 0;
    let summary = report.summary();
    let title = if report.dry_run { "Dry run: nothing was written" } else { "Imported" };
    let shown: Vec<_> = report.rows.into_iter().take(REPORT_ROWS_SHOWN).collect();
    view! {
        <section aria-labelledby="report-title" class="report">
            <h2 id="report-title">{title}</h2>
            <p role="status"><strong>{summary}</strong></p>
            <div class="table-wrap cards">
            <table>
                <caption class="sr-only">"What happens to each account"</caption>
                <thead><tr><th scope="col">"Account or database"</th><th scope="col">"Line"</th><th scope="col">"Outcome"</th><th scope="col">"Details"</th></tr></thead>
                <tbody>
                    {shown.into_iter().map(|r| {
                        let badge = match r.outcome {
                            Outcome::Created | Outcome::Updated => "badge success",
                            Outcome::Error => "badge failure",
                            _ => "badge",
                        };
                        view! {
                            <tr>
                                <td data-label="Account">
                                    {(r.kind == RowKind::Database).then(|| view! { <span class="muted">"Database "</span> })}
                                    <code>{r.key}</code>
                                </td>
                                <td data-label="Line">{(r.line > 0).then(|| r.line.to_string())}</td>
                                <td data-label="Outcome"><span class=badge>{r.outcome.as_str()}</span></td>
                                <td data-label="Details">
                                    {(!r.message.is_empty()).then(|| view! { <p>{r.message.clone()}</p> })}
                                    {(!r.notes.is_empty()).then(|| view! {
                                        <ul class="notes">{r.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
            {(total > shown_count as u64).then(|| {
                let which = if shortened { "errors kept first" } else { "in file order" };
                view! {
                    <p class="muted">{format!("{shown_count} of {total} rows shown ({which}); `roster import … --json` and the API give the whole report.")}</p>
                }
            })}
        </section>
    }
}
