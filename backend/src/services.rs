//! The composition root: every service Backroom shares, built once from the configuration
//! and handed to the server, the panel, the command line and the tests alike. A new
//! integration is built and registered here and nowhere else: its place in the order
//! events ([`crate::orders::events`]), its jobs ([`crate::background`]) and its workers.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use ipnet::IpNet;

use crate::{
    Result,
    access::{authenticate::CredentialCache, secret::SecretHasher, security::SecurityCache},
    accounting::{self, Accounting},
    background,
    clock::now,
    config::Config,
    db::Db,
    jobs::{Failure, Kinds, Registry, Worker},
    mail::{self, transport::Transport},
    master_key::MasterKey,
    orders::events::Subscribers,
    reports::ReportCache,
    sales_daily,
    sealed::{Place, Sealer},
    sessions::SessionPolicy,
    settings,
    whatsapp::{self, WhatsApp, link},
    woo::{self, Woo},
};

/// How long one run of the import job goes on before it makes way for other work.
const IMPORT_STRETCH: Duration = Duration::from_secs(20);
/// How often an idle WhatsApp worker looks for a due message.
const WHATSAPP_IDLE_POLL: Duration = Duration::from_millis(200);
/// How many due WhatsApp jobs a worker takes and runs at once.
const WHATSAPP_BATCH: usize = 16;
/// How often the WooCommerce worker looks for due work (a fetch after a webhook's hint);
/// a change to write to the store, committed in this process, wakes it at once.
const WOO_IDLE_POLL: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Services {
    pub db: Db,
    /// Hashes connection keys, application passwords and OAuth secrets.
    pub hasher: SecretHasher,
    /// Seals secrets at rest (the ledger's key, WhatsApp's token and app secret).
    pub sealer: Sealer,
    /// Signs WhatsApp recovery links.
    pub links: link::Signer,
    /// The API's security settings, reread every few seconds.
    pub security: Arc<SecurityCache>,
    /// API credentials that passed a moment ago, and the revocations that forget them.
    pub credentials: Arc<CredentialCache>,
    pub sessions: SessionPolicy,
    /// Where email goes: SMTP, or `.eml` files in a folder.
    pub mail: Transport,
    /// The ledger connection: settings sealed at rest, its HTTP client.
    pub accounting: Accounting,
    pub whatsapp: WhatsApp,
    /// The WooCommerce store's connection.
    pub woo: Woo,
    /// Sales reports computed from this database, reused while their figures stand.
    pub reports: Arc<ReportCache>,
    /// What an order change tells the integrations, inside its transaction.
    pub order_events: Arc<Subscribers>,
    /// The URL customers and the mobile app see.
    pub base_url: Arc<str>,
    /// Cookies get `Secure` when the public URL is https.
    pub secure_cookies: bool,
    /// Peers whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Arc<Vec<IpNet>>,
    workers: WorkerLayout,
}

/// How many workers of each kind this process runs.
#[derive(Clone, Copy, Debug)]
struct WorkerLayout {
    general: usize,
    accounting: usize,
    whatsapp: usize,
}

impl Services {
    /// Opens the database (migrating it), loads the master key and builds every service.
    /// `listening` is where this process serves: the public URL when none is set.
    ///
    /// Fails with a message for the operator when the database, the master key or the
    /// mail settings cannot be used.
    pub async fn build(config: &Config, listening: SocketAddr) -> Result<Services> {
        let db = Db::open(config).await?;
        crate::orders::learn_statuses(&db).await?;
        // Loaded now so a missing or unreadable key stops the start, not a later request.
        let (master_key, origin) = MasterKey::load_or_create(config)?;
        master_key.check(&db, &origin, config.new_master_key).await?;
        let sealer = master_key.sealer();
        sealer.bind_all(&db).await?;
        let hasher = SecretHasher::new(
            sealer.stored_key(&db, Place::ApiSecretsKey, || SecretHasher::from_master(&master_key).key()).await?,
        );
        let links = link::Signer::new(
            sealer.stored_key(&db, Place::RecoveryLinksKey, || link::Signer::from_master(&master_key).key()).await?,
        );
        let store = crate::settings::get(&db).await?;
        let base_url =
            store.public_url.or_else(|| config.public_url.clone()).unwrap_or_else(|| format!("http://{listening}"));
        let accounting = Accounting::new(db.clone(), sealer.clone(), config.accounting_timeout);
        let whatsapp = WhatsApp::new(
            db.clone(),
            sealer.clone(),
            links.clone(),
            base_url.clone(),
            (config.whatsapp_timeout, config.woo_timeout),
            config.whatsapp_short_delays,
        );
        let woo_wake = Arc::new(tokio::sync::Notify::new());
        let order_events = Arc::new(Subscribers::new(vec![
            Arc::new(accounting.clone()) as Arc<dyn crate::orders::events::Subscriber>,
            Arc::new(whatsapp.clone()),
            Arc::new(crate::woo::write_back::WriteBack { wake: woo_wake.clone() }),
        ]));
        let woo =
            Woo::new(db.clone(), sealer.clone(), order_events.clone(), base_url.clone(), config.woo_timeout, woo_wake);
        Ok(Services {
            security: SecurityCache::load(db.clone()).await?,
            credentials: Arc::default(),
            sessions: SessionPolicy {
                idle_timeout: config.session_idle_timeout,
                absolute_timeout: config.session_absolute_timeout,
            },
            mail: Transport::from_config(config)?,
            reports: Arc::default(),
            secure_cookies: base_url.starts_with("https://"),
            base_url: base_url.into(),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            workers: WorkerLayout {
                general: config.job_workers,
                accounting: config.accounting_concurrency,
                whatsapp: config.whatsapp_concurrency,
            },
            db,
            hasher,
            sealer,
            links,
            accounting,
            whatsapp,
            woo,
            order_events,
        })
    }

    /// Every job kind with what runs it.
    pub fn jobs(&self) -> Arc<Registry> {
        let (db, policy) = (self.db.clone(), self.sessions);
        let (transport, accounting, whatsapp) = (self.mail.clone(), self.accounting.clone(), self.whatsapp.clone());
        let (cleanup_db, rebuild_db, mail_db, bulk_db, sender) =
            (db.clone(), db.clone(), db, accounting.db.clone(), whatsapp.clone());
        let (importer, reconciler, fetcher, writer) =
            (self.woo.clone(), self.woo.clone(), self.woo.clone(), self.woo.clone());
        let runner = format!("importer-{}", uuid::Uuid::new_v4().simple());
        Arc::new(
            Registry::default()
                .on(background::SESSION_CLEANUP_JOB, move |job| {
                    let db = cleanup_db.clone();
                    // A payload that does not read still cleans up, and books the next night.
                    let night = job.payload::<background::CleanUp>().ok().map(|c| c.night);
                    async move { background::clean_up(&db, policy, night).await.map_err(Failure::from) }
                })
                .on(sales_daily::REBUILD_JOB, move |_job| {
                    let db = rebuild_db.clone();
                    async move {
                        let tz = settings::get(&db).await?.tz();
                        sales_daily::rebuild(&db, tz).await.map_err(Failure::from)
                    }
                })
                .on(mail::outbox::SEND_JOB, move |job| {
                    let (db, transport) = (mail_db.clone(), transport.clone());
                    async move {
                        let mail::outbox::SendMail { mail_id } = job.payload()?;
                        mail::outbox::send(&db, &transport, mail_id, job.attempt >= job.max_attempts)
                            .await
                            .map_err(Failure::Retry)
                    }
                })
                .on(accounting::SYNC_JOB, move |job| {
                    let accounting = accounting.clone();
                    async move { accounting::sync::run(&accounting, &job).await }
                })
                .on_batch(whatsapp::RECOVERY_JOB, move |jobs| {
                    let whatsapp = whatsapp.clone();
                    async move { whatsapp::recovery::run(&whatsapp, &jobs).await }
                })
                .on(whatsapp::SEND_JOB, move |job| {
                    let whatsapp = sender.clone();
                    async move {
                        let whatsapp::send::SendMessage { message_id } = job.payload()?;
                        whatsapp::send::run(&whatsapp, message_id).await
                    }
                })
                .on(accounting::BULK_JOB, move |job| {
                    let db = bulk_db.clone();
                    async move {
                        let accounting::bulk::FanOut { bulk_id } = job.payload()?;
                        accounting::bulk::fan_out(&db, bulk_id).await.map_err(Failure::from)
                    }
                })
                .on(woo::IMPORT_JOB, move |_job| {
                    let (woo, runner) = (importer.clone(), runner.clone());
                    async move {
                        // A stretch at a time, put off (no attempt spent) until it is done.
                        match woo::import::run(&woo, &runner, IMPORT_STRETCH).await? {
                            woo::import::Stretch::Finished => Ok(()),
                            woo::import::Stretch::More => {
                                Err(Failure::RetryAt { reason: "importing".into(), at: now() })
                            }
                            woo::import::Stretch::WaitUntil(at) => {
                                Err(Failure::RetryAt { reason: "the store asked the import to wait".into(), at })
                            }
                            woo::import::Stretch::Busy => {
                                Err(Failure::RetryAt { reason: "another process is importing".into(), at: now() + 10 })
                            }
                        }
                    }
                })
                .on(woo::RECONCILE_JOB, move |_job| {
                    let woo = reconciler.clone();
                    async move { woo::reconcile::run_and_reschedule(&woo).await }
                })
                .on(woo::FETCH_JOB, move |job| {
                    let woo = fetcher.clone();
                    async move { woo::webhooks::fetch(&woo, &job.payload()?).await }
                })
                .on(woo::write_back::WRITE_JOB, move |job| {
                    let woo = writer.clone();
                    async move { woo::write_back::run(&woo, &job).await }
                }),
        )
    }

    /// The job workers of this process. Sending to the ledger and to Meta waits on remote
    /// services: each has workers of its own, so it neither holds up email and clean-up
    /// nor is held up by them. WhatsApp's look for due messages often, so a due one
    /// leaves within a second, and take them a batch at a time, so a thousand carts due at
    /// once go in a second too.
    pub fn workers(&self) -> Vec<Worker> {
        let registry = self.jobs();
        let (accounting, whatsapp, woo) =
            (crate::accounting::JOB_KINDS, crate::whatsapp::JOB_KINDS, crate::woo::JOB_KINDS);
        let worker = || Worker::new(self.db.clone(), registry.clone());
        let general = self.workers.general;
        (0..general)
            .map(|_| worker().with_kinds(Kinds::AllBut([accounting, whatsapp, &woo[..]].concat())))
            .chain((0..general.min(1)).map(|_| {
                worker()
                    .with_kinds(Kinds::Only(woo.to_vec()))
                    .with_idle_poll(WOO_IDLE_POLL)
                    .with_wake(self.woo.wake.clone())
            }))
            .chain((0..self.workers.accounting).map(|_| worker().with_kinds(Kinds::Only(accounting.to_vec()))))
            .chain((0..self.workers.whatsapp).map(|_| {
                worker()
                    .with_kinds(Kinds::Only(whatsapp.to_vec()))
                    .with_idle_poll(WHATSAPP_IDLE_POLL)
                    .with_batch(WHATSAPP_BATCH)
            }))
            .collect()
    }

    /// Whether this process applies WhatsApp's webhook deliveries and matches new orders
    /// to carts (it does when it sends WhatsApp messages).
    pub fn runs_whatsapp_upkeep(&self) -> bool {
        self.workers.whatsapp > 0
    }
}
