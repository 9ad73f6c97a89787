//! Two-factor sign-in: set up with the first code from an authenticator app, asked for at
//! every sign-in after the password, no code passing twice, recovery codes once each,
//! wrong codes locking out as wrong passwords do; turned off with the password; and the
//! shop requiring it of owners.

mod common;

use app::{
    access::two_factor::{BeginTwoFactor, ConfirmTwoFactor, Setup, TurnOffTwoFactor, TwoFactorStatus, TwoFactorView},
    auth::SignInCode,
};
use common::*;
use reqwest::{StatusCode, header};
use totp_rs::{Builder, Secret};

/// The code an authenticator app shows for `secret` (base32), `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    let totp = Builder::new().with_secret(Secret::try_from_base32(secret).unwrap()).build().unwrap();
    totp.generate((backend::clock::now() + offset) as u64).to_string()
}

/// A code that is surely not the one shown now, nor the step before or after.
fn wrong_code(secret: &str) -> String {
    let shown = [code(secret, -30), code(secret, 0), code(secret, 30)];
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !shown.contains(c)).unwrap()
}

fn passed(response: &reqwest::Response) -> bool {
    response.status().is_success() || response.status().is_redirection()
}

/// Turns two-factor sign-in on for the signed-in `client`; answers the secret, the code
/// it was turned on with, and the recovery codes.
async fn set_up(app: &TestApp, client: &reqwest::Client) -> (String, String, Vec<String>) {
    let begun = app.call::<BeginTwoFactor>(client, &[]).await;
    assert_status(&begun, StatusCode::OK);
    let setup: Setup = begun.json().await.unwrap();
    assert!(setup.qr_svg.as_deref().is_some_and(|svg| svg.contains("<svg")));
    let wrong = app
        .call::<ConfirmTwoFactor>(client, &[("code", &wrong_code(&setup.secret)), ("password", OWNER_PASSWORD)])
        .await;
    assert_status(&wrong, StatusCode::BAD_REQUEST);
    let first = code(&setup.secret, 0);
    let no_password = app.call::<ConfirmTwoFactor>(client, &[("code", &first), ("password", "not my password")]).await;
    assert_status(&no_password, StatusCode::BAD_REQUEST);
    assert!(no_password.text().await.unwrap().contains("the current password is not right"));
    let confirmed = app.call::<ConfirmTwoFactor>(client, &[("code", &first), ("password", OWNER_PASSWORD)]).await;
    assert_status(&confirmed, StatusCode::OK);
    (setup.secret, first, confirmed.json().await.unwrap())
}

/// Signs a new browser in with the owner's password; answers it, and where it was sent.
async fn password_step(app: &TestApp) -> (reqwest::Client, reqwest::Response) {
    let browser = browser();
    let response = app.sign_in_with(&browser, OWNER_EMAIL, OWNER_PASSWORD).await;
    (browser, response)
}

async fn a_code_is_asked_after_the_password_and_passes_once(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let (secret, first, recovery) = set_up(&app, &app.client).await;
    assert_eq!(recovery.len(), 10);
    assert!(recovery.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{recovery:?}");
    let status: TwoFactorView = app.call::<TwoFactorStatus>(&app.client, &[]).await.json().await.unwrap();
    assert_eq!((status.on, status.recovery_codes_left), (true, 10));

    // The password alone signs nobody in: it asks for the code, in a strict cookie.
    let (browser, asked) = password_step(&app).await;
    assert_eq!(location(&asked), "/admin/sign-in-code?next=%2Fadmin");
    let cookie = asked.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("backroom_sign_in=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert_eq!(location(&browser.get(app.url("/admin")).send().await.unwrap()), "/admin/login");
    assert_status(&browser.get(app.url("/admin/sign-in-code")).send().await.unwrap(), StatusCode::OK);

    // The code already taken (when it was set up) does not pass again; a later one does.
    let again = app.call::<SignInCode>(&browser, &[("code", &first)]).await;
    assert_status(&again, StatusCode::BAD_REQUEST);
    let next = code(&secret, 30);
    let signed_in = app.call::<SignInCode>(&browser, &[("code", &next), ("next", "/admin/orders")]).await;
    assert!(passed(&signed_in), "{}", signed_in.status());
    assert_eq!(location(&signed_in), "/admin/orders");
    assert_status(&browser.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    // The challenge is over: the same browser cannot use it for another sign-in.
    let over = app.call::<SignInCode>(&browser, &[("code", &code(&secret, 60))]).await;
    assert_status(&over, StatusCode::BAD_REQUEST);
    assert!(over.text().await.unwrap().contains("sign in again"));

    // The code just used does not pass in another browser either.
    let (other, _) = password_step(&app).await;
    assert_status(&app.call::<SignInCode>(&other, &[("code", &next)]).await, StatusCode::BAD_REQUEST);

    // A recovery code signs in once, typed any way.
    let typed = recovery[0].replace('-', " ").to_uppercase();
    assert!(passed(&app.call::<SignInCode>(&other, &[("code", &typed)]).await));
    let (third, _) = password_step(&app).await;
    assert_status(&app.call::<SignInCode>(&third, &[("code", &recovery[0])]).await, StatusCode::BAD_REQUEST);
    let status: TwoFactorView = app.call::<TwoFactorStatus>(&app.client, &[]).await.json().await.unwrap();
    assert_eq!(status.recovery_codes_left, 9);

    // Five minutes and the sign-in is over.
    sqlx::query("UPDATE sign_in_challenges SET expires_at = 0").execute(app.db.writer()).await.unwrap();
    let late = app.call::<SignInCode>(&third, &[("code", &recovery[1])]).await;
    assert_status(&late, StatusCode::BAD_REQUEST);

    let outcomes: Vec<(String, String)> = sqlx::query_as(
        "SELECT outcome, details FROM audit_log WHERE action = 'panel.sign_in' AND details <> '' ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(outcomes.contains(&("success".to_owned(), "code right".to_owned())), "{outcomes:?}");
    assert!(outcomes.contains(&("failure".to_owned(), "wrong code".to_owned())), "{outcomes:?}");
    app.stop().await;
}

async fn wrong_codes_lock_out_as_wrong_passwords_do(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let (secret, _, _) = set_up(&app, &app.client).await;
    let (browser, _) = password_step(&app).await;
    let wrong = wrong_code(&secret);
    for _ in 0..10 {
        assert_status(&app.call::<SignInCode>(&browser, &[("code", &wrong)]).await, StatusCode::BAD_REQUEST);
    }
    // Locked: the right code, and the password step again, are refused from here.
    let locked = app.call::<SignInCode>(&browser, &[("code", &code(&secret, 30))]).await;
    assert_status(&locked, StatusCode::TOO_MANY_REQUESTS);
    let (_, again) = password_step(&app).await;
    assert_status(&again, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

async fn it_is_turned_off_with_the_password_unless_the_shop_requires_it(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let manager = app.user("manager@shop.example", backend::users::Role::Manager).await;
    let manager_browser = browser();
    app.sign_in_with(&manager_browser, &manager.email, OWNER_PASSWORD).await;

    // Required of owners: an owner without it sees only the page that sets it up, and may
    // call only its server functions; others go on.
    app.set_security(|s| s.owners_two_factor = true).await;
    assert_eq!(location(&app.get("/admin").await), "/admin/two-factor?required");
    assert_eq!(location(&app.get("/admin/orders.csv").await), "/admin/two-factor?required");
    assert_status(&app.get("/admin/two-factor?required").await, StatusCode::OK);
    let refused = app.call::<app::users::ListTeam>(&app.client, &[]).await;
    assert_status(&refused, StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("set up two-factor sign-in first"));
    assert_status(&manager_browser.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    let sessions = app.call::<app::access::sessions::ListSessions>(&manager_browser, &[]).await;
    assert_status(&sessions, StatusCode::OK);
    let status: TwoFactorView = app.call::<TwoFactorStatus>(&app.client, &[]).await.json().await.unwrap();
    assert!(status.required && !status.on);

    set_up(&app, &app.client).await;
    assert_status(&app.get("/admin").await, StatusCode::OK);
    assert_status(&app.call::<app::users::ListTeam>(&app.client, &[]).await, StatusCode::OK);
    let refused = app.call::<TurnOffTwoFactor>(&app.client, &[("password", OWNER_PASSWORD)]).await;
    assert_status(&refused, StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("requires"));

    // Not required: off with the password, and the password alone signs in again.
    app.set_security(|s| s.owners_two_factor = false).await;
    let wrong = app.call::<TurnOffTwoFactor>(&app.client, &[("password", "not my password")]).await;
    assert_status(&wrong, StatusCode::BAD_REQUEST);
    let off = app.call::<TurnOffTwoFactor>(&app.client, &[("password", OWNER_PASSWORD)]).await;
    assert_status(&off, StatusCode::OK);
    let (_, signed_in) = password_step(&app).await;
    assert_eq!(location(&signed_in), "/admin");
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, outcome FROM audit_log WHERE action IN ('user.two_factor_on', 'user.two_factor_off') ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let audited: Vec<(&str, &str)> = audited.iter().map(|(a, o)| (a.as_str(), o.as_str())).collect();
    assert_eq!(
        audited,
        [
            ("user.two_factor_on", "failure"),
            ("user.two_factor_on", "success"),
            ("user.two_factor_off", "failure"),
            ("user.two_factor_off", "success"),
        ],
        "each wrong password too"
    );
    app.stop().await;
}

on_both_databases!(
    a_code_is_asked_after_the_password_and_passes_once,
    wrong_codes_lock_out_as_wrong_passwords_do,
    it_is_turned_off_with_the_password_unless_the_shop_requires_it,
);
