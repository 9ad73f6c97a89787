//! The support form's settings, for owners and admins: the shop pages allowed to embed
//! the form, and how often it may be used per address and per order.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::INBOX_PATH;
use crate::{error::PanelError, forms::action_error, loaded::Loaded};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportSettingsView {
    /// One origin a line, as the textarea shows them.
    pub embed_origins: String,
    pub per_ip_per_hour: i64,
    pub per_order_per_day: i64,
    /// Backroom's public address, for the form's links and the snippet.
    pub base_url: String,
}

#[server(endpoint = "support_settings")]
pub async fn support_settings() -> Result<SupportSettingsView, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let s = backend::support::settings::get(&ctx.db).await?;
    Ok(SupportSettingsView {
        embed_origins: s.embed_origins.join("\n"),
        per_ip_per_hour: s.per_ip_per_hour,
        per_order_per_day: s.per_order_per_day,
        base_url: ctx.base_url.trim_end_matches('/').to_owned(),
    })
}

/// Saves the settings. Fails naming an origin that is not one, or a limit out of range.
#[server(endpoint = "save_support_settings")]
pub async fn save_support_settings(
    embed_origins: String,
    per_ip_per_hour: i64,
    per_order_per_day: i64,
) -> Result<(), PanelError> {
    use backend::support::settings::{SupportSettings, update};
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let new = SupportSettings {
        embed_origins: embed_origins.lines().map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
        per_ip_per_hour,
        per_order_per_day,
    };
    update(&me.ctx.db, &me.user, me.ip.as_deref(), new).await?;
    Ok(())
}

#[component]
pub fn SupportSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSupportSettings>::new();
    // Reloaded after a save that succeeded; after one that failed the form keeps what was
    // typed, next to the error.
    let saves = Memo::new(move |before: Option<&usize>| match save.value().get() {
        Some(Ok(())) => save.version().get(),
        _ => before.copied().unwrap_or_default(),
    });
    let settings = crate::loaded::load(move || saves.get(), |_| support_settings());
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Support form settings · Backroom"/>
        <p class="back-link"><a href=INBOX_PATH>"← Back to the inbox"</a></p>
        <h1>"Support form settings"</h1>
        <Loaded resource=settings show={move |s: SupportSettingsView| {
            let snippet = format!("<script src=\"{}/support.js\" async></script>", s.base_url);
            let page = format!("{}/support", s.base_url);
            view! {
                <div class="card">
                    <h2>"Where customers find the form"</h2>
                    <p>"Its own page: "<a href=page.clone() rel="external">{page.clone()}</a></p>
                    <p>"On any page of the shop, paste:"</p>
                    <pre class="snippet"><code>{snippet}</code></pre>
                    <p class="hint">"The page’s origin must be listed below, or the browser will not show the form there."</p>
                </div>
                <div class="card">
                    <h2>"Embedding and limits"</h2>
                    <ActionForm action=save>
                        <div class="field">
                            <label for="embed-origins">"Origins that may embed the form (one a line)"</label>
                            <textarea id="embed-origins" name="embed_origins" rows="4" aria-describedby="embed-origins-hint"
                                placeholder="https://shop.example">{s.embed_origins.clone()}</textarea>
                            <p class="hint" id="embed-origins-hint">"A scheme and a host, with a port when it is not the usual one; no paths. At most 20."</p>
                        </div>
                        <div class="field">
                            <label for="per-ip-per-hour">"Messages per hour from one address"</label>
                            <input id="per-ip-per-hour" name="per_ip_per_hour" type="number" min="1" max="1000" step="1" required
                                value=s.per_ip_per_hour/>
                        </div>
                        <div class="field">
                            <label for="per-order-per-day">"Messages per day about one order"</label>
                            <input id="per-order-per-day" name="per_order_per_day" type="number" min="1" max="1000" step="1" required
                                value=s.per_order_per_day/>
                        </div>
                        {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        <button type="submit" class="primary" disabled=move || save.pending().get()>"Save support settings"</button>
                    </ActionForm>
                    {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
                </div>
            }
        }}/>
    }
}
