use leptos::prelude::*;

use crate::domain::access::Explanation;
use crate::domain::Error;

/// Explains `ability` for `user` (empty: an anonymous visitor) in `org` (id or name;
/// empty: the current organization).
#[server(prefix = "/rpc", endpoint = "explain_access")]
pub async fn explain_access(user: String, org: String, ability: String) -> Result<Explanation, Error> {
    use crate::backend::services::{access, orgs};
    let (b, ctx) = super::ctx()?;
    let ability = access::parse_ability(&ability)?;
    let org = if org.trim().is_empty() { ctx.org() } else { orgs::visible(&b, &ctx, &org)? };
    let user = Some(user.as_str()).filter(|u| !u.trim().is_empty());
    access::explain(&b, &ctx, user, org, ability)
}
