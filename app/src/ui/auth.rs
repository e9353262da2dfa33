//! Sign-in and first-run sign-up.
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::forms::{Fields, PostForm};
use super::{field_error, form_error, Field, Session};
use crate::api::auth::{pending_second_factor, sign_up_open, SignIn, SignInCode, SignUp};
use crate::api::passkeys::{
    begin_passkey_second_factor, begin_passkey_sign_in, finish_passkey_second_factor, finish_passkey_sign_in,
};
use crate::domain::security::SignInStep;
use crate::ui::json::json_resource;

#[component]
pub fn SignInPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let action = ServerAction::<SignIn>::new();
    let code = ServerAction::<SignInCode>::new();
    let navigate = use_navigate();
    // Everyone lands on the same home (the same page a form posted before the WASM arrives
    // is sent to), once the session has reloaded (home sends signed-out visitors here).
    let signed_in = RwSignal::new(false);
    let go = move |_super_admin: bool| {
        session.refresh();
        signed_in.set(true);
    };
    // An application's sign-in sent the person here (`?continue=1`): once signed in, they go
    // back to it through `/signed-in` (a page load: it follows the return cookie).
    let query = leptos_router::hooks::use_query_map();
    let continuing = move || query.with_untracked(|q| q.get_str("continue").is_some());
    Effect::new(move |_| {
        if signed_in.get() && session.current().is_some() {
            signed_in.set(false);
            if continuing() {
                #[cfg(feature = "hydrate")]
                {
                    let _ = window().location().set_href("/signed-in");
                }
            } else {
                navigate("/", Default::default());
            }
        }
    });
    let (go2, go3) = (go, go);
    Effect::new(move |_| {
        if let Some(Ok(SignInStep::Done(me))) = action.value().get() {
            go(me.super_admin);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(me)) = code.value().get() {
            go2(me.super_admin);
        }
    });
    // The second step follows a password here, or a single sign-on that redirected back
    // with `?step=second-factor` (the challenge is in a cookie; the server says what is due).
    // (asked on the server too: the code form works before the WASM arrives)
    let pending = json_resource(
        move || query.with(|q| q.get_str("step") == Some("second-factor")),
        |due| async move {
            if due {
                pending_second_factor().await.ok().flatten()
            } else {
                None
            }
        },
    );
    let step = move || match action.value().get() {
        Some(Ok(s @ SignInStep::SecondFactor { .. })) => Some(s),
        _ => pending.get().flatten(),
    };
    let second = move || matches!(step(), Some(SignInStep::SecondFactor { .. }));
    let has_passkey = move || matches!(step(), Some(SignInStep::SecondFactor { passkey: true, .. }));
    let has_totp = move || matches!(step(), Some(SignInStep::SecondFactor { totp: true, .. }));
    // Passkey ceremonies run in the browser (not Send): local tasks, results in signals.
    let pk_error = RwSignal::new(None::<String>);
    let pk_busy = RwSignal::new(false);
    let pk_signed_in = RwSignal::new(None::<bool>);
    Effect::new(move |_| {
        if let Some(super_admin) = pk_signed_in.get() {
            go3(super_admin);
        }
    });
    let done = move |r: Result<crate::domain::users::Me, String>| {
        pk_busy.set(false);
        match r {
            Ok(me) => pk_signed_in.set(Some(me.super_admin)),
            Err(e) => pk_error.set(Some(e)),
        }
    };
    let sign_in_with_passkey = move |_| {
        pk_error.set(None);
        pk_busy.set(true);
        leptos::task::spawn_local(async move {
            let r = async {
                let c = begin_passkey_sign_in().await.map_err(|e| e.to_string())?;
                let cred = super::webauthn::get(&c.options).await?;
                finish_passkey_sign_in(c.ceremony, cred).await.map_err(|e| e.to_string())
            }
            .await;
            done(r);
        });
    };
    let second_with_passkey = move |_| {
        pk_error.set(None);
        pk_busy.set(true);
        leptos::task::spawn_local(async move {
            let r = async {
                let c = begin_passkey_second_factor().await.map_err(|e| e.to_string())?;
                let cred = super::webauthn::get(&c.options).await?;
                finish_passkey_second_factor(c.ceremony, cred).await.map_err(|e| e.to_string())
            }
            .await;
            done(r);
        });
    };
    let pk_alert = move || pk_error.get().map(|e| view! { <div class="alert error" role="alert">{e}</div> });
    let open = json_resource(|| (), |_| sign_up_open());
    let value = super::forms::outcome(action);
    let cv = super::forms::outcome(code);
    let typed_login = super::forms::posted_value(super::forms::name_of::<SignIn>(), "login");
    // (an application that knows who is signing in says so: OpenID Connect's `login_hint`)
    let login_hint = move || query.with_untracked(|q| q.get_str("login").map(str::to_string));
    view! {
        <Transition fallback=|| ()>
        <Show when=second>
            <section class="card narrow">
                <h1>"Two-factor authentication"</h1>
                <Show when=has_passkey>
                    <p><button type="button" class="primary" disabled=move || pk_busy.get() on:click=second_with_passkey>"Use a passkey"</button></p>
                    {pk_alert}
                </Show>
                // (recovery codes come with TOTP: an account with passkeys only has none)
                <Show when=has_totp>
                    <PostForm action=code input={|f: &Fields| SignInCode { code: f.get("code") }} attr:novalidate=true>
                        <Field id="code" label="Authentication code" autocomplete="one-time-code" required=true
                            hint="The 6-digit code from your authenticator app, or one of your recovery codes."
                            error=Signal::derive(field_error(cv, "code"))/>
                        {form_error(cv, &["code"])}
                        <button type="submit" class=move || if has_passkey() { "" } else { "primary" } disabled=move || code.pending().get()>"Verify"</button>
                    </PostForm>
                </Show>
                <p class="muted"><a href="/sign-in">"Start over"</a></p>
            </section>
        </Show>
        <Show when=move || !second()>
        <section class="card narrow">
            <h1>"Sign in to Roster"</h1>
            <super::sso::SsoError/>
            <PostForm action=action input={|f: &Fields| SignIn { login: f.get("login"), password: f.get("password") }} attr:novalidate=true>
                <Field id="login" label="Username or email" autocomplete="username" required=true
                    value=typed_login.get_untracked().or_else(login_hint) error=Signal::derive(|| None)/>
                <Field id="password" label="Password" kind="password" autocomplete="current-password" required=true error=Signal::derive(|| None)/>
                {form_error(value, &[])}
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
            </PostForm>
            <div class="or"><span>"or"</span></div>
            <button type="button" class="passkey" disabled=move || pk_busy.get() on:click=sign_in_with_passkey>"Sign in with a passkey"</button>
            {pk_alert}
            <super::sso::SsoButtons/>
            <Suspense fallback=|| ()>
                {move || open.get().and_then(|r| r.ok()).filter(|o| *o).map(|_| view! {
                    <p class="muted">"No account exists yet. " <a href="/sign-up">"Create the first account"</a></p>
                })}
            </Suspense>
        </section>
        </Show>
        </Transition>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let action = ServerAction::<SignUp>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            session.refresh();
        }
    });
    // Home once the session has reloaded (home sends signed-out visitors to sign in).
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) && session.current().is_some() {
            navigate("/", Default::default());
        }
    });
    let open = json_resource(|| (), |_| sign_up_open());
    let rules = json_resource(|| (), |_| crate::api::users::password_rules());
    let value = super::forms::outcome(action);
    let fe = move |f: &'static str| Signal::derive(field_error(value, f));
    view! {
        <section class="card narrow">
            <h1>"Create the first account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || open.get().map(|r| match r {
                    Ok(true) => view! {
                        <p class="muted">"This account becomes the super admin. After it exists, self sign-up closes."</p>
                        <ActionForm action=action attr:novalidate=true>
                            <Field id="username" label="Username" autocomplete="username" required=true value={super::forms::typed::<SignUp>("username")}
                                hint="Starts with a letter or _; letters, digits and @ _ - ~ ." error=fe("username")/>
                            <Field id="full_name" label="Full name" autocomplete="name" value={super::forms::typed::<SignUp>("full_name")} error=fe("full_name")/>
                            <Field id="email" label="Email" kind="email" autocomplete="email" required=true value={super::forms::typed::<SignUp>("email")} error=fe("email")/>
                            <Field id="password" label="Password" kind="password" autocomplete="new-password" required=true
                                hint=Signal::derive(move || rules.get().and_then(|r| r.ok()).unwrap_or_default()) error=fe("password")/>
                            {form_error(value, &["username", "full_name", "email", "password"])}
                            <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
                        </ActionForm>
                    }.into_any(),
                    Ok(false) => view! {
                        <div class="alert" role="status">
                            <p>"Self sign-up is closed. Ask an administrator to create an account for you."</p>
                            <p><a href="/sign-in">"Go to sign in"</a></p>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <super::ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
