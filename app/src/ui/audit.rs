//! The audit trail, newest first (a fuller viewer with filters comes later).
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::ErrorBox;
use crate::api::audit::list_audit;
use crate::domain::users::format_time;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || query.read().get("before").and_then(|b| b.parse::<i64>().ok());
    let page = Resource::new(before, list_audit);
    view! {
        <section class="card wide">
            <h1>"Audit log"</h1>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || page.get().map(|r| match r {
                    Ok(p) => {
                        let next = p.next;
                        view! {
                            <div class="table-wrap">
                            <table>
                                <caption class="sr-only">"Audit events, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Time"</th><th scope="col">"Event"</th><th scope="col">"Outcome"</th>
                                    <th scope="col">"Actor"</th><th scope="col">"Target"</th><th scope="col">"IP"</th>
                                    <th scope="col">"Before"</th><th scope="col">"After"</th>
                                </tr></thead>
                                <tbody>
                                    {p.events.into_iter().map(|e| view! {
                                        <tr>
                                            <td>{format_time(e.at)}</td>
                                            <td><code>{e.event}</code></td>
                                            <td><span class=format!("badge {}", e.outcome)>{e.outcome.clone()}</span></td>
                                            <td>{e.actor.unwrap_or_default()}</td>
                                            <td>{e.target.unwrap_or_default()}</td>
                                            <td>{e.ip.unwrap_or_default()}</td>
                                            <td><code class="json">{e.before.unwrap_or_default()}</code></td>
                                            <td><code class="json">{e.after.unwrap_or_default()}</code></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <nav class="pager" aria-label="Audit pages">
                                <a href="/admin/audit">"Newest"</a>
                                {next.map(|n| view! { <a href=format!("/admin/audit?before={n}")>"Older"</a> })}
                            </nav>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
