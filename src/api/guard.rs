//! Who may be anonymous, and the connection loop that serves the API.
//!
//! Without a config, `dizhi serve` on a loopback address lets lookups go without a key — but only
//! for a caller that is itself on loopback, names a loopback host in its `Host` header, and did not
//! come through a proxy (`Forwarded`/`X-Forwarded-For`). In that mode a request naming any other
//! host is refused (403): a web page whose name was re-pointed at 127.0.0.1 (DNS rebinding) cannot
//! use the service from a clerk's browser. With a config, `anonymous_lookups = true` allows
//! anonymous lookups from anyone and checks no host.
//!
//! [`serve`] reads each connection's request headers within [`HEADER_READ_TIMEOUT`], so a caller
//! that sends its headers a byte at a time (slow-loris) is dropped instead of holding a
//! connection forever.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tower_service::Service;

use super::{ApiError, AppState};

/// How anonymous lookups are granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// Never: every request needs a key.
    Off,
    /// To loopback callers with a loopback `Host` (the default on a loopback address); requests
    /// naming another host are refused.
    LoopbackOnly,
    /// To anyone (`anonymous_lookups = true` in the config).
    Anyone,
}

/// Set on every request by [`guard`]: whether the caller may be anonymous.
#[derive(Debug, Clone, Copy)]
pub struct AnonymousAllowed(pub bool);

/// How long a connection may take to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a `Host` header value names this machine's loopback (`localhost`, `127.x.x.x`,
/// `[::1]`, with or without a port).
///
/// # Examples
/// ```
/// use dizhi::api::guard::loopback_host;
/// assert!(loopback_host("127.0.0.1:8080"));
/// assert!(loopback_host("localhost"));
/// assert!(loopback_host("[::1]:80"));
/// assert!(!loopback_host("evil.example.com:8080"));
/// assert!(!loopback_host("127.0.0.1.evil.example.com"));
/// ```
pub fn loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, port)) if port.is_empty() || port.starts_with(':') => inside,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return false,
            None => host,
        }
    };
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// The middleware: refuses requests naming a foreign host in [`Anonymous::LoopbackOnly`] mode and
/// marks whether the caller may be anonymous.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let allowed = match state.anonymous {
        Anonymous::Off => false,
        Anonymous::Anyone => true,
        Anonymous::LoopbackOnly => {
            let host = req
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
                .or_else(|| req.uri().authority().map(|a| a.to_string()));
            if !host.as_deref().is_some_and(loopback_host) {
                return ApiError::Forbidden(
                    "this server answers only requests to a loopback host (localhost, 127.0.0.1); \
                     serve it with a config to take requests for other names"
                        .into(),
                )
                .into_response();
            }
            let peer_local = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .is_some_and(|c| c.0.ip().is_loopback());
            let proxied = req.headers().contains_key(header::FORWARDED)
                || req.headers().contains_key("x-forwarded-for")
                || req.headers().contains_key("x-real-ip");
            peer_local && !proxied
        }
    };
    req.extensions_mut().insert(AnonymousAllowed(allowed));
    next.run(req).await
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the requests in flight.
/// Each request carries its peer address ([`ConnectInfo`]); request headers must arrive within
/// [`HEADER_READ_TIMEOUT`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let router = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            async move { router.call(req).await }
        });
        let mut closed = closed.clone();
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = closed.wait_for(|c| *c) => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}
