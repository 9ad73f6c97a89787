//! OAuth 2.0 for the mobile app: the authorization code grant with PKCE (RFC 7636, S256
//! only) for public clients registered in the panel with exact redirect URIs. Codes are
//! single-use and live 60 s; access tokens live an hour; refresh tokens rotate at each
//! use, and presenting one that was already rotated revokes its whole family (the grant,
//! shown to the user as a device). Errors carry RFC 6749's codes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use vocabulary::access::MAX_LABEL_CHARS;

use super::{
    Scope,
    authenticate::CredentialCache,
    secret::{self, SecretHasher, SecretKind},
};
use crate::{
    Error, Result,
    audit::{self, Event, Outcome},
    clock::now,
    db::Db,
    typed_text,
    users::User,
};

pub const CODE_TTL_SECS: i64 = 60;
pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 30 * 86_400;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// The most this app may be granted.
    pub scope: Scope,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An RFC 6749 error: `code` is one of its error codes, `description` says what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError { code, description: description.into() }
    }

    fn invalid_grant(description: &str) -> OAuthError {
        OAuthError::new("invalid_grant", description)
    }
}

/// Checks a redirect URI for registration: https anywhere, http only to this machine's
/// loopback address, `127.0.0.1` or `[::1]` (RFC 8252's loopback redirect; `localhost` may
/// resolve elsewhere), a custom scheme such as `cartman://oauth`; `exp://`
/// (Expo's development client) only in dev mode; never a fragment or a scheme a browser
/// would run.
pub fn check_redirect_uri(uri: &str, dev_mode: bool) -> Result<()> {
    let invalid = |why: &str| {
        Err(Error::invalid(format!("redirect URI \"{}\": {why}", uri.chars().take(100).collect::<String>())))
    };
    if uri.len() > 300 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("at most 300 characters, no spaces");
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return invalid("must look like scheme://path, e.g. https://example.com/callback or cartman://oauth");
    };
    let scheme_ok = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() {
        return invalid("the scheme must be lowercase letters, digits, + - or .");
    }
    if uri.contains('#') {
        return invalid("must not contain a fragment (#)");
    }
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host_name =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    match scheme {
        "https" if !host.is_empty() => Ok(()),
        "http" if ["127.0.0.1", "[::1]"].contains(&host_name) => Ok(()),
        "http" if host_name == "localhost" => {
            invalid("use http://127.0.0.1 or http://[::1] rather than localhost, which another program may answer")
        }
        "http" | "https" => invalid("http is allowed only to 127.0.0.1 or [::1]; use https"),
        "exp" if dev_mode => Ok(()),
        "exp" => invalid("exp:// is allowed only while dev mode is on (Security settings)"),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => invalid("this scheme is not allowed"),
        _ => Ok(()),
    }
}

/// Whether `requested` is one of the app's registered redirect URIs: the same text, or
/// for a loopback one the same but for the port, which the app picks when it starts
/// listening (RFC 8252 §7.3).
pub fn redirect_registered(registered: &[String], requested: &str) -> bool {
    let without_port = |uri: &str| -> Option<String> {
        let rest = uri.strip_prefix("http://")?;
        let (host, path) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
        let (name, port) = host.rsplit_once(':').filter(|(name, _)| ["127.0.0.1", "[::1]"].contains(name))?;
        port.bytes().all(|b| b.is_ascii_digit()).then(|| format!("http://{name}{path}"))
    };
    registered.iter().any(|uri| {
        uri == requested
            || ["http://127.0.0.1", "http://[::1]"].iter().any(|base| uri.starts_with(base))
                && without_port(requested).is_some_and(|r| r == without_port(uri).unwrap_or_else(|| uri.clone()))
    })
}

pub struct NewClient {
    pub name: String,
    /// One per line.
    pub redirect_uris: String,
    pub scope: Scope,
}

/// Registers an app (owners and admins).
pub async fn create_client(db: &Db, actor: &User, ip: Option<&str>, new: NewClient, dev_mode: bool) -> Result<Client> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let name = match typed_text::within(&new.name, MAX_LABEL_CHARS) {
        Some(name) if !name.chars().any(char::is_control) => name.to_owned(),
        _ => return Err(Error::invalid(format!("the app's name needs 1 to {MAX_LABEL_CHARS} characters"))),
    };
    let uris: Vec<String> =
        new.redirect_uris.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if uris.is_empty() || uris.len() > 10 {
        return Err(Error::invalid("give 1 to 10 redirect URIs, one per line"));
    }
    for uri in &uris {
        check_redirect_uri(uri, dev_mode)?;
    }
    let client_id = format!("app_{}", &secret::generate(SecretKind::AuthorizationCode)[4..28]);
    let created_at = now();
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO oauth_clients (client_id, name, redirect_uris, scope, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&client_id)
    .bind(&name)
    .bind(uris.join("\n"))
    .bind(new.scope.as_str())
    .bind(created_at)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: "oauth_client.create",
            target: &format!("oauth_client:{id}"),
            ip,
            details: &format!("\"{name}\", scope {}, redirect URIs: {}", new.scope, uris.join(" ")),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Client { id, client_id, name, redirect_uris: uris, scope: new.scope, created_at, revoked_at: None })
}

const CLIENT_COLUMNS: &str = "id, client_id, name, redirect_uris, scope, created_at, revoked_at";

fn client_from_row(row: &sqlx::any::AnyRow) -> Result<Client> {
    Ok(Client {
        id: row.try_get("id")?,
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        redirect_uris: row.try_get::<String, _>("redirect_uris")?.lines().map(str::to_owned).collect(),
        scope: row.try_get::<String, _>("scope")?.parse()?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub async fn list_clients(db: &Db) -> Result<Vec<Client>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY id DESC")))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(client_from_row).collect()
}

/// An app that may sign in now: registered and not revoked.
pub async fn find_client(db: &Db, client_id: &str) -> Result<Option<Client>> {
    if client_id.is_empty() || client_id.len() > 64 {
        return Ok(None);
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = $1 AND revoked_at IS NULL"
    )))
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(client_from_row).transpose()
}

/// Revokes an app: every device signed in with it is signed out.
pub async fn revoke_client(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    ip: Option<&str>,
    id: i64,
) -> Result<()> {
    if !actor.role.manages_store() {
        return Err(Error::Forbidden);
    }
    let now = now();
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE oauth_clients SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    remembered.forget_all();
    sqlx::query("UPDATE oauth_grants SET revoked_at = $1, revoked_reason = 'app revoked' WHERE client_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: "oauth_client.revoke",
            target: &format!("oauth_client:{id}"),
            ip,
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The query of `/oauth/authorize`, as sent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A checked authorization request, ready for the person's consent.
#[derive(Clone, Debug)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: String,
    pub code_challenge: String,
}

/// Why an authorization request cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The app or its redirect URI is not what was registered: say so on our own page,
    /// never redirect (RFC 6749 §4.1.2.1).
    Page(OAuthError),
    /// Anything else goes back to the app's redirect URI.
    Redirect { redirect_uri: String, error: OAuthError, state: Option<String> },
}

pub async fn check_authorization(
    db: &Db,
    params: &AuthorizeParams,
) -> Result<Result<AuthorizationRequest, AuthorizeError>> {
    let page = |code, text: &str| Ok(Err(AuthorizeError::Page(OAuthError::new(code, text))));
    let Some(client) = find_client(db, params.client_id.as_deref().unwrap_or("")).await? else {
        return page("invalid_client", "This app is not registered with this shop, or it was revoked.");
    };
    let Some(redirect_uri) = params.redirect_uri.clone() else {
        return page("invalid_request", "The app did not say where to return (redirect_uri is missing).");
    };
    if !redirect_registered(&client.redirect_uris, &redirect_uri) {
        return page("invalid_request", "The app asked to return to an address that is not registered for it.");
    }
    let state = params.state.clone().filter(|s| !s.is_empty() && s.len() <= 500);
    let back = |code, text: &str| {
        Ok(Err(AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error: OAuthError::new(code, text),
            state: state.clone(),
        }))
    };
    if params.response_type.as_deref() != Some("code") {
        return back("unsupported_response_type", "response_type must be code");
    }
    let Some(state_value) = state.clone() else {
        return back("invalid_request", "state is required (1 to 500 characters)");
    };
    if params.code_challenge_method.as_deref() != Some("S256") {
        return back("invalid_request", "code_challenge_method must be S256");
    }
    let challenge = params.code_challenge.clone().unwrap_or_default();
    if challenge.len() != 43 || !challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return back(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)",
        );
    }
    let scope = match params.scope.as_deref().map(str::trim) {
        None | Some("") => client.scope,
        Some(text) => match text.parse::<Scope>() {
            Ok(scope) if client.scope.allows(scope) => scope,
            _ => return back("invalid_scope", "the scope must be read, or write when the app is registered for it"),
        },
    };
    Ok(Ok(AuthorizationRequest { client, redirect_uri, scope, state: state_value, code_challenge: challenge }))
}

/// The person said yes: a code for the app, valid once for [`CODE_TTL_SECS`].
pub async fn approve(
    db: &Db,
    hasher: &SecretHasher,
    request: &AuthorizationRequest,
    user: &User,
    ip: Option<&str>,
) -> Result<String> {
    let code = secret::generate(SecretKind::AuthorizationCode);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hasher.hash(&code))
    .bind(request.client.id)
    .bind(user.id)
    .bind(&request.redirect_uri)
    .bind(request.scope.as_str())
    .bind(&request.code_challenge)
    .bind(now() + CODE_TTL_SECS)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(user.id),
            actor: &user.email,
            action: "oauth.authorize",
            target: &format!("oauth_client:{}", request.client.id),
            ip,
            details: &format!("\"{}\" granted {} access", request.client.name, request.scope),
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(code)
}

/// What `/oauth/token` answers on success.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

/// Where a token request came from, for the devices list and the audit log.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// What a `grant_type=authorization_code` request presents.
#[derive(Clone, Copy, Debug)]
pub struct CodeExchange<'a> {
    pub client_id: &'a str,
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub verifier: &'a str,
}

/// `grant_type=authorization_code`: a code, its verifier and the same redirect URI give
/// the first token pair and a new grant (device).
pub async fn exchange_code(
    db: &Db,
    hasher: &SecretHasher,
    remembered: &CredentialCache,
    exchange: CodeExchange<'_>,
    origin: Origin<'_>,
) -> Result<Result<TokenResponse, OAuthError>> {
    let CodeExchange { client_id, code, redirect_uri, verifier } = exchange;
    if secret::parse(code) != Some(SecretKind::AuthorizationCode) {
        return Ok(Err(OAuthError::invalid_grant("the code is not valid")));
    }
    let code_hash = hasher.hash(code);
    let now = now();
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT k.client_id AS client_pk, cl.client_id, k.user_id, k.redirect_uri, k.scope, k.code_challenge, k.expires_at, \
         k.used_at, k.grant_id FROM oauth_codes k JOIN oauth_clients cl ON cl.id = k.client_id WHERE k.code_hash = $1",
    )
    .bind(&code_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Err(OAuthError::invalid_grant("the code is not valid"))) };
    let claimed = sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(&code_hash)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() == 0 {
        // A code used twice may have been stolen: what it gave is taken back.
        if let Some(grant_id) = row.try_get::<Option<i64>, _>("grant_id")? {
            revoke_grant(&mut tx, remembered, grant_id, "authorization code reused").await?;
        }
        tx.commit().await?;
        return Ok(Err(OAuthError::invalid_grant("the code was already used")));
    }
    let checks = [
        (row.try_get::<String, _>("client_id")? == client_id, "the code was issued to another app"),
        (row.try_get::<i64, _>("expires_at")? > now, "the code has expired"),
        (
            row.try_get::<String, _>("redirect_uri")? == redirect_uri,
            "redirect_uri differs from the authorization request",
        ),
        (
            pkce_matches(verifier, &row.try_get::<String, _>("code_challenge")?),
            "the code verifier does not match the challenge",
        ),
    ];
    if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
        tx.commit().await?;
        return Ok(Err(OAuthError::invalid_grant(why)));
    }
    let user_id: i64 = row.try_get("user_id")?;
    let scope: String = row.try_get("scope")?;
    let device = origin.user_agent.unwrap_or("").chars().take(200).collect::<String>();
    let grant_id: i64 = sqlx::query_scalar(
        "INSERT INTO oauth_grants (client_id, user_id, scope, device, created_at, last_used_at, last_used_ip) \
         VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
    )
    .bind(row.try_get::<i64, _>("client_pk")?)
    .bind(user_id)
    .bind(&scope)
    .bind(&device)
    .bind(now)
    .bind(origin.ip)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE oauth_codes SET grant_id = $1 WHERE code_hash = $2")
        .bind(grant_id)
        .bind(&code_hash)
        .execute(&mut *tx)
        .await?;
    let tokens = issue_pair(&mut tx, hasher, grant_id, &scope, now).await?;
    record_token_event(
        &mut tx,
        user_id,
        grant_id,
        "oauth.token",
        origin,
        Outcome::Success,
        "authorization code exchanged",
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(tokens))
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) equals the challenge; the verifier is 43
/// to 128 unreserved characters.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// `grant_type=refresh_token`: rotates the refresh token. One that was already rotated
/// means two parties hold it: the whole grant is revoked.
pub async fn refresh(
    db: &Db,
    hasher: &SecretHasher,
    remembered: &CredentialCache,
    client_id: &str,
    refresh_token: &str,
    origin: Origin<'_>,
) -> Result<Result<TokenResponse, OAuthError>> {
    if secret::parse(refresh_token) != Some(SecretKind::RefreshToken) {
        return Ok(Err(OAuthError::invalid_grant("the refresh token is not valid")));
    }
    let token_hash = hasher.hash(refresh_token);
    let now = now();
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT t.grant_id, t.expires_at, g.user_id, g.scope, g.revoked_at, cl.client_id, u.disabled_at \
         FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id JOIN oauth_clients cl ON cl.id = g.client_id \
         JOIN users u ON u.id = g.user_id WHERE t.token_hash = $1 AND t.kind = 'refresh'",
    )
    .bind(&token_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Err(OAuthError::invalid_grant("the refresh token is not valid"))) };
    let grant_id: i64 = row.try_get("grant_id")?;
    let user_id: i64 = row.try_get("user_id")?;
    if row.try_get::<String, _>("client_id")? != client_id {
        return Ok(Err(OAuthError::invalid_grant("the refresh token was issued to another app")));
    }
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() || row.try_get::<Option<i64>, _>("disabled_at")?.is_some()
    {
        let refused = "the device was signed out";
        record_token_event(&mut tx, user_id, grant_id, "oauth.refresh", origin, Outcome::Denied, refused).await?;
        tx.commit().await?;
        return Ok(Err(OAuthError::invalid_grant("this device was signed out")));
    }
    let rotated = sqlx::query("UPDATE oauth_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL")
        .bind(now)
        .bind(&token_hash)
        .execute(&mut *tx)
        .await?;
    if rotated.rows_affected() == 0 {
        revoke_grant(&mut tx, remembered, grant_id, "refresh token reused").await?;
        record_token_event(
            &mut tx,
            user_id,
            grant_id,
            "oauth.refresh_reused",
            origin,
            Outcome::Denied,
            "the device was signed out",
        )
        .await?;
        tx.commit().await?;
        return Ok(Err(OAuthError::invalid_grant("the refresh token was already used; sign in again")));
    }
    if row.try_get::<i64, _>("expires_at")? <= now {
        tx.commit().await?;
        return Ok(Err(OAuthError::invalid_grant("the refresh token has expired; sign in again")));
    }
    let scope: String = row.try_get("scope")?;
    let tokens = issue_pair(&mut tx, hasher, grant_id, &scope, now).await?;
    sqlx::query("UPDATE oauth_grants SET last_used_at = $1, last_used_ip = $2 WHERE id = $3")
        .bind(now)
        .bind(origin.ip)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(tokens))
}

async fn issue_pair(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    hasher: &SecretHasher,
    grant_id: i64,
    scope: &str,
    now: i64,
) -> Result<TokenResponse> {
    let access = secret::generate(SecretKind::AccessToken);
    let refresh = secret::generate(SecretKind::RefreshToken);
    for (token, kind, ttl) in [(&access, "access", ACCESS_TTL_SECS), (&refresh, "refresh", REFRESH_TTL_SECS)] {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, grant_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(hasher.hash(token))
        .bind(grant_id)
        .bind(kind)
        .bind(now)
        .bind(now + ttl)
        .execute(&mut **tx)
        .await?;
    }
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECS,
        refresh_token: refresh,
        scope: scope.to_owned(),
    })
}

async fn revoke_grant(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    remembered: &CredentialCache,
    grant_id: i64,
    reason: &str,
) -> Result<()> {
    remembered.forget_all();
    sqlx::query("UPDATE oauth_grants SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(now())
        .bind(reason)
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn record_token_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    grant_id: i64,
    action: &str,
    origin: Origin<'_>,
    outcome: Outcome,
    details: &str,
) -> Result<()> {
    let email: String =
        sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(user_id).fetch_one(&mut **tx).await?;
    let credential = format!("oauth_token:{grant_id}");
    audit::record(
        &mut **tx,
        &Event {
            actor_user_id: Some(user_id),
            actor: &email,
            credential: Some(&credential),
            action,
            target: &credential,
            ip: origin.ip,
            user_agent: origin.user_agent,
            outcome: Some(outcome),
            details,
        },
    )
    .await
}

/// RFC 7009: revoking a refresh token signs its device out; revoking an access token ends
/// that token. Unknown tokens are not an error.
pub async fn revoke_token(
    db: &Db,
    hasher: &SecretHasher,
    remembered: &CredentialCache,
    client_id: &str,
    token: &str,
    origin: Origin<'_>,
) -> Result<Result<(), OAuthError>> {
    let kind = secret::parse(token);
    if !matches!(kind, Some(SecretKind::AccessToken | SecretKind::RefreshToken)) {
        return Ok(Ok(()));
    }
    let mut tx = db.begin().await?;
    let row = sqlx::query(
        "SELECT t.grant_id, g.user_id, cl.client_id FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id \
         JOIN oauth_clients cl ON cl.id = g.client_id WHERE t.token_hash = $1",
    )
    .bind(hasher.hash(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(Ok(())) };
    let grant_id: i64 = row.try_get("grant_id")?;
    let user_id: i64 = row.try_get("user_id")?;
    // Only the app a token was issued to may revoke it (RFC 7009 §2.1): another app that
    // learnt it must not sign the person out.
    if row.try_get::<String, _>("client_id")? != client_id {
        let refused = "the token was issued to another app";
        record_token_event(&mut tx, user_id, grant_id, "oauth.revoke", origin, Outcome::Denied, refused).await?;
        tx.commit().await?;
        return Ok(Err(OAuthError::new("unauthorized_client", refused)));
    }
    if kind == Some(SecretKind::RefreshToken) {
        revoke_grant(&mut tx, remembered, grant_id, "revoked by the app").await?;
    } else {
        sqlx::query("DELETE FROM oauth_tokens WHERE token_hash = $1")
            .bind(hasher.hash(token))
            .execute(&mut *tx)
            .await?;
        remembered.forget_all();
    }
    record_token_event(&mut tx, user_id, grant_id, "oauth.revoke", origin, Outcome::Success, "").await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// A signed-in device: one grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: i64,
    pub user_id: i64,
    pub user_email: String,
    pub app: String,
    pub device: String,
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_used_ip: Option<String>,
}

/// Devices still signed in, of one user or (with `None`) everyone's.
pub async fn devices(db: &Db, user_id: Option<i64>) -> Result<Vec<Device>> {
    let rows = sqlx::query(
        "SELECT g.id, g.user_id, u.email, cl.name, g.device, g.scope, g.created_at, g.last_used_at, g.last_used_ip \
         FROM oauth_grants g JOIN users u ON u.id = g.user_id JOIN oauth_clients cl ON cl.id = g.client_id \
         WHERE g.revoked_at IS NULL AND ($1 = 0 OR g.user_id = $1) \
         AND EXISTS (SELECT 1 FROM oauth_tokens t WHERE t.grant_id = g.id AND t.kind = 'refresh' AND t.rotated_at IS NULL AND t.expires_at > $2) \
         ORDER BY g.id DESC LIMIT 500",
    )
    .bind(user_id.unwrap_or(0))
    .bind(now())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Device {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                user_email: r.try_get("email")?,
                app: r.try_get("name")?,
                device: r.try_get("device")?,
                scope: r.try_get::<String, _>("scope")?.parse()?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                last_used_ip: r.try_get("last_used_ip")?,
            })
        })
        .collect()
}

/// Signs a device out remotely: its tokens stop working at once. A user signs out their
/// own devices; owners anyone's.
pub async fn sign_out_device(
    db: &Db,
    remembered: &CredentialCache,
    actor: &User,
    ip: Option<&str>,
    grant_id: i64,
) -> Result<()> {
    let owner: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM oauth_grants WHERE id = $1 AND revoked_at IS NULL")
            .bind(grant_id)
            .fetch_optional(db.pool())
            .await?;
    let owner = owner.ok_or(Error::NotFound)?;
    if owner != actor.id && !actor.role.oversees_sign_ins() {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    revoke_grant(&mut tx, remembered, grant_id, "signed out from the panel").await?;
    audit::record(
        &mut *tx,
        &Event {
            actor_user_id: Some(actor.id),
            actor: &actor.email,
            action: "device.sign_out",
            target: &format!("oauth_token:{grant_id}"),
            ip,
            ..Event::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets used or expired codes, long-expired tokens and grants revoked a month ago.
pub async fn delete_expired(db: &Db) -> Result<u64> {
    let now = now();
    let mut deleted = 0;
    for (sql, cutoff) in [
        ("DELETE FROM oauth_codes WHERE expires_at < $1", now - 3600),
        ("DELETE FROM oauth_tokens WHERE expires_at < $1", now - 86_400),
        ("DELETE FROM oauth_grants WHERE revoked_at < $1", now - 30 * 86_400),
    ] {
        deleted += sqlx::query(sql).bind(cutoff).execute(db.writer()).await?.rows_affected();
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_follows_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn redirect_uris_are_checked_for_registration() {
        for ok in [
            "cartman://oauth",
            "https://app.example.com/cb",
            "http://127.0.0.1:8765/cb",
            "http://[::1]/cb",
            "com.example.app://callback",
        ] {
            assert!(check_redirect_uri(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "javascript://alert(1)",
            "cartman://oauth#x",
            "not a uri",
            "CARTMAN://x",
            "https://",
            "exp://192.168.1.2:8081",
            "http://localhost/cb",
            "http://localhost:8765/cb",
        ] {
            assert!(check_redirect_uri(bad, false).is_err(), "{bad}");
        }
        assert!(check_redirect_uri("exp://192.168.1.2:8081", true).is_ok());
    }

    #[test]
    fn loopback_redirects_match_on_any_port_and_others_exactly() {
        let registered =
            ["http://127.0.0.1/cb".to_owned(), "http://[::1]:9000/cb".to_owned(), "cartman://oauth".to_owned()];
        for ok in ["http://127.0.0.1/cb", "http://127.0.0.1:51004/cb", "http://[::1]:1234/cb", "cartman://oauth"] {
            assert!(redirect_registered(&registered, ok), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:51004/other",
            "http://127.0.0.1:51004/cb?x=1",
            "http://localhost:51004/cb",
            "http://127.0.0.1:80x/cb",
            "http://127.0.0.1.evil.example/cb",
            "cartman://oauth/extra",
            "https://127.0.0.1/cb",
        ] {
            assert!(!redirect_registered(&registered, bad), "{bad}");
        }
    }
}
