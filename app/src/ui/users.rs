//! The users admin: list (search, sort by any column, keyset paging — all in the URL so the
//! back button and shared links work), create, copy, edit, disable/enable and delete.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use super::{enc, field_error, form_error, ErrorBox, Field};
use crate::api::users::{get_user, list_users, CopyUser, CreateUser, DeleteUser, UpdateUser};
use crate::domain::users::{format_time, SortDir, SortField, UserStatus};

#[derive(Clone, PartialEq, Default)]
struct ListState {
    search: String,
    sort: SortField,
    dir: SortDir,
    after: Option<String>,
    before: Option<String>,
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

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let state = Memo::new(move |_| {
        let q = query.read();
        ListState {
            search: q.get("q").unwrap_or_default(),
            sort: q.get("sort").and_then(|s| SortField::parse(&s)).unwrap_or_default(),
            dir: q.get("dir").and_then(|d| SortDir::parse(&d)).unwrap_or_default(),
            after: q.get("after"),
            before: q.get("before"),
        }
    });
    let page = Resource::new(
        move || state.get(),
        |s| {
            list_users(
                Some(s.search).filter(|s| !s.is_empty()),
                Some(s.sort.as_str().to_string()),
                Some(s.dir.as_str().to_string()),
                s.after,
                s.before,
            )
        },
    );
    let navigate = use_navigate();
    let go = move |s: ListState| navigate(&s.href(), Default::default());
    let search_input = NodeRef::<leptos::html::Input>::new();
    let on_search = {
        let go = go.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = search_input.get().map(|i| i.value()).unwrap_or_default();
            go(ListState {
                search: text.trim().to_string(),
                sort: state.get().sort,
                dir: state.get().dir,
                ..Default::default()
            });
        }
    };

    let header = {
        let go = go.clone();
        move |field: SortField| {
            let go = go.clone();
            let aria = move || {
                let s = state.get();
                if s.sort == field {
                    if s.dir == SortDir::Asc {
                        "ascending"
                    } else {
                        "descending"
                    }
                } else {
                    "none"
                }
            };
            let arrow = move || {
                let s = state.get();
                if s.sort != field {
                    ""
                } else if s.dir == SortDir::Asc {
                    " ▲"
                } else {
                    " ▼"
                }
            };
            view! {
                <th scope="col" aria-sort=aria>
                    <button type="button" class="sort" on:click=move |_| {
                        let s = state.get();
                        let dir = if s.sort == field { s.dir.flip() } else { SortDir::Asc };
                        go(ListState { search: s.search, sort: field, dir, ..Default::default() });
                    }>{field.label()}<span aria-hidden="true">{arrow}</span></button>
                </th>
            }
        }
    };

    view! {
        <section class="card wide">
            <div class="title-row">
                <h1>"Users"</h1>
                <A href="/admin/users/new" attr:class="button primary">"New user"</A>
            </div>
            <form class="search" role="search" on:submit=on_search>
                <label for="user-search">"Search users"</label>
                <input id="user-search" type="search" node_ref=search_input
                    placeholder="Username, name or email" value=move || state.get().search/>
                <button type="submit">"Search"</button>
            </form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let header = header.clone();
                    let go = go.clone();
                    page.get().map(move |r| match r {
                        Ok(p) => {
                            let (prev, next) = (p.prev.clone(), p.next.clone());
                            let empty = p.users.is_empty();
                            let go_prev = go.clone();
                            let go_next = go.clone();
                            view! {
                                <div class="table-wrap">
                                <table>
                                    <caption class="sr-only">"Users"</caption>
                                    <thead><tr>
                                        {SortField::ALL.into_iter().map(header).collect_view()}
                                        <th scope="col">"Actions"</th>
                                    </tr></thead>
                                    <tbody>
                                        {p.users.into_iter().map(|u| {
                                            let edit = format!("/admin/users/{}", enc(&u.username));
                                            let copy = format!("/admin/users/new?copy={}", enc(&u.username));
                                            let status = u.status.as_str();
                                            let edit_label = format!("Edit {}", u.username);
                                            let copy_label = format!("Copy {}", u.username);
                                            view! {
                                                <tr>
                                                    <td><A href=edit.clone()>{u.username.clone()}</A>
                                                        {u.super_admin.then(|| view! { <span class="badge admin">"super admin"</span> })}
                                                        {u.public.then(|| view! { <span class="badge admin" title="Stands for anonymous visitors; cannot sign in">"public"</span> })}</td>
                                                    <td>{u.full_name.clone()}</td>
                                                    <td>{u.email.clone()}</td>
                                                    <td><span class=format!("badge {status}")>{status}</span></td>
                                                    <td>{if u.two_factor { "On" } else { "Off" }}</td>
                                                    <td>{format_time(u.created_at)}</td>
                                                    <td>{u.last_sign_in_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                                                    <td class="actions">
                                                        <A href=edit attr:aria-label=edit_label>"Edit"</A>
                                                        <A href=copy attr:aria-label=copy_label>"Copy"</A>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                <Show when=move || empty>
                                    <p class="muted">"No users match."</p>
                                </Show>
                                <nav class="pager" aria-label="Pages">
                                    <button type="button" disabled=prev.is_none() on:click=move |_| {
                                        let s = state.get();
                                        go_prev(ListState { before: prev.clone(), after: None, ..s });
                                    }>"Previous page"</button>
                                    <button type="button" disabled=next.is_none() on:click=move |_| {
                                        let s = state.get();
                                        go_next(ListState { after: next.clone(), before: None, ..s });
                                    }>"Next page"</button>
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

/// `/admin/users/new`, or `/admin/users/new?copy=NAME` to copy an account's configuration.
#[component]
pub fn NewUserPage() -> impl IntoView {
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
    let cv: Signal<_> = create.value().into();
    let pv: Signal<_> = copy.value().into();
    const FIELDS: &[&str] = &["username", "full_name", "email", "password", "status"];
    const FIELDS_NEW: &[&str] = &["username", "full_name", "email", "password", "status", "role"];
    view! {
        <section class="card">
            {move || match source() {
                None => view! {
                    <h1>"New user"</h1>
                    <ActionForm action=create attr:novalidate=true>
                        <Field id="username" label="Username" required=true
                            hint="Starts with a letter or _; letters, digits and @ _ - ~. Cannot be changed later."
                            error=Signal::derive(field_error(cv, "username"))/>
                        <Field id="full_name" label="Full name" error=Signal::derive(field_error(cv, "full_name"))/>
                        <Field id="email" label="Email" kind="email" required=true error=Signal::derive(field_error(cv, "email"))/>
                        <Field id="password" label="Password" kind="password" autocomplete="new-password" required=true
                            error=Signal::derive(field_error(cv, "password"))/>
                        <div class="field">
                            <label for="status">"Status"</label>
                            <select id="status" name="status">
                                <option value="active" selected>"Active"</option>
                                <option value="disabled">"Disabled"</option>
                            </select>
                        </div>
                        <div class="field check">
                            <input type="checkbox" id="super_admin" name="super_admin"/>
                            <label for="super_admin">"Super admin"</label>
                        </div>
                        <div class="field">
                            <label for="role">"Role in the current organization"</label>
                            <select id="role" name="role">
                                <option value="" selected=true>"Default: Viewer (Admin for super admins)"</option>
                                <RoleNames/>
                            </select>
                            {move || field_error(cv, "role")().map(|e| view! { <p class="field-error">{e}</p> })}
                        </div>
                        {form_error(cv, FIELDS_NEW)}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || create.pending().get()>"Create user"</button>
                            <A href="/admin/users">"Cancel"</A>
                        </div>
                    </ActionForm>
                }.into_any(),
                Some(src) => view! {
                    <h1>"Copy user " {src.clone()}</h1>
                    <p class="muted">"The new account gets " {src.clone()} "'s status, super admin flag and organizations. Personal details are not copied."</p>
                    <ActionForm action=copy attr:novalidate=true>
                        <input type="hidden" name="source" value=src.clone()/>
                        <Field id="username" label="Username" required=true error=Signal::derive(field_error(pv, "username"))/>
                        <Field id="full_name" label="Full name" error=Signal::derive(field_error(pv, "full_name"))/>
                        <Field id="email" label="Email" kind="email" required=true error=Signal::derive(field_error(pv, "email"))/>
                        <Field id="password" label="Password" kind="password" autocomplete="new-password" required=true
                            error=Signal::derive(field_error(pv, "password"))/>
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

#[component]
pub fn EditUserPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let username = move || params.read().get("username").unwrap_or_default();
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let user = Resource::new(move || (username(), update.version().get()), |(u, _)| get_user(u));
    let session = expect_context::<super::Session>();
    let confirming = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/admin/users", Default::default());
        }
    });
    let uv: Signal<_> = update.value().into();
    let dv: Signal<_> = delete.value().into();
    const FIELDS: &[&str] = &["full_name", "email", "status", "password"];
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || user.get().map(|r| match r {
                    Ok(u) => {
                        let name = u.username.clone();
                        let name_del = u.username.clone();
                        let name_copy = u.username.clone();
                        let active = u.status == UserStatus::Active;
                        view! {
                            <div class="title-row">
                                <h1>"User " {u.username.clone()}</h1>
                                <Show when=move || session.current().is_some_and(|m| m.super_admin)>
                                    <A href=format!("/admin/users/new?copy={}", enc(&name_copy)) attr:class="button">"Copy"</A>
                                </Show>
                            </div>
                            {move || query.read().get("created").map(|_| view! { <p class="alert ok" role="status">"User created."</p> })}
                            <dl class="facts">
                                <dt>"Created"</dt><dd>{format_time(u.created_at)}</dd>
                                <dt>"Last sign-in"</dt><dd>{u.last_sign_in_at.map(format_time).unwrap_or_else(|| "Never".into())}</dd>
                                <dt>"2FA"</dt><dd>{if u.two_factor { "On" } else { "Off" }}</dd>
                            </dl>
                            <ActionForm action=update attr:novalidate=true>
                                <input type="hidden" name="username" value=name.clone()/>
                                <Field id="full_name" label="Full name" value=u.full_name.clone() error=Signal::derive(field_error(uv, "full_name"))/>
                                <Field id="email" label="Email" kind="email" value=u.email.clone() required=true error=Signal::derive(field_error(uv, "email"))/>
                                <div class="field">
                                    <label for="status">"Status"</label>
                                    <select id="status" name="status">
                                        <option value="active" selected=active>"Active"</option>
                                        <option value="disabled" selected=!active>"Disabled"</option>
                                    </select>
                                </div>
                                // Only super admins grant or revoke super admin.
                                <Show when=move || session.current().is_some_and(|m| m.super_admin)>
                                    <div class="field check">
                                        <input type="checkbox" id="super_admin" name="super_admin" checked=u.super_admin/>
                                        <label for="super_admin">"Super admin"</label>
                                    </div>
                                </Show>
                                <Field id="password" label="Reset password" kind="password" autocomplete="new-password"
                                    hint="Leave empty to keep the current password. Setting one signs the user out everywhere."
                                    error=Signal::derive(field_error(uv, "password"))/>
                                {form_error(uv, FIELDS)}
                                {move || matches!(update.value().get(), Some(Ok(_))).then(|| view! { <p class="alert ok" role="status">"Changes saved."</p> })}
                                <div class="buttons">
                                    <button type="submit" class="primary" disabled=move || update.pending().get()>"Save changes"</button>
                                    <A href="/admin/users">"Back to users"</A>
                                </div>
                            </ActionForm>
                            {u.two_factor.then(|| view! { <super::security::TwoFactorReset username=u.username.clone()/> })}
                            <super::security::UnlockUser username=u.username.clone()/>
                            <Memberships username=u.username.clone()/>
                            <AccountLists username=u.username.clone()/>
                            <div class="danger-zone">
                                <h2>"Delete account"</h2>
                                {form_error(dv, &[])}
                                <Show when=move || !confirming.get() fallback=move || {
                                    let name_del = name_del.clone();
                                    view! {
                                        <div role="alertdialog" aria-labelledby="confirm-title" class="confirm">
                                            <p id="confirm-title">"Delete " <strong>{name_del.clone()}</strong> "? This cannot be undone."</p>
                                            <ActionForm action=delete attr:novalidate=true>
                                                <input type="hidden" name="username" value=name_del.clone()/>
                                                <button type="submit" class="danger">"Yes, delete"</button>
                                                <button type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                                            </ActionForm>
                                        </div>
                                    }
                                }>
                                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>"Delete user"</button>
                                </Show>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Role names for a select whose values are names (the users admin's create form).
#[component]
fn RoleNames() -> impl IntoView {
    let roles = Resource::new(|| (), |_| crate::api::roles::role_matrix());
    view! {
        <Transition fallback=|| ()>
            {move || roles.get().and_then(|r| r.ok()).map(|m| {
                m.roles.into_iter().map(|r| view! { <option value=r.name.clone()>{r.name.clone()}</option> }).collect_view()
            })}
        </Transition>
    }
}

/// The organizations the account belongs to, with its role in each.
#[component]
fn Memberships(username: String) -> impl IntoView {
    let live = expect_context::<super::live::Live>();
    let list = Resource::new(move || (username.clone(), live.track()), |(u, _)| crate::api::orgs::user_memberships(u));
    view! {
        <h2>"Organizations"</h2>
        <Transition fallback=|| ()>
            {move || list.get().map(|r| match r {
                Ok(ms) if ms.is_empty() => view! { <p class="muted">"Not a member of any organization."</p> }.into_any(),
                Ok(ms) => view! {
                    <ul aria-label="Memberships">
                        {ms.into_iter().map(|m| {
                            let extras = if m.extras.is_empty() { String::new() } else { format!(" + {}", m.extras.codes().join(", ")) };
                            view! { <li><strong>{m.org.name}</strong>": " {m.role} {extras}</li> }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
        </Transition>
    }
}

/// SlashDB-style lists on the account: who else may view it, and who may edit or delete it.
#[component]
fn AccountLists(username: String) -> impl IntoView {
    use crate::api::users::{account_holders, SetAccountHolder};
    use crate::domain::users::AccountLevel;
    let set = ServerAction::<SetAccountHolder>::new();
    let target = username.clone();
    let list = Resource::new(move || (target.clone(), set.version().get()), |(u, _)| account_holders(u));
    let sv: Signal<_> = set.value().into();
    let name = StoredValue::new(username);
    view! {
        <h2>"Who else may see or change this account"</h2>
        <p class="muted">"Holders also need view-users (to see) or manage-users (to change or delete) in the organization they work in."</p>
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
                                    <button type="button" class="secondary" on:click=move |_| {
                                        set.dispatch(SetAccountHolder { username: name.get_value(), holder: who.clone(), level: "none".into() });
                                    }>{label}</button>
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
