//! Databases (`/databases`): the current organization's database definitions, for holders of
//! view-databases (or of create-databases / manage-database-servers). A table, 50 a page; a
//! form to add one (create-databases) or edit one (`?edit=ID`, manage-database-servers);
//! delete behind a confirmation that says what goes. Every form works before the WASM
//! arrives; the stored password is never shown, only whether one is set.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::confirm::{CancelButton, ConfirmDialog};
use super::database_access::last_test;
use super::forms::{outcome, succeeded, successes, typed};
use super::json::json_resource;
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::databases::{list_databases, DeleteDatabase, SaveDatabase, TestDatabase};
use crate::domain::abilities::Ability;
use crate::domain::databases::{Database, Engine, TlsMode};

/// The form's values: a definition being edited, what a refused native post carried (never
/// the password), or a new definition's defaults.
#[derive(Clone, Default)]
struct Values {
    db_id: String,
    engine: String,
    host: String,
    port: String,
    name: String,
    tls: String,
    description: String,
    default_login: String,
    password_set: bool,
}

impl Values {
    fn of(d: &Database) -> Self {
        Values {
            db_id: d.db_id.clone(),
            engine: d.engine.as_str().into(),
            host: d.host.clone(),
            port: d.port.map(|p| p.to_string()).unwrap_or_default(),
            name: d.name.clone(),
            tls: d.tls.as_str().into(),
            description: d.description.clone(),
            default_login: d.default_login.clone().unwrap_or_default(),
            password_set: d.default_password_set,
        }
    }

    fn new_defaults() -> Self {
        // (verify-full: the only mode that stops a machine in the middle; an admin lowers it
        // knowingly)
        Values {
            engine: Engine::Postgres.as_str().into(),
            tls: TlsMode::VerifyFull.as_str().into(),
            ..Default::default()
        }
    }

    /// Fields of a refused form posted before the WASM arrived, over these values.
    fn refilled(mut self) -> Self {
        type Put = fn(&mut Values, String);
        const FIELDS: [(&str, Put); 8] = [
            ("database[db_id]", |v, s| v.db_id = s),
            ("database[engine]", |v, s| v.engine = s),
            ("database[host]", |v, s| v.host = s),
            ("database[port]", |v, s| v.port = s),
            ("database[name]", |v, s| v.name = s),
            ("database[tls]", |v, s| v.tls = s),
            ("database[description]", |v, s| v.description = s),
            ("database[default_login]", |v, s| v.default_login = s),
        ];
        for (field, put) in FIELDS {
            if let Some(s) = typed::<SaveDatabase>(field) {
                put(&mut self, s);
            }
        }
        self
    }
}

#[component]
pub fn DatabasesPage() -> AnyView {
    let session = expect_context::<super::Session>();
    let save = ServerAction::<SaveDatabase>::new();
    let delete = ServerAction::<DeleteDatabase>::new();
    let test = ServerAction::<TestDatabase>::new();
    let query = use_query_map();
    let after = move || query.with(|q| q.get("after"));
    let holds = move |a: Ability| session.current().map(|m| m.can(a));
    let can_view = move || {
        session.current().map(|m| {
            m.can(Ability::ViewDatabases) || m.can(Ability::CreateDatabases) || m.can(Ability::ManageDatabaseServers)
        })
    };
    let can_create =
        move || holds(Ability::CreateDatabases) == Some(true) || holds(Ability::ManageDatabaseServers) == Some(true);
    let can_manage = move || holds(Ability::ManageDatabaseServers) == Some(true);
    let can_see_credentials =
        move || holds(Ability::ViewCredentials) == Some(true) || holds(Ability::CreateCredentials) == Some(true);
    let save_ok = successes(save);
    let delete_ok = successes(delete);
    let test_ok = successes(test);
    // Only what the reader may see is asked for (no request the server would refuse).
    let list = json_resource(
        move || (save_ok.get(), delete_ok.get(), test_ok.get(), after(), can_view()),
        |(_, _, _, after, allowed)| async move {
            if allowed != Some(true) {
                return Err(super::not_for_you());
            }
            list_databases(after).await
        },
    );
    let editing = Signal::derive(move || {
        let id = query.with(|q| q.get("edit"))?;
        list.get()
            .and_then(|r| r.ok())
            .and_then(|p| p.databases.into_iter().find(|d| d.db_id.eq_ignore_ascii_case(&id)))
    });
    let sv = outcome(save);
    let dv = outcome(delete);
    let tv = outcome(test);
    let testing = test.pending();
    let saved = succeeded(save);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let deleted_any = succeeded(delete);
    // A refused delete posted before the WASM arrived: its dialog opens with the reason.
    let refused_delete =
        StoredValue::new(typed::<DeleteDatabase>("db_id").filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(_))))));
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            if query.with_untracked(|q| q.get("edit").is_some()) {
                navigate("/databases", Default::default());
            }
        }
    });
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    let org = move || session.current().and_then(|m| m.org.map(|o| o.name)).unwrap_or_default();
    view! {
        <Transition fallback=|| ()>
            <Show when=move || can_view() != Some(false) fallback=|| view! {
                <super::NotForYou what="Database definitions are for holders of view-databases, create-databases or manage-database-servers in this organization."/>
            }>
        <section class="card wide" aria-labelledby="databases-title">
            <h1 id="databases-title">"Databases"</h1>
            <p class="muted">{move || format!("The databases {}'s data tools connect to. Passwords are stored encrypted and never shown again.", org())}</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(page) if page.databases.is_empty() && page.next.is_none() => view! { <p>"No databases yet."</p> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone();
                        view! {
                            <div class="table-wrap sticky-first" tabindex="0" role="region" aria-label="Databases table (scrolls sideways)">
                            <table>
                                <caption class="sr-only">"Databases"</caption>
                                // (actions second, as on the users list: in view on a phone without scrolling)
                                <thead><tr><th scope="col">"Database"</th><th scope="col">"Actions"</th><th scope="col">"Last test"</th>
                                    <th scope="col">"Engine"</th><th scope="col">"Where"</th><th scope="col">"TLS"</th><th scope="col">"Default login"</th></tr></thead>
                                <tbody>
                                    {page.databases.into_iter().map(|d| {
                                        let id = d.db_id.clone();
                                        let dialog = format!("delete-db-{}", super::enc(&id));
                                        let open = refused_delete.with_value(|r| r.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&id)));
                                        let edit = match after() {
                                            Some(a) => format!("/databases?after={}&edit={}#database-form-title", super::enc(&a), super::enc(&id)),
                                            None => format!("/databases?edit={}#database-form-title", super::enc(&id)),
                                        };
                                        let login = match (&d.default_login, d.default_password_set) {
                                            (Some(l), true) => format!("{l} (password set)"),
                                            (Some(l), false) => l.clone(),
                                            (None, _) => String::new(),
                                        };
                                        let test_label = format!("Test connection to {id}");
                                        let test_id = id.clone();
                                        let lost = format!(
                                            "The definition of {} ({} at {}) and its default login go. Nothing changes on the database server itself.",
                                            id, d.engine.label(), d.place()
                                        );
                                        view! {
                                            <tr>
                                                <th scope="row"><strong>{id.clone()}</strong>
                                                    {(!d.description.is_empty()).then(|| view! { <br/><span class="muted">{d.description.clone()}</span> })}</th>
                                                <td class="actions">
                                                    {can_see_credentials().then(|| view! {
                                                        <a class="button" href=format!("/databases/{}/credentials", super::enc(&id))
                                                            aria-label=format!("Credentials of {id}")>"Credentials"</a>
                                                    })}
                                                    {can_manage().then(|| view! {
                                                        <ActionForm action=test attr:class="in-cell">
                                                            <input type="hidden" name="db_id" value=test_id.clone()/>
                                                            <button type="submit" aria-label=test_label.clone() disabled=testing>"Test"</button>
                                                        </ActionForm>
                                                        <a class="button" href=edit.clone() aria-label=format!("Edit {id}")>"Edit"</a>
                                                        <ConfirmDialog id=dialog.clone() trigger="Delete" trigger_label=format!("Delete {id}")
                                                            title=format!("Delete the database {id}?") done=deleted open=open>
                                                            <p>{lost.clone()}</p>
                                                            <ActionForm action=delete>
                                                                <input type="hidden" name="db_id" value=id.clone()/>
                                                                {form_error(dv, &[])}
                                                                <div class="buttons">
                                                                    <button type="submit" class="danger">"Delete database"</button>
                                                                    <CancelButton of=dialog.clone()/>
                                                                </div>
                                                            </ActionForm>
                                                        </ConfirmDialog>
                                                    })}
                                                </td>
                                                <td>{last_test(d.last_test.as_ref())}</td>
                                                <td>{d.engine.label()}</td>
                                                <td><code class="wrap">{d.place()}</code></td>
                                                <td>{d.tls.label()}</td>
                                                <td>{login}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="pager" aria-label="Pages">
                                {after().is_some().then(|| view! { <a class="button" href="/databases">"First page"</a> })}
                                {next.map(|n| view! { <a class="button" href=format!("/databases?after={}", super::enc(&n))>"Next page"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Database deleted."</p> })}
            <div aria-live="polite">
                {move || testing.get().then(|| view! { <p class="muted" role="status">"Testing the connection…"</p> })}
                {move || match tv.get() {
                    Some(Ok(d)) if !testing.get() => d.last_test.map(|t| {
                        let class = if t.outcome.ok() { "alert ok" } else { "alert" };
                        view! {
                            <p class=class role="status">
                                <strong>{format!("{}: {}.", d.db_id, t.outcome.label())}</strong>" "{t.message.clone()}
                            </p>
                        }
                    }).into_any(),
                    Some(Err(e)) if !testing.get() => view! { <ErrorBox error=e/> }.into_any(),
                    _ => ().into_any(),
                }}
            </div>
        </section>
        <Show when=move || can_create() || editing.get().is_some()>
        <section class="card wide" aria-labelledby="database-form-title">
            {move || {
                let current = editing.get();
                let create = current.is_none();
                let v = current.as_ref().map(Values::of).unwrap_or_else(Values::new_defaults).refilled();
                let title = match &current { Some(d) => format!("Edit {}", d.db_id), None => "Add a database".to_string() };
                let original = current.map(|d| d.db_id).unwrap_or_default();
                let engine = v.engine.clone();
                let tls = v.tls.clone();
                view! {
                    <h2 id="database-form-title">{title}</h2>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="original" value=original/>
                        <Field id="db_id" name="database[db_id]" label="Database ID" required=true value=v.db_id.clone()
                            hint="What tools call it: a letter or _, then letters, digits and @ _ - ~." error=fe("db_id")/>
                        <div class="field">
                            <label for="db_engine">"Engine"</label>
                            <select id="db_engine" name="database[engine]">
                                {Engine::ALL.into_iter().map(|e| view! {
                                    <option value=e.as_str() selected=engine.eq_ignore_ascii_case(e.as_str())>{e.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Field id="db_host" name="database[host]" label="Host" value=v.host.clone()
                            hint="A server name or IP address. Empty for SQLite." error=fe("host")/>
                        <Field id="db_port" name="database[port]" label="Port" value=v.port.clone() kind="text"
                            hint="Empty: the engine's default (5432, 3306, 1433). Empty for SQLite." error=fe("port")/>
                        <Field id="db_name" name="database[name]" label="Database name or SQLite file" required=true value=v.name.clone()
                            hint="For SQLite, the file's path inside the folder the operator set up for SQLite databases." error=fe("name")/>
                        <div class="field">
                            <label for="db_tls">"TLS"</label>
                            <select id="db_tls" name="database[tls]">
                                {TlsMode::ALL.into_iter().map(|m| view! {
                                    <option value=m.as_str() selected=tls.eq_ignore_ascii_case(m.as_str())>{m.label()}</option>
                                }).collect_view()}
                            </select>
                            {move || fe("tls").get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        </div>
                        <Field id="db_description" name="database[description]" label="Description" value=v.description.clone() error=fe("description")/>
                        <fieldset class="group">
                            <legend>"Default login (super admins without a login of their own)"</legend>
                            <Field id="db_default_login" name="database[default_login]" label="Login" value=v.default_login.clone()
                                autocomplete="off" error=fe("default_login")/>
                            <Field id="db_default_password" name="database[default_password]" label="Password" kind="password" autocomplete="new-password"
                                hint=if v.password_set { "Stored (encrypted). Leave empty to keep it." } else { "Stored encrypted; never shown again." }
                                error=fe("default_password")/>
                        </fieldset>
                        {form_error(sv, &["db_id", "engine", "host", "port", "name", "tls", "description", "default_login", "default_password"])}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>
                                {if create { "Add database" } else { "Save database" }}
                            </button>
                            {(!create).then(|| view! { <a class="button" href="/databases">"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Database saved."</p> })}
        </section>
        </Show>
            </Show>
        </Transition>
    }
    .into_any()
}
