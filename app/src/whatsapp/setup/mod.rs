//! The WhatsApp setup wizard, one page of numbered steps: what to prepare at Meta; the
//! account's ids and secrets (never shown again once saved); the webhook's address and
//! verify token to paste at Meta; live checks against Meta; the account's templates and
//! which one each message uses, with a parameter for each of its placeholders; and a test
//! send with Meta's answer.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::whatsapp::{
    MAX_ACCESS_TOKEN_CHARS, MAX_APP_SECRET_CHARS, MAX_GRAPH_BASE_URL_CHARS, MAX_GRAPH_VERSION_CHARS, MAX_ID_DIGITS,
    MAX_PARAMETER_CHARS, MAX_PHONE_CHARS,
};

mod templates;

use self::templates::{
    RefreshWhatsappTemplates, SaveWhatsappMapping, TemplateLine, TemplatesStep, TemplatesView, parameter_count,
    set_slot, whatsapp_templates,
};
use super::{CopyButton, WhatsAppNav};
use crate::{error::PanelError, forms::action_error, loaded::LoadedLatest};

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

#[server(endpoint = "whatsapp_account")]
pub async fn whatsapp_account() -> Result<AccountView, PanelError> {
    let ctx = super::ssr::reading().await?;
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
    let me = super::ssr::acting().await?;
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
    let ctx = super::ssr::reading().await?;
    Ok(backend::whatsapp::setup::checks(&ctx.whatsapp)
        .await?
        .into_iter()
        .map(|c| CheckLine { name: c.name, ok: c.ok, message: c.message })
        .collect())
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
    let me = super::ssr::acting().await?;
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
                <input id="wa-phone-number-id" name="credentials[phone_number_id]" type="text" inputmode="numeric" maxlength=MAX_ID_DIGITS.to_string()
                    autocomplete="off" spellcheck="false" value=account.phone_number_id.clone()/>
            </div>
            <div class="field">
                <label for="wa-waba-id">"WhatsApp Business Account ID (WABA ID)"</label>
                <input id="wa-waba-id" name="credentials[waba_id]" type="text" inputmode="numeric" maxlength=MAX_ID_DIGITS.to_string()
                    autocomplete="off" spellcheck="false" value=account.waba_id.clone()/>
            </div>
            <SecretField id="wa-access-token" name="credentials[access_token]" label="Access token" maxlength=MAX_ACCESS_TOKEN_CHARS
                typed=secrets.access_token stored=account.has_access_token/>
            <SecretField id="wa-app-secret" name="credentials[app_secret]" label="App secret" maxlength=MAX_APP_SECRET_CHARS
                typed=secrets.app_secret stored=account.has_app_secret/>
            <div class="field">
                <label for="wa-graph-version">"Graph API version"</label>
                <input id="wa-graph-version" name="credentials[graph_version]" type="text" maxlength=MAX_GRAPH_VERSION_CHARS.to_string() required spellcheck="false"
                    aria-describedby="wa-graph-version-hint" value=account.graph_version.clone()/>
                <p class="hint" id="wa-graph-version-hint">"Such as v23.0, the version Backroom was built against."</p>
            </div>
            <details class="advanced">
                <summary>"Advanced"</summary>
                <div class="field">
                    <label for="wa-graph-base-url">"Graph API base URL"</label>
                    <input id="wa-graph-base-url" name="credentials[graph_base_url]" type="url" maxlength=MAX_GRAPH_BASE_URL_CHARS.to_string() required spellcheck="false"
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
    maxlength: usize,
    typed: RwSignal<String>,
    stored: bool,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="password" maxlength=maxlength.to_string()
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
                        <input id=id type="text" required maxlength=MAX_PARAMETER_CHARS.to_string() autocomplete="off" on:input=set_slot(values, i)/>
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
                <input id="wa-test-to" type="tel" required maxlength=MAX_PHONE_CHARS.to_string() autocomplete="off" aria-describedby="wa-test-to-hint"
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
    use super::*;

    #[test]
    fn an_empty_secret_keeps_the_stored_one() {
        let form =
            CredentialsForm { access_token: "  ".into(), app_secret: "s3cret".into(), ..CredentialsForm::default() };
        let credentials = form.into_credentials();
        assert_eq!(credentials.access_token, None);
        assert_eq!(credentials.app_secret.as_deref(), Some("s3cret"));
    }
}
