//! First run, sign-in and sign-out: the pages and the server functions behind them.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::people::{Email, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use crate::{error::PanelError, forms::action_error};

/// How many orders the first-run page's demo option loads.
pub const FIRST_RUN_DEMO_ORDERS: i64 = 2_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role_label: String,
    pub oversees_sign_ins: bool,
    pub manages_team: bool,
    pub manages_orders: bool,
    pub manages_store: bool,
    pub store_name: String,
}

#[server(endpoint = "signed_in_user")]
pub async fn signed_in_user() -> Result<Option<CurrentUser>, PanelError> {
    let ctx = crate::context::services()?;
    let user = match crate::context::require_user().await {
        Ok(user) => user,
        Err(PanelError::SignedOut) => return Ok(None),
        Err(e) => return Err(e),
    };
    let store = backend::settings::get(&ctx.db).await?;
    Ok(Some(CurrentUser {
        id: user.id,
        email: user.email,
        name: user.name,
        role_label: user.role.label().to_owned(),
        oversees_sign_ins: user.role.oversees_sign_ins(),
        manages_team: user.role.manages_team(),
        manages_orders: user.role.manages_orders(),
        manages_store: user.role.manages_store(),
        store_name: store.name,
    }))
}

#[server(endpoint = "create_owner")]
pub async fn create_owner(
    store_name: String,
    name: String,
    email: String,
    password: String,
    demo: Option<String>,
) -> Result<(), PanelError> {
    use backend::{demo, settings, users};
    let ctx = crate::context::services()?;
    let (ip, user_agent) = crate::context::client().await?;
    let email = users::Email::parse(&email)?;
    let owner = users::create_first_owner(&ctx.db, email, name, password.into()).await?;
    let mut store = settings::get(&ctx.db).await?;
    if !store_name.trim().is_empty() {
        store.name = store_name;
        settings::update(&ctx.db, &owner, ip.as_deref(), store).await?;
    }
    if demo.is_some() {
        demo::load(&ctx.db, demo::DemoOptions { orders: FIRST_RUN_DEMO_ORDERS, seed: 1 }, |_| {}).await?;
    }
    crate::session::begin(&ctx, backend::sessions::SessionData { user: owner, ip, user_agent }).await?;
    leptos_axum::redirect("/admin");
    Ok(())
}

/// Where to go after signing in: `next` when it is one of our own pages (the panel, or an
/// app's OAuth consent), else the dashboard. Never another site, and never anything a
/// `Location` header cannot carry as it is (spaces, CR, LF and other control characters).
pub fn after_sign_in(next: Option<&str>) -> &str {
    let ours = |next: &str| {
        let panel = next.strip_prefix("/admin").is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        (panel || next.starts_with("/oauth/authorize?"))
            && !next.contains("//")
            && !next.contains('\\')
            && next.len() <= 4000
            && next.bytes().all(|b| b.is_ascii_graphic())
    };
    match next {
        Some(next) if ours(next) => next,
        _ => "/admin",
    }
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), PanelError> {
    use backend::sign_in::Passed;
    let ctx = crate::context::services()?;
    let (ip, user_agent) = crate::context::client().await?;
    let attempt = backend::sign_in::Attempt { email, password: password.into(), ip, user_agent };
    match backend::sign_in::sign_in(&ctx.db, &attempt).await? {
        Passed::SignedIn(user) => {
            let backend::sign_in::Attempt { ip, user_agent, .. } = attempt;
            crate::session::begin(&ctx, backend::sessions::SessionData { user, ip, user_agent }).await?;
            leptos_axum::redirect(after_sign_in(next.as_deref()));
        }
        Passed::CodeNeeded { challenge } => {
            crate::session::await_code(&ctx, &challenge);
            let next: String = form_urlencoded::byte_serialize(after_sign_in(next.as_deref()).as_bytes()).collect();
            leptos_axum::redirect(&format!("/admin/sign-in-code?next={next}"));
        }
    }
    Ok(())
}

/// The second step of a sign-in with two-factor sign-in on: the code from the person's
/// app, or one of their recovery codes.
#[server(endpoint = "sign_in_code")]
pub async fn sign_in_code(code: String, next: Option<String>) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let (ip, user_agent) = crate::context::client().await?;
    let challenge = crate::session::awaited_code().await?.unwrap_or_default();
    let user = backend::sign_in::sign_in_with_code(
        &ctx.db,
        &ctx.sealer,
        &challenge,
        &code,
        ip.as_deref(),
        user_agent.as_deref(),
    )
    .await?;
    crate::session::code_received(&ctx);
    crate::session::begin(&ctx, backend::sessions::SessionData { user, ip, user_agent }).await?;
    leptos_axum::redirect(after_sign_in(next.as_deref()));
    Ok(())
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), PanelError> {
    crate::session::end().await?;
    leptos_axum::redirect("/admin/login");
    Ok(())
}

#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let user = crate::context::require_user().await?;
    backend::sessions::end_all(&ctx.db, user.id).await?;
    crate::session::end().await?;
    leptos_axum::redirect("/admin/login");
    Ok(())
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let action = ServerAction::<CreateOwner>::new();
    let error = action_error(action);
    view! {
        <Title text="Welcome · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Welcome to Backroom"</h1>
                <p>"Create the owner account. There is no default password: this page is shown once, until the owner exists."</p>
                <ActionForm action=action>
                    <div class="field">
                        <label for="store_name">"Shop name"</label>
                        <input id="store_name" name="store_name" type="text" maxlength=MAX_NAME_CHARS.to_string() placeholder="My shop"/>
                    </div>
                    <div class="field">
                        <label for="name">"Your name"</label>
                        <input id="name" name="name" type="text" maxlength=MAX_NAME_CHARS.to_string() autocomplete="name" required/>
                    </div>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="password">{format!("Password (at least {MIN_PASSWORD_CHARS} characters)")}</label>
                        <input id="password" name="password" type="password" minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password" required/>
                    </div>
                    <div class="field checkbox">
                        <input id="demo" name="demo" type="checkbox" value="yes"/>
                        <label for="demo">{format!("Load demo data ({FIRST_RUN_DEMO_ORDERS} orders) to try Backroom out")}</label>
                    </div>
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Create the owner account"</button>
                </ActionForm>
            </div>
        </main>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let error = action_error(action);
    let (next, reset) =
        leptos_router::hooks::use_query_map().with_untracked(|q| (q.get("next"), q.get("reset").is_some()));
    view! {
        <Title text="Sign in · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Sign in to Backroom"</h1>
                {reset.then(|| view! { <p role="status">"Your new password is set, and you are signed out everywhere. Sign in with it."</p> })}
                <ActionForm action=action>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="current-password" required/>
                    </div>
                    {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
                </ActionForm>
                <p><a href="/admin/forgot-password">"Forgot your password?"</a></p>
            </div>
        </main>
    }
}

#[component]
pub fn SignInCodePage() -> impl IntoView {
    let action = ServerAction::<SignInCode>::new();
    let error = action_error(action);
    let next = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("next"));
    view! {
        <Title text="Your code · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Enter your code"</h1>
                <p>"Open your authenticator app and type the six digits it shows for Backroom. Without your phone, type one of your recovery codes."</p>
                <ActionForm action=action>
                    <div class="field">
                        <label for="code">"Code"</label>
                        <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="20" required/>
                    </div>
                    {next.map(|next| view! { <input type="hidden" name="next" value=next/> })}
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
                </ActionForm>
                <p><a href="/admin/login">"Start again"</a></p>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::after_sign_in;

    #[test]
    fn only_our_own_pages_are_followed_after_sign_in() {
        assert_eq!(
            after_sign_in(Some("/oauth/authorize?client_id=app_x&state=1")),
            "/oauth/authorize?client_id=app_x&state=1"
        );
        assert_eq!(after_sign_in(Some("/admin/access")), "/admin/access");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/admin//evil.example",
            "/\\evil.example",
            "/oauth/token",
            "/admin\r\nSet-Cookie: a=b",
            "/admin/orders?q=a b",
            "/admin\u{0}",
            "/administrators",
        ] {
            assert_eq!(after_sign_in(Some(bad)), "/admin", "{bad}");
        }
        assert_eq!(after_sign_in(None), "/admin");
    }
}
