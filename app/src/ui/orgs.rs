//! The current organization's members (what you may do here, who belongs, and — for holders
//! of manage-users — adding, re-roling and removing members), and the organizations admin.
//! Every change is a form (works before the WASM arrives); removals and deletions ask first
//! and say what ends; outcomes appear as messages in the corner, never by moving the page.
use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::use_query_map;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, succeeded};
use super::live::Live;
use super::toast::use_toasts;
use super::{enc, field_error, form_error, ErrorBox, Field, Session};
use crate::api::orgs::{
    list_members, list_orgs, member_candidates, CreateOrg, DeleteOrg, RemoveMember, RenameOrg, SetMember,
};
use crate::api::roles::role_matrix;
use crate::api::security::SetTwoFactorRequirement;
use crate::api::users::DeleteUser;
use crate::domain::abilities::{Ability, AbilitySet};
use crate::domain::orgs::{Member, MemberPage};
use crate::domain::roles::Role;
use crate::domain::users::Me;
use crate::domain::Error;
use crate::ui::json::{json_resource, JsonResource};

/// Everything the members page reads, created once at its top (the server and the browser
/// must create resources in the same order: never inside a Suspense that waits for another).
#[derive(Clone, Copy)]
struct MembersData {
    members: JsonResource<Option<Result<MemberPage, Error>>>,
    roles: JsonResource<Result<crate::domain::roles::Matrix, Error>>,
    suggestions: JsonResource<Vec<crate::domain::orgs::Candidate>>,
    typed: RwSignal<String>,
    set_member: ServerAction<SetMember>,
    remove: ServerAction<RemoveMember>,
    delete: ServerAction<DeleteUser>,
}

#[component]
pub fn MembersPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let after = move || query.with(|q| q.get("after"));
    // `?org=ID`: another organization's members (super admins, or members of it), read-only
    // until the reader switches to it.
    let org_param = move || query.with(|q| q.get("org")).and_then(|o| o.parse::<i64>().ok());
    let set_member = ServerAction::<SetMember>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let delete = ServerAction::<DeleteUser>::new();
    // Only what the reader may see is asked for (no request the server would refuse).
    let set_member_ok = super::forms::successes(set_member);
    let remove_ok = super::forms::successes(remove);
    let delete_ok = super::forms::successes(delete);
    let members = json_resource(
        move || {
            let asked = session.current().map(|m| {
                let current = m.org.as_ref().map(|o| o.id);
                let other = org_param().filter(|o| Some(*o) != current);
                let can_view = m.can(Ability::ViewUsers) || m.can(Ability::ManageUsers);
                (other, can_view)
            });
            (asked, search(), after(), live.track(), set_member_ok.get(), remove_ok.get(), delete_ok.get())
        },
        |(asked, q, after, ..)| async move {
            let (other, can_view) = asked?;
            if other.is_none() && !can_view {
                return None;
            }
            Some(list_members(Some(q).filter(|q| !q.is_empty()), after, other.map(|o| o.to_string())).await)
        },
    );
    let roles = json_resource(move || live.track(), |_| role_matrix());
    let typed = RwSignal::new(super::forms::typed::<SetMember>("username").unwrap_or_default());
    let suggestions = json_resource(
        move || typed.get(),
        |q| async move {
            if q.trim().chars().count() < 2 {
                return Vec::new();
            }
            member_candidates(q).await.unwrap_or_default()
        },
    );
    // Outcomes as messages in the corner (the page does not move).
    Effect::new(move |_| match set_member.value().get() {
        Some(Ok(m)) => toasts.ok(format!("{} is now {} here.", m.username, m.role)),
        Some(Err(e)) if e.field("username").is_none() && e.field("role").is_none() => toasts.error(e.to_string()),
        _ => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = remove.value().get() {
            toasts.ok("Removed from the organization.");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            toasts.ok("Account deleted.");
        }
    });
    let data = MembersData { members, roles, suggestions, typed, set_member, remove, delete };
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || session.me.get().map(|r| match r {
                Ok(Some(me)) => {
                    Some(me).map(|me| {
                        let current = me.org.as_ref().map(|o| o.id);
                        match org_param().filter(|o| Some(*o) != current) {
                            Some(id) => {
                                let known = me.orgs.iter().find(|o| o.id == id).cloned();
                                view! { <OtherOrgMembers id known me data/> }.into_any()
                            }
                            None => view! { <Members me data/> }.into_any(),
                        }
                    })
                    .into_any()
                }
                Ok(None) => view! { <section class="card"><ErrorBox error=Error::Unauthenticated/></section> }.into_any(),
                Err(e) => view! { <section class="card"><ErrorBox error=e/></section> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Members(me: Me, data: MembersData) -> impl IntoView {
    let org = me.org.as_ref().map(|o| o.name.clone()).unwrap_or_else(|| "no organization".into());
    let can_view = me.can(Ability::ViewUsers) || me.can(Ability::ManageUsers);
    let can_manage = me.can(Ability::ManageUsers);
    let mine = if me.super_admin {
        view! { <p>"You are a super admin: every ability, in every organization."</p> }.into_any()
    } else if me.abilities.is_empty() {
        view! { <p>"You hold no abilities here: you can read, not change."</p> }.into_any()
    } else {
        view! {
            <ul class="chips" aria-label="Your abilities">
                {me.abilities.iter().map(|a| view! { <li title=a.description()><code>{a.code()}</code></li> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card wide">
            <h1>{format!("Members of {org}")}</h1>
            <h2>"What you may do here"</h2>
            {mine}
            {if can_view {
                view! { <MemberList me org=org.clone() can_manage data/> }.into_any()
            } else {
                // (no list is requested that would be refused)
                view! { <p class="muted">"Seeing the member list needs the view-users ability in this organization."</p> }
                    .into_any()
            }}
        </section>
    }
}

/// Another organization's members, read-only, with a way to switch to it.
#[component]
fn OtherOrgMembers(id: i64, known: Option<crate::domain::orgs::OrgRef>, me: Me, data: MembersData) -> impl IntoView {
    let switch = ServerAction::<crate::api::auth::SwitchOrg>::new();
    let live = expect_context::<Live>();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = switch.value().get() {
            live.bump();
            navigate("/members", Default::default());
        }
    });
    let name = data
        .members
        .get_untracked()
        .flatten()
        .and_then(|r| r.ok())
        .map(|p| p.org.name)
        .or_else(|| known.as_ref().map(|o| o.name.clone()))
        .unwrap_or_else(|| format!("organization {id}"));
    let name2 = name.clone();
    view! {
        <section class="card wide">
            <h1>{format!("Members of {name}")}</h1>
            {known.is_some().then(|| view! {
                <ActionForm action=switch attr:class="inline">
                    <input type="hidden" name="org" value=id.to_string()/>
                    <p class="muted">{format!("You are working in another organization. Switch to {name2} to add, change or remove its members.")}</p>
                    <button type="submit">{format!("Switch to {name2}")}</button>
                </ActionForm>
            })}
            <MemberList me org=name.clone() can_manage=false data/>
        </section>
    }
}

#[component]
fn MemberList(me: Me, org: String, can_manage: bool, data: MembersData) -> impl IntoView {
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let after = move || query.with(|q| q.get("after"));
    let MembersData { members, roles, set_member, remove, delete, .. } = data;
    let me_name = StoredValue::new(me.username.clone());
    let super_admin = me.super_admin;
    let org_name = StoredValue::new(org);
    view! {
        {can_manage.then(|| view! { <AddMember data/> })}
        <h2 id="members-title">"Members"</h2>
        <Form method="GET" action="" attr:class="search" attr:role="search">
            {move || query.with(|q| q.get("org")).map(|o| view! { <input type="hidden" name="org" value=o/> })}
            <label for="member-search">"Search members"</label>
            <input id="member-search" type="search" name="q" placeholder="Username, name or email" value=search/>
            <button type="submit">"Search"</button>
        </Form>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                members.get().flatten().and_then(|page| match page {
                    Ok(page) if page.members.is_empty() => {
                        let text = if search().is_empty() {
                            format!("{} has no members yet.", org_name.get_value())
                        } else {
                            format!("No member of {} matches \u{201c}{}\u{201d}.", org_name.get_value(), search())
                        };
                        Some(view! { <p class="muted empty">{text}</p> }.into_any())
                    }
                    Ok(_) => None,
                    Err(e) => Some(view! { <ErrorBox error=e/> }.into_any()),
                })
            }}
            // The table stays; rows are kept by what they show, so a refresh (someone else's
            // change) leaves a row being worked on, and its open dialog, where it is.
            <div class="table-wrap sticky-first cards" tabindex="0" role="region" aria-label="Members table"
                class:hidden=move || !members.get().flatten().is_some_and(|p| p.is_ok_and(|p| !p.members.is_empty()))>
                <table aria-labelledby="members-title">
                    <thead><tr>
                        <th scope="col">"Username"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Extra abilities"</th>
                        <th scope="col">"Source"</th>
                        {can_manage.then(|| view! { <th scope="col">"Actions"</th> })}
                    </tr></thead>
                    <tbody>
                        <For
                            each=move || {
                                let roles = roles.get().and_then(|r| r.ok()).map(|m| m.roles).unwrap_or_default();
                                let members = members.get().flatten().and_then(|r| r.ok()).map(|p| p.members).unwrap_or_default();
                                members.into_iter().map(|m| (m, roles.clone())).collect::<Vec<_>>()
                            }
                            key=|(m, roles)| {
                                let names: Vec<String> = roles.iter().map(|r| format!("{}:{}", r.id, r.name)).collect();
                                (m.username.clone(), m.full_name.clone(), m.role_id, m.extras.codes().join(","), m.status.as_str(), names.join(","))
                            }
                            let:item
                        >
                            {
                                let (m, roles) = item;
                                let is_me = m.username.eq_ignore_ascii_case(&me_name.get_value());
                                view! {
                                    <MemberRow m can_manage show_actions=can_manage is_me super_admin
                                        roles set_member remove delete org=org_name.get_value()/>
                                }
                            }
                        </For>
                    </tbody>
                </table>
            </div>
            {move || members.get().flatten().and_then(|r| r.ok()).map(|page| {
                let org_q = query.with(|q| q.get("org")).map(|o| format!("org={o}&")).unwrap_or_default();
                let next = page.next.clone().map(|n| {
                    let q = search();
                    if q.is_empty() { format!("?{org_q}after={}", enc(&n)) } else { format!("?{org_q}q={}&after={}", enc(&q), enc(&n)) }
                });
                let first = after().is_some().then(|| {
                    let q = search();
                    if q.is_empty() { format!("?{}", org_q.trim_end_matches('&')) } else { format!("?{org_q}q={}", enc(&q)) }
                });
                view! {
                    <nav class="pager" aria-label="Member pages">
                        {first.map(|href| view! { <A href=href>"First page"</A> })}
                        {next.map(|href| view! { <A href=href>"Next page"</A> })}
                    </nav>
                }
            })}
        </Suspense>
    }
}

/// Adding an existing account: type part of a name, pick from the suggestions (or type the
/// whole username: the form works without the WASM too).
#[component]
fn AddMember(data: MembersData) -> impl IntoView {
    let MembersData { set_member, roles, suggestions, typed, .. } = data;
    let value = outcome(set_member);
    let added = succeeded(set_member);
    view! {
        <h2>"Add a member"</h2>
        <ActionForm action=set_member attr:novalidate=true attr:class="inline">
            <input type="hidden" name="add" value="true"/>
            <div class="field">
                <label for="add-username">"Account"</label>
                <input id="add-username" name="username" list="add-candidates" autocomplete="off" required=true
                    placeholder="Type a name, username or email"
                    value=typed.get_untracked()
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    aria-describedby="add-username-hint"
                    aria-invalid=move || field_error(value, "username")().map(|_| "true")/>
                <p class="hint" id="add-username-hint">"Suggestions appear as you type."</p>
                {move || field_error(value, "username")().map(|e| view! { <p class="field-error">{e}</p> })}
                <datalist id="add-candidates">
                    <Transition fallback=|| ()>
                        {move || suggestions.get().map(|list| list.into_iter().map(|c| {
                            let label = if c.full_name.is_empty() { c.username.clone() } else { format!("{} ({})", c.full_name, c.username) };
                            view! { <option value=c.username>{label}</option> }
                        }).collect_view())}
                    </Transition>
                </datalist>
            </div>
            <div class="field">
                <label for="add-role">"Role"</label>
                <select id="add-role" name="role">
                    <option value="" selected=true>"Choose a role"</option>
                    <Transition fallback=|| ()>
                        {move || roles.get().and_then(|r| r.ok()).map(|m| m.roles.into_iter().map(|r| {
                            view! { <option value=r.id.to_string()>{r.name}</option> }
                        }).collect_view())}
                    </Transition>
                </select>
                {move || field_error(value, "role")().map(|e| view! { <p class="field-error">{e}</p> })}
            </div>
            <button type="submit" disabled=move || set_member.pending().get()>"Add member"</button>
        </ActionForm>
        {form_error(value, &["username", "role"])}
        {move || (added.get() && set_member.value().with(Option::is_none)).then(|| view! {
            <p class="alert ok" role="status">"Member saved."</p>
        })}
        <p>"Someone without an account? "<A href="/invitations">"Invite them by email"</A></p>
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn MemberRow(
    m: Member,
    can_manage: bool,
    show_actions: bool,
    is_me: bool,
    super_admin: bool,
    roles: Vec<Role>,
    set_member: ServerAction<SetMember>,
    remove: ServerAction<RemoveMember>,
    delete: ServerAction<DeleteUser>,
    org: String,
) -> impl IntoView {
    let manage = can_manage && !is_me && !m.public;
    let username = m.username.clone();
    let extras: Vec<String> = m.extras.codes().into_iter().map(str::to_string).collect();
    let badges = if m.public {
        Some(
            view! { <span class="badge" title="Stands for anonymous visitors; cannot sign in">"public"</span> }
                .into_any(),
        )
    } else if m.super_admin {
        Some(view! { <span class="badge admin">"super admin"</span> }.into_any())
    } else {
        None
    };
    let role_cell = if manage {
        view! { <RoleSelect username=username.clone() role_id=m.role_id extras=extras.clone() roles set_member/> }
            .into_any()
    } else {
        view! { <span>{m.role.clone()}</span> }.into_any()
    };
    let key = username.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let remove_id = format!("remove-{key}");
    let delete_id = format!("delete-{key}");
    let removed = Signal::derive(move || matches!(remove.value().get(), Some(Ok(()))));
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let rv = outcome(remove);
    let dv = outcome(delete);
    // Org admins delete only accounts that belong to their organization alone; others are
    // removed from it instead (the server decides again).
    let may_delete = super_admin || !m.other_orgs;
    let other_orgs = m.other_orgs;
    let actions = manage.then(|| {
        let (u1, u2) = (username.clone(), username.clone());
        let (rid, did) = (remove_id.clone(), delete_id.clone());
        let org_a = org.clone();
        view! {
            <ConfirmDialog id=rid.clone() trigger="Remove" trigger_label=format!("Remove {u1} from {org_a}")
                trigger_class="secondary" title=format!("Remove {u1} from {org_a}?") done=removed>
                <p>{format!("{u1} loses the {} role and any extra abilities in {org_a}. The account itself stays.", m.role)}</p>
                <ActionForm action=remove>
                    <input type="hidden" name="username" value=u1.clone()/>
                    {form_error(rv, &[])}
                    <div class="buttons">
                        <button type="submit" class="danger">"Remove from organization"</button>
                        <CancelButton of=rid.clone()/>
                    </div>
                </ActionForm>
            </ConfirmDialog>
            {may_delete.then(|| view! {
                <ConfirmDialog id=did.clone() trigger="Delete" trigger_label=format!("Delete {u2}")
                    title=format!("Delete {u2}?") done=deleted>
                    <p>{format!("This deletes the account {u2} for good: its sign-ins, tokens, passkeys and memberships end{}.",
                        if other_orgs { ", in other organizations too" } else { "" })}</p>
                    <p>"This cannot be undone."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="username" value=u2.clone()/>
                        {form_error(dv, &[])}
                        <div class="buttons">
                            <button type="submit" class="danger">"Delete account"</button>
                            <CancelButton of=did.clone()/>
                        </div>
                    </ActionForm>
                </ConfirmDialog>
            })}
        }
    });
    view! {
        <tr>
            <th scope="row"><A href=format!("/admin/users/{}", enc(&m.username))>{m.username.clone()}</A> " " {badges}</th>
            <td data-label="Name">{m.full_name.clone()}</td>
            <td data-label="Role">{role_cell}</td>
            <td data-label="Extra abilities">
                {if extras.is_empty() { "—".to_string() } else { extras.join(", ") }}
                {manage.then(|| view! { <ExtrasEditor username=username.clone() role=m.role_id extras=m.extras set_member/> })}
            </td>
            <td data-label="Source">{match &m.source {
                Some(c) => view! {
                    <span class="badge" title="Managed from directory groups: changing the role or extras here makes it a manual membership">
                        {format!("SCIM: {c}")}</span>
                }.into_any(),
                None => view! { <span class="muted">"Manual"</span> }.into_any(),
            }}</td>
            {show_actions.then(|| view! { <td class="actions" data-label="Actions">{actions}</td> })}
        </tr>
    }
}

/// A member's role: a select that saves on change (with a Save button until the WASM runs).
/// The shown value is the stored role: options are rendered with the row (no second load
/// that could leave the select on another option), and the select's value is set after they
/// exist.
#[component]
fn RoleSelect(
    username: String,
    role_id: i64,
    extras: Vec<String>,
    roles: Vec<Role>,
    set_member: ServerAction<SetMember>,
) -> impl IntoView {
    let select = NodeRef::<leptos::html::Select>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(s) = select.get() {
            s.set_value(&role_id.to_string());
        }
    });
    let label = format!("Role of {username}");
    let u = username.clone();
    let ex = extras.clone();
    view! {
        <ActionForm action=set_member attr:class="role-form">
            <input type="hidden" name="username" value=username.clone()/>
            {extras.iter().map(|e| view! { <input type="hidden" name="extras[]" value=e.clone()/> }).collect_view()}
            <select name="role" aria-label=label node_ref=select on:change=move |ev| {
                set_member.dispatch(SetMember { username: u.clone(), role: event_target_value(&ev), extras: ex.clone(), add: String::new(), org: String::new() });
            }>
                {roles.into_iter().map(|r| {
                    let sel = r.id == role_id;
                    view! { <option value=r.id.to_string() selected=sel>{r.name}</option> }
                }).collect_view()}
            </select>
            <button type="submit" class="secondary no-wasm">"Save"</button>
        </ActionForm>
    }
}

/// Extra abilities for one member, on top of their role: a checkbox per ability.
#[component]
fn ExtrasEditor(username: String, role: i64, extras: AbilitySet, set_member: ServerAction<SetMember>) -> impl IntoView {
    let held = expect_context::<Session>()
        .me
        .get_untracked()
        .and_then(|r| r.ok())
        .flatten()
        .map(|m| if m.super_admin { AbilitySet::all() } else { m.abilities })
        .unwrap_or_default();
    let summary = format!("Extra abilities for {username}");
    let key = username.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    view! {
        <details class="extras">
            <summary>{summary}</summary>
            <ActionForm action=set_member>
                <input type="hidden" name="username" value=username.clone()/>
                <input type="hidden" name="role" value=role.to_string()/>
                <fieldset>
                    <legend class="sr-only">"Abilities on top of the role"</legend>
                    {Ability::ALL.into_iter().map(|a| {
                        let id = format!("extra-{key}-{}", a.code());
                        // Only what the admin holds can be granted (the server checks it again);
                        // an extra it does not hold can still be taken away.
                        let grantable = held.contains(a) || extras.contains(a);
                        view! {
                            <div class="field check">
                                <input type="checkbox" id=id.clone() name="extras[]" value=a.code() checked=extras.contains(a) disabled=!grantable/>
                                <label for=id>{a.code()}<span class="hint block">{a.description()}</span></label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <button type="submit">{format!("Save extra abilities for {username}")}</button>
            </ActionForm>
        </details>
    }
}

#[component]
pub fn OrgsPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<Live>();
    let create = ServerAction::<CreateOrg>::new();
    let rename = ServerAction::<RenameOrg>::new();
    let delete = ServerAction::<DeleteOrg>::new();
    let require = ServerAction::<SetTwoFactorRequirement>::new();
    // Super admins only: nothing is asked of the server for anyone else.
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let create_ok = super::forms::successes(create);
    let rename_ok = super::forms::successes(rename);
    let require_ok = super::forms::successes(require);
    let delete_ok = super::forms::successes(delete);
    let orgs = json_resource(
        move || (admin(), live.track(), create_ok.get(), rename_ok.get(), delete_ok.get(), require_ok.get()),
        |(admin, ..)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_orgs().await
        },
    );
    let instance = json_resource(
        move || (admin(), require_ok.get()),
        |(admin, _)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            crate::api::security::instance_two_factor_requirement().await
        },
    );
    view! {
        <Transition fallback=|| ()>
            // (Show redraws only when the answer changes, not on every refresh of the session)
            <Show when=move || admin() == Some(true) fallback=move || match admin() {
                Some(_) => view! { <super::NotForYou what="Organizations are managed by super admins."/> }.into_any(),
                None => view! { <section class="card"><ErrorBox error=Error::Unauthenticated/></section> }.into_any(),
            }>
                <Orgs orgs instance create rename delete require/>
            </Show>
        </Transition>
    }
}

#[component]
fn Orgs(
    orgs: JsonResource<Result<Vec<crate::domain::orgs::Org>, Error>>,
    instance: JsonResource<Result<bool, Error>>,
    create: ServerAction<CreateOrg>,
    rename: ServerAction<RenameOrg>,
    delete: ServerAction<DeleteOrg>,
    require: ServerAction<SetTwoFactorRequirement>,
) -> impl IntoView {
    let toasts = use_toasts();
    let create_value = outcome(create);
    Effect::new(move |_| {
        if let Some(Ok(o)) = create.value().get() {
            toasts.ok(format!("{} created.", o.name));
        }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(o)) => toasts.ok(format!("Renamed to {}.", o.name)),
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            toasts.ok("Organization deleted.");
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = require.value().get() {
            toasts.ok("Two-factor requirement saved.");
        }
    });
    let renamed_error = super::forms::posted_error(name_of::<RenameOrg>());
    view! {
        <section class="card wide">
            <h1>"Organizations"</h1>
            <ActionForm action=create attr:novalidate=true attr:class="inline">
                <Field id="name" label="New organization name" required=true
                    value={super::forms::typed::<CreateOrg>("name")} error=Signal::derive(field_error(create_value, "name"))/>
                <button type="submit">"Create organization"</button>
            </ActionForm>
            {form_error(create_value, &["name"])}
            {move || renamed_error.get().map(|e| view! { <div class="alert error" role="alert">{e.to_string()}</div> })}
            <h2>"Two-factor authentication"</h2>
            <Suspense fallback=|| ()>
                {move || instance.get().and_then(|r| r.ok()).map(|on| view! { <InstanceRequirement on require/> })}
            </Suspense>
            <h2 id="orgs-title">"All organizations"</h2>
            // The table stays; rows are kept by what they show, so a refresh (someone else's
            // change) leaves a row being worked on, and its open dialog, where it is.
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || orgs.get().and_then(|r| r.err()).map(|e| view! { <ErrorBox error=e/> })}
                <div class="table-wrap sticky-first cards">
                    <table aria-labelledby="orgs-title">
                        <thead><tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Members"</th>
                            <th scope="col">"2FA required"</th>
                            <th scope="col">"Actions"</th>
                        </tr></thead>
                        <tbody>
                            <For
                                each=move || orgs.get().and_then(|r| r.ok()).unwrap_or_default()
                                key=|o| (o.id, o.name.clone(), o.members, o.require_2fa)
                                let:o
                            >
                                <OrgRow o rename delete require/>
                            </For>
                        </tbody>
                    </table>
                </div>
            </Suspense>
        </section>
    }
}

/// The instance-wide 2FA switch: a button that asks first, saying who is affected.
#[component]
fn InstanceRequirement(on: bool, require: ServerAction<SetTwoFactorRequirement>) -> impl IntoView {
    let value = outcome(require);
    let done = Signal::derive(move || matches!(require.value().get(), Some(Ok(()))));
    let (trigger, title, text, confirm) = if on {
        (
            "Stop requiring 2FA everywhere",
            "Stop requiring two-factor authentication everywhere?",
            "Accounts without two-factor authentication can use all of Roster again (organizations that require it still do).",
            "Stop requiring it",
        )
    } else {
        (
            "Require 2FA for everyone",
            "Require two-factor authentication for everyone?",
            "Every account without two-factor authentication, in every organization, is limited to its profile until it sets one up. Super admins need it themselves first.",
            "Require it",
        )
    };
    view! {
        <p>{if on { "Required for every account." } else { "Not required for the whole instance (organizations may still require it)." }}</p>
        <ConfirmDialog id="require-2fa-instance" trigger=trigger trigger_class="secondary" title=title done>
            <p>{text}</p>
            <ActionForm action=require>
                <input type="hidden" name="required" value=(!on).to_string()/>
                {form_error(value, &[])}
                <div class="buttons">
                    <button type="submit" class="danger">{confirm}</button>
                    <CancelButton of="require-2fa-instance"/>
                </div>
            </ActionForm>
        </ConfirmDialog>
    }
}

#[component]
fn OrgRow(
    o: crate::domain::orgs::Org,
    rename: ServerAction<RenameOrg>,
    delete: ServerAction<DeleteOrg>,
    require: ServerAction<SetTwoFactorRequirement>,
) -> impl IntoView {
    let id = o.id.to_string();
    let input_id = format!("org-name-{}", o.id);
    let delete_id = format!("delete-org-{}", o.id);
    let require_id = format!("require-2fa-{}", o.id);
    let name = o.name.clone();
    let members = o.members;
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let required = Signal::derive(move || matches!(require.value().get(), Some(Ok(()))));
    let dv = outcome(delete);
    let rv = outcome(require);
    let lost = match members {
        0 => "It has no members.".to_string(),
        1 => "1 membership ends; the account stays.".to_string(),
        n => format!("{n} memberships end; the accounts stay."),
    };
    let (req_trigger, req_title, req_text) = if o.require_2fa {
        (
            format!("Stop requiring 2FA in {name}"),
            format!("Stop requiring two-factor authentication in {name}?"),
            format!("Members of {name} without two-factor authentication can use Roster again."),
        )
    } else {
        (
            format!("Require 2FA in {name}"),
            format!("Require two-factor authentication in {name}?"),
            format!("Members of {name} without two-factor authentication are limited to their profile until they set one up."),
        )
    };
    let (id_r, id_d) = (id.clone(), id.clone());
    let (name_a, name_b, name_c) = (name.clone(), name.clone(), name.clone());
    let name_link = name.clone();
    view! {
        <tr>
            <th scope="row"><A href=format!("/members?org={}", o.id)>{name_link}</A></th>
            <td data-label="Members">{members}</td>
            <td data-label="2FA required">{if o.require_2fa { "Yes" } else { "No" }}</td>
            <td class="actions" data-label="Actions">
                <ActionForm action=rename attr:class="inline rename">
                    <input type="hidden" name="org" value=id.clone()/>
                    <label for=input_id.clone() class="sr-only">{format!("New name for {name}")}</label>
                    <input id=input_id.clone() name="name" value=name.clone()/>
                    <button type="submit" class="secondary" aria-label=format!("Rename {name}")>"Rename"</button>
                </ActionForm>
                <ConfirmDialog id=require_id.clone() trigger=req_trigger.clone() trigger_class="secondary" title=req_title done=required>
                    <p>{req_text}</p>
                    <ActionForm action=require>
                        <input type="hidden" name="org" value=id_r.clone()/>
                        <input type="hidden" name="required" value=(!o.require_2fa).to_string()/>
                        {form_error(rv, &[])}
                        <div class="buttons">
                            <button type="submit" class="danger">{req_trigger}</button>
                            <CancelButton of=require_id.clone()/>
                        </div>
                    </ActionForm>
                </ConfirmDialog>
                <ConfirmDialog id=delete_id.clone() trigger="Delete" trigger_label=format!("Delete {name_a}")
                    title=format!("Delete {name_b}?") done=deleted>
                    <p>{format!("Delete {name_c}: {lost}")}</p>
                    <p>"This cannot be undone."</p>
                    <ActionForm action=delete>
                        <input type="hidden" name="org" value=id_d.clone()/>
                        {form_error(dv, &[])}
                        <div class="buttons">
                            <button type="submit" class="danger">"Delete organization"</button>
                            <CancelButton of=delete_id.clone()/>
                        </div>
                    </ActionForm>
                </ConfirmDialog>
            </td>
        </tr>
    }
}
