//! The accounting settings page, for owners and admins: where the ledger is and the key
//! it takes, how orders become invoices, how hard to try; a connection test; how many
//! documents are in each state; and, when the ledger refused the credentials, why
//! syncing is paused.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::{
    accounting::{MAX_API_KEY_CHARS, MAX_BASE_URL_CHARS, MAX_COMPANY_CODE_CHARS, MAX_INVOICE_PREFIX_CHARS},
    orders::OrderStatus,
};

use super::LOG_PATH;
use crate::{
    error::PanelError,
    forms::{RadioChoices, action_error},
    loaded::Loaded,
    security::NumberField,
};

/// The settings as the form shows and sends them. Checkboxes are present when ticked;
/// the API key is never shown, and sent empty it keeps the stored one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountingForm {
    #[serde(default)]
    pub enabled: Option<String>,
    pub base_url: String,
    pub company_code: String,
    #[serde(default)]
    pub api_key: String,
    pub invoice_prefix: String,
    /// `order_number` or `sequence`.
    pub numbering: String,
    #[serde(default)]
    pub trigger_statuses: Vec<String>,
    /// `credit_note` or `manual`.
    pub refunds: String,
    #[serde(default)]
    pub shipping_as_line: Option<String>,
    #[serde(default)]
    pub fees_as_line: Option<String>,
    pub vat_codes: String,
    pub max_attempts: i64,
    pub log_retention_days: i64,
    #[serde(default)]
    pub redact_personal_data: Option<String>,
}

#[cfg(feature = "ssr")]
impl AccountingForm {
    fn from_settings(s: backend::accounting::settings::AccountingSettings) -> AccountingForm {
        use backend::accounting::settings::{Numbering, RefundHandling};
        let ticked = |on: bool| on.then(|| "on".to_owned());
        AccountingForm {
            enabled: ticked(s.enabled),
            base_url: s.base_url,
            company_code: s.company_code,
            api_key: String::new(),
            invoice_prefix: s.invoice_prefix,
            numbering: match s.numbering {
                Numbering::OrderNumber => "order_number",
                Numbering::Sequence => "sequence",
            }
            .to_owned(),
            trigger_statuses: s.trigger_statuses,
            refunds: match s.refunds {
                RefundHandling::CreditNote => "credit_note",
                RefundHandling::Manual => "manual",
            }
            .to_owned(),
            shipping_as_line: ticked(s.shipping_as_line),
            fees_as_line: ticked(s.fees_as_line),
            vat_codes: s.vat_codes,
            max_attempts: s.max_attempts,
            log_retention_days: s.log_retention_days,
            redact_personal_data: ticked(s.redact_personal_data),
        }
    }

    /// Fails naming the choice that is not one of the form's.
    fn parse(self) -> Result<backend::accounting::settings::SettingsUpdate, PanelError> {
        use backend::accounting::settings::{Numbering, RefundHandling, SettingsUpdate};
        let numbering = match self.numbering.as_str() {
            "order_number" => Numbering::OrderNumber,
            "sequence" => Numbering::Sequence,
            _ => {
                return Err(PanelError::Message(
                    "invoice numbers follow the order's number or a sequence of our own".into(),
                ));
            }
        };
        let refunds = match self.refunds.as_str() {
            "credit_note" => RefundHandling::CreditNote,
            "manual" => RefundHandling::Manual,
            _ => {
                return Err(PanelError::Message(
                    "a refund becomes a credit note or is listed to be entered by hand".into(),
                ));
            }
        };
        Ok(SettingsUpdate {
            enabled: self.enabled.is_some(),
            base_url: self.base_url,
            company_code: self.company_code,
            api_key: Some(self.api_key).filter(|key| !key.trim().is_empty()),
            invoice_prefix: self.invoice_prefix,
            numbering,
            trigger_statuses: self.trigger_statuses,
            refunds,
            shipping_as_line: self.shipping_as_line.is_some(),
            fees_as_line: self.fees_as_line.is_some(),
            vat_codes: self.vat_codes,
            max_attempts: self.max_attempts,
            log_retention_days: self.log_retention_days,
            redact_personal_data: self.redact_personal_data.is_some(),
        })
    }
}

/// How many documents are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCounts {
    pub queued: i64,
    pub synced: i64,
    pub failed: i64,
    pub dead: i64,
    pub manual: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountingView {
    pub form: AccountingForm,
    pub has_api_key: bool,
    /// The stored key's last characters.
    pub api_key_hint: String,
    /// Why syncing is paused (the ledger refused the credentials); `None` while it runs.
    pub paused_reason: Option<String>,
    pub counts: DocumentCounts,
}

/// What the connection test came to, in the ledger's words or ours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub connected: bool,
    pub message: String,
}

#[server(endpoint = "accounting_settings")]
pub async fn accounting_settings() -> Result<AccountingView, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    let settings = backend::accounting::settings::get(&ctx.db).await?;
    let counts = backend::accounting::counts(&ctx.db).await?;
    Ok(AccountingView {
        has_api_key: settings.has_api_key,
        api_key_hint: settings.api_key_hint.clone(),
        paused_reason: settings.paused_reason.clone(),
        form: AccountingForm::from_settings(settings),
        counts: DocumentCounts {
            queued: counts.queued,
            synced: counts.synced,
            failed: counts.failed,
            dead: counts.dead,
            manual: counts.manual,
        },
    })
}

/// Saves the settings (a new API key is sealed; an empty one keeps the stored key) and
/// lifts a pause. Fails with the backend's reason when a field is not right.
#[server(endpoint = "save_accounting_settings")]
pub async fn save_accounting_settings(settings: AccountingForm) -> Result<(), PanelError> {
    let me = crate::context::acting(backend::users::Role::manages_store).await?;
    let accounting = &me.ctx.accounting;
    backend::accounting::settings::update(
        &accounting.db,
        &accounting.sealer,
        &me.user,
        me.ip.as_deref(),
        settings.parse()?,
    )
    .await?;
    Ok(())
}

/// Asks the ledger, with the saved settings, who the company code belongs to.
#[server(endpoint = "test_accounting_connection")]
pub async fn test_accounting_connection() -> Result<ConnectionTest, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    Ok(match backend::accounting::sync::test_connection(&ctx.accounting).await {
        Ok(message) => ConnectionTest { connected: true, message },
        Err(message) => ConnectionTest { connected: false, message },
    })
}

#[component]
pub fn AccountingSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveAccountingSettings>::new();
    let test = ServerAction::<TestAccountingConnection>::new();
    // Reloaded after a save that succeeded (the pause lifted, the key's hint); after one
    // that failed the form keeps what was typed, next to the error.
    let saves = Memo::new(move |before: Option<&usize>| match save.value().get() {
        Some(Ok(())) => save.version().get(),
        _ => before.copied().unwrap_or_default(),
    });
    let settings = crate::loaded::load(move || saves.get(), |_| accounting_settings());
    // What is typed as the API key. A reloaded form keeps its fields in place (only what
    // changed is redrawn), so a key just saved is cleared here, not left in the field.
    let api_key = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            api_key.set(String::new());
        }
    });
    view! {
        <Title text="Accounting · Backroom"/>
        <h1>"Accounting"</h1>
        <p class="muted">
            "Orders go to Cari.com.tr as invoices, and refunds as credit notes. "
            <a href=LOG_PATH>"Errors, request log and bulk syncs"</a>
        </p>
        <Loaded resource=settings show=move |current: AccountingView| view! {
            {current.paused_reason.clone().map(|reason| view! { <PausedBanner reason/> })}
            <Counts counts=current.counts.clone()/>
            <SettingsForm current save api_key/>
            <ConnectionTestCard test/>
        }/>
    }
}

/// Why nothing is being sent, and what starts it again.
#[component]
fn PausedBanner(reason: String) -> impl IntoView {
    view! {
        <section class="card notice warning" aria-labelledby="paused-heading">
            <h2 id="paused-heading">"Syncing is paused"</h2>
            <p>"The ledger refused Backroom's credentials, so nothing is sent: " <strong>{reason}</strong></p>
            <p>"Check the company code and the API key below, then save the settings: saving resumes syncing, and the documents waiting are sent."</p>
        </section>
    }
}

/// The documents in each state; the ones that need a person link to the errors page.
#[component]
fn Counts(counts: DocumentCounts) -> impl IntoView {
    let problems = href_to_problems();
    let figures = [
        ("Queued", counts.queued, false),
        ("Synced", counts.synced, false),
        ("Failed (will retry)", counts.failed, true),
        ("Dead (retry by hand)", counts.dead, true),
        ("Manual (enter by hand)", counts.manual, true),
    ];
    view! {
        <section class="stats accounting-counts" aria-label="Documents by state">
            {figures.into_iter().map(|(label, n, needs_a_person)| view! {
                <div class="stat card">
                    <span class="stat-label">{label}</span>
                    <span class="stat-value">{n}</span>
                    {(needs_a_person && n > 0).then(|| view! { <a class="stat-sub" href=problems.clone()>"See them"</a> })}
                </div>
            }).collect_view()}
        </section>
    }
}

/// The errors page, at its list of documents that need a person.
fn href_to_problems() -> String {
    format!("{LOG_PATH}#problems-heading")
}

#[component]
fn SettingsForm(
    current: AccountingView,
    save: ServerAction<SaveAccountingSettings>,
    api_key: RwSignal<String>,
) -> impl IntoView {
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let key_hint = if current.has_api_key {
        format!("A key ending in …{} is stored. Leave this empty to keep it.", current.api_key_hint)
    } else {
        "No key is stored yet.".to_owned()
    };
    let s = current.form;
    let numbering = s.numbering.clone();
    let refunds = s.refunds.clone();
    view! {
        <div class="card">
            <h2>"Settings"</h2>
            <ActionForm action=save>
                <div class="field checkbox">
                    <input id="enabled" name="settings[enabled]" type="checkbox" checked=s.enabled.is_some()/>
                    <label for="enabled">"Send orders to the ledger"</label>
                </div>
                <p class="hint field-hint">"Off: nothing is queued when orders change. Documents already queued are still sent."</p>
                <fieldset class="settings-group">
                    <legend>"Connection"</legend>
                    <div class="field">
                        <label for="base_url">"Base URL of the ledger's API"</label>
                        <input id="base_url" name="settings[base_url]" type="url" required maxlength=MAX_BASE_URL_CHARS.to_string() spellcheck="false"
                            placeholder="https://sistem.cari.com.tr/api" value=s.base_url.clone()/>
                    </div>
                    <div class="field">
                        <label for="company_code">"Company code (firma kodu)"</label>
                        <input id="company_code" name="settings[company_code]" type="text" maxlength=MAX_COMPANY_CODE_CHARS.to_string() autocomplete="off"
                            spellcheck="false" value=s.company_code.clone()/>
                    </div>
                    <div class="field">
                        <label for="api_key">"API key"</label>
                        <input id="api_key" name="settings[api_key]" type="password" maxlength=MAX_API_KEY_CHARS.to_string() autocomplete="new-password"
                            spellcheck="false" aria-describedby="api_key-hint"
                            prop:value=move || api_key.get() on:input=move |ev| api_key.set(event_target_value(&ev))/>
                        <p class="hint" id="api_key-hint">{key_hint}</p>
                    </div>
                </fieldset>
                <fieldset class="settings-group">
                    <legend>"Invoices"</legend>
                    <div class="field">
                        <label for="invoice_prefix">"Invoice prefix"</label>
                        <input id="invoice_prefix" name="settings[invoice_prefix]" type="text" required maxlength=MAX_INVOICE_PREFIX_CHARS.to_string() spellcheck="false" aria-describedby="invoice_prefix-hint" value=s.invoice_prefix.clone()/>
                        <p class="hint" id="invoice_prefix-hint">{format!("1 to {MAX_INVOICE_PREFIX_CHARS} letters, digits or dashes, such as WEB.")}</p>
                    </div>
                    <RadioChoices legend="Invoice numbers" name="settings[numbering]" current=numbering options=&[
                        ("order_number", "numbering-order", "The prefix and the order's number (WEB1042)"),
                        ("sequence", "numbering-sequence", "The prefix and a sequence of our own, without gaps (WEB000001)"),
                    ]/>
                    <fieldset class="choices">
                        <legend>"Send an order's invoice when it becomes"</legend>
                        {OrderStatus::ALL.into_iter().map(|status| {
                        let (value, label) = (status.as_str(), status.label());
                            let id = format!("trigger-{value}");
                            view! {
                                <span class="choice">
                                    <input type="checkbox" id=id.clone() name="settings[trigger_statuses][]" value=value
                                        checked=s.trigger_statuses.iter().any(|s| s == value)/>
                                    <label for=id>{label}</label>
                                </span>
                            }
                        }).collect_view()}
                    </fieldset>
                    <RadioChoices legend="A refund on an invoiced order" name="settings[refunds]" current=refunds options=&[
                        ("credit_note", "refunds-credit-note", "Becomes a credit note in the ledger"),
                        ("manual", "refunds-manual", "Is listed on the errors page, to be entered by hand"),
                    ]/>
                    <div class="field checkbox">
                        <input id="shipping_as_line" name="settings[shipping_as_line]" type="checkbox" checked=s.shipping_as_line.is_some()/>
                        <label for="shipping_as_line">"Shipping as a line of the invoice"</label>
                    </div>
                    <div class="field checkbox">
                        <input id="fees_as_line" name="settings[fees_as_line]" type="checkbox" checked=s.fees_as_line.is_some()/>
                        <label for="fees_as_line">"Fees as lines of the invoice"</label>
                    </div>
                    <div class="field">
                        <label for="vat_codes">"VAT codes: our rate in percent = the ledger's code"</label>
                        <textarea id="vat_codes" name="settings[vat_codes]" rows="3" spellcheck="false" aria-describedby="vat_codes-hint"
                            placeholder="20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0">{s.vat_codes.clone()}</textarea>
                        <p class="hint" id="vat_codes-hint">"Separated by commas or lines, such as 20=KDV20, 10=KDV10, 1=KDV1, 0=KDV0."</p>
                    </div>
                </fieldset>
                <fieldset class="settings-group">
                    <legend>"Sending and the request log"</legend>
                    <NumberField name="max_attempts" label="Attempts before giving up on a document" min=1 max=20 value=s.max_attempts
                        hint="A document that still fails is listed on the errors page, to be retried by hand."/>
                    <NumberField name="log_retention_days" label="Keep the request log for (days)" min=1 max=3650 value=s.log_retention_days/>
                    <div class="field checkbox">
                        <input id="redact_personal_data" name="settings[redact_personal_data]" type="checkbox" checked=s.redact_personal_data.is_some()/>
                        <label for="redact_personal_data">"Leave personal data out of the request log"</label>
                    </div>
                    <p class="hint field-hint">"Names, addresses, emails, phone numbers and tax ids are replaced before anything is written. The API key is never logged."</p>
                </fieldset>
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=move || save.pending().get()>"Save accounting settings"</button>
            </ActionForm>
            {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
        </div>
    }
}

/// The connection test, with its answer said where screen readers hear it.
#[component]
fn ConnectionTestCard(test: ServerAction<TestAccountingConnection>) -> impl IntoView {
    let error = action_error(test);
    let answer = move || {
        test.value().get().and_then(Result::ok).map(|t| {
            if t.connected {
                view! { <p class="success">{t.message}</p> }.into_any()
            } else {
                view! { <p class="error"><span>"Not connected: "</span>{t.message}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="connection-test-heading">
            <h2 id="connection-test-heading">"Test the connection"</h2>
            <p class="hint">"Uses the saved settings: save a change before testing it."</p>
            <ActionForm action=test>
                <button type="submit" disabled=move || test.pending().get()>
                    {move || if test.pending().get() { "Testing…" } else { "Test connection" }}
                </button>
            </ActionForm>
            <div aria-live="polite" data-testid="connection-test">
                {answer}
                {move || error().map(|e| view! { <p class="error">{e}</p> })}
            </div>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use backend::accounting::settings::{Numbering, RefundHandling};

    use super::*;

    fn form() -> AccountingForm {
        AccountingForm {
            enabled: Some("on".into()),
            numbering: "sequence".into(),
            refunds: "manual".into(),
            trigger_statuses: vec!["completed".into()],
            ..AccountingForm::default()
        }
    }

    #[test]
    fn an_empty_api_key_keeps_the_stored_one_and_ticks_are_read() {
        let update = AccountingForm { api_key: "  ".into(), ..form() }.parse().unwrap();
        assert_eq!(update.api_key, None);
        assert!(update.enabled && !update.shipping_as_line);
        assert_eq!((update.numbering, update.refunds), (Numbering::Sequence, RefundHandling::Manual));
        assert_eq!(
            AccountingForm { api_key: "k-1234".into(), ..form() }.parse().unwrap().api_key.as_deref(),
            Some("k-1234")
        );
    }

    #[test]
    fn a_choice_the_form_does_not_offer_is_refused() {
        assert!(
            AccountingForm { numbering: "random".into(), ..form() }
                .parse()
                .unwrap_err()
                .to_string()
                .contains("invoice numbers")
        );
        assert!(
            AccountingForm { refunds: "ignore".into(), ..form() }.parse().unwrap_err().to_string().contains("refund")
        );
    }
}
