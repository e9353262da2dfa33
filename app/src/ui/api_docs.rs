//! The API reference: the OpenAPI document the server generates from its handlers, rendered
//! as a page (operations grouped by tag, their parameters, bodies and every answer they can
//! give, then the schemas). Folded sections are `<details>`, so it reads and navigates the
//! same before the WASM arrives.
use leptos::prelude::*;
use serde_json::Value;

use super::ErrorBox;
use crate::api::meta::api_description;
use crate::ui::json::json_resource;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The name a `$ref` points at (`#/components/schemas/User` -> `User`).
fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next())
}

/// A schema in a few words: `User`, `list of Role`, `string or null`, `one of asc, desc`.
fn type_words(s: &Value) -> String {
    if let Some(name) = ref_name(s) {
        return name.to_string();
    }
    if let Some(all) = s.get("oneOf").or_else(|| s.get("anyOf")).and_then(Value::as_array) {
        return all.iter().map(type_words).collect::<Vec<_>>().join(" or ");
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        return all.iter().map(type_words).collect::<Vec<_>>().join(" and ");
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let values: Vec<String> =
            values.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
        return format!("one of {}", values.join(", "));
    }
    let kinds: Vec<String> = match s.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => vec![],
    };
    let words: Vec<String> = kinds
        .iter()
        .map(|k| match k.as_str() {
            "array" => format!("list of {}", s.get("items").map(type_words).unwrap_or_else(|| "anything".into())),
            "integer" | "number" => match s.get("format").and_then(Value::as_str) {
                Some(f) => format!("{k} ({f})"),
                None => k.clone(),
            },
            other => other.to_string(),
        })
        .collect();
    if words.is_empty() {
        "any".into()
    } else {
        words.join(" or ")
    }
}

/// A link to the schema section when the type is a named schema.
fn type_view(s: &Value) -> AnyView {
    match ref_name(s) {
        Some(name) => {
            let href = format!("#schema-{name}");
            view! { <a href=href><code>{name.to_string()}</code></a> }.into_any()
        }
        None => view! { <code>{type_words(s)}</code> }.into_any(),
    }
}

/// Descriptions are written in Markdown; the one mark they use is `code`: spans between
/// backticks become `<code>`, the rest stays text (never HTML from the document).
fn prose(s: &str) -> AnyView {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = part.to_string();
            if i % 2 == 1 {
                view! { <code>{part}</code> }.into_any()
            } else {
                part.into_any()
            }
        })
        .collect_view()
        .into_any()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// `$ref`s to shared responses resolved against the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(v),
        None => v,
    }
}

fn content_view(content: &Value) -> AnyView {
    let Some(content) = content.as_object() else { return ().into_any() };
    content
        .iter()
        .map(|(mime, c)| {
            view! {
                <span class="content">
                    <code>{mime.clone()}</code>
                    {c.get("schema").map(|s| view! { " " {type_view(s)} })}
                </span>
            }
        })
        .collect_view()
        .into_any()
}

fn operation_view(doc: &Value, method: &str, path: &str, op: &Value) -> impl IntoView {
    let id = text(op, "operationId");
    let summary = text(op, "summary");
    let description = text(op, "description");
    let public = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().all(|x| x == &Value::Object(Default::default())));
    let params: Vec<Value> = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    let body = op.get("requestBody").cloned();
    let responses: Vec<(String, Value)> = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|r| r.iter().map(|(k, v)| (k.clone(), resolve(doc, v).clone())).collect())
        .unwrap_or_default();
    let method_class = format!("method {method}");
    let method_upper = method.to_uppercase();
    let path = path.to_string();
    view! {
        <details class="operation" id=id.clone()>
            <summary>
                <span class=method_class>{method_upper}</span>
                " "
                <code class="path">{path}</code>
                " "
                <span class="op-summary">{summary}</span>
            </summary>
            <div class="operation-body">
                {(!description.is_empty()).then(|| view! { <p>{prose(&description)}</p> })}
                {public.then(|| view! { <p class="muted">"No credentials needed."</p> })}
                {(!params.is_empty()).then(|| view! {
                    <h4>"Parameters"</h4>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"In"</th><th scope="col">"Type"</th><th scope="col">"Description"</th></tr></thead>
                            <tbody>
                                {params.iter().map(|p| {
                                    let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                                    view! {
                                        <tr>
                                            <th scope="row"><code>{text(p, "name")}</code>{required.then_some(" (required)")}</th>
                                            <td>{text(p, "in")}</td>
                                            <td>{p.get("schema").map(type_view)}</td>
                                            <td>{prose(&text(p, "description"))}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })}
                {body.map(|b| view! {
                    <h4>"Request body"</h4>
                    <p>{b.get("content").map(content_view)}</p>
                })}
                <h4>"Answers"</h4>
                <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"Status"</th><th scope="col">"Meaning"</th><th scope="col">"Body"</th></tr></thead>
                        <tbody>
                            {responses.into_iter().map(|(status, r)| {
                                // (the shared refusal's long description is given once, above)
                                let shared = r.get("content").and_then(|c| c.get("application/json")).and_then(|c| c.get("schema")).and_then(ref_name) == Some("ErrorBody");
                                let meaning = if shared { refusal_words(&status).to_string() } else { text(&r, "description") };
                                view! {
                                    <tr>
                                        <th scope="row">{status}</th>
                                        <td>{meaning}</td>
                                        <td>{r.get("content").map(content_view)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </div>
        </details>
    }
}

/// What each refusal status means, in the console's words.
fn refusal_words(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request",
        "401" => "Not signed in, or the token is not valid",
        "403" => "Not allowed (or a cross-site browser request, or sudo mode needed)",
        "404" => "Not found, or not visible to you",
        "409" => "Conflicts with what is stored",
        "413" => "Body too large",
        "414" => "Address too long",
        "422" => "Invalid input (see fields)",
        "429" => "Too many failed attempts (see Retry-After)",
        "500" => "A failure on our side (logged with a reference)",
        "502" => "A provider could not be reached",
        _ => "Refused",
    }
}

fn schema_view(name: &str, s: &Value) -> impl IntoView {
    let id = format!("schema-{name}");
    let description = text(s, "description");
    let required: Vec<String> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let props: Vec<(String, Value)> = s
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let plain = props.is_empty().then(|| type_words(s));
    view! {
        <details class="schema" id=id>
            <summary><code>{name.to_string()}</code>{plain.map(|t| view! { " " <span class="muted">{t}</span> })}</summary>
            {(!description.is_empty()).then(|| view! { <p>{prose(&description)}</p> })}
            {(!props.is_empty()).then(|| view! {
                <div class="table-wrap">
                    <table>
                        <thead><tr><th scope="col">"Field"</th><th scope="col">"Type"</th><th scope="col">"Description"</th></tr></thead>
                        <tbody>
                            {props.into_iter().map(|(field, v)| {
                                let needed = required.contains(&field);
                                view! {
                                    <tr>
                                        <th scope="row"><code>{field}</code>{needed.then_some(" (always)")}</th>
                                        <td>{type_view(&v)}</td>
                                        <td>{prose(&text(&v, "description"))}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </details>
    }
}

fn document_view(doc: Value) -> impl IntoView {
    let description = doc.pointer("/info/description").and_then(Value::as_str).unwrap_or_default().to_string();
    let base = doc.pointer("/servers/0/url").and_then(Value::as_str).unwrap_or("/api/v1").to_string();
    let tags: Vec<(String, String)> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().map(|t| (text(t, "name"), text(t, "description"))).collect())
        .unwrap_or_default();
    let paths = doc.get("paths").and_then(Value::as_object).cloned().unwrap_or_default();
    let sections = tags
        .iter()
        .map(|(tag, tag_description)| {
            let ops: Vec<AnyView> = paths
                .iter()
                .flat_map(|(path, item)| METHODS.iter().filter_map(move |m| item.get(*m).map(|op| (*m, path, op))))
                .filter(|(_, _, op)| {
                    op.get("tags").and_then(Value::as_array).is_some_and(|t| t.iter().any(|x| x.as_str() == Some(tag)))
                })
                .map(|(m, path, op)| operation_view(&doc, m, path, op).into_any())
                .collect();
            let id = format!("tag-{tag}");
            let heading = tag_description.clone();
            view! {
                <section class="card api-tag" aria-labelledby=format!("{id}-h")>
                    <h2 id=format!("{id}-h")>{heading}</h2>
                    {ops}
                </section>
            }
        })
        .collect_view();
    let schemas: Vec<(String, Value)> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    view! {
        <section class="card">
            <h1>"API reference"</h1>
            <p>{prose(&description)}</p>
            <p>
                "Every path below starts with " <code>{base}</code> ". "
                <a href="/api/v1/openapi.json" download="roster-openapi.json">"Download the OpenAPI document"</a>
                " for client generators and API tools. "
                <a href="/profile#tokens-title">"Create a personal access token"</a> " to call it from scripts."
            </p>
            <nav aria-label="API sections" class="api-toc">
                <ul>
                    {tags.iter().map(|(tag, d)| view! { <li><a href=format!("#tag-{tag}-h")>{d.clone()}</a></li> }).collect_view()}
                    <li><a href="#schemas-h">"Schemas"</a></li>
                </ul>
            </nav>
        </section>
        {sections}
        <section class="card api-tag" aria-labelledby="schemas-h">
            <h2 id="schemas-h">"Schemas"</h2>
            {schemas.into_iter().map(|(name, s)| schema_view(&name, &s)).collect_view()}
        </section>
    }
}

#[component]
pub fn ApiPage() -> impl IntoView {
    let doc = json_resource(|| (), |_| api_description());
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the API reference..."</p> }>
            {move || doc.get().map(|r| match r {
                Ok(text) => match serde_json::from_slice::<Value>(text.as_bytes()) {
                    Ok(doc) => document_view(doc).into_any(),
                    Err(e) => view! { <ErrorBox error=crate::domain::Error::Transport(e.to_string())/> }.into_any(),
                },
                Err(e) => view! { <ErrorBox error=e/> }.into_any(),
            })}
        </Suspense>
    }
}
