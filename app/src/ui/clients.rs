//! Settings -> Applications (super admins): the data tools that sign people in through Roster
//! (OAuth clients), a form to register or edit one, its secret shown once, rotation and
//! removal behind questions that say what stops working.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, shown_once, succeeded, typed};
use super::security::{is_reauth, needs_reauth, posted_needs_reauth, CopyButton, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::clients::{list_clients, DeleteClient, RotateClientSecret, SaveClient};
use crate::domain::clients::{ClientKind, ClientSecret, SCOPES};
use crate::ui::json::json_resource;

/// The fields of the form, in the order errors are looked for.
const FIELDS: [&str; 9] = [
    "client_id",
    "name",
    "kind",
    "redirect_uris",
    "post_logout_redirect_uris",
    "orgs",
    "scopes",
    "access_token_seconds",
    "refresh_token_seconds",
];

/// A lifetime as people read it.
fn duration(seconds: u32) -> String {
    match seconds {
        0 => "none".into(),
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3_600 == 0 => format!("{} h", s / 3_600),
        s => format!("{} min", s / 60),
    }
}

/// The new secret, while it is shown (once).
#[component]
fn NewSecret(answer: ClientSecret) -> impl IntoView {
    answer.client_secret.map(|secret| {
        view! {
            <div class="new-token" role="region" aria-label="New client secret">
                <p class="alert">{format!("Copy the client secret of {} now: it is shown only once.", answer.client.name)}</p>
                <div class="field">
                    <label for="new_client_id">"Client ID"</label>
                    <input id="new_client_id" type="text" readonly value=answer.client.client_id.clone()/>
                </div>
                <div class="field">
                    <label for="new_client_secret">"Client secret"</label>
                    <input id="new_client_secret" type="text" readonly value=secret.clone()/>
                </div>
                <CopyButton text=secret label="Copy secret"/>
            </div>
        }
    })
}

#[component]
pub fn ClientsPage() -> AnyView {
    let save = ServerAction::<SaveClient>::new();
    let rotate = ServerAction::<RotateClientSecret>::new();
    let delete = ServerAction::<DeleteClient>::new();
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let save_ok = super::forms::successes(save);
    let rotate_ok = super::forms::successes(rotate);
    let delete_ok = super::forms::successes(delete);
    let list = json_resource(
        move || (save_ok.get(), rotate_ok.get(), delete_ok.get(), admin()),
        |(_, _, _, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_clients().await
        },
    );
    // The application in the form is the one the URL names (`?edit=ID`: Edit is a link that
    // works before the WASM arrives); none registers a new one.
    let query = use_query_map();
    let editing = Signal::derive(move || {
        let id = query.with(|q| q.get("edit"))?;
        list.get().and_then(|r| r.ok()).and_then(|cs| cs.into_iter().find(|c| c.client_id == id))
    });
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<SaveClient>())
            || posted_needs_reauth(name_of::<RotateClientSecret>())
            || posted_needs_reauth(name_of::<DeleteClient>()),
    );
    let sv = outcome(save);
    let rv = outcome(rotate);
    let dv = outcome(delete);
    let saved = succeeded(save);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let rotated = Signal::derive(move || matches!(rotate.value().get(), Some(Ok(_))));
    let deleted_any = succeeded(delete);
    // A secret shown once: from the browser's call, or carried here after a native post.
    let posted_save = shown_once::<SaveClient>();
    let posted_rotate = shown_once::<RotateClientSecret>();
    let secret = Signal::derive(move || {
        let fresh = |v: Option<Result<ClientSecret, _>>| v.and_then(|r| r.ok()).filter(|c| c.client_secret.is_some());
        fresh(rotate.value().get())
            .or_else(|| fresh(save.value().get()))
            .or_else(|| posted_rotate.get())
            .or_else(|| posted_save.get())
            .filter(|c| c.client_secret.is_some())
    });
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if save.value().with(needs_reauth) || rotate.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
        if let Some(Ok(_)) = save.value().get() {
            if query.with_untracked(|q| q.get("edit").is_some()) {
                navigate("/admin/applications", Default::default());
            }
        }
    });
    // A refused delete or rotation posted before the WASM arrived: its dialog opens with the reason.
    let refused_delete = StoredValue::new(
        typed::<DeleteClient>("client_id")
            .filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let refused_rotate = StoredValue::new(
        typed::<RotateClientSecret>("client_id")
            .filter(|_| rv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    // What a refused form posted before the WASM arrived carried fills the form in again.
    let refill = StoredValue::new(
        FIELDS
            .iter()
            .chain(&["access_token_minutes", "refresh_token_days"])
            .filter_map(|f| typed::<SaveClient>(f).map(|v| (*f, v)))
            .collect::<Vec<_>>(),
    );
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Applications are registered by super admins."/> }>{
                view! {
        <section class="card wide" aria-labelledby="clients-title">
            <h1 id="clients-title">"Applications"</h1>
            <p class="muted">"Data tools that sign people in through Roster with OpenID Connect (DBackup, Databand, an internal dashboard...). "
                "Each one gets a client ID (and, if it runs on a server, a secret) and receives who signed in, and with scope roster, "
                "their role and abilities in the organizations you choose."</p>
            {move || secret.get().map(|answer| view! { <NewSecret answer=answer/> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(cs) if cs.is_empty() => view! { <p>"No applications yet."</p> }.into_any(),
                    Ok(cs) => view! {
                        <div class="table-wrap cards">
                        <table>
                            <caption class="sr-only">"Applications"</caption>
                            <thead><tr><th scope="col">"Application"</th><th scope="col">"Kind"</th><th scope="col">"Redirect URIs"</th>
                                <th scope="col">"Organizations"</th><th scope="col">"Tokens"</th><th scope="col">"Status"</th>
                                <th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {cs.into_iter().map(|c| {
                                    let id = c.client_id.clone();
                                    let name = c.name.clone();
                                    let delete_dialog = format!("delete-client-{id}");
                                    let rotate_dialog = format!("rotate-client-{id}");
                                    let open_delete = refused_delete.with_value(|r| r.as_deref() == Some(id.as_str()));
                                    let open_rotate = refused_rotate.with_value(|r| r.as_deref() == Some(id.as_str()));
                                    let confidential = c.kind == ClientKind::Confidential;
                                    view! {
                                        <tr>
                                            <td data-label="Application"><strong>{c.name.clone()}</strong><br/><code>{c.client_id.clone()}</code></td>
                                            <td data-label="Kind">{if confidential { "Confidential" } else { "Public (PKCE)" }}</td>
                                            <td data-label="Redirect URIs"><ul class="plain">{c.redirect_uris.iter().map(|u| view! { <li><code class="wrap">{u.clone()}</code></li> }).collect_view()}</ul></td>
                                            <td data-label="Organizations">{if c.orgs.is_empty() { "None".to_string() } else { c.orgs.join(", ") }}</td>
                                            <td data-label="Tokens">{format!("access {}, refresh {}", duration(c.access_token_seconds), duration(c.refresh_token_seconds))}</td>
                                            <td data-label="Status"><span class=if c.enabled { "badge success" } else { "badge" }>{if c.enabled { "Enabled" } else { "Disabled" }}</span></td>
                                            <td class="actions">
                                                <a class="button" href=format!("/admin/applications?edit={}#client-form-title", super::enc(&id)) aria-label=format!("Edit {name}")>"Edit"</a>
                                                {confidential.then(|| { let rotate_dialog = rotate_dialog.clone(); let id = id.clone(); view! {
                                                    <ConfirmDialog id=rotate_dialog.clone() trigger="New secret" trigger_label=format!("New secret for {name}")
                                                        title=format!("Give {name} a new secret?") done=rotated open=open_rotate>
                                                        <p>"The current secret stops working at once: the tool cannot sign anyone in until its settings have the new one, shown once after this."</p>
                                                        <ActionForm action=rotate>
                                                            <input type="hidden" name="client_id" value=id.clone()/>
                                                            {move || (!rv.with(needs_reauth)).then(form_error(rv, &[])).flatten()}
                                                            <div class="buttons">
                                                                <button type="submit" class="danger">"Make a new secret"</button>
                                                                <CancelButton of=rotate_dialog.clone()/>
                                                            </div>
                                                        </ActionForm>
                                                    </ConfirmDialog>
                                                } })}
                                                <ConfirmDialog id=delete_dialog.clone() trigger="Delete" trigger_label=format!("Delete {name}")
                                                    title=format!("Delete the application {name}?") done=deleted open=open_delete>
                                                    <p>{format!("{name} can no longer sign anyone in, and its client ID and secret stop working. Accounts are not touched.")}</p>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="client_id" value=id.clone()/>
                                                        {move || (!dv.with(needs_reauth)).then(form_error(dv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Delete application"</button>
                                                            <CancelButton of=delete_dialog.clone()/>
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
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Application deleted."</p> })}
        </section>
        <section class="card wide" aria-labelledby="client-form-title">
            {move || {
                let c = editing.get();
                let create = c.is_none();
                let c = c.unwrap_or_default();
                let text = |f: &str, current: String| {
                    refill.with_value(|r| r.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone())).unwrap_or(current)
                };
                let client_id = text("client_id", c.client_id.clone());
                let name = text("name", c.name.clone());
                let redirect_uris = text("redirect_uris", c.redirect_uris.join("\n"));
                let logout_uris = text("post_logout_redirect_uris", c.post_logout_redirect_uris.join("\n"));
                let orgs = text("orgs", c.orgs.join(", "));
                // (a text area's value: its text for the server's page, its property once hydrated)
                let (redirect_value, logout_value) = (redirect_uris.clone(), logout_uris.clone());
                let access = text("access_token_minutes", (c.access_token_seconds / 60).to_string());
                let refresh = text("refresh_token_days", (c.refresh_token_seconds / 86_400).to_string());
                let title = if create { "Register an application".to_string() } else { format!("Edit {}", c.name) };
                let public = c.kind == ClientKind::Public;
                view! {
                    <h2 id="client-form-title">{title}</h2>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="create" value=create.to_string()/>
                        {if create {
                            view! { <Field id="client_id" name="client_id" label="Client ID" required=true value=client_id
                                hint="What the tool sends as client_id: lower-case letters, digits, -, _ and .; fixed once registered." error=fe("client_id")/> }.into_any()
                        } else {
                            view! { <input type="hidden" name="client_id" value=c.client_id.clone()/> }.into_any()
                        }}
                        <Field id="client_name" name="name" label="Name" required=true value=name
                            hint="Shown to people when they sign in." error=fe("name")/>
                        <fieldset class="group">
                            <legend>"Kind"</legend>
                            <div class="field check"><input type="radio" id="client_kind_confidential" name="kind" value="confidential" checked=!public/>
                                <label for="client_kind_confidential">"Confidential: it runs on a server and keeps a secret"</label></div>
                            <div class="field check"><input type="radio" id="client_kind_public" name="kind" value="public" checked=public/>
                                <label for="client_kind_public">"Public: a browser or desktop tool (no secret, PKCE only)"</label></div>
                        </fieldset>
                        <div class="field">
                            <label for="client_redirect_uris">"Redirect URIs"</label>
                            <textarea id="client_redirect_uris" name="redirect_uris" rows="3" class="code" spellcheck="false"
                                aria-describedby="client_redirect_uris-hint" aria-invalid=move || fe("redirect_uris").get().map(|_| "true")
                                prop:value=redirect_value>
                                {redirect_uris}
                            </textarea>
                            <p class="hint" id="client_redirect_uris-hint">"One per line, matched exactly, e.g. https://dbackup.example.com/api/auth/callback. https only (http on localhost)."</p>
                            {move || fe("redirect_uris").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                        </div>
                        <div class="field">
                            <label for="client_logout_uris">"After sign-out, back to (optional)"</label>
                            <textarea id="client_logout_uris" name="post_logout_redirect_uris" rows="2" class="code" spellcheck="false"
                                aria-describedby="client_logout_uris-hint" prop:value=logout_value>
                                {logout_uris}
                            </textarea>
                            <p class="hint" id="client_logout_uris-hint">"Where the tool may send people once they have signed out of Roster, one per line."</p>
                            {move || fe("post_logout_redirect_uris").get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                        </div>
                        <Field id="client_orgs" name="orgs" label="Organizations it receives" value=orgs
                            hint="Comma-separated names: with scope roster, the tool learns people's role and abilities there (and nowhere else)." error=fe("orgs")/>
                        <fieldset class="group">
                            <legend>"Scopes it may ask for"</legend>
                            <p class="hint">"openid (who signed in) always."</p>
                            {SCOPES.iter().filter(|(s, _)| *s != "openid").map(|(s, what)| {
                                let id = format!("client_scope_{s}");
                                let on = c.scopes.iter().any(|x| x == s);
                                view! {
                                    <div class="field check"><input type="checkbox" id=id.clone() name=format!("scope_{s}") value="true" checked=on/>
                                        <label for=id><code>{*s}</code>" — "{*what}</label></div>
                                }
                            }).collect_view()}
                        </fieldset>
                        <div class="field check"><input type="checkbox" id="client_consent" name="consent" value="true" checked=c.consent/>
                            <label for="client_consent">"Ask people before their first sign-in into it (untick for your own tools)"</label></div>
                        <div class="field check"><input type="checkbox" id="client_2fa" name="require_two_factor" value="true" checked=c.require_two_factor/>
                            <label for="client_2fa">"Only people who signed in with a second factor or a passkey"</label></div>
                        <Field id="client_access" name="access_token_minutes" label="Access tokens last (minutes)" kind="number"
                            value=access hint="1 to 1,440." error=fe("access_token_seconds")/>
                        <Field id="client_refresh" name="refresh_token_days" label="Refresh tokens last (days)" kind="number"
                            value=refresh hint="0: no refresh tokens; up to 365." error=fe("refresh_token_seconds")/>
                        <div class="field check"><input type="checkbox" id="client_enabled" name="enabled" value="true" checked=c.enabled/>
                            <label for="client_enabled">"Enabled"</label></div>
                        {form_error(sv, &FIELDS)}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>
                                {if create { "Register application" } else { "Save application" }}
                            </button>
                            {(!create).then(|| view! { <a class="button" href="/admin/applications">"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Application saved."</p> })}
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=move |_| reauth.set(false)/> })}
            {move || (!reauth.get() && (sv.with(needs_reauth) || rv.with(needs_reauth) || dv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
    }
            }</Show>
        </Transition>
    }
    .into_any()
}
