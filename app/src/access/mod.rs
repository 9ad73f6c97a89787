//! The access page: the shop's connection keys (for the mobile app and integrations), each
//! user's application passwords ([`credentials`]), the OAuth apps people sign in to, and
//! the devices signed in with them ([`oauth`]), the browsers signed in to the panel
//! ([`sessions`]), and your own password ([`password`]) and two-factor sign-in
//! ([`two_factor`]). A new secret is shown once, on a
//! copy screen, and never again.

mod credentials;
mod oauth;
pub mod password;
pub mod sessions;
pub mod two_factor;

use leptos::prelude::*;
use leptos_meta::Title;
use vocabulary::access::{CredentialType, Scope};

pub(crate) use self::credentials::copy_to_clipboard;
use self::{
    credentials::{CredentialSection, NewSecret},
    oauth::{Devices, OauthApps},
};
use crate::{
    auth::{CurrentUser, signed_in_user},
    loaded::Loaded,
};

/// When and from where a credential, device or browser was last used.
#[cfg(feature = "ssr")]
pub(crate) fn last_used_text(at: Option<i64>, ip: Option<String>, tz: chrono_tz::Tz) -> String {
    match (at, ip.filter(|ip| !ip.is_empty())) {
        (Some(at), Some(ip)) => format!("{} from {ip}", backend::clock::local_minute(at, tz)),
        (Some(at), None) => backend::clock::local_minute(at, tz),
        (None, _) => "never".to_owned(),
    }
}

#[component]
pub fn AccessPage() -> impl IntoView {
    let me = crate::loaded::load(|| (), |_| signed_in_user());
    // One copy screen on the whole page at a time: the secret last issued, until "Done".
    let shown = RwSignal::new(None::<NewSecret>);
    let password_change = ServerAction::<password::ChangePassword>::new();
    view! {
        <Title text="Access & keys · Backroom"/>
        <h1>"Access & keys"</h1>

        <p class="muted">
            "What may use this shop's REST API: connection keys, application passwords and apps that sign people in. "
            "Every secret is shown once, when it is made; Backroom keeps only a fingerprint of it."
        </p>
        <Loaded resource=me show={move |me: Option<CurrentUser>| {
            let Some(me) = me else { return ().into_any() };
            view! {
                {if me.manages_store {
                    view! { <CredentialSection kind=CredentialType::ConnectionKey shown/> }.into_any()
                } else {
                    view! {
                        <section class="access-section" aria-labelledby="connection_key-heading">
                            <h2 id="connection_key-heading">"Connection keys"</h2>
                            <p class="card">"Connection keys belong to the shop, so an owner or admin makes them. Your own application passwords are below."</p>
                        </section>
                    }.into_any()
                }}
                <CredentialSection kind=CredentialType::AppPassword shown/>
                {me.manages_store.then(|| view! { <OauthApps/> })}
                <Devices everyone=me.oversees_sign_ins/>
                <sessions::Sessions everyone=me.oversees_sign_ins ended_elsewhere=password_change.version()/>
                <password::PasswordChange action=password_change/>
                <two_factor::TwoFactor/>
            }.into_any()
        }}/>
    }
}

/// A scope's options, reading only chosen first.
#[component]
fn ScopeOptions() -> impl IntoView {
    Scope::ALL
        .map(|scope| view! { <option value=scope.as_str() selected=scope == Scope::Read>{scope.label()}</option> })
}
