use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::domain::users::{NewUser, SortDir, SortField, UserChanges, UserQuery, UserStatus};
use crate::domain::users::{User, UserPage};
use crate::domain::Error;

#[cfg(feature = "ssr")]
fn parse_status(s: &str) -> Result<UserStatus, Error> {
    UserStatus::parse(s).ok_or_else(|| Error::invalid("status", "Status must be active or disabled."))
}

#[cfg(feature = "ssr")]
fn checkbox(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| v == "on" || v == "true")
}

#[server(prefix = "/rpc", endpoint = "list_users")]
pub async fn list_users(
    search: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    after: Option<String>,
    before: Option<String>,
    #[server(default)] legacy_hash: Option<String>,
) -> Result<UserPage, Error> {
    let (b, ctx) = super::ctx()?;
    let sort = match sort.as_deref() {
        None | Some("") => Ok(SortField::default()),
        Some(s) => SortField::parse(s).ok_or_else(|| Error::invalid("sort", format!("Cannot sort by '{s}'."))),
    }?;
    let dir = match dir.as_deref() {
        None | Some("") => Ok(SortDir::default()),
        Some(d) => SortDir::parse(d).ok_or_else(|| Error::invalid("dir", "Direction must be asc or desc.")),
    }?;
    let q = UserQuery { search, sort, dir, after, before, limit: None, legacy_hash: checkbox(&legacy_hash) };
    crate::backend::services::users::list(&b, &ctx, q).await
}

#[server(prefix = "/rpc", endpoint = "get_user")]
pub async fn get_user(username: String) -> Result<User, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::users::get(&b, &ctx, &username).await
}

#[server(prefix = "/rpc", endpoint = "create_user")]
pub async fn create_user(
    username: String,
    full_name: String,
    email: String,
    password: String,
    status: String,
    super_admin: Option<String>,
    role: Option<String>,
) -> Result<User, Error> {
    let (b, ctx) = super::ctx()?;
    let n = NewUser {
        username,
        full_name,
        email,
        password: Some(password),
        super_admin: checkbox(&super_admin),
        status: parse_status(&status)?,
        org: None,
        role: role.filter(|r| !r.is_empty()),
        password_hash: None,
    };
    let u = crate::backend::services::users::create(&b, &ctx, n).await?;
    super::on_success_go(&format!("/admin/users/{}?created=1", crate::ui::enc(&u.username)));
    Ok(u)
}

#[server(prefix = "/rpc", endpoint = "copy_user")]
pub async fn copy_user(
    source: String,
    username: String,
    full_name: String,
    email: String,
    password: String,
) -> Result<User, Error> {
    let (b, ctx) = super::ctx()?;
    let n = NewUser { username, full_name, email, password: Some(password), ..Default::default() };
    let u = crate::backend::services::users::copy(&b, &ctx, &source, n).await?;
    super::on_success_go(&format!("/admin/users/{}?created=1", crate::ui::enc(&u.username)));
    Ok(u)
}

#[server(prefix = "/rpc", endpoint = "update_user")]
pub async fn update_user(
    username: String,
    full_name: String,
    email: String,
    status: String,
    super_admin: Option<String>,
    password: Option<String>,
) -> Result<User, Error> {
    let (b, ctx) = super::ctx()?;
    let c = UserChanges {
        full_name: Some(full_name),
        email: Some(email),
        status: Some(parse_status(&status)?),
        super_admin: Some(checkbox(&super_admin)),
        password: password.filter(|p| !p.is_empty()),
    };
    crate::backend::services::users::update(&b, &ctx, &username, c).await
}

#[server(prefix = "/rpc", endpoint = "delete_user")]
pub async fn delete_user(username: String) -> Result<(), Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::users::delete(&b, &ctx, &username).await?;
    // The account's own page is gone: back to the list (from the members page, back there).
    if super::referer_path().is_some_and(|p| p.starts_with("/admin/users/")) {
        super::on_success_go("/admin/users");
    }
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "account_holders")]
pub async fn account_holders(username: String) -> Result<Vec<crate::domain::users::AccountHolder>, Error> {
    let (b, ctx) = super::ctx()?;
    crate::backend::services::users::account_holders(&b, &ctx, &username).await
}

/// `level`: "view", "edit", or "none" to take `holder` off the lists.
#[server(prefix = "/rpc", endpoint = "set_account_holder")]
pub async fn set_account_holder(
    username: String,
    holder: String,
    level: String,
) -> Result<Vec<crate::domain::users::AccountHolder>, Error> {
    use crate::domain::users::AccountLevel;
    let (b, ctx) = super::ctx()?;
    let level = match level.as_str() {
        "none" => Ok(None),
        other => {
            AccountLevel::parse(other).map(Some).ok_or_else(|| Error::invalid("level", "Choose view, edit or none."))
        }
    }?;
    crate::backend::services::users::set_account_holder(&b, &ctx, &username, &holder, level).await
}

/// The password rules in force (shown on every form that sets a password; public: the
/// first sign-up needs them too).
#[server(prefix = "/rpc", endpoint = "password_rules")]
pub async fn password_rules() -> Result<String, Error> {
    let (b, _) = super::ctx()?;
    Ok(b.config.password_policy.describe())
}
