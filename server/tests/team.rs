//! The team's accounts: a forgotten password reset with a single-use link sent by email,
//! invitations, role changes with the last owner kept, and the ownership handed over.

mod common;

use app::{
    account_links::{AcceptInvitation, RESET_SENT, RequestPasswordReset, ResetPassword},
    users::{CancelInvitation, ChangeRole, HandOverOwnership, InviteUser, ListTeam, SetUserDisabled, Team},
};
use backend::users::Role;
use common::*;
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a new password for me";

/// The links sent in emails of `kind`, oldest first.
async fn links_sent(app: &TestApp, kind: &str) -> Vec<String> {
    let bodies: Vec<String> = sqlx::query_scalar("SELECT text_body FROM mail_outbox WHERE kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    bodies
        .iter()
        .map(|body| {
            let start = body.find(&app.url("/admin/")).unwrap_or_else(|| panic!("no link in {body}"));
            body[start..].split_whitespace().next().unwrap().to_owned()
        })
        .collect()
}

fn token(link: &str) -> &str {
    link.split_once("?token=").unwrap().1
}

fn done(response: &reqwest::Response) -> bool {
    response.status().is_success() || response.status().is_redirection()
}

async fn message(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

async fn audited(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT target, outcome, details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn a_forgotten_password_is_reset_with_a_single_use_link(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let phone = browser();
    assert!(done(&app.sign_in_with(&phone, OWNER_EMAIL, OWNER_PASSWORD).await));
    let visitor = browser();
    let ask = |email: &'static str| {
        let (app, visitor) = (&app, visitor.clone());
        async move { app.call::<RequestPasswordReset>(&visitor, &[("email", email)]).await }
    };

    // The same answer for an account and for no account; only the account gets a link.
    let known = ask("Owner@Shop.example").await;
    assert_status(&known, StatusCode::OK);
    let unknown = ask("nobody@shop.example").await;
    assert_status(&unknown, StatusCode::OK);
    assert_eq!(message(known).await, message(unknown).await);
    assert!(RESET_SENT.contains("30 minutes"));
    let links = links_sent(&app, "user.password_reset").await;
    assert_eq!(links.len(), 1, "{links:?}");
    let link = &links[0];
    assert!(link.starts_with(&app.url("/admin/reset-password?token=")), "{link}");
    let to: String = sqlx::query_scalar("SELECT to_address FROM mail_outbox WHERE kind = 'user.password_reset'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(to, OWNER_EMAIL);

    // The page opens signed out and names the account.
    let page = visitor.get(link).send().await.unwrap();
    assert_status(&page, StatusCode::OK);
    assert!(message(page).await.contains(OWNER_EMAIL));

    // A weak password is refused and leaves the link open.
    let weak = app.call::<ResetPassword>(&visitor, &[("token", token(link)), ("password", "short")]).await;
    assert_status(&weak, StatusCode::BAD_REQUEST);
    let reset = app.call::<ResetPassword>(&visitor, &[("token", token(link)), ("password", NEW_PASSWORD)]).await;
    assert!(done(&reset), "{}", reset.status());
    assert_eq!(location(&reset), "/admin/login?reset=done");

    // Every session ended; the old password fails and the new one works.
    assert_eq!(location(&app.get("/admin").await), "/admin/login");
    assert_eq!(location(&phone.get(app.url("/admin")).send().await.unwrap()), "/admin/login");
    assert_status(&app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert!(done(&app.sign_in_with(&browser(), OWNER_EMAIL, NEW_PASSWORD).await));

    // Used once: never again, and its page says so.
    let again =
        app.call::<ResetPassword>(&visitor, &[("token", token(link)), ("password", "yet another password")]).await;
    assert_status(&again, StatusCode::BAD_REQUEST);
    assert!(message(again).await.contains("expired or was already used"));
    let page = message(visitor.get(link).send().await.unwrap()).await;
    assert!(page.contains("This link has expired or was already used.") && !page.contains(OWNER_EMAIL));
    let made_up = app.call::<ResetPassword>(&visitor, &[("token", "x"), ("password", NEW_PASSWORD)]).await;
    assert_status(&made_up, StatusCode::BAD_REQUEST);

    let requests = audited(&app, "user.password_reset_request").await;
    assert_eq!(
        requests.iter().map(|(target, outcome, _)| (target.as_str(), outcome.as_str())).collect::<Vec<_>>(),
        [(OWNER_EMAIL, "success"), ("nobody@shop.example", "failure")]
    );
    let resets = audited(&app, "user.password_reset").await;
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0].2, "signed out: 3", "the first-run, this and the phone's sessions");
    app.stop().await;
}

async fn reset_links_expire_and_requests_are_limited(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let visitor = browser();
    let ask = |email: &'static str| {
        let (app, visitor) = (&app, visitor.clone());
        async move { app.call::<RequestPasswordReset>(&visitor, &[("email", email)]).await }
    };

    // An expired link does nothing.
    assert_status(&ask(OWNER_EMAIL).await, StatusCode::OK);
    let link = links_sent(&app, "user.password_reset").await.remove(0);
    sqlx::query("UPDATE account_links SET expires_at = expires_at - 1801").execute(app.db.writer()).await.unwrap();
    let late = app.call::<ResetPassword>(&visitor, &[("token", token(&link)), ("password", NEW_PASSWORD)]).await;
    assert_status(&late, StatusCode::BAD_REQUEST);
    assert!(done(&app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await));

    // Three links an hour reach one account; the answer stays the same past that.
    for _ in 0..4 {
        assert_status(&ask(OWNER_EMAIL).await, StatusCode::OK);
    }
    assert_eq!(links_sent(&app, "user.password_reset").await.len(), 3);

    // A disabled account gets none.
    let agent = app.user("agent@shop.example", Role::Agent).await;
    backend::access::set_user_disabled(&app.db, &app.services.credentials, &owner, agent.id, true).await.unwrap();
    assert_status(&ask("agent@shop.example").await, StatusCode::OK);
    assert_eq!(links_sent(&app, "user.password_reset").await.len(), 3);

    // Ten requests an hour from one address (this is the seventh to tenth); then refused.
    for _ in 0..4 {
        assert_status(&ask("nobody@shop.example").await, StatusCode::OK);
    }
    let refused = ask("nobody@shop.example").await;
    assert_status(&refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(message(refused).await.contains("Too many password resets"));
    let not_an_email = app.call::<RequestPasswordReset>(&browser(), &[("email", "not an email")]).await;
    assert_status(&not_an_email, StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

async fn team(app: &TestApp, client: &reqwest::Client) -> Team {
    let response = app.call::<ListTeam>(client, &[]).await;
    assert_status(&response, StatusCode::OK);
    response.json().await.unwrap()
}

async fn an_invited_person_makes_their_account_with_the_role_given(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let invite = |email: &'static str, role: &'static str| {
        let app = &app;
        async move { app.call::<InviteUser>(&app.client, &[("email", email), ("role", role)]).await }
    };
    assert_status(&invite("Mina@Shop.example", "manager").await, StatusCode::OK);
    let link = links_sent(&app, "user.invitation").await.remove(0);
    assert!(link.starts_with(&app.url("/admin/invitation?token=")), "{link}");
    let listed = team(&app, &app.client).await;
    assert_eq!(listed.invitations.len(), 1);
    assert_eq!(
        (listed.invitations[0].email.as_str(), listed.invitations[0].role_label.as_str()),
        ("mina@shop.example", "Shop manager")
    );

    let invitee = browser();
    let page = message(invitee.get(&link).send().await.unwrap()).await;
    assert!(page.contains("mina@shop.example") && page.contains("shop manager"), "{page}");
    let accepted = app
        .call::<AcceptInvitation>(&invitee, &[("token", token(&link)), ("name", "Mina"), ("password", NEW_PASSWORD)])
        .await;
    assert!(done(&accepted), "{}", accepted.status());
    assert_status(&invitee.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    let mina = backend::users::find_by_email(&app.db, &email("mina@shop.example")).await.unwrap().unwrap();
    assert_eq!((mina.name.as_str(), mina.role), ("Mina", Role::Manager));
    assert!(team(&app, &app.client).await.invitations.is_empty());

    // Once only; and an address with an account is not invited.
    let again = app
        .call::<AcceptInvitation>(&browser(), &[("token", token(&link)), ("name", "Eve"), ("password", NEW_PASSWORD)])
        .await;
    assert_status(&again, StatusCode::BAD_REQUEST);
    assert_status(&invite("mina@shop.example", "agent").await, StatusCode::CONFLICT);

    // A newer invitation replaces the older; a cancelled one no longer works.
    assert_status(&invite("deniz@shop.example", "agent").await, StatusCode::OK);
    assert_status(&invite("deniz@shop.example", "admin").await, StatusCode::OK);
    let links = links_sent(&app, "user.invitation").await;
    let (older, newer) = (&links[1], &links[2]);
    let accept = |link: &str| {
        let (app, token) = (&app, token(link).to_owned());
        async move {
            app.call::<AcceptInvitation>(
                &browser(),
                &[("token", &token), ("name", "Deniz"), ("password", NEW_PASSWORD)],
            )
            .await
        }
    };
    assert_status(&accept(older).await, StatusCode::BAD_REQUEST);
    let pending = team(&app, &app.client).await.invitations;
    assert_eq!(pending.len(), 1);
    let cancelled = app.call::<CancelInvitation>(&app.client, &[("id", &pending[0].id.to_string())]).await;
    assert_status(&cancelled, StatusCode::OK);
    assert_status(&accept(newer).await, StatusCode::BAD_REQUEST);
    assert!(backend::users::find_by_email(&app.db, &email("deniz@shop.example")).await.unwrap().is_none());

    // An admin invites below owner; a shop manager invites nobody.
    let admin = browser();
    app.user("admin@shop.example", Role::Admin).await;
    app.sign_in_with(&admin, "admin@shop.example", OWNER_PASSWORD).await;
    let as_admin = |email: &'static str, role: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move { app.call::<InviteUser>(&admin, &[("email", email), ("role", role)]).await }
    };
    assert_status(&as_admin("new-owner@shop.example", "owner").await, StatusCode::FORBIDDEN);
    assert_status(&as_admin("helper@shop.example", "admin").await, StatusCode::OK);
    // Demoted since, the admin can no longer give what they offered.
    let admin_id = backend::users::find_by_email(&app.db, &email("admin@shop.example")).await.unwrap().unwrap().id;
    let demoted = app.call::<ChangeRole>(&app.client, &[("user_id", &admin_id.to_string()), ("role", "manager")]).await;
    assert_status(&demoted, StatusCode::OK);
    let helper_link = links_sent(&app, "user.invitation").await.pop().unwrap();
    let stale = app
        .call::<AcceptInvitation>(
            &browser(),
            &[("token", token(&helper_link)), ("name", "Helper"), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_status(&stale, StatusCode::BAD_REQUEST);
    assert!(message(stale).await.contains("no longer valid"));
    assert_status(
        &app.call::<InviteUser>(&invitee, &[("email", "x@shop.example"), ("role", "agent")]).await,
        StatusCode::FORBIDDEN,
    );

    let invites = audited(&app, "user.invite").await;
    assert_eq!(invites.len(), 4);
    assert_eq!(invites[0].0, "mina@shop.example");
    assert_eq!(audited(&app, "user.invitation_accept").await.len(), 1);
    assert_eq!(audited(&app, "user.invitation_cancel").await.len(), 1);
    app.stop().await;
}

async fn roles_change_an_admin_acts_on_no_owner_and_an_owner_always_remains(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let owner = app.owner().await;
    let admin = app.user("admin@shop.example", Role::Admin).await;
    let manager = app.user("manager@shop.example", Role::Manager).await;
    let admin_browser = browser();
    app.sign_in_with(&admin_browser, "admin@shop.example", OWNER_PASSWORD).await;
    let change = |client: &reqwest::Client, user: i64, role: &str| {
        let (app, client, user, role) = (&app, client.clone(), user.to_string(), role.to_owned());
        async move { app.call::<ChangeRole>(&client, &[("user_id", &user), ("role", &role)]).await }
    };

    assert_status(&change(&app.client, manager.id, "agent").await, StatusCode::OK);
    assert_eq!(backend::users::find(&app.db, manager.id).await.unwrap().role, Role::Agent);
    assert_eq!(audited(&app, "user.role_change").await[0].2, "manager → agent");
    assert_status(&change(&app.client, owner.id, "admin").await, StatusCode::BAD_REQUEST);

    // The admin runs the team below owner.
    assert_status(&change(&admin_browser, manager.id, "manager").await, StatusCode::OK);
    assert_status(&change(&admin_browser, manager.id, "owner").await, StatusCode::FORBIDDEN);
    assert_status(&change(&admin_browser, owner.id, "agent").await, StatusCode::FORBIDDEN);
    let disable_owner =
        app.call::<SetUserDisabled>(&admin_browser, &[("user_id", &owner.id.to_string()), ("disabled", "true")]).await;
    assert_status(&disable_owner, StatusCode::FORBIDDEN);
    let seen = team(&app, &admin_browser).await;
    assert_eq!(seen.roles, [Role::Admin, Role::Manager, Role::Agent]);
    assert!(!seen.owner);
    assert!(!seen.users.iter().find(|u| u.id == owner.id).unwrap().managed);

    // Two owners demoting each other at once: one of them stays an owner.
    assert_status(&change(&app.client, admin.id, "owner").await, StatusCode::OK);
    let (a, b) = tokio::join!(change(&app.client, admin.id, "admin"), change(&admin_browser, owner.id, "admin"));
    assert!(a.status().is_success() != b.status().is_success(), "{} and {}", a.status(), b.status());
    assert_eq!(app.count("SELECT COUNT(*) FROM users WHERE role = 'owner'").await, 1);
    app.stop().await;
}

async fn an_owner_hands_the_ownership_over(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let owner = app.owner().await;
    let admin = app.user("admin@shop.example", Role::Admin).await;
    let agent = app.user("agent@shop.example", Role::Agent).await;
    let hand_over = |client: &reqwest::Client, user: i64| {
        let (app, client, user) = (&app, client.clone(), user.to_string());
        async move { app.call::<HandOverOwnership>(&client, &[("user_id", &user)]).await }
    };
    backend::access::set_user_disabled(&app.db, &app.services.credentials, &owner, agent.id, true).await.unwrap();
    assert_status(&hand_over(&app.client, agent.id).await, StatusCode::BAD_REQUEST);
    assert_status(&hand_over(&app.client, owner.id).await, StatusCode::BAD_REQUEST);
    assert_status(&hand_over(&app.client, admin.id).await, StatusCode::OK);
    assert_eq!(backend::users::find(&app.db, admin.id).await.unwrap().role, Role::Owner);
    assert_eq!(backend::users::find(&app.db, owner.id).await.unwrap().role, Role::Admin);
    assert_eq!(audited(&app, "user.ownership_hand_over").await[0].0, "admin@shop.example");
    // No longer an owner: the former one cannot hand it over again, at once.
    assert_status(&hand_over(&app.client, admin.id).await, StatusCode::FORBIDDEN);
    assert!(!team(&app, &app.client).await.owner);
    app.stop().await;
}

fn email(text: &str) -> backend::users::Email {
    backend::users::Email::parse(text).unwrap()
}

on_both_databases!(
    a_forgotten_password_is_reset_with_a_single_use_link,
    reset_links_expire_and_requests_are_limited,
    an_invited_person_makes_their_account_with_the_role_given,
    roles_change_an_admin_acts_on_no_owner_and_an_owner_always_remains,
    an_owner_hands_the_ownership_over,
);
