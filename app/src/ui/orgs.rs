//! The current organization's members (what you may do here, who belongs, and — for holders
//! of manage-users — adding, re-roling and removing members), and the organizations admin.
use leptos::prelude::*;
use leptos_router::components::A;

use super::live::Live;
use super::{field_error, form_error, ErrorBox, Field, Session};
use crate::api::orgs::{list_members, list_orgs, CreateOrg, DeleteOrg, RemoveMember, RenameOrg, SetMember};
use crate::api::roles::role_matrix;
use crate::api::users::DeleteUser;
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::orgs::Member;
use crate::domain::Error;

#[component]
pub fn MembersPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let set_member = ServerAction::<SetMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let members = Resource::new(
        move || (live.track(), set_member.version().get(), remove.version().get(), delete.version().get()),
        |_| list_members(None, None),
    );
    let roles = Resource::new(move || live.track(), |_| role_matrix());
    let set_value = Signal::from(set_member.value());
    let remove_value = Signal::from(remove.value());
    // The last delete attempt: on `in_other_orgs` the page offers removal instead.
    let refused = RwSignal::new(None::<(String, Error)>);
    let pending_delete = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(r) = delete.value().get() {
            refused.set(r.err().map(|e| (pending_delete.get_untracked(), e)));
        }
    });
    view! {
        <section class="card wide">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || session.me.get().map(|me| match me {
                    Ok(Some(me)) => {
                        let org = me.org.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| "no organization".into());
                        let can_view = me.can(Ability::ViewUsers) || me.can(Ability::ManageUsers);
                        let can_manage = me.can(Ability::ManageUsers);
                        let me_name = StoredValue::new(me.username.clone());
                        let mine = if me.super_admin {
                            view! { <p>"You are a super admin: every ability, in every organization."</p> }.into_any()
                        } else if me.abilities.is_empty() {
                            view! { <p>"You hold no abilities here: you can read, not change."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="chips" aria-label="Your abilities">
                                    {me.abilities.iter().map(|a| view! { <li><code>{a.code()}</code></li> }).collect_view()}
                                </ul>
                            }
                                .into_any()
                        };
                        view! {
                            <h1>{format!("Members of {org}")}</h1>
                            <h2>"What you may do here"</h2>
                            {mine}
                            <Show when=move || can_manage>
                                <h2>"Add a member"</h2>
                                <ActionForm action=set_member attr:novalidate=true attr:class="inline">
                                    <input type="hidden" name="add" value="true"/>
                                    <Field id="username" label="Username of an existing account" required=true error=Signal::derive(field_error(set_value, "username"))/>
                                    <div class="field">
                                        <label for="role">"Role"</label>
                                        <select id="role" name="role">
                                            <option value="" selected=true>"Choose a role"</option>
                                            <RoleOptions roles selected=None/>
                                        </select>
                                        {move || field_error(set_value, "role")().map(|e| view! { <p class="field-error">{e}</p> })}
                                    </div>
                                    <button type="submit">"Add member"</button>
                                </ActionForm>
                                {form_error(set_value, &["username", "role"])}
                            </Show>
                            {form_error(remove_value, &[])}
                            {move || refused.get().map(|(username, e)| {
                                let offer = matches!(e, Error::Forbidden(crate::domain::policy::Denied::InOtherOrgs));
                                let who = username.clone();
                                view! {
                                    <div class="alert error" role="alert">
                                        <p>{format!("{username} was not deleted: {e}")}</p>
                                        <Show when=move || offer>
                                            <button type="button" on:click={
                                                let who = who.clone();
                                                move |_| {
                                                    refused.set(None);
                                                    remove.dispatch(RemoveMember { username: who.clone() });
                                                }
                                            }>"Remove from organization"</button>
                                        </Show>
                                    </div>
                                }
                            })}
                            <Show when=move || can_view fallback=|| view! { <p class="muted">"Seeing the member list needs the view-users ability."</p> }>
                                <h2>"Members"</h2>
                                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                                    {
                                        move || members.get().map(|page| match page {
                                            Ok(page) => view! {
                                                <div class="table-wrap">
                                                    <table aria-label="Members">
                                                        <thead><tr>
                                                            <th scope="col">"Username"</th>
                                                            <th scope="col">"Name"</th>
                                                            <th scope="col">"Role"</th>
                                                            <th scope="col">"Extra abilities"</th>
                                                            <th scope="col">"Actions"</th>
                                                        </tr></thead>
                                                        <tbody>
                                                            {page.members.into_iter().map(|m| {
                                                                let is_me = m.username.eq_ignore_ascii_case(&me_name.get_value());
                                                                view! { <MemberRow m can_manage=can_manage && !is_me roles set_member remove delete pending_delete/> }
                                                            }).collect_view()}
                                                        </tbody>
                                                    </table>
                                                </div>
                                            }.into_any(),
                                            Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                                        })
                                    }
                                </Transition>
                            </Show>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <ErrorBox error=Error::Unauthenticated/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RoleOptions(roles: Resource<Result<crate::domain::roles::Matrix, Error>>, selected: Option<i64>) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || roles.get().and_then(|r| r.ok()).map(|m| {
                m.roles
                    .into_iter()
                    .map(|r| {
                        let sel = Some(r.id) == selected;
                        view! { <option value=r.id.to_string() selected=sel>{r.name}</option> }
                    })
                    .collect_view()
            })}
        </Transition>
    }
}

#[component]
fn MemberRow(
    m: Member,
    can_manage: bool,
    roles: Resource<Result<crate::domain::roles::Matrix, Error>>,
    set_member: ServerAction<SetMember>,
    remove: ServerAction<RemoveMember>,
    delete: ServerAction<DeleteUser>,
    pending_delete: RwSignal<String>,
) -> impl IntoView {
    let username = m.username.clone();
    let extras: Vec<String> = m.extras.codes().into_iter().map(str::to_string).collect();
    let role_label = format!("Role of {}", m.username);
    let badges = if m.public {
        Some(view! { <span class="badge">"public"</span> })
    } else if m.super_admin {
        Some(view! { <span class="badge">"super admin"</span> })
    } else {
        None
    };
    let role_cell = if can_manage {
        let u = username.clone();
        let ex = extras.clone();
        view! {
            <select aria-label=role_label on:change=move |ev| {
                if let Ok(role) = event_target_value(&ev).parse::<i64>() {
                    set_member.dispatch(SetMember { username: u.clone(), role: role.to_string(), extras: ex.clone(), add: false });
                }
            }>
                <RoleOptions roles selected=Some(m.role_id)/>
            </select>
        }
        .into_any()
    } else {
        view! { <span>{m.role.clone()}</span> }.into_any()
    };
    let actions = can_manage.then(|| {
        let u1 = username.clone();
        let u2 = username.clone();
        view! {
            <button type="button" class="secondary" on:click=move |_| { remove.dispatch(RemoveMember { username: u1.clone() }); }>
                {format!("Remove {} from organization", m.username)}
            </button>
            <button type="button" class="danger" on:click=move |_| {
                pending_delete.set(u2.clone());
                delete.dispatch(DeleteUser { username: u2.clone() });
            }>{format!("Delete {}", m.username)}</button>
        }
    });
    view! {
        <tr>
            <td><A href=format!("/admin/users/{}", super::enc(&m.username))>{m.username.clone()}</A> " " {badges}</td>
            <td>{m.full_name.clone()}</td>
            <td>{role_cell}</td>
            <td>
                {if extras.is_empty() { "—".to_string() } else { extras.join(", ") }}
                {can_manage.then(|| view! { <ExtrasEditor username=username.clone() role=m.role_id extras=m.extras set_member/> })}
            </td>
            <td class="actions">{actions}</td>
        </tr>
    }
}

#[component]
pub fn OrgsPage() -> impl IntoView {
    let live = expect_context::<Live>();
    let create = ServerAction::<CreateOrg>::new();
    let rename = ServerAction::<RenameOrg>::new();
    let delete = ServerAction::<DeleteOrg>::new();
    let require = ServerAction::<crate::api::security::SetTwoFactorRequirement>::new();
    let orgs = Resource::new(
        move || {
            (
                live.track(),
                create.version().get(),
                rename.version().get(),
                delete.version().get(),
                require.version().get(),
            )
        },
        |_| list_orgs(),
    );
    let instance =
        Resource::new(move || require.version().get(), |_| crate::api::security::instance_two_factor_requirement());
    let require_value = Signal::from(require.value());
    let create_value = Signal::from(create.value());
    let rename_value = Signal::from(rename.value());
    let delete_value = Signal::from(delete.value());
    view! {
        <section class="card wide">
            <h1>"Organizations"</h1>
            <ActionForm action=create attr:novalidate=true attr:class="inline">
                <Field id="name" label="New organization name" required=true error=Signal::derive(field_error(create_value, "name"))/>
                <button type="submit">"Create organization"</button>
            </ActionForm>
            {form_error(create_value, &["name"])}
            {form_error(rename_value, &[])}
            {form_error(delete_value, &[])}
            {form_error(require_value, &[])}
            <Transition fallback=|| ()>
                {move || instance.get().and_then(|r| r.ok()).map(|on| view! {
                    <div class="field check">
                        <input type="checkbox" id="require-2fa-instance" checked=on
                            on:change=move |ev| { require.dispatch(crate::api::security::SetTwoFactorRequirement { org: None, required: event_target_checked(&ev) }); }/>
                        <label for="require-2fa-instance">"Require two-factor authentication for everyone"</label>
                    </div>
                })}
            </Transition>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || orgs.get().map(|r| match r {
                    Ok(list) => view! {
                        <ul class="plain">
                            {list.into_iter().map(|o| {
                                let id = o.id.to_string();
                                let id2 = id.clone();
                                let input_id = format!("org-name-{}", o.id);
                                let label = format!("Name of {} ({} members)", o.name, o.members);
                                let delete_label = format!("Delete {}", o.name);
                                let name = o.name.clone();
                                let org_id = o.id;
                                let check_id = format!("require-2fa-{}", o.id);
                                let check_label = format!("Require 2FA in {}", o.name);
                                view! {
                                    <li class="role-admin">
                                        <ActionForm action=rename attr:class="inline">
                                            <input type="hidden" name="org" value=id.clone()/>
                                            <label for=input_id.clone()>{label.clone()}</label>
                                            <input id=input_id.clone() name="name" value=name.clone()/>
                                            <button type="submit" class="secondary">"Rename"</button>
                                        </ActionForm>
                                        <ActionForm action=delete attr:class="inline">
                                            <input type="hidden" name="org" value=id2.clone()/>
                                            <button type="submit" class="danger">{delete_label.clone()}</button>
                                        </ActionForm>
                                        <span class="field check">
                                            <input type="checkbox" id=check_id.clone() checked=o.require_2fa
                                                on:change=move |ev| { require.dispatch(crate::api::security::SetTwoFactorRequirement { org: Some(org_id), required: event_target_checked(&ev) }); }/>
                                            <label for=check_id>{check_label}</label>
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Extra abilities for one member, on top of their role: a checkbox per ability.
#[component]
fn ExtrasEditor(username: String, role: i64, extras: AbilitySet, set_member: ServerAction<SetMember>) -> impl IntoView {
    let chosen = RwSignal::new(extras);
    let held = expect_context::<Session>()
        .me
        .get_untracked()
        .and_then(|r| r.ok())
        .flatten()
        .map(|m| if m.super_admin { AbilitySet::all() } else { m.abilities })
        .unwrap_or_default();
    let summary = format!("Extra abilities for {username}");
    let name = StoredValue::new(username);
    view! {
        <details class="extras">
            <summary>{summary}</summary>
            <fieldset>
                <legend class="sr-only">"Abilities on top of the role"</legend>
                {Ability::ALL.into_iter().map(|a| {
                    let id = format!("extra-{}-{}", name.get_value(), a.code());
                    // Only what the admin holds can be granted (the server checks it again);
                    // an extra it does not hold can still be taken away.
                    let grantable = held.contains(a) || extras.contains(a);
                    view! {
                        <div class="field check">
                            <input type="checkbox" id=id.clone() checked=extras.contains(a) disabled=!grantable
                                on:change=move |ev| chosen.update(|s| *s = s.with(a, event_target_checked(&ev)))/>
                            <label for=id>{a.code()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <button type="button" on:click=move |_| {
                set_member.dispatch(SetMember {
                    username: name.get_value(),
                    role: role.to_string(),
                    extras: chosen.get_untracked().codes().into_iter().map(str::to_string).collect(),
                    add: false,
                });
            }>{format!("Save extra abilities for {}", name.get_value())}</button>
        </details>
    }
}
