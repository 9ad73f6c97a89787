//! Changing your own password: the current one first, then the new one. Your other
//! browsers, application passwords and devices are signed out too unless you untick it
//! (the shop's connection keys stay), and this browser's session gets a new id.

use leptos::prelude::*;
use vocabulary::people::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};

use crate::{
    error::PanelError,
    forms::{CurrentPassword, action_error, reset_on_success},
};

/// Changes the signed-in person's password; answers what came of it, in a sentence.
///
/// Fails on a wrong current password (ten in 15 minutes lock the change for 15 minutes)
/// or a new one too short or too long.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current: String,
    new: String,
    sign_out_others: Option<String>,
) -> Result<String, PanelError> {
    let me = crate::context::acting(|_| true).await?;
    let keep = crate::session::current_fingerprint().await?;
    let change = backend::account::PasswordChange {
        current: current.into(),
        new: new.into(),
        sign_out_others: sign_out_others.is_some(),
    };
    let ended = backend::account::change_password(
        &me.ctx.db,
        &me.ctx.credentials,
        &me.user,
        change,
        keep.as_deref(),
        me.ip.as_deref(),
    )
    .await?;
    crate::session::renew(&me.ctx).await?;
    Ok(match (sign_out_others.is_some(), ended) {
        (false, _) => "Your password is changed.".to_owned(),
        (true, 0) => "Your password is changed; nothing else was signed in.".to_owned(),
        (true, 1) => "Your password is changed; 1 other sign-in ended.".to_owned(),
        (true, n) => format!("Your password is changed; {n} other sign-ins ended."),
    })
}

/// The form; `action` is made by the page, whose list of sessions follows its changes.
#[component]
pub fn PasswordChange(action: ServerAction<ChangePassword>) -> impl IntoView {
    let error = action_error(action);
    let done = move || action.value().get().and_then(Result::ok);
    // Neither password stays in the form once it is changed.
    let form = NodeRef::<leptos::html::Form>::new();
    reset_on_success(action, form);
    view! {
        <section class="access-section" aria-labelledby="password-heading">
            <h2 id="password-heading">"Your password"</h2>
            <div class="card">
                <ActionForm action node_ref=form>
                    <CurrentPassword id="password-current" label="Current password" name="current"/>
                    <div class="field">
                        <label for="password-new">{format!("New password (at least {MIN_PASSWORD_CHARS} characters)")}</label>
                        <input id="password-new" name="new" type="password" required autocomplete="new-password"
                            minlength=MIN_PASSWORD_CHARS.to_string() maxlength=MAX_PASSWORD_CHARS.to_string()/>
                    </div>
                    <span class="choice">
                        <input type="checkbox" id="password-sign-out-others" name="sign_out_others" value="yes" checked/>
                        <label for="password-sign-out-others">"Sign out my other browsers, application passwords and devices"</label>
                    </span>
                    {move || error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <p role="status">{done}</p>
                    <button type="submit" class="primary" disabled=move || action.pending().get()>"Change password"</button>
                </ActionForm>
            </div>
        </section>
    }
}
