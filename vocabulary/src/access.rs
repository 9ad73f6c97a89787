//! Machine access to the API: the two kinds of credential a person makes, what a
//! credential may do, and how long it may live.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// The longest a credential may be set to live, in days.
pub const MAX_LIFETIME_DAYS: i64 = 3650;
/// The most characters of a credential's label or an OAuth app's name.
pub const MAX_LABEL_CHARS: usize = 80;

/// What a credential may do: `read` reads; `write` reads and changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::Read, Scope::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// How a person choosing one reads it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Read only",
            Scope::Write => "Read and write",
        }
    }

    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Scope, Invalid> {
        match s.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            _ => Err(Invalid::new("the scope must be read or write")),
        }
    }
}

/// Which kind of credential a person makes for a machine: a connection key (the shop's,
/// for an app or an integration) or an application password (their own, for Basic auth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = CredentialKind))]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    ConnectionKey,
    AppPassword,
}

impl CredentialType {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialType::ConnectionKey => "connection_key",
            CredentialType::AppPassword => "app_password",
        }
    }

    /// The credential in a sentence: "this connection key is already revoked".
    pub fn noun(self) -> &'static str {
        match self {
            CredentialType::ConnectionKey => "connection key",
            CredentialType::AppPassword => "application password",
        }
    }

    /// How the audit log's actions about it begin (`key.create`, `app_password.revoke`).
    pub fn audit_prefix(self) -> &'static str {
        match self {
            CredentialType::ConnectionKey => "key",
            CredentialType::AppPassword => "app_password",
        }
    }
}
