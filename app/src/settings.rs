//! The store settings page.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::{
    money::CURRENCY_CODE_CHARS,
    people::MAX_NAME_CHARS,
    settings::{MAX_PUBLIC_URL_CHARS, MAX_TIME_ZONE_CHARS},
};

use crate::{error::PanelError, forms::action_error, loaded::Loaded};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub name: String,
    pub public_url: String,
    pub effective_url: String,
    pub currency: String,
    pub time_zone: String,
    pub locale: String,
    /// (code, name) of each language the panel speaks.
    pub locales: Vec<(String, String)>,
    pub can_edit: bool,
}

#[server(endpoint = "store_settings")]
pub async fn store_settings() -> Result<SettingsView, PanelError> {
    let ctx = crate::context::services()?;
    let user = crate::context::require_user().await?;
    let s = backend::settings::get(&ctx.db).await?;
    Ok(SettingsView {
        effective_url: s.public_url.clone().unwrap_or_else(|| ctx.base_url.to_string()),
        name: s.name,
        public_url: s.public_url.unwrap_or_default(),
        currency: s.currency,
        time_zone: s.time_zone,
        locale: s.locale,
        locales: backend::settings::LOCALES.iter().map(|(c, l)| (c.to_string(), l.to_string())).collect(),
        can_edit: user.role.manages_store(),
    })
}

#[server(endpoint = "save_settings")]
pub async fn save_settings(
    name: String,
    public_url: String,
    currency: String,
    time_zone: String,
    locale: String,
) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let user = crate::context::require_user().await?;
    let (_, ip) = crate::context::request_info().await?;
    let new = backend::settings::StoreSettings { name, public_url: Some(public_url), currency, time_zone, locale };
    backend::settings::update(&ctx.db, &user, ip.as_deref(), new).await?;
    Ok(())
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveSettings>::new();
    let data = crate::loaded::load(move || save.version().get(), |_| store_settings());
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Settings · Backroom"/>
        <h1>"Store settings"</h1>
        <Loaded resource=data show={move |s: SettingsView| view! {
            <div class="card">
                <ActionForm action=save>
                    <fieldset disabled=!s.can_edit>
                        <div class="field">
                            <label for="name">"Store name"</label>
                            <input id="name" name="name" type="text" maxlength=MAX_NAME_CHARS.to_string() required value=s.name/>
                        </div>
                        <div class="field">
                            <label for="public_url">"Public URL (what customers and the mobile app see)"</label>
                            <input id="public_url" name="public_url" type="url" maxlength=MAX_PUBLIC_URL_CHARS.to_string() placeholder=s.effective_url.clone() value=s.public_url/>
                            <p class="hint">"Leave empty to use " {s.effective_url.clone()} "."</p>
                        </div>
                        <div class="field">
                            <label for="currency">"Currency (ISO code)"</label>
                            <input id="currency" name="currency" type="text" minlength=CURRENCY_CODE_CHARS.to_string() maxlength=CURRENCY_CODE_CHARS.to_string() required value=s.currency/>
                        </div>
                        <div class="field">
                            <label for="time_zone">"Time zone (reports and “today” use it)"</label>
                            <input id="time_zone" name="time_zone" type="text" maxlength=MAX_TIME_ZONE_CHARS.to_string() required value=s.time_zone/>
                        </div>
                        <div class="field">
                            <label for="locale">"Language"</label>
                            <select id="locale" name="locale">
                                {s.locales.into_iter().map(|(code, label)| {
                                    let selected = code == s.locale;
                                    view! { <option value=code selected=selected>{label}</option> }
                                }).collect_view()}
                            </select>
                        </div>
                        <button type="submit" class="primary">"Save settings"</button>
                    </fieldset>
                </ActionForm>
                {(!s.can_edit).then(|| view! { <p class="hint">"Only an owner or admin can change these."</p> })}
            </div>
            }}/>
        {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || saved().then(|| view! { <p class="success" role="status">"Settings saved."</p> })}
    }
}
