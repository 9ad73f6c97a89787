//! Your two-factor sign-in: set it up with an authenticator app (scan the QR code, or
//! type the secret, then type the first code back with your password), see your recovery
//! codes once, make new ones or turn it off (your password again). When the shop requires
//! it of owners, an owner without it sees only [`TwoFactorSetupPage`] until it is on.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::PanelError,
    forms::{CurrentPassword, action_error},
    loaded::Loaded,
};

/// Where you stand.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    pub on: bool,
    pub recovery_codes_left: i64,
    /// The shop requires it of you (an owner).
    pub required: bool,
}

/// What the app needs: the secret as a QR code, and as text to type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub secret: String,
    pub qr_svg: Option<String>,
}

#[server(endpoint = "two_factor_status")]
pub async fn two_factor_status() -> Result<TwoFactorView, PanelError> {
    use backend::two_factor::{self, Status};
    let me = crate::context::acting(|_| true).await?;
    let required = required_of(&me).await;
    Ok(match two_factor::status(&me.ctx.db, me.user.id).await? {
        Status::On { recovery_codes_left } => TwoFactorView { on: true, recovery_codes_left, required },
        Status::Off => TwoFactorView { on: false, recovery_codes_left: 0, required },
    })
}

#[server(endpoint = "begin_two_factor")]
pub async fn begin_two_factor() -> Result<Setup, PanelError> {
    let me = crate::context::acting(|_| true).await?;
    let shop = backend::settings::get(&me.ctx.db).await?.name;
    let enrolment = backend::two_factor::begin(&me.ctx.db, &me.ctx.sealer, &me.user, &shop).await?;
    Ok(Setup { qr_svg: super::credentials::ssr::qr_svg(&enrolment.url), secret: enrolment.secret })
}

/// Turns it on with the first code and the person's password; answers the recovery
/// codes, shown once.
#[server(endpoint = "confirm_two_factor")]
pub async fn confirm_two_factor(code: String, password: String) -> Result<Vec<String>, PanelError> {
    let me = crate::context::acting(|_| true).await?;
    let (db, sealer, ip) = (&me.ctx.db, &me.ctx.sealer, me.ip.as_deref());
    Ok(backend::account::turn_on_two_factor(db, sealer, &me.user, &code, password.into(), ip).await?)
}

#[server(endpoint = "new_recovery_codes")]
pub async fn new_recovery_codes(password: String) -> Result<Vec<String>, PanelError> {
    let me = crate::context::acting(|_| true).await?;
    Ok(backend::account::new_recovery_codes(&me.ctx.db, &me.user, password.into(), me.ip.as_deref()).await?)
}

#[server(endpoint = "turn_off_two_factor")]
pub async fn turn_off_two_factor(password: String) -> Result<(), PanelError> {
    let me = crate::context::acting(|_| true).await?;
    let required = required_of(&me).await;
    backend::account::turn_off_two_factor(&me.ctx.db, &me.user, password.into(), required, me.ip.as_deref()).await?;
    Ok(())
}

/// The server functions an owner the shop requires two-factor sign-in of may call before
/// it is on: those of the page that sets it up, and signing out.
pub fn allowed_before_two_factor(path: &str) -> bool {
    use leptos::server_fn::ServerFn;
    [
        TwoFactorStatus::PATH,
        BeginTwoFactor::PATH,
        ConfirmTwoFactor::PATH,
        crate::auth::SignedInUser::PATH,
        crate::auth::SignOut::PATH,
        crate::auth::SignOutEverywhere::PATH,
    ]
    .contains(&path)
}

/// Whether the shop requires two-factor sign-in of the person asking.
#[cfg(feature = "ssr")]
async fn required_of(me: &crate::context::Acting) -> bool {
    me.user.role == backend::users::Role::Owner && me.ctx.security.get().await.owners_two_factor
}

/// The page an owner the shop requires two-factor sign-in of is sent to until it is on.
#[component]
pub fn TwoFactorSetupPage() -> impl IntoView {
    let required = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("required").is_some());
    view! {
        <leptos_meta::Title text="Two-factor sign-in · Backroom"/>
        <h1>"Two-factor sign-in"</h1>
        {required.then(|| view! {
            <p class="error" role="alert">"The shop requires owners to sign in with a code from an authenticator app. Set it up here to go on."</p>
        })}
        <TwoFactor/>
    }
}

#[component]
pub fn TwoFactor() -> impl IntoView {
    let begin = ServerAction::<BeginTwoFactor>::new();
    let confirm = ServerAction::<ConfirmTwoFactor>::new();
    let renew = ServerAction::<NewRecoveryCodes>::new();
    let off = ServerAction::<TurnOffTwoFactor>::new();
    let status = crate::loaded::load(
        move || (confirm.version().get(), renew.version().get(), off.version().get()),
        |_| two_factor_status(),
    );
    let errors = (action_error(begin), action_error(confirm), action_error(renew), action_error(off));
    let error = move || errors.0().or_else(errors.1).or_else(errors.2).or_else(errors.3);
    // The codes of the last confirmation or renewal, until the page is left or it is
    // turned off.
    let shown = RwSignal::new(None::<Vec<String>>);
    for made in [confirm.value(), renew.value()] {
        Effect::new(move |_| {
            if let Some(Ok(codes)) = made.get() {
                shown.set(Some(codes));
            }
        });
    }
    Effect::new(move |_| {
        if matches!(off.value().get(), Some(Ok(()))) {
            shown.set(None);
            begin.clear();
        }
    });
    let codes = move || shown.get();
    view! {
        <section class="access-section" aria-labelledby="two-factor-heading">
            <h2 id="two-factor-heading">"Two-factor sign-in"</h2>
            <div class="card">
                <Loaded resource=status show={move |view: TwoFactorView| {
                    if view.on {
                        view! {
                            <p>{format!("On: signing in asks for a code from your authenticator app. Recovery codes left: {}.", view.recovery_codes_left)}</p>
                            <ActionForm action=renew>
                                <CurrentPassword id="recovery-password" label="Your password, for new recovery codes"/>
                                <button type="submit">"Make new recovery codes"</button>
                            </ActionForm>
                            {(!view.required).then(|| view! {
                                <ActionForm action=off>
                                    <CurrentPassword id="two-factor-password" label="Your password, to turn it off"/>
                                    <button type="submit">"Turn two-factor sign-in off"</button>
                                </ActionForm>
                            })}
                        }.into_any()
                    } else {
                        view! {
                            {view.required.then(|| view! {
                                <p><strong>"The shop requires owners to sign in with a code from an authenticator app."</strong></p>
                            })}
                            <p>"With it on, signing in asks for your password and a six-digit code from an authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator or 1Password)."</p>
                            <ActionForm action=begin>
                                <button type="submit" class="primary">"Set up two-factor sign-in"</button>
                            </ActionForm>
                            {move || begin.value().get().and_then(Result::ok).map(|setup| view! {
                                <p>"Scan this code with your app, or type the secret into it. Then type the six digits the app shows, and your password."</p>
                                {setup.qr_svg.map(|svg| view! {
                                    <div class="qr" role="img" aria-label="QR code with your authenticator secret" inner_html=svg></div>
                                })}
                                <p>"Secret: "<code class="secret">{setup.secret}</code></p>
                                <ActionForm action=confirm>
                                    <div class="field">
                                        <label for="two-factor-code">"Code from the app"</label>
                                        <input id="two-factor-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="10" required/>
                                    </div>
                                    <CurrentPassword id="two-factor-on-password" label="Your password"/>
                                    <button type="submit" class="primary">"Turn it on"</button>
                                </ActionForm>
                            })}
                        }.into_any()
                    }
                }}/>
                {move || codes().map(|codes| view! {
                    <div class="secret-screen" role="status">
                        <h3>"Your recovery codes"</h3>
                        <p><strong>"Keep them somewhere safe now."</strong>" Each signs you in once without your phone; they are not shown again."</p>
                        <ol class="recovery-codes">{codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}</ol>
                    </div>
                })}
                {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </div>
        </section>
    }
}
