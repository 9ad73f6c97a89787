//! First run, sign-in, sessions, lockout and the guards around the panel, over HTTP.

mod common;

use app::auth::{CreateOwner, SignOutEverywhere};
use common::*;
use reqwest::{StatusCode, header};

async fn health_and_readiness_answer(engine: Engine) {
    let app = spawn_app(engine).await;
    assert_status(&app.get("/healthz").await, StatusCode::OK);
    assert_status(&app.get("/readyz").await, StatusCode::OK);
    app.stop().await;
}

async fn first_run_leads_to_setup_and_setup_is_gone_once_the_owner_exists(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app.get("/admin").await;
    assert_eq!(location(&response), "/admin/setup");
    assert_status(&app.get("/admin/setup").await, StatusCode::OK);

    let created = app.create_owner().await;
    assert!(created.status().is_redirection() || created.status().is_success(), "{}", created.status());

    let again = app
        .call::<CreateOwner>(
            &browser(),
            &[
                ("store_name", ""),
                ("name", "Mallory"),
                ("email", "mallory@evil.example"),
                ("password", "another password"),
            ],
        )
        .await;
    assert_status(&again, StatusCode::CONFLICT);
    let response = browser().get(app.url("/admin/setup")).send().await.unwrap();
    assert_eq!(location(&response), "/admin/login");
    app.stop().await;
}

async fn signing_in_sets_a_safe_cookie_and_opens_the_dashboard(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    let fresh = browser();
    let response = app.sign_in_with(&fresh, OWNER_EMAIL, OWNER_PASSWORD).await;
    let cookie = response.headers().get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap().to_owned();
    assert!(cookie.starts_with("backroom_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http on loopback gets no Secure flag: {cookie}");
    let max_age: i64 = cookie.split("Max-Age=").nth(1).and_then(|v| v.split(';').next()).unwrap().parse().unwrap();
    assert!((7 * 86_400 - 60..=7 * 86_400).contains(&max_age), "the cookie lasts the absolute timeout: {cookie}");
    let id = cookie.trim_start_matches("backroom_session=").split(';').next().unwrap().to_owned();
    let stored: Vec<(String,)> = sqlx::query_as("SELECT id_hash FROM sessions").fetch_all(app.db.pool()).await.unwrap();
    assert!(!stored.is_empty() && stored.iter().all(|(hash,)| *hash != id), "the id is stored only as its hash");

    let page = fresh.get(app.url("/admin")).send().await.unwrap();
    assert_status(&page, StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Dashboard") && html.contains("Orders today"), "{html}");
    app.stop().await;
}

async fn a_new_session_id_is_issued_at_each_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    let client = browser();
    let first = app.sign_in_with(&client, OWNER_EMAIL, OWNER_PASSWORD).await;
    let second = app.sign_in_with(&client, OWNER_EMAIL, OWNER_PASSWORD).await;
    let cookie = |r: &reqwest::Response| r.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert_ne!(cookie(&first), cookie(&second));
    app.stop().await;
}

async fn wrong_password_and_unknown_email_get_the_same_generic_error(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    let wrong_password = app.sign_in_with(&browser(), OWNER_EMAIL, "not the password").await;
    assert_status(&wrong_password, StatusCode::UNAUTHORIZED);
    let wrong_password = wrong_password.text().await.unwrap();
    let unknown = app.sign_in_with(&browser(), "nobody@shop.example", "not the password").await;
    assert_status(&unknown, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password, unknown.text().await.unwrap());
    let shown: app::error::PanelError = serde_json::from_str(&wrong_password).unwrap();
    assert_eq!(shown.to_string(), "the email or password is not right");
    app.stop().await;
}

async fn the_eleventh_attempt_is_refused_even_with_the_right_password(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    for _ in 0..10 {
        let r = app.sign_in_with(&browser(), OWNER_EMAIL, "wrong password!").await;
        assert_status(&r, StatusCode::UNAUTHORIZED);
    }
    let locked = app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_status(&locked, StatusCode::TOO_MANY_REQUESTS);
    let shown: app::error::PanelError = serde_json::from_str(&locked.text().await.unwrap()).unwrap();
    assert!(shown.to_string().starts_with("too many failed attempts"), "{shown}");
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sign_in_throttle WHERE locked_until IS NOT NULL")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(row.0 >= 1, "the lock lives in the database, so every instance sees it");
    app.stop().await;
}

async fn sign_out_everywhere_ends_every_session(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let laptop = browser();
    app.sign_in_with(&laptop, OWNER_EMAIL, OWNER_PASSWORD).await;
    assert_status(&laptop.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);

    let r = app.call::<SignOutEverywhere>(&app.client, &[]).await;
    assert!(r.status().is_redirection() || r.status().is_success(), "{}", r.status());
    assert_eq!(location(&laptop.get(app.url("/admin")).send().await.unwrap()), "/admin/login");
    assert_eq!(location(&app.get("/admin").await), "/admin/login");
    app.stop().await;
}

async fn changing_your_password_asks_the_current_one_and_signs_out_the_rest(engine: Engine) {
    use app::access::password::ChangePassword;
    use backend::access::credentials::{self, NewCredential};
    use vocabulary::access::{CredentialType, Scope};
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let laptop = browser();
    app.sign_in_with(&laptop, OWNER_EMAIL, OWNER_PASSWORD).await;
    let owner = app.owner().await;
    let new = |kind| NewCredential { kind, label: "Phone".into(), scope: Scope::Read, lifetime_days: None };
    let app_password =
        credentials::create(&app.db, &app.hasher, &owner, None, new(CredentialType::AppPassword)).await.unwrap().secret;
    let key = credentials::create(&app.db, &app.hasher, &owner, None, new(CredentialType::ConnectionKey))
        .await
        .unwrap()
        .secret;
    let with_password = |secret: String| {
        app.client
            .get(app.url("/api/v1/me"))
            .basic_auth(OWNER_EMAIL, Some(secret))
            .header("x-backroom-timestamp", backend::clock::now().to_string())
            .send()
    };
    assert_status(&with_password(app_password.clone()).await.unwrap(), StatusCode::OK);
    let shop = &app;
    let change = move |current: &'static str, new: &'static str, others: bool| {
        let mut form = vec![("current", current), ("new", new)];
        if others {
            form.push(("sign_out_others", "yes"));
        }
        async move { shop.call::<ChangePassword>(&shop.client, &form).await }
    };

    for (current, new, says) in [
        ("not the password", "a brand new password", "the current password is not right"),
        (OWNER_PASSWORD, "short", "at least 10 characters"),
    ] {
        let refused = change(current, new, true).await;
        assert_status(&refused, StatusCode::BAD_REQUEST);
        let shown: app::error::PanelError = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
        assert!(shown.to_string().contains(says), "{shown}");
    }
    assert_status(&laptop.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);

    // Every other session of theirs (the first-run browser's, the laptop's) and the application password.
    let others = app.count("SELECT COUNT(*) FROM sessions").await - 1 + 1;
    let changed = change(OWNER_PASSWORD, "a brand new password", true).await;
    assert_status(&changed, StatusCode::OK);
    let renewed = changed.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(renewed.starts_with("backroom_session=") && !renewed.contains("Max-Age=0"), "a new id: {renewed}");
    let said: String = serde_json::from_str(&changed.text().await.unwrap()).unwrap();
    assert_eq!(said, format!("Your password is changed; {others} other sign-ins ended."));
    assert_status(&app.get("/admin").await, StatusCode::OK);
    assert_eq!(location(&laptop.get(app.url("/admin")).send().await.unwrap()), "/admin/login");
    assert_status(&with_password(app_password).await.unwrap(), StatusCode::UNAUTHORIZED);
    assert_status(&app.api(reqwest::Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    assert_status(&app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await, StatusCode::UNAUTHORIZED);
    let again = browser();
    let signed_in = app.sign_in_with(&again, OWNER_EMAIL, "a brand new password").await;
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection(), "{}", signed_in.status());

    let kept = change("a brand new password", "a third good password", false).await;
    assert_status(&kept, StatusCode::OK);
    assert_status(&again.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    let outcomes: Vec<(String,)> =
        sqlx::query_as("SELECT outcome FROM audit_log WHERE action = 'user.password_change' ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(outcomes.iter().map(|(o,)| o.as_str()).collect::<Vec<_>>(), ["failure", "success", "success"]);

    for _ in 0..10 {
        assert_status(&change("wrong guess", "another good password", false).await, StatusCode::BAD_REQUEST);
    }
    assert_status(
        &change("a third good password", "another good password", false).await,
        StatusCode::TOO_MANY_REQUESTS,
    );
    app.stop().await;
}

async fn a_forged_or_expired_session_cookie_leads_to_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    // Not an id at all, the old token's shape, and an id of the right shape that names no session.
    for cookie in [
        "backroom_session=forged",
        "backroom_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "backroom_session=AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let r = browser().get(app.url("/admin")).header(header::COOKIE, cookie).send().await.unwrap();
        assert_eq!(location(&r), "/admin/login", "{cookie}");
        let removal = r.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(removal.starts_with("backroom_session=;") && removal.contains("Max-Age=0"), "{cookie}: {removal}");
    }
    // Outside the panel the session cookie is not read, and never answered with a Set-Cookie.
    for path in ["/api/v1/me", "/healthz", "/oauth/token"] {
        let r = browser().get(app.url(path)).header(header::COOKIE, "backroom_session=forged").send().await.unwrap();
        assert!(r.headers().get(header::SET_COOKIE).is_none(), "{path}: {:?}", r.headers().get(header::SET_COOKIE));
    }
    // Age every session past the idle timeout (2 h): the next request is sent to sign in.
    let sessions = || async {
        sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM sessions").fetch_one(app.db.pool()).await.unwrap().0
    };
    let before = sessions().await;
    sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 3 * 3600").execute(app.db.writer()).await.unwrap();
    assert_eq!(location(&app.get("/admin").await), "/admin/login");
    assert_eq!(sessions().await, before - 1, "an expired session is deleted when seen");
    app.stop().await;
}

async fn cross_origin_posts_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    let path = <app::auth::SignIn as leptos::server_fn::ServerFn>::PATH;
    for (name, value) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let r = browser()
            .post(app.url(path))
            .header(name, value)
            .form(&[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_status(&r, StatusCode::FORBIDDEN);
        assert!(r.headers().get(header::SET_COOKIE).is_none());
    }
    app.stop().await;
}

async fn bad_sign_in_bodies_get_clear_errors_not_500s(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    let path = <app::auth::SignIn as leptos::server_fn::ServerFn>::PATH;
    let post = |body: Vec<u8>, content_type: &'static str| {
        browser()
            .post(app.url(path))
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
    };
    let huge = post(
        format!("email=a%40b.example&password={}", "x".repeat(70_000)).into_bytes(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert_status(&huge, StatusCode::PAYLOAD_TOO_LARGE);
    let empty = post(Vec::new(), "application/x-www-form-urlencoded").await.unwrap();
    assert_status(&empty, StatusCode::BAD_REQUEST);
    let malformed = post(b"\xff\xfe%%%=&&=".to_vec(), "application/x-www-form-urlencoded").await.unwrap();
    assert_status(&malformed, StatusCode::BAD_REQUEST);
    let text = malformed.text().await.unwrap();
    assert!(!text.to_lowercase().contains("panicked"), "{text}");
    app.stop().await;
}

async fn an_agent_cannot_manage_users(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let added = app
        .call::<app::users::AddUser>(
            &app.client,
            &[
                ("email", "agent@shop.example"),
                ("name", "Ada Agent"),
                ("role", "agent"),
                ("password", "agent password 1"),
            ],
        )
        .await;
    assert!(added.status().is_success(), "{}", added.status());
    let agent = browser();
    app.sign_in_with(&agent, "agent@shop.example", "agent password 1").await;
    let r = app
        .call::<app::users::AddUser>(
            &agent,
            &[("email", "x@shop.example"), ("name", "X"), ("role", "owner"), ("password", "agent password 1")],
        )
        .await;
    assert_status(&r, StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn sign_ins_are_audited_and_the_audit_log_cannot_be_rewritten(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    app.sign_in_with(&browser(), OWNER_EMAIL, "wrong password!").await;
    app.sign_in_with(&browser(), OWNER_EMAIL, OWNER_PASSWORD).await;
    let outcomes: Vec<(String, String)> =
        sqlx::query_as("SELECT action, outcome FROM audit_log WHERE action = 'panel.sign_in' ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(outcomes.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>(), ["failure", "success"]);
    assert!(sqlx::query("UPDATE audit_log SET outcome = 'success'").execute(app.db.writer()).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(app.db.writer()).await.is_err());
    app.stop().await;
}

async fn first_run_forms_sent_at_once_create_one_owner(engine: Engine) {
    let app = spawn_app(engine).await;
    let attempts = (0..4).map(|n| {
        let email = format!("owner{n}@shop.example");
        let app = &app;
        async move {
            app.call::<CreateOwner>(
                &browser(),
                &[("store_name", ""), ("name", "Racing Owner"), ("email", &email), ("password", OWNER_PASSWORD)],
            )
            .await
            .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| s.is_success() || s.is_redirection()).count(), 1, "{statuses:?}");
    assert!(statuses.iter().filter(|s| !(s.is_success() || s.is_redirection())).all(|s| *s == StatusCode::CONFLICT));
    let owners: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(owners.0, 1);
    app.stop().await;
}

async fn cookies_are_secure_when_the_public_url_is_https(engine: Engine) {
    let app = spawn_app_with(engine, Options { public_url: Some("https://shop.example"), ..Options::default() }).await;
    let response = app.create_owner().await;
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    app.stop().await;
}

async fn the_audit_log_exports_to_a_formula_safe_csv_for_owners_only(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    // Someone tries to sign in with a "name" a spreadsheet would run.
    let attacker = browser();
    app.sign_in_with(&attacker, "=HYPERLINK(\"https://evil.example\",\"Şifre\")", "guess").await;
    let response = app.get("/admin/audit.csv?action=panel.sign_in").await;
    assert_status(&response, StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("attachment"));
    let body = response.text().await.unwrap();
    assert!(body.starts_with('\u{feff}'), "a byte-order mark, so spreadsheets read UTF-8");
    assert!(body.contains("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"Şifre\"\")\""), "{body}");
    assert!(!body.contains(",\"=HYPERLINK"), "{body}");
    assert!(body.contains(OWNER_EMAIL));
    assert!(body.lines().all(|line| !line.contains("audit.export")), "only the filtered action");

    // Agents may not take a copy; signed-out visitors are sent to sign in.
    app.user("agent@shop.example", backend::users::Role::Agent).await;
    let agent = browser();
    app.sign_in_with(&agent, "agent@shop.example", OWNER_PASSWORD).await;
    assert_status(&agent.get(app.url("/admin/audit.csv")).send().await.unwrap(), StatusCode::FORBIDDEN);
    let visitor = browser().get(app.url("/admin/audit.csv")).send().await.unwrap();
    assert!(location(&visitor).starts_with("/admin/login?next="), "{}", location(&visitor));
    app.stop().await;
}

async fn even_an_agent_reads_the_reports_and_the_transactions(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    app.user("agent@shop.example", backend::users::Role::Agent).await;
    let agent = browser();
    app.sign_in_with(&agent, "agent@shop.example", OWNER_PASSWORD).await;

    let report = app.call::<app::reports::SalesReport>(&agent, &[("query[period]", "7d")]).await;
    assert_status(&report, StatusCode::OK);
    let transactions =
        app.call::<app::transactions::StoreTransactions>(&agent, &[("query[status]", "succeeded")]).await;
    assert_status(&transactions, StatusCode::OK);
    let csv = agent.get(app.url("/admin/reports/sales.csv?period=7d")).send().await.unwrap();
    assert_status(&csv, StatusCode::OK);
    assert!(csv.text().await.unwrap().contains("\"total "), "the period's totals");
    app.stop().await;
}

async fn failures_from_one_address_lock_out_only_that_address(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_owner().await;
    app.set_security(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let sign_in_from = |address: &'static str, password: &'static str| {
        browser()
            .post(app.url(<app::auth::SignIn as leptos::server_fn::ServerFn>::PATH))
            .header("sec-fetch-site", "same-origin")
            .header(header::ACCEPT, "application/json")
            .header("x-forwarded-for", address)
            .form(&[("email", OWNER_EMAIL), ("password", password)])
            .send()
    };
    for _ in 0..10 {
        assert_status(&sign_in_from("203.0.113.5", "wrong password!").await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_status(&sign_in_from("203.0.113.5", OWNER_PASSWORD).await.unwrap(), StatusCode::TOO_MANY_REQUESTS);
    // The owner, elsewhere, still gets in: slowed down while their account is under
    // attack, never locked out by it.
    let started = std::time::Instant::now();
    let elsewhere = sign_in_from("198.51.100.7", OWNER_PASSWORD).await.unwrap();
    assert!(elsewhere.status().is_success() || elsewhere.status().is_redirection(), "{}", elsewhere.status());
    assert!(started.elapsed() >= backend::sign_in::SLOWDOWN, "{:?}", started.elapsed());
    let refused =
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'panel.sign_in' AND outcome = 'denied'").await;
    assert_eq!(refused, 1, "the locked-out attempt is in the audit log");
    app.stop().await;
}

async fn a_next_with_line_breaks_leads_to_the_dashboard(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    for next in ["%0d%0aSet-Cookie:%20a=b", "/admin%0d%0aSet-Cookie:%20a=b", "/admin%20x"] {
        let response = app.get(&format!("/admin/login?next={next}")).await;
        assert_eq!(location(&response), "/admin", "{next}");
    }
    let response = app
        .call::<app::auth::SignIn>(
            &browser(),
            &[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD), ("next", "/admin\r\nSet-Cookie: a=b")],
        )
        .await;
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    assert!(response.headers().get(header::LOCATION).is_none_or(|l| l == "/admin"), "{:?}", response.headers());
    app.stop().await;
}

async fn each_person_sees_and_ends_their_signed_in_browsers(engine: Engine) {
    use app::access::sessions::{EndSession, ListSessions, SessionRow};
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let laptop = browser();
    app.sign_in_with(&laptop, OWNER_EMAIL, OWNER_PASSWORD).await;
    app.user("agent@shop.example", backend::users::Role::Agent).await;
    let agent = browser();
    app.sign_in_with(&agent, "agent@shop.example", OWNER_PASSWORD).await;
    let shop = &app;
    let list = |client: reqwest::Client| async move {
        let response = shop.call::<ListSessions>(&client, &[]).await;
        assert_status(&response, StatusCode::OK);
        response.json::<Vec<SessionRow>>().await.unwrap()
    };

    // The owner sees every browser (the first-run setup signed one in too), their own
    // marked; the agent only theirs.
    let everyone = list(app.client.clone()).await;
    assert_eq!(everyone.len(), 4, "{everyone:?}");
    assert_eq!(everyone.iter().filter(|s| s.current).count(), 1);
    let theirs = list(agent.clone()).await;
    assert_eq!(theirs.iter().map(|s| s.user.as_str()).collect::<Vec<_>>(), ["agent@shop.example"]);

    // An agent cannot end someone else's session; the owner ends the laptop's.
    let laptops = list(laptop.clone()).await.into_iter().find(|s| s.current).unwrap();
    assert!(everyone.iter().any(|s| s.id == laptops.id && !s.current));
    assert_status(&app.call::<EndSession>(&agent, &[("id", &laptops.id)]).await, StatusCode::FORBIDDEN);
    assert_status(&laptop.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    assert_status(&app.call::<EndSession>(&app.client, &[("id", &laptops.id)]).await, StatusCode::OK);
    assert_eq!(location(&laptop.get(app.url("/admin")).send().await.unwrap()), "/admin/login");
    assert_status(&app.client.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);
    assert_eq!(list(app.client.clone()).await.len(), 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'session.end'").await, 1);
    app.stop().await;
}

on_both_databases!(
    even_an_agent_reads_the_reports_and_the_transactions,
    the_audit_log_exports_to_a_formula_safe_csv_for_owners_only,
    first_run_forms_sent_at_once_create_one_owner,
    cookies_are_secure_when_the_public_url_is_https,
    sign_ins_are_audited_and_the_audit_log_cannot_be_rewritten,
    health_and_readiness_answer,
    first_run_leads_to_setup_and_setup_is_gone_once_the_owner_exists,
    signing_in_sets_a_safe_cookie_and_opens_the_dashboard,
    a_new_session_id_is_issued_at_each_sign_in,
    wrong_password_and_unknown_email_get_the_same_generic_error,
    the_eleventh_attempt_is_refused_even_with_the_right_password,
    sign_out_everywhere_ends_every_session,
    a_forged_or_expired_session_cookie_leads_to_sign_in,
    changing_your_password_asks_the_current_one_and_signs_out_the_rest,
    cross_origin_posts_are_refused,
    bad_sign_in_bodies_get_clear_errors_not_500s,
    an_agent_cannot_manage_users,
    failures_from_one_address_lock_out_only_that_address,
    a_next_with_line_breaks_leads_to_the_dashboard,
    each_person_sees_and_ends_their_signed_in_browsers,
);
