//! The WhatsApp settings page, for owners and admins: cart recovery (the first message's
//! delay, two follow-ups, an optional coupon, quiet hours, how long carts are chased and
//! links work), order notifications, opt-out words, the hourly cap, the default country,
//! the shop's origins with the checkout snippet, and the click-to-chat widget with its
//! snippet and a live preview drawn by the widget's own script from the unsaved form.
//! One save for the page; which template each message uses is set in the wizard.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::whatsapp::{
    MAX_CALLING_CODE_DIGITS, MAX_OPENING_HOURS_CHARS, MAX_OPT_OUT_TEXT_CHARS, MAX_OUTSIDE_MESSAGE_CHARS,
    MAX_PHONE_CHARS, MAX_WIDGET_LABEL_CHARS, MAX_WIDGET_TEXT_CHARS,
};

use super::{CopyButton, SETUP_PATH, WhatsAppNav};
use crate::{
    error::PanelError,
    forms::{RadioChoices, action_error},
    loaded::Loaded,
    security::{AmountField, CheckboxField, NumberField},
};

/// The weekdays as the opening hours list them, Monday first: (form field, label).
const WEEKDAYS: [(&str, &str); 7] = [
    ("hours_monday", "Monday"),
    ("hours_tuesday", "Tuesday"),
    ("hours_wednesday", "Wednesday"),
    ("hours_thursday", "Thursday"),
    ("hours_friday", "Friday"),
    ("hours_saturday", "Saturday"),
    ("hours_sunday", "Sunday"),
];

/// The settings as the form shows and sends them. Checkboxes are present when ticked;
/// lists are text, one item a line (opt-out words: separated by commas).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppSettingsForm {
    #[serde(default)]
    pub recovery_enabled: Option<String>,
    pub first_delay_minutes: i64,
    #[serde(default)]
    pub second_enabled: Option<String>,
    pub second_delay_hours: i64,
    #[serde(default)]
    pub third_enabled: Option<String>,
    pub third_delay_hours: i64,
    /// `none`, `2` or `3`: the message that carries a coupon.
    pub coupon_step: String,
    pub coupon_percent: i64,
    /// An amount off instead of the percent, in the shop's currency as typed (empty or 0:
    /// the percent).
    #[serde(default)]
    pub coupon_amount: String,
    pub coupon_valid_days: i64,
    /// In the shop's currency, as typed (`150`, `149,90`).
    #[serde(default)]
    pub coupon_min_spend: String,
    pub max_age_days: i64,
    pub link_valid_days: i64,
    pub quiet_start: String,
    pub quiet_end: String,
    #[serde(default)]
    pub notify_processing: Option<String>,
    #[serde(default)]
    pub notify_completed: Option<String>,
    #[serde(default)]
    pub notify_cancelled: Option<String>,
    #[serde(default)]
    pub opt_out_words: String,
    pub hourly_cap: i64,
    pub default_country: String,
    #[serde(default)]
    pub shop_origins: String,
    #[serde(default)]
    pub widget_enabled: Option<String>,
    #[serde(default)]
    pub widget_phone: String,
    #[serde(default)]
    pub widget_text: String,
    #[serde(default)]
    pub widget_label: String,
    pub widget_position: String,
    #[serde(default)]
    pub widget_show_on: String,
    #[serde(default)]
    pub widget_hide_on: String,
    #[serde(default)]
    pub hours_monday: String,
    #[serde(default)]
    pub hours_tuesday: String,
    #[serde(default)]
    pub hours_wednesday: String,
    #[serde(default)]
    pub hours_thursday: String,
    #[serde(default)]
    pub hours_friday: String,
    #[serde(default)]
    pub hours_saturday: String,
    #[serde(default)]
    pub hours_sunday: String,
    /// `hide` or `message`.
    pub widget_outside_hours: String,
    #[serde(default)]
    pub widget_outside_message: String,
}

impl WhatsAppSettingsForm {
    fn hours(&self) -> [&str; 7] {
        [
            &self.hours_monday,
            &self.hours_tuesday,
            &self.hours_wednesday,
            &self.hours_thursday,
            &self.hours_friday,
            &self.hours_saturday,
            &self.hours_sunday,
        ]
    }
}

/// The lines of a text, trimmed, without the empty ones.
#[cfg(feature = "ssr")]
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[cfg(feature = "ssr")]
impl WhatsAppSettingsForm {
    fn from_config(c: &backend::whatsapp::config::Config, currency: &str) -> WhatsAppSettingsForm {
        let ticked = |on: bool| on.then(|| "on".to_owned());
        let (r, w) = (&c.recovery, &c.widget);
        let [monday, tuesday, wednesday, thursday, friday, saturday, sunday] = w.hours.clone();
        WhatsAppSettingsForm {
            recovery_enabled: ticked(r.enabled),
            first_delay_minutes: r.first_delay_minutes,
            second_enabled: ticked(r.second_enabled),
            second_delay_hours: r.second_delay_hours,
            third_enabled: ticked(r.third_enabled),
            third_delay_hours: r.third_delay_hours,
            coupon_step: r.coupon_step.map_or_else(|| "none".to_owned(), |s| s.to_string()),
            coupon_percent: r.coupon_percent,
            coupon_amount: vocabulary::money::decimal(r.coupon_amount_minor, vocabulary::money::minor_digits(currency)),
            coupon_valid_days: r.coupon_valid_days,
            coupon_min_spend: vocabulary::money::decimal(r.coupon_min_minor, vocabulary::money::minor_digits(currency)),
            max_age_days: r.max_age_days,
            link_valid_days: r.link_valid_days,
            quiet_start: r.quiet_start.clone(),
            quiet_end: r.quiet_end.clone(),
            notify_processing: ticked(c.notifications.processing),
            notify_completed: ticked(c.notifications.completed),
            notify_cancelled: ticked(c.notifications.cancelled),
            opt_out_words: c.opt_out_words.join(", "),
            hourly_cap: c.hourly_cap,
            default_country: c.default_country.clone(),
            shop_origins: c.shop_origins.join("\n"),
            widget_enabled: ticked(w.enabled),
            widget_phone: w.phone.clone(),
            widget_text: w.text.clone(),
            widget_label: w.label.clone(),
            widget_position: w.position.clone(),
            widget_show_on: w.show_on.join("\n"),
            widget_hide_on: w.hide_on.join("\n"),
            hours_monday: monday,
            hours_tuesday: tuesday,
            hours_wednesday: wednesday,
            hours_thursday: thursday,
            hours_friday: friday,
            hours_saturday: saturday,
            hours_sunday: sunday,
            widget_outside_hours: w.outside_hours.clone(),
            widget_outside_message: w.outside_message.clone(),
        }
    }

    /// The configuration with this form's values over `current` (its template mapping
    /// stays). Fails naming a coupon choice or a minimum spend that cannot be read; the
    /// rest is checked by the backend.
    fn apply(
        self,
        mut current: backend::whatsapp::config::Config,
        currency: &str,
    ) -> Result<backend::whatsapp::config::Config, PanelError> {
        let coupon_step = match self.coupon_step.as_str() {
            "none" | "" => None,
            "2" => Some(2),
            "3" => Some(3),
            _ => return Err(PanelError::Message("the coupon goes in no message, the second or the third".into())),
        };
        let coupon_min_minor =
            vocabulary::money::parse_amount(&self.coupon_min_spend, vocabulary::money::minor_digits(currency))
                .map_err(|e| PanelError::Message(format!("the coupon's minimum spend: {e}")))?;
        let coupon_amount_minor =
            vocabulary::money::parse_amount(&self.coupon_amount, vocabulary::money::minor_digits(currency))
                .map_err(|e| PanelError::Message(format!("the coupon's amount off: {e}")))?;
        let hours = self.hours().map(|h| h.trim().to_owned());
        let r = &mut current.recovery;
        r.enabled = self.recovery_enabled.is_some();
        r.first_delay_minutes = self.first_delay_minutes;
        r.second_enabled = self.second_enabled.is_some();
        r.second_delay_hours = self.second_delay_hours;
        r.third_enabled = self.third_enabled.is_some();
        r.third_delay_hours = self.third_delay_hours;
        r.coupon_step = coupon_step;
        r.coupon_percent = self.coupon_percent;
        r.coupon_amount_minor = coupon_amount_minor;
        r.coupon_valid_days = self.coupon_valid_days;
        r.coupon_min_minor = coupon_min_minor;
        r.max_age_days = self.max_age_days;
        r.link_valid_days = self.link_valid_days;
        r.quiet_start = self.quiet_start.trim().to_owned();
        r.quiet_end = self.quiet_end.trim().to_owned();
        current.notifications.processing = self.notify_processing.is_some();
        current.notifications.completed = self.notify_completed.is_some();
        current.notifications.cancelled = self.notify_cancelled.is_some();
        current.opt_out_words =
            self.opt_out_words.split([',', '\n']).map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect();
        current.hourly_cap = self.hourly_cap;
        current.default_country = self.default_country;
        current.shop_origins = lines(&self.shop_origins);
        let w = &mut current.widget;
        w.enabled = self.widget_enabled.is_some();
        w.phone = self.widget_phone;
        w.text = self.widget_text.trim().to_owned();
        w.label = self.widget_label.trim().to_owned();
        w.position = self.widget_position;
        w.show_on = lines(&self.widget_show_on);
        w.hide_on = lines(&self.widget_hide_on);
        w.hours = hours;
        w.outside_hours = self.widget_outside_hours;
        w.outside_message = self.widget_outside_message.trim().to_owned();
        Ok(current)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppSettingsView {
    pub form: WhatsAppSettingsForm,
    /// Backroom's public address, for the snippets.
    pub base_url: String,
    pub currency: String,
}

#[server(endpoint = "whatsapp_settings")]
pub async fn whatsapp_settings() -> Result<WhatsAppSettingsView, PanelError> {
    let ctx = super::ssr::reading().await?;
    let config = backend::whatsapp::settings::config(ctx.db.pool()).await?;
    let currency = backend::settings::get(&ctx.db).await?.currency;
    Ok(WhatsAppSettingsView {
        form: WhatsAppSettingsForm::from_config(&config, &currency),
        base_url: ctx.base_url.trim_end_matches('/').to_owned(),
        currency,
    })
}

/// Saves the page (the template mapping as it is). Fails with the reason, naming the
/// field, when one is not right.
#[server(endpoint = "save_whatsapp_settings")]
pub async fn save_whatsapp_settings(settings: WhatsAppSettingsForm) -> Result<(), PanelError> {
    use backend::whatsapp::settings::{config, update_config};
    let me = super::ssr::acting().await?;
    let whatsapp = &me.ctx.whatsapp;
    let currency = backend::settings::get(&me.ctx.db).await?.currency;
    let new = settings.apply(config(whatsapp.db.pool()).await?, &currency)?;
    update_config(&whatsapp.db, &me.user, me.ip.as_deref(), new, whatsapp.short_delays).await?;
    Ok(())
}

#[component]
pub fn WhatsAppSettingsPage() -> impl IntoView {
    let save = ServerAction::<SaveWhatsappSettings>::new();
    // Reloaded after a save that succeeded; after one that failed the form keeps what was
    // typed, next to the error.
    let saves = Memo::new(move |before: Option<&usize>| match save.value().get() {
        Some(Ok(())) => save.version().get(),
        _ => before.copied().unwrap_or_default(),
    });
    let settings = crate::loaded::load(move || saves.get(), |_| whatsapp_settings());
    view! {
        <Title text="WhatsApp settings · Backroom"/>
        <h1>"WhatsApp settings"</h1>
        <WhatsAppNav/>
        <p class="muted">"Which template each message uses is chosen in the "<a href=SETUP_PATH>"setup wizard"</a>"."</p>
        <Loaded resource=settings show=move |s: WhatsAppSettingsView| view! { <SettingsForm current=s save/> }/>
    }
}

#[component]
fn SettingsForm(current: WhatsAppSettingsView, save: ServerAction<SaveWhatsappSettings>) -> impl IntoView {
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let form = NodeRef::<leptos::html::Form>::new();
    // Bumped by every change of a widget field: the preview draws the form again.
    let widget_changes = RwSignal::new(0u32);
    let changed = move || widget_changes.update(|n| *n += 1);
    let s = current.form;
    let base = current.base_url;
    let capture_snippet =
        format!("<script src=\"{base}/whatsapp-capture.js\" data-backroom=\"{base}\" async></script>");
    let widget_snippet = format!("<script src=\"{base}/whatsapp-widget.js\" data-backroom=\"{base}\" async></script>");
    let coupon = s.coupon_step.clone();
    let position = s.widget_position.clone();
    let outside = s.widget_outside_hours.clone();
    let hours = s.hours().map(str::to_owned);
    view! {
        <ActionForm action=save node_ref=form>
            <section class="card" aria-labelledby="recovery-heading">
                <h2 id="recovery-heading">"Cart recovery"</h2>
                <CheckboxField name="recovery_enabled" label="Send recovery messages for abandoned carts" checked=s.recovery_enabled.is_some()/>
                <p class="hint field-hint">"Only to shoppers who ticked the WhatsApp consent box at checkout."</p>
                <NumberField name="first_delay_minutes" label="First message, minutes after the shopper's last change" min=0 max=10080
                    value=s.first_delay_minutes hint="At least 10 minutes: someone still typing has not left."/>
                <fieldset class="settings-group">
                    <legend>"Second message"</legend>
                    <CheckboxField name="second_enabled" label="Send a second message" checked=s.second_enabled.is_some()/>
                    <NumberField name="second_delay_hours" label="Second message: hours after the first" min=0 max=720 value=s.second_delay_hours/>
                </fieldset>
                <fieldset class="settings-group">
                    <legend>"Third message"</legend>
                    <CheckboxField name="third_enabled" label="Send a third message" checked=s.third_enabled.is_some()/>
                    <NumberField name="third_delay_hours" label="Third message: hours after the first" min=0 max=720 value=s.third_delay_hours/>
                </fieldset>
                <fieldset class="settings-group">
                    <legend>"Coupon"</legend>
                    <RadioChoices legend="A single-use coupon" name="settings[coupon_step]" current=coupon options=&[
                        ("none", "coupon-none", "None"), ("2", "coupon-2", "In the second message"), ("3", "coupon-3", "In the third message"),
                    ]/>
                    <NumberField name="coupon_percent" label="Discount (percent)" min=1 max=100 value=s.coupon_percent/>
                    <AmountField name="coupon_amount" label=format!("Or an amount off instead ({})", current.currency)
                        value=s.coupon_amount.clone() hint="0 for the percent. Map “Coupon discount” in the message: it reads 15% or the amount."/>
                    <NumberField name="coupon_valid_days" label="Valid for (days)" min=1 max=90 value=s.coupon_valid_days/>
                    <AmountField name="coupon_min_spend" label=format!("Minimum spend ({})", current.currency)
                        value=s.coupon_min_spend.clone() hint="0 for none."/>
                </fieldset>
                <NumberField name="max_age_days" label="Carts older than this many days are not chased" min=1 max=90 value=s.max_age_days/>
                <NumberField name="link_valid_days" label="Recovery links work for (days after sending)" min=1 max=90 value=s.link_valid_days/>
                <fieldset class="settings-group">
                    <legend>"Quiet hours (the shop's time zone)"</legend>
                    <p class="hint field-hint">"No message leaves between these times; one that falls due waits for the end. The same time twice switches quiet hours off."</p>
                    <div class="range">
                        <div class="field">
                            <label for="quiet_start">"From"</label>
                            <input id="quiet_start" name="settings[quiet_start]" type="time" required value=s.quiet_start.clone()/>
                        </div>
                        <div class="field">
                            <label for="quiet_end">"Until"</label>
                            <input id="quiet_end" name="settings[quiet_end]" type="time" required value=s.quiet_end.clone()/>
                        </div>
                    </div>
                </fieldset>
            </section>
            <section class="card" aria-labelledby="notifications-heading">
                <h2 id="notifications-heading">"Order notifications"</h2>
                <fieldset class="choices">
                    <legend>"Message the customer when an order becomes"</legend>
                    {[("notify_processing", "Processing", s.notify_processing.is_some()),
                      ("notify_completed", "Completed", s.notify_completed.is_some()),
                      ("notify_cancelled", "Cancelled", s.notify_cancelled.is_some())]
                        .into_iter()
                        .map(|(name, label, on)| view! {
                            <span class="choice">
                                <input type="checkbox" id=name name=format!("settings[{name}]") checked=on/>
                                <label for=name>{label}</label>
                            </span>
                        })
                        .collect_view()}
                </fieldset>
            </section>
            <section class="card" aria-labelledby="limits-heading">
                <h2 id="limits-heading">"Opt-outs and limits"</h2>
                <div class="field">
                    <label for="opt_out_words">"Opt-out words (separated by commas)"</label>
                    <input id="opt_out_words" name="settings[opt_out_words]" type="text" maxlength=MAX_OPT_OUT_TEXT_CHARS.to_string() spellcheck="false"
                        aria-describedby="opt_out_words-hint" value=s.opt_out_words.clone()/>
                    <p class="hint" id="opt_out_words-hint">"A reply that is one of these, whatever its case, stops every message to its sender."</p>
                </div>
                <NumberField name="hourly_cap" label="At most this many messages an hour" min=0 max=1000000 value=s.hourly_cap hint="0 for no cap."/>
                <div class="field">
                    <label for="default_country">"Default country calling code"</label>
                    // The digits, and a + before them if typed.
                    <input id="default_country" name="settings[default_country]" type="text" inputmode="numeric" maxlength=(MAX_CALLING_CODE_DIGITS + 1).to_string() required
                        aria-describedby="default_country-hint" value=s.default_country.clone()/>
                    <p class="hint" id="default_country-hint">"For numbers typed without one, such as 0532 123 45 67: 90 for Türkiye."</p>
                </div>
            </section>
            <section class="card" aria-labelledby="checkout-heading">
                <h2 id="checkout-heading">"Checkout capture"</h2>
                <div class="field">
                    <label for="shop_origins">"The shop's origins (one a line)"</label>
                    <textarea id="shop_origins" name="settings[shop_origins]" rows="3" spellcheck="false" aria-describedby="shop_origins-hint"
                        placeholder="https://shop.example">{s.shop_origins.clone()}</textarea>
                    <p class="hint" id="shop_origins-hint">"Only pages on these may send checkout captures and put carts back."</p>
                </div>
                <SnippetField id="capture-snippet" label="Checkout snippet" snippet=capture_snippet what="the checkout snippet">
                    "Paste it on every page of the shop (its footer). At the checkout, classic or block, it adds a consent checkbox (or uses yours, with the id "<code>"backroom_whatsapp_consent"</code>
                    "): nothing is sent about a shopper who has not ticked it. Where a recovery link lands, it puts the cart back and goes on to the checkout."
                </SnippetField>
            </section>
            <section class="card" aria-labelledby="widget-heading">
                <h2 id="widget-heading">"Click-to-chat widget"</h2>
                <div class="widget-settings" on:input=move |_| changed() on:change=move |_| changed()>
                    <CheckboxField name="widget_enabled" label="Show the WhatsApp button on the shop" checked=s.widget_enabled.is_some()/>
                    <div class="field">
                        <label for="widget_phone">"Phone shoppers write to"</label>
                        <input id="widget_phone" name="settings[widget_phone]" type="tel" maxlength=MAX_PHONE_CHARS.to_string() aria-describedby="widget_phone-hint"
                            value=s.widget_phone.clone()/>
                        <p class="hint" id="widget_phone-hint">"The full number with its country code, such as 90 555 000 00 00."</p>
                    </div>
                    <div class="field">
                        <label for="widget_text">"Prefilled message"</label>
                        <textarea id="widget_text" name="settings[widget_text]" rows="2" maxlength=MAX_WIDGET_TEXT_CHARS.to_string()>{s.widget_text.clone()}</textarea>
                    </div>
                    <div class="field">
                        <label for="widget_label">"Button label"</label>
                        <input id="widget_label" name="settings[widget_label]" type="text" maxlength=MAX_WIDGET_LABEL_CHARS.to_string() required value=s.widget_label.clone()/>
                    </div>
                    <RadioChoices legend="Position" name="settings[widget_position]" current=position options=&[
                        ("right", "widget-right", "Bottom right"), ("left", "widget-left", "Bottom left"),
                    ]/>
                    <div class="field">
                        <label for="widget_show_on">"Show on (one page pattern a line)"</label>
                        <textarea id="widget_show_on" name="settings[widget_show_on]" rows="2" spellcheck="false" aria-describedby="widget_pages-hint"
                            placeholder="/product/*">{s.widget_show_on.clone()}</textarea>
                    </div>
                    <div class="field">
                        <label for="widget_hide_on">"Hide on (one page pattern a line)"</label>
                        <textarea id="widget_hide_on" name="settings[widget_hide_on]" rows="2" spellcheck="false" aria-describedby="widget_pages-hint"
                            placeholder="/checkout*">{s.widget_hide_on.clone()}</textarea>
                        <p class="hint" id="widget_pages-hint">"Paths of the shop, * for anything. Nothing under “Show on” means every page."</p>
                    </div>
                    <fieldset class="settings-group opening-hours">
                        <legend>"Opening hours (the shop's time zone)"</legend>
                        <p class="hint field-hint">"Such as 09:00-18:00; empty for closed that day. No hours at all: always open."</p>
                        {WEEKDAYS.into_iter().zip(hours).map(|((name, day), value)| view! {
                            <div class="field">
                                <label for=name>{day}</label>
                                <input id=name name=format!("settings[{name}]") type="text" maxlength=MAX_OPENING_HOURS_CHARS.to_string() spellcheck="false"
                                    placeholder="09:00-18:00" value=value/>
                            </div>
                        }).collect_view()}
                    </fieldset>
                    <RadioChoices legend="Outside the opening hours" name="settings[widget_outside_hours]" current=outside options=&[
                        ("hide", "outside-hide", "Hide the button"), ("message", "outside-message", "Show a message instead"),
                    ]/>
                    <div class="field">
                        <label for="widget_outside_message">"The message outside the hours"</label>
                        <textarea id="widget_outside_message" name="settings[widget_outside_message]" rows="2" maxlength=MAX_OUTSIDE_MESSAGE_CHARS.to_string()
                            placeholder="We answer from 09:00 on weekdays.">{s.widget_outside_message.clone()}</textarea>
                    </div>
                </div>
                <WidgetPreview form widget_changes/>
                <SnippetField id="widget-snippet" label="Widget snippet" snippet=widget_snippet what="the widget snippet">
                    "Paste it on every page of the shop, or in its theme's footer."
                </SnippetField>
            </section>
            {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" class="primary" disabled=move || save.pending().get()>"Save WhatsApp settings"</button>
            {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
        </ActionForm>
    }
}

/// A snippet to paste into the shop: read-only in the field `id`, with its copy button
/// (`what` names it for screen readers); `children` say where it goes.
#[component]
fn SnippetField(
    id: &'static str,
    label: &'static str,
    snippet: String,
    what: &'static str,
    children: Children,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field copy-field wide">
            <label for=id>{label}</label>
            <textarea id=id rows="2" readonly spellcheck="false" aria-describedby=hint_id.clone()>{snippet.clone()}</textarea>
            <div class="copy-row"><CopyButton text=snippet field=id what/></div>
            <p class="hint" id=hint_id>{children()}</p>
        </div>
    }
}

/// The widget as shoppers would see it with the form's values, saved or not, drawn by
/// `public/whatsapp-widget.js` itself (loaded once) into a box of the page.
#[component]
fn WidgetPreview(form: NodeRef<leptos::html::Form>, widget_changes: RwSignal<u32>) -> impl IntoView {
    let ready = RwSignal::new(false);
    let outside = RwSignal::new(false);
    let host = NodeRef::<leptos::html::Div>::new();
    let drawn = RwSignal::new(true);
    Effect::new(move |_| preview::load_script(ready));
    Effect::new(move |_| {
        widget_changes.track();
        let outside = outside.get();
        if !ready.get() {
            return;
        }
        if let (Some(form), Some(host)) = (form.get(), host.get()) {
            drawn.set(preview::draw(&form, &host, outside));
        }
    });
    view! {
        <div class="widget-preview" role="group" aria-labelledby="widget-preview-heading">
            <h3 id="widget-preview-heading">"Preview"</h3>
            <div class="field checkbox">
                <input id="preview-outside" type="checkbox" prop:checked=move || outside.get() on:change=move |ev| outside.set(event_target_checked(&ev))/>
                <label for="preview-outside">"As outside the opening hours"</label>
            </div>
            <div class="widget-preview-host" node_ref=host data-testid="widget-preview"></div>
            <p class="hint" aria-live="polite">
                {move || (!drawn.get()).then_some("Nothing is shown: the widget is off, or hidden outside the opening hours.")}
            </p>
        </div>
    }
}

/// Drawing the preview in the browser with the widget's own script.
mod preview {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::js_sys::{Array, Function, Object, Reflect};

    /// The script's element id, so it is added once however often the page is opened.
    const SCRIPT_ID: &str = "backroom-whatsapp-widget-script";

    /// `window.BackroomWhatsApp`, once the script has run.
    fn widget_api() -> Option<JsValue> {
        Reflect::get(&window(), &"BackroomWhatsApp".into()).ok().filter(|api| api.is_object())
    }

    /// Loads `/whatsapp-widget.js` (without `data-backroom` it draws nothing by itself) and
    /// sets `ready` once it has run.
    pub fn load_script(ready: RwSignal<bool>) {
        if widget_api().is_some() {
            ready.set(true);
            return;
        }
        let document = document();
        let script = match document.get_element_by_id(SCRIPT_ID) {
            Some(script) => script,
            None => {
                let Ok(script) = document.create_element("script") else { return };
                script.set_id(SCRIPT_ID);
                let _ = script.set_attribute("src", "/whatsapp-widget.js");
                let _ = script.set_attribute("async", "");
                if let Some(head) = document.head() {
                    let _ = head.append_child(&script);
                }
                script
            }
        };
        let loaded = Closure::once_into_js(move || ready.set(true));
        let _ = script.add_event_listener_with_callback("load", loaded.unchecked_ref());
    }

    /// Draws the widget from the form's values into `host`; false when it draws nothing
    /// (switched off, or hidden outside the hours).
    pub fn draw(form: &web_sys::HtmlFormElement, host: &web_sys::HtmlDivElement, outside_hours: bool) -> bool {
        let Some(api) = widget_api() else { return false };
        let Ok(data) = web_sys::FormData::new_with_form(form) else { return false };
        let text = |name: &str| data.get(&format!("settings[{name}]")).as_string().unwrap_or_default();
        let patterns = |name: &str| {
            text(name).lines().map(str::trim).filter(|l| !l.is_empty()).map(JsValue::from_str).collect::<Array>()
        };
        let config = Object::new();
        let set = |key: &str, value: JsValue| {
            let _ = Reflect::set(&config, &key.into(), &value);
        };
        set("enabled", data.has("settings[widget_enabled]").into());
        set("phone", text("widget_phone").chars().filter(char::is_ascii_digit).collect::<String>().into());
        set("text", text("widget_text").trim().into());
        set("label", text("widget_label").trim().into());
        set("position", text("widget_position").into());
        set("show_on", patterns("widget_show_on").into());
        set("hide_on", patterns("widget_hide_on").into());
        set("open_now", (!outside_hours).into());
        set("outside_hours", text("widget_outside_hours").into());
        set("outside_message", text("widget_outside_message").trim().into());
        let Some(render) = Reflect::get(&api, &"render".into()).ok().and_then(|r| r.dyn_into::<Function>().ok()) else {
            return false;
        };
        render.call2(&api, &config, host).is_ok_and(|drawn| !drawn.is_null())
    }
}
