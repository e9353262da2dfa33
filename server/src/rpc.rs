//! Around every `/rpc/{name}` call (Leptos server functions): what the framework leaves to us.
//! 1. Every error answer gets the status of its error (401, 403, 404, 409, 422, 429...),
//!    whatever produced it: the function, or the framework failing to parse its arguments
//!    (which Leptos answers with a blanket 500).
//! 2. Forms posted before the WASM has arrived (slow links, blocked scripts): the browser
//!    posted natively and expects a page, not JSON. The answer is a 303 back to the page the
//!    form was on, with the outcome in the query (`rpc`, and `error` or `ok`, plus the
//!    non-secret fields typed, so the form comes back filled in); the page renders the
//!    message where the form is (`ui::forms`). A function that names where to go on success
//!    (`leptos_axum::redirect`) sends the browser there instead.
//!
//! Threats: an open redirect (only a same-origin Referer's path is used, never a host), and
//! secrets in URLs (fields whose names say password, secret, code, token or credential are
//! never copied into the query).
use app::domain::Error;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;

/// Largest body a server function takes (forms and JSON), but the import's file (see
/// `http_guard::takes_upload`).
const MAX_BODY: usize = 256 * 1024;
/// Largest answer read back for a native post (the import's report of every row).
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// The most a redirect carries back of typed values (URLs must stay short).
const MAX_VALUES: usize = 2048;

/// Form fields never echoed into a URL. (The import's `text` and `databases` are whole
/// files, which may hold database passwords.)
fn is_secret(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    ["password", "secret", "code", "token", "credential", "ceremony"].iter().any(|s| f.contains(s))
        || matches!(f.as_str(), "text" | "databases")
}

/// Whether the request is a native form post (the browser wants a page back). The WASM
/// client asks for JSON.
fn plain_form_post(h: &HeaderMap) -> bool {
    let accept = h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ctype = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("text/html") && ctype.starts_with("application/x-www-form-urlencoded")
}

/// The boundary of a native form post with files (`enctype="multipart/form-data"`).
fn native_multipart(h: &HeaderMap) -> Option<String> {
    let accept = h.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ctype = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !accept.contains("text/html") {
        return None;
    }
    multer::parse_boundary(ctype).ok()
}

/// A native post with files as the URL-encoded body its function reads: every field as
/// sent, and a file chosen in a field named `NAME_file` as the value of `NAME` (what the
/// page's script does when it reads a chosen file into the form). No file chosen: `NAME`
/// as typed.
async fn form_from_multipart(boundary: String, body: Body, limit: usize) -> Result<Vec<u8>, Error> {
    let too_large = || Error::invalid("file", "The form is too large: a file may have at most 64 MB.");
    let unreadable = || Error::invalid("request", "This form could not be read. Reload the page and try again.");
    let constraints = multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(multer::Error::StreamSizeExceeded { .. } | multer::Error::StreamReadFailed(_)) => {
                return Err(too_large())
            }
            Err(_) => return Err(unreadable()),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(multer::Error::StreamSizeExceeded { .. } | multer::Error::StreamReadFailed(_)) => {
                return Err(too_large())
            }
            Err(_) => return Err(unreadable()),
        };
        match (file_name, name.strip_suffix("_file")) {
            // (an input left empty is sent as a part with no name and no bytes)
            (Some(f), _) if f.is_empty() && bytes.is_empty() => {}
            (Some(f), Some(target)) => {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| Error::invalid("file", format!("{f} is not a text file (UTF-8).")))?;
                files.push((target.to_string(), text));
            }
            (Some(_), None) => {}
            (None, _) => fields.push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    for (target, text) in files {
        fields.retain(|(k, _)| *k != target);
        fields.push((target, text));
    }
    Ok(form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish().into_bytes())
}

/// The path and query of a same-origin Referer (`host` is the request's Host), else `/`.
fn back_to(h: &HeaderMap, public_origin: Option<&str>) -> String {
    let referer = h.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some((scheme_host, path)) = split_origin(referer) else { return "/".into() };
    let ours = match public_origin {
        Some(p) => scheme_host.eq_ignore_ascii_case(p.trim_end_matches('/')),
        None => scheme_host.split_once("://").is_some_and(|(_, h)| h.eq_ignore_ascii_case(host)),
    };
    // A path that starts with // or /\ would be read as another host by browsers.
    if ours && path.starts_with('/') && !path.starts_with("//") && !path.starts_with("/\\") {
        path.to_string()
    } else {
        "/".into()
    }
}

/// ("https://host:port", "/path?query") of an absolute http(s) URL.
fn split_origin(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let scheme_len = url.len() - rest.len();
    let slash = rest.find('/').unwrap_or(rest.len());
    let (origin, path) = url.split_at(scheme_len + slash);
    Some((origin, if path.is_empty() { "/" } else { path }))
}

/// `path` with our outcome parameters replaced by `params`. One-shot notices the page was
/// opened with (a single sign-on link's outcome) go too: they told of an earlier action.
fn with_outcome(path: &str, params: &[(&str, String)]) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut kept: Vec<(String, String)> = url_pairs(query)
        .into_iter()
        .filter(|(k, _)| !matches!(k.as_str(), "rpc" | "error" | "ok" | "values" | "sig" | "sso_linked" | "sso_error"))
        .collect();
    kept.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let q: Vec<String> = kept.iter().map(|(k, v)| format!("{}={}", app::ui::enc(k), app::ui::enc(v))).collect();
    if q.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", q.join("&"))
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded_pairs(q.as_bytes())
}

/// Decodes `application/x-www-form-urlencoded` (also query strings).
fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The outcome parameters with their signature (`sig`), which the page checks before it
/// shows anything from them (`app::ui::forms`).
fn signed(b: &app::backend::Backend, mut params: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    let get = |k: &str| params.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str()).unwrap_or("");
    let msg = app::ui::forms::outcome_message(get("rpc"), get("error"), get("values"), get("ok"));
    let sig = b64(&b.outcomes.sign(msg.as_bytes()));
    params.push(("sig", sig));
    params
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

/// Middleware around every `/rpc/` request (Leptos registers each function at its own path).
pub async fn layer(
    axum::extract::State(backend): axum::extract::State<app::backend::Backend>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if !req.uri().path().starts_with("/rpc/") {
        return next.run(req).await;
    }
    let name = req.uri().path().trim_start_matches("/rpc/").to_string();
    let limit = if crate::http_guard::takes_upload(req.uri().path()) {
        app::domain::import::MAX_UPLOAD_BYTES
    } else {
        MAX_BODY
    };
    let back = back_to(req.headers(), backend.config.public_origin.as_deref());
    let cookies = req.headers().get(header::COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let (mut parts, body) = req.into_parts();
    let bytes = if let Some(boundary) = native_multipart(&parts.headers) {
        match form_from_multipart(boundary, body, limit).await {
            Ok(form) => {
                let h = &mut parts.headers;
                h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(form.len()));
                axum::body::Bytes::from(form)
            }
            Err(err) => {
                let params = vec![("rpc", name), ("error", b64(&serde_json::to_vec(&err).unwrap_or_default()))];
                return see_other(&with_outcome(&back, &signed(&backend, params)));
            }
        }
    } else {
        match to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                let err = Error::invalid("request", "The request is too large.");
                return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(crate::rest::error_body(&err))).into_response();
            }
        }
    };
    let plain = plain_form_post(&parts.headers);
    // Leptos redirects a native form post back to its Referer by itself (an absolute URL, and
    // the error's status may replace the 302): we decide instead. Our functions name paths
    // (`on_success_go`), never absolute URLs, so an absolute Location is Leptos's.
    let values = if plain {
        form_urlencoded_pairs(&bytes).into_iter().filter(|(k, _)| !is_secret(k)).collect()
    } else {
        Vec::new()
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    let res = next.run(req).await;

    let failed = res.headers().contains_key("serverfnerror");
    let answered = res.status().is_success() || res.status().is_redirection();
    if !(failed || answered) {
        // Not a function's own answer (no such function, a body the framework refused):
        // JSON for scripts (see `edge::json_errors`), the page with a message for forms.
        if !plain {
            return res;
        }
        let err = Error::invalid("request", "This form could not be sent. Reload the page and try again.");
        let params = vec![("rpc", name), ("error", b64(&serde_json::to_vec(&err).unwrap_or_default()))];
        return see_other(&with_outcome(&back, &signed(&backend, params)));
    }
    if !failed {
        if !plain {
            return res;
        }
        // A function that sends the browser to another site (a sign-in provider) named the
        // URL it built (`on_success_leave_for`).
        let leave_for = res
            .headers()
            .get(app::api::LEAVE_FOR_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_string);
        if let Some(to) = leave_for {
            let mut r = see_other(&to);
            copy_cookies(&res, &mut r);
            return r;
        }
        // A function that chose where success goes (`on_success_go`) has set Location.
        let location = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).filter(|l| l.starts_with('/'));
        if let Some(to) = location.map(str::to_string) {
            let mut r = see_other(&to);
            copy_cookies(&res, &mut r);
            return r;
        }
        // An answer shown once (a new token, recovery codes) goes to the page in a sealed
        // cookie, never in the URL.
        let (res, once) = if app::backend::sessions::SHOWN_ONCE.contains(&name.as_str()) {
            let session = app::backend::sessions::token_from_cookie_header(&backend, &cookies);
            let (res_parts, body) = res.into_parts();
            let answer = to_bytes(body, MAX_ANSWER).await.unwrap_or_default();
            let res = Response::from_parts(res_parts, Body::empty());
            let cookie =
                session.and_then(|s| app::backend::sessions::set_shown_once_cookie(&backend, &name, &s, &answer));
            (res, cookie)
        } else {
            (res, None)
        };
        let mut r = see_other(&with_outcome(&back, &signed(&backend, vec![("rpc", name), ("ok", "1".into())])));
        copy_cookies(&res, &mut r);
        if let Some(v) = once.and_then(|c| HeaderValue::from_str(&c).ok()) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        return r;
    }
    let (res_parts, body) = res.into_parts();
    let body = to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let err: Error =
        serde_json::from_slice(&body).unwrap_or_else(|_| app::backend::internal("unreadable server function error"));
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if plain {
        let mut params = vec![("rpc", name), ("error", b64(&serde_json::to_vec(&err).unwrap_or_default()))];
        let typed: serde_json::Map<String, serde_json::Value> =
            values.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        let typed = serde_json::to_vec(&typed).unwrap_or_default();
        if typed.len() <= MAX_VALUES {
            params.push(("values", b64(&typed)));
        }
        let mut r = see_other(&with_outcome(&back, &signed(&backend, params)));
        copy_cookies_from(&res_parts.headers, &mut r);
        return r;
    }
    let mut r = Response::from_parts(res_parts, Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().remove(header::LOCATION);
    r
}

fn copy_cookies(from: &Response, to: &mut Response) {
    copy_cookies_from(from.headers(), to);
}

fn copy_cookies_from(from: &HeaderMap, to: &mut Response) {
    for v in from.get_all(header::SET_COOKIE) {
        to.headers_mut().append(header::SET_COOKIE, v.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referers_only_lead_back_to_our_own_pages() {
        let h = |referer: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("roster.test:3000"));
            h.insert(header::REFERER, HeaderValue::from_str(referer).expect("value"));
            h
        };
        assert_eq!(back_to(&h("http://roster.test:3000/sign-in?next=/members"), None), "/sign-in?next=/members");
        assert_eq!(back_to(&h("http://roster.test:3000"), None), "/");
        assert_eq!(back_to(&h("http://evil.example/sign-in"), None), "/");
        assert_eq!(back_to(&h("http://roster.test:3000//evil.example/x"), None), "/");
        assert_eq!(back_to(&h("javascript:alert(1)"), None), "/");
        assert_eq!(back_to(&h("https://roster.example.com/members"), Some("https://roster.example.com")), "/members");
        assert_eq!(back_to(&h("http://roster.test:3000/members"), Some("https://roster.example.com")), "/");
    }

    #[test]
    fn outcomes_replace_earlier_ones_and_keep_the_page_query() {
        let to =
            with_outcome("/members?search=ann&rpc=x&error=old", &[("rpc", "set_member".into()), ("ok", "1".into())]);
        assert_eq!(to, "/members?search=ann&rpc=set_member&ok=1");
        let to = with_outcome("/profile?sso_linked=1", &[("rpc", "unlink_sso".into()), ("ok", "1".into())]);
        assert_eq!(to, "/profile?rpc=unlink_sso&ok=1");
        let to = with_outcome("/profile?sso_error=denied&tab=x", &[("rpc", "unlink_sso".into())]);
        assert_eq!(to, "/profile?tab=x&rpc=unlink_sso");
        assert_eq!(with_outcome("/", &[]), "/");
    }

    fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Body {
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(b"--XyZ\r\n");
            let disposition = match file {
                Some(f) => format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"),
                None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
            };
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        Body::from(body)
    }

    async fn form_of(parts: &[(&str, Option<&str>, &[u8])], limit: usize) -> Result<Vec<(String, String)>, Error> {
        let form = form_from_multipart("XyZ".into(), multipart(parts), limit).await?;
        Ok(form_urlencoded_pairs(&form))
    }

    #[tokio::test]
    async fn a_chosen_file_is_the_value_of_its_field() {
        let csv = "username,email\nann,ann@example.com\n";
        let got = form_of(
            &[
                ("format", None, b"csv"),
                ("text_file", Some("users.csv"), csv.as_bytes()),
                ("text", None, b"pasted, but a file was chosen"),
                ("databases_file", Some(""), b""),
                ("databases", None, b"as typed & kept"),
                ("notes_file", Some("notes.txt"), b"read as text"),
                ("stray", Some("x.bin"), b"a file whose field is not NAME_file: left out"),
            ],
            1024,
        )
        .await
        .expect("form");
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            got,
            vec![s("format", "csv"), s("databases", "as typed & kept"), s("text", csv), s("notes", "read as text")]
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_text_or_too_large_is_refused_by_name() {
        let err =
            form_of(&[("text_file", Some("photo.jpg"), &[0xff, 0xd8, 0xff, 0x00])], 1024).await.expect_err("binary");
        assert_eq!(err.field("file").as_deref(), Some("photo.jpg is not a text file (UTF-8)."));
        let big = vec![b'a'; 4096];
        let err = form_of(&[("text_file", Some("users.cfg"), &big)], 1024).await.expect_err("too large");
        assert!(err.field("file").is_some_and(|m| m.contains("64 MB")), "{err:?}");
    }

    #[test]
    fn form_bodies_decode() {
        let v = form_urlencoded_pairs(b"login=ann+b%40example.com&password=p%26w&empty=&bad=%zz");
        assert_eq!(
            v,
            vec![
                ("login".into(), "ann b@example.com".into()),
                ("password".into(), "p&w".into()),
                ("empty".into(), String::new()),
                ("bad".into(), "%zz".into()),
            ]
        );
        assert!(is_secret("password") && is_secret("new_password") && is_secret("code") && !is_secret("login"));
        assert!(is_secret("text") && is_secret("databases") && !is_secret("org"));
    }
}
