//! Connection keys over the API, for owners and admins: list, create (the key is in the
//! answer once), revoke. The same rules as the panel's Access & keys page.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use backend::access::{
    Denied, Scope,
    credentials::{self, CredentialInfo, CredentialType, NewCredential},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    error::{ApiError, ApiJson},
    guard::{Authenticated, ClientAddress},
};
use crate::AppState;

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<CredentialInfo>,
}

/// The shop's connection keys, newest first (revoked ones for 30 days).
#[utoipa::path(get, path = "/keys", tag = "keys", responses((status = 200, body = KeyList)))]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<KeyList>, ApiError> {
    let items = credentials::list(&state.services.db, &caller.user, CredentialType::ConnectionKey).await?;
    Ok(Json(KeyList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// 1 to 80 characters, not all blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*\S[^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub label: String,
    /// `read` (the default) or `write`.
    pub scope: Option<Scope>,
    /// Days until it expires, 1 to 3650; absent: never.
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, deserialize_with = "whole_number")]
    pub expires_days: Option<i64>,
}

/// JSON Schema counts `30.0` as an integer, so it is read as 30; `30.5` is refused.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(deserializer)? else { return Ok(None) };
    if let Some(n) = number.as_i64() {
        return Ok(Some(n));
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
        _ => Err(serde::de::Error::custom(format!("{number} is not a whole number of days"))),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key itself: shown this once, never again.
    pub secret: String,
    pub key: CredentialInfo,
}

/// Creates a connection key acting as the caller.
#[utoipa::path(post, path = "/keys", tag = "keys", request_body = NewKey, responses((status = 201, body = CreatedKey), (status = 422, body = super::error::ErrorBody, description = "`invalid`: the label, scope or expiry")))]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ClientAddress(ip): ClientAddress,
    ApiJson(new): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    if !caller.manages_keys() {
        return Err(Denied::KeysNeedPanel.into());
    }
    let scope = new.scope.unwrap_or(Scope::Read);
    // A key never gets more than the credential that made it.
    if !caller.scope.allows(scope) {
        return Err(Denied::InsufficientScope { needed: scope }.into());
    }
    let issued = credentials::create(
        &state.services.db,
        &state.services.hasher,
        &caller.user,
        ip.as_deref(),
        NewCredential { kind: CredentialType::ConnectionKey, label: new.label, scope, lifetime_days: new.expires_days },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { secret: issued.secret, key: issued.info })))
}

/// Revokes a connection key: it answers `key_revoked` from now on.
#[utoipa::path(delete, path = "/keys/{id}", tag = "keys", params(("id" = i64, Path)), responses((status = 204, description = "Revoked"), (status = 404, body = super::error::ErrorBody, description = "`not_found`"), (status = 409, body = super::error::ErrorBody, description = "`conflict`: already revoked")))]
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    ClientAddress(ip): ClientAddress,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if !caller.manages_keys() {
        return Err(Denied::KeysNeedPanel.into());
    }
    credentials::revoke(
        &state.services.db,
        &state.services.credentials,
        &caller.user,
        ip.as_deref(),
        CredentialType::ConnectionKey,
        id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
