//! The panel's session layer: tower-sessions carries the session id in an HttpOnly cookie
//! and cycles it at every sign-in, over [`SessionTable`], our store on the `sessions`
//! table (where the backend keeps each id only as its hash, and enforces the idle and
//! absolute timeouts). A session holds one value, [`SessionData`]: who signed in and
//! from where, read afresh with the session, in the one database read a request costs.

use std::collections::HashMap;

use async_trait::async_trait;
use backend::{
    db::Db,
    services::Services,
    sessions::{self, SessionData, SessionPolicy},
    users::User,
};
use leptos::prelude::use_context;
use tower_sessions::{
    Expiry, Session, SessionManagerLayer,
    cookie::{SameSite, time::OffsetDateTime},
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use crate::error::PanelError;

/// The name of the panel's session cookie.
const COOKIE: &str = "backroom_session";
/// The key a session's [`SessionData`] is kept under.
const DATA_KEY: &str = "signed_in";

/// The session layer over [`SessionTable`].
pub type SessionLayer = SessionManagerLayer<SessionTable>;

/// The layer the server wraps the panel in: the cookie's name and flags (`Secure` when
/// the shop's public URL is https; `SameSite=Lax`, so links from email open the panel
/// signed in).
pub fn layer(services: &Services) -> SessionLayer {
    SessionManagerLayer::new(SessionTable { db: services.db.clone(), policy: services.sessions })
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(services.secure_cookies)
        .with_path("/")
}

/// Who this session belongs to, or `None` when signed out (no cookie, or a session
/// unknown, expired or of a disabled account). Fails only when the database cannot say.
pub async fn signed_in(session: &Session) -> Result<Option<User>, session_store::Error> {
    match session.get::<SessionData>(DATA_KEY).await {
        Ok(data) => Ok(data.map(|d| d.user)),
        Err(tower_sessions::session::Error::Store(e)) => Err(e),
        Err(e) => Err(session_store::Error::Decode(e.to_string())),
    }
}

/// Signs `user` in in this browser: a new session id (so an id planted before sign-in
/// is worth nothing), lasting the absolute timeout.
pub async fn begin(services: &Services, data: SessionData) -> Result<(), PanelError> {
    renew(services).await?;
    this_session().await?.insert(DATA_KEY, data).await.map_err(internal)
}

/// Gives this browser's session a new id lasting the absolute timeout, as at sign-in (a
/// password change does too, so a copy of the old cookie signs nobody in).
pub async fn renew(services: &Services) -> Result<(), PanelError> {
    let session = this_session().await?;
    session.cycle_id().await.map_err(internal)?;
    let ends = OffsetDateTime::now_utc() + services.sessions.absolute_timeout;
    session.set_expiry(Some(Expiry::AtDateTime(ends)));
    Ok(())
}

/// Signs this browser out: its session is deleted and its cookie removed.
pub async fn end() -> Result<(), PanelError> {
    this_session().await?.flush().await.map_err(internal)
}

/// The fingerprint of this browser's session, as the list of sessions names it.
pub async fn current_fingerprint() -> Result<Option<String>, PanelError> {
    Ok(this_session().await?.id().map(|id| sessions::fingerprint(&id.to_string())))
}

/// The cookie a sign-in waiting for its two-factor code keeps its challenge in.
const CHALLENGE_COOKIE: &str = "backroom_sign_in";

/// Keeps `challenge` in this browser while its code is awaited (five minutes): an
/// HttpOnly cookie sent only with this site's own requests.
pub fn await_code(services: &Services, challenge: &str) {
    let max_age = tower_sessions::cookie::time::Duration::seconds(backend::sign_in::CHALLENGE_SECS);
    set_cookie(services, challenge, max_age);
}

/// The challenge this browser's sign-in waits on, if any.
pub async fn awaited_code() -> Result<Option<String>, PanelError> {
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.map_err(|_| PanelError::Internal)?;
    Ok(headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(tower_sessions::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == CHALLENGE_COOKIE)
        .map(|cookie| cookie.value().to_owned()))
}

/// Removes the challenge cookie (the code was right).
pub fn code_received(services: &Services) {
    set_cookie(services, "", tower_sessions::cookie::time::Duration::ZERO);
}

fn set_cookie(services: &Services, value: &str, max_age: tower_sessions::cookie::time::Duration) {
    let cookie = tower_sessions::cookie::Cookie::build((CHALLENGE_COOKIE, value.to_owned()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(services.secure_cookies)
        .path("/")
        .max_age(max_age)
        .build();
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), axum::http::HeaderValue::from_str(&cookie.to_string()))
    {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}

async fn this_session() -> Result<Session, PanelError> {
    leptos_axum::extract::<Session>().await.map_err(|_| PanelError::Internal)
}

fn internal(e: tower_sessions::session::Error) -> PanelError {
    tracing::error!(error = %e, "the session could not be changed");
    PanelError::Internal
}

/// Sessions in the database, through the backend's [`sessions`].
#[derive(Clone, Debug)]
pub struct SessionTable {
    db: Db,
    policy: SessionPolicy,
}

#[async_trait]
impl SessionStore for SessionTable {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = data_of(record)?;
        // A 128-bit id drawn twice is all but impossible; if it happens, draw again.
        while !sessions::create(&self.db, self.policy, &record.id.to_string(), &data).await.map_err(unreachable)? {
            record.id = Id::default();
        }
        Ok(())
    }

    /// A session changes only at sign-in, which creates it; saving keeps it alive, and
    /// never brings back one ended meanwhile.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sessions::touch(&self.db, &record.id.to_string()).await.map_err(unreachable)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(live) = sessions::resolve(&self.db, self.policy, &id.to_string()).await.map_err(unreachable)? else {
            return Ok(None);
        };
        let data = serde_json::to_value(live.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(live.ends_at)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        Ok(Some(Record { id: *id, data: HashMap::from([(DATA_KEY.to_owned(), data)]), expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::end(&self.db, &id.to_string()).await.map_err(unreachable)
    }
}

/// The [`SessionData`] a new session was given at sign-in.
fn data_of(record: &Record) -> session_store::Result<SessionData> {
    let value =
        record.data.get(DATA_KEY).cloned().ok_or_else(|| session_store::Error::Decode("no session data".into()))?;
    serde_json::from_value(value).map_err(|e| session_store::Error::Decode(e.to_string()))
}

/// The database could not be used: logged with its cause; the request fails.
fn unreachable(e: backend::Error) -> session_store::Error {
    tracing::error!(error = %e.report(), "the sessions table could not be used");
    session_store::Error::Backend(e.to_string())
}
