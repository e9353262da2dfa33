//! Profile -> Security: two-factor authentication (enrol with a QR code, recovery codes,
//! turn off), the inline "confirm it is you" prompt of sudo mode, and the admin reset.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, posted_error, posted_ok};
use super::{field_error, form_error, Field};
use crate::api::auth::Reauthenticate;
use crate::api::security::{
    get_security_status, resume_totp, BeginTotp, ConfirmTotp, DisableTwoFactor, RegenerateRecoveryCodes, ResetTwoFactor,
};
use crate::domain::policy::Denied;
use crate::domain::Error;
use crate::ui::json::{json_resource, JsonResource};

/// Whether an error asks for a fresh sign-in.
pub fn is_reauth(e: &Error) -> bool {
    matches!(e, Error::Forbidden(Denied::ReauthRequired))
}

/// Whether an action's last answer asks for a fresh sign-in.
pub fn needs_reauth<T>(v: &Option<Result<T, Error>>) -> bool {
    matches!(v, Some(Err(e)) if is_reauth(e))
}

/// "Confirm it is you": the password again (or a current code), inline. `on_done` runs once
/// the server accepted it, typically repeating the action that asked for it.
#[component]
pub fn SudoPrompt(#[prop(into)] on_done: Callback<()>) -> AnyView {
    let action = ServerAction::<Reauthenticate>::new();
    let value: Signal<_> = action.value().into();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_done.run(());
        }
    });
    view! {
        <div class="sudo" role="group" aria-labelledby="sudo-title">
            <h3 id="sudo-title">"Confirm it is you"</h3>
            <p class="muted">"This change needs a recent sign-in. Enter your password to continue."</p>
            <ActionForm action=action attr:novalidate=true>
                <Field id="sudo_password" name="password" label="Your password" kind="password" autocomplete="current-password" required=true
                    error=Signal::derive(move || field_error(value, "password")().or_else(field_error(value, "code")))/>
                {form_error(value, &["password", "code"])}
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Confirm"</button>
            </ActionForm>
        </div>
    }
    .into_any()
}

/// After a "confirm it is you" form posted before the WASM arrived: the prompt is gone with
/// the page, so say what to do next (the change it asked for is not repeated by itself).
#[component]
pub fn ReauthDone() -> impl IntoView {
    let done = posted_ok(name_of::<Reauthenticate>());
    move || {
        done.get().then(|| {
            view! { <p class="alert ok" role="status">"Thank you, it is you. Now make the change again."</p> }
        })
    }
}

/// Whether a form of `name` posted before the WASM arrived was refused for want of a recent
/// sign-in (the page then opens the prompt as it loads).
pub fn posted_needs_reauth(name: &'static str) -> bool {
    posted_error(name).get_untracked().is_some_and(|e| is_reauth(&e))
}

/// A secret key as people copy it by hand: groups of four (authenticator apps ignore the
/// spaces).
pub fn group_in_fours(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// The QR code SVG without its XML prolog, for embedding in the page.
fn svg_body(svg: &str) -> String {
    svg.find("<svg").map(|i| svg[i..].to_string()).unwrap_or_default()
}

#[component]
pub fn SecuritySection() -> AnyView {
    let begin = ServerAction::<BeginTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let status = json_resource(
        move || (confirm.version().get(), disable.version().get(), regenerate.version().get()),
        |_| get_security_status(),
    );
    // (created here, not inside the status Transition: the server and the browser must create
    // resources in the same order)
    let passkeys_version = RwSignal::new(0u32);
    let passkeys = json_resource(move || passkeys_version.get(), |_| crate::api::passkeys::list_passkeys());
    // An enrolment begun by a form posted before the WASM arrived (or refused a wrong code
    // that way): the page has no answer of `begin_totp`, so it asks for the enrolment again.
    let resume_wanted = posted_ok(name_of::<BeginTotp>()).get_untracked()
        || posted_error(name_of::<ConfirmTotp>()).get_untracked().is_some();
    let resumed = json_resource(
        || (),
        move |_| async move {
            if resume_wanted {
                resume_totp().await.ok().flatten()
            } else {
                None
            }
        },
    );
    // Which action asked for a fresh sign-in, to repeat it afterwards (also when a form
    // posted before the WASM arrived was refused for it).
    let asked = [
        (name_of::<BeginTotp>(), "begin"),
        (name_of::<RegenerateRecoveryCodes>(), "regenerate"),
        (name_of::<DisableTwoFactor>(), "disable"),
    ]
    .into_iter()
    .find(|(n, _)| posted_needs_reauth(n))
    .map(|(_, what)| what);
    let pending = RwSignal::new(asked);
    Effect::new(move |_| {
        if begin.value().with(needs_reauth) {
            pending.set(Some("begin"));
        } else if regenerate.value().with(needs_reauth) {
            pending.set(Some("regenerate"));
        } else if disable.value().with(needs_reauth) {
            pending.set(Some("disable"));
        }
    });
    let retry = move |_| {
        match pending.get_untracked() {
            Some("begin") => {
                begin.dispatch(BeginTotp {});
            }
            Some("regenerate") => {
                regenerate.dispatch(RegenerateRecoveryCodes {});
            }
            Some("disable") => {
                disable.dispatch(DisableTwoFactor {});
            }
            _ => {}
        }
        pending.set(None);
    };
    let cv = super::forms::outcome(confirm);
    let bv = super::forms::outcome(begin);
    let rv = super::forms::outcome(regenerate);
    let dv = super::forms::outcome(disable);
    let disabled_ok = super::forms::succeeded(disable);
    let confirmed_natively = posted_ok(name_of::<ConfirmTotp>());
    let codes_from_confirm = super::forms::shown_once::<ConfirmTotp>();
    let codes_from_regen = super::forms::shown_once::<RegenerateRecoveryCodes>();
    // Recovery codes to show once: from confirming enrolment or regenerating.
    let codes = Signal::derive(move || {
        let from_confirm = confirm.value().get().and_then(|r| r.ok()).or_else(|| codes_from_confirm.get());
        let from_regen = regenerate.value().get().and_then(|r| r.ok()).or_else(|| codes_from_regen.get());
        // The most recent of the two (versions tell which ran last).
        if regenerate.version().get() > 0 && from_regen.is_some() && confirm.version().get() == 0 {
            from_regen
        } else {
            from_regen.or(from_confirm)
        }
    });
    // The codes stay on screen until the person says they saved them (new codes show again).
    let saved_codes = RwSignal::new(false);
    Effect::new(move |_| {
        codes.track();
        saved_codes.set(false);
    });
    let enrolling = move || {
        let begun = match begin.value().get() {
            Some(r) => r.ok(),
            None => resumed.get().flatten(),
        };
        begun.filter(|_| confirm.value().get().is_none_or(|r| r.is_err()) && !confirmed_natively.get())
    };
    let here = leptos_router::hooks::use_location().pathname;
    view! {
        <section class="card" aria-labelledby="security-title">
            <h2 id="security-title">"Security"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || status.get().map(|r| match r {
                    Ok(s) => view! {
                        <dl class="facts">
                            <dt>"Two-factor authentication"</dt>
                            <dd><span class=if s.totp { "badge success" } else { "badge" }>{if s.totp { "On" } else { "Off" }}</span></dd>
                            {s.totp.then(|| view! { <dt>"Recovery codes left"</dt><dd>{s.recovery_codes_left}</dd> })}
                        </dl>
                        <PasskeysPanel available=s.passkeys_available list=passkeys version=passkeys_version/>
                        {(s.two_factor_required && !s.totp).then(|| view! {
                            <p class="alert" role="status">"Your organization requires two-factor authentication. Turn it on now."</p>
                        })}
                        {if s.totp {
                            view! {
                                <div class="buttons">
                                    <ConfirmDialog id="regenerate-codes" trigger="Regenerate recovery codes" trigger_class="secondary"
                                        title="Replace your recovery codes?" done=Signal::derive(move || regenerate.value().with(|v| v.is_some()))>
                                        <p>"You get 10 new codes. The codes you have now stop working at once."</p>
                                        <ActionForm action=regenerate>
                                            <div class="buttons">
                                                <button type="submit" class="danger">"Replace the codes"</button>
                                                <CancelButton of="regenerate-codes"/>
                                            </div>
                                        </ActionForm>
                                    </ConfirmDialog>
                                    <ConfirmDialog id="disable-2fa" trigger="Turn off two-factor authentication"
                                        title="Turn off two-factor authentication?" done=Signal::derive(move || disable.value().with(|v| v.is_some()))>
                                        <p>"Your password alone will sign you in. Your authenticator app and recovery codes stop working; passkeys stay."</p>
                                        <ActionForm action=disable>
                                            <div class="buttons">
                                                <button type="submit" class="danger">"Turn it off"</button>
                                                <CancelButton of="disable-2fa"/>
                                            </div>
                                        </ActionForm>
                                    </ConfirmDialog>
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <Show when=move || enrolling().is_none()>
                                    <ActionForm action=begin>
                                        <button type="submit" class="primary">"Enable two-factor authentication"</button>
                                    </ActionForm>
                                </Show>
                            }.into_any()
                        }}
                    }.into_any(),
                    Err(e) => view! { <super::ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || pending.get().map(|_| view! { <SudoPrompt on_done=retry/> })}
            {move || (!bv.with(needs_reauth)).then(|| form_error(bv, &[])())}
            {move || (!rv.with(needs_reauth)).then(|| form_error(rv, &[])())}
            {move || (!dv.with(needs_reauth)).then(|| form_error(dv, &[])())}
            {move || disabled_ok.get().then(|| view! {
                <p class="alert ok" role="status">"Two-factor authentication is off."</p>
            })}
            <Transition fallback=|| ()>
            {move || enrolling().map(|e| view! {
                <div class="enrol">
                    <h3>"Set up your authenticator app"</h3>
                    <p>"Scan this QR code with an authenticator app (such as FreeOTP, Aegis or Google Authenticator), then enter the code it shows."</p>
                    <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=svg_body(&e.qr_svg)></div>
                    <p>"Cannot scan? Enter this secret key instead:"</p>
                    <p><code class="secret" aria-label="Secret key">{group_in_fours(&e.secret)}</code></p>
                    <details><summary>"Show the setup link"</summary><p><code class="wrap">{e.uri.clone()}</code></p></details>
                    <ActionForm action=confirm attr:novalidate=true>
                        <Field id="code" label="Code from your app" autocomplete="one-time-code" required=true
                            error=Signal::derive(field_error(cv, "code"))/>
                        {form_error(cv, &["code"])}
                        <button type="submit" class="primary" disabled=move || confirm.pending().get()>"Confirm and turn on"</button>
                    </ActionForm>
                </div>
            })}
            </Transition>
            {move || codes.get().filter(|_| !saved_codes.get()).map(|c| {
                let text = c.codes.join("\n");
                let href = format!("data:text/plain;charset=utf-8,{}", super::enc(&format!("Roster recovery codes\n\n{text}\n")));
                view! {
                    <div class="recovery" role="region" aria-label="Recovery codes">
                        <h3>"Your recovery codes"</h3>
                        <p class="alert">"Save these codes somewhere safe. Each works once if you lose your device. They are shown only now."</p>
                        <ul class="codes">{c.codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}</ul>
                        <div class="buttons">
                            <a class="button" href=href download="roster-recovery-codes.txt">"Download codes"</a>
                            <CopyButton text=text label="Copy codes"/>
                        </div>
                        // (a plain link back to the page before the WASM arrives: the codes are not shown again)
                        <form method="get" action=here.get_untracked()
                            on:submit=move |ev| { ev.prevent_default(); saved_codes.set(true); }>
                            <button type="submit" class="primary saved">"I have saved these codes"</button>
                        </form>
                    </div>
                }
            })}
        </section>
    }
    .into_any()
}

/// Copies `text` to the clipboard (in the browser; a no-op during server rendering).
#[component]
pub fn CopyButton(text: String, #[prop(into)] label: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _ = window().navigator().clipboard().write_text(&text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
        copied.set(true);
    };
    view! {
        <button type="button" on:click=on_click>{label}</button>
        <span class="muted" role="status">{move || copied.get().then_some("Copied.")}</span>
    }
}

/// On an account's admin page: turn off its two-factor authentication, with a reason.
#[component]
pub fn TwoFactorReset(username: String) -> AnyView {
    let reset = ServerAction::<ResetTwoFactor>::new();
    let value: Signal<_> = reset.value().into();
    let reauth = RwSignal::new(false);
    let confirmed = RwSignal::new(false);
    Effect::new(move |_| {
        if reset.value().with(needs_reauth) {
            reauth.set(true);
            confirmed.set(false);
        }
    });
    view! {
        <div class="danger-zone">
            <h2>"Two-factor authentication"</h2>
            {move || (matches!(reset.value().get(), Some(Ok(())))).then(|| view! {
                <p class="alert ok" role="status">"Two-factor authentication was reset. The user can sign in with the password alone and set it up again."</p>
            })}
            <Show when=move || reauth.get()>
                <SudoPrompt on_done=move |_| {
                    reauth.set(false);
                    confirmed.set(true);
                }/>
            </Show>
            {move || confirmed.get().then(|| view! { <p class="alert ok" role="status">"Confirmed. Choose Reset again to finish."</p> })}
            <ConfirmDialog id="reset-2fa" trigger="Reset two-factor authentication" title=format!("Reset {username}'s two-factor authentication?")
                done=Signal::derive(move || matches!(reset.value().get(), Some(Ok(()))) || reset.value().with(needs_reauth))>
                <p>{format!("{username}'s authenticator app, recovery codes and passkeys stop working; the password alone signs in until they set them up again.")}</p>
                <ActionForm action=reset attr:novalidate=true>
                    <input type="hidden" name="username" value=username.clone()/>
                    <Field id="reason" label="Reason for the reset" required=true
                        hint="For the audit log, e.g. the ticket number and how the user's identity was checked."
                        error=Signal::derive(field_error(value, "reason"))/>
                    {move || (!value.with(needs_reauth)).then(|| form_error(value, &["reason"])())}
                    <div class="buttons">
                        <button type="submit" class="danger" disabled=move || reset.pending().get()>"Reset two-factor authentication"</button>
                        <CancelButton of="reset-2fa"/>
                    </div>
                </ActionForm>
            </ConfirmDialog>
        </div>
    }
    .into_any()
}

/// Profile -> Security -> Passkeys: add (named), rename, remove.
#[component]
pub fn PasskeysPanel(
    available: bool,
    /// The list (created by the section, outside any Suspense) and what refreshes it.
    list: JsonResource<Result<Vec<crate::domain::passkeys::PasskeyInfo>, Error>>,
    version: RwSignal<u32>,
) -> AnyView {
    use crate::api::passkeys::{
        begin_passkey_registration, delete_passkey, finish_passkey_registration, rename_passkey, DeletePasskey,
        RenamePasskey,
    };
    let name = RwSignal::new(String::new());
    // Renaming and removing are forms that also post before the WASM arrives; what such a
    // post came back with is shown here like the answers the browser gets itself.
    let posted = [name_of::<RenamePasskey>(), name_of::<DeletePasskey>()]
        .into_iter()
        .filter_map(|n| posted_error(n).get_untracked().map(|e| (n, e)))
        .next();
    let removing = super::forms::typed::<DeletePasskey>("id").and_then(|id| id.parse::<i64>().ok());
    let reauth =
        RwSignal::new(removing.filter(|_| posted_needs_reauth(name_of::<DeletePasskey>())).map(PendingPasskey::Remove));
    let error = RwSignal::new(
        posted.filter(|(_, e)| !is_reauth(e)).map(|(_, e)| e.field("name").unwrap_or_else(|| e.to_string())),
    );
    let busy = RwSignal::new(false);
    let added = RwSignal::new(None::<String>);
    let removed = RwSignal::new(posted_ok(name_of::<DeletePasskey>()).get_untracked());
    // Adding a passkey is the browser's WebAuthn ceremony: it needs the page's script, so the
    // button waits for it (effects run only once the page is hydrated).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    // Runs a passkey action; a "confirm it is you" answer opens the prompt and remembers
    // what to repeat.
    let run = move |what: PendingPasskey| {
        error.set(None);
        added.set(None);
        removed.set(false);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r: Result<Option<String>, Error> = match what.clone() {
                PendingPasskey::Add(n) => {
                    async {
                        let c = begin_passkey_registration(n.clone()).await?;
                        let cred =
                            super::webauthn::create(&c.options).await.map_err(|m| Error::invalid("passkey", m))?;
                        let info = finish_passkey_registration(c.ceremony, cred).await?;
                        Ok(Some(info.name))
                    }
                    .await
                }
                PendingPasskey::Remove(id) => delete_passkey(id.to_string()).await.map(|_| {
                    removed.set(true);
                    None
                }),
            };
            busy.set(false);
            match r {
                Ok(done) => {
                    added.set(done);
                    name.set(String::new());
                    version.update(|v| *v += 1);
                }
                Err(Error::Forbidden(Denied::ReauthRequired)) => reauth.set(Some(what)),
                Err(e) => {
                    error.set(Some(e.field("passkey").or_else(|| e.field("name")).unwrap_or_else(|| e.to_string())))
                }
            }
        });
    };
    view! {
        <div class="passkeys" role="group" aria-labelledby="passkeys-title">
            <h3 id="passkeys-title">"Passkeys"</h3>
            {(!available).then(|| view! {
                <p class="muted">"Passkeys are not available: the administrator has to set Roster's public URL."</p>
            })}
            <Transition fallback=|| ()>
                {move || list.get().map(|r| match r {
                    Ok(ps) if ps.is_empty() => view! { <p class="muted">"No passkeys yet."</p> }.into_any(),
                    Ok(ps) => view! {
                        <ul class="passkey-list" aria-label="Your passkeys">
                            {ps.into_iter().map(|p| {
                                let id = p.id;
                                let input_id = format!("passkey-name-{id}");
                                let label = format!("Name of passkey {}", p.name);
                                let remove_label = format!("Remove passkey {}", p.name);
                                let current = RwSignal::new(p.name.clone());
                                view! {
                                    <li>
                                        <form class="inline" method="post" action={<RenamePasskey as leptos::server_fn::ServerFn>::PATH}
                                            on:submit=move |ev| {
                                                ev.prevent_default();
                                                let n = current.get_untracked();
                                                leptos::task::spawn_local(async move {
                                                    match rename_passkey(id.to_string(), n).await {
                                                        Ok(()) => version.update(|v| *v += 1),
                                                        Err(e) => error.set(Some(e.field("name").unwrap_or_else(|| e.to_string()))),
                                                    }
                                                });
                                            }>
                                            <input type="hidden" name="id" value=id.to_string()/>
                                            <label class="sr-only" for=input_id.clone()>{label}</label>
                                            <input id=input_id name="name" type="text" value=current.get_untracked() prop:value=move || current.get()
                                                on:input=move |ev| current.set(event_target_value(&ev))/>
                                            <button type="submit">"Rename"</button>
                                        </form>
                                        <span class="muted">"Added " {crate::domain::users::format_time(p.created_at)}
                                            ", last used " {p.last_used_at.map(crate::domain::users::format_time).unwrap_or_else(|| "never".into())}</span>
                                        // (closes as the removal starts: the outcome shows in the panel, and a
                                        // "confirm it is you" prompt must not open under the modal)
                                        <ConfirmDialog id=format!("remove-passkey-{id}") trigger="Remove" trigger_label=remove_label
                                            title=format!("Remove the passkey {}?", p.name)
                                            done=Signal::derive(move || busy.get())>
                                            <p>"You can no longer sign in with it. Your other ways to sign in stay."</p>
                                            <form method="post" action={<DeletePasskey as leptos::server_fn::ServerFn>::PATH}
                                                on:submit=move |ev| {
                                                    ev.prevent_default();
                                                    run(PendingPasskey::Remove(id));
                                                }>
                                                <input type="hidden" name="id" value=id.to_string()/>
                                                <div class="buttons">
                                                    <button type="submit" class="danger">"Remove passkey"</button>
                                                    <CancelButton of=format!("remove-passkey-{id}")/>
                                                </div>
                                            </form>
                                        </ConfirmDialog>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <super::ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {move || reauth.get().map(|what| view! {
                <SudoPrompt on_done=move |_| { reauth.set(None); run(what.clone()); }/>
            })}
            <form novalidate on:submit=move |ev| { ev.prevent_default(); run(PendingPasskey::Add(name.get_untracked())); }>
                <div class="field">
                    <label for="new_passkey_name">"Passkey name"</label>
                    <input id="new_passkey_name" type="text" placeholder="e.g. Work laptop" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev)) disabled=!available/>
                </div>
                <button type="submit" disabled=move || busy.get() || !available || !hydrated.get()>"Add passkey"</button>
                {available.then(|| view! {
                    <p class="hint no-wasm">"Adding a passkey needs the page's script, which has not loaded (yet)."</p>
                })}
            </form>
            {move || error.get().map(|e| view! { <div class="alert error" role="alert">{e}</div> })}
            {move || added.get().map(|n| view! { <p class="alert ok" role="status">"Passkey " <strong>{n}</strong> " added."</p> })}
            {move || removed.get().then(|| view! { <p class="alert ok" role="status">"Passkey removed."</p> })}
        </div>
    }
    .into_any()
}

/// A passkey action waiting for the "confirm it is you" prompt.
#[derive(Clone, Debug, PartialEq)]
pub enum PendingPasskey {
    Add(String),
    Remove(i64),
}

/// On an account's admin page: lift a sign-in lock-out (too many failed attempts). Shown
/// only while the account is held back.
#[component]
pub fn UnlockUser(
    username: String,
    unlock: ServerAction<crate::api::security::UnlockUser>,
    locked: JsonResource<Result<bool, Error>>,
) -> AnyView {
    let value: Signal<_> = unlock.value().into();
    view! {
        <Transition fallback=|| ()>
            {move || locked.get().map(|r| {
                let username = username.clone();
                r.ok().filter(|l| *l).map(|_| view! {
                    <div class="unlock alert" role="group" aria-label="Sign-in lock-out">
                        <p>"Sign-in is held back after too many failed attempts."</p>
                        <ActionForm action=unlock attr:class="inline">
                            <input type="hidden" name="username" value=username/>
                            <button type="submit" class="secondary">"Unlock sign-in"</button>
                        </ActionForm>
                    </div>
                })
            })}
        </Transition>
        {form_error(value, &[])}
        {move || matches!(unlock.value().get(), Some(Ok(()))).then(|| view! {
            <p class="alert ok" role="status">"Sign-in unlocked: failed attempts were forgotten."</p>
        })}
    }
    .into_any()
}
