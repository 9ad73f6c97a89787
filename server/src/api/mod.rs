//! The REST API at `/api/v1`, for the mobile app and integrations. Every endpoint is
//! registered through utoipa's router, so the OpenAPI document at `/api/v1/openapi.json`
//! is generated from the same list the server routes; the guards and the errors they
//! answer are added to the document from the router each endpoint sits in, so the
//! document cannot claim a guard the server does not apply.

pub mod accounting;
pub mod audit;
pub mod connection;
pub mod error;
pub mod guard;
pub mod keys;
pub mod orders;
pub mod rate_limit;
pub mod reports;
pub mod tickets;
pub mod transactions;
pub mod whatsapp;

use std::sync::Arc;

use axum::{Extension, Router, http::header, middleware::from_fn_with_state, response::IntoResponse, routing::any};
use utoipa::{
    OpenApi,
    openapi::{
        self, Content, RefOr, Response,
        security::{
            AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
        },
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Backroom API",
        description = "The back office of a WooCommerce shop. Errors have one shape: \
            `{\"error\": {\"code\": \"snake_case_code\", \"message\": \"…\"}}`. Requests made with a connection \
            key also send `X-Backroom-Timestamp` (Unix seconds, within the window `GET /api/v1/discover` gives) and \
            may send `X-Backroom-Nonce` (8–64 letters, digits, `-`, `_`; refused if seen again within the window). \
            Reads need the `read` scope, every other method `write`."
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, backend::orders::list::SortBy)),
    tags(
        (name = "connection", description = "Discovery, identity and the connection test"),
        (name = "audit", description = "The audit log"),
        (name = "keys", description = "Connection keys"),
        (name = "orders", description = "Orders, their details, customer, refunds and notes"),
        (name = "reports", description = "Sales reports"),
        (name = "support", description = "Support tickets, and the support form's public back end"),
        (name = "whatsapp", description = "What the storefront calls: checkout capture, the cart a recovery link puts back, and the click-to-chat widget"),
    )
)]
struct ApiDoc;

/// The generated document, served as JSON.
#[derive(Clone)]
pub struct Document(Arc<Vec<u8>>);

/// The OpenAPI 3 document of this API.
#[utoipa::path(get, path = "/openapi.json", tag = "connection", responses((status = 200, description = "The OpenAPI 3 document", content_type = "application/json")))]
async fn openapi_json(Extension(Document(json)): Extension<Document>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], json.as_ref().clone())
}

/// The API's routes and its document.
pub fn router(state: AppState) -> (Router<AppState>, openapi::OpenApi) {
    let mut authenticated = OpenApiRouter::new()
        .routes(routes!(connection::me))
        .routes(routes!(connection::status))
        .routes(routes!(audit::list))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::revoke))
        .routes(routes!(orders::list))
        .routes(routes!(orders::get, orders::change_status))
        .routes(routes!(orders::refunds, orders::refund))
        .routes(routes!(orders::add_note))
        .routes(routes!(orders::edit_customer))
        .routes(routes!(accounting::sync))
        .routes(routes!(transactions::list))
        .routes(routes!(reports::sales))
        .routes(routes!(tickets::list))
        .routes(routes!(tickets::get, tickets::change))
        .routes(routes!(tickets::reply))
        .routes(routes!(tickets::note));
    document_guards(authenticated.get_openapi_mut(), true);
    let mut public = OpenApiRouter::new()
        .routes(routes!(connection::discover))
        .routes(routes!(openapi_json))
        .routes(routes!(tickets::submit))
        .routes(routes!(whatsapp::capture))
        .routes(routes!(whatsapp::restore))
        .routes(routes!(whatsapp::widget));
    document_guards(public.get_openapi_mut(), false);

    let api = authenticated
        .layer(from_fn_with_state(state.clone(), guard::caller))
        .merge(public.layer(from_fn_with_state(state.clone(), guard::public_rate)));
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", api).split_for_parts();
    add_security_schemes(&mut doc);
    let json = serde_json::to_vec_pretty(&doc).expect("the OpenAPI document serializes");
    let router = router
        .route("/api/v1", any(no_such_endpoint))
        .route("/api/v1/{*rest}", any(no_such_endpoint))
        .route_layer(from_fn_with_state(state, guard::transport))
        .layer(Extension(Document(Arc::new(json))));
    (router, doc)
}

/// Any path under `/api/v1` that no endpoint matches.
async fn no_such_endpoint() -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_such_endpoint",
        "there is no such endpoint; see /api/v1/openapi.json",
    )
}

/// Adds the errors the guards can answer to every operation, and — for endpoints behind
/// the credential guard — the ways to authenticate.
fn document_guards(doc: &mut openapi::OpenApi, authenticated: bool) {
    let mut errors = vec![
        ("400", "The request is malformed (`bad_request`, `invalid_json`, `invalid_query`, `invalid_cursor`)"),
        ("403", "`https_required`, `ip_not_allowed`, `insufficient_scope`, `forbidden` (the role does not allow it)"),
        ("413", "`too_large`: the body is over the limit"),
        ("429", "`rate_limited` or `locked_out`, with `Retry-After`"),
        ("503", "`busy`: every database connection stayed busy; try again after `Retry-After`"),
    ];
    if authenticated {
        errors.push((
            "401",
            "`missing_credentials`, `invalid_credentials`, `key_expired`, `key_revoked`, `token_expired`, `token_revoked`, \
             `timestamp_invalid`, `timestamp_expired`, `nonce_invalid`, `nonce_reused`",
        ));
    }
    let security = vec![
        SecurityRequirement::new("connection_key", Vec::<String>::new()),
        SecurityRequirement::new("oauth2", ["read", "write"]),
        SecurityRequirement::new("app_password", Vec::<String>::new()),
    ];
    for item in doc.paths.paths.values_mut() {
        for operation in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            let body_errors = [
                ("415", "`unsupported_media_type`: the body must be JSON"),
                ("422", "`invalid`: the body's values are not acceptable"),
            ];
            let with_body = operation.request_body.is_some().then_some(body_errors.iter()).into_iter().flatten();
            for (status, description) in errors.iter().chain(with_body) {
                let response = Response::builder()
                    .description(*description)
                    .content("application/json", Content::new(Some(openapi::Ref::from_schema_name("ErrorBody"))))
                    .build();
                operation.responses.responses.entry((*status).to_owned()).or_insert(RefOr::T(response));
            }
            operation.security =
                Some(if authenticated { security.clone() } else { vec![SecurityRequirement::default()] });
        }
    }
}

fn add_security_schemes(doc: &mut openapi::OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "connection_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("brk_…")
                .description(Some("A connection key from the panel (Access & keys), with X-Backroom-Timestamp"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "app_password",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("The user's email and one of their application passwords (brp_…)"))
                .build(),
        ),
    );
    let scopes = Scopes::from_iter([("read", "Read the shop's data"), ("write", "Read and change the shop's data")]);
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::new([Flow::AuthorizationCode(AuthorizationCode::new(
            "/oauth/authorize",
            "/oauth/token",
            scopes,
        ))])),
    );
}
