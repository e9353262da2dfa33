//! Invitations: the current organization's invitation links (invite an email address with a
//! role; re-send; withdraw behind a question), and the page an invitation link opens
//! (`/invite/{token}`): what it is for, then a form that creates the account (or joins with
//! the signed-in one). Opening the page changes nothing; only its form's POST uses the link.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, shown_once, succeeded, typed};
use super::security::{needs_reauth, posted_needs_reauth, CopyButton, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field, Session};
use crate::api::invitations::{
    begin_invitation_passkey, finish_invitation_passkey, list_invitations, preview_invitation, AcceptInvitation,
    CreateInvitation, JoinInvitation, ResendInvitation, RevokeInvitation,
};
use crate::api::roles::role_matrix;
use crate::domain::abilities::Ability;
use crate::domain::invitations::{InvitationLink, InvitationStatus};
use crate::domain::users::format_time;
use crate::domain::Error;
use crate::ui::json::json_resource;

const FIELDS: [&str; 3] = ["email", "role", "days"];

/// The link of a new or re-sent invitation, while it is shown (once), or word that it was
/// mailed.
#[component]
fn NewLink(answer: InvitationLink) -> impl IntoView {
    let i = answer.invitation;
    match answer.link {
        None => view! {
            <p class="alert ok" role="status">{format!("Invitation mailed to {}.", i.email)}</p>
        }
        .into_any(),
        Some(link) => view! {
            <div class="new-token" role="region" aria-label="Invitation link">
                <p class="alert">{format!("Send this link to {} yourself: it will not be shown again.", i.email)}</p>
                {answer.delivery.map(|d| view! { <p class="hint">{d}</p> })}
                <div class="field">
                    <label for="invitation_link">"Invitation link"</label>
                    <input id="invitation_link" type="text" readonly value=link.clone()/>
                </div>
                <CopyButton text=link label="Copy link"/>
                <p class="hint">{format!("It works once, until {}.", format_time(i.expires_at))}</p>
            </div>
        }
        .into_any(),
    }
}

#[component]
pub fn InvitationsPage() -> AnyView {
    let session = expect_context::<Session>();
    let create = ServerAction::<CreateInvitation>::new();
    let resend = ServerAction::<ResendInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let me = move || session.me.get().and_then(|r| r.ok()).flatten();
    let may = move || me().map(|m| m.can(Ability::CreateUsers));
    let org_name = move || me().and_then(|m| m.org.map(|o| o.name)).unwrap_or_default();
    let create_ok = super::forms::successes(create);
    let resend_ok = super::forms::successes(resend);
    let revoke_ok = super::forms::successes(revoke);
    let list = json_resource(
        move || (create_ok.get(), resend_ok.get(), revoke_ok.get(), may()),
        |(_, _, _, may)| async move {
            if may != Some(true) {
                return Err(super::not_for_you());
            }
            list_invitations().await
        },
    );
    let roles = json_resource(may, |may| async move {
        if may != Some(true) {
            return Err(super::not_for_you());
        }
        role_matrix().await
    });
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<CreateInvitation>()) || posted_needs_reauth(name_of::<ResendInvitation>()),
    );
    Effect::new(move |_| {
        if create.value().with(needs_reauth) || resend.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    let cv = outcome(create);
    let sv = outcome(resend);
    let rv = outcome(revoke);
    let revoked = Signal::derive(move || matches!(revoke.value().get(), Some(Ok(_))));
    let revoked_any = succeeded(revoke);
    let posted_create = shown_once::<CreateInvitation>();
    let posted_resend = shown_once::<ResendInvitation>();
    let fresh = Signal::derive(move || {
        let ok = |v: Option<Result<InvitationLink, _>>| v.and_then(|r| r.ok());
        ok(resend.value().get())
            .or_else(|| ok(create.value().get()))
            .or_else(|| posted_resend.get())
            .or_else(|| posted_create.get())
    });
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |first: Option<()>| {
        create_ok.track();
        if first.is_some() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
    let fe = move |f: &'static str| Signal::derive(field_error(cv, f));
    let typed_email = StoredValue::new(typed::<CreateInvitation>("email"));
    let typed_role = StoredValue::new(typed::<CreateInvitation>("role"));
    let typed_days = StoredValue::new(typed::<CreateInvitation>("days").or_else(|| Some("7".to_string())));
    view! {
        <Transition fallback=|| ()>
            <Show when=move || may() != Some(false) fallback=|| view! {
                <super::NotForYou what="Invitations are made by those who may create accounts in the organization."/>
            }>{
                view! {
        <p><A href="/members">"← Members"</A></p>
        <section class="card wide" aria-labelledby="invitations-title">
            <h1 id="invitations-title">{move || format!("Invitations to {}", org_name())}</h1>
            <p class="muted">"Invite someone by email with a role: the link works once and expires. Opening it shows what it is "
                "for; the person then sets a password (or, when signed in already, joins with their account) and lands here. "
                "Nobody gets more than you may give, checked again when the link is used."</p>
            {move || fresh.get().map(|answer| view! { <NewLink answer=answer/> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p>"No invitations yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap cards">
                        <table>
                            <caption class="sr-only">"Invitations"</caption>
                            <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Status"</th>
                                <th scope="col">"Invited by"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|i| {
                                    let status = match i.status {
                                        InvitationStatus::Pending => format!("Pending until {}", format_time(i.expires_at)),
                                        InvitationStatus::Expired => format!("Expired on {}", format_time(i.expires_at)),
                                        InvitationStatus::Accepted => format!("Accepted by {}", i.accepted_by.clone().unwrap_or_default()),
                                        InvitationStatus::Revoked => "Withdrawn".to_string(),
                                    };
                                    let open = matches!(i.status, InvitationStatus::Pending | InvitationStatus::Expired);
                                    let pending = i.status == InvitationStatus::Pending;
                                    let dialog = format!("revoke-invitation-{}", i.id);
                                    let (id1, id2) = (i.id.to_string(), i.id.to_string());
                                    let email = i.email.clone();
                                    let extras = i.abilities.codes().join(", ");
                                    view! {
                                        <tr>
                                            <th scope="row" data-label="Email">{i.email.clone()}</th>
                                            <td data-label="Role">{i.role.clone()}
                                                {(!extras.is_empty()).then(|| view! { <span class="hint block">{format!("+ {extras}")}</span> })}</td>
                                            <td data-label="Status">{status}</td>
                                            <td data-label="Invited by">{i.invited_by.clone()}</td>
                                            <td class="actions">
                                                {open.then(|| view! {
                                                    <ActionForm action=resend attr:class="in-cell">
                                                        <input type="hidden" name="id" value=id1/>
                                                        <button type="submit" class="secondary" aria-label=format!("Send a new link to {email}")>"New link"</button>
                                                    </ActionForm>
                                                })}
                                                {pending.then(|| {
                                                    let email = i.email.clone();
                                                    view! {
                                                        <ConfirmDialog id=dialog.clone() trigger="Withdraw" trigger_label=format!("Withdraw the invitation of {email}")
                                                            title=format!("Withdraw the invitation of {email}?") done=revoked>
                                                            <p>{format!("The link sent to {email} stops working at once; {email} will not join unless invited again.")}</p>
                                                            <ActionForm action=revoke>
                                                                <input type="hidden" name="id" value=id2/>
                                                                {form_error(rv, &[])}
                                                                <div class="buttons">
                                                                    <button type="submit" class="danger">"Withdraw invitation"</button>
                                                                    <CancelButton of=dialog.clone()/>
                                                                </div>
                                                            </ActionForm>
                                                        </ConfirmDialog>
                                                    }
                                                })}
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
            {move || (!sv.with(needs_reauth)).then(form_error(sv, &[])).flatten()}
            {move || revoked_any.get().then(|| view! { <p class="alert ok" role="status">"Invitation withdrawn."</p> })}
        </section>
        <section class="card wide" aria-labelledby="invite-form-title">
            <h2 id="invite-form-title">"Invite someone"</h2>
            <ActionForm action=create node_ref=form attr:novalidate=true>
                <Field id="invite_email" name="email" label="Email" kind="email" required=true value=typed_email.get_value()
                    error=fe("email")/>
                <div class="field">
                    <label for="invite_role">"Role"</label>
                    <select id="invite_role" name="role" aria-invalid=move || fe("role").get().map(|_| "true")>
                        <option value="">"Choose a role"</option>
                        {move || roles.get().and_then(|r| r.ok()).map(|m| m.roles.into_iter().map(|r| {
                            let chosen = typed_role.get_value().as_deref() == Some(r.id.to_string().as_str());
                            view! { <option value=r.id.to_string() selected=chosen>{r.name}</option> }
                        }).collect_view())}
                    </select>
                    {move || fe("role").get().map(|e| view! { <p class="field-error">{e}</p> })}
                </div>
                <Field id="invite_days" name="days" kind="number" label="Days the link works"
                    value=typed_days.get_value()
                    hint="1 to 30." error=fe("days")/>
                <super::AbilityChoices prefix="invite-extra" name="extras[]"/>
                {move || (!cv.with(needs_reauth)).then(form_error(cv, &FIELDS)).flatten()}
                <div class="buttons">
                    <button type="submit" class="primary" disabled=move || create.pending().get()>"Send invitation"</button>
                </div>
            </ActionForm>
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=move |_| reauth.set(false)/> })}
            {move || (!reauth.get() && (cv.with(needs_reauth) || sv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
                }
            }</Show>
        </Transition>
    }
    .into_any()
}

/// The page an invitation link opens.
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let session = expect_context::<Session>();
    let accept = ServerAction::<AcceptInvitation>::new();
    let join = ServerAction::<JoinInvitation>::new();
    let preview = json_resource(token, |t| async move { preview_invitation(t).await });
    let navigate = use_navigate();
    // A passkey instead of a password: the browser's WebAuthn ceremony, so only once the
    // page's script runs (effects run only once the page is hydrated).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let pk_busy = RwSignal::new(false);
    let pk_error = RwSignal::new(None::<String>);
    let pk_done = RwSignal::new(false);
    let form = NodeRef::<leptos::html::Form>::new();
    let with_passkey = move |_| {
        let Some(f) = form.get_untracked() else { return };
        let fields = super::forms::Fields::of_form(&f);
        let (username, full_name) = (fields.get("username"), fields.get("full_name"));
        let t = token();
        pk_error.set(None);
        pk_busy.set(true);
        leptos::task::spawn_local(async move {
            let r = async {
                let c = begin_invitation_passkey(t.clone(), username, full_name).await?;
                let cred = super::webauthn::create(&c.options).await.map_err(|m| Error::invalid("passkey", m))?;
                finish_invitation_passkey(t, c.ceremony, cred).await
            }
            .await;
            pk_busy.set(false);
            match r {
                Ok(_) => pk_done.set(true),
                Err(e) => pk_error.set(Some(
                    e.field("username")
                        .or_else(|| e.field("full_name"))
                        .or_else(|| e.field("passkey"))
                        .unwrap_or_else(|| e.to_string()),
                )),
            }
        });
    };
    let done = move || {
        pk_done.get() || matches!(accept.value().get(), Some(Ok(_))) || matches!(join.value().get(), Some(Ok(_)))
    };
    Effect::new(move |_| {
        if done() {
            session.refresh();
        }
    });
    // Home once the session has reloaded, in the organization joined.
    Effect::new(move |_| {
        if done() && session.current().is_some() {
            navigate("/", Default::default());
        }
    });
    let av = outcome(accept);
    let jv = outcome(join);
    let rules = json_resource(|| (), |_| crate::api::users::password_rules());
    let fe = move |f: &'static str| Signal::derive(field_error(av, f));
    let typed_username = StoredValue::new(typed::<AcceptInvitation>("username"));
    let typed_full_name = StoredValue::new(typed::<AcceptInvitation>("full_name"));
    view! {
        <section class="card narrow" aria-labelledby="invite-title">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || preview.get().map(|r| match r {
                    Err(e) => view! {
                        <h1 id="invite-title">"Invitation"</h1>
                        <ErrorBox error=e/>
                    }.into_any(),
                    Ok(p) => match p.refusal() {
                        Some(why) => view! {
                            <h1 id="invite-title">{format!("Invitation to {}", p.org)}</h1>
                            <p class="alert error" role="alert">{why}</p>
                            <p><a href="/sign-in">"Go to sign in"</a></p>
                        }.into_any(),
                        None => {
                            let intro = format!("{} invited {} to join {} as {}.", p.invited_by, p.email, p.org, p.role);
                            let until = format!("This link works once, until {}.", format_time(p.expires_at));
                            let t1 = token();
                            let t2 = token();
                            view! {
                                <h1 id="invite-title">{format!("Join {}", p.org)}</h1>
                                <p>{intro}</p>
                                <p class="hint">{until}</p>
                                {match p.signed_in_as.clone() {
                                    Some(me) => view! {
                                        <h2>{format!("Join as {me}")}</h2>
                                        <ActionForm action=join>
                                            <input type="hidden" name="token" value=t1/>
                                            {form_error(jv, &[])}
                                            <button type="submit" class="primary">{format!("Join {} as {me}", p.org)}</button>
                                        </ActionForm>
                                    }.into_any(),
                                    None => view! {
                                        <h2>"Create your account"</h2>
                                        <ActionForm action=accept node_ref=form attr:novalidate=true>
                                            <input type="hidden" name="token" value=t2/>
                                            <Field id="invite_username" name="username" label="Username" autocomplete="username" required=true
                                                value=typed_username.get_value()
                                                hint="Starts with a letter or _; letters, digits and @ _ - ~ ." error=fe("username")/>
                                            <Field id="invite_full_name" name="full_name" label="Full name" autocomplete="name"
                                                value=typed_full_name.get_value() error=fe("full_name")/>
                                            <Field id="invite_password" name="password" label="Password" kind="password" autocomplete="new-password" required=true
                                                hint=Signal::derive(move || rules.get().and_then(|r| r.ok()).unwrap_or_default()) error=fe("password")/>
                                            {form_error(av, &["username", "full_name", "password"])}
                                            <button type="submit" class="primary" disabled=move || accept.pending().get()>"Create account and join"</button>
                                            {p.passkeys.then(|| view! {
                                                <div class="other-way" role="group" aria-labelledby="invite-passkey-title">
                                                    <h3 id="invite-passkey-title">"Or use a passkey instead"</h3>
                                                    <p class="hint">"No password to remember: this device (fingerprint, face or PIN) signs you in. Fill in the username and full name above, then:"</p>
                                                    <button type="button" class="secondary" on:click=with_passkey
                                                        disabled=move || !hydrated.get() || pk_busy.get()>"Create account with a passkey"</button>
                                                    {move || pk_error.get().map(|e| view! { <p class="alert error" role="alert">{e}</p> })}
                                                </div>
                                            })}
                                        </ActionForm>
                                        {(!p.sso.is_empty()).then(|| {
                                            let t3 = token();
                                            view! {
                                                <div class="other-way" role="group" aria-labelledby="invite-sso-title">
                                                    <h3 id="invite-sso-title">"Or use your organization's sign-in"</h3>
                                                    <p class="hint">"Your account is made from who you are there, with no password here."</p>
                                                    {p.sso.iter().map(|b| view! {
                                                        <form method="post" action=format!("/auth/oidc/{}/start", b.slug)>
                                                            <input type="hidden" name="invitation" value=t3.clone()/>
                                                            <button type="submit" class="sso-button">{format!("Join with {}", b.display_name)}</button>
                                                        </form>
                                                    }).collect_view()}
                                                </div>
                                            }
                                        })}
                                        <p class="hint">"Have an account already? "<a href="/sign-in">"Sign in"</a>", then open the link again to join with it."</p>
                                    }.into_any(),
                                }}
                            }.into_any()
                        }
                    },
                })}
            </Suspense>
        </section>
    }
}
