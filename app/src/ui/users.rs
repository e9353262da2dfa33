//! The users admin: list (search, sort by any column, keyset paging — all in the URL, as
//! links and a GET form, so the back button, shared links and a page without its WASM all
//! work), create, copy, edit, disable/enable and delete (after a question).
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{outcome, succeeded, typed};
use super::security::{needs_reauth, SudoPrompt};
use super::{enc, field_error, form_error, ErrorBox, Field, Session};
use crate::api::users::{get_user, list_users, password_rules, CopyUser, CreateUser, DeleteUser, UpdateUser};
use crate::domain::abilities::Ability;
use crate::domain::users::{format_time, SortDir, SortField, UserStatus};
use crate::domain::Error;
use crate::ui::json::{json_resource, JsonResource};

#[derive(Clone, PartialEq, Default)]
struct ListState {
    search: String,
    sort: SortField,
    dir: SortDir,
    after: Option<String>,
    before: Option<String>,
    /// Only accounts whose password hash came from another system.
    legacy: bool,
}

impl ListState {
    fn href(&self) -> String {
        let mut q = Vec::new();
        if !self.search.is_empty() {
            q.push(format!("q={}", enc(&self.search)));
        }
        if self.sort != SortField::default() {
            q.push(format!("sort={}", self.sort.as_str()));
        }
        if self.dir != SortDir::default() {
            q.push(format!("dir={}", self.dir.as_str()));
        }
        if self.legacy {
            q.push("legacy=1".into());
        }
        if let Some(a) = &self.after {
            q.push(format!("after={}", enc(a)));
        }
        if let Some(b) = &self.before {
            q.push(format!("before={}", enc(b)));
        }
        if q.is_empty() {
            "/admin/users".into()
        } else {
            format!("/admin/users?{}", q.join("&"))
        }
    }
}

/// Where "back" goes for this reader: the users list for super admins, the members page
/// for everyone else (who has no users list).
fn back_link(super_admin: bool) -> (&'static str, &'static str) {
    if super_admin {
        ("/admin/users", "Back to users")
    } else {
        ("/members", "Back to members")
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let state = Memo::new(move |_| {
        let q = query.read();
        ListState {
            search: q.get("q").unwrap_or_default(),
            sort: q.get("sort").and_then(|s| SortField::parse(&s)).unwrap_or_default(),
            dir: q.get("dir").and_then(|d| SortDir::parse(&d)).unwrap_or_default(),
            after: q.get("after"),
            before: q.get("before"),
            legacy: q.get("legacy").is_some_and(|v| v == "1"),
        }
    });
    // Super admins only: for anyone else the list is not asked for.
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let page = json_resource(
        move || (state.get(), admin()),
        |(s, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_users(
                Some(s.search).filter(|s| !s.is_empty()),
                Some(s.sort.as_str().to_string()),
                Some(s.dir.as_str().to_string()),
                s.after,
                s.before,
                s.legacy.then(|| "true".to_string()),
            )
            .await
        },
    );
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() == Some(true) fallback=move || match admin() {
                Some(_) => view! {
                    <super::NotForYou what="The list of every account is for super admins. The members of your organization are on the Members page."/>
                }
                .into_any(),
                None => view! { <section class="card"><ErrorBox error=Error::Unauthenticated/></section> }.into_any(),
            }>
                <UsersList state page/>
            </Show>
        </Transition>
    }
}

#[component]
fn UsersList(
    state: Memo<ListState>,
    page: JsonResource<Result<crate::domain::users::UserPage, Error>>,
) -> impl IntoView {
    let header = move |field: SortField| {
        let aria = move || {
            let s = state.get();
            match (s.sort == field, s.dir) {
                (true, SortDir::Asc) => "ascending",
                (true, SortDir::Desc) => "descending",
                _ => "none",
            }
        };
        let arrow = move || {
            let s = state.get();
            match (s.sort == field, s.dir) {
                (false, _) => "",
                (true, SortDir::Asc) => " ▲",
                (true, SortDir::Desc) => " ▼",
            }
        };
        let href = move || {
            let s = state.get();
            let dir = if s.sort == field { s.dir.flip() } else { SortDir::Asc };
            ListState { search: s.search, sort: field, dir, legacy: s.legacy, ..Default::default() }.href()
        };
        let first = field == SortField::Username;
        view! {
            <th scope="col" aria-sort=aria class:sticky=first>
                <A href=href attr:class="sort">{field.label()}<span aria-hidden="true">{arrow}</span></A>
            </th>
        }
    };
    view! {
        <section class="card wide">
            <div class="title-row">
                <h1>"Users"</h1>
                <A href="/admin/users/new" attr:class="button primary">"New user"</A>
                <A href="/admin/import" attr:class="button">"Import or export"</A>
            </div>
            <Form method="GET" action="/admin/users" attr:class="search" attr:role="search">
                <label for="user-search">"Search users"</label>
                <input id="user-search" type="search" name="q" placeholder="Username, name or email" value=move || state.get().search/>
                {move || {
                    let s = state.get();
                    (s.sort != SortField::default()).then(|| view! { <input type="hidden" name="sort" value=s.sort.as_str()/> })
                }}
                {move || {
                    let s = state.get();
                    (s.dir != SortDir::default()).then(|| view! { <input type="hidden" name="dir" value=s.dir.as_str()/> })
                }}
                {move || state.get().legacy.then(|| view! { <input type="hidden" name="legacy" value="1"/> })}
                <button type="submit">"Search"</button>
            </Form>
            <p class="muted small">
                "The built-in account " <A href="/admin/users/public">"public"</A>
                " stands for anonymous visitors: it never signs in, and what it is granted applies to everyone."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    page.get().map(move |r| match r {
                        Ok(p) => {
                            let prev = p.prev.clone().map(|b| ListState { before: Some(b), after: None, ..state.get_untracked() }.href());
                            let next = p.next.clone().map(|a| ListState { after: Some(a), before: None, ..state.get_untracked() }.href());
                            let users: Vec<_> = p.users.into_iter().filter(|u| !u.public).collect();
                            let empty = users.is_empty();
                            let legacy_note = legacy_note(state.get_untracked(), p.legacy_hashes);
                            view! {
                                {legacy_note}
                                <div class="table-wrap sticky-first" tabindex="0" role="region" aria-label="Users table (scrolls sideways)">
                                <table>
                                    <caption class="sr-only">"Users"</caption>
                                    <thead><tr>
                                        {header(SortField::Username)}
                                        <th scope="col">"Actions"</th>
                                        {SortField::ALL.into_iter().filter(|f| *f != SortField::Username).map(header).collect_view()}
                                    </tr></thead>
                                    <tbody>
                                        {users.into_iter().map(|u| {
                                            let edit = format!("/admin/users/{}", enc(&u.username));
                                            let copy = format!("/admin/users/new?copy={}", enc(&u.username));
                                            let status = u.status.as_str();
                                            let edit_label = format!("Edit {}", u.username);
                                            let copy_label = format!("Copy {}", u.username);
                                            view! {
                                                <tr>
                                                    <th scope="row" class="sticky"><A href=edit.clone()>{u.username.clone()}</A>
                                                        {u.super_admin.then(|| view! { <span class="badge admin">"super admin"</span> })}</th>
                                                    <td class="actions">
                                                        <A href=edit attr:aria-label=edit_label>"Edit"</A>
                                                        <A href=copy attr:aria-label=copy_label>"Copy"</A>
                                                    </td>
                                                    <td>{u.full_name.clone()}</td>
                                                    <td>{u.email.clone()}</td>
                                                    <td><span class=format!("badge {status}")>{status}</span></td>
                                                    <td>{if u.two_factor { "On" } else { "Off" }}</td>
                                                    <td class="nowrap">{format_time(u.created_at)}</td>
                                                    <td class="nowrap">{u.last_sign_in_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                {empty.then(|| view! { <p class="muted empty">"No users match."</p> })}
                                <nav class="pager" aria-label="Pages">
                                    {match prev {
                                        Some(h) => view! { <A href=h>"Previous page"</A> }.into_any(),
                                        None => view! { <span class="muted" aria-disabled="true">"Previous page"</span> }.into_any(),
                                    }}
                                    {match next {
                                        Some(h) => view! { <A href=h>"Next page"</A> }.into_any(),
                                        None => view! { <span class="muted" aria-disabled="true">"Next page"</span> }.into_any(),
                                    }}
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// How many accounts still have a password hash imported from another system, with a link
/// to list them (or, when listing them, back to everyone).
fn legacy_note(s: ListState, count: u64) -> Option<impl IntoView> {
    let all = ListState { legacy: false, after: None, before: None, ..s.clone() }.href();
    let only = ListState { legacy: true, after: None, before: None, ..s.clone() }.href();
    if s.legacy {
        let text = match count {
            1 => "Showing the 1 account whose password hash was imported from another system.".to_string(),
            n => format!("Showing the {n} accounts whose password hash was imported from another system."),
        };
        Some(
            view! {
                <p class="alert" role="status">{text}" " <A href=all>"Show all accounts"</A></p>
            }
            .into_any(),
        )
    } else if count > 0 {
        let text = match count {
            1 => "1 account still has a password hash imported from another system;".to_string(),
            n => format!("{n} accounts still have a password hash imported from another system;"),
        };
        Some(
            view! {
                <p class="alert" role="status">
                    {text}" each becomes argon2id at its next sign-in. "
                    <A href=only>"Show them"</A>
                </p>
            }
            .into_any(),
        )
    } else {
        None
    }
}

/// The password rules as a hint (the same sentence the server's checks follow).
fn rules_hint() -> Signal<Option<String>> {
    let rules = json_resource(|| (), |_| password_rules());
    Signal::derive(move || rules.get().and_then(|r| r.ok()))
}

/// `/admin/users/new`, or `/admin/users/new?copy=NAME` to copy an account's configuration.
/// Super admins create any account; holders of manage-users create members of their
/// current organization.
#[component]
pub fn NewUserPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let rules = json_resource(|| (), |_| password_rules());
    let roles = json_resource(|| (), |_| crate::api::roles::role_matrix());
    view! {
        <Transition fallback=|| ()>
            {move || match session.current() {
                Some(me) if me.super_admin || me.can(Ability::ManageUsers) => view! { <NewUser me rules roles/> }.into_any(),
                Some(_) => view! { <super::NotForYou what="Creating accounts needs the manage-users ability."/> }.into_any(),
                None => view! { <section class="card"><ErrorBox error=Error::Unauthenticated/></section> }.into_any(),
            }}
        </Transition>
    }
}

#[component]
fn NewUser(
    me: crate::domain::users::Me,
    rules: JsonResource<Result<String, Error>>,
    roles: JsonResource<Result<crate::domain::roles::Matrix, Error>>,
) -> impl IntoView {
    let query = use_query_map();
    let source = move || query.read().get("copy").filter(|s| !s.is_empty());
    let create = ServerAction::<CreateUser>::new();
    let copy = ServerAction::<CopyUser>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let done = create.value().get().and_then(|r| r.ok()).or_else(|| copy.value().get().and_then(|r| r.ok()));
        if let Some(u) = done {
            navigate(&format!("/admin/users/{}?created=1", enc(&u.username)), Default::default());
        }
    });
    let cv = outcome(create);
    let pv = outcome(copy);
    let hint = Signal::derive(move || rules.get().and_then(|r| r.ok()));
    let super_admin = me.super_admin;
    let org = StoredValue::new(me.org.as_ref().map(|o| o.name.clone()).unwrap_or_default());
    let (back, _) = back_link(super_admin);
    const FIELDS: &[&str] = &["username", "full_name", "email", "password", "status"];
    const FIELDS_NEW: &[&str] = &["username", "full_name", "email", "password", "status", "role"];
    view! {
        <section class="card">
            {move || match source().filter(|_| super_admin) {
                None => view! {
                    <h1>"New user"</h1>
                    <p class="muted">{format!("The account joins {}, the organization you are working in.", org.get_value())}</p>
                    <ActionForm action=create attr:novalidate=true>
                        <Field id="username" label="Username" required=true value={typed::<CreateUser>("username")}
                            hint="Starts with a letter or _; letters, digits and @ _ - ~ . Cannot be changed later."
                            error=Signal::derive(field_error(cv, "username"))/>
                        <Field id="full_name" label="Full name" value={typed::<CreateUser>("full_name")} error=Signal::derive(field_error(cv, "full_name"))/>
                        <Field id="email" label="Email" kind="email" value={typed::<CreateUser>("email")} hint="Optional; unique when given." error=Signal::derive(field_error(cv, "email"))/>
                        <PasswordField id="password" label="Password" hint error=Signal::derive(field_error(cv, "password"))/>
                        <div class="field">
                            <label for="status">"Status"</label>
                            <select id="status" name="status">
                                <option value="active" selected>"Active"</option>
                                <option value="disabled">"Disabled"</option>
                            </select>
                        </div>
                        {super_admin.then(|| view! {
                            <div class="field check">
                                <input type="checkbox" id="super_admin" name="super_admin"/>
                                <label for="super_admin">"Super admin (every ability in every organization)"</label>
                            </div>
                        })}
                        <div class="field">
                            <label for="role">{format!("Role in {}", org.get_value())}</label>
                            <select id="role" name="role">
                                <option value="" selected=true>"Viewer (Admin for super admins)"</option>
                                <Transition fallback=|| ()>
                                    {move || roles.get().and_then(|r| r.ok()).map(|m| {
                                        m.roles.into_iter().map(|r| view! { <option value=r.name.clone()>{r.name.clone()}</option> }).collect_view()
                                    })}
                                </Transition>
                            </select>
                            {move || field_error(cv, "role")().map(|e| view! { <p class="field-error">{e}</p> })}
                        </div>
                        {form_error(cv, FIELDS_NEW)}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create user"</button>
                            <A href=back>"Cancel"</A>
                        </div>
                    </ActionForm>
                }.into_any(),
                Some(src) => view! {
                    <h1>"Copy user " {src.clone()}</h1>
                    <p class="muted">"The new account gets " {src.clone()} "'s status, super admin flag and organizations. Personal details are not copied."</p>
                    <ActionForm action=copy attr:novalidate=true>
                        <input type="hidden" name="source" value=src.clone()/>
                        <Field id="username" label="Username" required=true value={typed::<CopyUser>("username")} error=Signal::derive(field_error(pv, "username"))/>
                        <Field id="full_name" label="Full name" value={typed::<CopyUser>("full_name")} error=Signal::derive(field_error(pv, "full_name"))/>
                        <Field id="email" label="Email" kind="email" value={typed::<CopyUser>("email")} hint="Optional; unique when given." error=Signal::derive(field_error(pv, "email"))/>
                        <PasswordField id="password" label="Password" hint error=Signal::derive(field_error(pv, "password"))/>
                        {form_error(pv, FIELDS)}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || copy.pending().get()>"Create copy"</button>
                            <A href="/admin/users">"Cancel"</A>
                        </div>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

/// A new-password input with the rules under it.
#[component]
fn PasswordField(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    hint: Signal<Option<String>>,
    #[prop(optional)] optional: bool,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let (e, h) = (err_id.clone(), hint_id.clone());
        move || if error.get().is_some() { format!("{h} {e}") } else { h.clone() }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id.clone() name=id.clone() type="password" autocomplete="new-password" required=!optional
                aria-invalid=move || error.get().is_some().then_some("true") aria-describedby=described/>
            <p class="hint" id=hint_id>
                {move || {
                    let rules = hint.get().unwrap_or_default();
                    if optional { format!("Leave empty to keep the current password. {rules}") } else { rules }
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
        </div>
    }
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let update_ok = super::forms::successes(update);
    let user = json_resource(move || (username(), update_ok.get()), |(u, _)| get_user(u));
    let session = expect_context::<Session>();
    let live = expect_context::<super::live::Live>();
    // Every resource of the page is created here, not inside the Suspense below (the server
    // and the browser must create them in the same order).
    let memberships = json_resource(move || (username(), live.track()), |(u, _)| crate::api::orgs::user_memberships(u));
    let set_holder = ServerAction::<crate::api::users::SetAccountHolder>::new();
    let set_holder_ok = super::forms::successes(set_holder);
    let holders =
        json_resource(move || (username(), set_holder_ok.get()), |(u, _)| crate::api::users::account_holders(u));
    let unlock = ServerAction::<crate::api::security::UnlockUser>::new();
    let unlock_ok = super::forms::successes(unlock);
    let locked = json_resource(move || (username(), unlock_ok.get()), |(u, _)| crate::api::security::sign_in_locked(u));
    let orgs = json_resource(move || live.track(), |_| crate::api::orgs::list_orgs());
    let roles = json_resource(|| (), |_| crate::api::roles::role_matrix());
    let mapping_actions = super::database_access::MappingActions::new();
    let mapping_changes = mapping_actions.changes();
    // (only for readers who may see the account's mappings: view-users or manage-users)
    let sees_mappings =
        move || session.current().map(|m| m.super_admin || m.can(Ability::ViewUsers) || m.can(Ability::ManageUsers));
    let mappings = json_resource(
        move || (username(), mapping_changes(), sees_mappings()),
        |(u, _, allowed)| async move {
            if allowed != Some(true) {
                return Err(super::not_for_you());
            }
            crate::api::databases::list_mappings(u, None).await
        },
    );
    let navigate = use_navigate();
    let super_admin = move || session.current().is_some_and(|m| m.super_admin);
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate(back_link(super_admin()).0, Default::default());
        }
    });
    let uv = outcome(update);
    let dv = outcome(delete);
    let saved = succeeded(update);
    let hint = rules_hint();
    // A password or email change past the sudo window: confirm, then save again.
    let form = NodeRef::<leptos::html::Form>::new();
    let reauth = RwSignal::new(false);
    Effect::new(move |_| {
        if update.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    let resubmit = Callback::new(move |_| {
        reauth.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(f) = form.get_untracked() {
            let _ = f.request_submit();
        }
    });
    const FIELDS: &[&str] = &["full_name", "email", "status", "password"];
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || user.get().map(|r| match r {
                    Ok(u) => {
                        let name = u.username.clone();
                        let name_form = u.username.clone();
                        let name_copy = u.username.clone();
                        let active = u.status == UserStatus::Active;
                        let public = u.public;
                        let sa = super_admin();
                        let (back, back_text) = back_link(sa);
                        let delete_id = "delete-user";
                        let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
                        view! {
                            <div class="title-row">
                                <h1>"User " {u.username.clone()}</h1>
                                {(sa && !public).then(|| view! {
                                    <A href=format!("/admin/users/new?copy={}", enc(&name_copy)) attr:class="button">"Copy"</A>
                                })}
                            </div>
                            {move || query.read().get("created").map(|_| view! { <p class="alert ok" role="status">"User created."</p> })}
                            {if public {
                                view! {
                                    <p class="alert">"The built-in public account stands for anonymous visitors. It never signs in and cannot be changed or deleted; what it is granted in an organization applies to everyone there."</p>
                                    <Memberships list=memberships/>
                                    <super::database_access::DatabaseAccess username=u.username.clone() list=mappings actions=mapping_actions/>
                                    <p><A href=back>{back_text}</A></p>
                                }.into_any()
                            } else {
                                view! {
                                    <dl class="facts">
                                        <dt>"Created"</dt><dd>{format_time(u.created_at)}</dd>
                                        <dt>"Last sign-in"</dt><dd>{u.last_sign_in_at.map(format_time).unwrap_or_else(|| "Never".into())}</dd>
                                        <dt>"2FA"</dt><dd>{if u.two_factor { "On" } else { "Off" }}</dd>
                                    </dl>
                                    <ActionForm action=update attr:novalidate=true node_ref=form>
                                        <input type="hidden" name="username" value=name_form.clone()/>
                                        <Field id="full_name" label="Full name" value=u.full_name.clone() error=Signal::derive(field_error(uv, "full_name"))/>
                                        <Field id="email" label="Email" kind="email" value=u.email.clone() hint="Optional; unique when given." error=Signal::derive(field_error(uv, "email"))/>
                                        <div class="field">
                                            <label for="status">"Status"</label>
                                            <select id="status" name="status">
                                                <option value="active" selected=active>"Active"</option>
                                                <option value="disabled" selected=!active>"Disabled (cannot sign in; sessions and tokens stop working)"</option>
                                            </select>
                                        </div>
                                        // Only super admins grant or revoke super admin.
                                        {sa.then(|| view! {
                                            <div class="field check">
                                                <input type="checkbox" id="super_admin" name="super_admin" checked=u.super_admin/>
                                                <label for="super_admin">"Super admin"</label>
                                            </div>
                                        })}
                                        <PasswordField id="password" label="Reset password" hint optional=true error=Signal::derive(field_error(uv, "password"))/>
                                        <p class="hint">"Setting a password signs the user out everywhere. Changing the password or the email needs a recent sign-in."</p>
                                        <div class="buttons">
                                            <button type="submit" class="primary" disabled=move || update.pending().get()>"Save changes"</button>
                                            <A href=back>{back_text}</A>
                                        </div>
                                        // (below the buttons: the button stays under the pointer)
                                        {move || (!reauth.get()).then(|| form_error(uv, FIELDS))}
                                        {move || saved.get().then(|| view! { <p class="alert ok after" role="status">"Changes saved."</p> })}
                                    </ActionForm>
                                    <Show when=move || reauth.get()>
                                        <SudoPrompt on_done=resubmit/>
                                    </Show>
                                    {u.two_factor.then(|| view! { <super::security::TwoFactorReset username=u.username.clone()/> })}
                                    <super::security::UnlockUser username=u.username.clone() unlock locked/>
                                    <Memberships list=memberships/>
                                    <AddToOrg username=u.username.clone() orgs roles/>
                                    <AccountLists username=u.username.clone() set=set_holder list=holders/>
                                    <super::database_access::DatabaseAccess username=u.username.clone() list=mappings actions=mapping_actions/>
                                    <div class="danger-zone">
                                        <h2>"Delete account"</h2>
                                        <ConfirmDialog id=delete_id trigger="Delete user" trigger_label=format!("Delete {name}")
                                            title=format!("Delete {name}?") done=deleted>
                                            <p>{format!("This deletes the account {name} for good: its sign-ins, tokens, passkeys and memberships in every organization end.")}</p>
                                            <p>"This cannot be undone."</p>
                                            <ActionForm action=delete attr:novalidate=true>
                                                <input type="hidden" name="username" value=name.clone()/>
                                                {form_error(dv, &[])}
                                                <div class="buttons">
                                                    <button type="submit" class="danger">"Delete account"</button>
                                                    <CancelButton of=delete_id/>
                                                </div>
                                            </ActionForm>
                                        </ConfirmDialog>
                                    </div>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => {
                        let (back, back_text) = back_link(super_admin());
                        view! { <ErrorBox error=e/><p><A href=back>{back_text}</A></p> }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The organizations the account belongs to, with its role in each (those the reader may
/// see), each linking to its members.
#[component]
fn Memberships(list: JsonResource<Result<Vec<crate::domain::orgs::Membership>, Error>>) -> impl IntoView {
    view! {
        <h2>"Organizations"</h2>
        <Transition fallback=|| ()>
            {move || list.get().map(|r| match r {
                Ok(ms) if ms.is_empty() => view! { <p class="muted">"Not a member of any organization you can see."</p> }.into_any(),
                Ok(ms) => view! {
                    <ul aria-label="Memberships">
                        {ms.into_iter().map(|m| {
                            let extras = if m.extras.is_empty() { String::new() } else { format!(" + {}", m.extras.codes().join(", ")) };
                            view! { <li><A href=format!("/members?org={}", m.org.id)><strong>{m.org.name}</strong></A>": " {m.role} {extras}</li> }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
        </Transition>
    }
}

/// Adding the account to an organization from its own page: any organization for super
/// admins, those the reader belongs to otherwise.
#[component]
fn AddToOrg(
    username: String,
    orgs: JsonResource<Result<Vec<crate::domain::orgs::Org>, Error>>,
    roles: JsonResource<Result<crate::domain::roles::Matrix, Error>>,
) -> impl IntoView {
    use crate::api::orgs::SetMember;
    let session = expect_context::<Session>();
    let live = expect_context::<super::live::Live>();
    let add = ServerAction::<SetMember>::new();
    let value = outcome(add);
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            live.bump();
        }
    });
    let me = session.me.get_untracked().and_then(|r| r.ok()).flatten();
    let can = me.as_ref().is_some_and(|m| m.super_admin || m.can(Ability::ManageUsers));
    let current = me.and_then(|m| m.org).map(|o| o.id);
    can.then(|| view! {
        <h3>"Add to an organization"</h3>
        <ActionForm action=add attr:novalidate=true attr:class="inline">
            <input type="hidden" name="username" value=username.clone()/>
            <input type="hidden" name="add" value="true"/>
            <div class="field">
                <label for="add-org">"Organization"</label>
                <select id="add-org" name="org">
                    <Transition fallback=|| ()>
                        {move || orgs.get().and_then(|r| r.ok()).map(|list| list.into_iter().map(|o| {
                            let sel = Some(o.id) == current;
                            view! { <option value=o.id.to_string() selected=sel>{o.name}</option> }
                        }).collect_view())}
                    </Transition>
                </select>
            </div>
            <div class="field">
                <label for="add-org-role">"Role"</label>
                <select id="add-org-role" name="role">
                    <option value="" selected=true>"Choose a role"</option>
                    <Transition fallback=|| ()>
                        {move || roles.get().and_then(|r| r.ok()).map(|m| m.roles.into_iter().map(|r| {
                            view! { <option value=r.id.to_string()>{r.name}</option> }
                        }).collect_view())}
                    </Transition>
                </select>
                {move || field_error(value, "role")().map(|e| view! { <p class="field-error">{e}</p> })}
            </div>
            <button type="submit">"Add"</button>
        </ActionForm>
        {form_error(value, &["role"])}
        {move || matches!(add.value().get(), Some(Ok(_))).then(|| view! { <p class="alert ok" role="status">"Added."</p> })}
    })
}

/// SlashDB-style lists on the account: who else may view it, and who may edit or delete it.
#[component]
fn AccountLists(
    username: String,
    set: ServerAction<crate::api::users::SetAccountHolder>,
    list: JsonResource<Result<Vec<crate::domain::users::AccountHolder>, Error>>,
) -> impl IntoView {
    use crate::domain::users::AccountLevel;
    let sv = outcome(set);
    let name = StoredValue::new(username);
    view! {
        <h2>"Who else may see or change this account"</h2>
        <p class="muted">"Holders also need view-users (to see) or manage-users (to change or delete) in the organization they work in. An organization admin can add an account that lists them to their organization."</p>
        <Transition fallback=|| ()>
            {move || list.get().map(|r| match r {
                Ok(hs) if hs.is_empty() => view! { <p>"Nobody besides the organization's admins and super admins."</p> }.into_any(),
                Ok(hs) => view! {
                    <ul class="plain" aria-label="Account access lists">
                        {hs.into_iter().map(|h| {
                            let who = h.username.clone();
                            let label = format!("Take {} off the lists", h.username);
                            let level = match h.level { AccountLevel::View => "may view", AccountLevel::Edit => "may view, edit and delete" };
                            view! {
                                <li class="role-admin">
                                    <span><strong>{h.username.clone()}</strong>" " {level}</span>
                                    <ActionForm action=set attr:class="inline">
                                        <input type="hidden" name="username" value=name.get_value()/>
                                        <input type="hidden" name="holder" value=who.clone()/>
                                        <input type="hidden" name="level" value="none"/>
                                        <button type="submit" class="secondary">{label}</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
        </Transition>
        <ActionForm action=set attr:novalidate=true attr:class="inline">
            <input type="hidden" name="username" value=name.get_value()/>
            <Field id="holder" label="Account to give access" error=Signal::derive(field_error(sv, "holder"))/>
            <div class="field">
                <label for="level">"Access"</label>
                <select id="level" name="level">
                    <option value="view">"May view"</option>
                    <option value="edit">"May view, edit and delete"</option>
                </select>
            </div>
            <button type="submit">"Give access"</button>
        </ActionForm>
        {form_error(sv, &["holder"])}
    }
}
