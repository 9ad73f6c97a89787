//! WhatsApp through Meta's Cloud API. Built so far: the account's settings with the token
//! and app secret sealed at rest ([`settings`]), phone numbers in E.164 ([`phone`]), and
//! the signed webhook that moves our messages' delivery states forward ([`webhook`]).
//! Still to come: the setup wizard, checkout capture and the recovery sequence, order
//! notifications, the message log's panel, the click-to-chat widget, sending limits.

pub mod phone;
pub mod settings;
pub mod webhook;
