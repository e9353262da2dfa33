//! Explain access: for a user, an organization and an ability, the decision and the chain
//! that led to it, in words. The question is in the URL (a GET form): the answer renders on
//! the server, works before the WASM arrives, and can be shared as a link.
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::{ErrorBox, Session};
use crate::api::access::explain_access;
use crate::domain::abilities::Ability;
use crate::ui::json::json_resource;

/// What a step of the chain is, for people.
fn source_in_words(source: &str) -> &'static str {
    match source {
        "super_admin" => "Super admin",
        "role" => "Role",
        "extra_grant" => "Extra grant",
        "public_role" => "Everyone's role",
        "public_extra_grant" => "Everyone's extra grant",
        "membership" => "Membership",
        "account" => "Account",
        _ => "Other",
    }
}

#[component]
pub fn ExplainPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let asked = move || {
        query.with(|q| {
            q.get("ability")
                .map(|ability| (q.get("user").unwrap_or_default(), q.get("org").unwrap_or_default(), ability))
        })
    };
    let answer = json_resource(asked, |asked| async move {
        match asked {
            Some((user, org, ability)) => Some(explain_access(user, org, ability).await),
            None => None,
        }
    });
    let chosen = move |key: &'static str| query.with(|q| q.get(key).unwrap_or_default());
    view! {
        <section class="card">
            <h1>"Explain access"</h1>
            <p class="muted">"Why may someone do something here, or not? Pick the person, the organization and the ability."</p>
            <Transition fallback=|| ()>
            <Form method="GET" action="/access">
                <div class="field">
                    <label for="user">"Username"</label>
                    <input id="user" name="user" value=move || chosen("user") aria-describedby="user-hint"/>
                    <p class="hint" id="user-hint">"Leave empty to ask about an anonymous visitor."</p>
                </div>
                <div class="field">
                    <label for="org">"In organization"</label>
                    <select id="org" name="org">
                        {move || session.current().map(|me| {
                            let picked = chosen("org");
                            let current = me.org.as_ref().map(|o| o.id);
                            me.orgs.into_iter().map(|o| {
                                let sel = if picked.is_empty() { Some(o.id) == current } else { picked == o.id.to_string() };
                                view! { <option value=o.id.to_string() selected=sel>{o.name}</option> }
                            }).collect_view()
                        })}
                    </select>
                </div>
                <div class="field">
                    <label for="ability">"Ability"</label>
                    <select id="ability" name="ability">
                        {move || {
                            let picked = chosen("ability");
                            Ability::ALL.into_iter().map(|a| {
                                let sel = picked == a.code();
                                view! { <option value=a.code() selected=sel>{format!("{} — {}", a.code(), a.description())}</option> }
                            }).collect_view()
                        }}
                    </select>
                </div>
                <button type="submit" class="primary">"Explain"</button>
            </Form>
            </Transition>
            <Suspense fallback=|| view! { <p>"Working it out…"</p> }>
                {move || answer.get().flatten().map(|r| match r {
                    Ok(e) => view! {
                        <div class=if e.allowed { "alert ok" } else { "alert error" } role="status">
                            <p><strong>{if e.allowed { "Allowed" } else { "Denied" }}</strong>": " {e.summary.clone()}</p>
                            <ol class="chain" aria-label="How the decision was reached">
                                {e.steps.into_iter().map(|s| view! {
                                    <li class=if s.grants { "grants" } else { "" }>
                                        <strong>{source_in_words(&s.source)}</strong>
                                        {if s.grants { " (grants it): " } else { ": " }}
                                        {s.detail}
                                    </li>
                                }).collect_view()}
                            </ol>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}
