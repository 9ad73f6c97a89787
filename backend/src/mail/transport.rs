//! How a message leaves: through SMTP (`BACKROOM_SMTP_URL`: `smtp://host:25` plain,
//! `smtp://host:587?tls=required` for STARTTLS, `smtps://user:password@host:465` for TLS,
//! credentials in the URL), or — with no SMTP URL — as an `.eml` file in
//! `{data_dir}/outbox/`, for a shop trying Backroom out or a developer.

use std::{path::PathBuf, time::Duration};

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::{Error, Result, config::Config};

/// How long one SMTP conversation may take before it counts as a temporary failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Why a message did not leave.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: a 4xx reply, a refused connection, a timeout.
    Temporary(String),
    /// Never try again: a 5xx reply (a rejected address, a refused message).
    Permanent(String),
}

impl Transport {
    /// The configured transport; fails with a message for the operator when the SMTP URL
    /// cannot be read.
    pub fn from_config(config: &Config) -> Result<Transport> {
        match &config.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                .map(|builder| Transport::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
                .map_err(|e| Error::invalid(format!("BACKROOM_SMTP_URL cannot be used: {e}"))),
            None => Ok(Transport::Files(config.data_dir.join("outbox"))),
        }
    }

    /// Where messages go, as the panel shows it (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(_) => "SMTP (BACKROOM_SMTP_URL)".to_owned(),
            Transport::Files(dir) => format!(".eml files in {}", dir.display()),
        }
    }

    /// Hands `message` over; `name` names its file when written to the outbox folder.
    pub async fn send(&self, message: &Message, name: &str) -> std::result::Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message.clone()).await.map(drop).map_err(|e| {
                if e.is_permanent() { SendError::Permanent(e.to_string()) } else { SendError::Temporary(e.to_string()) }
            }),
            Transport::Files(dir) => write_file(dir, name, &message.formatted())
                .await
                .map_err(|e| SendError::Temporary(format!("cannot write to {}: {e}", dir.display()))),
        }
    }
}

/// Writes the file whole or not at all, for the owner only.
async fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, name, bytes) = (dir.to_owned(), format!("{name}.eml"), bytes.to_owned());
    tokio::task::spawn_blocking(move || crate::private_files::write_new(&dir, &name, &bytes)).await?
}
