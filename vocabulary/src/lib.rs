//! Backroom's vocabulary: the words the server and the panel share, defined once and
//! compiled into both the server and the panel's WebAssembly — order and ticket
//! statuses, roles, credential kinds and scopes, audit outcomes, money, email addresses
//! and phone numbers,
//! and the limits on what people may type: into those, and into the settings of the shop,
//! of its WooCommerce store, of its ledger and of WhatsApp. Nothing here touches a
//! database or the web: each type reads itself from text (failing with [`Invalid`], a
//! sentence safe to show) and says how people read it.

pub mod access;
pub mod accounting;
pub mod audit;
pub mod money;
pub mod orders;
pub mod people;
pub mod phone;
pub mod settings;
pub mod store;
pub mod support;
pub mod whatsapp;

use std::fmt;

/// Text that is not one of ours: the sentence says what was expected, for the person who
/// typed or sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Invalid {
        Invalid(message.into())
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}
