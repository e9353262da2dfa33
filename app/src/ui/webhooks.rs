//! Settings -> Webhooks (super admins): the URLs Roster POSTs each access change to, a form to
//! add or edit one, its signing secret shown once, rotation, resuming a paused hook, removal
//! behind a question that says what stops, and the log of one hook's recent deliveries.
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::confirm::{CancelButton, ConfirmDialog};
use super::forms::{name_of, outcome, shown_once, succeeded, typed};
use super::security::{is_reauth, needs_reauth, posted_needs_reauth, CopyButton, SudoPrompt};
use super::{field_error, form_error, ErrorBox, Field};
use crate::api::webhooks::{
    list_webhooks, webhook_deliveries, DeleteWebhook, ResumeWebhook, RotateWebhookSecret, SaveWebhook,
};
use crate::domain::audit::iso_time;
use crate::domain::webhooks::{Delivery, Webhook, WebhookSecret, KINDS};
use crate::ui::json::json_resource;

/// The fields of the form, in the order errors are looked for.
const FIELDS: [&str; 4] = ["name", "url", "kinds", "orgs"];

/// The hooks, and the recent deliveries of the one whose log is shown.
type Listing = (Vec<Webhook>, Option<(i64, Vec<Delivery>)>);

/// A moment of the log as people read it, to the second.
fn when(ms: i64) -> String {
    let iso = iso_time(ms);
    format!("{} UTC", iso.get(..19).unwrap_or(&iso).replacen('T', " ", 1))
}

/// The new signing secret, while it is shown (once).
#[component]
fn NewSecret(answer: WebhookSecret) -> impl IntoView {
    let secret = answer.secret;
    view! {
        <div class="new-token" role="region" aria-label="New signing secret">
            <p class="alert">{format!("Copy the signing secret of {} now: it will not be shown again.", answer.webhook.name)}</p>
            <div class="field">
                <label for="new_webhook_secret">"Signing secret"</label>
                <input id="new_webhook_secret" type="text" readonly value=secret.clone()/>
            </div>
            <CopyButton text=secret label="Copy secret"/>
            <p class="hint">"The receiver checks each delivery's "<code>"Roster-Signature: t=<unix seconds>,v1=<hex>"</code>
                " header: v1 must equal the hex HMAC-SHA256, keyed with this secret, of "<code>"<t>.<raw body>"</code>"."</p>
        </div>
    }
}

/// Where a hook stands: delivering, paused (and why), or disabled.
#[component]
fn HookState(hook: Webhook) -> impl IntoView {
    let badge = match (&hook.paused, hook.enabled) {
        (_, false) => view! { <span class="badge">"Disabled"</span> }.into_any(),
        (Some(why), true) => view! { <span class="badge failure">"Paused"</span>" "{why.clone()}<br/> }.into_any(),
        (None, true) => view! { <span class="badge success">"Delivering"</span> }.into_any(),
    };
    let retrying = (hook.enabled && hook.paused.is_none() && hook.attempts > 0)
        .then(|| format!(", retrying (attempt {} failed)", hook.attempts));
    view! {
        {badge}
        <span class="hint">{format!(" delivered through event {}", hook.delivered_through)}{retrying}</span>
    }
}

/// One attempt's outcome: the receiver's status, or why no answer came.
fn result(d: &Delivery) -> AnyView {
    match (d.status, &d.error) {
        (Some(s), _) if d.ok() => view! { <span class="badge success">{s}</span> }.into_any(),
        (Some(s), _) => {
            let answer = d.response.clone().filter(|r| !r.trim().is_empty());
            view! { <span class="badge failure">{s}</span>{answer.map(|a| view! { " " <code class="wrap">{a}</code> })} }
                .into_any()
        }
        (None, e) => {
            let why = e.clone().unwrap_or_else(|| "no answer".into());
            view! { <span class="badge failure">"Failed"</span>" "{why} }.into_any()
        }
    }
}

/// The recent deliveries of one hook, newest first.
#[component]
fn DeliveryLog(hook: Webhook, log: Vec<Delivery>) -> impl IntoView {
    view! {
        <section class="card wide" aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">{format!("Recent deliveries to {}", hook.name)}</h2>
            {if log.is_empty() {
                view! { <p>"No deliveries yet: each change it receives is sent as it happens."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap cards compact">
                        <table>
                            <caption class="sr-only">{format!("Recent deliveries to {}", hook.name)}</caption>
                            <thead><tr><th scope="col">"Event"</th><th scope="col">"Attempt"</th><th scope="col">"Time"</th>
                                <th scope="col">"Result"</th><th scope="col">"Duration"</th></tr></thead>
                            <tbody>
                                {log.into_iter().map(|d| view! {
                                    <tr>
                                        <td data-label="Event">{d.event_id}</td>
                                        <td data-label="Attempt">{d.attempt}</td>
                                        <td data-label="Time" class="nowrap"><time datetime=iso_time(d.at)>{when(d.at)}</time></td>
                                        <td data-label="Result">{result(&d)}</td>
                                        <td data-label="Duration" class="nowrap">{format!("{} ms", d.duration_ms)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
            <p class="hint">"The newest 50 attempts. A failed event is retried, later and later, until the receiver answers 2xx; "
                "after 10 failures in a row the hook pauses until you resume it."</p>
        </section>
    }
}

#[component]
pub fn WebhooksPage() -> AnyView {
    let save = ServerAction::<SaveWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let resume = ServerAction::<ResumeWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let save_ok = super::forms::successes(save);
    let rotate_ok = super::forms::successes(rotate);
    let resume_ok = super::forms::successes(resume);
    let delete_ok = super::forms::successes(delete);
    // The log shown is the one the URL names (`?log=ID`, a link), else the first hook's.
    let query = use_query_map();
    let log_of = move || query.with(|q| q.get("log")).and_then(|id| id.parse::<i64>().ok());
    let list = json_resource(
        move || (save_ok.get(), rotate_ok.get(), resume_ok.get(), delete_ok.get(), admin(), log_of()),
        |(_, _, _, _, admin, log_of)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            let hooks = list_webhooks().await?;
            let shown = log_of.filter(|id| hooks.iter().any(|h| h.id == *id)).or_else(|| hooks.first().map(|h| h.id));
            let log = match shown {
                Some(id) => webhook_deliveries(id).await.ok().map(|d| (id, d)),
                None => None,
            };
            Ok::<Listing, _>((hooks, log))
        },
    );
    // The hook in the form is the one the URL names (`?edit=ID`: Edit is a link that works
    // before the WASM arrives); none adds a new one.
    let editing = Signal::derive(move || {
        let id = query.with(|q| q.get("edit"))?.parse::<i64>().ok()?;
        list.get().and_then(|r| r.ok()).and_then(|(hs, _)| hs.into_iter().find(|h| h.id == id))
    });
    let reauth = RwSignal::new(
        posted_needs_reauth(name_of::<SaveWebhook>())
            || posted_needs_reauth(name_of::<RotateWebhookSecret>())
            || posted_needs_reauth(name_of::<DeleteWebhook>()),
    );
    let sv = outcome(save);
    let rv = outcome(rotate);
    let uv = outcome(resume);
    let dv = outcome(delete);
    let saved = succeeded(save);
    let resumed = succeeded(resume);
    let deleted_any = succeeded(delete);
    let deleted = Signal::derive(move || matches!(delete.value().get(), Some(Ok(()))));
    let rotated = Signal::derive(move || matches!(rotate.value().get(), Some(Ok(_))));
    // A secret shown once: from the browser's call, or carried here after a native post.
    let posted_save = shown_once::<SaveWebhook>();
    let posted_rotate = shown_once::<RotateWebhookSecret>();
    let secret = Signal::derive(move || {
        let fresh = |v: Option<Result<WebhookSecret, _>>| v.and_then(|r| r.ok());
        fresh(rotate.value().get())
            .or_else(|| fresh(save.value().get()))
            .or_else(|| posted_rotate.get())
            .or_else(|| posted_save.get())
            .filter(|s| !s.secret.is_empty())
    });
    let navigate = leptos_router::hooks::use_navigate();
    // The form shows what it is for: empty again once a hook is added, the hook's settings
    // once Edit is chosen (whatever was typed before). (Redrawn in place, the inputs would
    // keep what was typed; this page's first drawing keeps it too, typed before hydration.)
    let form = NodeRef::<leptos::html::Form>::new();
    let edited = Memo::new(move |_| editing.with(|h| h.as_ref().map(|h| h.id)));
    Effect::new(move |first: Option<()>| {
        save_ok.track();
        edited.track();
        if first.is_some() {
            if let Some(f) = form.get_untracked() {
                f.reset();
            }
        }
    });
    Effect::new(move |_| {
        if save.value().with(needs_reauth) || rotate.value().with(needs_reauth) || delete.value().with(needs_reauth) {
            reauth.set(true);
        }
        if let Some(Ok(_)) = save.value().get() {
            if query.with_untracked(|q| q.get("edit").is_some()) {
                navigate("/admin/webhooks", Default::default());
            }
        }
    });
    // A refused delete or rotation posted before the WASM arrived: its dialog opens with the reason.
    let refused_delete = StoredValue::new(
        typed::<DeleteWebhook>("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|_| dv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let refused_rotate = StoredValue::new(
        typed::<RotateWebhookSecret>("id")
            .and_then(|id| id.parse::<i64>().ok())
            .filter(|_| rv.with_untracked(|v| matches!(v, Some(Err(e)) if !is_reauth(e)))),
    );
    let fe = move |f: &'static str| Signal::derive(field_error(sv, f));
    // What a refused form posted before the WASM arrived carried fills the form in again
    // (a checkbox left unticked is not posted at all).
    let refill = StoredValue::new(
        ["name", "url", "orgs", "enabled", "kind_user", "kind_role", "kind_org"]
            .into_iter()
            .filter_map(|f| typed::<SaveWebhook>(f).map(|v| (f, v)))
            .collect::<Vec<_>>(),
    );
    view! {
        <Transition fallback=|| ()>
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="Webhooks are managed by super admins."/> }>{
                view! {
        <section class="card wide" aria-labelledby="webhooks-title">
            <h1 id="webhooks-title">"Webhooks"</h1>
            <p class="muted">"Roster POSTs each change to accounts, roles or organizations, as JSON, to the URLs you add here, "
                "so a tool that keeps its own copy of who may do what (a cache, a directory) updates at once. "
                "Changes arrive in order, at least once: receivers drop repeats by their " <code>"Roster-Event-Id"</code> " header."</p>
            {move || secret.get().map(|answer| view! { <NewSecret answer=answer/> })}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || list.get().map(|r| match r {
                    Ok((hs, _)) if hs.is_empty() => view! { <p>"No webhooks yet."</p> }.into_any(),
                    Ok((hs, _)) => {
                        let many = hs.len() > 1;
                        view! {
                        <div class="table-wrap cards">
                        <table>
                            <caption class="sr-only">"Webhooks"</caption>
                            <thead><tr><th scope="col">"Webhook"</th><th scope="col">"Changes"</th><th scope="col">"Organizations"</th>
                                <th scope="col">"State"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                            <tbody>
                                {hs.into_iter().map(|h| {
                                    let id = h.id;
                                    let name = h.name.clone();
                                    let delete_dialog = format!("delete-webhook-{id}");
                                    let rotate_dialog = format!("rotate-webhook-{id}");
                                    let open_delete = refused_delete.get_value() == Some(id);
                                    let open_rotate = refused_rotate.get_value() == Some(id);
                                    let paused = h.enabled && h.paused.is_some();
                                    view! {
                                        <tr>
                                            <td data-label="Webhook"><strong>{h.name.clone()}</strong><br/><code class="wrap">{h.url.clone()}</code></td>
                                            <td data-label="Changes">{h.kinds.join(", ")}</td>
                                            <td data-label="Organizations">{if h.orgs.is_empty() { "All".to_string() } else { h.orgs.join(", ") }}</td>
                                            <td data-label="State"><HookState hook=h.clone()/></td>
                                            <td class="actions">
                                                <a class="button" href=format!("/admin/webhooks?edit={id}#webhook-form-title") aria-label=format!("Edit {name}")>"Edit"</a>
                                                {many.then(|| { let name = name.clone(); view! {
                                                    <a class="button" href=format!("/admin/webhooks?log={id}#deliveries-title")
                                                        aria-label=format!("Recent deliveries to {name}")>"Deliveries"</a>
                                                } })}
                                                {paused.then(|| { let name = name.clone(); view! {
                                                    <ActionForm action=resume attr:class="in-cell">
                                                        <input type="hidden" name="id" value=id.to_string()/>
                                                        <button type="submit" aria-label=format!("Resume {name}")>"Resume"</button>
                                                    </ActionForm>
                                                } })}
                                                <ConfirmDialog id=rotate_dialog.clone() trigger="Rotate secret" trigger_label=format!("Rotate the secret of {name}")
                                                    trigger_class="secondary" title=format!("Give {name} a new signing secret?") done=rotated open=open_rotate>
                                                    <p>"The current secret stops working at once: deliveries from now on are signed with the new one, shown once after this, "
                                                        "and the receiver rejects them until its settings have it."</p>
                                                    <ActionForm action=rotate>
                                                        <input type="hidden" name="id" value=id.to_string()/>
                                                        {move || (!rv.with(needs_reauth)).then(form_error(rv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Make a new secret"</button>
                                                            <CancelButton of=rotate_dialog.clone()/>
                                                        </div>
                                                    </ActionForm>
                                                </ConfirmDialog>
                                                <ConfirmDialog id=delete_dialog.clone() trigger="Delete" trigger_label=format!("Delete {name}")
                                                    title=format!("Delete the webhook {name}?") done=deleted open=open_delete>
                                                    <p>{format!("Deliveries to {} stop at once, changes not yet sent are never sent, and its delivery log is lost.", h.url)}</p>
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="id" value=id.to_string()/>
                                                        {move || (!dv.with(needs_reauth)).then(form_error(dv, &[])).flatten()}
                                                        <div class="buttons">
                                                            <button type="submit" class="danger">"Delete webhook"</button>
                                                            <CancelButton of=delete_dialog.clone()/>
                                                        </div>
                                                    </ActionForm>
                                                </ConfirmDialog>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any() }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
            {form_error(uv, &[])}
            {move || resumed.get().then(|| view! { <p class="alert ok" role="status">"Deliveries resumed."</p> })}
            {move || deleted_any.get().then(|| view! { <p class="alert ok" role="status">"Webhook deleted."</p> })}
        </section>
        <Transition fallback=|| ()>
            {move || list.get().and_then(|r| r.ok()).and_then(|(hs, log)| {
                let (id, log) = log?;
                let hook = hs.into_iter().find(|h| h.id == id)?;
                Some(view! { <DeliveryLog hook=hook log=log/> })
            })}
        </Transition>
        <section class="card wide" aria-labelledby="webhook-form-title">
            {move || {
                let fresh = save_ok.get() > 0;
                let h = editing.get();
                let create = h.is_none();
                let h = h.unwrap_or_else(|| Webhook { enabled: true, ..Default::default() });
                let posted = !fresh && refill.with_value(|r| r.iter().any(|(k, _)| *k == "name"));
                let text = |f: &str, current: String| {
                    let typed = refill.with_value(|r| r.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone()));
                    typed.filter(|_| !fresh).unwrap_or(current)
                };
                let ticked = move |f: &str, current: bool| {
                    if posted { refill.with_value(|r| r.iter().any(|(k, _)| *k == f)) } else { current }
                };
                let name = text("name", h.name.clone());
                let url = text("url", h.url.clone());
                let orgs = text("orgs", h.orgs.join(", "));
                let enabled = ticked("enabled", h.enabled);
                let title = if create { "Add a webhook".to_string() } else { format!("Edit {}", h.name) };
                let kinds_error = fe("kinds");
                view! {
                    <h2 id="webhook-form-title">{title}</h2>
                    <ActionForm action=save node_ref=form attr:novalidate=true>
                        <input type="hidden" name="id" value=if create { String::new() } else { h.id.to_string() }/>
                        <Field id="webhook_name" name="name" label="Name" required=true value=name
                            hint="The tool that receives the events, e.g. DBackup cache." error=fe("name")/>
                        <Field id="webhook_url" name="url" label="URL" kind="url" required=true value=url
                            hint="Where each change is POSTed, e.g. https://tool.example.com/roster-events." error=fe("url")/>
                        <fieldset class="group" aria-describedby=move || kinds_error.get().map(|_| "webhook_kinds-error")>
                            <legend>"Changes it receives"</legend>
                            {KINDS.iter().map(|(k, what)| {
                                let id = format!("webhook_kind_{k}");
                                let field = format!("kind_{k}");
                                let on = ticked(&field, h.kinds.iter().any(|x| x == k));
                                view! {
                                    <div class="field check"><input type="checkbox" id=id.clone() name=field value="on" checked=on/>
                                        <label for=id><code>{*k}</code>" — "{*what}</label></div>
                                }
                            }).collect_view()}
                            {move || kinds_error.get().map(|e| view! { <p class="field-error" id="webhook_kinds-error">{e}</p> })}
                        </fieldset>
                        <Field id="webhook_orgs" name="orgs" label="Organizations" value=orgs
                            hint="Comma-separated names; empty: all of them. Role changes concern every organization and always go." error=fe("orgs")/>
                        <div class="field check"><input type="checkbox" id="webhook_enabled" name="enabled" value="on" checked=enabled/>
                            <label for="webhook_enabled">"Enabled (untick to hold deliveries: changes wait, and go out in order once it is ticked again)"</label></div>
                        {form_error(sv, &FIELDS)}
                        <div class="buttons">
                            <button type="submit" class="primary" disabled=move || save.pending().get()>
                                {if create { "Add webhook" } else { "Save webhook" }}
                            </button>
                            {(!create).then(|| view! { <a class="button" href="/admin/webhooks">"Cancel"</a> })}
                        </div>
                    </ActionForm>
                }
            }}
            {move || saved.get().then(|| view! { <p class="alert ok" role="status">"Webhook saved."</p> })}
            {move || reauth.get().then(|| view! { <SudoPrompt on_done=move |_| reauth.set(false)/> })}
            {move || (!reauth.get() && (sv.with(needs_reauth) || rv.with(needs_reauth) || dv.with(needs_reauth))).then(|| view! {
                <p class="alert" role="status">"Confirmed. Submit again."</p>
            })}
        </section>
    }
            }</Show>
        </Transition>
    }
    .into_any()
}
