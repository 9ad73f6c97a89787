//! Who is asking, and over what: the socket's address, or — when the socket is a trusted
//! proxy — the last untrusted address in `X-Forwarded-For`; and whether the client's
//! connection was HTTPS (a trusted proxy's `X-Forwarded-Proto`). Trusted proxies come
//! from `BACKROOM_TRUSTED_PROXIES` and the security settings.

use std::net::{IpAddr, SocketAddr};

use app::context::ClientIp;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use backend::{access::security::SecuritySettings, services::Services};
use ipnet::IpNet;

use crate::AppState;

/// The client's address and whether it reached us over HTTPS (through a trusted proxy;
/// Backroom itself serves plain HTTP).
#[derive(Clone, Copy, Debug, Default)]
pub struct Transport {
    pub ip: Option<IpAddr>,
    pub https: bool,
}

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let settings = state.services.security.cached();
    let trusted = trusted_proxies(&state.services, &settings);
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let headers = req.headers();
    let forwarded = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = peer.map(|peer| client_address(peer, forwarded, &trusted));
    let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    let https = peer.is_some_and(|peer| is_trusted(&trusted, &peer))
        && proto.and_then(|p| p.rsplit(',').next()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    req.extensions_mut().insert(ClientIp(ip.map(|ip| ip.to_string())));
    req.extensions_mut().insert(Transport { ip, https });
    next.run(req).await
}

/// Whether `ip` is one of the shop's trusted proxies (from the environment or the
/// security settings).
pub fn is_trusted_proxy(services: &Services, ip: IpAddr) -> bool {
    is_trusted(&trusted_proxies(services, &services.security.cached()), &ip)
}

/// The trusted proxies: `BACKROOM_TRUSTED_PROXIES`, then the security settings'.
fn trusted_proxies<'a>(services: &'a Services, settings: &'a SecuritySettings) -> [&'a [IpNet]; 2] {
    [services.trusted_proxies.as_slice(), settings.trusted_proxies.as_slice()]
}

fn is_trusted(trusted: &[&[IpNet]], ip: &IpAddr) -> bool {
    trusted.iter().any(|list| list.iter().any(|net| net.contains(ip)))
}

/// Walks `X-Forwarded-For` from the right, past trusted proxies, to the client.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[&[IpNet]]) -> IpAddr {
    if !is_trusted(trusted, &peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(trusted, &ip) {
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
        let config: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let trusted = [config.as_slice(), &[]];
        assert_eq!(client_address(ip("203.0.113.9"), Some("1.2.3.4"), &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("10.0.0.2"), Some("1.2.3.4"), &trusted), ip("1.2.3.4"));
        // A client cannot hide behind a spoofed first hop: the nearest untrusted one wins.
        assert_eq!(client_address(ip("10.0.0.2"), Some("6.6.6.6, 1.2.3.4, 10.0.0.7"), &trusted), ip("1.2.3.4"));
        assert_eq!(client_address(ip("10.0.0.2"), None, &trusted), ip("10.0.0.2"));
        // Proxies from the security settings count too.
        let settings: Vec<IpNet> = vec!["192.0.2.1/32".parse().unwrap()];
        assert_eq!(client_address(ip("192.0.2.1"), Some("1.2.3.4"), &[&[], settings.as_slice()]), ip("1.2.3.4"));
    }
}
