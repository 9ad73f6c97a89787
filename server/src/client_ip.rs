//! Who is asking: the socket's address, or — when the socket is a trusted proxy — the
//! last untrusted address in `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use app::context::ClientIp;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

use crate::AppState;

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = peer.map(|peer| client_address(peer, forwarded, &state.trusted_proxies));
    req.extensions_mut().insert(ClientIp(ip.map(|ip| ip.to_string())));
    next.run(req).await
}

/// Walks `X-Forwarded-For` from the right, past trusted proxies, to the client.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_address(ip("203.0.113.9"), Some("1.2.3.4"), &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("10.0.0.2"), Some("1.2.3.4"), &trusted), ip("1.2.3.4"));
        // A client cannot hide behind a spoofed first hop: the nearest untrusted one wins.
        assert_eq!(client_address(ip("10.0.0.2"), Some("6.6.6.6, 1.2.3.4, 10.0.0.7"), &trusted), ip("1.2.3.4"));
        assert_eq!(client_address(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
    }
}
