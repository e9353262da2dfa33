//! The consent page's question: what an application asks to receive, read from the
//! authorization request in the page's URL (checked again when the answer is posted to
//! `/oauth/authorize`).
use leptos::prelude::*;

use crate::domain::oauth::ConsentRequest;
use crate::domain::Error;

/// What to ask about the authorization request `query` (the page's query string); `None`
/// when there is nothing to ask (not signed in, the request refused, or consent already
/// given): the page then offers the way back.
#[server(prefix = "/rpc", endpoint = "ask_consent")]
pub async fn ask_consent(query: String) -> Result<Option<ConsentRequest>, Error> {
    use crate::backend::services::provider::{self, Step};
    use crate::domain::oauth::AuthorizeParams;
    let (b, ctx) = super::ctx()?;
    // (a repeated parameter keeps its first value here; the posted answer is checked whole)
    let mut fields = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        fields.entry(k.into_owned()).or_insert(serde_json::Value::String(v.into_owned()));
    }
    let Ok(params) = serde_json::from_value::<AuthorizeParams>(serde_json::Value::Object(fields)) else {
        return Ok(None);
    };
    match provider::authorize(&b, &ctx, &params, None).await? {
        Step::Consent(c) => Ok(Some(*c)),
        _ => Ok(None),
    }
}
