//! Pages and components. The server renders them; the WASM front end hydrates them, after
//! which forms call server functions and navigation happens without full reloads.
pub mod access;
pub mod api_docs;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod confirm;
pub mod database_access;
pub mod databases;
pub mod forms;
pub mod home;
pub mod import;
pub mod invitations;
pub mod json;
pub mod live;
pub mod oauth;
pub mod orgs;
pub mod profile;
pub mod provisioning;
pub mod roles;
pub mod security;
pub mod sso;
pub mod toast;
pub mod tokens;
pub mod users;
pub mod webauthn;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::{lazy_route, path, Lazy, LazyRoute};

use crate::api::auth::{current_user, SignOut, SwitchOrg};
use crate::domain::abilities::Ability;
use crate::domain::users::Me;
use crate::domain::Error;
use json::{json_resource, JsonResource};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Pages may run only our own scripts: the ones Leptos marks with this request's nonce
    // and the WASM they load.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(v) = http::HeaderValue::from_str(&page_csp(&nonce)) {
            res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <leptos_meta::HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The content security policy of pages; `nonce` is the one on this page's scripts.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The signed-in account, shared by every page; `refresh` after signing in or out.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: JsonResource<Result<Option<Me>, Error>>,
    version: RwSignal<u32>,
}

impl Session {
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }

    /// The signed-in account once loaded (tracked: views re-render when it changes). Read it
    /// inside a Suspense or Transition.
    pub fn current(&self) -> Option<Me> {
        self.me.get().and_then(|r| r.ok()).flatten()
    }

    /// The same, read once (while building a view that does not follow it).
    pub fn current_untracked(&self) -> Option<Me> {
        self.me.get_untracked().and_then(|r| r.ok()).flatten()
    }
}

/// A page whose code is loaded only when it is visited (its own WASM chunk): the sign-in
/// page, the first thing most people load, carries none of the admin pages.
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

lazy_page!(HomeRoute, home::HomePage);
lazy_page!(SignUpRoute, auth::SignUpPage);
lazy_page!(ConsentRoute, oauth::ConsentPage);
lazy_page!(StoppedRoute, oauth::StoppedPage);
lazy_page!(SignOutRoute, oauth::SignOutPage);
lazy_page!(ProfileRoute, profile::ProfilePage);
lazy_page!(UsersRoute, users::UsersPage);
lazy_page!(NewUserRoute, users::NewUserPage);
lazy_page!(EditUserRoute, users::EditUserPage);
lazy_page!(AuditRoute, audit::AuditPage);
lazy_page!(SsoRoute, sso::SsoPage);
lazy_page!(ClientsRoute, clients::ClientsPage);
lazy_page!(WebhooksRoute, webhooks::WebhooksPage);
lazy_page!(ProvisioningRoute, provisioning::ProvisioningPage);
lazy_page!(ScimConnectionRoute, provisioning::ConnectionPage);
lazy_page!(InvitationsRoute, invitations::InvitationsPage);
lazy_page!(InviteRoute, invitations::InvitePage);
lazy_page!(RolesRoute, roles::RolesPage);
lazy_page!(MembersRoute, orgs::MembersPage);
lazy_page!(DatabasesRoute, databases::DatabasesPage);
lazy_page!(CredentialsRoute, database_access::CredentialsPage);
lazy_page!(OrgsRoute, orgs::OrgsPage);
lazy_page!(ImportRoute, import::ImportPage);
lazy_page!(AccessRoute, access::ExplainPage);
lazy_page!(ApiRoute, api_docs::ApiPage);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    forms::provide_posted();
    let version = RwSignal::new(0u32);
    let live = live::provide_live();
    toast::provide_toasts();
    // The account (with its abilities in the current organization) follows access changes.
    let me = json_resource(move || (version.get(), live.track()), |_| current_user());
    provide_context(Session { me, version });
    // Effects run only in the browser, after hydration: tests (and people debugging) can
    // tell a live page from server-rendered HTML.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    // Listen for access changes once signed in (the stream needs a session).
    let connected = StoredValue::new(false);
    Effect::new(move |_| {
        let signed_in = me.get().and_then(|r| r.ok()).flatten().is_some();
        if signed_in && !connected.get_value() {
            connected.set_value(true);
            live::connect(live);
        }
    });

    view! {
        <Title text="Roster"/>
        <Router>
            // Every read of a resource sits inside a Suspense or Transition (no hydration
            // mismatch); resources are created outside them, at the top of components, so the
            // server and the browser create them in the same order.
            <Transition fallback=|| ()>
                <Header/>
                <TwoFactorBanner/>
            </Transition>
            <main id="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view={Lazy::<HomeRoute>::new()}/>
                    <Route path=path!("/sign-in") view=auth::SignInPage/>
                    <Route path=path!("/sign-up") view={Lazy::<SignUpRoute>::new()}/>
                    <Route path=path!("/oauth/consent") view={Lazy::<ConsentRoute>::new()}/>
                    <Route path=path!("/oauth/stopped") view={Lazy::<StoppedRoute>::new()}/>
                    <Route path=path!("/oauth/sign-out") view={Lazy::<SignOutRoute>::new()}/>
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()}/>
                    <Route path=path!("/admin/users") view={Lazy::<UsersRoute>::new()}/>
                    <Route path=path!("/admin/users/new") view={Lazy::<NewUserRoute>::new()}/>
                    <Route path=path!("/admin/users/:username") view={Lazy::<EditUserRoute>::new()}/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()}/>
                    <Route path=path!("/admin/sso") view={Lazy::<SsoRoute>::new()}/>
                    <Route path=path!("/admin/applications") view={Lazy::<ClientsRoute>::new()}/>
                    <Route path=path!("/admin/webhooks") view={Lazy::<WebhooksRoute>::new()}/>
                    <Route path=path!("/admin/provisioning") view={Lazy::<ProvisioningRoute>::new()}/>
                    <Route path=path!("/admin/provisioning/:id") view={Lazy::<ScimConnectionRoute>::new()}/>
                    <Route path=path!("/roles") view={Lazy::<RolesRoute>::new()}/>
                    <Route path=path!("/members") view={Lazy::<MembersRoute>::new()}/>
                    <Route path=path!("/invitations") view={Lazy::<InvitationsRoute>::new()}/>
                    <Route path=path!("/invite/:token") view={Lazy::<InviteRoute>::new()}/>
                    <Route path=path!("/databases") view={Lazy::<DatabasesRoute>::new()}/>
                    <Route path=path!("/databases/:db/credentials") view={Lazy::<CredentialsRoute>::new()}/>
                    <Route path=path!("/admin/orgs") view={Lazy::<OrgsRoute>::new()}/>
                    <Route path=path!("/admin/import") view={Lazy::<ImportRoute>::new()}/>
                    <Route path=path!("/access") view={Lazy::<AccessRoute>::new()}/>
                    <Route path=path!("/api") view={Lazy::<ApiRoute>::new()}/>
                </Routes>
            </main>
            <toast::ToastRegion/>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let session = expect_context::<Session>();
    let live = expect_context::<live::Live>();
    let sign_out = ServerAction::<SignOut>::new();
    let switch = ServerAction::<SwitchOrg>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            session.refresh();
            navigate("/sign-in", Default::default());
        }
    });
    // After switching, every page's data follows the new organization.
    Effect::new(move |_| {
        if let Some(Ok(_)) = switch.value().get() {
            live.bump();
        }
    });
    // The small-screen menu closes after choosing a page.
    let menu = NodeRef::<leptos::html::Details>::new();
    let location = leptos_router::hooks::use_location();
    Effect::new(move |_| {
        location.pathname.track();
        #[cfg(feature = "hydrate")]
        if let Some(m) = menu.get_untracked() {
            m.set_open(false);
        }
    });
    view! {
        <header class="topbar">
            <a class="skip" href="#main">"Skip to content"</a>
            <A href="/" attr:class="brand">"Roster"</A>
            {move || {
                session.me.get().map(|me| match me {
                    Ok(Some(me)) => {
                        let admin = me.super_admin;
                        let current = me.org.as_ref().map(|o| o.id).unwrap_or_default();
                        let orgs = me.orgs.clone();
                        let many = orgs.len() > 1;
                        let name = me.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
                        let sees_members = me.super_admin || me.can(Ability::ViewUsers) || me.can(Ability::ManageUsers);
                        let sees_databases = me.can(Ability::ViewDatabases)
                            || me.can(Ability::CreateDatabases)
                            || me.can(Ability::ManageDatabaseServers);
                        view! {
                            // A disclosure: a "Menu" button on small screens (works before
                            // the WASM arrives), always open on wide ones (see main.css).
                            <details class="menu" node_ref=menu>
                                <summary>"Menu"</summary>
                                // (choosing a page folds the menu away again)
                                <nav aria-label="Main" on:click=move |_| {
                                    #[cfg(feature = "hydrate")]
                                    if let Some(m) = menu.get_untracked() {
                                        m.set_open(false);
                                    }
                                }>
                                    <Show when=move || sees_members>
                                        <A href="/members">"Members"</A>
                                    </Show>
                                    <Show when=move || sees_databases>
                                        <A href="/databases">"Databases"</A>
                                    </Show>
                                    <A href="/roles">"Roles"</A>
                                    <A href="/access">"Explain access"</A>
                                    <Show when=move || admin>
                                        <A href="/admin/users">"Users"</A>
                                        <A href="/admin/orgs">"Organizations"</A>
                                        <A href="/admin/audit">"Audit log"</A>
                                        <A href="/admin/sso">"Single sign-on"</A>
                                        <A href="/admin/applications">"Applications"</A>
                                        <A href="/admin/webhooks">"Webhooks"</A>
                                        <A href="/admin/provisioning">"Provisioning"</A>
                                    </Show>
                                    <A href="/api">"API"</A>
                                    <A href="/profile">"Profile"</A>
                                </nav>
                            </details>
                            {if many {
                                view! {
                                    <forms::PostForm action=switch input={|f: &forms::Fields| SwitchOrg { org: f.get("org") }} attr:class="org-switcher">
                                        <label for="org-switcher">"Organization"</label>
                                        <select
                                            id="org-switcher"
                                            name="org"
                                            on:change=move |ev| {
                                                switch.dispatch(SwitchOrg { org: event_target_value(&ev) });
                                            }
                                        >
                                            {orgs
                                                .into_iter()
                                                .map(|o| {
                                                    let selected = o.id == current;
                                                    view! { <option value=o.id.to_string() selected=selected>{o.name}</option> }
                                                })
                                                .collect_view()}
                                        </select>
                                        // (the hydrated page switches on change)
                                        <button type="submit" class="secondary no-wasm">"Switch"</button>
                                    </forms::PostForm>
                                }
                                    .into_any()
                            } else {
                                view! { <span class="org-name">{name}</span> }.into_any()
                            }}
                            <div class="whoami">
                                <span class="who">"Signed in as "<strong>{me.username.clone()}</strong></span>
                                <forms::PostForm action=sign_out input={|_: &forms::Fields| SignOut {}}>
                                    <button type="submit" class="link">"Sign out"</button>
                                </forms::PostForm>
                            </div>
                        }
                            .into_any()
                    }
                    _ => view! {
                        <nav aria-label="Main" class="signed-out">
                            <A href="/sign-in">"Sign in"</A>
                        </nav>
                    }
                        .into_any(),
                })
            }}
        </header>
    }
}

/// Shown while the organization (or instance) requires 2FA and the account has none.
#[component]
fn TwoFactorBanner() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        {move || session.current().filter(|m| m.needs_two_factor).map(|_| view! {
            <div class="alert banner" role="alert">
                "Two-factor authentication is required here. "
                <A href="/profile">"Set it up in your profile"</A>
                " to use the rest of Roster."
            </div>
        })}
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <A href="/">"Go to the start page"</A></p>
        </section>
    }
}

/// A page that is not for the reader (e.g. an admin page for someone without the ability):
/// says so plainly, with a way on, and is answered 403.
#[component]
pub fn NotForYou(#[prop(into)] what: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
            res.set_status(http::StatusCode::FORBIDDEN);
        }
    }
    view! {
        <section class="card">
            <h1>"Not available to you"</h1>
            <p>{what}</p>
            <p><A href="/">"Go to the start page"</A></p>
        </section>
    }
}

/// The answer a page gives itself instead of asking the server for what it would refuse.
pub fn not_for_you() -> Error {
    Error::Forbidden(crate::domain::policy::Denied::NotSuperAdmin)
}

pub fn is_not_for_you(e: &Error) -> bool {
    matches!(e, Error::Forbidden(crate::domain::policy::Denied::NotSuperAdmin))
}

/// A page-level error: a sign-in link for anonymous visitors, the sentence otherwise.
#[component]
pub fn ErrorBox(error: Error) -> impl IntoView {
    let signin = matches!(error, Error::Unauthenticated);
    view! {
        <div class="alert error" role="alert">
            <p>{error.to_string()}</p>
            <Show when=move || signin>
                <p><A href="/sign-in">"Sign in"</A></p>
            </Show>
        </div>
    }
}

/// The message for `field` from an action's last result, if any.
pub fn field_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, Error>>>,
    field: &'static str,
) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err()).and_then(|e| e.field(field)))
}

/// A labelled input with its error underneath, wired for screen readers.
#[component]
pub fn Field(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    /// The form field name when it differs from `id`.
    #[prop(into, optional)]
    name: Option<String>,
    #[prop(into, optional)] kind: Option<String>,
    #[prop(into, default = None)] value: Option<String>,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] hint: MaybeProp<String>,
    error: Signal<Option<String>>,
    /// The id of a `<datalist>` of suggestions.
    #[prop(into, optional)]
    list: Option<String>,
    /// Called with the value as it is typed.
    #[prop(into, optional)]
    on_input: Option<Callback<String>>,
) -> impl IntoView {
    let err_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = {
        let err_id = err_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if hint.with(|h| h.as_ref().is_some_and(|h| !h.is_empty())) {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(err_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id.clone()
                name=name.unwrap_or_else(|| id.clone())
                type=kind.unwrap_or_else(|| "text".into())
                value=value
                autocomplete=autocomplete
                required=required
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described
                list=list
                on:input=move |ev| {
                    if let Some(f) = on_input {
                        f.run(event_target_value(&ev));
                    }
                }
            />
            {move || hint.get().filter(|h| !h.is_empty()).map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            {move || error.get().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
        </div>
    }
}

/// Extra abilities to give on top of a role, as a folded list of checkboxes named `name`
/// (`extras[]`, `abilities[]`): the invitation and group mapping forms.
#[component]
pub fn AbilityChoices(#[prop(into)] prefix: String, #[prop(into)] name: String) -> impl IntoView {
    view! {
        <details class="extras">
            <summary>"Extra abilities (optional)"</summary>
            <fieldset>
                <legend class="sr-only">"Abilities on top of the role"</legend>
                {crate::domain::abilities::Ability::ALL.into_iter().map(|a| {
                    let id = format!("{prefix}-{}", a.code());
                    view! {
                        <div class="field check">
                            <input type="checkbox" id=id.clone() name=name.clone() value=a.code()/>
                            <label for=id>{a.code()}<span class="hint block">{a.description()}</span></label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        </details>
    }
}

/// The form-level message for errors that name no field (denials, conflicts on other
/// fields, internal errors).
pub fn form_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, Error>>>,
    fields: &'static [&'static str],
) -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    move || {
        value.with(|v| match v {
            Some(Err(e)) if !fields.iter().any(|f| e.field(f).is_some()) => {
                Some(view! { <div class="alert error" role="alert">{e.to_string()}</div> }.into_any())
            }
            Some(Err(Error::Invalid { errors })) if errors.len() > 1 => Some(
                view! { <div class="alert error" role="alert">"Please correct the highlighted fields."</div> }
                    .into_any(),
            ),
            _ => None,
        })
    }
}

/// Percent-encodes a query-string value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
