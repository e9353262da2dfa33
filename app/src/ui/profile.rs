//! The signed-in account's own page: name, email, password, security (2FA), tokens.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{outcome, succeeded};
use super::{field_error, form_error, ErrorBox, Field, Session};
use crate::api::profile::{ChangePassword, RemoveAvatar, UpdateProfile};
use crate::domain::avatar::AvatarError;
use crate::domain::Error;
use crate::ui::json::json_resource;

#[component]
pub fn ProfilePage() -> AnyView {
    let session = expect_context::<Session>();
    let update = ServerAction::<UpdateProfile>::new();
    let change = ServerAction::<ChangePassword>::new();
    let uv = outcome(update);
    let cv = outcome(change);
    let saved = succeeded(update);
    let changed = succeeded(change);
    let rules = json_resource(|| (), |_| crate::api::users::password_rules());
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            session.refresh();
        }
    });
    view! {
        <section class="card">
            <h1>"Your profile"</h1>
            <super::security::ReauthDone/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || session.me.get().map(|me| match me {
                    Ok(Some(me)) => view! {
                        <p class="muted">"Username: " <strong>{me.username.clone()}</strong></p>
                        <ActionForm action=update attr:novalidate=true>
                            <Field id="full_name" label="Full name" value=me.full_name.clone() autocomplete="name"
                                error=Signal::derive(field_error(uv, "full_name"))/>
                            <Field id="email" label="Email" kind="email" value=me.email.clone() autocomplete="email" hint="Optional."
                                error=Signal::derive(field_error(uv, "email"))/>
                            <button type="submit" class="primary">"Save profile"</button>
                            // (below the button: it stays under the pointer)
                            {form_error(uv, &["full_name", "email"])}
                            {move || saved.get().then(|| view! { <p class="alert ok after" role="status">"Profile saved."</p> })}
                        </ActionForm>
                    }.into_any(),
                    Ok(None) => view! { <ErrorBox error=Error::Unauthenticated/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="card">
            <h2>"Change password"</h2>
            <Transition fallback=|| ()>
            <ActionForm action=change attr:novalidate=true>
                <Field id="current_password" label="Current password" kind="password" autocomplete="current-password" required=true
                    error=Signal::derive(field_error(cv, "current_password"))/>
                <Field id="new_password" label="New password" kind="password" autocomplete="new-password" required=true
                    hint=Signal::derive(move || rules.get().and_then(|r| r.ok()).unwrap_or_default())
                    error=Signal::derive(field_error(cv, "new_password"))/>
                <button type="submit" class="primary">"Change password"</button>
                {form_error(cv, &["current_password", "new_password"])}
                {move || changed.get().then(|| view! {
                    <p class="alert ok after" role="status">"Password changed. Your other sessions were signed out."</p>
                })}
            </ActionForm>
            </Transition>
        </section>
        // (signed-out visitors get the one sign-in message above, not one per section)
        <Transition fallback=|| ()>
        <Show when=move || session.current().is_some()>
            <AvatarSection/>
            <super::security::SecuritySection/>
            <super::sso::LinkedProvidersSection/>
            <super::tokens::TokensSection/>
        </Show>
        </Transition>
    }
    .into_any()
}

/// Profile -> Picture: a plain multipart form (the server answers with a redirect back here,
/// `?avatar=saved` or `?avatar_error=CODE`), and removal.
#[component]
fn AvatarSection() -> AnyView {
    let session = expect_context::<Session>();
    let remove = ServerAction::<RemoveAvatar>::new();
    let query = leptos_router::hooks::use_query_map();
    let username = move || session.current().map(|m| m.username).unwrap_or_default();
    // (the picture URL changes after a removal, so the browser asks again)
    let src = move || format!("/api/v1/users/{}/avatar?v={}", super::enc(&username()), remove.version().get());
    let rv: Signal<_> = remove.value().into();
    view! {
        <section class="card" aria-labelledby="avatar-title">
            <h2 id="avatar-title">"Picture"</h2>
            <div class="avatar-row">
                <img class="avatar" src=src alt="Your picture" width="96" height="96"/>
                <form method="post" action="/profile/avatar" enctype="multipart/form-data" class="avatar-form">
                    <div class="field">
                        <label for="avatar">"New picture"</label>
                        <input id="avatar" name="avatar" type="file" accept="image/png,image/jpeg,image/webp" required=true
                            aria-describedby="avatar-hint"/>
                        <p class="hint" id="avatar-hint">"PNG, JPEG or WebP, at most 1 MB. It is cropped to a square."</p>
                    </div>
                    <div class="buttons">
                        <button type="submit" class="primary">"Upload picture"</button>
                    </div>
                </form>
                <ConfirmDialog id="remove-avatar" trigger="Remove picture" trigger_class="secondary" title="Remove your picture?"
                    done=Signal::derive(move || matches!(remove.value().get(), Some(Ok(()))))>
                    <p>"Your initial is shown instead. You can upload a picture again at any time."</p>
                    <ActionForm action=remove>
                        <div class="buttons">
                            <button type="submit" class="danger">"Remove picture"</button>
                            <CancelButton of="remove-avatar"/>
                        </div>
                    </ActionForm>
                </ConfirmDialog>
            </div>
            {move || query.with(|q| q.get("avatar_error")).and_then(|c| AvatarError::from_code(&c)).map(|e| view! {
                <div class="alert error" role="alert">{e.to_string()}</div>
            })}
            {move || query.with(|q| q.get("avatar")).filter(|v| v == "saved").map(|_| view! {
                <p class="alert ok" role="status">"Picture saved."</p>
            })}
            {move || matches!(remove.value().get(), Some(Ok(()))).then(|| view! { <p class="alert ok" role="status">"Picture removed."</p> })}
            {form_error(rv, &[])}
        </section>
    }
    .into_any()
}
