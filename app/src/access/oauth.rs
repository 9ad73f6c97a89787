//! OAuth apps people sign in to from a phone (registered by owners and admins), and the
//! devices signed in with them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use vocabulary::access::MAX_LABEL_CHARS;

use super::ScopeOptions;
use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OauthAppRow {
    pub id: i64,
    pub name: String,
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub scope: String,
    pub created: String,
    pub revoked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: i64,
    pub app: String,
    pub device: String,
    pub user: String,
    pub scope: String,
    pub signed_in: String,
    pub last_used: String,
}

#[server(endpoint = "list_oauth_apps")]
pub async fn list_oauth_apps() -> Result<Vec<OauthAppRow>, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    Ok(backend::access::oauth::list_clients(&ctx.db)
        .await?
        .into_iter()
        .map(|c| OauthAppRow {
            id: c.id,
            name: c.name,
            client_id: c.client_id,
            redirect_uris: c.redirect_uris,
            scope: c.scope.to_string(),
            created: backend::clock::local_minute(c.created_at, tz),
            revoked: c.revoked_at.is_some(),
        })
        .collect())
}

/// Registers an app; answers its client ID.
#[server(endpoint = "register_oauth_app")]
pub async fn register_oauth_app(name: String, redirect_uris: String, scope: String) -> Result<String, PanelError> {
    use backend::access::oauth;
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    let dev_mode = ctx.security.get().await.dev_mode;
    let new = oauth::NewClient { name, redirect_uris, scope: scope.parse()? };
    Ok(oauth::create_client(&ctx.db, &me, ip.as_deref(), new, dev_mode).await?.client_id)
}

#[server(endpoint = "revoke_oauth_app")]
pub async fn revoke_oauth_app(id: i64) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    backend::access::oauth::revoke_client(&ctx.db, &ctx.credentials, &me, ip.as_deref(), id).await?;
    Ok(())
}

/// The devices signed in with OAuth: the user's own, or everyone's for an owner.
#[server(endpoint = "list_devices")]
pub async fn list_devices() -> Result<Vec<DeviceRow>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    let whose = if me.role.oversees_sign_ins() { None } else { Some(me.id) };
    Ok(backend::access::oauth::devices(&ctx.db, whose)
        .await?
        .into_iter()
        .map(|d| DeviceRow {
            id: d.id,
            app: d.app,
            device: if d.device.trim().is_empty() { "unknown device".to_owned() } else { d.device },
            user: d.user_email,
            scope: d.scope.to_string(),
            signed_in: backend::clock::local_minute(d.created_at, tz),
            last_used: crate::access::last_used_text(d.last_used_at, d.last_used_ip, tz),
        })
        .collect())
}

#[server(endpoint = "sign_out_device")]
pub async fn sign_out_device(grant_id: i64) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    backend::access::oauth::sign_out_device(&ctx.db, &ctx.credentials, &me, ip.as_deref(), grant_id).await?;
    Ok(())
}

#[component]
pub(super) fn OauthApps() -> impl IntoView {
    let register = ServerAction::<RegisterOauthApp>::new();
    let revoke = ServerAction::<RevokeOauthApp>::new();
    let apps = crate::loaded::load(move || (register.version().get(), revoke.version().get()), |_| list_oauth_apps());
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = register.value().get()
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
    let register_error = action_error(register);
    let revoke_error = action_error(revoke);
    view! {
        <section class="access-section" aria-labelledby="oauth-heading">
            <h2 id="oauth-heading">"OAuth apps"</h2>
            <p class="muted">"Apps where people sign in with their own Backroom account (OAuth 2.0 with PKCE). Each app returns only to the addresses registered here."</p>
            <div class="card">
                <ActionForm action=register node_ref=form>
                    <div class="field">
                        <label for="oauth-name">"App name"</label>
                        <input id="oauth-name" name="name" type="text" maxlength=MAX_LABEL_CHARS.to_string() required/>
                    </div>
                    <div class="field">
                        <label for="oauth-redirect-uris">"Redirect URIs (one per line)"</label>
                        <textarea id="oauth-redirect-uris" name="redirect_uris" rows="3" required aria-describedby="oauth-redirect-hint"></textarea>
                        <p class="hint" id="oauth-redirect-hint">
                            "https:// addresses, http:// only to 127.0.0.1 or localhost, or an app's own scheme such as cartman://oauth. "
                            "exp:// (Expo development builds) only while dev mode is on (see the Security page)."
                        </p>
                    </div>
                    <div class="field">
                        <label for="oauth-scope">"Most access it may ask for"</label>
                        <select id="oauth-scope" name="scope">
                            <ScopeOptions/>
                        </select>
                    </div>
                    {move || register_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || register.pending().get()>"Register app"</button>
                </ActionForm>
                {move || register.value().get().and_then(Result::ok).map(|client_id| view! {
                    <p class="success" role="status">"App registered. Its client ID: "<code>{client_id}</code></p>
                })}
            </div>
            {move || revoke_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Loaded resource=apps show={move |apps: Vec<OauthAppRow>| {
                if apps.is_empty() {
                    return view! { <p class="card muted">"No apps registered yet."</p> }.into_any();
                }
                view! {
                    <DataTable headings={&["App", "Client ID", "Redirect URIs", "Most access", "Registered", "Status", "Action"]}>
                        {apps.into_iter().map(|a| view! {
                            <tr class:revoked=a.revoked>
                                <td class="wrap">{a.name.clone()}</td>
                                <td><code>{a.client_id}</code></td>
                                <td class="wrap">
                                    <ul class="plain">{a.redirect_uris.into_iter().map(|uri| view! { <li><code>{uri}</code></li> }).collect_view()}</ul>
                                </td>
                                <td>{a.scope}</td>
                                <td>{a.created}</td>
                                <td>
                                    <span class=if a.revoked { "badge credential-revoked" } else { "badge credential-active" }>
                                        {if a.revoked { "revoked" } else { "active" }}
                                    </span>
                                </td>
                                <td>{(!a.revoked).then(|| view! {
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="id" value=a.id/>
                                        <button type="submit" aria-label=format!("Revoke app {}", a.name)>"Revoke"</button>
                                    </ActionForm>
                                })}</td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}/>
        </section>
    }
}

/// Phones and tools signed in with OAuth; signing one out ends its tokens at once.
#[component]
pub(super) fn Devices(everyone: bool) -> impl IntoView {
    let sign_out = ServerAction::<SignOutDevice>::new();
    let devices = crate::loaded::load(move || sign_out.version().get(), |_| list_devices());
    let error = action_error(sign_out);
    view! {
        <section class="access-section" aria-labelledby="devices-heading">
            <h2 id="devices-heading">"Devices"</h2>
            <p class="muted">
                {if everyone { "Every device signed in through an OAuth app, whoever it belongs to." } else { "Your devices signed in through an OAuth app." }}
            </p>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Loaded resource=devices show={move |devices: Vec<DeviceRow>| {
                if devices.is_empty() {
                    return view! { <p class="card muted">"No device is signed in."</p> }.into_any();
                }
                view! {
                    <DataTable headings={&["App", "Device", "User", "Access", "Signed in", "Last used", "Action"]}>
                        {devices.into_iter().map(|d| view! {
                            <tr>
                                <td>{d.app.clone()}</td>
                                <td class="wrap">{d.device}</td>
                                <td>{d.user.clone()}</td>
                                <td>{d.scope}</td>
                                <td>{d.signed_in.clone()}</td>
                                <td>{d.last_used}</td>
                                <td>
                                    <ActionForm action=sign_out>
                                        <input type="hidden" name="grant_id" value=d.id/>
                                        <button type="submit" aria-label=format!("Sign out {} for {}, signed in {}", d.app, d.user, d.signed_in)>"Sign out"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}/>
        </section>
    }
}
