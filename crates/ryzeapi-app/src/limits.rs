//! What one client can hold: the time allowed to receive a request's body
//! (`BODY_READ_TIMEOUT_SECS`) and the connections open at once from one
//! address (`MAX_CONNECTIONS_PER_IP`).
//!
//! actix-web bounds the time to receive a request's head
//! (`client_request_timeout`, 5 s) but not its body: a client that announces
//! `Content-Length: 100` and sends one byte, or trickles a byte every few
//! seconds, would hold the connection for as long as it likes. The
//! middleware [`enforce`] reads every body whole, before the handler runs,
//! within the deadline; when the deadline passes it answers 408 and the
//! connection is closed. Handlers then read the body from memory.
//!
//! Connections are counted per client address as they are accepted
//! ([`ConnectionLimiter::on_connect`]) and uncounted when they end. One over
//! the limit is answered 503 at once, without reading anything, and closed.
//! Trusted proxies (`TRUSTED_PROXIES`) are not counted: they carry many
//! clients.

use std::collections::HashMap;
use std::net::{IpAddr, Shutdown};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Extensions, Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::{ConnectionType, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpResponse;
use futures_core::Stream;
use serde_json::json;

use crate::client_ip::{canonical, TrustedProxies};
use crate::error::ApiError;

/// The message of the 503 answered to a connection over the per-address limit.
pub const TOO_MANY_CONNECTIONS: &str = "Too many connections from this address";

/// How long a body may take to arrive, and the most of it worth reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// From the end of the request's head to the end of its body.
    pub timeout: Duration,
    /// `MAX_BODY_BYTES`: one byte more is read, so that the handler answers 413.
    pub max_bytes: usize,
}

/// The message of the 408 answered when a body is not received in time.
pub fn body_timeout_message(timeout: Duration) -> String {
    format!(
        "request timeout: the body was not received within {} s",
        timeout.as_secs().max(1)
    )
}

/// An answer in the app's error envelope, closing the connection.
fn closing_answer(status: StatusCode, message: &str) -> HttpResponse {
    let mut res =
        HttpResponse::build(status).json(json!({"success": false, "error": {"message": message}}));
    res.head_mut().set_connection_type(ConnectionType::Close);
    res
}

/// Whether the request is a WebSocket handshake as the HTTP layer sees it
/// (`GET` with `Upgrade: websocket`): its payload is the socket's traffic,
/// not a body, and belongs to the socket route.
fn is_websocket_handshake(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get_all(header::UPGRADE)
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.trim().eq_ignore_ascii_case("websocket"))
}

/// Middleware: refuses requests on a connection over the per-address limit
/// (503), and receives each request's body whole within
/// [`BodyLimits::timeout`] before the handler runs (408 when it does not
/// arrive in time, and the connection is closed).
///
/// # Errors
/// Whatever the inner service fails with.
pub async fn enforce(
    limits: BodyLimits,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.conn_data::<Refused>().is_some() {
        let res = closing_answer(StatusCode::SERVICE_UNAVAILABLE, TOO_MANY_CONNECTIONS);
        return Ok(req.into_response(res));
    }
    let mut payload = req.parts_mut().1.take();
    if matches!(payload, Payload::None) || is_websocket_handshake(&req) {
        req.set_payload(payload);
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let mut body = BytesMut::new();
    let read = actix_web::rt::time::timeout(
        limits.timeout,
        read_body(&mut payload, &mut body, limits.max_bytes),
    )
    .await;
    match read {
        Err(_elapsed) => {
            let res = closing_answer(
                StatusCode::REQUEST_TIMEOUT,
                &body_timeout_message(limits.timeout),
            );
            // The unread payload stays alive until the answer is written, so
            // that the connection is closed rather than drained.
            Ok(req
                .into_response(res)
                .map_body(|_, b| BoxBody::new(Holding::new(b, payload))))
        }
        Ok(Err(e)) => {
            let res = actix_web::ResponseError::error_response(&ApiError::invalid_body(format!(
                "could not be read: {e}"
            )));
            Ok(req.into_response(res))
        }
        Ok(Ok(Whole::Complete)) => {
            req.set_payload(Payload::from(body.freeze()));
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Ok(Ok(Whole::TooLarge)) => {
            // The handler sees more than the limit and answers 413 in its
            // usual order of checks; the rest of the body is never read, so
            // the connection is closed after the answer.
            req.set_payload(Payload::from(body.freeze()));
            let res = next.call(req).await?;
            Ok(res.map_body(|head, b| {
                head.set_connection_type(ConnectionType::Close);
                BoxBody::new(Holding::new(b, payload))
            }))
        }
    }
}

/// How reading a body ended.
enum Whole {
    /// All of it is in the buffer.
    Complete,
    /// More than the limit arrived; the buffer holds the limit and a bit.
    TooLarge,
}

async fn read_body(
    payload: &mut Payload,
    body: &mut BytesMut,
    max_bytes: usize,
) -> Result<Whole, actix_web::error::PayloadError> {
    loop {
        match std::future::poll_fn(|cx| Pin::new(&mut *payload).poll_next(cx)).await {
            None => return Ok(Whole::Complete),
            Some(chunk) => {
                body.extend_from_slice(&chunk?);
                if body.len() > max_bytes {
                    return Ok(Whole::TooLarge);
                }
            }
        }
    }
}

/// An answer's body that keeps the request's unread payload alive while it
/// is written: the HTTP layer then closes the connection after the answer
/// instead of discarding what the client keeps sending.
struct Holding<B> {
    body: Pin<Box<B>>,
    _payload: Payload,
}

impl<B> Holding<B> {
    fn new(body: B, payload: Payload) -> Self {
        Self {
            body: Box::pin(body),
            _payload: payload,
        }
    }
}

impl<B: MessageBody> MessageBody for Holding<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().body.as_mut().poll_next(cx)
    }
}

/// Marks a connection that was over the per-address limit.
#[derive(Debug, Clone, Copy)]
pub struct Refused;

/// Counts open connections per client address.
#[derive(Debug)]
pub struct ConnectionLimiter {
    max_per_ip: usize,
    exempt: Arc<TrustedProxies>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one counted connection; uncounts it when dropped (with the
/// connection).
#[derive(Debug)]
pub struct ConnectionSlot {
    limiter: Arc<ConnectionLimiter>,
    ip: IpAddr,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut open = self
            .limiter
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionLimiter {
    /// At most `max_per_ip` connections per address (0: no limit); the
    /// addresses in `exempt` are not counted.
    pub fn new(max_per_ip: usize, exempt: Arc<TrustedProxies>) -> Arc<Self> {
        Arc::new(Self {
            max_per_ip,
            exempt,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a new connection from `ip`: a slot to keep for as long as the
    /// connection lives, `Ok(None)` when it is not counted, `Err` when the
    /// address already holds the most it may.
    ///
    /// # Errors
    /// [`Refused`] over the limit.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Option<ConnectionSlot>, Refused> {
        let ip = canonical(ip);
        if self.max_per_ip == 0 || self.exempt.contains(ip) {
            return Ok(None);
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return Err(Refused);
        }
        *n += 1;
        Ok(Some(ConnectionSlot {
            limiter: self.clone(),
            ip,
        }))
    }

    /// Connections counted for `ip` now.
    pub fn open_from(&self, ip: IpAddr) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&canonical(ip))
            .copied()
            .unwrap_or(0)
    }

    /// For `HttpServer::on_connect`: counts the accepted connection; over
    /// the limit, writes the 503 answer, shuts the socket down and marks the
    /// connection so that nothing on it is served.
    pub fn on_connect(self: &Arc<Self>, io: &dyn std::any::Any, ext: &mut Extensions) {
        let Some(tcp) = io.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = tcp.peer_addr() else {
            return;
        };
        match self.admit(peer.ip()) {
            Ok(Some(slot)) => {
                ext.insert(slot);
            }
            Ok(None) => {}
            Err(refused) => {
                ext.insert(refused);
                log::debug!(
                    "refused a connection from {}: {} connection(s) already open (MAX_CONNECTIONS_PER_IP)",
                    peer.ip(),
                    self.max_per_ip
                );
                crate::logging::note_refused_connection(peer.ip());
                let socket = socket2::SockRef::from(tcp);
                // A fresh socket's send buffer is empty: the answer fits in
                // one write. (Rust programs ignore SIGPIPE: a peer already
                // gone makes this an error, not a signal.)
                let _ = socket.send(refusal_bytes().as_bytes());
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The raw 503 written to a refused connection.
fn refusal_bytes() -> String {
    let body = json!({"success": false, "error": {"message": TOO_MANY_CONNECTIONS}}).to_string();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn counts_per_address_and_frees_on_drop() {
        let limiter = ConnectionLimiter::new(2, Arc::new(TrustedProxies::default()));
        let a = ip("198.51.100.1");
        let first = limiter.admit(a).unwrap();
        let second = limiter.admit(a).unwrap();
        assert!(first.is_some() && second.is_some());
        assert!(limiter.admit(a).is_err(), "the third is refused");
        assert!(
            limiter.admit(ip("::ffff:198.51.100.1")).is_err(),
            "the same address mapped into IPv6"
        );
        let other = limiter.admit(ip("198.51.100.2")).unwrap();
        assert!(other.is_some(), "other addresses are unaffected");
        drop(first);
        assert_eq!(limiter.open_from(a), 1);
        assert!(limiter.admit(a).unwrap().is_some(), "a slot was freed");
        drop(second);
        drop(other);
        assert_eq!(limiter.open_from(ip("198.51.100.2")), 0);
    }

    #[test]
    fn zero_is_no_limit_and_proxies_are_not_counted() {
        let off = ConnectionLimiter::new(0, Arc::new(TrustedProxies::default()));
        assert!(off.admit(ip("198.51.100.1")).unwrap().is_none());
        let proxies = Arc::new(TrustedProxies::parse("10.0.0.0/8").unwrap());
        let limiter = ConnectionLimiter::new(1, proxies);
        let held: Vec<_> = (0..5).map(|_| limiter.admit(ip("10.1.1.1"))).collect();
        assert!(held.iter().all(|r| matches!(r, Ok(None))));
    }

    #[test]
    fn the_refusal_is_a_complete_answer() {
        let raw = refusal_bytes();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["message"], TOO_MANY_CONNECTIONS);
    }
}
