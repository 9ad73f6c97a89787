//! Several `backroom serve` processes on one PostgreSQL, behind a load balancer of our
//! own that sends each request to the next instance in turn: one shop. Sessions, sign-out
//! everywhere, lockouts, nonces, settings, jobs, WhatsApp's hourly cap and live orders hold
//! across instances. (PostgreSQL only: several instances need a database server.)

mod common;
mod graph_mock;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use app::auth::{SignIn, SignOutEverywhere};
use backend::{
    access::{
        Scope,
        credentials::{self, CredentialType, NewCredential},
        oauth,
        secret::SecretHasher,
        security,
    },
    mail::{outbox, templates::Rendered},
    whatsapp::{
        WhatsApp,
        config::{Config, Field, Mapping, Purpose},
        link::Signer,
        settings as whatsapp_settings, templates,
    },
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use common::*;
use leptos::server_fn::ServerFn;
use reqwest::{StatusCode, header};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "cartman://oauth";

/// A load balancer: each request goes to the next instance, whole (no streaming).
async fn balancer(ports: Vec<u16>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let forward = move |req: axum::extract::Request| {
        let (next, client, ports) = (next.clone(), client.clone(), ports.clone());
        async move {
            let port = ports[next.fetch_add(1, Ordering::Relaxed) % ports.len()];
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut request = client.request(parts.method, format!("http://127.0.0.1:{port}{path}")).body(body);
            for (name, value) in parts.headers.iter().filter(|(name, _)| *name != header::HOST) {
                request = request.header(name, value);
            }
            let answer = request.send().await.unwrap();
            let mut response = axum::response::Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
                    response = response.header(name, value);
                }
            }
            response.body(axum::body::Body::from(answer.bytes().await.unwrap())).unwrap()
        }
    };
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(forward)).await.unwrap() });
    addr
}

async fn answers(port: u16) -> bool {
    reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_ok_and(|r| r.status().is_success())
}

async fn server_fn<F: ServerFn>(client: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> StatusCode {
    call_at::<F>(client, base, form).await.status()
}

/// Whether `client`'s session is signed in, asking the instance at `base`.
async fn signed_in(client: &reqwest::Client, base: &str) -> bool {
    let response = client.get(format!("{base}/admin")).send().await.unwrap();
    match response.status() {
        StatusCode::OK => true,
        status if status.is_redirection() => false,
        status => panic!("{base}/admin answered {status}"),
    }
}

async fn me(key: &str, base: &str, nonce: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(key)
        .header("x-backroom-timestamp", backend::clock::now().to_string());
    if let Some(nonce) = nonce {
        request = request.header("x-backroom-nonce", nonce);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_on_one_postgres_are_one_shop() {
    let _clean_up = CleanUp;
    let (url, data_dir) = fresh_database(Engine::Postgres).await;
    let ports = vec![free_port(), free_port(), free_port()];
    let mut instances = Vec::new();
    // All three start at once on the new database and data folder: one makes the
    // schema and the master key, and the others take them.
    for port in &ports {
        let settings = [
            ("BACKROOM_ADDR", format!("127.0.0.1:{port}")),
            ("BACKROOM_JOB_WORKERS", "2".into()),
            ("BACKROOM_WHATSAPP_CONCURRENCY", "2".into()),
            ("BACKROOM_WHATSAPP_SHORT_DELAYS", "true".into()),
        ];
        instances.push(Serving(serve_processes(&url, &data_dir, &settings)()));
    }
    for port in &ports {
        eventually("every instance answers", || answers(*port)).await;
    }
    let db = backend::db::Db::connect(&url).await.unwrap();
    let (master, owner) = master_key_and_owner(&db, &data_dir).await;
    let lb = format!("http://{}", balancer(ports.clone()).await);
    let direct: Vec<String> = ports.iter().map(|port| format!("http://127.0.0.1:{port}")).collect();

    // A session made through one instance is good on every one; sign-out everywhere, asked
    // of another, ends it on all of them.
    let laptop = browser();
    let phone = browser();
    for client in [&laptop, &phone] {
        let signed = server_fn::<SignIn>(client, &lb, &[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)]).await;
        assert!(signed.is_success() || signed.is_redirection(), "{signed}");
    }
    for base in &direct {
        assert!(signed_in(&laptop, base).await && signed_in(&phone, base).await, "{base}");
    }
    let ended = server_fn::<SignOutEverywhere>(&phone, &direct[2], &[]).await;
    assert!(ended.is_success() || ended.is_redirection(), "{ended}");
    for base in &direct {
        assert!(!signed_in(&laptop, base).await, "the laptop's session still works on {base}");
    }

    // Failures counted on every instance lock the address out on every one; a nonce used
    // on one is refused on the others.
    let hasher = SecretHasher::from_master(&master);
    let new = NewCredential {
        kind: CredentialType::ConnectionKey,
        label: "Office".into(),
        scope: Scope::Read,
        lifetime_days: None,
    };
    let key = credentials::create(&db, &hasher, &owner, None, new).await.unwrap().secret;
    assert_eq!(me(&key, &direct[0], Some("office-nonce-0001")).await.0, StatusCode::OK);
    for base in &direct[1..] {
        assert_eq!(me(&key, base, Some("office-nonce-0001")).await.1, "nonce_reused", "{base}");
    }
    let unknown = || backend::access::secret::generate(backend::access::secret::SecretKind::ConnectionKey);
    for i in 1..20 {
        assert_eq!(me(&unknown(), &lb, None).await.1, "invalid_credentials", "failure {i}");
    }
    // The key passed a moment ago on every instance, which remember it for a second: the
    // lock reaches them within milliseconds all the same (LISTEN/NOTIFY), not a second later.
    for base in &direct {
        assert_eq!(me(&key, base, None).await.0, StatusCode::OK, "{base}");
    }
    assert_eq!(me(&unknown(), &lb, None).await.1, "locked_out", "the 20th failure, wherever it lands");
    let locked = Instant::now();
    for base in &direct {
        while me(&key, base, None).await.1 != "locked_out" {
            assert!(
                locked.elapsed() < Duration::from_millis(300),
                "{base} takes the key {:?} after the lock",
                locked.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    sqlx::query("DELETE FROM sign_in_throttle").execute(db.writer()).await.unwrap();

    // An app's refresh token used on one instance and replayed on another kills its
    // family: the access token it had is refused on every instance at once.
    let app = oauth::NewClient { name: "Cartman".into(), redirect_uris: REDIRECT.into(), scope: Scope::Read };
    let registered = oauth::create_client(&db, &owner, None, app, false).await.unwrap();
    let verifier = "v".repeat(50);
    let params = oauth::AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(registered.client_id.clone()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some("read".into()),
        state: Some("s".into()),
        code_challenge: Some(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))),
        code_challenge_method: Some("S256".into()),
    };
    let request = oauth::check_authorization(&db, &params).await.unwrap().unwrap();
    let code = oauth::approve(&db, &hasher, &request, &owner, None).await.unwrap();
    let token = |base: &str, form: Vec<(&'static str, String)>| {
        reqwest::Client::new().post(format!("{base}/oauth/token")).form(&form).send()
    };
    let client_id = registered.client_id.clone();
    let first: serde_json::Value = token(
        &direct[0],
        vec![
            ("grant_type", "authorization_code".into()),
            ("code", code),
            ("redirect_uri", REDIRECT.into()),
            ("code_verifier", verifier),
            ("client_id", client_id.clone()),
        ],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh = |base: &str, refresh_token: &str| {
        let form = vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh_token.to_owned()),
            ("client_id", client_id.clone()),
        ];
        token(base, form)
    };
    let used = first["refresh_token"].as_str().unwrap().to_owned();
    let second: serde_json::Value = refresh(&direct[1], &used).await.unwrap().json().await.unwrap();
    let access = second["access_token"].as_str().unwrap().to_owned();
    for base in &direct {
        assert_eq!(me(&access, base, None).await.0, StatusCode::OK, "{base}");
    }
    let replayed = refresh(&direct[2], &used).await.unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replayed.json::<serde_json::Value>().await.unwrap()["error"], "invalid_grant");
    let killed = Instant::now();
    for base in &direct {
        while me(&access, base, None).await.1 != "token_revoked" {
            assert!(
                killed.elapsed() < Duration::from_millis(300),
                "{base} takes the token {:?} after",
                killed.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let fresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&direct[0], &fresh).await.unwrap().status(), StatusCode::BAD_REQUEST, "the whole family");

    // A settings change reaches every instance within 5 s: an allowlist without this
    // address shuts the API to it everywhere.
    let mut settings = security::get(&db).await.unwrap();
    settings.ip_allowlist = vec!["10.0.0.0/8".parse().unwrap()];
    security::update(&db, &owner, None, settings.clone()).await.unwrap();
    let changed = Instant::now();
    for base in &direct {
        eventually("the allowlist applies", || async { me(&key, base, None).await.1 == "ip_not_allowed" }).await;
    }
    assert!(changed.elapsed() < Duration::from_secs(6), "reached every instance after {:?}", changed.elapsed());
    // The same change lowers the rate limit per credential to 30 a minute: keys not used
    // yet see it lifted (the office's key has spent its minute meanwhile).
    settings.ip_allowlist.clear();
    settings.rate_per_credential = 30;
    security::update(&db, &owner, None, settings).await.unwrap();
    let mut fresh_keys = Vec::new();
    for label in ["Door", "Till"] {
        let new = NewCredential {
            kind: CredentialType::ConnectionKey,
            label: label.into(),
            scope: Scope::Read,
            lifetime_days: None,
        };
        fresh_keys.push(credentials::create(&db, &hasher, &owner, None, new).await.unwrap().secret);
    }
    let (door, till) = (&fresh_keys[0], &fresh_keys[1]);
    for base in &direct {
        eventually("the allowlist is lifted", || async { me(door, base, None).await.0 == StatusCode::OK }).await;
    }

    // A rate limit is the shop's, not each instance's: with 30 requests a minute for a key,
    // ninety asked through the load balancer in about three seconds get the 30, and at most
    // the few the other instances let through in the half second before they heard.
    let mut passed = 0;
    for _ in 0..90 {
        match me(till, &lb, None).await {
            (StatusCode::OK, _) => passed += 1,
            (status, code) => assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited")),
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!((30..=42).contains(&passed), "{passed} of 90 let through, with a limit of 30 a minute");

    // Jobs: sixty emails queued at once, taken by six workers in three processes, each
    // sent once.
    let content =
        Rendered { subject: "Your order".into(), text: "Thank you.".into(), html: "<p>Thank you.</p>".into() };
    let mut conn = db.writer().acquire().await.unwrap();
    for n in 0..60 {
        let to = format!("customer{n}@shop.example");
        let mail = outbox::NewMail {
            kind: "order.customer_note",
            to_address: &to,
            to_name: "",
            content: &content,
            reply_to: None,
            order_id: None,
            ticket_id: None,
        };
        outbox::queue(&mut conn, &mail).await.unwrap();
    }
    drop(conn);
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() }
    };
    eventually("every email is sent", || async {
        count("SELECT COUNT(*) FROM mail_outbox WHERE state = 'sent'").await == 60
    })
    .await;
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'mail.send' AND state = 'succeeded' AND attempts = 1").await,
        60
    );
    let written = std::fs::read_dir(data_dir.join("outbox"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml")));
    assert_eq!(written.count(), 60);

    // WhatsApp's hourly cap holds for the shop, not per instance: twelve carts due at
    // once, six workers in three processes, a cap of five.
    let graph = graph_mock::GraphMock::start();
    let sealer = master.sealer();
    let credentials = whatsapp_settings::Credentials {
        phone_number_id: graph_mock::PHONE_NUMBER_ID.into(),
        waba_id: graph_mock::WABA_ID.into(),
        access_token: Some(graph_mock::TOKEN.into()),
        app_secret: Some("meta-app-secret-5d41402abc4b2a76".into()),
        graph_version: "v23.0".into(),
        graph_base_url: graph.base_url(),
    };
    whatsapp_settings::update(&db, &sealer, &owner, None, credentials).await.unwrap();
    let timeouts = (Duration::from_secs(5), Duration::from_secs(5));
    let whatsapp = WhatsApp::new(db.clone(), sealer, Signer::from_master(&master), lb.clone(), timeouts, true);
    templates::refresh(&whatsapp).await.unwrap();
    let shop = "https://shop.example";
    let mut config = Config { shop_origins: vec![shop.into()], hourly_cap: 5, ..Config::default() };
    config.recovery.enabled = true;
    config.recovery.first_delay_minutes = 0;
    (config.recovery.second_enabled, config.recovery.third_enabled) = (false, false);
    (config.recovery.quiet_start, config.recovery.quiet_end) = ("00:00".into(), "00:00".into());
    config.mapping = vec![Mapping {
        purpose: Purpose::Recovery1,
        template: "cart_reminder_1".into(),
        language: "tr".into(),
        parameters: vec![Field::FirstName, Field::CartTotal],
    }];
    whatsapp_settings::update_config(&db, &owner, None, config, true).await.unwrap();
    for n in 0..12 {
        let cart = serde_json::json!({
            "phone": format!("+90555000{n:04}"), "name": "Ayşe Yılmaz", "consent": true,
            "lines": [{ "name": "Çay bardağı", "quantity": 1, "price_minor": 12_450 }], "total_minor": 12_450,
            "currency": "TRY", "restore_url": format!("{shop}/checkout/"),
        });
        let captured =
            reqwest::Client::new().post(format!("{lb}/api/v1/carts/capture")).header("origin", shop).json(&cart).send();
        assert_eq!(captured.await.unwrap().status(), StatusCode::OK);
    }
    eventually("the cap is reached", || async { graph.messages().await.len() >= 5 }).await;
    eventually("every cart's step has run, the held ones put off to the next hour", || async {
        let busy: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE kind LIKE 'whatsapp.%' AND (state = 'running' OR (state = 'queued' AND run_at <= $1))",
        )
        .bind(backend::clock::now())
        .fetch_one(db.pool())
        .await
        .unwrap();
        busy == 0 && count("SELECT COUNT(*) FROM whatsapp_messages").await == 12
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(graph.messages().await.len(), 5, "five sent in the hour, by three instances together");
    assert_eq!(count("SELECT COUNT(*) FROM whatsapp_messages WHERE attempted_at IS NOT NULL").await, 5);

    // An order written through one instance reaches a panel page open on another.
    let signed =
        server_fn::<SignIn>(&laptop, &direct[0], &[("email", OWNER_EMAIL), ("password", OWNER_PASSWORD)]).await;
    assert!(signed.is_success() || signed.is_redirection(), "{signed}");
    let mut stream = laptop.get(format!("{}/admin/live", direct[2])).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO orders (number, status, currency, total, items_count, created_at, updated_at) \
         VALUES ('7001', 'processing', 'TRY', 12500, 1, 1, 1) RETURNING id",
    )
    .fetch_one(db.writer())
    .await
    .unwrap();
    let wanted = format!("event: orders\ndata: {id}\n");
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(&wanted) {
        match tokio::time::timeout_at(deadline, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("no {wanted:?} in {seen:?}: {other:?}"),
        }
    }
    db.close().await;
}
