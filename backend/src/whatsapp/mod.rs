//! WhatsApp through Meta's Cloud API: the account and its templates ([`settings`],
//! [`templates`]), what the shop configured ([`config`]), checkout capture ([`carts`]),
//! the recovery sequence ([`recovery`]) with its signed links ([`link`]) that put the cart
//! back ([`restore`]), its coupons made in the WooCommerce store ([`coupons`]) and attribution
//! to orders ([`attribution`]), order notifications ([`notifications`]), sending exactly
//! once within the shop's limits ([`send`]), the signed webhook ([`webhook`]), the
//! dashboard and logs ([`report`]), and the click-to-chat widget ([`widget`]).

pub mod attribution;
pub mod carts;
pub mod config;
pub mod coupons;
pub mod graph;
pub mod link;
pub mod notifications;
pub mod recovery;
pub mod report;
pub mod restore;
pub mod send;
pub mod settings;
pub mod setup;
pub mod templates;
pub mod upkeep;
pub mod webhook;
pub mod widget;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use secrecy::SecretString;

use crate::{Error, Result, db::Db, recent::Recent, sealed::Sealer};

/// The job that sends one recovery step of one cart.
pub const RECOVERY_JOB: &str = "whatsapp.recovery";
/// The job that sends one queued message (order notifications).
pub const SEND_JOB: &str = "whatsapp.send";
/// The kinds the WhatsApp workers take (and the others leave to them).
pub const JOB_KINDS: &[&str] = &[RECOVERY_JOB, SEND_JOB];

/// What the panel, the endpoints and the jobs share.
#[derive(Clone)]
pub struct WhatsApp {
    pub db: Db,
    pub sealer: Sealer,
    pub http: reqwest::Client,
    /// How long a Graph API call may take.
    pub timeout: Duration,
    /// Calls to the WooCommerce store (recovery coupons are made there), with its timeout.
    pub store_http: reqwest::Client,
    /// Whether recovery delays may be under ten minutes (tests, staging).
    pub short_delays: bool,
    /// Where shoppers reach this server: recovery links start with it.
    pub public_url: String,
    pub links: link::Signer,
    /// The opened app secret for a few seconds.
    secret_cache: Recent<SecretString>,
    /// The access token last opened, with the sealed text it came from: each send reads
    /// the stored account, and opens the token again only when it changed.
    token_cache: Arc<Mutex<Option<(String, SecretString)>>>,
    /// Where verified webhook deliveries go in.
    pub intake: crate::intake::Intake,
}

impl std::fmt::Debug for WhatsApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsApp").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

/// How long an opened app secret is reused before the stored one is read again.
const SECRET_CACHE: Duration = Duration::from_secs(5);

impl WhatsApp {
    /// `timeout`: how long a Graph API call may take; `store_timeout`: a call to the store.
    pub fn new(
        db: Db,
        sealer: Sealer,
        links: link::Signer,
        public_url: String,
        (timeout, store_timeout): (Duration, Duration),
        short_delays: bool,
    ) -> WhatsApp {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(64)
            .build()
            .expect("the HTTP client builds");
        let intake = crate::intake::Intake::new(db.clone(), "whatsapp_webhook_events", &["body", "received_at"]);
        WhatsApp {
            db,
            sealer,
            http,
            timeout,
            store_http: crate::woo::client::http_client(store_timeout),
            short_delays,
            public_url,
            links,
            secret_cache: Recent::new(SECRET_CACHE),
            token_cache: Arc::new(Mutex::new(None)),
            intake,
        }
    }

    /// The app secret for checking webhook signatures; `None` until one is stored.
    pub async fn app_secret(&self) -> Result<Option<SecretString>> {
        self.secret_cache.get(|| settings::app_secret(&self.db, &self.sealer)).await
    }

    /// Forgets the cached app secret (after the settings changed).
    pub fn forget_secret(&self) {
        self.secret_cache.forget();
    }

    /// The account to call Meta as, or a sentence saying what is missing.
    pub async fn account(&self) -> Result<graph::Account> {
        self.stored_account().await?.ok_or_else(|| {
            Error::Conflict(
                "WhatsApp is not set up yet: the Phone Number ID, WABA ID and access token are needed".into(),
            )
        })
    }

    /// The account to call Meta as; `None` until its ids and token are stored.
    pub async fn stored_account(&self) -> Result<Option<graph::Account>> {
        settings::account(&self.db, |sealed| {
            let mut cache = self.token_cache.lock().expect("not poisoned");
            if let Some((opened_from, token)) = cache.as_ref()
                && opened_from == sealed
            {
                return Ok(token.clone());
            }
            let token = self.sealer.open(crate::sealed::Place::WhatsAppAccessToken, sealed)?;
            *cache = Some((sealed.to_owned(), token.clone()));
            Ok(token)
        })
        .await
    }

    /// The shop's first origin, for pages that lead back to it.
    pub async fn shop_url(&self) -> Option<String> {
        settings::config(self.db.pool()).await.ok()?.shop_origins.into_iter().next()
    }

    /// The connected WooCommerce store; `None` while none is connected.
    pub async fn store(&self) -> Result<Option<crate::woo::client::Store>> {
        crate::woo::connection::open(&self.db, &self.sealer, &self.store_http).await
    }

    pub fn client<'a>(&'a self, account: &'a graph::Account) -> graph::Client<'a> {
        graph::Client { http: &self.http, account, timeout: self.timeout }
    }
}
