//! The test harness: one Backroom per test on port 0 with its own database — a fresh
//! SQLite file, or a fresh database on the local PostgreSQL server.

#![allow(dead_code)]

use std::{collections::HashMap, net::SocketAddr, path::PathBuf};

use backend::{
    access::{
        Scope,
        credentials::{self, CredentialType, NewCredential},
        secret::SecretHasher,
        security::{self, SecurityCache, SecuritySettings},
    },
    config::Config,
    db::Db,
    master_key::MasterKey,
    users::{self, User},
};
use leptos::server_fn::ServerFn;
use reqwest::{StatusCode, header};

pub const OWNER_EMAIL: &str = "owner@shop.example";
pub const OWNER_PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each named test once on SQLite and once on PostgreSQL; when the test ends, passed
/// or failed, the databases and folders it made are removed ([`CleanUp`]).
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let _clean_up = $crate::common::CleanUp;
                super::$name($crate::common::Engine::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let _clean_up = $crate::common::CleanUp;
                super::$name($crate::common::Engine::Postgres).await
            })*
        }
    };
}

/// What the tests of this process made ([`fresh_database`]).
#[derive(Default)]
struct Made {
    /// PostgreSQL databases: the admin URL and the name.
    databases: Vec<(String, String)>,
    folders: Vec<PathBuf>,
}

static MADE: std::sync::Mutex<Made> = std::sync::Mutex::new(Made { databases: Vec::new(), folders: Vec::new() });

/// Removes, when dropped, every database and folder this process made for its tests. The
/// test command (cargo-nextest) runs each test in a process of its own, so that is the
/// test's.
pub struct CleanUp;

impl Drop for CleanUp {
    fn drop(&mut self) {
        let Made { databases, folders } = std::mem::take(&mut *MADE.lock().unwrap_or_else(|e| e.into_inner()));
        for folder in folders {
            let _ = std::fs::remove_dir_all(folder);
        }
        if databases.is_empty() {
            return;
        }
        // Dropped inside the test's runtime, which cannot be blocked on: a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async {
                for (admin, name) in databases {
                    if let Ok(db) = Db::connect(&admin).await {
                        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop)).execute(db.writer()).await;
                        db.close().await;
                    }
                }
            })
        })
        .join();
    }
}

/// A database URL of its own for one test.
pub async fn fresh_database(engine: Engine) -> (String, PathBuf) {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("backroom-test-{id}"));
    std::fs::create_dir_all(&dir).unwrap();
    MADE.lock().unwrap_or_else(|e| e.into_inner()).folders.push(dir.clone());
    let url = match engine {
        Engine::Sqlite => format!("sqlite://{}", dir.join("backroom.db").display()),
        Engine::Postgres => {
            let admin = std::env::var("BACKROOM_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let name = format!("backroom_test_{id}");
            let db = Db::connect(&admin).await.expect("the test PostgreSQL server answers");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(db.writer()).await.unwrap();
            db.close().await;
            MADE.lock().unwrap_or_else(|e| e.into_inner()).databases.push((admin.clone(), name.clone()));
            let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin).to_owned();
            format!("{base}/{name}")
        }
    };
    (url, dir)
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub database_url: String,
    pub db: Db,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub security: std::sync::Arc<SecurityCache>,
    pub hasher: SecretHasher,
    /// Seals secrets as the app does (the same master key).
    pub sealer: backend::sealed::Sealer,
    /// Signs recovery links as the app does.
    pub links: backend::whatsapp::link::Signer,
    /// The app's own services (its caches, its order event subscribers).
    pub services: backend::services::Services,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

#[derive(Default)]
pub struct Options {
    pub job_workers: usize,
    pub public_url: Option<&'static str>,
    /// Unset: email is written to the data folder's outbox.
    pub smtp_url: Option<String>,
    /// Workers sending to the accounting ledger (none by default).
    pub accounting_concurrency: usize,
    /// Seconds before a ledger request times out (unset: the default).
    pub accounting_timeout_secs: Option<u64>,
    /// Workers sending WhatsApp messages (none by default; with none, webhook deliveries
    /// are stored but not applied).
    pub whatsapp_concurrency: usize,
    /// Seconds before a Graph API request times out (unset: the default).
    pub whatsapp_timeout_secs: Option<u64>,
    /// Seconds before a request to the store times out (unset: the default).
    pub woo_timeout_secs: Option<u64>,
    /// Unset: no `/metrics`.
    pub metrics_token: Option<&'static str>,
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    spawn_app_with(engine, Options::default()).await
}

pub async fn spawn_app_with(engine: Engine, options: Options) -> TestApp {
    let (url, data_dir) = fresh_database(engine).await;
    let env: HashMap<String, String> = [
        ("BACKROOM_ADDR", "127.0.0.1:0".to_owned()),
        ("BACKROOM_DATABASE_URL", url.clone()),
        ("BACKROOM_DATA_DIR", data_dir.display().to_string()),
        ("BACKROOM_JOB_WORKERS", options.job_workers.to_string()),
        ("BACKROOM_LOG", "warn".to_owned()),
        ("BACKROOM_PUBLIC_URL", options.public_url.unwrap_or_default().to_owned()),
        ("BACKROOM_SMTP_URL", options.smtp_url.unwrap_or_default()),
        ("BACKROOM_ACCOUNTING_CONCURRENCY", options.accounting_concurrency.to_string()),
        ("BACKROOM_ACCOUNTING_TIMEOUT_SECS", options.accounting_timeout_secs.unwrap_or(20).to_string()),
        ("BACKROOM_WHATSAPP_CONCURRENCY", options.whatsapp_concurrency.to_string()),
        ("BACKROOM_WHATSAPP_TIMEOUT_SECS", options.whatsapp_timeout_secs.unwrap_or(10).to_string()),
        ("BACKROOM_WHATSAPP_SHORT_DELAYS", "true".to_owned()),
        ("BACKROOM_WOO_TIMEOUT_SECS", options.woo_timeout_secs.unwrap_or(60).to_string()),
        ("BACKROOM_METRICS_TOKEN", options.metrics_token.unwrap_or_default().to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = Config::load_from(&env).unwrap();
    server::telemetry::init(&config.log);
    let app = server::Application::build(config).await.expect("the app starts");
    let services = app.services().clone();
    let addr = app.local_addr();
    let security = app.security();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let db = Db::connect(&url).await.unwrap();
    TestApp {
        addr,
        database_url: url,
        db,
        client: browser(),
        data_dir,
        security,
        hasher: services.hasher.clone(),
        sealer: services.sealer.clone(),
        links: services.links.clone(),
        services,
        stop: Some(stop),
        server: Some(server),
    }
}

/// A client that keeps cookies and does not follow redirects (tests look at them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Calls a panel server function the way the hydrated page does (same origin).
    pub async fn call<F: ServerFn>(&self, client: &reqwest::Client, form: &[(&str, &str)]) -> reqwest::Response {
        call_at::<F>(client, &self.url(""), form).await
    }

    pub async fn create_owner(&self) -> reqwest::Response {
        self.call::<app::auth::CreateOwner>(
            &self.client,
            &[
                ("store_name", "Test Shop"),
                ("name", "Olcay Owner"),
                ("email", OWNER_EMAIL),
                ("password", OWNER_PASSWORD),
            ],
        )
        .await
    }

    pub async fn sign_in_with(&self, client: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        self.call::<app::auth::SignIn>(client, &[("email", email), ("password", password)]).await
    }

    /// Creates the owner with a separate client, then signs `self.client` in.
    pub async fn signed_in_owner(&self) {
        let setup = browser();
        let response = self
            .call::<app::auth::CreateOwner>(
                &setup,
                &[
                    ("store_name", "Test Shop"),
                    ("name", "Olcay Owner"),
                    ("email", OWNER_EMAIL),
                    ("password", OWNER_PASSWORD),
                ],
            )
            .await;
        assert!(response.status().is_success() || response.status().is_redirection(), "{:?}", response.status());
        let response = self.sign_in_with(&self.client, OWNER_EMAIL, OWNER_PASSWORD).await;
        assert!(response.status().is_success() || response.status().is_redirection(), "{:?}", response.status());
    }

    /// The owner (created on first call), as the backend sees them.
    pub async fn owner(&self) -> User {
        if let Some(owner) = users::first_owner(&self.db).await.unwrap() {
            return owner;
        }
        let created = self.create_owner().await;
        assert!(created.status().is_success() || created.status().is_redirection(), "{:?}", created.status());
        users::first_owner(&self.db).await.unwrap().unwrap()
    }

    /// A user of `role` with a known password.
    pub async fn user(&self, email: &str, role: users::Role) -> User {
        let email = users::Email::parse(email).unwrap();
        users::create(
            &self.db,
            users::NewUser { email, name: "Test".into(), role, password: OWNER_PASSWORD.to_owned().into() },
        )
        .await
        .unwrap()
    }

    /// A new connection key acting as `user`.
    pub async fn key_for(&self, user: &User, scope: Scope, lifetime_days: Option<i64>) -> (i64, String) {
        let new =
            NewCredential { kind: CredentialType::ConnectionKey, label: "Test phone".into(), scope, lifetime_days };
        let issued = credentials::create(&self.db, &self.hasher, user, None, new).await.unwrap();
        (issued.info.id, issued.secret)
    }

    /// A new connection key of the owner's.
    pub async fn key(&self, scope: Scope) -> String {
        let owner = self.owner().await;
        self.key_for(&owner, scope, None).await.1
    }

    /// A request to the API with a connection key and a fresh timestamp.
    pub fn api(&self, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(key)
            .header("x-backroom-timestamp", backend::clock::now().to_string())
    }

    /// Changes the security settings, in the database and in this instance at once.
    pub async fn set_security(&self, change: impl FnOnce(&mut SecuritySettings)) {
        let mut settings = security::get(&self.db).await.unwrap();
        change(&mut settings);
        let owner = self.owner().await;
        let saved = security::update(&self.db, &owner, None, settings).await.unwrap();
        self.security.set(saved);
    }

    /// The number a `SELECT COUNT(*) …` (or any one-integer query) answers.
    /// The accounting service as the app builds it (same database and master key).
    pub fn accounting(&self) -> backend::accounting::Accounting {
        backend::accounting::Accounting::new(self.db.clone(), self.sealer.clone(), std::time::Duration::from_secs(2))
    }

    /// The WhatsApp service as the app builds it (same database and master key).
    pub fn whatsapp(&self) -> backend::whatsapp::WhatsApp {
        backend::whatsapp::WhatsApp::new(
            self.db.clone(),
            self.sealer.clone(),
            self.links.clone(),
            self.url(""),
            (std::time::Duration::from_secs(5), std::time::Duration::from_secs(5)),
            true,
        )
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(self.db.pool()).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self.db.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

pub fn assert_status(response: &reqwest::Response, expected: StatusCode) {
    assert_eq!(response.status(), expected, "unexpected status for {}", response.url());
}

/// The API's error code in a response body.
pub async fn error_code(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
}

/// Starts real `backroom serve` processes on a database (for tests that kill one): each
/// call of the returned function starts another, with `extra` settings besides the
/// database, data folder, no general job workers and quiet logs.
pub fn serve_processes(
    url: &str,
    data_dir: &std::path::Path,
    extra: &[(&str, String)],
) -> impl Fn() -> std::process::Child + use<> {
    let mut env: Vec<(String, String)> = vec![
        ("BACKROOM_DATABASE_URL".into(), url.to_owned()),
        ("BACKROOM_DATA_DIR".into(), data_dir.display().to_string()),
        ("BACKROOM_JOB_WORKERS".into(), "0".into()),
        ("BACKROOM_LOG".into(), "warn".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    move || std::process::Command::new(env!("CARGO_BIN_EXE_backroom")).arg("serve").envs(env.clone()).spawn().unwrap()
}

/// The master key a serving process made in `data_dir`, and the owner account, made now.
/// The key is only read, once the process has written it: a test that made one too
/// would race the process (which makes its key after migrating) and one of them would
/// find the file taken, or half written.
pub async fn master_key_and_owner(db: &Db, data_dir: &std::path::Path) -> (MasterKey, User) {
    let config = Config { master_key_file: Some(data_dir.join("master.key")), ..Config::default() };
    eventually("the process has made its master key", || async { MasterKey::load_or_create(&config).is_ok() }).await;
    let (master, _) = MasterKey::load_or_create(&config).unwrap();
    let owner = users::create(
        db,
        users::NewUser {
            email: users::Email::parse(OWNER_EMAIL).unwrap(),
            name: String::new(),
            role: users::Role::Owner,
            password: OWNER_PASSWORD.to_owned().into(),
        },
    )
    .await
    .unwrap();
    (master, owner)
}

/// A port nothing listens on (for now).
/// Calls a panel server function of the server at `base` the way the hydrated page does.
pub async fn call_at<F: ServerFn>(client: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client
        .post(format!("{base}{}", F::PATH))
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Asserts that what the shop committed is whole: every order's total is its lines,
/// shipping, fees and tax; its refunded total is its refunds; the daily sales equal a
/// rebuild from the orders (which this leaves in place).
pub async fn assert_the_shop_is_whole(db: &Db) {
    let count =
        |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(db.pool()).await.unwrap() };
    let totals = count(
        "SELECT COUNT(*) FROM orders o WHERE o.total <> (SELECT CAST(COALESCE(SUM(i.total), 0) AS BIGINT) \
         FROM order_items i WHERE i.order_id = o.id) + o.shipping_total + o.fee_total + o.total_tax",
    );
    assert_eq!(totals.await, 0, "orders whose total is not their lines");
    let refunded = count(
        "SELECT COUNT(*) FROM orders o WHERE o.refunded_total <> \
         (SELECT CAST(COALESCE(SUM(r.amount), 0) AS BIGINT) FROM refunds r WHERE r.order_id = o.id)",
    );
    assert_eq!(refunded.await, 0, "orders whose refunded total is not their refunds");
    let daily = || async {
        sqlx::query_as::<_, (String, String, i64, i64, i64, i64)>(
            "SELECT day, currency, orders, items, gross, refunds FROM sales_daily ORDER BY day, currency",
        )
        .fetch_all(db.pool())
        .await
        .unwrap()
    };
    let kept = daily().await;
    backend::sales_daily::rebuild(db, backend::settings::get(db).await.unwrap().tz()).await.unwrap();
    assert_eq!(daily().await, kept, "the daily sales kept equal a rebuild from the orders");
}

/// A `backroom serve` process, killed when the test ends however it ends.
pub struct Serving(pub std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `backroom ARGS` on `database_url` with `data` as its data folder (where the master
/// key lives), `stdin` given; what it printed and its status.
pub fn backroom_in(
    data: &std::path::Path,
    args: &[&str],
    database_url: &str,
    stdin: Option<&str>,
) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_backroom"))
        .args(args)
        .env("BACKROOM_DATABASE_URL", database_url)
        .env("BACKROOM_DATA_DIR", data)
        .env("BACKROOM_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits (up to 20 s) until `check` holds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}
