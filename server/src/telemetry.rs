//! Logs: structured, filtered by `BACKROOM_LOG`; JSON lines when not on a terminal.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests start many apps in one process) is harmless.
    let _ = if std::io::stderr().is_terminal() { builder.try_init() } else { builder.json().try_init() };
}
