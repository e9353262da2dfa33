//! The audit log viewer (/admin/audit): filters kept in the URL (linkable; back and forward
//! restore them), keyset pager, before/after as a per-key comparison, export links carrying
//! the current filters. The form works without WASM too (a plain GET form); once hydrated it
//! navigates client-side and leaves empty filters out of the URL.
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::{enc, ErrorBox};
use crate::api::audit::list_audit;
use crate::api::orgs::list_orgs;
use crate::domain::audit::{diff, iso_time, AuditEntry, AuditQuery, KNOWN_EVENTS};
use crate::domain::users::format_time;
use crate::ui::json::json_resource;

/// `base?filters[&extra]` with only the filters that are set.
fn href(base: &str, q: &AuditQuery, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<String> = extra.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    pairs.extend(q.filter_pairs().into_iter().map(|(k, v)| format!("{k}={}", enc(&v))));
    if pairs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", pairs.join("&"))
    }
}

/// What a `datetime-local` input can show for a URL value (unix milliseconds become a UTC
/// date-time; anything else is shown as typed).
fn local_value(v: Option<String>) -> String {
    match v {
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse::<i64>().map(|ms| iso_time(ms).chars().take(16).collect()).unwrap_or(s)
        }
        other => other.unwrap_or_default(),
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        let q = query.read();
        AuditQuery {
            actor: q.get("actor"),
            target: q.get("target"),
            org: q.get("org"),
            event: q.get("event"),
            outcome: q.get("outcome"),
            from: q.get("from"),
            to: q.get("to"),
            before: q.get("before"),
            after: q.get("after"),
        }
    });
    // Nothing is asked of the server that it would refuse: for anyone but a super admin the
    // page is "not for you" and the resources answer that themselves.
    let session = expect_context::<super::Session>();
    let admin = move || session.me.get().and_then(|r| r.ok()).flatten().map(|m| m.super_admin);
    let page = json_resource(
        move || (current.get(), admin()),
        |(q, admin)| async move {
            if admin != Some(true) {
                return Err(super::not_for_you());
            }
            list_audit(q.actor, q.target, q.org, q.event, q.outcome, q.from, q.to, q.before, q.after).await
        },
    );
    let orgs = json_resource(admin, |admin| async move {
        if admin != Some(true) {
            return Err(super::not_for_you());
        }
        list_orgs().await
    });
    // The same validation the server runs, so field errors show next to their inputs.
    let invalid = Memo::new(move |_| current.get().validate().err());
    let error_of = move |field: &'static str| Signal::derive(move || invalid.get().and_then(|e| e.field(field)));

    let actor = NodeRef::<leptos::html::Input>::new();
    let target = NodeRef::<leptos::html::Input>::new();
    let org = NodeRef::<leptos::html::Select>::new();
    let event = NodeRef::<leptos::html::Input>::new();
    let outcome = NodeRef::<leptos::html::Select>::new();
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    let navigate = use_navigate();
    let on_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = |r: NodeRef<leptos::html::Input>| r.get().map(|i| i.value());
        let choice = |r: NodeRef<leptos::html::Select>| r.get().map(|s| s.value());
        let q = AuditQuery {
            actor: text(actor),
            target: text(target),
            org: choice(org),
            event: text(event),
            outcome: choice(outcome),
            from: text(from),
            to: text(to),
            ..Default::default()
        };
        navigate(&href("/admin/audit", &q, &[]), Default::default());
    };
    let selected = move |k: &'static str, v: &'static str| move || query.read().get(k).unwrap_or_default() == v;

    let field = move |id: &'static str,
                      name: &'static str,
                      label: &'static str,
                      kind: &'static str,
                      node: NodeRef<leptos::html::Input>,
                      hint: Option<&'static str>| {
        let err = error_of(name);
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described = {
            let (err_id, hint_id) = (err_id.clone(), hint_id.clone());
            move || {
                let mut ids = Vec::new();
                if hint.is_some() {
                    ids.push(hint_id.clone());
                }
                if err.get().is_some() {
                    ids.push(err_id.clone());
                }
                (!ids.is_empty()).then(|| ids.join(" "))
            }
        };
        let shown = move || {
            let v = query.read().get(name);
            if kind == "datetime-local" {
                local_value(v)
            } else {
                v.unwrap_or_default()
            }
        };
        // `value` for the server-rendered page, `prop:value` so back/forward also updates an
        // input the user has typed in (the attribute no longer shows once it is edited).
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=name type=kind node_ref=node value=shown prop:value=shown
                    list=(name == "event").then_some("audit-events")
                    aria-invalid=move || err.get().is_some().then_some("true")
                    aria-describedby=described/>
                {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
                {move || err.get().map(|e| view! { <p class="field-error" id=err_id.clone()>{e}</p> })}
            </div>
        }
    };
    let org_error = error_of("org");
    let outcome_error = error_of("outcome");

    view! {
        <Transition fallback=|| ()>
            // (Show redraws only when the answer changes, not on every refresh of the session)
            <Show when=move || admin() != Some(false) fallback=|| view! { <super::NotForYou what="The audit log is for super admins."/> }>{
                view! {
        <section class="card wide">
            <h1>"Audit log"</h1>
            <form class="audit-filters" method="get" action="/admin/audit" role="search" aria-label="Filter audit events"
                on:submit=on_filter.clone()>
                {field("audit-actor", "actor", "Actor", "text", actor, Some("Who acted: a username, or cli"))}
                {field("audit-target", "target", "Target", "text", target, Some("A username, role:NAME or org:NAME"))}
                <div class="field">
                    <label for="audit-org">"Organization"</label>
                    <select id="audit-org" name="org" node_ref=org prop:value=move || query.read().get("org").unwrap_or_default()
                        aria-invalid=move || org_error.get().is_some().then_some("true")>
                        <option value="" selected=selected("org", "")>"Any organization"</option>
                        <Transition fallback=|| ()>
                            {move || orgs.get().map(|r| r.unwrap_or_default().into_iter().map(|o| {
                                let id = o.id.to_string();
                                let is = { let id = id.clone(); move || query.read().get("org").as_deref() == Some(id.as_str()) };
                                view! { <option value=id selected=is>{o.name}</option> }
                            }).collect_view())}
                        </Transition>
                    </select>
                    {move || org_error.get().map(|e| view! { <p class="field-error">{e}</p> })}
                </div>
                {field("audit-event", "event", "Event", "text", event, Some("An event, or a category ending in a dot: user."))}
                <datalist id="audit-events">
                    {KNOWN_EVENTS.iter().map(|e| view! { <option value=*e></option> }).collect_view()}
                </datalist>
                <div class="field">
                    <label for="audit-outcome">"Outcome"</label>
                    <select id="audit-outcome" name="outcome" node_ref=outcome
                        prop:value=move || query.read().get("outcome").unwrap_or_default()
                        aria-invalid=move || outcome_error.get().is_some().then_some("true")>
                        <option value="" selected=selected("outcome", "")>"Any outcome"</option>
                        <option value="success" selected=selected("outcome", "success")>"Success"</option>
                        <option value="failure" selected=selected("outcome", "failure")>"Failure"</option>
                    </select>
                    {move || outcome_error.get().map(|e| view! { <p class="field-error">{e}</p> })}
                </div>
                {field("audit-from", "from", "From (UTC)", "datetime-local", from, None)}
                {field("audit-to", "to", "To (UTC)", "datetime-local", to, None)}
                <div class="buttons">
                    <button type="submit" class="primary">"Apply filters"</button>
                    <A href="/admin/audit">"Clear filters"</A>
                </div>
            </form>
            <p class="buttons exports">
                <a class="button" href=move || href("/api/v1/audit/export", &current.get(), &[("format", "csv".into())])
                    download rel="external">"Export CSV"</a>
                <a class="button" href=move || href("/api/v1/audit/export", &current.get(), &[("format", "jsonl".into())])
                    download rel="external">"Export JSON Lines"</a>
                <span class="muted small">"Exports contain every event matching the filters."</span>
            </p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) => {
                        let q = current.get();
                        let org_names: Vec<(i64, String)> = orgs.get().and_then(|r| r.ok()).unwrap_or_default()
                            .into_iter().map(|o| (o.id, o.name)).collect();
                        let empty = p.events.is_empty();
                        let newest = href("/admin/audit", &q, &[]);
                        let newer = p.newer.map(|n| href("/admin/audit", &q, &[("after", n.to_string())]));
                        let older = p.older.map(|n| href("/admin/audit", &q, &[("before", n.to_string())]));
                        view! {
                            <div class="table-wrap">
                            <table class="audit">
                                <caption class="sr-only">"Audit events, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Time"</th><th scope="col">"Event"</th><th scope="col">"Outcome"</th>
                                    <th scope="col">"Actor"</th><th scope="col">"Target"</th><th scope="col">"Organization"</th>
                                    <th scope="col">"IP"</th><th scope="col">"Before → after"</th>
                                </tr></thead>
                                <tbody>
                                    {p.events.into_iter().map(|e| row(e, &org_names)).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <Show when=move || empty>
                                <p class="muted">"No audit events match these filters."</p>
                            </Show>
                            <nav class="pager" aria-label="Audit pages">
                                <A href=newest>"Newest"</A>
                                {match newer {
                                    Some(h) => view! { <A href=h>"Newer"</A> }.into_any(),
                                    None => view! { <span class="muted" aria-disabled="true">"Newer"</span> }.into_any(),
                                }}
                                {match older {
                                    Some(h) => view! { <A href=h>"Older"</A> }.into_any(),
                                    None => view! { <span class="muted" aria-disabled="true">"Older"</span> }.into_any(),
                                }}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </section>}
            }</Show>
        </Transition>
    }
}

fn row(e: AuditEntry, org_names: &[(i64, String)]) -> impl IntoView {
    let org = e
        .org_id
        .map(|id| org_names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or_else(|| format!("#{id}")));
    let outcome = e.outcome.clone();
    view! {
        <tr>
            <td class="nowrap"><time datetime=iso_time(e.at)>{format_time(e.at)}</time></td>
            <td><code>{e.event.clone()}</code></td>
            <td><span class=format!("badge {outcome}")>{outcome.clone()}</span></td>
            <td>{e.actor.clone().unwrap_or_default()}</td>
            <td>{e.target.clone().unwrap_or_default()}</td>
            <td>{org.unwrap_or_default()}</td>
            <td>{e.ip.clone().unwrap_or_default()}</td>
            <td>{changes(e.before, e.after)}</td>
        </tr>
    }
}

/// Before and after side by side, one line per key, changed keys marked (in words too, for
/// screen readers and without colour).
fn changes(before: Option<String>, after: Option<String>) -> AnyView {
    if before.is_none() && after.is_none() {
        return ().into_any();
    }
    match diff(before.as_deref(), after.as_deref()) {
        Some(keys) => view! {
            <table class="diff">
                <thead><tr><th scope="col">"Field"</th><th scope="col">"Before"</th><th scope="col">"After"</th></tr></thead>
                <tbody>
                    {keys.into_iter().map(|c| {
                        let changed = c.changed();
                        view! {
                            <tr class:changed=changed>
                                <th scope="row">{c.key.clone()}
                                    {changed.then(|| view! { <span class="sr-only">" (changed)"</span> })}</th>
                                <td>{c.before.unwrap_or_else(|| "—".into())}</td>
                                <td>{c.after.unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any(),
        None => view! {
            <div class="diff-raw">
                <p><span class="muted">"Before: "</span><code class="json">{before.unwrap_or_default()}</code></p>
                <p><span class="muted">"After: "</span><code class="json">{after.unwrap_or_default()}</code></p>
            </div>
        }
        .into_any(),
    }
}
