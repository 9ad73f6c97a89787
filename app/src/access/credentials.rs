//! Connection keys and application passwords: making one (its secret shown once, on a
//! copy screen, with a QR code for the mobile app), listing, revoking and regenerating.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use vocabulary::access::{CredentialType, MAX_LABEL_CHARS, MAX_LIFETIME_DAYS};

use super::ScopeOptions;
use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, Loaded},
};

/// Keeps the element ids of the two credential forms on the page apart.
fn id_prefix(kind: CredentialType) -> &'static str {
    match kind {
        CredentialType::ConnectionKey => "key",
        CredentialType::AppPassword => "password",
    }
}

/// One key or password as listed: never the secret, only its last four characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRow {
    pub id: i64,
    pub label: String,
    pub scope: String,
    pub last_four: String,
    pub created: String,
    /// A time, or "never".
    pub expires: String,
    /// A time and the address it came from, or "never".
    pub last_used: String,
    /// `active`, `expired` or `revoked`.
    pub status: String,
}

/// A secret just issued, for the copy screen: the only time it leaves the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub kind: CredentialType,
    pub label: String,
    pub secret: String,
    /// The shop's public address, which the mobile app connects to.
    pub url: String,
    /// The user an application password belongs to: its HTTP Basic user name.
    pub email: String,
    /// For connection keys: an SVG QR code with the address and the key, for the app to scan.
    pub qr_svg: Option<String>,
}

#[server(endpoint = "list_credentials")]
pub async fn list_credentials(kind: CredentialType) -> Result<Vec<CredentialRow>, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let tz = backend::settings::get(&ctx.db).await?.tz();
    let now = backend::clock::now();
    Ok(backend::access::credentials::list(&ctx.db, &me, kind)
        .await?
        .into_iter()
        .map(|c| ssr::credential_row(c, tz, now))
        .collect())
}

#[server(endpoint = "create_credential")]
pub async fn create_credential(
    kind: CredentialType,
    label: String,
    scope: String,
    expires_days: String,
) -> Result<NewSecret, PanelError> {
    use backend::access::credentials;
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    let new = credentials::NewCredential {
        kind,
        label,
        scope: scope.parse()?,
        lifetime_days: ssr::lifetime_days(&expires_days)?,
    };
    let issued = credentials::create(&ctx.db, &ctx.hasher, &me, ip.as_deref(), new).await?;
    ssr::new_secret(&ctx, issued).await
}

#[server(endpoint = "revoke_credential")]
pub async fn revoke_credential(kind: CredentialType, id: i64) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    backend::access::credentials::revoke(&ctx.db, &ctx.credentials, &me, ip.as_deref(), kind, id).await?;
    Ok(())
}

#[server(endpoint = "regenerate_credential")]
pub async fn regenerate_credential(id: i64) -> Result<NewSecret, PanelError> {
    let ctx = crate::context::services()?;
    let me = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    let issued =
        backend::access::credentials::regenerate(&ctx.db, &ctx.hasher, &ctx.credentials, &me, ip.as_deref(), id)
            .await?;
    ssr::new_secret(&ctx, issued).await
}

/// Making, listing, revoking and regenerating one kind of credential.
#[component]
pub(super) fn CredentialSection(kind: CredentialType, shown: RwSignal<Option<NewSecret>>) -> impl IntoView {
    let create = ServerAction::<CreateCredential>::new();
    let revoke = ServerAction::<RevokeCredential>::new();
    let regenerate = ServerAction::<RegenerateCredential>::new();
    let rows = crate::loaded::load(
        move || (create.version().get(), revoke.version().get(), regenerate.version().get()),
        move |_| list_credentials(kind),
    );
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(secret)) = create.value().get() {
            shown.set(Some(secret));
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(secret)) = regenerate.value().get() {
            shown.set(Some(secret));
        }
    });
    let create_error = action_error(create);
    let revoke_error = action_error(revoke);
    let regenerate_error = action_error(regenerate);
    let p = id_prefix(kind);
    let (title, intro, button) = match kind {
        CredentialType::ConnectionKey => (
            "Connection keys",
            "For the Backroom mobile app and integrations. A key acts with the role of the person who made it, within its scope.",
            "Create key",
        ),
        CredentialType::AppPassword => (
            "Application passwords",
            "Your own passwords for scripts and tools that speak HTTP Basic: your email as the user name. They work only for the REST API, not to sign in here.",
            "Create password",
        ),
    };
    let heading_id = format!("{}-heading", kind.as_str());
    view! {
        <section class="access-section" aria-labelledby=heading_id.clone()>
            <h2 id=heading_id.clone()>{title}</h2>
            <p class="muted">{intro}</p>
            <div class="card">
                <ActionForm action=create node_ref=form>
                    <input type="hidden" name="kind" value=kind.as_str()/>
                    <div class="field">
                        <label for=format!("{p}-label")>"Label"</label>
                        <input id=format!("{p}-label") name="label" type="text" maxlength=MAX_LABEL_CHARS.to_string() required
                            placeholder=match kind { CredentialType::ConnectionKey => "Ayşe's phone", CredentialType::AppPassword => "Stock sync script" }/>
                    </div>
                    <div class="field">
                        <label for=format!("{p}-scope")>"Scope"</label>
                        <select id=format!("{p}-scope") name="scope">
                            <ScopeOptions/>
                        </select>
                    </div>
                    <div class="field">
                        <label for=format!("{p}-expires")>"Expires after (days, empty = never)"</label>
                        <input id=format!("{p}-expires") name="expires_days" type="number" min="1" max=MAX_LIFETIME_DAYS.to_string() step="1" inputmode="numeric"/>
                    </div>
                    {move || create_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <button type="submit" class="primary" disabled=move || create.pending().get()>{button}</button>
                </ActionForm>
            </div>
            {move || shown.get().filter(|secret| secret.kind == kind).map(|secret| view! { <SecretScreen secret shown/> })}
            {move || revoke_error().or_else(regenerate_error).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Loaded resource=rows show={move |rows: Vec<CredentialRow>| view! { <CredentialList kind rows revoke regenerate/> }}/>
        </section>
    }
}

/// The keys or passwords of a section, with a revoke and a regenerate button on each that
/// still works.
#[component]
fn CredentialList(
    kind: CredentialType,
    rows: Vec<CredentialRow>,
    revoke: ServerAction<RevokeCredential>,
    regenerate: ServerAction<RegenerateCredential>,
) -> impl IntoView {
    let noun = kind.noun();
    if rows.is_empty() {
        return view! { <p class="card muted">{format!("No {noun}s yet.")}</p> }.into_any();
    }
    let headings: &'static [&'static str] = match kind {
        CredentialType::ConnectionKey => {
            &["Label", "Scope", "Key", "Created", "Expires", "Last used", "Status", "Actions"]
        }
        CredentialType::AppPassword => {
            &["Label", "Scope", "Password", "Created", "Expires", "Last used", "Status", "Actions"]
        }
    };
    view! {
        <DataTable headings>
            {rows.into_iter().map(|r| {
                let name = format!("{noun} {} (…{})", r.label, r.last_four);
                let (revoke_label, regenerate_label) = (format!("Revoke {name}"), format!("Regenerate {name}"));
                let live = r.status != "revoked";
                view! {
                    <tr class:revoked=!live>
                        <td class="wrap">{r.label.clone()}</td>
                        <td>{r.scope}</td>
                        <td><code>"…"{r.last_four}</code></td>
                        <td class="nowrap">{r.created}</td>
                        <td class="nowrap">{r.expires}</td>
                        <td>{r.last_used}</td>
                        <td><span class=format!("badge credential-{}", r.status)>{r.status.clone()}</span></td>
                        <td>
                            {live.then(|| view! {
                                <div class="row-actions">
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="kind" value=kind.as_str()/>
                                        <input type="hidden" name="id" value=r.id/>
                                        <button type="submit" aria-label=revoke_label>"Revoke"</button>
                                    </ActionForm>
                                    <ActionForm action=regenerate>
                                        <input type="hidden" name="id" value=r.id/>
                                        <button type="submit" aria-label=regenerate_label>"Regenerate"</button>
                                    </ActionForm>
                                </div>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// Shows a secret just issued, once: the secret, a copy button, and for a connection key
/// the shop's address and a QR code the mobile app scans. "Done" forgets it.
#[component]
fn SecretScreen(secret: NewSecret, shown: RwSignal<Option<NewSecret>>) -> impl IntoView {
    let status = RwSignal::new(String::new());
    let secret_ref = NodeRef::<leptos::html::Code>::new();
    let copy_ref = NodeRef::<leptos::html::Button>::new();
    // Keyboard and screen-reader users land on the screen that just appeared.
    Effect::new(move |_| {
        if let Some(button) = copy_ref.get() {
            let _ = button.focus();
        }
    });
    let text = secret.secret.clone();
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            if copy_to_clipboard(&text).await {
                status.set("Copied.".to_owned());
            } else {
                let selected = secret_ref.get_untracked().is_some_and(|code| select_contents(&code));
                status.set(if selected {
                    "This browser did not let Backroom copy; the text is selected, press Ctrl+C (⌘C on a Mac)."
                        .to_owned()
                } else {
                    "This browser did not let Backroom copy; select the text and copy it.".to_owned()
                });
            }
        });
    };
    let (noun, copy_label) = match secret.kind {
        CredentialType::ConnectionKey => ("connection key", "Copy key"),
        CredentialType::AppPassword => ("application password", "Copy password"),
    };
    let how = match secret.kind {
        CredentialType::ConnectionKey => view! {
            <p>"Shop address: "<code>{secret.url.clone()}</code></p>
            <p>"In the Backroom mobile app, scan this code, or type the address and the key."</p>
            {secret.qr_svg.clone().map(|svg| view! {
                <div class="qr" role="img" aria-label="QR code with the store URL and the key" inner_html=svg></div>
            })}
        }
        .into_any(),
        CredentialType::AppPassword => view! {
            <p>"Use it as HTTP Basic authentication for the REST API: the user name is "<code>{secret.email.clone()}</code>
                ", the password is the text above."</p>
        }
        .into_any(),
    };
    view! {
        <section class="secret-screen" aria-labelledby="new-secret-heading">
            <h3 id="new-secret-heading">{format!("Your new {noun}: {}", secret.label)}</h3>
            <p><strong>"Copy it now."</strong>" It will not be shown again: Backroom keeps only a fingerprint of it."</p>
            <code id="new-secret" class="secret" node_ref=secret_ref>{secret.secret.clone()}</code>
            <div class="secret-actions">
                <button type="button" id="copy-secret" class="primary" node_ref=copy_ref on:click=copy>{copy_label}</button>
                <span class="copy-status" role="status">{move || status.get()}</span>
            </div>
            {how}
            <button type="button" on:click=move |_| shown.set(None)>"Done"</button>
        </section>
    }
}

/// Copies `text` with the asynchronous clipboard API, which browsers offer only on secure
/// pages (https or localhost); false when there is none or the browser refused.
pub(crate) async fn copy_to_clipboard(text: &str) -> bool {
    use web_sys::{js_sys::Reflect, wasm_bindgen::JsValue};
    let navigator = window().navigator();
    let available =
        Reflect::get(&navigator, &JsValue::from_str("clipboard")).is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !available {
        return false;
    }
    wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok()
}

/// Selects an element's text, so the person can copy it themselves.
fn select_contents(element: &web_sys::HtmlElement) -> bool {
    match window().get_selection() {
        Ok(Some(selection)) => selection.select_all_children(element).is_ok(),
        _ => false,
    }
}

/// What the server does for this part of the page besides its server functions: rows as
/// the page shows them, the copy screen's content, the expiry field read.
#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use super::*;

    pub(super) fn credential_row(
        c: backend::access::credentials::CredentialInfo,
        tz: chrono_tz::Tz,
        now: i64,
    ) -> CredentialRow {
        let status = if c.revoked_at.is_some() {
            "revoked"
        } else if c.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        CredentialRow {
            id: c.id,
            scope: c.scope.to_string(),
            last_four: c.last_four,
            created: backend::clock::local_minute(c.created_at, tz),
            expires: c.expires_at.map_or_else(|| "never".to_owned(), |at| backend::clock::local_minute(at, tz)),
            last_used: crate::access::last_used_text(c.last_used_at, c.last_used_ip, tz),
            status: status.to_owned(),
            label: c.label,
        }
    }

    /// The copy screen's content for a secret just issued.
    pub(super) async fn new_secret(
        ctx: &backend::services::Services,
        issued: backend::access::credentials::Issued,
    ) -> Result<NewSecret, PanelError> {
        // The address saved in the settings wins over the one the server started with, as on
        // the settings page.
        let url = backend::settings::get(&ctx.db)
            .await?
            .public_url
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| ctx.base_url.to_string());
        let kind = issued.info.kind;
        let qr_svg = match kind {
            CredentialType::ConnectionKey => {
                qr_svg(&serde_json::json!({ "backroom": 1, "url": url, "key": issued.secret }).to_string())
            }
            CredentialType::AppPassword => None,
        };
        Ok(NewSecret {
            kind,
            label: issued.info.label,
            secret: issued.secret,
            url,
            email: issued.info.user_email,
            qr_svg,
        })
    }

    /// `text` as an inline SVG QR code (black on white, whatever the theme, so phones read it).
    pub(in crate::access) fn qr_svg(text: &str) -> Option<String> {
        use qrcode::{EcLevel, QrCode, render::svg};
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
        let image = code.render::<svg::Color>().min_dimensions(240, 240).build();
        // The renderer starts with an XML declaration, which has no place inside HTML.
        Some(image.split_once("?>").map_or(image.clone(), |(_, svg)| svg.to_owned()))
    }

    /// Days from the form's expiry field: empty means never.
    pub(super) fn lifetime_days(text: &str) -> Result<Option<i64>, PanelError> {
        match text.trim() {
            "" => Ok(None),
            days => days.parse().map(Some).map_err(|_| {
                PanelError::Message("the expiry must be a whole number of days, or empty for never".into())
            }),
        }
    }
}
