//! The role matrix: abilities down, roles across, a toggle per cell. Everyone signed in sees
//! it; super admins toggle cells and manage roles. A toggle applies on the server before the
//! answer comes back; other open pages follow through the live event stream.
use leptos::prelude::*;

use super::live::Live;
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::roles::{role_matrix, CreateRole, DeleteRole, RenameRole, SetRoleAbility};
use crate::domain::abilities::{Ability, AbilityKind};

#[component]
pub fn RolesPage() -> impl IntoView {
    let live = expect_context::<Live>();
    let toggle = ServerAction::<SetRoleAbility>::new();
    let create = ServerAction::<CreateRole>::new();
    let rename = ServerAction::<RenameRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    let matrix = Resource::new(
        move || {
            (
                live.track(),
                toggle.version().get(),
                create.version().get(),
                rename.version().get(),
                delete.version().get(),
            )
        },
        |_| role_matrix(),
    );
    let toggle_error = move || {
        toggle.value().with(|v| match v {
            Some(Err(e)) => Some(view! { <div class="alert error" role="alert">{e.to_string()}</div> }),
            _ => None,
        })
    };
    view! {
        <section class="card wide">
            <h1>"Roles"</h1>
            <p class="muted">
                "Roles are the same in every organization; each member holds one role per organization. "
                "A change applies to every holder's next request."
            </p>
            {toggle_error}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || matrix.get().map(|m| match m {
                    Ok(m) => {
                        let editable = m.editable;
                        let roles = m.roles.clone();
                        let header = roles
                            .iter()
                            .map(|r| view! { <th scope="col">{r.name.clone()}<span class="muted small">{format!(" ({})", r.members)}</span></th> })
                            .collect_view();
                        let rows = [AbilityKind::DataTool, AbilityKind::Privilege]
                            .into_iter()
                            .map(|kind| {
                                let title = match kind {
                                    AbilityKind::DataTool => "Data-tool abilities",
                                    AbilityKind::Privilege => "Administrative privileges",
                                };
                                let span = roles.len() + 1;
                                let body = Ability::ALL
                                    .into_iter()
                                    .filter(|a| a.kind() == kind)
                                    .map(|a| {
                                        let cells = roles
                                            .iter()
                                            .map(|r| {
                                                let role = r.id;
                                                let on = r.abilities.contains(a);
                                                let label = format!("{} for {}", a.code(), r.name);
                                                view! {
                                                    <td class="cell">
                                                        <input
                                                            type="checkbox"
                                                            aria-label=label
                                                            checked=on
                                                            disabled=!editable
                                                            on:change=move |ev| {
                                                                toggle.dispatch(SetRoleAbility {
                                                                    role,
                                                                    ability: a.code().to_string(),
                                                                    on: event_target_checked(&ev),
                                                                });
                                                            }
                                                        />
                                                    </td>
                                                }
                                            })
                                            .collect_view();
                                        view! {
                                            <tr>
                                                <th scope="row">
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
                                        <tr class="group"><th scope="rowgroup" colspan=span.to_string()>{title}</th></tr>
                                        {body}
                                    </tbody>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="table-wrap">
                                <table class="matrix" aria-label="Role matrix">
                                    <thead><tr><th scope="col">"Ability"</th>{header}</tr></thead>
                                    {rows}
                                </table>
                            </div>
                            <Show when=move || !editable>
                                <p class="muted">"Only super admins change roles."</p>
                            </Show>
                            <Show when=move || editable>
                                <ManageRoles roles=roles.clone() create rename delete/>
                            </Show>
                        }
                            .into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ManageRoles(
    roles: Vec<crate::domain::roles::Role>,
    create: ServerAction<CreateRole>,
    rename: ServerAction<RenameRole>,
    delete: ServerAction<DeleteRole>,
) -> impl IntoView {
    let create_value = Signal::from(create.value());
    let rename_value = Signal::from(rename.value());
    let delete_value = Signal::from(delete.value());
    let all = roles.clone();
    view! {
        <h2>"Manage roles"</h2>
        <ActionForm action=create attr:novalidate=true attr:class="inline">
            <Field id="name" label="New role name" required=true error=Signal::derive(field_error(create_value, "name"))/>
            <button type="submit">"Create role"</button>
        </ActionForm>
        {form_error(create_value, &["name"])}
        {form_error(rename_value, &[])}
        {form_error(delete_value, &[])}
        <ul class="plain">
            {roles
                .into_iter()
                .map(|r| {
                    let others = all.iter().filter(|o| o.id != r.id).cloned().collect::<Vec<_>>();
                    let rid = r.id.to_string();
                    let rid2 = rid.clone();
                    let rename_id = format!("rename-{}", r.id);
                    let repl_id = format!("replacement-{}", r.id);
                    let name = r.name.clone();
                    let rename_label = format!("Name of {}", r.name);
                    let repl_label = format!("Move members of {} to", r.name);
                    let delete_label = format!("Delete {}", r.name);
                    view! {
                        <li class="role-admin">
                            <ActionForm action=rename attr:class="inline">
                                <input type="hidden" name="role" value=rid.clone()/>
                                <label for=rename_id.clone()>{rename_label.clone()}</label>
                                <input id=rename_id.clone() name="name" value=name.clone()/>
                                <button type="submit" class="secondary">"Rename"</button>
                            </ActionForm>
                            <ActionForm action=delete attr:class="inline">
                                <input type="hidden" name="role" value=rid2.clone()/>
                                <label for=repl_id.clone()>{repl_label.clone()}</label>
                                <select id=repl_id.clone() name="replacement">
                                    <option value="">"(no members to move)"</option>
                                    {others
                                        .iter()
                                        .map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> })
                                        .collect_view()}
                                </select>
                                <button type="submit" class="danger">{delete_label.clone()}</button>
                            </ActionForm>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
