//! The pages a single-use link from an email opens, and the one that sends such a link:
//! asking for a password reset ("Forgot your password?"), setting the new password, and
//! accepting an invitation to the team. They are seen signed out.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::people::{Email, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use crate::{error::PanelError, forms::action_error, loaded::Loaded};

/// What the reset request answers, whether or not the address has an account.
pub const RESET_SENT: &str = "If an account has this address, a link to set a new password is on its way to it. \
     The link works once, for 30 minutes.";

#[server(endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<String, PanelError> {
    let ctx = crate::context::services()?;
    let (_, ip) = crate::context::request_info().await?;
    backend::account::request_password_reset(&ctx.db, &ctx.base_url, &email, ip.as_deref()).await?;
    Ok(RESET_SENT.to_owned())
}

/// The address a reset link is for, while it is open.
#[server(endpoint = "password_reset_for")]
pub async fn password_reset_for(token: String) -> Result<Option<String>, PanelError> {
    let ctx = crate::context::services()?;
    Ok(backend::account::password_reset_open(&ctx.db, &token).await?)
}

#[server(endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let (_, ip) = crate::context::request_info().await?;
    backend::account::reset_password_with_link(&ctx.db, &ctx.credentials, &token, password.into(), ip.as_deref())
        .await?;
    leptos_axum::redirect("/admin/login?reset=done");
    Ok(())
}

/// An open invitation, as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub email: String,
    pub role_label: String,
    pub store_name: String,
}

#[server(endpoint = "invitation_for")]
pub async fn invitation_for(token: String) -> Result<Option<InvitationView>, PanelError> {
    let ctx = crate::context::services()?;
    let Some((email, role)) = backend::team::open(&ctx.db, &token).await? else { return Ok(None) };
    let store = backend::settings::get(&ctx.db).await?;
    Ok(Some(InvitationView { email, role_label: role.label().to_owned(), store_name: store.name }))
}

/// Makes the invited person's account and signs them in.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: String, password: String) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let (ip, user_agent) = crate::context::client().await?;
    let user = backend::team::accept(&ctx.db, &token, &name, password.into(), ip.as_deref()).await?;
    crate::session::begin(&ctx, backend::sessions::SessionData { user, ip, user_agent }).await?;
    leptos_axum::redirect("/admin");
    Ok(())
}

/// The token in the page's address (`?token=…`).
fn token_in_address() -> String {
    leptos_router::hooks::use_query_map().with_untracked(|q| q.get("token")).unwrap_or_default()
}

/// Where a link that no longer works sends the person.
#[component]
fn LinkClosed(what: &'static str, again: &'static str, href: &'static str) -> impl IntoView {
    view! {
        <p class="error" role="alert">{what}</p>
        <p><a href=href>{again}</a></p>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(action);
    let sent = move || action.value().get().and_then(Result::ok);
    view! {
        <Title text="Forgot your password · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Forgot your password?"</h1>
                <p>"Enter your email address: we send a link to set a new password to it."</p>
                <ActionForm action=action>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" maxlength=Email::MAX_LENGTH.to_string() autocomplete="username" required/>
                    </div>
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <p role="status">{sent}</p>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Send the link"</button>
                </ActionForm>
                <p><a href="/admin/login">"Back to sign in"</a></p>
            </div>
        </main>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let token = token_in_address();
    let action = ServerAction::<ResetPassword>::new();
    let error = action_error(action);
    let open = crate::loaded::load(
        {
            let token = token.clone();
            move || token.clone()
        },
        password_reset_for,
    );
    view! {
        <Title text="Set a new password · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Set a new password"</h1>
                <Loaded resource=open show={move |email: Option<String>| match email {
                    None => view! {
                        <LinkClosed what="This link has expired or was already used." again="Ask for a new link" href="/admin/forgot-password"/>
                    }.into_any(),
                    Some(email) => { let token = token.clone(); view! {
                        <p>{format!("For {email}. Once it is set, every browser and device signed in to this account is signed out.")}</p>
                        <ActionForm action=action>
                            <input type="hidden" name="token" value=token/>
                            <input type="text" name="username" autocomplete="username" value=email hidden/>
                            <div class="field">
                                <label for="password">{format!("New password (at least {MIN_PASSWORD_CHARS} characters)")}</label>
                                <input id="password" name="password" type="password" minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password" required/>
                            </div>
                            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                            <button type="submit" class="primary" disabled=move || action.pending().get()>"Set the password"</button>
                        </ActionForm>
                    }.into_any() }
                }}/>
            </div>
        </main>
    }
}

#[component]
pub fn InvitationPage() -> impl IntoView {
    let token = token_in_address();
    let action = ServerAction::<AcceptInvitation>::new();
    let error = action_error(action);
    let open = crate::loaded::load(
        {
            let token = token.clone();
            move || token.clone()
        },
        invitation_for,
    );
    view! {
        <Title text="Your invitation · Backroom"/>
        <main class="auth-page">
            <div class="card">
                <h1>"Join the team"</h1>
                <Loaded resource=open show={move |invitation: Option<InvitationView>| match invitation {
                    None => view! {
                        <LinkClosed what="This invitation has expired, was cancelled or was already used. Ask the person who invited you for a new one." again="Sign in" href="/admin/login"/>
                    }.into_any(),
                    Some(invitation) => { let token = token.clone(); view! {
                        <p>{format!("You are invited to run {} in Backroom as {}, with the address {}.", invitation.store_name, invitation.role_label.to_lowercase(), invitation.email)}</p>
                        <ActionForm action=action>
                            <input type="hidden" name="token" value=token/>
                            <input type="text" name="username" autocomplete="username" value=invitation.email hidden/>
                            <div class="field">
                                <label for="name">"Your name"</label>
                                <input id="name" name="name" type="text" maxlength=MAX_NAME_CHARS.to_string() autocomplete="name" required/>
                            </div>
                            <div class="field">
                                <label for="password">{format!("Password (at least {MIN_PASSWORD_CHARS} characters)")}</label>
                                <input id="password" name="password" type="password" minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string() autocomplete="new-password" required/>
                            </div>
                            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                            <button type="submit" class="primary" disabled=move || action.pending().get()>"Make my account"</button>
                        </ActionForm>
                    }.into_any() }
                }}/>
            </div>
        </main>
    }
}
