//! Single sign-on: the sign-in page's provider buttons, the providers admin (Settings ->
//! Single sign-on, super admins) and the profile's linked providers.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use leptos_router::hooks::use_query_map;

use super::forms::{name_of, outcome, succeeded, typed};
use super::security::{is_reauth, needs_reauth, posted_needs_reauth, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::sso::{
    linked_providers, list_sso_providers, sso_buttons, BeginSsoLink, DeleteSsoProvider, SaveSsoProvider, UnlinkSso,
};
use crate::domain::sso::{SsoProvider, SsoRefusal};
use crate::domain::users::format_time;
use crate::ui::json::json_resource;

/// The refusal a single sign-on redirect brought back (`?sso_error=`), as a sentence. Only
/// known codes are shown: the URL is not trusted text.
#[component]
pub fn SsoError() -> impl IntoView {
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("sso_error"))
            .and_then(|c| SsoRefusal::from_code(&c))
            .map(|r| view! { <div class="alert error" role="alert">{r.message()}</div> })
    }
}

/// One button per enabled provider: plain forms, so they work before the page hydrates.
#[component]
pub fn SsoButtons() -> impl IntoView {
    let buttons = json_resource(|| (), |_| sso_buttons());
    view! {
        <Suspense fallback=|| ()>
            {move || buttons.get().and_then(|r| r.ok()).filter(|b| !b.is_empty()).map(|list| view! {
                <div class="sso" role="group" aria-label="Single sign-on">
                    {list.into_iter().map(|b| view! {
                        <form method="post" action=format!("/auth/oidc/{}/start", b.slug)>
                            <button type="submit" class="sso-button">{format!("Sign in with {}", b.display_name)}</button>
                        </form>
                    }).collect_view()}
                </div>
            })}
        </Suspense>
    }
}

/// Settings -> Single sign-on: the providers, and a form to add or edit one.
#[component]
pub fn SsoPage() -> AnyView {
    let save = ServerAction::<SaveSsoProvider>::new();
    let delete = ServerAction::<DeleteSsoProvider>::new();
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let save_ok = super::forms::successes(save);
    let delete_ok = super::forms::successes(delete);
    let list = json_resource(
        move || (save_ok.get(), delete_ok.get(), admin()),
        |(_, _, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_sso_providers().await
        },
    );
    // The provider in the form is the one the URL names (`?edit=SLUG`, so Edit is a link that
    // works before the WASM arrives); none adds a new one.
    let query = use_query_map();
    let editing = Signal::derive(move || {
        let slug = query.with(|q| q.get("edit"))?;
        list.get().and_then(|r| r.ok()).and_then(|ps| ps.into_iter().find(|p| p.slug == slug))
    });
    // A refusal for want of a recent sign-in opens the prompt (also when the form was posted
    // before the WASM arrived).
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<SaveSsoProvider>()) || posted_needs_reauth(name_of::<DeleteSsoProvider>()),
    );
    let sv = outcome(save);
    let dv = outcome(delete);
    let saved = succeeded(save);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let deleted_any = succeeded(delete);
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if save.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
        if let Some(Ok(_)) = save.value().get() {
            if query.with_untracked(|q| q.get("edit").is_some()) {
                navigate("/admin/sso", Default::default());
            }
        }
    });
    // A refused delete posted before the WASM arrived: its dialog opens with the reason.
    let refused_delete = StoredValue::new(
        typed::<DeleteSsoProvider>("slug")
            .filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    // What a refused form posted before the WASM arrived carried (never the secret) fills the
    // form in again: each field's name and where it goes.
    type Put = fn(&mut SsoProvider, String);
    const REFILLED: [(&str, Put); 13] = [
        ("provider[slug]", |p, v| p.slug = v),
        ("provider[display_name]", |p, v| p.display_name = v),
        ("provider[issuer]", |p, v| p.issuer = v),
        ("provider[client_id]", |p, v| p.client_id = v),
        ("provider[scopes]", |p, v| p.scopes = v),
        ("provider[username_claim]", |p, v| p.username_claim = v),
        ("provider[email_claim]", |p, v| p.email_claim = v),
        ("provider[name_claim]", |p, v| p.name_claim = v),
        ("provider[auto_create]", |p, v| p.auto_create = v == "true"),
        ("provider[org]", |p, v| p.org = v),
        ("provider[role]", |p, v| p.role = v),
        ("provider[allowed_domains]", |p, v| p.allowed_domains = v),
        ("provider[enabled]", |p, v| p.enabled = v == "true"),
    ];
    let typed_provider: StoredValue<Vec<(Put, String)>> = StoredValue::new(
        REFILLED.into_iter().filter_map(|(f, put)| typed::<SaveSsoProvider>(f).map(|v| (put, v))).collect(),
    );
    let refill = move |p: &mut SsoProvider| {
        for (put, v) in typed_provider.get_value() {
            put(p, v);
        }
    };
    view! {
        <Transition fallback=|| ()>
            // (Show redraws only when the answer changes, not on every refresh of the session)
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Single sign-on is set up by super admins."/> }>{
                view! {
        <section class="card wide" aria-labelledby="sso-title">
            <h1 id="sso-title">"Single sign-on"</h1>
            <p class="muted">"People sign in through your organization's OpenID Connect provider (Keycloak, Entra ID, Okta, Google, Authentik...). "
                "Accounts are matched by the provider's issuer and subject, never by email."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(ps) if ps.is_empty() => view! { <p>"No providers yet."</p> }.into_any(),
                    Ok(ps) => view! {
                        <table>
                            <caption class="sr-only">"Providers"</caption>
                            <thead><tr><th scope="col">"Provider"</th><th scope="col">"Issuer"</th><th scope="col">"New accounts"</th>
                                <th scope="col">"Redirect URI to register"</th><th scope="col">"Status"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {ps.into_iter().map(|p| {
                                    let slug = p.slug.clone();
                                    let name = p.display_name.clone();
                                    let dialog = format!("delete-sso-{slug}");
                                    let open = refused_delete.with_value(|r| r.as_deref() == Some(slug.as_str()));
                                    view! {
                                        <tr>
                                            <td><strong>{p.display_name.clone()}</strong><br/><code>{p.slug.clone()}</code></td>
                                            <td><code class="wrap">{p.issuer.clone()}</code></td>
                                            <td>{if p.auto_create { format!("Created in {} as {}", p.org, p.role) } else { "Linked accounts only".to_string() }}</td>
                                            <td>{if p.redirect_uri.is_empty() {
                                                view! { <span class="muted">"Set --public-url first"</span> }.into_any()
                                            } else {
                                                view! { <code class="wrap">{p.redirect_uri.clone()}</code> }.into_any()
                                            }}</td>
                                            <td><span class=if p.enabled { "badge success" } else { "badge" }>{if p.enabled { "Enabled" } else { "Disabled" }}</span></td>
                                            <td class="actions">
                                                <a class="button" href=format!("/admin/sso?edit={}#sso-form-title", super::enc(&slug)) aria-label=format!("Edit {name}")>"Edit"</a>
                                                <ConfirmDialog id=dialog.clone() trigger="Delete" trigger_label=format!("Delete {}", p.display_name)
                                                    title=format!("Delete the provider {}?", p.display_name) done=deleted open=open>
                                                    <p>{format!("The \u{201c}Sign in with {}\u{201d} button goes away and every account's link to it ends. Accounts stay; those with no other way in cannot sign in until an admin sets a password.", p.display_name)}</p>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="slug" value=slug.clone()/>
                                                        {move || (!dv.with(needs_reauth)).then(form_error(dv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Delete provider"</button>
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
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Provider deleted."</p> })}
        </section>
        <section class="card wide" aria-labelledby="sso-form-title">
            {move || {
                let p = editing.get();
                let create = p.is_none();
                let mut p = p.unwrap_or_else(SsoProvider::new_defaults);
                refill(&mut p);
                let title = if create { "Add a provider".to_string() } else { format!("Edit {}", p.display_name) };
                view! {
                    <h2 id="sso-form-title">{title}</h2>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="create" value=create.to_string()/>
                        {if create {
                            view! { <Field id="sso_slug" name="provider[slug]" label="Short name" required=true value=p.slug.clone()
                                hint="Lower-case letters, digits and -; part of the redirect URI, fixed once created." error=fe("slug")/> }.into_any()
                        } else {
                            view! { <input type="hidden" name="provider[slug]" value=p.slug.clone()/> }.into_any()
                        }}
                        <Field id="sso_display_name" name="provider[display_name]" label="Display name" value=p.display_name.clone() required=true
                            hint="Shown on the sign-in button." error=fe("display_name")/>
                        <Field id="sso_issuer" name="provider[issuer]" label="Issuer URL" kind="url" value=p.issuer.clone() required=true
                            hint="Exactly as in the provider's discovery document, e.g. https://login.example.com/realms/main." error=fe("issuer")/>
                        <Field id="sso_client_id" name="provider[client_id]" label="Client ID" value=p.client_id.clone() required=true error=fe("client_id")/>
                        <Field id="sso_client_secret" name="provider[client_secret]" label="Client secret" kind="password" autocomplete="off"
                            hint=if p.has_secret { "Stored (encrypted). Leave empty to keep it." } else { "Leave empty for a public client (PKCE only)." }
                            error=fe("client_secret")/>
                        <Field id="sso_scopes" name="provider[scopes]" label="Scopes" value=p.scopes.clone() error=fe("scopes")/>
                        <fieldset class="group">
                            <legend>"Claim mapping"</legend>
                            <Field id="sso_username_claim" name="provider[username_claim]" label="Username claim" value=p.username_claim.clone() error=fe("username_claim")/>
                            <Field id="sso_email_claim" name="provider[email_claim]" label="Email claim" value=p.email_claim.clone() error=fe("email_claim")/>
                            <Field id="sso_name_claim" name="provider[name_claim]" label="Full name claim" value=p.name_claim.clone() error=fe("name_claim")/>
                        </fieldset>
                        <div class="field">
                            <label for="sso_auto_create">"Unknown people"</label>
                            <select id="sso_auto_create" name="provider[auto_create]">
                                <option value="false" selected=!p.auto_create>"Refused (only linked accounts sign in)"</option>
                                <option value="true" selected=p.auto_create>"Get an account on first sign-in"</option>
                            </select>
                        </div>
                        <Field id="sso_org" name="provider[org]" label="Organization for new accounts" value=p.org.clone() error=fe("org")/>
                        <Field id="sso_role" name="provider[role]" label="Role for new accounts" value=p.role.clone() error=fe("role")/>
                        <Field id="sso_domains" name="provider[allowed_domains]" label="Allowed email domains" value=p.allowed_domains.clone()
                            hint="Comma-separated, e.g. example.com. Empty allows any." error=fe("allowed_domains")/>
                        <div class="field">
                            <label for="sso_enabled">"Status"</label>
                            <select id="sso_enabled" name="provider[enabled]">
                                <option value="true" selected=p.enabled>"Enabled"</option>
                                <option value="false" selected=!p.enabled>"Disabled"</option>
                            </select>
                        </div>
                        {form_error(sv, &["slug", "display_name", "issuer", "client_id", "client_secret", "scopes", "username_claim",
                            "email_claim", "name_claim", "org", "role", "allowed_domains"])}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>
                                {if create { "Add provider" } else { "Save provider" }}
                            </button>
                            {(!create).then(|| view! { <a class="button" href="/admin/sso">"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Provider saved."</p> })}
            {move || reauth.get().then(|| view! {
                <SudoPrompt on_done=move |_| reauth.set(false)/>
            })}
            {move || (!reauth.get() && (sv.with(needs_reauth) || dv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
    }
            }</Show>
        </Transition>
    }
    .into_any()
}

/// Profile -> Linked providers: link (through the provider, sudo mode) and unlink. Both are
/// forms: posted before the WASM arrives, linking leaves for the provider and unlinking comes
/// back to this page with its outcome.
#[component]
pub fn LinkedProvidersSection() -> AnyView {
    let link = ServerAction::<BeginSsoLink>::new();
    let unlink = ServerAction::<UnlinkSso>::new();
    let unlink_ok = super::forms::successes(unlink);
    let list = json_resource(move || unlink_ok.get(), |_| linked_providers());
    let query = use_query_map();
    // The provider a form posted before the WASM arrived named, and whether it came back asking
    // for a fresh sign-in (the prompt then opens as the page loads).
    let posted_link = typed::<BeginSsoLink>("slug");
    let posted_unlink = typed::<UnlinkSso>("slug");
    let asked =
        posted_link.clone().filter(|_| posted_needs_reauth(name_of::<BeginSsoLink>())).map(|s| (true, s)).or_else(
            || posted_unlink.clone().filter(|_| posted_needs_reauth(name_of::<UnlinkSso>())).map(|s| (false, s)),
        );
    // The last provider acted on, and (after a sudo refusal) the action to repeat:
    // (true: link, false: unlink, slug).
    let last = RwSignal::new(posted_unlink.clone().or(posted_link).unwrap_or_default());
    let pending = RwSignal::new(asked);
    let lv = outcome(link);
    let uv = outcome(unlink);
    let unlinked = succeeded(unlink);
    // A refused unlink posted before the WASM arrived: its dialog opens with the reason.
    let refused_unlink = posted_unlink.filter(|_| uv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e))));
    Effect::new(move |_| {
        if let Some(Ok(_url)) = link.value().get() {
            #[cfg(feature = "hydrate")]
            {
                let _ = window().location().set_href(&_url);
            }
        }
        if link.value().with(needs_reauth) {
            pending.set(Some((true, last.get_untracked())));
        } else if unlink.value().with(needs_reauth) {
            pending.set(Some((false, last.get_untracked())));
        }
    });
    let retry = move |_| {
        if let Some((is_link, slug)) = pending.get_untracked() {
            pending.set(None);
            if is_link {
                link.dispatch(BeginSsoLink { slug });
            } else {
                unlink.dispatch(UnlinkSso { slug });
            }
        }
    };
    let done = Signal::derive(move || matches!(unlink.value().get(), Some(Ok(()))));
    view! {
        <section class="card" aria-labelledby="linked-title">
            <h2 id="linked-title">"Linked sign-in providers"</h2>
            <SsoError/>
            {move || query.with(|q| q.get("sso_linked")).map(|_| view! { <p class="alert ok" role="status">"Provider linked. You can now sign in with it."</p> })}
            {move || unlinked.get().then(|| view! { <p class="alert ok" role="status">"Provider unlinked."</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(ps) if ps.is_empty() => view! { <p class="muted">"No single sign-on providers are set up."</p> }.into_any(),
                    Ok(ps) => view! {
                        <ul class="linked">
                            {ps.into_iter().map(|p| {
                                let slug = p.slug.clone();
                                let name = p.display_name.clone();
                                let dialog = format!("unlink-{slug}");
                                match p.linked_at {
                                    Some(at) => {
                                        let open = refused_unlink.as_deref() == Some(slug.as_str());
                                        let (mine, s2) = (slug.clone(), slug.clone());
                                        view! {
                                            <li>
                                                <strong>{p.display_name.clone()}</strong>
                                                <span class="muted">{format!(" linked {}{}", format_time(at), p.email.as_ref().map(|e| format!(" as {e}")).unwrap_or_default())}</span>
                                                <ConfirmDialog id=dialog.clone() trigger="Unlink" trigger_label=format!("Unlink {name}")
                                                    title=format!("Unlink {name}?") done open=Signal::stored(open)>
                                                    <p>{format!("You can no longer sign in with {name}. You can link it again later.")}</p>
                                                    <ActionForm action=unlink>
                                                        <input type="hidden" name="slug" value=slug.clone()/>
                                                        {move || (last.get() == mine && !uv.with(needs_reauth)).then(form_error(uv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger" on:click=move |_| last.set(s2.clone())>"Unlink provider"</button>
                                                            <CancelButton of=dialog.clone()/>
                                                        </div>
                                                    </ActionForm>
                                                </ConfirmDialog>
                                            </li>
                                        }.into_any()
                                    }
                                    None => view! {
                                        <li>
                                            <strong>{p.display_name.clone()}</strong>
                                            <span class="muted">" not linked"</span>
                                            <ActionForm action=link attr:class="inline">
                                                <input type="hidden" name="slug" value=slug.clone()/>
                                                <button type="submit" aria-label=format!("Link {name}")
                                                    on:click=move |_| last.set(slug.clone())>"Link"</button>
                                            </ActionForm>
                                        </li>
                                    }.into_any(),
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || (!lv.with(needs_reauth)).then(|| form_error(lv, &[])())}
            {move || pending.get().map(|_| view! { <SudoPrompt on_done=retry/> })}
        </section>
    }
    .into_any()
}
