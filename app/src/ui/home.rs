//! `/`: the one home everyone lands on after signing in. It says who you are and where, and
//! lists what you can do here, as links (only the ones your abilities open).
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use super::Session;
use crate::domain::abilities::Ability;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = expect_context::<Session>();
    let page = move || {
        session.me.get().map(|me| match me {
            Ok(Some(me)) => {
                let org = me.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                let members = me.super_admin || me.can(Ability::ViewUsers) || me.can(Ability::ManageUsers);
                let admin = me.super_admin;
                let name = if me.full_name.trim().is_empty() { me.username.clone() } else { me.full_name.clone() };
                let held = if me.super_admin {
                    "You are a super admin: every ability, in every organization.".to_string()
                } else if me.abilities.is_empty() {
                    format!("You hold no abilities in {org}.")
                } else {
                    format!("You hold {} abilities in {org}.", me.abilities.iter().count())
                };
                view! {
                    <section class="card wide home">
                        <h1>{format!("Welcome, {name}")}</h1>
                        <p class="muted">{format!("You are {}, working in {org}. ", me.username)} {held}</p>
                        <ul class="tiles" aria-label="Where to go">
                            <Show when=move || members>
                                <li><A href="/members">"Members"</A><span>{format!("Who belongs to {org}, and their roles")}</span></li>
                            </Show>
                            <li><A href="/roles">"Roles"</A><span>"Which abilities each role grants"</span></li>
                            <li><A href="/access">"Explain access"</A><span>"Why someone may or may not do something"</span></li>
                            <Show when=move || admin>
                                <li><A href="/admin/users">"Users"</A><span>"Every account: create, edit, disable"</span></li>
                                <li><A href="/admin/orgs">"Organizations"</A><span>"Create, rename, require 2FA"</span></li>
                                <li><A href="/admin/audit">"Audit log"</A><span>"Who changed what, and when"</span></li>
                                <li><A href="/admin/sso">"Single sign-on"</A><span>"OpenID Connect providers"</span></li>
                                <li><A href="/admin/applications">"Applications"</A><span>"Tools that sign people in through Roster"</span></li>
                                <li><A href="/admin/webhooks">"Webhooks"</A><span>"Tell other tools when access changes"</span></li>
                                <li><A href="/admin/provisioning">"Provisioning"</A><span>"Accounts from Okta, Entra ID (SCIM)"</span></li>
                            </Show>
                            <li><A href="/profile">"Profile and security"</A><span>"Password, two-factor, passkeys, tokens"</span></li>
                        </ul>
                    </section>
                }
                    .into_any()
            }
            _ => view! { <Redirect path="/sign-in"/> }.into_any(),
        })
    };
    view! { <Transition fallback=|| ()>{page}</Transition> }
}
