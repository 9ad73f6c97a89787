//! The REST API's skeleton and guards over HTTP, on SQLite and PostgreSQL: the error
//! shape, the OpenAPI document, every guard in its order with its error code, connection
//! keys, application passwords, and the audit log of API writes.

mod common;

use backend::{
    access::{Scope, authenticate::CACHE_TTL},
    clock::now,
    users::Role,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use common::*;
use reqwest::{Method, StatusCode, header};
use serde_json::Value;

async fn discover_is_public_and_names_the_ways_in(engine: Engine) {
    let app = spawn_app(engine).await;
    app.owner().await;
    let response = app.get("/api/v1/discover").await;
    assert_status(&response, StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["store_name"], "Test Shop");
    assert_eq!(body["api_version"], "v1");
    assert_eq!(body["auth_methods"], serde_json::json!(["connection_key", "app_password", "oauth2"]));
    assert!(body["oauth"]["token_endpoint"].as_str().unwrap().ends_with("/oauth/token"));
    assert_eq!(body["oauth"]["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(body["oauth"]["issuer"], app.url(""), "the iss of every authorization response");
    assert_eq!(body["oauth"]["authorization_response_iss_parameter_supported"], true);
    app.stop().await;
}

async fn the_openapi_document_describes_every_route_with_its_guards(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app.get("/api/v1/openapi.json").await;
    assert_status(&response, StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for expected in [
        "/api/v1/discover",
        "/api/v1/openapi.json",
        "/api/v1/me",
        "/api/v1/system/status",
        "/api/v1/audit",
        "/api/v1/keys",
        "/api/v1/keys/{id}",
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/orders/{id}/refunds",
        "/api/v1/transactions",
    ] {
        assert!(paths.contains_key(expected), "{expected} is missing from the document");
    }
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["400", "403", "413", "429"] {
                assert!(responses.contains_key(status), "{method} {path} does not document {status}");
            }
            let secured =
                operation["security"].as_array().unwrap().iter().any(|s| s.as_object().is_some_and(|o| !o.is_empty()));
            assert_eq!(secured, responses.contains_key("401"), "{method} {path}: security and 401 go together");
            // Every documented operation is served: without credentials it is refused by
            // a guard or answered, never "no such endpoint".
            let url = app.url(&path.replace("{id}", "1"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, code) = error_code(app.client.request(method.clone(), url).send().await.unwrap()).await;
            assert_ne!(code, "no_such_endpoint", "{method} {path} is documented but not routed");
            if secured {
                assert_eq!(
                    (status, code.as_str()),
                    (StatusCode::UNAUTHORIZED, "missing_credentials"),
                    "{method} {path}"
                );
            }
        }
    }
    // And what is not documented is not routed.
    let (status, code) = error_code(app.get("/api/v1/orders-that-do-not-exist").await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "no_such_endpoint"));
    let (status, code) = error_code(app.client.put(app.url("/api/v1/discover")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    app.stop().await;
}

async fn a_connection_key_says_who_it_is_and_tests_the_connection(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    let me: Value = app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["user"]["email"], OWNER_EMAIL);
    assert_eq!(me["user"]["role"], "owner");
    assert_eq!(me["credential"]["kind"], "connection_key");
    assert_eq!(me["credential"]["scope"], "read");
    assert_eq!(me["credential"]["label"], "Test phone");
    assert!(me["credential"]["expires_at"].is_null());

    let response = app.api(Method::GET, "/api/v1/system/status", &key).send().await.unwrap();
    assert_status(&response, StatusCode::OK);
    let status: Value = response.json().await.unwrap();
    assert_eq!(status["store_name"], "Test Shop");
    assert_eq!(
        status["database"]["kind"],
        match engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    );
    assert_eq!(status["database"]["healthy"], true);
    assert_eq!(status["jobs"]["health"], "ok");
    assert!(status["time_skew_secs"].as_i64().unwrap().abs() <= 2);
    assert!(status["panel_urls"]["orders"].as_str().unwrap().ends_with("/admin/orders"));
    app.stop().await;
}

async fn malformed_credentials_get_clear_401s(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    let me = app.url("/api/v1/me");
    let stamp = now().to_string();
    let send = |auth: Option<String>| {
        let mut request = app.client.get(&me).header("x-backroom-timestamp", &stamp);
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        request.send()
    };
    let missing = send(None).await.unwrap();
    let challenges: Vec<_> =
        missing.headers().get_all(header::WWW_AUTHENTICATE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(
        challenges,
        ["Bearer realm=\"backroom\"", "Basic realm=\"backroom\", charset=\"UTF-8\""],
        "both schemes the API takes"
    );
    let (status, code) = error_code(missing).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "missing_credentials"));
    let mut flipped = key.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'a' { b'b' } else { b'a' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        format!("Token {key}"),
        format!("Bearer {}", &key[..key.len() - 1]),
        format!("Bearer {key}x"),
        format!("Bearer {}", key.to_uppercase()),
        format!("Bearer {flipped}"),
        "Basic !!!not-base64".to_owned(),
        format!("Basic {}", STANDARD.encode("no-colon")),
        format!("Basic {}", STANDARD.encode(format!("{OWNER_EMAIL}:{OWNER_PASSWORD}"))),
        "Bearer é€".to_owned(),
    ] {
        let (status, code) = error_code(send(Some(bad.clone())).await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"), "{bad}");
    }
    // A mistyped key (bad checksum) is refused without reading the database: nothing is
    // counted against the address.
    let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_throttle WHERE subject LIKE 'api-ip:%'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(counted, 0);
    // Two Authorization headers are refused, even when both are right.
    let response = app
        .client
        .get(&me)
        .header("x-backroom-timestamp", &stamp)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    app.stop().await;
}

async fn connection_keys_need_a_fresh_timestamp_and_an_unused_nonce(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    let me = app.url("/api/v1/me");
    let with_stamp = |stamp: String| app.client.get(&me).bearer_auth(&key).header("x-backroom-timestamp", stamp);
    let (status, code) = error_code(app.client.get(&me).bearer_auth(&key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "timestamp_invalid"));
    for bad in ["abc", "1.5", "-1", "", "99999999999999999999"] {
        let (status, code) = error_code(with_stamp(bad.into()).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "timestamp_invalid"), "{bad}");
    }
    // A little beyond the 300 s window: the server reads its clock a moment after the test
    // does, and a second may tick in between (under load, it did).
    for far in [now() - 305, now() + 305, now() + 86_400 * 365] {
        let (status, code) = error_code(with_stamp(far.to_string()).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "timestamp_expired"), "{far}");
    }
    assert_status(&with_stamp((now() - 250).to_string()).send().await.unwrap(), StatusCode::OK);

    let nonce = "n0nce-0123456789";
    assert_status(
        &with_stamp(now().to_string()).header("x-backroom-nonce", nonce).send().await.unwrap(),
        StatusCode::OK,
    );
    let (status, code) =
        error_code(with_stamp(now().to_string()).header("x-backroom-nonce", nonce).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "nonce_reused"));
    let (status, code) =
        error_code(with_stamp(now().to_string()).header("x-backroom-nonce", "bad nonce!").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "nonce_invalid"));
    // Another key may use the same nonce.
    let other = app.key(Scope::Read).await;
    let response = app
        .client
        .get(&me)
        .bearer_auth(&other)
        .header("x-backroom-timestamp", now().to_string())
        .header("x-backroom-nonce", nonce)
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::OK);
    // The timestamp window comes from the settings.
    app.set_security(|s| s.timestamp_window_secs = 60).await;
    let (status, code) = error_code(with_stamp((now() - 120).to_string()).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "timestamp_expired"));

    // A request stamped ahead of the clock stays acceptable until its stamp leaves the
    // window, up to two windows from now: its nonce is kept that long, through every
    // clean-up, so a replay is refused for as long as it would otherwise pass.
    let ahead = now() + 55;
    let nonce = "stamped-ahead-01";
    let send = || with_stamp(ahead.to_string()).header("x-backroom-nonce", nonce).send();
    assert_status(&send().await.unwrap(), StatusCode::OK);
    let kept_until: i64 = sqlx::query_scalar("SELECT expires_at FROM api_nonces WHERE nonce = $1")
        .bind(nonce)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(kept_until >= ahead + 60, "kept until {kept_until}, acceptable until {}", ahead + 60);
    backend::access::authenticate::delete_expired_nonces(&app.db).await.unwrap();
    assert_eq!(error_code(send().await.unwrap()).await.1, "nonce_reused");

    // A burst of replays (more than the 20 failures that lock an address out) is refused
    // and audited, one by one, but does not lock the address: its right keys go on working.
    for i in 0..30 {
        let (status, code) = error_code(send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "nonce_reused"), "replay {i}");
    }
    assert_status(&with_stamp(now().to_string()).send().await.unwrap(), StatusCode::OK);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'api.authenticate' AND details = 'nonce_reused'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(audited >= 30, "{audited}");
    app.stop().await;
}

async fn revoked_expired_and_regenerated_keys(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let (id, key) = app.key_for(&owner, Scope::Write, Some(30)).await;
    let me: Value = app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap().json().await.unwrap();
    assert!((me["credential"]["expires_at"].as_i64().unwrap() - (now() + 30 * 86_400)).abs() < 5);

    sqlx::query("UPDATE api_credentials SET expires_at = $1 WHERE id = $2")
        .bind(now() - 1)
        .bind(id)
        .execute(app.db.writer())
        .await
        .unwrap();
    // A change made behind the server's back (here: straight in the database) is seen
    // once the remembered credential is a second old.
    tokio::time::sleep(CACHE_TTL).await;
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "key_expired"));

    let renewed =
        backend::access::credentials::regenerate(&app.db, &app.hasher, &app.services.credentials, &owner, None, id)
            .await
            .unwrap();
    assert_eq!((renewed.info.label.as_str(), renewed.info.scope), ("Test phone", Scope::Write));
    assert_ne!(renewed.secret, key);
    assert_status(&app.api(Method::GET, "/api/v1/me", &renewed.secret).send().await.unwrap(), StatusCode::OK);
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "key_revoked"));

    // Revoked through the API itself.
    let response =
        app.api(Method::DELETE, &format!("/api/v1/keys/{}", renewed.info.id), &renewed.secret).send().await.unwrap();
    assert_status(&response, StatusCode::NO_CONTENT);
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &renewed.secret).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "key_revoked"));

    // Disabling a user revokes their keys.
    let admin = app.user("admin@shop.example", Role::Admin).await;
    let (_, admins_key) = app.key_for(&admin, Scope::Read, None).await;
    assert_status(&app.api(Method::GET, "/api/v1/me", &admins_key).send().await.unwrap(), StatusCode::OK);
    backend::access::set_user_disabled(&app.db, &app.services.credentials, &owner, admin.id, true).await.unwrap();
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &admins_key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "key_revoked"));
    app.stop().await;
}

async fn scope_and_role_are_enforced(engine: Engine) {
    let app = spawn_app(engine).await;
    let read = app.key(Scope::Read).await;
    let write = app.key(Scope::Write).await;
    let body = serde_json::json!({ "label": "Integration", "scope": "read" });
    let (status, code) =
        error_code(app.api(Method::POST, "/api/v1/keys", &read).json(&body).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "insufficient_scope"));
    // A control character is refused even at the label's end, where trimming would hide it.
    let trailing = serde_json::json!({ "label": "\u{fa35}\u{c}", "scope": "read" });
    let refused = app.api(Method::POST, "/api/v1/keys", &write).json(&trailing).send().await.unwrap();
    assert_status(&refused, StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.api(Method::POST, "/api/v1/keys", &write).json(&body).send().await.unwrap();
    assert_status(&response, StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("brk_") && secret.len() == 62, "{secret}");
    assert_eq!(created["key"]["last_four"].as_str().unwrap(), &secret[58..]);
    let listed: Value = app.api(Method::GET, "/api/v1/keys", &read).send().await.unwrap().json().await.unwrap();
    assert!(
        listed["items"].as_array().unwrap().iter().all(|k| k.get("secret").is_none() && k.get("secret_hash").is_none())
    );
    assert_eq!(listed["items"].as_array().unwrap().len(), 3);

    // A support agent's write key still cannot manage keys: the role decides.
    let agent = app.user("agent@shop.example", Role::Agent).await;
    let agent_key = {
        let new = backend::access::credentials::NewCredential {
            kind: backend::access::credentials::CredentialType::AppPassword,
            label: "Agent's phone".into(),
            scope: Scope::Write,
            lifetime_days: None,
        };
        backend::access::credentials::create(&app.db, &app.hasher, &agent, None, new).await.unwrap().secret
    };
    let basic = format!("Basic {}", STANDARD.encode(format!("agent@shop.example:{agent_key}")));
    let response = app.client.get(app.url("/api/v1/keys")).header(header::AUTHORIZATION, &basic).send().await.unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    // Nor read the audit log, which names every person, key and address.
    let response = app.client.get(app.url("/api/v1/audit")).header(header::AUTHORIZATION, &basic).send().await.unwrap();
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));
    app.stop().await;
}

async fn application_passwords_act_as_their_user(engine: Engine) {
    let app = spawn_app(engine).await;
    app.owner().await;
    let manager = app.user("manager@shop.example", Role::Manager).await;
    let new = backend::access::credentials::NewCredential {
        kind: backend::access::credentials::CredentialType::AppPassword,
        label: "Zapier".into(),
        scope: Scope::Write,
        lifetime_days: None,
    };
    let issued = backend::access::credentials::create(&app.db, &app.hasher, &manager, None, new).await.unwrap();
    assert!(issued.secret.starts_with("brp_"));
    let basic = |email: &str, password: &str| format!("Basic {}", STANDARD.encode(format!("{email}:{password}")));
    let me = app.url("/api/v1/me");
    // No timestamp needed for Basic; the email is matched case-insensitively.
    let response = app
        .client
        .get(&me)
        .header(header::AUTHORIZATION, basic("Manager@Shop.example", &issued.secret))
        .send()
        .await
        .unwrap();
    assert_status(&response, StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["user"]["role"].as_str(), body["credential"]["kind"].as_str()),
        (Some("manager"), Some("app_password"))
    );
    // Someone else's email with this password is nobody.
    let (status, code) = error_code(
        app.client.get(&me).header(header::AUTHORIZATION, basic(OWNER_EMAIL, &issued.secret)).send().await.unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    // An application password is not a bearer token.
    let (status, code) = error_code(app.client.get(&me).bearer_auth(&issued.secret).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    backend::access::credentials::revoke(
        &app.db,
        &app.services.credentials,
        &manager,
        None,
        backend::access::credentials::CredentialType::AppPassword,
        issued.info.id,
    )
    .await
    .unwrap();
    let (status, code) = error_code(
        app.client
            .get(&me)
            .header(header::AUTHORIZATION, basic("manager@shop.example", &issued.secret))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "key_revoked"));
    app.stop().await;
}

async fn rate_limits_answer_429_with_retry_after(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    app.set_security(|s| s.rate_per_credential = 5).await;
    for _ in 0..5 {
        assert_status(&app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    }
    let response = app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    let retry_after: i64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    // Five a minute, spent at once: the next fits once this minute is over.
    assert!((55..=66).contains(&retry_after), "{retry_after}");
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    // Another credential from the same address has its own allowance...
    let other = app.key(Scope::Read).await;
    assert_status(&app.api(Method::GET, "/api/v1/me", &other).send().await.unwrap(), StatusCode::OK);
    // ...up to the per-address limit.
    app.set_security(|s| {
        s.rate_per_credential = 1000;
        s.rate_per_ip = 8;
    })
    .await;
    let third = app.key(Scope::Read).await;
    let mut limited = false;
    for _ in 0..10 {
        let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &third).send().await.unwrap()).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(code, "rate_limited");
            limited = true;
            break;
        }
    }
    assert!(limited, "the per-address limit applies");
    app.stop().await;
}

async fn repeated_failures_lock_the_address_out_until_it_passes(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    // Well-formed keys that do not exist: each costs a lookup and counts.
    let unknown = || backend::access::secret::generate(backend::access::secret::SecretKind::ConnectionKey);
    for _ in 0..4 {
        let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &unknown()).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    }
    // A success clears the count.
    assert_status(&app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_throttle WHERE subject = 'api-ip:127.0.0.1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(rows, 0);
    for i in 1..20 {
        let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &unknown()).send().await.unwrap()).await;
        assert_eq!(code, "invalid_credentials", "failure {i} answered {status}");
    }
    // The 20th failure (the setting) locks the address out, and says so.
    let (status, code) = error_code(app.api(Method::GET, "/api/v1/me", &unknown()).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked_out"), "the 20th failure");
    // Now even the right key is refused from this address, at once (its success a moment
    // ago is not remembered past the lock), with a time to wait.
    let response = app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    let retry_after: i64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((500..=600).contains(&retry_after), "{retry_after}");
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked_out"));
    // The count is in the database, so every instance sees the lock; when it ends, the
    // right key works again.
    sqlx::query("UPDATE sign_in_throttle SET locked_until = $1 WHERE subject = 'api-ip:127.0.0.1'")
        .bind(now() - 1)
        .execute(app.db.writer())
        .await
        .unwrap();
    assert_status(&app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap(), StatusCode::OK);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'api.authenticate' AND outcome = 'failure'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(audited >= 20, "{audited}");
    app.stop().await;
}

async fn https_and_the_ip_allowlist_come_first(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Read).await;
    // Loopback is allowed plain HTTP; through a trusted proxy, a remote client is not.
    app.set_security(|s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
    let through_proxy = |proto: &str, client: &str| {
        app.api(Method::GET, "/api/v1/me", &key).header("x-forwarded-for", client).header("x-forwarded-proto", proto)
    };
    let (status, code) = error_code(through_proxy("http", "203.0.113.5").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "https_required"));
    // The HTTPS check comes before credentials: no key at all still gets https_required.
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .header("x-forwarded-for", "203.0.113.5")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.1, "https_required");
    assert_status(&through_proxy("https", "203.0.113.5").send().await.unwrap(), StatusCode::OK);
    // X-Forwarded-Proto from an untrusted peer is not believed.
    app.set_security(|s| s.trusted_proxies.clear()).await;
    assert_status(&through_proxy("http", "203.0.113.5").send().await.unwrap(), StatusCode::OK);

    app.set_security(|s| {
        s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.ip_allowlist = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let (status, code) = error_code(through_proxy("https", "203.0.113.5").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "ip_not_allowed"));
    assert_status(&through_proxy("https", "10.20.30.40").send().await.unwrap(), StatusCode::OK);
    // The allowlist applies to the public endpoints too.
    let response = app
        .client
        .get(app.url("/api/v1/discover"))
        .header("x-forwarded-for", "203.0.113.5")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.1, "ip_not_allowed");
    // Switched off, plain HTTP is fine from anywhere.
    app.set_security(|s| {
        s.ip_allowlist.clear();
        s.https_required = false;
    })
    .await;
    assert_status(&through_proxy("http", "203.0.113.5").send().await.unwrap(), StatusCode::OK);
    app.stop().await;
}

async fn last_used_is_written_at_most_once_a_minute(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner = app.owner().await;
    let (id, key) = app.key_for(&owner, Scope::Read, None).await;
    let last_used = || async {
        let row: (Option<i64>, Option<String>) =
            sqlx::query_as("SELECT last_used_at, last_used_ip FROM api_credentials WHERE id = $1")
                .bind(id)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        row
    };
    assert_eq!(last_used().await, (None, None));
    app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    let (at, ip) = last_used().await;
    assert!(at.unwrap() >= now() - 2);
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    let thirty_seconds_ago = now() - 30;
    sqlx::query("UPDATE api_credentials SET last_used_at = $1 WHERE id = $2")
        .bind(thirty_seconds_ago)
        .bind(id)
        .execute(app.db.writer())
        .await
        .unwrap();
    for _ in 0..3 {
        app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    }
    assert_eq!(last_used().await.0, Some(thirty_seconds_ago), "not written again within the minute");
    sqlx::query("UPDATE api_credentials SET last_used_at = $1 WHERE id = $2")
        .bind(now() - 61)
        .bind(id)
        .execute(app.db.writer())
        .await
        .unwrap();
    tokio::time::sleep(CACHE_TTL).await;
    app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    assert!(last_used().await.0.unwrap() >= now() - 2);
    app.stop().await;
}

async fn bad_bodies_and_queries_get_the_error_shape(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Write).await;
    let big = serde_json::json!({ "label": "x".repeat(100 * 1024) });
    let response = app.api(Method::POST, "/api/v1/keys", &key).json(&big).send().await.unwrap();
    assert_eq!(
        response.headers()[header::CONNECTION],
        "close",
        "the unread body ends the connection; the client must not reuse it"
    );
    let (status, code) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    let (status, code) = error_code(
        app.api(Method::POST, "/api/v1/keys", &key)
            .header(header::CONTENT_TYPE, "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "invalid_json"));
    let (status, code) =
        error_code(app.api(Method::POST, "/api/v1/keys", &key).body("label=x").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    for body in [
        serde_json::json!({ "label": "" }),
        serde_json::json!({ "label": "x", "scope": "admin" }),
        serde_json::json!({ "label": "x", "expires_days": -3 }),
        serde_json::json!({ "label": 5 }),
        serde_json::json!({ "label": "x", "extra": 1 }),
    ] {
        let (status, code) =
            error_code(app.api(Method::POST, "/api/v1/keys", &key).json(&body).send().await.unwrap()).await;
        assert_eq!((status, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"), "{body}");
    }
    let (status, code) =
        error_code(app.api(Method::DELETE, "/api/v1/keys/not-a-number", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    let (status, code) = error_code(app.api(Method::DELETE, "/api/v1/keys/999999", &key).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    for query in ["per_page=100000", "per_page=0", "per_page=abc", "outcome=maybe", "cursor=tampered", "from=yesterday"]
    {
        let (status, code) =
            error_code(app.api(Method::GET, &format!("/api/v1/audit?{query}"), &key).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {code}");
        assert!(["invalid_query", "invalid_cursor"].contains(&code.as_str()), "{query}: {code}");
    }
    app.stop().await;
}

async fn the_audit_log_records_api_writes_and_pages_with_a_cursor(engine: Engine) {
    let app = spawn_app(engine).await;
    let key = app.key(Scope::Write).await;
    for label in ["One", "Two", "Three"] {
        let response = app
            .api(Method::POST, "/api/v1/keys", &key)
            .header(header::USER_AGENT, "Cartman/2.1")
            .json(&serde_json::json!({ "label": label }))
            .send()
            .await
            .unwrap();
        assert_status(&response, StatusCode::CREATED);
    }
    let page: Value = app
        .api(Method::GET, "/api/v1/audit?action=api.write&per_page=2", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["target"], "POST /api/v1/keys");
    assert_eq!(items[0]["outcome"], "success");
    assert_eq!(items[0]["actor"], OWNER_EMAIL);
    assert_eq!(items[0]["user_agent"], "Cartman/2.1");
    assert!(items[0]["credential"].as_str().unwrap().starts_with("connection_key:"));
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .api(Method::GET, &format!("/api/v1/audit?action=api.write&per_page=2&cursor={cursor}"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"].as_array().unwrap().len(), 1);
    assert!(next["next_cursor"].is_null());
    let created: Value =
        app.api(Method::GET, "/api/v1/audit?action=key.create", &key).send().await.unwrap().json().await.unwrap();
    assert_eq!(created["items"].as_array().unwrap().len(), 4, "the test's own key and three made over the API");
    // Append-only: the database refuses to change or delete recent entries.
    assert!(sqlx::query("UPDATE audit_log SET actor = 'someone else'").execute(app.db.writer()).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_log").execute(app.db.writer()).await.is_err());
    app.stop().await;
}

/// The counts rate limits share between instances add up per client and bucket, are read
/// back for the clients asked about, and old buckets are forgotten.
async fn shared_rate_counts_add_up_per_client_and_bucket(engine: Engine) {
    use backend::rate_counts;
    let app = spawn_app(engine).await;
    let (ip, key) = ("ip:203.0.113.9".to_owned(), "connection_key:3".to_owned());
    let counts = |n| vec![(ip.clone(), 100, n), (key.clone(), 101, 2)];
    rate_counts::add(&app.db, &counts(3)).await.unwrap();
    rate_counts::add(&app.db, &counts(4)).await.unwrap();
    let read = || async {
        let mut read = rate_counts::read(&app.db, 100, &[ip.clone(), key.clone()]).await.unwrap();
        read.sort();
        read
    };
    assert_eq!(read().await, vec![(key.clone(), 101, 4), (ip.clone(), 100, 7)]);
    rate_counts::remove_before(&app.db, 101).await.unwrap();
    assert_eq!(read().await, vec![(key.clone(), 101, 4)]);
    app.stop().await;
}

on_both_databases!(
    shared_rate_counts_add_up_per_client_and_bucket,
    discover_is_public_and_names_the_ways_in,
    the_openapi_document_describes_every_route_with_its_guards,
    a_connection_key_says_who_it_is_and_tests_the_connection,
    malformed_credentials_get_clear_401s,
    connection_keys_need_a_fresh_timestamp_and_an_unused_nonce,
    revoked_expired_and_regenerated_keys,
    scope_and_role_are_enforced,
    application_passwords_act_as_their_user,
    rate_limits_answer_429_with_retry_after,
    repeated_failures_lock_the_address_out_until_it_passes,
    https_and_the_ip_allowlist_come_first,
    last_used_is_written_at_most_once_a_minute,
    bad_bodies_and_queries_get_the_error_shape,
    the_audit_log_records_api_writes_and_pages_with_a_cursor,
);
