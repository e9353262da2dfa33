//! Single sign-on: the sign-in page's provider buttons, the providers admin (Settings ->
//! Single sign-on, super admins) and the profile's linked providers.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use leptos_router::hooks::use_query_map;

use super::security::{needs_reauth, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::sso::{
    linked_providers, list_sso_providers, sso_buttons, BeginSsoLink, DeleteSsoProvider, SaveSsoProvider, UnlinkSso,
};
use crate::domain::sso::{SsoProvider, SsoRefusal};
use crate::domain::users::format_time;
use crate::domain::Error;

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
    let buttons = Resource::new(|| (), |_| sso_buttons());
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
    let list = Resource::new(
        move || (save_ok.get(), delete_ok.get(), admin()),
        |(_, _, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_sso_providers().await
        },
    );
    // The provider in the form: `None` adds a new one.
    let editing = RwSignal::new(None::<SsoProvider>);
    let reauth = RwSignal::new(false);
    let sv: Signal<Option<Result<SsoProvider, Error>>> = save.value().into();
    let dv: Signal<Option<Result<(), Error>>> = delete.value().into();
    Effect::new(move |_| {
        if save.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
        }
    });
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
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
                                    let edit = p.clone();
                                    let slug = p.slug.clone();
                                    let name = p.display_name.clone();
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
                                                <button type="button" aria-label=format!("Edit {name}") on:click=move |_| editing.set(Some(edit.clone()))>"Edit"</button>
                                                <ConfirmDialog id=format!("delete-sso-{slug}") trigger="Delete" trigger_label=format!("Delete {}", p.display_name)
                                                    title=format!("Delete the provider {}?", p.display_name)>
                                                    <p>{format!("The \u{201c}Sign in with {}\u{201d} button goes away and every account's link to it ends. Accounts stay; those with no other way in cannot sign in until an admin sets a password.", p.display_name)}</p>
                                                    <div class="buttons">
                                                        <button type="button" class="danger" commandfor=format!("delete-sso-{slug}") command="close"
                                                            on:click=move |_| { delete.dispatch(DeleteSsoProvider { slug: slug.clone() }); }>"Delete provider"</button>
                                                        <CancelButton of=format!("delete-sso-{}", p.slug)/>
                                                    </div>
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
            {move || (!dv.with(needs_reauth)).then(|| form_error(dv, &[])())}
        </section>
        <section class="card wide" aria-labelledby="sso-form-title">
            {move || {
                let p = editing.get();
                let create = p.is_none();
                let p = p.unwrap_or_else(SsoProvider::new_defaults);
                let title = if create { "Add a provider".to_string() } else { format!("Edit {}", p.display_name) };
                view! {
                    <h2 id="sso-form-title">{title}</h2>
                    <ActionForm action=save attr:novalidate=true>
                        <input type="hidden" name="create" value=create.to_string()/>
                        {if create {
                            view! { <Field id="sso_slug" name="provider[slug]" label="Short name" required=true
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
                            {(!create).then(|| view! { <button type="button" on:click=move |_| editing.set(None)>"Cancel"</button> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="alert ok" role="status">"Provider saved."</p> })}
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

/// Profile -> Linked providers: link (through the provider, sudo mode) and unlink.
#[component]
pub fn LinkedProvidersSection() -> AnyView {
    let link = ServerAction::<BeginSsoLink>::new();
    let unlink = ServerAction::<UnlinkSso>::new();
    let unlink_ok = super::forms::successes(unlink);
    let list = Resource::new(move || unlink_ok.get(), |_| linked_providers());
    let query = use_query_map();
    // The last provider acted on, and (after a sudo refusal) the action to repeat:
    // (true: link, false: unlink, slug).
    let last = RwSignal::new(String::new());
    let pending = RwSignal::new(None::<(bool, String)>);
    let lv: Signal<Option<Result<String, Error>>> = link.value().into();
    let uv: Signal<Option<Result<(), Error>>> = unlink.value().into();
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
    view! {
        <section class="card" aria-labelledby="linked-title">
            <h2 id="linked-title">"Linked sign-in providers"</h2>
            <SsoError/>
            {move || query.with(|q| q.get("sso_linked")).map(|_| view! { <p class="alert ok" role="status">"Provider linked. You can now sign in with it."</p> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(ps) if ps.is_empty() => view! { <p class="muted">"No single sign-on providers are set up."</p> }.into_any(),
                    Ok(ps) => view! {
                        <ul class="linked">
                            {ps.into_iter().map(|p| {
                                let slug = p.slug.clone();
                                let name = p.display_name.clone();
                                match p.linked_at {
                                    Some(at) => view! {
                                        <li>
                                            <strong>{p.display_name.clone()}</strong>
                                            <span class="muted">{format!(" linked {}{}", format_time(at), p.email.as_ref().map(|e| format!(" as {e}")).unwrap_or_default())}</span>
                                            <ConfirmDialog id=format!("unlink-{slug}") trigger="Unlink" trigger_label=format!("Unlink {name}")
                                                title=format!("Unlink {name}?")>
                                                <p>{format!("You can no longer sign in with {name}. You can link it again later.")}</p>
                                                <div class="buttons">
                                                    <button type="button" class="danger" commandfor=format!("unlink-{slug}") command="close"
                                                        on:click=move |_| { last.set(slug.clone()); unlink.dispatch(UnlinkSso { slug: slug.clone() }); }>"Unlink provider"</button>
                                                    <CancelButton of=format!("unlink-{}", p.slug)/>
                                                </div>
                                            </ConfirmDialog>
                                        </li>
                                    }.into_any(),
                                    None => view! {
                                        <li>
                                            <strong>{p.display_name.clone()}</strong>
                                            <span class="muted">" not linked"</span>
                                            <button type="button" aria-label=format!("Link {name}")
                                                on:click=move |_| { last.set(slug.clone()); link.dispatch(BeginSsoLink { slug: slug.clone() }); }>"Link"</button>
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
            {move || (!uv.with(needs_reauth)).then(|| form_error(uv, &[])())}
            {move || pending.get().map(|_| view! { <SudoPrompt on_done=retry/> })}
        </section>
    }
    .into_any()
}
