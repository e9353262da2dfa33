//! The pages of Roster's sign-in into other tools: the consent question (what an application
//! will receive, answered by a plain form post to `/oauth/authorize`, so it works before the
//! WASM arrives) and the page that says why a request stopped here instead of going back to
//! the application.
use leptos::prelude::*;

use crate::api::oauth::ask_consent;
use crate::domain::oauth::{ConsentRequest, Unsafe};
use crate::ui::json::json_resource;

#[component]
pub fn ConsentPage() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let ask = json_resource(move || location.search.get(), ask_consent);
    view! {
        <Transition fallback=|| ()>
            {move || ask.get().map(|r| match r {
                Ok(Some(c)) => view! { <Consent c/> }.into_any(),
                Ok(None) => view! {
                    <section class="card narrow">
                        <h1>"Nothing to confirm"</h1>
                        <p>"This sign-in request has no question for you: it was answered already, or it is no longer valid. Go back to the application and sign in again."</p>
                        <p><a href="/">"Go to Roster"</a></p>
                    </section>
                }.into_any(),
                Err(e) => view! {
                    <section class="card narrow"><div class="alert error" role="alert">{e.to_string()}</div></section>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Consent(c: ConsentRequest) -> impl IntoView {
    let ConsentRequest { client_name, client_id, scopes, orgs, account, fields } = c;
    let title = format!("Sign in to {client_name}?");
    let orgs_line = (!orgs.is_empty()).then(|| {
        view! { <p>"The organizations it may see: " <strong>{orgs.join(", ")}</strong>"."</p> }
    });
    view! {
        <section class="card narrow consent" aria-labelledby="consent-title">
            <h1 id="consent-title">{title}</h1>
            <p>
                <strong>{client_name.clone()}</strong>" (" <code>{client_id}</code> ") asks Roster who you are. "
                "You are signed in as " <strong>{account}</strong> "."
            </p>
            {(!scopes.is_empty()).then(|| view! {
                <p>"It will receive:"</p>
                <ul class="consent-scopes">
                    {scopes.into_iter().map(|(s, d)| view! { <li><strong>{s}</strong>": " {d}</li> }).collect_view()}
                </ul>
            })}
            {orgs_line}
            <form method="post" action="/oauth/authorize">
                {fields.into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
                <div class="actions">
                    <button type="submit" name="decision" value="allow" class="primary">"Allow"</button>
                    <button type="submit" name="decision" value="deny">"Deny"</button>
                </div>
            </form>
            <p class="muted">"Roster remembers your answer: it asks again only when the application asks for more."</p>
        </section>
    }
}

#[component]
pub fn StoppedPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let message = move || {
        query
            .with(|q| q.get_str("why").and_then(Unsafe::from_code))
            .map(|u| u.message())
            .unwrap_or("This sign-in request cannot go on. Go back to the application and try again.")
    };
    view! {
        <section class="card narrow">
            <h1>"Roster cannot sign you in to this application"</h1>
            <div class="alert error" role="alert">{message}</div>
            <p><a href="/">"Go to Roster"</a></p>
        </section>
    }
}

/// RP-initiated logout without proof that the tool speaks for the person signed in here:
/// they decide.
#[component]
pub fn SignOutPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let fields = move || {
        query.with(|q| {
            ["id_token_hint", "client_id", "post_logout_redirect_uri", "state"]
                .into_iter()
                .filter_map(|k| q.get_str(k).map(|v| (k, v.to_string())))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card narrow consent" aria-labelledby="sign-out-title">
            <h1 id="sign-out-title">"Sign out of Roster?"</h1>
            <p>"An application asked Roster to sign you out. Signing out here ends your Roster session in this browser: other tools that sign in through Roster will ask you to sign in again."</p>
            <form method="post" action="/oauth/logout">
                {move || fields().into_iter().map(|(k, v)| view! { <input type="hidden" name=k value=v/> }).collect_view()}
                <div class="actions">
                    <button type="submit" name="confirm" value="yes" class="primary">"Sign out"</button>
                    <a href="/">"Stay signed in"</a>
                </div>
            </form>
        </section>
    }
}
