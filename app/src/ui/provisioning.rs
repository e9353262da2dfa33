//! Settings -> Provisioning (super admins): the SCIM connections identity providers create,
//! update and deactivate accounts through; a form to add one; its bearer token shown once
//! (and a new one on demand); removal behind a question that says what stops and what stays.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, shown_once, succeeded, typed};
use super::security::{is_reauth, needs_reauth, posted_needs_reauth, CopyButton, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::roles::role_matrix;
use crate::api::scim::{
    list_scim_connections, list_scim_mappings, CreateScimConnection, CreateScimMapping, DeleteScimConnection,
    DeleteScimMapping, NewScimToken,
};
use crate::domain::scim::ScimConnectionToken;
use crate::ui::json::json_resource;

/// The fields of the form, in the order errors are looked for.
const FIELDS: [&str; 6] = ["id", "name", "orgs", "default_org", "default_role", "delete_mode"];

/// The new bearer token, while it is shown (once), with what the provider's settings need.
#[component]
fn NewToken(answer: ScimConnectionToken) -> impl IntoView {
    let token = answer.token;
    let c = answer.connection;
    view! {
        <div class="new-token" role="region" aria-label="New bearer token">
            <p class="alert">{format!("Copy the bearer token of {} now: it will not be shown again.", c.name)}</p>
            <div class="field">
                <label for="new_scim_token">"Bearer token"</label>
                <input id="new_scim_token" type="text" readonly value=token.clone()/>
            </div>
            <CopyButton text=token label="Copy token"/>
            <p class="hint">"In the identity provider's provisioning settings: SCIM base URL "<code class="wrap">{c.base_url}</code>
                ", authentication by HTTP header, "<code>"Authorization: Bearer <token>"</code>"."</p>
        </div>
    }
}

#[component]
pub fn ProvisioningPage() -> AnyView {
    let create = ServerAction::<CreateScimConnection>::new();
    let token = ServerAction::<NewScimToken>::new();
    let delete = ServerAction::<DeleteScimConnection>::new();
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let create_ok = super::forms::successes(create);
    let token_ok = super::forms::successes(token);
    let delete_ok = super::forms::successes(delete);
    let list = json_resource(
        move || (create_ok.get(), token_ok.get(), delete_ok.get(), admin()),
        |(_, _, _, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_scim_connections().await
        },
    );
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<CreateScimConnection>())
            || posted_needs_reauth(name_of::<NewScimToken>())
            || posted_needs_reauth(name_of::<DeleteScimConnection>()),
    );
    let cv = outcome(create);
    let tv = outcome(token);
    let dv = outcome(delete);
    let deleted_any = succeeded(delete);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    // A token shown once: from the browser's call, or carried here after a native post.
    let posted_create = shown_once::<CreateScimConnection>();
    let posted_token = shown_once::<NewScimToken>();
    let fresh_token = Signal::derive(move || {
        let fresh = |v: Option<Result<ScimConnectionToken, _>>| v.and_then(|r| r.ok());
        fresh(token.value().get())
            .or_else(|| fresh(create.value().get()))
            .or_else(|| posted_token.get())
            .or_else(|| posted_create.get())
            .filter(|t| !t.token.is_empty())
    });
    // The form is empty again once a connection is added.
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |first: Option<()>| {
        create_ok.track();
        if first.is_some() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
    Effect::new(move |_| {
        if create.value().with(needs_reauth) || token.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    // A refused delete posted before the WASM arrived: its dialog opens with the reason.
    let refused_delete = StoredValue::new(
        typed::<DeleteScimConnection>("id")
            .filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let fe = move |f: &'static str| Signal::derive(field_error(cv, f));
    // What a refused form posted before the WASM arrived carried fills the form in again.
    let refill = StoredValue::new(
        ["id", "name", "orgs", "default_org", "default_role", "delete_mode", "adopt_existing"]
            .into_iter()
            .filter_map(|f| typed::<CreateScimConnection>(f).map(|v| (f, v)))
            .collect::<Vec<_>>(),
    );
    let typed_in = move |f: &str| refill.with_value(|r| r.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone()));
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Provisioning is managed by super admins."/> }>{
                view! {
        <section class="card wide" aria-labelledby="provisioning-title">
            <h1 id="provisioning-title">"Provisioning"</h1>
            <p class="muted">"An identity provider (Okta, Microsoft Entra ID, any SCIM 2.0 client) creates, updates and deactivates "
                "Roster accounts through a connection: each has its own address and bearer tokens, places new people in an "
                "organization with a role, and changes only the accounts it provisioned, never a super admin."</p>
            {move || fresh_token.get().map(|answer| view! { <NewToken answer=answer/> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(cs) if cs.is_empty() => view! { <p>"No connections yet."</p> }.into_any(),
                    Ok(cs) => view! {
                        <div class="table-wrap cards">
                        <table>
                            <caption class="sr-only">"SCIM connections"</caption>
                            <thead><tr><th scope="col">"Connection"</th><th scope="col">"SCIM base URL"</th>
                                <th scope="col">"New people"</th><th scope="col">"On delete"</th><th scope="col">"Accounts"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {cs.into_iter().map(|c| {
                                    let id = c.id.clone();
                                    let name = c.name.clone();
                                    let (token_id, delete_id) = (id.clone(), id.clone());
                                    let token_label = format!("New token for {name}");
                                    let delete_label = format!("Delete {name}");
                                    let delete_title = format!("Delete the SCIM connection {name}?");
                                    let dialog = format!("delete-scim-{id}");
                                    let open_delete = refused_delete.get_value().as_deref() == Some(id.as_str());
                                    let placed = match (&c.default_org, &c.default_role) {
                                        (Some(o), Some(r)) => format!("{r} in {o}"),
                                        _ => "Nowhere: the organization or role was deleted".to_string(),
                                    };
                                    let also = (c.orgs.len() > 1).then(|| format!(" (may touch {})", c.orgs.join(", ")));
                                    let on_delete = if c.delete_mode == "delete" { "Deletes the account" } else { "Disables the account" };
                                    let tokens = format!("{} token{}", c.tokens, if c.tokens == 1 { "" } else { "s" });
                                    let loses = format!(
                                        "{name} can no longer reach Roster: its {tokens} stop working at once and its service account {} is removed. \
                                         The {} account{} it provisioned stay, as ordinary accounts nobody updates or deactivates from then on.",
                                        c.service_account, c.accounts, if c.accounts == 1 { "" } else { "s" });
                                    view! {
                                        <tr>
                                            <td data-label="Connection"><strong>{c.name.clone()}</strong><br/><code>{c.id.clone()}</code>
                                                <span class="hint">{format!(" {tokens}")}</span><br/>
                                                <A href=format!("/admin/provisioning/{}", c.id)
                                                    attr:aria-label=format!("Group mappings of {}", c.name)>"Group mappings"</A></td>
                                            <td data-label="SCIM base URL"><code class="wrap">{c.base_url.clone()}</code></td>
                                            <td data-label="New people">{placed}{also}{c.adopt_existing.then_some(", adopts existing accounts")}</td>
                                            <td data-label="On delete">{on_delete}</td>
                                            <td data-label="Accounts">{c.accounts}</td>
                                            <td class="actions">
                                                <ActionForm action=token attr:class="in-cell">
                                                    <input type="hidden" name="id" value=token_id/>
                                                    <button type="submit" class="secondary" aria-label=token_label>"New token"</button>
                                                </ActionForm>
                                                <ConfirmDialog id=dialog.clone() trigger="Delete" trigger_label=delete_label
                                                    title=delete_title done=deleted open=open_delete>
                                                    <p>{loses}</p>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="id" value=delete_id.clone()/>
                                                        {move || (!dv.with(needs_reauth)).then(form_error(dv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Delete connection"</button>
                                                            <CancelButton of=dialog.clone()/>
                                                        </div>
                                                    </ActionForm>
                                                </ConfirmDialog>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {form_error(tv, &[])}
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Connection deleted."</p> })}
        </section>
        <section class="card wide" aria-labelledby="scim-form-title">
            <h2 id="scim-form-title">"Add a connection"</h2>
            <ActionForm action=create node_ref=form attr:novalidate=true>
                <Field id="scim_id" name="id" label="Connection id" required=true value=typed_in("id")
                    hint="Part of its address, /scim/v2/<id>: lower-case letters, digits and -, e.g. okta." error=fe("id")/>
                <Field id="scim_name" name="name" label="Name" required=true value=typed_in("name")
                    hint="The identity provider, e.g. Okta." error=fe("name")/>
                <Field id="scim_orgs" name="orgs" label="Organizations it may provision into" required=true value=typed_in("orgs")
                    hint="Comma-separated names." error=fe("orgs")/>
                <Field id="scim_default_org" name="default_org" label="Organization for new people" value=typed_in("default_org")
                    hint="Empty: the first of the organizations above." error=fe("default_org")/>
                <Field id="scim_default_role" name="default_role" label="Their role there" value=typed_in("default_role")
                    hint="Empty: Viewer." error=fe("default_role")/>
                <div class="field">
                    <label for="scim_delete_mode">"When the provider deletes a person"</label>
                    <select id="scim_delete_mode" name="delete_mode" aria-describedby="scim_delete_mode-hint">
                        <option value="disable" selected=typed_in("delete_mode").as_deref() != Some("delete")>
                            "Disable the account"</option>
                        <option value="delete" selected=typed_in("delete_mode").as_deref() == Some("delete")>"Delete the account"</option>
                    </select>
                    <p class="hint" id="scim_delete_mode-hint">"Disabling is recommended: the account's history and memberships stay, and an admin can enable it again."</p>
                </div>
                <div class="field check"><input type="checkbox" id="scim_adopt" name="adopt_existing" value="on"
                        checked=typed_in("adopt_existing").is_some()/>
                    <label for="scim_adopt">"Take over existing accounts with the same username (never a super admin)"</label></div>
                {form_error(cv, &FIELDS)}
                <div class="buttons">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Add connection"</button>
                </div>
            </ActionForm>
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=move |_| reauth.set(false)/> })}
            {move || (!reauth.get() && (cv.with(needs_reauth) || tv.with(needs_reauth) || dv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
                }
            }</Show>
        </Transition>
    }
    .into_any()
}

/// The mapping form's fields shown with their own error (the selects' errors go above the
/// button).
const MAPPING_FIELDS: [&str; 2] = ["group", "priority"];

/// One connection's directory group mappings (`/admin/provisioning/{id}`): which group gives
/// which role in which organization, a form to map one, removal behind a question that says
/// who loses what.
#[component]
pub fn ConnectionPage() -> AnyView {
    let params = use_params_map();
    let slug = move || params.read().get("id").unwrap_or_default();
    let create = ServerAction::<CreateScimMapping>::new();
    let delete = ServerAction::<DeleteScimMapping>::new();
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let create_ok = super::forms::successes(create);
    let delete_ok = super::forms::successes(delete);
    let connections = json_resource(admin, |admin| async move {
        if admin != Some(true) {
            return Err(super::not_for_you());
        }
        list_scim_connections().await
    });
    let roles = json_resource(admin, |admin| async move {
        if admin != Some(true) {
            return Err(super::not_for_you());
        }
        role_matrix().await
    });
    let mappings = json_resource(
        move || (slug(), create_ok.get(), delete_ok.get(), admin()),
        |(slug, _, _, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_scim_mappings(slug).await
        },
    );
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<CreateScimMapping>()) || posted_needs_reauth(name_of::<DeleteScimMapping>()),
    );
    Effect::new(move |_| {
        if create.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    let cv = outcome(create);
    let dv = outcome(delete);
    let created = succeeded(create);
    let deleted_any = succeeded(delete);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |first: Option<()>| {
        create_ok.track();
        if first.is_some() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
    let refused_delete = StoredValue::new(
        typed::<DeleteScimMapping>("mapping")
            .filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let fe = move |f: &'static str| Signal::derive(field_error(cv, f));
    let refill = StoredValue::new(
        ["group", "org", "role", "priority"]
            .into_iter()
            .filter_map(|f| typed::<CreateScimMapping>(f).map(|v| (f, v)))
            .collect::<Vec<_>>(),
    );
    let typed_in = move |f: &str| refill.with_value(|r| r.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone()));
    let connection = move || connections.get().map(|r| r.map(|cs| cs.into_iter().find(|c| c.id == slug())));
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Provisioning is managed by super admins."/> }>{
                view! {
        <p><A href="/admin/provisioning">"← Provisioning"</A></p>
        <section class="card wide" aria-labelledby="mappings-title">
            <h1 id="mappings-title">{move || match connection() {
                Some(Ok(Some(c))) => format!("Group mappings of {}", c.name),
                _ => "Group mappings".to_string(),
            }}</h1>
            <p class="muted">"Map a group your identity provider pushes to an organization and a role. A person's role in an "
                "organization is their highest-priority mapping there (the connection's placement for new people ranks below "
                "every mapping); leaving the last mapped group removes that membership. Memberships made by hand are never "
                "changed or removed, and an admin changing a provisioned one makes it a manual one. Unmapped groups grant nothing."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || match (connection(), mappings.get()) {
                    (Some(Ok(None)), _) => view! { <p class="alert error" role="alert">"There is no such SCIM connection."</p> }.into_any(),
                    (Some(Err(e)), _) | (_, Some(Err(e))) => view! { <ErrorBox error=e/> }.into_any(),
                    (_, Some(Ok(ms))) if ms.is_empty() => view! { <p>"No mappings yet: the connection's groups grant nothing."</p> }.into_any(),
                    (_, Some(Ok(ms))) => view! {
                        <div class="table-wrap cards">
                        <table>
                            <caption class="sr-only">"Directory group mappings"</caption>
                            <thead><tr><th scope="col">"Group"</th><th scope="col">"Organization"</th><th scope="col">"Role"</th>
                                <th scope="col">"Priority"</th><th scope="col">"Members"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {ms.into_iter().map(|m| {
                                    let dialog = format!("unmap-{}", m.id);
                                    let open = refused_delete.get_value().as_deref() == Some(m.id.to_string().as_str());
                                    let extras = m.abilities.codes().join(", ");
                                    let members = format!("{} member{}", m.members, if m.members == 1 { "" } else { "s" });
                                    let loses = format!(
                                        "The {members} of {} {} what this mapping gives in {}: the {} role{}. Where another of \
                                         their groups maps to {} that mapping's role applies instead; otherwise they leave {} \
                                         (a membership there made by hand stays).",
                                        m.group, if m.members == 1 { "loses" } else { "lose" }, m.org, m.role,
                                        if extras.is_empty() { String::new() } else { format!(" and {extras}") },
                                        m.org, m.org);
                                    view! {
                                        <tr>
                                            <th scope="row" data-label="Group">{m.group.clone()}</th>
                                            <td data-label="Organization">{m.org.clone()}</td>
                                            <td data-label="Role">{m.role.clone()}
                                                {(!extras.is_empty()).then(|| view! { <span class="hint block">{format!("+ {extras}")}</span> })}</td>
                                            <td data-label="Priority">{m.priority}</td>
                                            <td data-label="Members">{m.members}</td>
                                            <td class="actions">
                                                <ConfirmDialog id=dialog.clone() trigger="Remove"
                                                    trigger_label=format!("Remove the mapping of {} to {}", m.group, m.org)
                                                    title=format!("Remove the mapping of {} to {}?", m.group, m.org) done=deleted open=open>
                                                    <p>{loses}</p>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="id" value=slug()/>
                                                        <input type="hidden" name="mapping" value=m.id.to_string()/>
                                                        {move || (!dv.with(needs_reauth)).then(form_error(dv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Remove mapping"</button>
                                                            <CancelButton of=dialog.clone()/>
                                                        </div>
                                                    </ActionForm>
                                                </ConfirmDialog>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any(),
                    _ => view! { <p>"Loading…"</p> }.into_any(),
                }}
            </Transition>
            {move || created.get().then(|| view! { <p class="alert ok" role="status">"Group mapped: its members have their role."</p> })}
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Mapping removed."</p> })}
        </section>
        <section class="card wide" aria-labelledby="map-form-title">
            <h2 id="map-form-title">"Map a group"</h2>
            <ActionForm action=create node_ref=form attr:novalidate=true>
                <input type="hidden" name="id" value=slug/>
                <Field id="map_group" name="group" label="Directory group" required=true value=typed_in("group")
                    hint="Its display name, as the identity provider sends it (e.g. Engineering)." error=fe("group")/>
                <div class="field">
                    <label for="map_org">"Organization"</label>
                    <select id="map_org" name="org">
                        {move || match connection() {
                            Some(Ok(Some(c))) => c.orgs.into_iter().map(|o| {
                                let chosen = typed_in("org").as_deref() == Some(o.as_str());
                                view! { <option value=o.clone() selected=chosen>{o.clone()}</option> }
                            }).collect_view().into_any(),
                            _ => ().into_any(),
                        }}
                    </select>
                </div>
                <div class="field">
                    <label for="map_role">"Role there"</label>
                    <select id="map_role" name="role">
                        {move || roles.get().and_then(|r| r.ok()).map(|m| m.roles.into_iter().map(|r| {
                            let chosen = typed_in("role").as_deref() == Some(r.name.as_str());
                            view! { <option value=r.name.clone() selected=chosen>{r.name.clone()}</option> }
                        }).collect_view())}
                    </select>
                </div>
                <Field id="map_priority" name="priority" kind="number" label="Priority"
                    value=typed_in("priority").or_else(|| Some("0".to_string()))
                    hint="Where someone's groups map to the same organization, the highest priority wins (-1000 to 1000)."
                    error=fe("priority")/>
                <super::AbilityChoices prefix="map-extra" name="abilities[]"/>
                {form_error(cv, &MAPPING_FIELDS)}
                <div class="buttons">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Map group"</button>
                </div>
            </ActionForm>
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=move |_| reauth.set(false)/> })}
            {move || (!reauth.get() && (cv.with(needs_reauth) || dv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
                }
            }</Show>
        </Transition>
    }
    .into_any()
}
