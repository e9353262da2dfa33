//! Profile -> API tokens: create (shown once), list, revoke.
use leptos::prelude::*;

use super::confirm::{CancelButton, ConfirmDialog};
use super::security::{needs_reauth, posted_needs_reauth, CopyButton, SudoPrompt};
use super::ErrorBox;
use crate::api::tokens::{list_tokens, CreateToken, RevokeToken};
use crate::domain::abilities::Ability;
use crate::domain::users::format_time;
use crate::ui::json::json_resource;

#[component]
pub fn TokensSection() -> AnyView {
    let session = expect_context::<super::Session>();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let create_ok = super::forms::successes(create);
    let revoke_ok = super::forms::successes(revoke);
    let list = json_resource(move || (create_ok.get(), revoke_ok.get()), |_| list_tokens());
    // What a refused native post of the form typed comes back filled in.
    let typed = |f: &'static str| super::forms::typed::<CreateToken>(f).unwrap_or_default();
    let name = RwSignal::new(typed("name"));
    let kind = RwSignal::new(Some(typed("kind")).filter(|k| !k.is_empty()).unwrap_or_else(|| "pat".to_string()));
    let days = RwSignal::new(typed("expires_in_days"));
    let scope = RwSignal::new(Vec::<String>::new());
    // A native post refused for want of a recent sign-in opens the prompt as the page loads.
    let reauth = RwSignal::new(posted_needs_reauth(super::forms::name_of::<CreateToken>()));
    let cv = super::forms::outcome(create);
    let ferr = move |f: &'static str| move || super::field_error(cv, f)();
    let submit = move || {
        create.dispatch(CreateToken {
            name: name.get_untracked(),
            kind: kind.get_untracked(),
            expires_in_days: days.get_untracked(),
            abilities: scope.get_untracked(),
        });
    };
    Effect::new(move |_| {
        if create.value().with(needs_reauth) {
            reauth.set(true);
        }
    });
    // The new token: from the browser's call, or carried to this page after a native post.
    let posted_token = super::forms::shown_once::<CreateToken>();
    let created = Signal::derive(move || create.value().get().and_then(|r| r.ok()).or_else(|| posted_token.get()));
    let now = move || js_now();
    view! {
        <section class="card" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="muted">"Tokens let scripts and services use the JSON API and the check API as you. "
                "Personal access tokens go in an " <code>"Authorization: Bearer"</code> " header; API keys in an "
                <code>"X-API-Key"</code> " header or an " <code>"apikey"</code> " query parameter. "
                "What each call takes and answers: " <a href="/api">"the API reference"</a> "."</p>
            <form class="token-form" novalidate method="post" action={<CreateToken as leptos::server_fn::ServerFn>::PATH}
                on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <div class="field">
                    <label for="token_name">"Token name"</label>
                    <input id="token_name" name="name" type="text" value=name.get_untracked() prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                        aria-invalid=move || ferr("name")().map(|_| "true")/>
                    {move || ferr("name")().map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for="token_kind">"Kind"</label>
                    <select id="token_kind" name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="pat" selected=kind.get_untracked() != "api_key">"Personal access token"</option>
                        <option value="api_key" selected=kind.get_untracked() == "api_key">"API key"</option>
                    </select>
                </div>
                <div class="field">
                    <label for="token_days">"Expires in (days)"</label>
                    <input id="token_days" name="expires_in_days" type="number" min="1" max="3650" inputmode="numeric" value=days.get_untracked() prop:value=move || days.get()
                        on:input=move |ev| days.set(event_target_value(&ev)) aria-describedby="token_days-hint"/>
                    <p class="hint" id="token_days-hint">"Leave empty for a token that does not expire."</p>
                    {move || ferr("expires_in_days")().map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <fieldset class="abilities">
                    <legend>"Limit to these abilities (none ticked: everything you hold)"</legend>
                    <p class="hint">"A token never does more than you may do at the time: an ability you do not hold here does nothing."</p>
                    {Ability::ALL.iter().map(|a| {
                        let a = *a;
                        let code = a.code().to_string();
                        let id = format!("scope-{code}");
                        let c2 = code.clone();
                        let held = session.current_untracked().is_some_and(|m| m.can(a));
                        view! {
                            <div class="field check">
                                <input type="checkbox" id=id.clone() name="abilities[]" value=code.clone() on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let c = c2.clone();
                                    scope.update(|s| { s.retain(|x| *x != c); if on { s.push(c); } });
                                }/>
                                <label for=id>
                                    {code.clone()}
                                    {held.then(|| view! { <span class="badge success">"you hold it"</span> })}
                                    <span class="hint block">{a.description()}</span>
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                {move || (!cv.with(needs_reauth)).then(|| super::form_error(cv, &["name", "expires_in_days"])())}
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </form>
            <Show when=move || reauth.get()>
                <SudoPrompt on_done=move |_| { reauth.set(false); submit(); }/>
            </Show>
            {move || created.get().map(|t| view! {
                <div class="new-token" role="region" aria-label="New token">
                    <p class="alert">"Copy your new token now: it is shown only once."</p>
                    <div class="field">
                        <label for="new_token">"Your new token"</label>
                        <input id="new_token" type="text" readonly value=t.token.clone()/>
                    </div>
                    <CopyButton text=t.token.clone() label="Copy token"/>
                </div>
            })}
            <Transition fallback=|| ()>
                {move || list.get().map(|r| match r {
                    Ok(ts) if ts.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(ts) => view! {
                        <div class="table-wrap">
                        <table>
                            <caption class="sr-only">"Your tokens"</caption>
                            <thead><tr>
                                <th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Starts with"</th>
                                <th scope="col">"Scope"</th><th scope="col">"Created"</th><th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th><th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {ts.into_iter().map(|t| {
                                    let state = t.state(now());
                                    let id = t.id;
                                    let label = format!("Revoke {}", t.name);
                                    view! {
                                        <tr>
                                            <td>{t.name.clone()}</td>
                                            <td>{t.kind.label()}</td>
                                            <td><code>{t.prefix.clone()}</code></td>
                                            <td>{t.abilities.map(|a| a.codes().join(", ")).unwrap_or_else(|| "Everything you hold".into())}</td>
                                            <td>{format_time(t.created_at)}</td>
                                            <td>{t.expires_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                                            <td>{t.last_used_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                                            <td><span class=format!("badge {state}")>{state}</span></td>
                                            <td>{(state == "active").then(|| {
                                                let dialog = format!("revoke-token-{id}");
                                                view! {
                                                    <ConfirmDialog id=dialog.clone() trigger="Revoke" trigger_label=label.clone()
                                                        title=format!("Revoke the token {}?", t.name)
                                                        done=Signal::derive(move || matches!(revoke.value().get(), Some(Ok(()))))>
                                                        <p>"Scripts and services using it are refused from their next request. This cannot be undone."</p>
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="id" value=id.to_string()/>
                                                            <div class="buttons">
                                                                <button type="submit" class="danger">"Revoke token"</button>
                                                                <CancelButton of=dialog.clone()/>
                                                            </div>
                                                        </ActionForm>
                                                    </ConfirmDialog>
                                                }
                                            })}</td>
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
        </section>
    }
    .into_any()
}

/// Now in unix milliseconds (the browser's clock; the server's while rendering).
fn js_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys_now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

#[cfg(feature = "hydrate")]
fn js_sys_now() -> i64 {
    window().performance().map(|p| (p.time_origin() + p.now()) as i64).unwrap_or(0)
}
