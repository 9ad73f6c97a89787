//! The security settings page (owners and admins): what the REST API's guards enforce —
//! HTTPS, the IP allowlist, trusted proxies, the timestamp window, rate limits, lockouts,
//! audit retention and dev mode; and whether owners sign in with a second factor.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use vocabulary::money::MAX_AMOUNT_CHARS;

use crate::{error::PanelError, forms::action_error, loaded::Loaded};

/// The settings as the form shows and sends them: address lists as text, one per line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityForm {
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub https_required: Option<String>,
    pub ip_allowlist: String,
    pub trusted_proxies: String,
    pub timestamp_window_secs: i64,
    pub rate_per_credential: i64,
    pub rate_per_ip: i64,
    pub lockout_failures: i64,
    pub lockout_window_secs: i64,
    pub audit_retention_days: i64,
    #[serde(default)]
    pub dev_mode: Option<String>,
    #[serde(default)]
    pub owners_two_factor: Option<String>,
}

#[cfg(feature = "ssr")]
impl SecurityForm {
    fn from_settings(s: &backend::access::security::SecuritySettings) -> SecurityForm {
        use backend::access::security::format_networks;
        let ticked = |on: bool| on.then(|| "on".to_owned());
        SecurityForm {
            https_required: ticked(s.https_required),
            ip_allowlist: format_networks(&s.ip_allowlist),
            trusted_proxies: format_networks(&s.trusted_proxies),
            timestamp_window_secs: s.timestamp_window_secs,
            rate_per_credential: s.rate_per_credential,
            rate_per_ip: s.rate_per_ip,
            lockout_failures: s.lockout_failures,
            lockout_window_secs: s.lockout_window_secs,
            audit_retention_days: s.audit_retention_days,
            dev_mode: ticked(s.dev_mode),
            owners_two_factor: ticked(s.owners_two_factor),
        }
    }

    /// Fails naming the list and the entry that is not an address or a CIDR.
    fn parse(self) -> Result<backend::access::security::SecuritySettings, PanelError> {
        use backend::access::security::{SecuritySettings, parse_networks};
        Ok(SecuritySettings {
            https_required: self.https_required.is_some(),
            ip_allowlist: parse_networks(&self.ip_allowlist, "IP allowlist")?,
            trusted_proxies: parse_networks(&self.trusted_proxies, "Trusted proxies")?,
            timestamp_window_secs: self.timestamp_window_secs,
            rate_per_credential: self.rate_per_credential,
            rate_per_ip: self.rate_per_ip,
            lockout_failures: self.lockout_failures,
            lockout_window_secs: self.lockout_window_secs,
            audit_retention_days: self.audit_retention_days,
            dev_mode: self.dev_mode.is_some(),
            owners_two_factor: self.owners_two_factor.is_some(),
        })
    }
}

#[server(endpoint = "current_security")]
pub async fn current_security() -> Result<SecurityForm, PanelError> {
    let ctx = crate::context::services()?;
    crate::context::require_role(backend::users::Role::manages_store).await?;
    Ok(SecurityForm::from_settings(&backend::access::security::get(&ctx.db).await?))
}

#[server(endpoint = "save_security")]
pub async fn save_security(settings: SecurityForm) -> Result<(), PanelError> {
    let ctx = crate::context::services()?;
    let user = crate::context::require_role(backend::users::Role::manages_store).await?;
    let (_, ip) = crate::context::request_info().await?;
    let saved = backend::access::security::update(&ctx.db, &user, ip.as_deref(), settings.parse()?).await?;
    // This instance applies them at once; the others within a few seconds.
    ctx.security.set(saved);
    Ok(())
}

#[component]
pub fn SecurityPage() -> impl IntoView {
    let save = ServerAction::<SaveSecurity>::new();
    // Reread only after a successful save (to show the lists as stored); after a refused
    // one the form keeps what was typed, so it can be corrected.
    let saves = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saves.update(|n| *n += 1);
        }
    });
    let data = crate::loaded::load(move || saves.get(), |_| current_security());
    let error = action_error(save);
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Security · Backroom"/>
        <h1>"Security"</h1>
        <p class="muted">"What the REST API enforces for connection keys, application passwords and apps. The panel itself is not affected."</p>
        <Loaded resource=data show={move |s: SecurityForm| view! {
            <div class="card">
                <ActionForm action=save>
                    <div class="field checkbox">
                        <input id="https_required" name="settings[https_required]" type="checkbox" checked=s.https_required.is_some()/>
                        <label for="https_required">"Require HTTPS"</label>
                    </div>
                    <p class="hint field-hint">"Plain HTTP is refused, except from this machine or behind a trusted proxy that received HTTPS."</p>
                    <div class="field">
                        <label for="ip_allowlist">"IP allowlist (one address or CIDR per line; empty = everyone)"</label>
                        <textarea id="ip_allowlist" name="settings[ip_allowlist]" rows="4" spellcheck="false" placeholder="203.0.113.0/24">{s.ip_allowlist.clone()}</textarea>
                    </div>
                    <div class="field">
                        <label for="trusted_proxies">"Trusted proxies (one address or CIDR per line)"</label>
                        <textarea id="trusted_proxies" name="settings[trusted_proxies]" rows="3" spellcheck="false" aria-describedby="trusted_proxies-hint">{s.trusted_proxies.clone()}</textarea>
                        <p class="hint" id="trusted_proxies-hint">"Their X-Forwarded-For and X-Forwarded-Proto are believed. Added to BACKROOM_TRUSTED_PROXIES."</p>
                    </div>
                    <NumberField name="timestamp_window_secs" label="Timestamp window (seconds)" min=30 max=3600 value=s.timestamp_window_secs hint="How far a request's X-Backroom-Timestamp may be from this server's clock."/>
                    <NumberField name="rate_per_credential" label="Rate limit per credential (requests per minute)" min=1 max=1000000 value=s.rate_per_credential/>
                    <NumberField name="rate_per_ip" label="Rate limit per IP address (requests per minute)" min=1 max=1000000 value=s.rate_per_ip/>
                    <p class="hint field-hint">"Rate limits are counted by each instance of Backroom: with N instances behind a load balancer, a client may get up to N times the limit."</p>
                    <NumberField name="lockout_failures" label="Failed authentications before a lockout" min=3 max=100000 value=s.lockout_failures/>
                    <NumberField name="lockout_window_secs" label="Lockout window (seconds)" min=60 max=86400 value=s.lockout_window_secs hint="Failures are counted over this long, and an address that reaches the limit waits this long."/>
                    <NumberField name="audit_retention_days" label="Keep the audit log for (days)" min=30 max=3650 value=s.audit_retention_days/>
                    <div class="field checkbox">
                        <input id="dev_mode" name="settings[dev_mode]" type="checkbox" checked=s.dev_mode.is_some()/>
                        <label for="dev_mode">"Dev mode"</label>
                    </div>
                    <p class="hint field-hint">"Allows exp:// redirect URIs for OAuth apps (Expo development builds). Leave it off in production."</p>
                    <div class="field checkbox">
                        <input id="owners_two_factor" name="settings[owners_two_factor]" type="checkbox" checked=s.owners_two_factor.is_some()/>
                        <label for="owners_two_factor">"Owners sign in with a code from an authenticator app"</label>
                    </div>
                    <p class="hint field-hint">"An owner who has not set one up yet is asked to, on the Access page, before anything else."</p>
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save security settings"</button>
                </ActionForm>
            </div>
        }}/>
        {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || saved().then(|| view! { <p class="success" role="status">"Saved."</p> })}
    }
}

/// A number in a settings form (sent as `settings[name]`), with its label and, when given, a
/// hint tied to it.
#[component]
pub(crate) fn NumberField(
    name: &'static str,
    label: &'static str,
    min: i64,
    max: i64,
    value: i64,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=format!("settings[{name}]") type="number" min=min max=max required value=value
                aria-describedby=hint.map(|_| hint_id.clone())/>
            {hint.map(|hint| view! { <p class="hint" id=hint_id.clone()>{hint}</p> })}
        </div>
    }
}

/// An amount of money in a settings form (sent as `settings[name]`, as typed: `149,90`),
/// with its label (naming the currency) and a hint tied to it.
#[component]
pub(crate) fn AmountField(name: &'static str, label: String, value: String, hint: &'static str) -> impl IntoView {
    let hint_id = format!("{name}-hint");
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input id=name name=format!("settings[{name}]") type="text" inputmode="decimal" maxlength=MAX_AMOUNT_CHARS.to_string()
                aria-describedby=hint_id.clone() value=value/>
            <p class="hint" id=hint_id>{hint}</p>
        </div>
    }
}

/// A checkbox in a settings form (sent as `settings[name]` when ticked), with its label.
#[component]
pub(crate) fn CheckboxField(name: &'static str, label: &'static str, checked: bool) -> impl IntoView {
    view! {
        <div class="field checkbox">
            <input id=name name=format!("settings[{name}]") type="checkbox" checked=checked/>
            <label for=name>{label}</label>
        </div>
    }
}
