//! Backroom's domain: the shop's data, the rules about it, and the work done in the
//! background. Both the admin panel and the REST API call into this crate, so each rule
//! lives here once. It depends on neither Leptos nor axum.

pub mod access;
pub mod account;
pub mod account_links;
pub mod accounting;
pub mod audit;
pub mod background;
pub mod backup;
pub mod clock;
pub mod config;
pub mod csv;
pub mod cursor;
pub mod dashboard;
pub mod days;
pub mod db;
pub mod demo;
pub mod error;
pub mod intake;
pub mod jobs;
pub mod mail;
pub mod master_key;
pub mod metrics;
pub mod orders;
pub mod paging;
pub mod passwords;
pub mod private_files;
pub mod rate_counts;
pub mod recent;
pub mod reports;
pub mod sales_daily;
pub mod sealed;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod support;
pub mod team;
pub mod throttle;
pub mod two_factor;
pub mod typed_text;
pub mod users;
pub mod whatsapp;
pub mod woo;

pub use error::{Error, Result};
