//! `/admin/whatsapp/carts.csv` and `/admin/whatsapp/messages.csv`: the recovery carts and
//! the message log as spreadsheets, for owners and admins signed in to the panel.

use app::context::{ClientIp, SignedIn};
use axum::{Extension, Router, extract::State, http::Uri, response::Response, routing::get};
use backend::{users::Role, whatsapp::report};

use crate::{
    AppState,
    panel::csv_export::{Download, Requester, failed},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/whatsapp/carts.csv", get(carts)).route("/admin/whatsapp/messages.csv", get(messages))
}

async fn carts(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    ip: Option<Extension<ClientIp>>,
    uri: Uri,
) -> Response {
    let requester = match Requester::check(signed_in, ip, &uri, Role::manages_store) {
        Ok(requester) => requester,
        Err(refused) => return *refused,
    };
    match report::carts_csv(&state.services.db).await {
        Ok(body) => {
            requester
                .deliver(
                    &state,
                    Download {
                        action: "whatsapp.carts.export",
                        target: "whatsapp_carts",
                        details: "carts as CSV",
                        filename: "backroom-whatsapp-carts.csv",
                        body,
                    },
                )
                .await
        }
        Err(e) => failed(e.into()),
    }
}

async fn messages(
    State(state): State<AppState>,
    signed_in: Option<Extension<SignedIn>>,
    ip: Option<Extension<ClientIp>>,
    uri: Uri,
) -> Response {
    let requester = match Requester::check(signed_in, ip, &uri, Role::manages_store) {
        Ok(requester) => requester,
        Err(refused) => return *refused,
    };
    match report::messages_csv(&state.services.db).await {
        Ok(body) => {
            let download = Download {
                action: "whatsapp.messages.export",
                target: "whatsapp_messages",
                details: "messages as CSV",
                filename: "backroom-whatsapp-messages.csv",
                body,
            };
            requester.deliver(&state, download).await
        }
        Err(e) => failed(e.into()),
    }
}
