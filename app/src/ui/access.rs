//! Explain access: for a user, an organization and an ability, the decision and the chain
//! that led to it.
use leptos::prelude::*;

use super::{field_error, form_error, Field, Session};
use crate::api::access::ExplainAccess;
use crate::domain::abilities::Ability;

#[component]
pub fn ExplainPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let explain = ServerAction::<ExplainAccess>::new();
    let value = Signal::from(explain.value());
    view! {
        <section class="card">
            <h1>"Explain access"</h1>
            <ActionForm action=explain attr:novalidate=true>
                <Field id="user" label="Username (empty: an anonymous visitor)" error=Signal::derive(field_error(value, "user"))/>
                <div class="field">
                    <label for="org">"In organization"</label>
                    <select id="org" name="org">
                        {move || session.current().map(|me| {
                            let current = me.org.as_ref().map(|o| o.id);
                            me.orgs.into_iter().map(|o| {
                                let sel = Some(o.id) == current;
                                view! { <option value=o.id.to_string() selected=sel>{o.name}</option> }
                            }).collect_view()
                        })}
                    </select>
                </div>
                <div class="field">
                    <label for="ability">"Ability"</label>
                    <select id="ability" name="ability">
                        {Ability::ALL.into_iter().map(|a| view! { <option value=a.code()>{a.code()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit">"Explain"</button>
            </ActionForm>
            {form_error(value, &["user"])}
            {move || value.get().and_then(|r| r.ok()).map(|e| view! {
                <div class=if e.allowed { "alert ok" } else { "alert error" } role="status">
                    <p><strong>{if e.allowed { "Allowed" } else { "Denied" }}</strong>": " {e.summary.clone()}</p>
                    <ol class="chain" aria-label="How the decision was reached">
                        {e.steps.into_iter().map(|s| view! {
                            <li class=if s.grants { "grants" } else { "" }>
                                <span class="muted small">{s.source}</span>" " {s.detail}
                            </li>
                        }).collect_view()}
                    </ol>
                </div>
            })}
        </section>
    }
}
