//! What an outside test of the panel, the API and OAuth probes: framing and foreign
//! scripts, NUL characters in every kind of input, and who may read Backroom's files.

mod common;

use backend::access::Scope;
use common::*;
use reqwest::{Method, StatusCode, header};

/// The nonce a page's policy allows scripts with.
fn policy_nonce(policy: &str) -> String {
    let start = policy.find("'nonce-").expect("the policy names a nonce") + "'nonce-".len();
    policy[start..].split('\'').next().unwrap().to_owned()
}

async fn panel_and_oauth_pages_cannot_be_framed_or_run_foreign_scripts(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let mut nonces = Vec::new();
    for path in ["/admin", "/admin/orders", "/admin/login", "/oauth/authorize?client_id=nobody", "/admin/no-such-page"]
    {
        let response = app.get(path).await;
        let headers = response.headers().clone();
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert!(policy.contains("default-src 'self'") && policy.contains("object-src 'none'"), "{path}: {policy}");
        let scripts = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert!(!scripts.contains("'unsafe-inline'") && !scripts.contains("'unsafe-eval'"), "{path}: {policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::REFERRER_POLICY], "same-origin", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store", "{path}");
        let nonce = policy_nonce(&policy);
        let html = response.text().await.unwrap();
        // Every inline script carries the page's nonce; scripts from files need none.
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap();
            if !tag.contains("src=") {
                assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{tag}> lacks the nonce {nonce}");
            }
        }
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 5, "a new nonce for every page");

    // The API's answers are never cached; the support form keeps its own policy, which
    // lets the shop's storefront frame it.
    let key = app.key(Scope::Read).await;
    let me = app.api(Method::GET, "/api/v1/me", &key).send().await.unwrap();
    assert_eq!(me.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(me.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let widget = app.get("/api/v1/whatsapp/widget").await;
    assert_eq!(widget.headers()[header::CACHE_CONTROL], "public, max-age=60", "public settings stay cacheable");
    let embed = app.get("/support/embed").await;
    assert!(embed.headers().get(header::X_FRAME_OPTIONS).is_none());
    let policy = embed.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.contains("frame-ancestors") && !policy.contains("frame-ancestors 'none'"), "{policy}");
    app.stop().await;
}

async fn nul_characters_are_refused_everywhere_with_a_clear_400(engine: Engine) {
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let key = app.key(Scope::Write).await;
    let nul_json = |field: &str| format!("{{\"{field}\": \"hi\\u0000there\"}}");
    let sent = [
        (
            "support form (API)",
            app.client
                .post(app.url("/api/v1/support/tickets"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(
                    r#"{"order_number": "1001", "email": "a@shop.example", "subject": "Hi", "message": "hi\u0000there"}"#,
                )
                .send()
                .await
                .unwrap(),
        ),
        (
            "support form (page)",
            app.client
                .post(app.url("/support"))
                .header("sec-fetch-site", "same-origin")
                .form(&[("order_number", "1001"), ("email", "a@shop.example"), ("subject", "Hi"), ("message", "hi\0")])
                .send()
                .await
                .unwrap(),
        ),
        ("sign-in email", app.sign_in_with(&browser(), "owner\0@shop.example", OWNER_PASSWORD).await),
        (
            "OAuth client_id",
            app.client
                .post(app.url("/oauth/token"))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "app\0")])
                .send()
                .await
                .unwrap(),
        ),
        ("API search", app.api(Method::GET, "/api/v1/orders?search=ay%00se", &key).send().await.unwrap()),
        ("panel search", app.get("/admin/orders?search=ay%00se").await),
        (
            "order note",
            app.api(Method::POST, "/api/v1/orders/1/notes", &key)
                .header(header::CONTENT_TYPE, "application/json")
                .body(nul_json("note"))
                .send()
                .await
                .unwrap(),
        ),
        (
            "ticket reply",
            app.api(Method::POST, "/api/v1/tickets/1/replies", &key)
                .header(header::CONTENT_TYPE, "application/json")
                .body(nul_json("body"))
                .send()
                .await
                .unwrap(),
        ),
        (
            "raw NUL byte",
            app.api(Method::POST, "/api/v1/tickets/1/notes", &key)
                .header(header::CONTENT_TYPE, "application/json")
                .body(b"{\"body\": \"a\0b\"}".to_vec())
                .send()
                .await
                .unwrap(),
        ),
    ];
    let refusals = sent.len() as i64;
    for (what, response) in sent {
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
        assert!(body.contains("NUL"), "{what} says why: {body}");
    }
    let audited =
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'request.refused' AND outcome = 'denied'").await;
    assert_eq!(audited, refusals, "each refusal is in the audit log");
    // Text that only looks like an escape is kept as it is.
    let response = app
        .api(Method::POST, "/api/v1/tickets/999999/notes", &key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"body": "a backslash, then u0000: \\u0000"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.1, "not_found", "read past the NUL check");
    app.stop().await;
}

#[cfg(unix)]
async fn the_database_and_the_master_key_are_for_the_owner_only(engine: Engine) {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(engine).await;
    app.signed_in_owner().await;
    let mode = |name: &str| std::fs::metadata(app.data_dir.join(name)).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode("master.key").unwrap(), 0o600);
    if matches!(engine, Engine::Sqlite) {
        assert_eq!(mode("backroom.db").unwrap(), 0o600);
        assert_eq!(mode("backroom.db-wal").unwrap(), 0o600, "SQLite's journal follows the database file");
    }
    app.stop().await;
}

/// Reads until the server closes the connection; false if it is still open after `wait`.
async fn closed_within(stream: &mut tokio::net::TcpStream, wait: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 1024];
    tokio::time::timeout(wait, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn slow_clients_are_cut_off_and_cannot_starve_the_others(engine: Engine) {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app(engine).await;
    // Three hundred connections from one address send half a request's headers and stop.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: shop.example\r\n").await.unwrap();
        slow.push(stream);
    }
    // Someone else is served at once.
    let elsewhere = reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let started = std::time::Instant::now();
    assert_status(&elsewhere.get(app.url("/healthz")).send().await.unwrap(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    // Past 256 from one address, connections are closed as soon as they are taken.
    let mut closed_at_once = 0;
    for stream in &mut slow {
        if closed_within(stream, std::time::Duration::from_millis(20)).await {
            closed_at_once += 1;
        }
    }
    assert_eq!(closed_at_once, 300 - 256, "connections over the limit for one address");
    // The rest are closed once their headers are 10 s late.
    for stream in &mut slow {
        assert!(closed_within(stream, std::time::Duration::from_secs(15)).await, "a slow connection stayed open");
    }
    assert_status(&app.get("/healthz").await, StatusCode::OK);
    app.stop().await;
}

on_both_databases!(
    panel_and_oauth_pages_cannot_be_framed_or_run_foreign_scripts,
    nul_characters_are_refused_everywhere_with_a_clear_400,
    the_database_and_the_master_key_are_for_the_owner_only,
    slow_clients_are_cut_off_and_cannot_starve_the_others,
);
