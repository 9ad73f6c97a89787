//! Access to the REST API: machine credentials (connection keys, application passwords),
//! OAuth 2.0 with PKCE for the mobile app, the security settings the API's guards follow,
//! and the checks that turn a presented credential into a [`Caller`].

pub mod authenticate;
pub mod credentials;
pub mod oauth;
pub mod secret;
pub mod security;

use serde::{Deserialize, Serialize};
pub use vocabulary::access::Scope;

use crate::{Result, db::Db, users::User};

/// Disables or re-enables a panel user (see [`crate::users`] for who may); disabling signs
/// them out everywhere and no credential of theirs this process remembers passes again.
pub async fn set_user_disabled(
    db: &Db,
    remembered: &authenticate::CredentialCache,
    actor: &User,
    user_id: i64,
    disabled: bool,
) -> Result<User> {
    let user = crate::users::set_disabled(db, actor, user_id, disabled).await?;
    if disabled {
        remembered.forget_all();
    }
    Ok(user)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    ConnectionKey,
    AppPassword,
    OauthToken,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::ConnectionKey => "connection_key",
            CredentialKind::AppPassword => "app_password",
            CredentialKind::OauthToken => "oauth_token",
        }
    }
}

/// Who is calling the API, and with what.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    pub kind: CredentialKind,
    /// The key's or password's id; for OAuth, the grant's (the device's).
    pub credential_id: i64,
    /// The key's or password's label; for OAuth, the app's name.
    pub label: String,
    pub scope: Scope,
    pub expires_at: Option<i64>,
}

impl Caller {
    /// Whether this credential may create and revoke connection keys: a person's keys and
    /// application passwords may; an app's OAuth token may not, or a key it made would
    /// keep working after the grant is revoked.
    pub fn manages_keys(&self) -> bool {
        self.kind != CredentialKind::OauthToken
    }

    /// How the audit log names the credential: `connection_key:12`.
    pub fn credential_ref(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.credential_id)
    }
}

/// Why the API's guards refused a request: each reason has its own code and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denied {
    HttpsRequired,
    IpNotAllowed,
    MissingCredentials,
    /// Unknown, malformed or wrongly formed; the message says which part of the request.
    InvalidCredentials(&'static str),
    KeyExpired,
    KeyRevoked,
    TokenExpired,
    /// The device was signed out, or its app revoked.
    TokenRevoked,
    TimestampInvalid,
    TimestampExpired,
    NonceInvalid,
    NonceReused,
    InsufficientScope {
        needed: Scope,
    },
    /// An app's OAuth token asked to create or revoke connection keys: a key it made
    /// would outlive the grant.
    KeysNeedPanel,
    RateLimited {
        retry_after_secs: i64,
    },
    LockedOut {
        retry_after_secs: i64,
    },
}

impl Denied {
    /// Whether the refusal counts toward locking its address out. A lockout stops someone
    /// guessing credentials; a replayed nonce comes with a key that is right (a client
    /// retrying, or a copy of a request already made), so it is refused and audited but
    /// does not lock a shop's office out of its own API.
    pub fn counts_toward_lockout(&self) -> bool {
        !matches!(self, Denied::NonceReused)
    }

    pub fn code(&self) -> &'static str {
        match self {
            Denied::HttpsRequired => "https_required",
            Denied::IpNotAllowed => "ip_not_allowed",
            Denied::MissingCredentials => "missing_credentials",
            Denied::InvalidCredentials(_) => "invalid_credentials",
            Denied::KeyExpired => "key_expired",
            Denied::KeyRevoked => "key_revoked",
            Denied::TokenExpired => "token_expired",
            Denied::TokenRevoked => "token_revoked",
            Denied::TimestampInvalid => "timestamp_invalid",
            Denied::TimestampExpired => "timestamp_expired",
            Denied::NonceInvalid => "nonce_invalid",
            Denied::NonceReused => "nonce_reused",
            Denied::InsufficientScope { .. } => "insufficient_scope",
            Denied::KeysNeedPanel => "keys_need_panel",
            Denied::RateLimited { .. } => "rate_limited",
            Denied::LockedOut { .. } => "locked_out",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Denied::HttpsRequired | Denied::IpNotAllowed | Denied::InsufficientScope { .. } | Denied::KeysNeedPanel => {
                403
            }
            Denied::RateLimited { .. } | Denied::LockedOut { .. } => 429,
            _ => 401,
        }
    }

    pub fn message(&self) -> String {
        match self {
            Denied::HttpsRequired => "this API is served over HTTPS only".into(),
            Denied::IpNotAllowed => "requests from this IP address are not allowed".into(),
            Denied::MissingCredentials => {
                "send a connection key or OAuth access token as `Authorization: Bearer …`, or an application password as HTTP Basic".into()
            }
            Denied::InvalidCredentials(what) => format!("the credentials are not valid: {what}"),
            Denied::KeyExpired => "this key has expired; create a new one in the panel".into(),
            Denied::KeyRevoked => "this key has been revoked".into(),
            Denied::TokenExpired => "the access token has expired; use the refresh token".into(),
            Denied::TokenRevoked => "this device was signed out; sign in again".into(),
            Denied::TimestampInvalid => "send X-Backroom-Timestamp: the current time in Unix seconds".into(),
            Denied::TimestampExpired => "X-Backroom-Timestamp is too far from the server's clock".into(),
            Denied::NonceInvalid => "X-Backroom-Nonce must be 8 to 64 letters, digits, '-' or '_'".into(),
            Denied::NonceReused => "this X-Backroom-Nonce was already used".into(),
            Denied::InsufficientScope { needed } => format!("this needs a credential with the {needed} scope"),
            Denied::KeysNeedPanel => {
                "an app's sign-in cannot create or revoke connection keys; use the panel or a connection key".into()
            }
            Denied::RateLimited { retry_after_secs } => format!("too many requests; try again in {retry_after_secs} s"),
            Denied::LockedOut { retry_after_secs } => {
                format!("too many failed authentications from this address; try again in {} minutes", (retry_after_secs + 59) / 60)
            }
        }
    }

    pub fn retry_after_secs(&self) -> Option<i64> {
        match self {
            Denied::RateLimited { retry_after_secs } | Denied::LockedOut { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }
}
