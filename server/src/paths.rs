//! Backroom's address space: which paths are the panel's (its pages and the server
//! functions behind them), the REST API's and OAuth's. The middleware that treats each
//! part its own way (the session, the headers, the refusals, the error shapes) asks here.

/// A panel page: `/admin` and everything under it.
pub fn is_panel_page(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// A panel page seen signed out: sign-in (with its two-factor code), and the pages a
/// password reset or an invitation link opens (with asking for the reset).
pub fn is_signed_out_page(path: &str) -> bool {
    matches!(
        path,
        "/admin/login"
            | "/admin/sign-in-code"
            | "/admin/forgot-password"
            | "/admin/reset-password"
            | "/admin/invitation"
    )
}

/// The REST API: `/api/v1` and everything under it.
pub fn is_rest_api(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// A panel server function: registered by Leptos under `/api/`, beside the REST API.
pub fn is_server_function(path: &str) -> bool {
    path.starts_with("/api/") && !is_rest_api(path)
}

/// OAuth's token endpoints, which apps call with their own credentials and no cookies.
pub fn is_oauth_token_endpoint(path: &str) -> bool {
    path == "/oauth/token" || path == "/oauth/revoke"
}

/// The paths the session cookie is read for: the panel (its pages, server functions and
/// exports) and an app's OAuth consent page.
pub fn uses_session(path: &str) -> bool {
    is_panel_page(path) || path.starts_with("/oauth/authorize") || is_server_function(path)
}

/// Whether an answer holds what only a signed-in person or a credential may see: the
/// panel, its server functions and exports, the OAuth pages and the REST API.
pub fn is_private(path: &str) -> bool {
    uses_session(path) || path.starts_with("/oauth/") || path.starts_with("/api/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_belongs_to_its_part() {
        assert!(is_panel_page("/admin") && is_panel_page("/admin/orders") && !is_panel_page("/administrator"));
        assert!(is_signed_out_page("/admin/invitation") && !is_signed_out_page("/admin/users"));
        assert!(is_rest_api("/api/v1") && is_rest_api("/api/v1/orders") && !is_rest_api("/api/v10"));
        assert!(is_server_function("/api/sign_in") && !is_server_function("/api/v1/orders"));
        assert!(uses_session("/oauth/authorize?client_id=x") && !uses_session("/oauth/token"));
        assert!(is_private("/api/v1/orders") && is_private("/oauth/token") && !is_private("/support"));
        assert!(is_oauth_token_endpoint("/oauth/revoke") && !is_oauth_token_endpoint("/oauth/authorize"));
    }
}
