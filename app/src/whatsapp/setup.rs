//! The WhatsApp setup wizard, one page of numbered steps: what to prepare at Meta; the
//! account's ids and secrets (never shown again once saved); the webhook's address and
//! verify token to paste at Meta; live checks against Meta; the account's templates and
//! which one each message uses, with a parameter for each of its placeholders; and a test
//! send with Meta's answer.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::{CopyButton, WhatsAppNav};
use crate::{
    error::PanelError,
    forms::action_error,
    loaded::{DataTable, LoadedLatest},
};

/// The account as the wizard shows it: no secret, only whether each is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub phone_number_id: String,
    pub waba_id: String,
    pub has_access_token: bool,
    pub has_app_secret: bool,
    pub graph_version: String,
    pub graph_base_url: String,
    /// Where Meta calls: `{public address}/webhooks/whatsapp`.
    pub webhook_url: String,
    pub verify_token: String,
    /// When Meta verified the webhook, in the shop's time zone; `None` until it has.
    pub webhook_verified: Option<String>,
    pub time_zone: String,
}

/// The credentials form. A secret sent empty keeps the stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsForm {
    pub phone_number_id: String,
    pub waba_id: String,
    #[serde(default)]
    pub access_token: String,
    #[serde(default)]
    pub app_secret: String,
    pub graph_version: String,
    pub graph_base_url: String,
}

#[cfg(feature = "ssr")]
impl CredentialsForm {
    fn into_credentials(self) -> backend::whatsapp::settings::Credentials {
        let secret = |text: String| Some(text).filter(|t| !t.trim().is_empty());
        backend::whatsapp::settings::Credentials {
            phone_number_id: self.phone_number_id,
            waba_id: self.waba_id,
            access_token: secret(self.access_token),
            app_secret: secret(self.app_secret),
            graph_version: self.graph_version,
            graph_base_url: self.graph_base_url,
        }
    }
}

/// One line of the live checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckLine {
    pub name: String,
    pub ok: bool,
    pub message: String,
}

/// A template of the account, as fetched from Meta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLine {
    pub name: String,
    pub language: String,
    pub status: String,
    pub category: String,
    pub parameters: i64,
    pub url_button: bool,
    /// Why Backroom cannot send it; empty when it can.
    pub unsupported: String,
    /// Approved and sendable: what the mapping and the test send offer.
    pub usable: bool,
}

impl TemplateLine {
    /// "name (language)", as the selects show it.
    pub fn title(&self) -> String {
        format!("{} ({})", self.name, self.language)
    }
}

/// What can fill a parameter: the value sent back, and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChoice {
    pub value: String,
    pub label: String,
}

/// Which template a message uses, and what fills each of its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingChoice {
    /// `recovery_1`, …, `order_cancelled`.
    pub purpose: String,
    pub template: String,
    pub language: String,
    /// Field values (`first_name`, …), one per parameter, in order.
    #[serde(default)]
    pub parameters: Vec<String>,
}

/// One of Backroom's messages, with what can fill its parameters and its template now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeLine {
    pub purpose: String,
    pub label: String,
    pub fields: Vec<FieldChoice>,
    pub current: Option<MappingChoice>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatesView {
    pub templates: Vec<TemplateLine>,
    pub purposes: Vec<PurposeLine>,
}

#[cfg(feature = "ssr")]
fn name_of<T: Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// `text` as the backend's serialised name of a value (a field); fails saying `what` it is not.
#[cfg(feature = "ssr")]
fn parse_name<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, PanelError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| PanelError::Message(format!("“{text}” is not {what}")))
}

#[cfg(feature = "ssr")]
impl MappingChoice {
    /// The backend's mapping; a purpose is named as `Purpose::as_str` names it.
    fn parse(self) -> Result<backend::whatsapp::config::Mapping, PanelError> {
        use backend::whatsapp::config::Purpose;
        Ok(backend::whatsapp::config::Mapping {
            purpose: Purpose::ALL
                .into_iter()
                .find(|p| p.as_str() == self.purpose)
                .ok_or_else(|| PanelError::Message(format!("“{}” is not one of Backroom's messages", self.purpose)))?,
            template: self.template,
            language: self.language,
            parameters: self
                .parameters
                .iter()
                .map(|f| parse_name(f, "something Backroom can fill a parameter with"))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[server(endpoint = "whatsapp_account")]
pub async fn whatsapp_account() -> Result<AccountView, PanelError> {
    let ctx = super::reading().await?;
    let s = backend::whatsapp::settings::get(&ctx.db).await?;
    let store = backend::settings::get(&ctx.db).await?;
    Ok(AccountView {
        phone_number_id: s.phone_number_id,
        waba_id: s.waba_id,
        has_access_token: s.has_access_token,
        has_app_secret: s.has_app_secret,
        graph_version: s.graph_version,
        graph_base_url: s.graph_base_url,
        webhook_url: format!("{}/webhooks/whatsapp", ctx.base_url.trim_end_matches('/')),
        verify_token: s.verify_token,
        webhook_verified: s.webhook_verified_at.map(|at| backend::clock::local_minute(at, store.tz())),
        time_zone: store.time_zone,
    })
}

/// Saves the account's ids and any new secret. Fails naming the field that is wrong.
#[server(endpoint = "save_whatsapp_credentials")]
pub async fn save_whatsapp_credentials(credentials: CredentialsForm) -> Result<(), PanelError> {
    let me = super::acting().await?;
    let whatsapp = &me.ctx.whatsapp;
    backend::whatsapp::settings::update(
        &whatsapp.db,
        &whatsapp.sealer,
        &me.user,
        me.ip.as_deref(),
        credentials.into_credentials(),
    )
    .await?;
    // Webhook deliveries are checked with the new app secret from now on.
    whatsapp.forget_secret();
    Ok(())
}

/// Asks Meta, with the saved account, whether everything is in place.
#[server(endpoint = "run_whatsapp_checks")]
pub async fn run_whatsapp_checks() -> Result<Vec<CheckLine>, PanelError> {
    let ctx = super::reading().await?;
    Ok(backend::whatsapp::setup::checks(&ctx.whatsapp)
        .await?
        .into_iter()
        .map(|c| CheckLine { name: c.name, ok: c.ok, message: c.message })
        .collect())
}

#[server(endpoint = "whatsapp_templates")]
pub async fn whatsapp_templates() -> Result<TemplatesView, PanelError> {
    use backend::whatsapp::{
        config::{Field, Purpose},
        settings, templates,
    };
    let ctx = super::reading().await?;
    let config = settings::config(ctx.db.pool()).await?;
    let templates: Vec<TemplateLine> = templates::list(ctx.db.pool())
        .await?
        .into_iter()
        .map(|t| TemplateLine {
            usable: t.is_approved() && t.unsupported.is_none(),
            name: t.name,
            language: t.language,
            status: t.status,
            category: t.category,
            parameters: t.body_params,
            url_button: t.url_button,
            unsupported: t.unsupported.unwrap_or_default(),
        })
        .collect();
    let purposes = Purpose::ALL
        .into_iter()
        .map(|purpose| PurposeLine {
            purpose: purpose.as_str().to_owned(),
            label: purpose.label().to_owned(),
            fields: Field::ALL
                .into_iter()
                .filter(|f| f.fits(purpose, config.recovery.coupon_step))
                .map(|f| FieldChoice { value: name_of(f), label: f.label().to_owned() })
                .collect(),
            current: config.mapping_for(purpose).map(|m| MappingChoice {
                purpose: purpose.as_str().to_owned(),
                template: m.template.clone(),
                language: m.language.clone(),
                parameters: m.parameters.iter().copied().map(name_of).collect(),
            }),
        })
        .collect();
    Ok(TemplatesView { templates, purposes })
}

/// Fetches the account's templates from Meta again; answers how many it has.
#[server(endpoint = "refresh_whatsapp_templates")]
pub async fn refresh_whatsapp_templates() -> Result<String, PanelError> {
    let me = super::acting().await?;
    Ok(match backend::whatsapp::templates::refresh(&me.ctx.whatsapp).await?.len() {
        0 => "Meta has no templates for this account yet.".to_owned(),
        1 => "1 template fetched from Meta.".to_owned(),
        n => format!("{n} templates fetched from Meta."),
    })
}

/// Saves which template each message uses (the rest of the settings as they are).
/// Fails with the backend's sentence for a template that is not approved, a parameter
/// count that is not the template's, or a field the message has no value for.
#[server(endpoint = "save_whatsapp_mapping", input = leptos::server_fn::codec::Json)]
pub async fn save_whatsapp_mapping(mapping: Vec<MappingChoice>) -> Result<(), PanelError> {
    use backend::whatsapp::settings;
    let me = super::acting().await?;
    let whatsapp = &me.ctx.whatsapp;
    let mut config = settings::config(whatsapp.db.pool()).await?;
    config.mapping = mapping.into_iter().map(MappingChoice::parse).collect::<Result<_, _>>()?;
    settings::update_config(&whatsapp.db, &me.user, me.ip.as_deref(), config, whatsapp.short_delays).await?;
    Ok(())
}

/// Sends an approved template now; answers Meta's id for the message (wamid…).
#[server(endpoint = "send_whatsapp_test", input = leptos::server_fn::codec::Json)]
pub async fn send_whatsapp_test(
    to: String,
    template: String,
    language: String,
    parameters: Vec<String>,
) -> Result<String, PanelError> {
    use backend::whatsapp::setup::{TestSend, test_send};
    let me = super::acting().await?;
    let test = TestSend { to, template, language, parameters, url_suffix: None };
    Ok(test_send(&me.ctx.whatsapp, &me.user, me.ip.as_deref(), test).await?)
}

/// Counts the successful runs of `action`: a resource keyed on it reloads after a change
/// that was made, and keeps what was typed next to the error of one that was not.
fn successes<I, O>(action: ServerAction<I>) -> Memo<usize>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = PanelError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Memo::new(move |before: Option<&usize>| match action.value().get() {
        Some(Ok(_)) => action.version().get(),
        _ => before.copied().unwrap_or_default(),
    })
}

#[component]
pub fn WhatsAppSetupPage() -> impl IntoView {
    let save_credentials = ServerAction::<SaveWhatsappCredentials>::new();
    let checks = ServerAction::<RunWhatsappChecks>::new();
    let refresh = ServerAction::<RefreshWhatsappTemplates>::new();
    let save_mapping = ServerAction::<SaveWhatsappMapping>::new();
    let test = ServerAction::<SendWhatsappTest>::new();
    let credentials_saved = successes(save_credentials);
    let checked = successes(checks);
    let refreshed = successes(refresh);
    let mapped = successes(save_mapping);
    // The checks may find the webhook verified since the page opened.
    let account = crate::loaded::load(move || (credentials_saved.get(), checked.get()), |_| whatsapp_account());
    let templates =
        crate::loaded::load(move || (credentials_saved.get(), refreshed.get(), mapped.get()), |_| whatsapp_templates());
    // The test send's own copy: saving the mapping leaves what is typed there alone.
    let sendable = crate::loaded::load(move || (credentials_saved.get(), refreshed.get()), |_| whatsapp_templates());
    // What is typed as secrets. A reloaded form keeps its fields in place (only what
    // changed is redrawn), so secrets just saved are cleared here, not left in the fields.
    let secrets = Secrets { access_token: RwSignal::new(String::new()), app_secret: RwSignal::new(String::new()) };
    Effect::new(move |_| {
        if let Some(Ok(())) = save_credentials.value().get() {
            secrets.access_token.set(String::new());
            secrets.app_secret.set(String::new());
        }
    });
    view! {
        <Title text="WhatsApp setup · Backroom"/>
        <h1>"WhatsApp setup"</h1>
        <WhatsAppNav/>
        <p class="muted">"Backroom sends through Meta's WhatsApp Cloud API, from a number of the shop's own. Work through the steps in order; each can be done again later."</p>
        <ol class="wizard">
            <li>
                <section class="card" aria-labelledby="step-meta">
                    <h2 id="step-meta">"Prepare at Meta"</h2>
                    <MetaChecklist/>
                </section>
            </li>
            <li>
                <section class="card" aria-labelledby="step-credentials">
                    <h2 id="step-credentials">"The account's ids and secrets"</h2>
                    <LoadedLatest resource=account show=move |a: AccountView| view! { <CredentialsStep account=a save=save_credentials secrets/> }/>
                </section>
            </li>
            <li>
                <section class="card" aria-labelledby="step-webhook">
                    <h2 id="step-webhook">"The webhook"</h2>
                    <LoadedLatest resource=account show=move |a: AccountView| view! { <WebhookStep account=a/> }/>
                </section>
            </li>
            <li>
                <section class="card" aria-labelledby="step-checks">
                    <h2 id="step-checks">"Live checks"</h2>
                    <ChecksStep checks/>
                </section>
            </li>
            <li>
                <section class="card" aria-labelledby="step-templates">
                    <h2 id="step-templates">"Templates and which message uses which"</h2>
                    <TemplatesStep templates refresh save=save_mapping/>
                </section>
            </li>
            <li>
                <section class="card" aria-labelledby="step-test">
                    <h2 id="step-test">"A test send"</h2>
                    <LoadedLatest resource=sendable show=move |t: TemplatesView| view! { <TestSendStep templates=t.templates send=test/> }/>
                </section>
            </li>
        </ol>
    }
}

#[component]
fn MetaChecklist() -> impl IntoView {
    view! {
        <p>"Before Backroom can send, the shop needs these at Meta:"</p>
        <ul>
            <li>"A business app at "<a href="https://developers.facebook.com/apps" rel="external noopener" target="_blank">"developers.facebook.com"</a>" with the WhatsApp product added."</li>
            <li>"A WhatsApp Business Account (WABA) connected to the app."</li>
            <li>"A phone number added to that account and verified; its Phone Number ID is shown under WhatsApp → API Setup."</li>
            <li>
                "A system user in the Business Manager with a permanent access token that has the "
                <code>"whatsapp_business_messaging"</code>" and "<code>"whatsapp_business_management"</code>" permissions."
            </li>
            <li>"The app secret, under App settings → Basic: Backroom checks every webhook delivery with it."</li>
        </ul>
        <p id="whatsapp-pricing">
            "What it costs: Meta charges per delivered template message, by its category. Cart reminders are marketing messages; "
            "order updates are utility messages. There is no monthly allowance of free conversations to count on — see Meta's pricing page for your country."
        </p>
    }
}

/// The secrets as typed into the credentials form.
#[derive(Clone, Copy)]
struct Secrets {
    access_token: RwSignal<String>,
    app_secret: RwSignal<String>,
}

#[component]
fn CredentialsStep(
    account: AccountView,
    save: ServerAction<SaveWhatsappCredentials>,
    secrets: Secrets,
) -> impl IntoView {
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <ActionForm action=save>
            <div class="field">
                <label for="wa-phone-number-id">"Phone Number ID"</label>
                <input id="wa-phone-number-id" name="credentials[phone_number_id]" type="text" inputmode="numeric" maxlength="40"
                    autocomplete="off" spellcheck="false" value=account.phone_number_id.clone()/>
            </div>
            <div class="field">
                <label for="wa-waba-id">"WhatsApp Business Account ID (WABA ID)"</label>
                <input id="wa-waba-id" name="credentials[waba_id]" type="text" inputmode="numeric" maxlength="40"
                    autocomplete="off" spellcheck="false" value=account.waba_id.clone()/>
            </div>
            <SecretField id="wa-access-token" name="credentials[access_token]" label="Access token" maxlength=1000
                typed=secrets.access_token stored=account.has_access_token/>
            <SecretField id="wa-app-secret" name="credentials[app_secret]" label="App secret" maxlength=200
                typed=secrets.app_secret stored=account.has_app_secret/>
            <div class="field">
                <label for="wa-graph-version">"Graph API version"</label>
                <input id="wa-graph-version" name="credentials[graph_version]" type="text" maxlength="8" required spellcheck="false"
                    aria-describedby="wa-graph-version-hint" value=account.graph_version.clone()/>
                <p class="hint" id="wa-graph-version-hint">"Such as v23.0, the version Backroom was built against."</p>
            </div>
            <details class="advanced">
                <summary>"Advanced"</summary>
                <div class="field">
                    <label for="wa-graph-base-url">"Graph API base URL"</label>
                    <input id="wa-graph-base-url" name="credentials[graph_base_url]" type="url" maxlength="300" required spellcheck="false"
                        aria-describedby="wa-graph-base-url-hint" value=account.graph_base_url.clone()/>
                    <p class="hint" id="wa-graph-base-url-hint">"https://graph.facebook.com unless Meta's API is reached through a proxy."</p>
                </div>
            </details>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save the account"</button>
        </ActionForm>
        {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
    }
}

/// A secret of the account: what is `typed` (the stored one is never shown), and whether
/// one is `stored`.
#[component]
fn SecretField(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    maxlength: u32,
    typed: RwSignal<String>,
    stored: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="password" maxlength=maxlength
                autocomplete="new-password" spellcheck="false" aria-describedby=hint_id.clone()
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
            <p class="hint" id=hint_id>{if stored { "Saved — leave empty to keep it." } else { "Not saved yet." }}</p>
        </div>
    }
}

#[component]
fn WebhookStep(account: AccountView) -> impl IntoView {
    view! {
        <p>
            "In the app at Meta, open WhatsApp → Configuration, press Edit beside Webhook, paste these two, "
            "press Verify and save, then subscribe to the “messages” field."
        </p>
        <CopyField id="wa-webhook-url" label="Callback URL" value=account.webhook_url what="the callback URL"/>
        <CopyField id="wa-verify-token" label="Verify token" value=account.verify_token what="the verify token"/>
        <p data-testid="webhook-state">
            {match account.webhook_verified {
                Some(at) => view! { <span class="badge wa-check-ok">"Verified"</span>" Meta verified the webhook on "{at}" ("{account.time_zone}")." }.into_any(),
                None => view! { <span class="badge wa-check-problem">"Not verified"</span>" Meta has not verified the webhook yet." }.into_any(),
            }}
        </p>
    }
}

/// A value to paste at Meta: read-only in the field `id`, with its copy button (`what`
/// names the value for screen readers).
#[component]
fn CopyField(id: &'static str, label: &'static str, value: String, what: &'static str) -> impl IntoView {
    view! {
        <div class="field copy-field">
            <label for=id>{label}</label>
            <div class="copy-row">
                <input id=id type="text" readonly spellcheck="false" value=value.clone()/>
                <CopyButton text=value field=id what/>
            </div>
        </div>
    }
}

#[component]
fn ChecksStep(checks: ServerAction<RunWhatsappChecks>) -> impl IntoView {
    let error = action_error(checks);
    view! {
        <p>"Asks Meta, with the saved account, whether the token, the account and the number are right, and whether the webhook is verified."</p>
        <ActionForm action=checks>
            <button type="submit" disabled=move || checks.pending().get()>
                {move || if checks.pending().get() { "Checking…" } else { "Run live checks" }}
            </button>
        </ActionForm>
        <div aria-live="polite" data-testid="checks">
            {move || checks.value().get().and_then(Result::ok).map(|lines| view! {
                <ul class="checks">
                    {lines.into_iter().map(|c| view! {
                        <li class=if c.ok { "check check-ok" } else { "check check-problem" }>
                            <span class=if c.ok { "badge wa-check-ok" } else { "badge wa-check-problem" }>{if c.ok { "OK" } else { "Problem" }}</span>
                            " "<strong>{c.name}</strong>": "{c.message}
                        </li>
                    }).collect_view()}
                </ul>
            })}
            {move || error().map(|e| view! { <p class="error">{e}</p> })}
        </div>
    }
}

#[component]
fn TemplatesStep(
    templates: crate::loaded::Load<TemplatesView>,
    refresh: ServerAction<RefreshWhatsappTemplates>,
    save: ServerAction<SaveWhatsappMapping>,
) -> impl IntoView {
    let refresh_error = action_error(refresh);
    view! {
        <p>"Meta sends only approved templates to a shopper who has not written in the last 24 hours. Make them at Meta (WhatsApp Manager → Message templates), then fetch them here."</p>
        <ActionForm action=refresh>
            <button type="submit" disabled=move || refresh.pending().get()>
                {move || if refresh.pending().get() { "Refreshing…" } else { "Refresh from Meta" }}
            </button>
        </ActionForm>
        <div aria-live="polite">
            {move || refresh.value().get().and_then(Result::ok).map(|said| view! { <p class="success">{said}</p> })}
            {move || refresh_error().map(|e| view! { <p class="error">{e}</p> })}
        </div>
        <LoadedLatest resource=templates show=move |t: TemplatesView| view! {
            <TemplateTable templates=t.templates.clone()/>
            <h3 id="mapping-heading">"Which template each message uses"</h3>
            <MappingForm data=t save/>
        }/>
    }
}

#[component]
fn TemplateTable(templates: Vec<TemplateLine>) -> impl IntoView {
    if templates.is_empty() {
        return view! { <p class="muted">"No templates yet: refresh them from Meta once the account is saved."</p> }
            .into_any();
    }
    view! {
        <DataTable headings={&["Name", "Language", "Status", "Category", "Parameters", "Link button", "Why Backroom cannot send it"]}>
            {templates.into_iter().map(|t| view! {
                <tr>
                    <td class="nowrap"><code>{t.name}</code></td>
                    <td>{t.language}</td>
                    <td><span class=if t.status == "APPROVED" { "badge wa-check-ok" } else { "badge" }>{t.status.to_lowercase()}</span></td>
                    <td>{t.category.to_lowercase()}</td>
                    <td class="num">{t.parameters}</td>
                    <td>{if t.url_button { "Yes" } else { "No" }}</td>
                    <td class="wrap">{t.unsupported}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }
    .into_any()
}

/// What the mapping form holds for one message: the chosen template (its place among the
/// usable ones) and the field of each parameter.
#[derive(Clone, Copy)]
struct Choice {
    template: RwSignal<Option<usize>>,
    parameters: RwSignal<Vec<String>>,
}

#[component]
fn MappingForm(data: TemplatesView, save: ServerAction<SaveWhatsappMapping>) -> impl IntoView {
    let usable: Vec<TemplateLine> = data.templates.into_iter().filter(|t| t.usable).collect();
    let rows: Vec<(PurposeLine, Choice)> = data
        .purposes
        .into_iter()
        .map(|purpose| {
            let current = purpose.current.as_ref();
            let template =
                current.and_then(|m| usable.iter().position(|t| t.name == m.template && t.language == m.language));
            let parameters = current.map(|m| m.parameters.clone()).unwrap_or_default();
            (purpose, Choice { template: RwSignal::new(template), parameters: RwSignal::new(parameters) })
        })
        .collect();
    let usable = StoredValue::new(usable);
    let chosen: Vec<(String, Choice)> = rows.iter().map(|(p, c)| (p.purpose.clone(), *c)).collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if save.pending().get_untracked() {
            return;
        }
        let mapping = chosen
            .iter()
            .filter_map(|(purpose, choice)| {
                let index = choice.template.get_untracked()?;
                usable.with_value(|all| all.get(index).cloned()).map(|t| MappingChoice {
                    purpose: purpose.clone(),
                    template: t.name,
                    language: t.language,
                    parameters: choice.parameters.get_untracked(),
                })
            })
            .collect();
        save.dispatch(SaveWhatsappMapping { mapping });
    };
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <form class="mapping-form" aria-labelledby="mapping-heading" on:submit=submit>
            <p class="hint">"Only approved templates Backroom can send are offered. Each placeholder of the template, {{1}} onwards, gets a parameter."</p>
            {rows.into_iter().map(|(purpose, choice)| view! { <PurposeMapping purpose choice usable/> }).collect_view()}
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save the mapping"</button>
            {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
        </form>
    }
}

/// How many parameters the usable template at `index` has; none while no template is
/// chosen.
fn parameter_count(usable: StoredValue<Vec<TemplateLine>>, index: Option<usize>) -> usize {
    index.and_then(|i| usable.with_value(|all| all.get(i).map(|t| t.parameters as usize))).unwrap_or(0)
}

/// What a parameter's field does as it changes: puts its value in `slots[i]`.
fn set_slot(slots: RwSignal<Vec<String>>, i: usize) -> impl Fn(leptos::ev::Event) + 'static {
    move |ev| {
        let value = event_target_value(&ev);
        slots.update(|slots| {
            if let Some(slot) = slots.get_mut(i) {
                *slot = value;
            }
        });
    }
}

/// One message's template select and, once one is chosen, a select for each of its
/// parameters: exactly as many as the template has.
#[component]
fn PurposeMapping(purpose: PurposeLine, choice: Choice, usable: StoredValue<Vec<TemplateLine>>) -> impl IntoView {
    let Choice { template, parameters } = choice;
    let id = format!("map-{}", purpose.purpose);
    let fields = StoredValue::new(purpose.fields);
    let initial = template.get_untracked();
    let pick = move |ev: leptos::ev::Event| {
        let index = event_target_value(&ev).parse::<usize>().ok();
        let count = parameter_count(usable, index);
        // The parameters first: the selects drawn for the new template show them.
        parameters.update(|chosen| {
            chosen.truncate(count);
            while chosen.len() < count {
                let next = fields
                    .with_value(|f| f.get(chosen.len()).or(f.first()).map(|f| f.value.clone()).unwrap_or_default());
                chosen.push(next);
            }
        });
        template.set(index);
    };
    let parameter_selects = {
        let id = id.clone();
        move || {
            let count = parameter_count(usable, template.get());
            (0..count)
                .map(|i| {
                    let select_id = format!("{id}-{}", i + 1);
                    let current = parameters.with_untracked(|p| p.get(i).cloned().unwrap_or_default());
                    view! {
                        <div class="field">
                            <label for=select_id.clone()>{format!("Parameter {{{{{}}}}}", i + 1)}</label>
                            <select id=select_id on:change=set_slot(parameters, i) prop:value=move || parameters.with(|p| p.get(i).cloned().unwrap_or_default())>
                                {fields.with_value(|f| f.iter().map(|f| view! {
                                    <option value=f.value.clone() selected=f.value == current>{f.label.clone()}</option>
                                }).collect_view())}
                            </select>
                        </div>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <fieldset class="mapping settings-group">
            <legend>{purpose.label}</legend>
            <div class="field">
                <label for=id.clone()>"Template"</label>
                <select id=id.clone() on:change=pick prop:value=move || template.get().map(|i| i.to_string()).unwrap_or_default()>
                    <option value="" selected=initial.is_none()>"— none —"</option>
                    {usable.with_value(|all| all.iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string() selected=initial == Some(i)>{t.title()}</option>
                    }).collect_view())}
                </select>
            </div>
            <div class="mapping-parameters">{parameter_selects}</div>
        </fieldset>
    }
}

#[component]
fn TestSendStep(templates: Vec<TemplateLine>, send: ServerAction<SendWhatsappTest>) -> impl IntoView {
    let usable: Vec<TemplateLine> = templates.into_iter().filter(|t| t.usable).collect();
    if usable.is_empty() {
        return view! { <p class="muted">"Refresh the templates first: a test uses one of the account's approved templates."</p> }.into_any();
    }
    let usable = StoredValue::new(usable);
    let to = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<usize>);
    let values = RwSignal::new(Vec::<String>::new());
    let pick = move |ev: leptos::ev::Event| {
        let index = event_target_value(&ev).parse::<usize>().ok();
        values.set(vec![String::new(); parameter_count(usable, index)]);
        chosen.set(index);
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(template) = chosen.get_untracked().and_then(|i| usable.with_value(|all| all.get(i).cloned())) else {
            return;
        };
        if !send.pending().get_untracked() {
            send.dispatch(SendWhatsappTest {
                to: to.get_untracked(),
                template: template.name,
                language: template.language,
                parameters: values.get_untracked(),
            });
        }
    };
    let value_fields = move || {
        (0..parameter_count(usable, chosen.get()))
            .map(|i| {
                let id = format!("wa-test-value-{}", i + 1);
                view! {
                    <div class="field">
                        <label for=id.clone()>{format!("Value of {{{{{}}}}}", i + 1)}</label>
                        <input id=id type="text" required maxlength="200" autocomplete="off" on:input=set_slot(values, i)/>
                    </div>
                }
            })
            .collect_view()
    };
    let error = action_error(send);
    view! {
        <p>"Sends one approved template now, through the message log like every message, and shows Meta's answer."</p>
        <form class="test-send" aria-labelledby="step-test" on:submit=submit>
            <div class="field">
                <label for="wa-test-to">"Send to (phone)"</label>
                <input id="wa-test-to" type="tel" required maxlength="30" autocomplete="off" aria-describedby="wa-test-to-hint"
                    on:input=move |ev| to.set(event_target_value(&ev))/>
                <p class="hint" id="wa-test-to-hint">"With its country code, such as +90 532 123 45 67; a national number uses the default country of the settings."</p>
            </div>
            <div class="field">
                <label for="wa-test-template">"Template"</label>
                <select id="wa-test-template" required on:change=pick>
                    <option value="" selected>"— choose —"</option>
                    {usable.with_value(|all| all.iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string()>{t.title()}</option>
                    }).collect_view())}
                </select>
            </div>
            {value_fields}
            <button type="submit" class="primary" disabled=move || send.pending().get()>
                {move || if send.pending().get() { "Sending…" } else { "Send test" }}
            </button>
        </form>
        <div aria-live="polite" data-testid="test-send">
            {move || send.value().get().and_then(Result::ok).map(|wamid| view! {
                <p class="success">"Sent — Meta's id: "<code>{wamid}</code></p>
            })}
            {move || error().map(|e| view! { <p class="error">{e}</p> })}
        </div>
    }
    .into_any()
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use backend::whatsapp::config::{Field, Purpose};

    use super::*;

    #[test]
    fn a_mapping_is_read_with_the_backends_names_and_refuses_others() {
        let choice = MappingChoice {
            purpose: "order_processing".into(),
            template: "order_processing".into(),
            language: "tr".into(),
            parameters: vec!["first_name".into(), "order_number".into()],
        };
        let mapping = choice.clone().parse().unwrap();
        assert_eq!(
            (mapping.purpose, mapping.parameters),
            (Purpose::OrderProcessing, vec![Field::FirstName, Field::OrderNumber])
        );
        assert_eq!(name_of(Field::CouponExpiry), "coupon_expiry");
        let unknown = MappingChoice { parameters: vec!["shoe_size".into()], ..choice.clone() }.parse().unwrap_err();
        assert!(unknown.to_string().contains("shoe_size"));
        assert!(MappingChoice { purpose: "birthday".into(), ..choice.clone() }.parse().is_err());
        let recovery = MappingChoice { purpose: Purpose::Recovery1.as_str().into(), ..choice }.parse().unwrap();
        assert_eq!(recovery.purpose, Purpose::Recovery1);
    }

    #[test]
    fn an_empty_secret_keeps_the_stored_one() {
        let form =
            CredentialsForm { access_token: "  ".into(), app_secret: "s3cret".into(), ..CredentialsForm::default() };
        let credentials = form.into_credentials();
        assert_eq!(credentials.access_token, None);
        assert_eq!(credentials.app_secret.as_deref(), Some("s3cret"));
    }
}
