//! Who reaches a database as which login, in the console:
//! - `/databases/:db/credentials`: a database's shared credentials (view-credentials or
//!   create-credentials), added, changed (`?edit=NAME`), tested and deleted (behind a
//!   confirmation that says how many accounts lose their login);
//! - the "Database access" section of an account's page: its mappings to the current
//!   organization's databases (its own login, a shared credential, or none), changed
//!   (`?map=DB`), tested and removed.
//!
//! Every form works before the WASM arrives; stored passwords are never shown, only whether
//! one is set.
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{outcome, succeeded, successes, typed};
use super::json::{json_resource, JsonResource};
use super::{enc, field_error, form_error, ErrorBox, Field};
use crate::api::databases::{
    list_credentials, DeleteCredential, DeleteMapping, SaveCredential, SaveMapping, TestCredential, TestMapping,
};
use crate::domain::abilities::Ability;
use crate::domain::database_access::{Mapping, MappingKind, MappingPage, Tested};
use crate::domain::databases::ConnectionTest;
use crate::domain::users::format_time;
use crate::domain::Error;

/// The "Last test" cell: outcome, when, how long, and what the driver said.
pub fn last_test(t: Option<&ConnectionTest>) -> impl IntoView {
    match t {
        None => view! { <span class="muted">"Never"</span> }.into_any(),
        Some(t) => {
            let class = if t.outcome.ok() { "badge success" } else { "badge failure" };
            view! {
                <span class=class>{t.outcome.label()}</span>
                <span class="muted small nowrap">{format!(" {} · {} ms", format_time(t.at), t.millis)}</span>
                {(!t.message.is_empty()).then(|| view! { <br/><span class="muted small">{t.message.clone()}</span> })}
            }
            .into_any()
        }
    }
}

/// A Test Connection's answer as a short notification.
fn test_notice(r: Option<Result<Tested, Error>>, pending: bool) -> AnyView {
    match r {
        _ if pending => view! { <p class="muted" role="status">"Testing the connection…"</p> }.into_any(),
        Some(Ok(Tested { what, test: t })) => {
            let class = if t.outcome.ok() { "alert ok" } else { "alert" };
            view! { <p class=class role="status"><strong>{format!("{what}: {}.", t.outcome.label())}</strong>" "{t.message}</p> }
                .into_any()
        }
        Some(Err(e)) => view! { <ErrorBox error=e/> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
pub fn CredentialsPage() -> AnyView {
    let session = expect_context::<super::Session>();
    let params = use_params_map();
    let query = use_query_map();
    let db = move || params.read().get("db").unwrap_or_default();
    let save = ServerAction::<SaveCredential>::new();
    let delete = ServerAction::<DeleteCredential>::new();
    let test = ServerAction::<TestCredential>::new();
    let holds = move |a: Ability| session.current().map(|m| m.can(a));
    let can_view =
        move || session.current().map(|m| m.can(Ability::ViewCredentials) || m.can(Ability::CreateCredentials));
    let can_manage = move || holds(Ability::CreateCredentials) == Some(true);
    let can_test_any = move || holds(Ability::ManageDatabaseServers) == Some(true);
    let me = move || session.current().map(|m| m.username);
    let (save_ok, delete_ok, test_ok) = (successes(save), successes(delete), successes(test));
    let after = move || query.with(|q| q.get("after"));
    let list = json_resource(
        move || (db(), save_ok.get(), delete_ok.get(), test_ok.get(), after(), can_view()),
        |(db, _, _, _, after, allowed)| async move {
            if allowed != Some(true) {
                return Err(super::not_for_you());
            }
            list_credentials(db, after).await
        },
    );
    let editing = Signal::derive(move || {
        let name = query.with(|q| q.get("edit"))?;
        list.get()
            .and_then(|r| r.ok())
            .and_then(|p| p.credentials.into_iter().find(|c| c.name.eq_ignore_ascii_case(&name)))
    });
    let (sv, dv, tv) = (outcome(save), outcome(delete), outcome(test));
    let testing = test.pending();
    let saved = succeeded(save);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(_))));
    let refused_delete = StoredValue::new(
        typed::<DeleteCredential>("name").filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(_))))),
    );
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            if query.with_untracked(|q| q.get("edit").is_some()) {
                navigate(&format!("/databases/{}/credentials", enc(&db())), Default::default());
            }
        }
    });
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    view! {
        <Transition fallback=|| ()>
            <Show when=move || can_view() != Some(false) fallback=|| view! {
                <super::NotForYou what="Shared credentials are for holders of view-credentials or create-credentials in this organization."/>
            }>
        <section class="card wide" aria-labelledby="credentials-title">
            <p><a href="/databases">"← Databases"</a></p>
            <h1 id="credentials-title">{move || format!("Shared credentials of {}", db())}</h1>
            <p class="muted">"A shared credential is a login and password for this database that accounts can be mapped to (on each account's page, under Database access) without anyone seeing its password. Passwords are stored encrypted and never shown again."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(page) if page.credentials.is_empty() && page.next.is_none() => view! { <p>"No shared credentials yet."</p> }.into_any(),
                    Ok(page) => {
                        let next = page.next.clone();
                        let db_id = page.db_id.clone();
                        let base = format!("/databases/{}/credentials", enc(&db_id));
                        view! {
                            <div class="table-wrap sticky-first" tabindex="0" role="region" aria-label="Credentials table (scrolls sideways)">
                            <table>
                                <caption class="sr-only">"Shared credentials"</caption>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Actions"</th><th scope="col">"Last test"</th>
                                    <th scope="col">"Login"</th><th scope="col">"Accounts"</th><th scope="col">"Created by"</th></tr></thead>
                                <tbody>
                                    {page.credentials.into_iter().map(|c| {
                                        let name = c.name.clone();
                                        let dialog = format!("delete-credential-{}", enc(&name));
                                        let open = refused_delete.with_value(|r| r.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&name)));
                                        let edit = format!("{base}?edit={}#credential-form-title", enc(&name));
                                        let mine = c.created_by.is_some() && c.created_by == me();
                                        let may_test = can_test_any() || (mine && can_manage());
                                        let lost = match c.mappings {
                                            0 => format!("The credential {name} ({} on {db_id}) goes. No account is mapped through it. Nothing changes on the database server itself.", c.login),
                                            n => format!("The credential {name} ({} on {db_id}) goes, and with it the database login of the {n} account(s) mapped through it. Nothing changes on the database server itself.", c.login),
                                        };
                                        let (db_t, name_t, db_d, name_d) = (db_id.clone(), name.clone(), db_id.clone(), name.clone());
                                        view! {
                                            <tr>
                                                <th scope="row"><strong>{name.clone()}</strong></th>
                                                <td class="actions">
                                                    {may_test.then(|| view! {
                                                        <ActionForm action=test attr:class="in-cell">
                                                            <input type="hidden" name="db_id" value=db_t.clone()/>
                                                            <input type="hidden" name="name" value=name_t.clone()/>
                                                            <button type="submit" aria-label=format!("Test connection as {}", name_t) disabled=testing>"Test"</button>
                                                        </ActionForm>
                                                    })}
                                                    {can_manage().then(|| view! {
                                                        <a class="button" href=edit.clone() aria-label=format!("Edit {name}")>"Edit"</a>
                                                        <ConfirmDialog id=dialog.clone() trigger="Delete" trigger_label=format!("Delete {name}")
                                                            title=format!("Delete the credential {name}?") done=deleted open=open>
                                                            <p>{lost.clone()}</p>
                                                            <ActionForm action=delete>
                                                                <input type="hidden" name="db_id" value=db_d.clone()/>
                                                                <input type="hidden" name="name" value=name_d.clone()/>
                                                                {form_error(dv, &[])}
                                                                <div class="buttons">
                                                                    <button type="submit" class="danger">"Delete credential"</button>
                                                                    <CancelButton of=dialog.clone()/>
                                                                </div>
                                                            </ActionForm>
                                                        </ConfirmDialog>
                                                    })}
                                                </td>
                                                <td>{last_test(c.last_test.as_ref())}</td>
                                                <td>{c.login.clone()}{(!c.password_set).then(|| view! { <span class="muted">" (no password)"</span> })}</td>
                                                <td>{c.mappings}</td>
                                                <td>{c.created_by.clone().unwrap_or_default()}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="pager" aria-label="Pages">
                                {after().is_some().then(|| view! { <a class="button" href=base.clone()>"First page"</a> })}
                                {next.map(|n| view! { <a class="button" href=format!("{base}?after={}", enc(&n))>"Next page"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || deleted.get().then(|| view! { <p class="alert ok" role="status">"Credential deleted."</p> })}
            <div aria-live="polite">
                {move || test_notice(tv.get(), testing.get())}
            </div>
        </section>
        <Show when=move || can_manage()>
        <section class="card wide" aria-labelledby="credential-form-title">
            {move || {
                let current = editing.get();
                let create = current.is_none();
                let title = match &current { Some(c) => format!("Edit {}", c.name), None => "Add a shared credential".to_string() };
                let (name, login, password_set) = match &current {
                    Some(c) => (c.name.clone(), c.login.clone(), c.password_set),
                    None => (String::new(), String::new(), false),
                };
                let original = current.map(|c| c.name).unwrap_or_default();
                view! {
                    <h2 id="credential-form-title">{title}</h2>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="db_id" value=db()/>
                        <input type="hidden" name="original" value=original/>
                        <Field id="credential_name" name="fields[name]" label="Name" required=true value=name
                            hint="What admins pick on an account's page: a letter or _, then letters, digits and @ _ - ~ ." error=fe("name")/>
                        <Field id="credential_login" name="fields[login]" label="Login" required=true value=login
                            autocomplete="off" hint="The user name on the database server." error=fe("login")/>
                        <Field id="credential_password" name="fields[password]" label="Password" kind="password" autocomplete="new-password"
                            hint=if password_set { "Stored (encrypted). Leave empty to keep it." } else { "Stored encrypted; never shown again." }
                            error=fe("password")/>
                        {form_error(sv, &["name", "login", "password"])}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>
                                {if create { "Add credential" } else { "Save credential" }}
                            </button>
                            {(!create).then(|| view! { <a class="button" href=format!("/databases/{}/credentials", enc(&db()))>"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Credential saved."</p> })}
        </section>
        </Show>
            </Show>
        </Transition>
    }
    .into_any()
}

/// How a mapping signs in, in words.
fn how(m: &Mapping) -> String {
    match m.kind {
        MappingKind::Own => {
            let login = m.login.clone().unwrap_or_default();
            if m.password_set {
                format!("Own login {login} (password set)")
            } else {
                format!("Own login {login} (no password)")
            }
        }
        MappingKind::Credential => format!("Shared credential {}", m.credential.clone().unwrap_or_default()),
        MappingKind::None => "No login".to_string(),
    }
}

/// The actions of the account page's "Database access" section, created with the page's
/// other resources (the server and the browser create them in the same order).
#[derive(Clone, Copy)]
pub struct MappingActions {
    pub save: ServerAction<SaveMapping>,
    pub delete: ServerAction<DeleteMapping>,
    pub test: ServerAction<TestMapping>,
}

impl Default for MappingActions {
    fn default() -> Self {
        Self::new()
    }
}

impl MappingActions {
    pub fn new() -> Self {
        MappingActions {
            save: ServerAction::<SaveMapping>::new(),
            delete: ServerAction::<DeleteMapping>::new(),
            test: ServerAction::<TestMapping>::new(),
        }
    }

    /// Moves on every change, for the list to follow.
    pub fn changes(&self) -> impl Fn() -> (usize, usize, usize) + Copy + Send + Sync + 'static {
        let (s, d, t) = (successes(self.save), successes(self.delete), successes(self.test));
        move || (s.get(), d.get(), t.get())
    }
}

/// An account's mappings to the current organization's databases, on its page.
#[component]
pub fn DatabaseAccess(
    username: String,
    list: JsonResource<Result<MappingPage, Error>>,
    actions: MappingActions,
) -> impl IntoView {
    let session = expect_context::<super::Session>();
    let query = use_query_map();
    let MappingActions { save, delete, test } = actions;
    let can_change = move || session.current().is_some_and(|m| m.super_admin || m.can(Ability::ManageUsers));
    let can_test = move || session.current().is_some_and(|m| m.can(Ability::ManageDatabaseServers));
    let (sv, dv, tv) = (outcome(save), outcome(delete), outcome(test));
    let testing = test.pending();
    let removed = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let saved = succeeded(save);
    let refused_delete =
        StoredValue::new(typed::<DeleteMapping>("db_id").filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(_))))));
    let name = StoredValue::new(username);
    let page = move || format!("/admin/users/{}", enc(&name.get_value()));
    let changing = Signal::derive(move || {
        let db = query.with(|q| q.get("map"))?;
        list.get().and_then(|r| r.ok()).and_then(|p| p.mappings.into_iter().find(|m| m.db_id.eq_ignore_ascii_case(&db)))
    });
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    // Suggestions, fetched by the browser once the page runs (effects never run on the
    // server, and plain tasks rather than resources keep the page's Suspense out of it):
    // nothing is rendered for them on the server, so nothing can mismatch.
    let db_typed = RwSignal::new(String::new());
    let databases = RwSignal::new(Vec::<String>::new());
    let credentials = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        let allowed = session.current_untracked().is_some_and(|m| {
            m.can(Ability::ViewDatabases) || m.can(Ability::CreateDatabases) || m.can(Ability::ManageDatabaseServers)
        });
        if allowed {
            leptos::task::spawn_local(async move {
                if let Ok(page) = crate::api::databases::list_databases(None).await {
                    databases.set(page.databases.into_iter().map(|d| d.db_id).collect());
                }
            });
        }
    });
    Effect::new(move |_| {
        let db = changing.get().map(|m| m.db_id).unwrap_or_else(|| db_typed.get());
        if db.trim().is_empty() {
            credentials.set(Vec::new());
            return;
        }
        leptos::task::spawn_local(async move {
            let names = crate::api::databases::credential_names(db).await.unwrap_or_default();
            credentials.set(names);
        });
    });
    view! {
        <h2 id="database-access">"Database access"</h2>
        <p class="muted">{move || {
            let org = session.current().and_then(|m| m.org.map(|o| o.name)).unwrap_or_default();
            format!("How {} signs in to {org}'s databases through the data tools: a login of its own, a shared credential, or none.", name.get_value())
        }}</p>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(p) if p.mappings.is_empty() && p.next.is_none() => view! { <p>"No database logins in this organization."</p> }.into_any(),
                Ok(p) => {
                    let user = p.username.clone();
                    view! {
                        <div class="table-wrap sticky-first" tabindex="0" role="region" aria-label="Database access table (scrolls sideways)">
                        <table>
                            <caption class="sr-only">"Database access"</caption>
                            <thead><tr><th scope="col">"Database"</th><th scope="col">"Actions"</th><th scope="col">"Signs in with"</th><th scope="col">"Last test"</th></tr></thead>
                            <tbody>
                                {p.mappings.into_iter().map(|m| {
                                    let db = m.db_id.clone();
                                    let dialog = format!("delete-mapping-{}", enc(&db));
                                    let open = refused_delete.with_value(|r| r.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(&db)));
                                    let lost = format!("{user} loses its login to {db} ({}). Nothing changes on the database server itself.", how(&m).to_lowercase());
                                    let (db_t, db_d, u_t, u_d) = (db.clone(), db.clone(), user.clone(), user.clone());
                                    let change = format!("{}?map={}#mapping-form-title", page(), enc(&db));
                                    view! {
                                        <tr>
                                            <th scope="row"><strong>{db.clone()}</strong></th>
                                            <td class="actions">
                                                {can_test().then(|| view! {
                                                    <ActionForm action=test attr:class="in-cell">
                                                        <input type="hidden" name="username" value=u_t.clone()/>
                                                        <input type="hidden" name="db_id" value=db_t.clone()/>
                                                        <button type="submit" aria-label=format!("Test the login to {}", db_t) disabled=testing>"Test"</button>
                                                    </ActionForm>
                                                })}
                                                {can_change().then(|| view! {
                                                    <a class="button" href=change.clone() aria-label=format!("Change the login to {db}")>"Change"</a>
                                                    <ConfirmDialog id=dialog.clone() trigger="Remove" trigger_label=format!("Remove the login to {db}")
                                                        title=format!("Remove the login to {db}?") done=removed open=open>
                                                        <p>{lost.clone()}</p>
                                                        <ActionForm action=delete>
                                                            <input type="hidden" name="username" value=u_d.clone()/>
                                                            <input type="hidden" name="db_id" value=db_d.clone()/>
                                                            {form_error(dv, &[])}
                                                            <div class="buttons">
                                                                <button type="submit" class="danger">"Remove login"</button>
                                                                <CancelButton of=dialog.clone()/>
                                                            </div>
                                                        </ActionForm>
                                                    </ConfirmDialog>
                                                })}
                                            </td>
                                            <td>{how(&m)}</td>
                                            <td>{last_test(m.last_test.as_ref())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                        {p.next.map(|_| view! { <p class="muted">"Showing the first 50 databases; the API and `roster database mappings` list them all."</p> })}
                    }.into_any()
                }
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
        </Transition>
        {move || removed.get().then(|| view! { <p class="alert ok" role="status">"Login removed."</p> })}
        <div aria-live="polite">
            {move || test_notice(tv.get(), testing.get())}
        </div>
        <Show when=can_change>
            {move || {
                let current = changing.get();
                let kind = current.as_ref().map(|m| m.kind).unwrap_or(MappingKind::Own);
                let title = match &current { Some(m) => format!("Change the login to {}", m.db_id), None => "Add a database login".to_string() };
                let (db, login, credential, password_set) = match &current {
                    Some(m) => (m.db_id.clone(), m.login.clone().unwrap_or_default(), m.credential.clone().unwrap_or_default(), m.password_set),
                    None => (typed::<SaveMapping>("mapping[db_id]").unwrap_or_default(), typed::<SaveMapping>("mapping[login]").unwrap_or_default(), String::new(), false),
                };
                view! {
                    <h3 id="mapping-form-title">{title}</h3>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="username" value=name.get_value()/>
                        {match &current {
                            Some(m) => view! { <input type="hidden" name="mapping[db_id]" value=m.db_id.clone()/> }.into_any(),
                            None => view! {
                                <Field id="mapping_db" name="mapping[db_id]" label="Database ID" required=true value=db
                                    autocomplete="off" list="mapping-databases" on_input=Callback::new(move |v| db_typed.set(v))
                                    hint="The database's id, as on the Databases page." error=fe("db_id")/>
                            }.into_any(),
                        }}
                        // Suggestions once the WASM runs: the organization's databases (for
                        // readers who may see them) and the chosen database's credentials.
                        <datalist id="mapping-databases">
                            {move || databases.get().into_iter().map(|d| view! { <option value=d/> }).collect_view()}
                        </datalist>
                        <datalist id="mapping-credentials">
                            {move || credentials.get().into_iter().map(|c| view! { <option value=c/> }).collect_view()}
                        </datalist>
                        <fieldset class="group">
                            <legend>"Signs in with"</legend>
                            {MappingKind::ALL.into_iter().map(|k| view! {
                                <div class="field check">
                                    <input type="radio" id=format!("mapping_kind_{}", k.as_str()) name="mapping[kind]" value=k.as_str() checked=k == kind/>
                                    <label for=format!("mapping_kind_{}", k.as_str())>{k.label()}</label>
                                </div>
                            }).collect_view()}
                        </fieldset>
                        <Field id="mapping_login" name="mapping[login]" label="Database login" value=login autocomplete="off"
                            hint="For its own login: the user name on the database server." error=fe("login")/>
                        <Field id="mapping_password" name="mapping[password]" label="Database password" kind="password" autocomplete="new-password"
                            hint=if password_set { "Stored (encrypted). Leave empty to keep it." } else { "For its own login; stored encrypted, never shown again." }
                            error=fe("password")/>
                        <Field id="mapping_credential" name="mapping[credential]" label="Shared credential name" value=credential
                            autocomplete="off" list="mapping-credentials"
                            hint="For a shared credential: its name, as listed under the database's credentials. Its password stays hidden."
                            error=fe("credential")/>
                        {form_error(sv, &["db_id", "login", "password", "credential"])}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save login"</button>
                            {current.is_some().then(|| view! { <a class="button" href=format!("{}#database-access", page())>"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Login saved."</p> })}
        </Show>
    }
}
