//! The role matrix: abilities down, roles across, a switch per cell. Everyone signed in sees
//! it; super admins flip cells and manage roles. A flip applies on the server before the
//! answer comes back, says so in a message with Undo, and other open pages follow through
//! the live event stream. Each cell is a small form (works before the WASM arrives).
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, typed};
use super::live::Live;
use super::toast::use_toasts;
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::roles::{role_matrix, CreateRole, DeleteRole, RenameRole, SetRoleAbility};
use crate::domain::abilities::{Ability, AbilityKind};
use crate::domain::roles::Role;
use crate::ui::json::json_resource;

fn holders(n: i64) -> String {
    match n {
        1 => "1 holder".into(),
        n => format!("{n} holders"),
    }
}

#[component]
pub fn RolesPage() -> impl IntoView {
    let live = expect_context::<Live>();
    let toasts = use_toasts();
    let toggle = ServerAction::<SetRoleAbility>::new();
    let create = ServerAction::<CreateRole>::new();
    let rename = ServerAction::<RenameRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let toggle_ok = super::forms::successes(toggle);
    let create_ok = super::forms::successes(create);
    let rename_ok = super::forms::successes(rename);
    let delete_ok = super::forms::successes(delete);
    let matrix = json_resource(
        move || (live.track(), toggle_ok.get(), create_ok.get(), rename_ok.get(), delete_ok.get()),
        |_| role_matrix(),
    );
    let posted_done = [
        (name_of::<SetRoleAbility>(), "Saved. Every holder of the role has the change from their next request."),
        (name_of::<CreateRole>(), "Role created."),
        (name_of::<RenameRole>(), "Role renamed."),
        (name_of::<DeleteRole>(), "Role deleted."),
    ]
    .map(|(name, text)| (super::forms::posted_ok(name), text));
    // What the last flip asked for, to say it and offer to undo it.
    let last = RwSignal::new(None::<(Ability, bool)>);
    Effect::new(move |_| match toggle.value().get() {
        Some(Ok(r)) => {
            let Some((ability, on)) = last.get_untracked() else { return };
            let verb = if on { "now grants" } else { "no longer grants" };
            let text = format!("{} {verb} {} ({}).", r.name, ability.code(), holders(r.members));
            let role = r.id;
            toasts.with_undo(text, move || {
                last.set(Some((ability, !on)));
                toggle.dispatch(SetRoleAbility {
                    role: role.to_string(),
                    ability: ability.code().to_string(),
                    on: (!on).to_string(),
                });
            });
        }
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    view! {
        <section class="card wide">
            <h1>"Roles"</h1>
            <p class="muted">
                "Roles are the same in every organization; each member holds one role per organization. "
                "A change applies to every holder's next request."
            </p>
            {move || super::forms::posted_error(super::forms::name_of::<SetRoleAbility>()).get()
                .map(|e| view! { <div class="alert error" role="alert">{e.to_string()}</div> })}
            // (a change posted before the WASM arrived: the page says it was made, where the
            // script would have shown a message with Undo)
            {move || posted_done.iter().find(|(ok, _)| ok.get())
                .map(|(_, text)| view! { <p class="alert ok" role="status">{*text}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || matrix.get().map(|m| match m {
                    Ok(m) => {
                        let editable = m.editable;
                        let roles = m.roles.clone();
                        let header = roles
                            .iter()
                            .map(|r| view! {
                                <th scope="col">{r.name.clone()}<span class="muted small block">{holders(r.members)}</span></th>
                            })
                            .collect_view();
                        let rows = [AbilityKind::DataTool, AbilityKind::Privilege]
                            .into_iter()
                            .map(|kind| {
                                let (title, note) = match kind {
                                    AbilityKind::DataTool => ("What members may do in the data tools", "Backups and restores, databases and queries."),
                                    AbilityKind::Privilege => ("What members may administer in Roster", "Accounts and memberships of their organization, database credentials."),
                                };
                                let span = roles.len() + 1;
                                let body = Ability::ALL
                                    .into_iter()
                                    .filter(|a| a.kind() == kind)
                                    .map(|a| {
                                        let cells = roles.iter().map(|r| view! { <Cell role=r.clone() ability=a editable toggle last/> }).collect_view();
                                        view! {
                                            <tr>
                                                <th scope="row" class="sticky">
                                                    <code>{a.code()}</code>
                                                    <span class="muted small block">{a.description()}</span>
                                                </th>
                                                {cells}
                                            </tr>
                                        }
                                    })
                                    .collect_view();
                                view! {
                                    <tbody>
                                        <tr class="group">
                                            <th scope="rowgroup" colspan=span.to_string()>{title}<span class="note">{note}</span></th>
                                        </tr>
                                        {body}
                                    </tbody>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="table-wrap sticky-first" tabindex="0" role="region" aria-label="Role matrix (scrolls sideways)">
                                <table class="matrix" aria-label="Role matrix">
                                    <thead><tr><th scope="col" class="sticky">"Ability"</th>{header}</tr></thead>
                                    {rows}
                                </table>
                            </div>
                            {(!editable).then(|| view! { <p class="muted">"Only super admins change roles."</p> })}
                            {editable.then(|| view! { <ManageRoles roles=roles.clone() create rename delete/> })}
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// One cell: a switch that is a form of its own.
#[component]
fn Cell(
    role: Role,
    ability: Ability,
    editable: bool,
    toggle: ServerAction<SetRoleAbility>,
    last: RwSignal<Option<(Ability, bool)>>,
) -> impl IntoView {
    let on = role.abilities.contains(ability);
    let label = format!("{} for {}", ability.code(), role.name);
    view! {
        <td class="cell">
            <ActionForm action=toggle>
                <input type="hidden" name="role" value=role.id.to_string()/>
                <input type="hidden" name="ability" value=ability.code()/>
                <input type="hidden" name="on" value=(!on).to_string()/>
                <button type="submit" role="switch" class="switch" aria-checked=on.to_string() aria-label=label
                    disabled=!editable on:click=move |_| last.set(Some((ability, !on)))>
                    <span aria-hidden="true">{if on { "✓" } else { "" }}</span>
                </button>
            </ActionForm>
        </td>
    }
}

#[component]
fn ManageRoles(
    roles: Vec<Role>,
    create: ServerAction<CreateRole>,
    rename: ServerAction<RenameRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView {
    let toasts = use_toasts();
    let create_value = outcome(create);
    Effect::new(move |_| {
        if let Some(Ok(r)) = create.value().get() {
            toasts.ok(format!("Role {} created.", r.name));
        }
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(r)) => toasts.ok(format!("Renamed to {}.", r.name)),
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            toasts.ok("Role deleted.");
        }
    });
    let rename_error = super::forms::posted_error(super::forms::name_of::<RenameRole>());
    let all = roles.clone();
    view! {
        <h2>"Manage roles"</h2>
        <ActionForm action=create attr:novalidate=true attr:class="inline">
            <Field id="name" label="New role name" required=true value={typed::<CreateRole>("name")}
                error=Signal::derive(field_error(create_value, "name"))/>
            <button type="submit">"Create role"</button>
        </ActionForm>
        {form_error(create_value, &["name"])}
        {move || rename_error.get().map(|e| view! { <div class="alert error" role="alert">{e.to_string()}</div> })}
        <ul class="plain">
            {roles
                .into_iter()
                .map(|r| {
                    let others = all.iter().filter(|o| o.id != r.id).cloned().collect::<Vec<_>>();
                    view! { <RoleAdmin r others rename delete/> }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn RoleAdmin(
    r: Role,
    others: Vec<Role>,
    rename: ServerAction<RenameRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView {
    let rid = r.id.to_string();
    let rename_id = format!("rename-{}", r.id);
    let dialog = format!("delete-role-{}", r.id);
    let repl_id = format!("replacement-{}", r.id);
    let name = r.name.clone();
    let members = r.members;
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let dv = outcome(delete);
    let rid2 = rid.clone();
    let (name2, name3) = (name.clone(), name.clone());
    view! {
        <li class="role-admin">
            <ActionForm action=rename attr:class="inline">
                <input type="hidden" name="role" value=rid.clone()/>
                <label for=rename_id.clone()>{format!("Name of {name}")}</label>
                <input id=rename_id.clone() name="name" value=name.clone()/>
                <button type="submit" class="secondary">"Rename"</button>
            </ActionForm>
            <ConfirmDialog id=dialog.clone() trigger=format!("Delete {name2}") title=format!("Delete the role {name2}?") done=deleted>
                <ActionForm action=delete>
                    <input type="hidden" name="role" value=rid2.clone()/>
                    {if members == 0 {
                        view! {
                            <p>{format!("No one holds {name3}. The role and its abilities are deleted.")}</p>
                            <input type="hidden" name="replacement" value=""/>
                        }.into_any()
                    } else {
                        view! {
                            <p>{format!("{} hold {name3}. They get another role instead:", holders(members))}</p>
                            <div class="field">
                                <label for=repl_id.clone()>{format!("Move the {} of {name3} to", holders(members))}</label>
                                <select id=repl_id.clone() name="replacement">
                                    {others.iter().map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> }).collect_view()}
                                </select>
                            </div>
                        }.into_any()
                    }}
                    {form_error(dv, &[])}
                    <div class="buttons">
                        <button type="submit" class="danger">"Delete role"</button>
                        <CancelButton of=dialog.clone()/>
                    </div>
                </ActionForm>
            </ConfirmDialog>
        </li>
    }
}
