//! The mobile app's sign-in, played with a real OAuth client library (the `oauth2` crate):
//! authorize → consent → code → token → API call → refresh → a reused refresh token kills
//! the family. And the requests an attacker or a buggy app would send.

mod common;

use backend::access::{Scope, oauth};
use common::*;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, RevocationUrl, TokenResponse,
    TokenUrl, basic::BasicClient,
};
use reqwest::{StatusCode, header};
use serde_json::Value;

const REDIRECT: &str = "cartman://oauth";

async fn register_app(app: &TestApp) -> oauth::Client {
    let owner = app.owner().await;
    let new = oauth::NewClient {
        name: "Cartman <mobile>".into(),
        redirect_uris: format!("{REDIRECT}\nhttps://app.example/cb"),
        scope: Scope::Write,
    };
    oauth::create_client(&app.db, &owner, None, new, false).await.unwrap()
}

/// The form fields of the consent page, as the browser would post them.
fn consent_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let name = input.split("name=\"").nth(1)?.split('"').next()?;
            let value = input.split("value=\"").nth(1)?.split('"').next()?;
            Some((
                name.to_owned(),
                value
                    .replace("&amp;", "&")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#39;", "'"),
            ))
        })
        .collect()
}

/// Signs the owner in with `browser`, opens `authorize_url`, consents, and returns the
/// query of the redirect back to the app.
async fn consent(
    app: &TestApp,
    browser: &reqwest::Client,
    authorize_url: &str,
    decision: &str,
) -> Vec<(String, String)> {
    let page = browser.get(authorize_url).send().await.unwrap();
    assert_status(&page, StatusCode::OK);
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY", "no clickjacking of Allow");
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Cartman &lt;mobile&gt;") && html.contains("see and change"),
        "the page names the app (escaped) and the scope: {html}"
    );
    let mut fields = consent_fields(&html);
    fields.push(("decision".into(), decision.into()));
    let answer = browser
        .post(app.url("/oauth/authorize"))
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_status(&answer, StatusCode::SEE_OTHER);
    let location = location(&answer);
    let query = location.strip_prefix(&format!("{REDIRECT}?")).unwrap_or_else(|| panic!("back to the app: {location}"));
    url_pairs(query)
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_owned(), percent_decode(v))).collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap(), 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn the_mobile_app_signs_in_refreshes_and_a_reused_refresh_token_kills_the_family(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let client = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_auth_uri(AuthUrl::new(app.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/oauth/token")).unwrap())
        .set_revocation_url(RevocationUrl::new(app.url("/oauth/revoke")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(oauth2::Scope::new("write".into()))
        .set_pkce_challenge(challenge)
        .url();

    // Signed out, the authorize page sends the person to sign in and back.
    let browser = browser();
    let response = browser.get(authorize_url.as_str()).send().await.unwrap();
    let to_login = location(&response);
    assert!(to_login.starts_with("/admin/login?next=%2Foauth%2Fauthorize%3F"), "{to_login}");
    app.sign_in_with(&browser, OWNER_EMAIL, OWNER_PASSWORD).await;

    let back = consent(&app, &browser, authorize_url.as_str(), "allow").await;
    assert_eq!(get(&back, "state"), Some(state.secret().as_str()));
    assert_eq!(get(&back, "iss"), Some(app.url("").as_str()), "the answer names who gave it (RFC 9207)");
    let code = get(&back, "code").unwrap().to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(tokens.expires_in().unwrap().as_secs(), 3600);
    let access = tokens.access_token().secret().clone();
    let me: Value =
        app.client.get(app.url("/api/v1/me")).bearer_auth(&access).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["email"], OWNER_EMAIL);
    assert_eq!(
        (me["credential"]["kind"].as_str(), me["credential"]["scope"].as_str()),
        (Some("oauth_token"), Some("write"))
    );
    assert_eq!(me["credential"]["label"], "Cartman <mobile>");

    // The device is listed, and refreshing rotates the refresh token.
    let owner = app.owner().await;
    assert_eq!(oauth::devices(&app.db, Some(owner.id)).await.unwrap().len(), 1);
    let first_refresh = tokens.refresh_token().unwrap().clone();
    let refreshed = client.exchange_refresh_token(&first_refresh).request_async(&http).await.unwrap();
    let second_refresh = refreshed.refresh_token().unwrap().clone();
    assert_ne!(second_refresh.secret(), first_refresh.secret());
    assert_status(
        &app.client.get(app.url("/api/v1/me")).bearer_auth(refreshed.access_token().secret()).send().await.unwrap(),
        StatusCode::OK,
    );

    // Someone replays the old refresh token: refused, and the whole family is revoked.
    let replay = client.exchange_refresh_token(&first_refresh).request_async(&http).await;
    assert!(format!("{:?}", replay.unwrap_err()).contains("invalid_grant"));
    let after = client.exchange_refresh_token(&second_refresh).request_async(&http).await;
    assert!(
        format!("{:?}", after.unwrap_err()).contains("invalid_grant"),
        "the current refresh token died with its family"
    );
    let (status, code) = error_code(
        app.client.get(app.url("/api/v1/me")).bearer_auth(refreshed.access_token().secret()).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "token_revoked"));
    assert!(oauth::devices(&app.db, Some(owner.id)).await.unwrap().is_empty());
    let reuse: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'oauth.refresh_reused'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(reuse, 1);
    app.stop().await;
}

async fn devices_can_be_signed_out_and_tokens_revoked(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let owner = app.owner().await;
    let tokens = direct_tokens(&app, &registered, &owner).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_status(&app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap(), StatusCode::OK);
    let device = oauth::devices(&app.db, None).await.unwrap().remove(0);
    oauth::sign_out_device(&app.db, &app.services.credentials, &owner, None, device.id).await.unwrap();
    assert_eq!(
        error_code(app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap()).await.1,
        "token_revoked"
    );

    // RFC 7009 revocation of a refresh token signs its device out.
    let tokens = direct_tokens(&app, &registered, &owner).await;
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap()), ("client_id", &registered.client_id)])
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::OK);
    let (status, code) = error_code(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "token_revoked"));
    // Unknown tokens are fine to revoke; a missing one, or a missing or unknown app, is not.
    let revoke = |form: Vec<(&'static str, String)>| app.client.post(app.url("/oauth/revoke")).form(&form).send();
    assert_status(
        &revoke(vec![("token", "nonsense".into()), ("client_id", registered.client_id.clone())]).await.unwrap(),
        StatusCode::OK,
    );
    assert_status(&revoke(vec![("nothing", "x".into())]).await.unwrap(), StatusCode::BAD_REQUEST);
    assert_status(&revoke(vec![("token", "nonsense".into())]).await.unwrap(), StatusCode::BAD_REQUEST);
    assert_status(
        &revoke(vec![("token", "nonsense".into()), ("client_id", "app_unknown".into())]).await.unwrap(),
        StatusCode::UNAUTHORIZED,
    );
    // An expired access token says so.
    let tokens = direct_tokens(&app, &registered, &owner).await;
    sqlx::query("UPDATE oauth_tokens SET expires_at = $1 WHERE kind = 'access'")
        .bind(backend::clock::now() - 1)
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        error_code(
            app.client
                .get(app.url("/api/v1/me"))
                .bearer_auth(tokens["access_token"].as_str().unwrap())
                .send()
                .await
                .unwrap()
        )
        .await
        .1,
        "token_expired"
    );
    app.stop().await;
}

/// A code issued through the backend and exchanged over HTTP, for tests about tokens.
async fn direct_tokens(app: &TestApp, registered: &oauth::Client, owner: &backend::users::User) -> Value {
    tokens_with_scope(app, registered, owner, "read").await
}

async fn tokens_with_scope(
    app: &TestApp,
    registered: &oauth::Client,
    owner: &backend::users::User,
    scope: &str,
) -> Value {
    let verifier = "v".repeat(50);
    let params = oauth::AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(registered.client_id.clone()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some(scope.into()),
        state: Some("s".into()),
        code_challenge: Some(challenge_of(&verifier)),
        code_challenge_method: Some("S256".into()),
    };
    let request = oauth::check_authorization(&app.db, &params).await.unwrap().unwrap();
    let code = oauth::approve(&app.db, &app.hasher, &request, owner, None).await.unwrap();
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", &registered.client_id),
        ])
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    response.json().await.unwrap()
}

fn challenge_of(verifier: &str) -> String {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    use sha2::{Digest, Sha256};
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn bad_authorization_requests_are_refused_with_their_codes(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let browser = browser();
    app.sign_in_with(&browser, OWNER_EMAIL, OWNER_PASSWORD).await;
    let challenge = challenge_of(&"v".repeat(50));
    let authorize = |pairs: &[(&str, &str)]| {
        let query: String = pairs.iter().map(|(k, v)| format!("{k}={}&", form(v))).collect();
        browser.get(app.url(&format!("/oauth/authorize?{query}"))).send()
    };
    let good: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", &registered.client_id),
        ("redirect_uri", REDIRECT),
        ("state", "xyz"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let with = |name: &str, value: Option<&'static str>| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> =
            good.iter().filter(|(k, _)| *k != name).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if let Some(value) = value {
            pairs.push((name.to_owned(), value.to_owned()));
        }
        pairs
    };
    assert_status(&authorize(&good).await.unwrap(), StatusCode::OK);
    // Unknown app or unregistered redirect URI: our own error page, never a redirect.
    for (name, value) in [
        ("client_id", Some("app_unknown")),
        ("redirect_uri", Some("cartman://evil")),
        ("redirect_uri", Some("cartman://oauth/")),
        ("redirect_uri", None),
    ] {
        let pairs = with(name, value);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = authorize(&pairs).await.unwrap();
        assert_status(&response, StatusCode::BAD_REQUEST);
        assert!(location(&response).is_empty());
    }
    // Anything else goes back to the app with the RFC's error code.
    for (name, value, expected) in [
        ("code_challenge_method", Some("plain"), "invalid_request"),
        ("code_challenge_method", None, "invalid_request"),
        ("code_challenge", None, "invalid_request"),
        ("code_challenge", Some("short"), "invalid_request"),
        ("state", None, "invalid_request"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("scope", Some("admin"), "invalid_scope"),
    ] {
        let pairs = with(name, value);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let response = authorize(&pairs).await.unwrap();
        assert_status(&response, StatusCode::SEE_OTHER);
        let back = url_pairs(location(&response).strip_prefix(&format!("{REDIRECT}?")).unwrap());
        assert_eq!(get(&back, "error"), Some(expected), "{name}={value:?}");
        assert_eq!(get(&back, "state"), if name == "state" { None } else { Some("xyz") });
    }
    // Declining sends access_denied.
    let good_url = app.url(&format!(
        "/oauth/authorize?{}",
        good.iter().map(|(k, v)| format!("{k}={}", form(v))).collect::<Vec<_>>().join("&")
    ));
    let back = consent(&app, &browser, &good_url, "deny").await;
    assert_eq!(get(&back, "error"), Some("access_denied"));
    // A consent posted from another site is refused (CSRF).
    let mut fields: Vec<(String, String)> = good.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    fields.push(("decision".into(), "allow".into()));
    let forged = browser
        .post(app.url("/oauth/authorize"))
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_status(&forged, StatusCode::FORBIDDEN);
    app.stop().await;
}

fn form(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn bad_token_requests_are_refused_with_their_codes(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let owner = app.owner().await;
    let verifier = "v".repeat(50);
    let new_code = || async {
        let params = oauth::AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some(registered.client_id.clone()),
            redirect_uri: Some(REDIRECT.into()),
            scope: None,
            state: Some("s".into()),
            code_challenge: Some(challenge_of(&verifier)),
            code_challenge_method: Some("S256".into()),
        };
        let request = oauth::check_authorization(&app.db, &params).await.unwrap().unwrap();
        oauth::approve(&app.db, &app.hasher, &request, &owner, None).await.unwrap()
    };
    let token = |pairs: Vec<(&'static str, String)>| app.client.post(app.url("/oauth/token")).form(&pairs).send();
    let oauth_error = |response: reqwest::Response| async move {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body["error"].as_str().unwrap_or("").to_owned())
    };
    let client_id = registered.client_id.clone();
    let exchange = |code: String, redirect: &'static str, verifier: String, client: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", redirect.to_owned()),
            ("code_verifier", verifier),
            ("client_id", client),
        ]
    };
    let code = new_code().await;
    assert_eq!(
        oauth_error(token(exchange(code.clone(), REDIRECT, "w".repeat(50), client_id.clone())).await.unwrap()).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "wrong verifier"
    );
    assert_eq!(
        oauth_error(token(exchange(code, REDIRECT, verifier.clone(), client_id.clone())).await.unwrap()).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "a code burnt by a failed try stays burnt"
    );
    let code = new_code().await;
    assert_eq!(
        oauth_error(
            token(exchange(code, "https://app.example/cb", verifier.clone(), client_id.clone())).await.unwrap()
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "other redirect URI"
    );
    let code = new_code().await;
    assert_eq!(
        oauth_error(token(exchange(code, REDIRECT, verifier.clone(), "app_nobody".into())).await.unwrap()).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let code = new_code().await;
    sqlx::query("UPDATE oauth_codes SET expires_at = $1")
        .bind(backend::clock::now() - 1)
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_eq!(
        oauth_error(token(exchange(code, REDIRECT, verifier.clone(), client_id.clone())).await.unwrap()).await.1,
        "invalid_grant",
        "expired code"
    );
    let code = new_code().await;
    let mut missing = exchange(code, REDIRECT, verifier.clone(), client_id.clone());
    missing.retain(|(k, _)| *k != "code_verifier");
    assert_eq!(oauth_error(token(missing).await.unwrap()).await, (StatusCode::BAD_REQUEST, "invalid_request".into()));
    let password = vec![("grant_type", "password".to_owned()), ("client_id", client_id.clone())];
    assert_eq!(oauth_error(token(password).await.unwrap()).await.1, "unsupported_grant_type");
    let garbage = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", "brr_garbage".to_owned()),
        ("client_id", client_id.clone()),
    ];
    assert_eq!(oauth_error(token(garbage).await.unwrap()).await.1, "invalid_grant");
    let json = app
        .client
        .post(app.url("/oauth/token"))
        .json(&serde_json::json!({ "grant_type": "refresh_token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(json).await, (StatusCode::BAD_REQUEST, "invalid_request".into()));
    let twice = app
        .client
        .post(app.url("/oauth/token"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("grant_type=refresh_token&grant_type=authorization_code&client_id={client_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(oauth_error(twice).await.1, "invalid_request");
    // A code works once; presented again (perhaps stolen), it also takes back what it gave.
    let code = new_code().await;
    let first = token(exchange(code.clone(), REDIRECT, verifier.clone(), client_id.clone())).await.unwrap();
    assert_status(&first, StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert_status(&app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap(), StatusCode::OK);
    assert_eq!(
        oauth_error(token(exchange(code, REDIRECT, verifier.clone(), client_id.clone())).await.unwrap()).await.1,
        "invalid_grant"
    );
    assert_eq!(
        error_code(app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap()).await.1,
        "token_revoked"
    );
    // Codes cannot be used as API tokens.
    let code = new_code().await;
    assert_eq!(
        error_code(app.client.get(app.url("/api/v1/me")).bearer_auth(&code).send().await.unwrap()).await.1,
        "invalid_credentials"
    );
    app.stop().await;
}

async fn an_app_cannot_make_or_revoke_keys_or_revoke_another_apps_tokens(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let owner = app.owner().await;
    let (key_id, key) = app.key_for(&owner, Scope::Write, None).await;
    let tokens = tokens_with_scope(&app, &registered, &owner, "write").await;
    let access = tokens["access_token"].as_str().unwrap();

    // A key made with a one-hour token would outlive the token and its grant.
    let made = app
        .client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(access)
        .json(&serde_json::json!({ "label": "forever", "scope": "write" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(made).await, (StatusCode::FORBIDDEN, "keys_need_panel".to_owned()));
    let revoked =
        app.client.delete(app.url(&format!("/api/v1/keys/{key_id}"))).bearer_auth(access).send().await.unwrap();
    assert_eq!(error_code(revoked).await, (StatusCode::FORBIDDEN, "keys_need_panel".to_owned()));
    assert_eq!(app.count("SELECT COUNT(*) FROM api_credentials").await, 1, "no key was made");
    assert_status(&app.api(reqwest::Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    let refused: i64 = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'api.write' AND outcome = 'denied' AND credential LIKE 'oauth_token:%'")
        .await;
    assert_eq!(refused, 2, "both refusals are in the audit log");

    // Another registered app that learnt the token cannot sign the device out.
    let other = oauth::create_client(
        &app.db,
        &owner,
        None,
        oauth::NewClient { name: "Other".into(), redirect_uris: "other://cb".into(), scope: Scope::Read },
        false,
    )
    .await
    .unwrap();
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", tokens["refresh_token"].as_str().unwrap()), ("client_id", other.client_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    assert_status(&app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap(), StatusCode::OK);
    let audited =
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'oauth.revoke' AND outcome = 'denied'").await;
    assert_eq!(audited, 1);
    app.stop().await;
}

async fn disabling_a_person_ends_their_devices_keys_and_sessions_for_good(engine: Engine) {
    let app = spawn_app(engine).await;
    let registered = register_app(&app).await;
    let owner = app.owner().await;
    let admin = app.user("admin@shop.example", backend::users::Role::Admin).await;
    let (_, key) = app.key_for(&admin, Scope::Read, None).await;
    let tokens = direct_tokens(&app, &registered, &admin).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let admin_browser = browser();
    app.sign_in_with(&admin_browser, "admin@shop.example", OWNER_PASSWORD).await;
    assert_status(&admin_browser.get(app.url("/admin")).send().await.unwrap(), StatusCode::OK);

    let refresh_again = || {
        app.client
            .post(app.url("/oauth/token"))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", &registered.client_id)])
            .send()
    };
    let credentials = &app.services.credentials;
    for disabled in [true, false] {
        backend::access::set_user_disabled(&app.db, credentials, &owner, admin.id, disabled).await.unwrap();
        let me = app.api(reqwest::Method::GET, "/api/v1/me", &key).send().await.unwrap();
        assert_eq!(error_code(me).await.0, StatusCode::UNAUTHORIZED, "the key (disabled: {disabled})");
        let me = app.client.get(app.url("/api/v1/me")).bearer_auth(access).send().await.unwrap();
        assert_eq!(error_code(me).await.0, StatusCode::UNAUTHORIZED, "the token (disabled: {disabled})");
        let refreshed = refresh_again().await.unwrap();
        assert_status(&refreshed, StatusCode::BAD_REQUEST);
        let body: Value = refreshed.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "the refresh token (disabled: {disabled})");
        let page = admin_browser.get(app.url("/admin")).send().await.unwrap();
        assert_eq!(location(&page), "/admin/login", "the session (disabled: {disabled})");
    }
    assert!(oauth::devices(&app.db, Some(admin.id)).await.unwrap().is_empty());
    app.stop().await;
}

on_both_databases!(
    the_mobile_app_signs_in_refreshes_and_a_reused_refresh_token_kills_the_family,
    devices_can_be_signed_out_and_tokens_revoked,
    bad_authorization_requests_are_refused_with_their_codes,
    bad_token_requests_are_refused_with_their_codes,
    an_app_cannot_make_or_revoke_keys_or_revoke_another_apps_tokens,
    disabling_a_person_ends_their_devices_keys_and_sessions_for_good,
);
