//! The request log: one line per request, written once its answer has been
//! sent:
//!
//! ```text
//! 203.0.113.7 "GET /api/chatwoot/list/suporte" 200 412 3.214ms
//! ```
//!
//! the client (see [`crate::client_ip`]: the peer, or what trusted proxies
//! report), the method and **the path only** — never the query string, so a
//! `?token=` never reaches the log — the status, the bytes of the answer's
//! body and the time until it was sent. Every field is escaped (quotes,
//! backslashes, control and non-ASCII characters) and cut to a fixed length,
//! so that no request can forge or break a line.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Bytes;

use crate::client_ip::TrustedProxies;

/// Longest path written to the log, in characters; longer ones end in `...`.
pub const MAX_PATH_CHARS: usize = 512;
/// Longest method written to the log, in characters.
pub const MAX_METHOD_CHARS: usize = 32;

/// `field` as it may appear inside a log line: at most `max_chars`
/// characters of it (then `...`), with `"` and `\` escaped by a backslash,
/// `\n`, `\r` and `\t` written so, and every other character outside
/// printable ASCII written as `\u{hex}`.
pub fn escape(field: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(field.len().min(max_chars) + 3);
    let mut chars = field.chars();
    for c in chars.by_ref().take(max_chars) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            other => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(other));
            }
        }
    }
    if chars.next().is_some() {
        out.push_str("...");
    }
    out
}

/// What the log says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The client; `None` when unknown (no TCP peer).
    pub client: Option<IpAddr>,
    /// The method, as received.
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// Bytes of the answer's body that were sent.
    pub bytes: u64,
    /// From the start of the request to the end of the answer.
    pub elapsed: Duration,
}

impl Entry {
    /// The log line: `<client> "<method> <path>" <status> <bytes> <ms>ms`.
    pub fn line(&self) -> String {
        let client = self
            .client
            .map_or_else(|| "-".to_owned(), |ip| escape(&ip.to_string(), 64));
        format!(
            "{client} \"{} {}\" {} {} {:.3}ms",
            escape(&self.method, MAX_METHOD_CHARS),
            escape(&self.path, MAX_PATH_CHARS),
            self.status,
            self.bytes,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// Middleware: logs every request (see the module's documentation) once its
/// answer has been sent, or abandoned by the client.
///
/// # Errors
/// Whatever the inner service fails with (such a request is not logged).
pub async fn log_requests(
    trusted: Arc<TrustedProxies>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<Logged>, actix_web::Error> {
    let started = Instant::now();
    let client = trusted.client_of(req.peer_addr(), req.headers());
    let method = req.method().as_str().to_owned();
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    Ok(res.map_into_boxed_body().map_body(move |_, body| Logged {
        body,
        pending: Some(Pending {
            client,
            method,
            path,
            status,
            started,
        }),
        bytes: 0,
    }))
}

#[derive(Debug)]
struct Pending {
    client: Option<IpAddr>,
    method: String,
    path: String,
    status: u16,
    started: Instant,
}

/// An answer's body that counts its bytes and writes the request's log line
/// when it is done with.
pub struct Logged {
    body: BoxBody,
    pending: Option<Pending>,
    bytes: u64,
}

impl MessageBody for Logged {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &next {
            this.bytes = this
                .bytes
                .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        }
        next
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            let entry = Entry {
                client: p.client,
                method: p.method,
                path: p.path,
                status: p.status,
                bytes: self.bytes,
                elapsed: p.started.elapsed(),
            };
            log::info!("{}", entry.line());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: &str, path: &str) -> Entry {
        Entry {
            client: Some("127.0.0.1".parse().unwrap()),
            method: method.into(),
            path: path.into(),
            status: 200,
            bytes: 412,
            elapsed: Duration::from_micros(3214),
        }
    }

    #[test]
    fn the_line_format() {
        assert_eq!(
            entry("GET", "/api/chatwoot/list/suporte").line(),
            "127.0.0.1 \"GET /api/chatwoot/list/suporte\" 200 412 3.214ms"
        );
        let unknown = Entry {
            client: None,
            ..entry("GET", "/health")
        };
        assert!(unknown.line().starts_with("- \"GET /health\""));
    }

    #[test]
    fn hostile_fields_cannot_forge_a_line() {
        let line = entry("GET", "/x\" 200 1 1ms\n6.6.6.6 \"GET /api/admin").line();
        assert_eq!(
            line,
            "127.0.0.1 \"GET /x\\\" 200 1 1ms\\n6.6.6.6 \\\"GET /api/admin\" 200 412 3.214ms"
        );
        assert_eq!(line.lines().count(), 1);
        // exactly two unescaped quotes: the request's
        let unescaped = line
            .char_indices()
            .filter(|(i, c)| *c == '"' && !line[..*i].ends_with('\\'))
            .count();
        assert_eq!(unescaped, 2, "{line}");
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("plain /path-1_~", 512), "plain /path-1_~");
        assert_eq!(escape("a\"b\\c", 512), "a\\\"b\\\\c");
        assert_eq!(escape("\r\n\t", 512), "\\r\\n\\t");
        assert_eq!(
            escape("\u{1b}[31m\u{0}\u{7f}", 512),
            "\\u{1b}[31m\\u{0}\\u{7f}"
        );
        assert_eq!(
            escape("é\u{202e}\u{2028}", 512),
            "\\u{e9}\\u{202e}\\u{2028}"
        );
        // a backslash at the end cannot escape the closing quote
        assert_eq!(escape("x\\", 512), "x\\\\");
    }

    #[test]
    fn long_fields_are_cut() {
        let path = format!("/{}", "a".repeat(10_000));
        let cut = escape(&path, MAX_PATH_CHARS);
        assert_eq!(cut.len(), MAX_PATH_CHARS + 3);
        assert!(cut.ends_with("..."));
        assert_eq!(
            escape(&"a".repeat(MAX_PATH_CHARS), MAX_PATH_CHARS).len(),
            MAX_PATH_CHARS
        );
        let line = entry(&"M".repeat(100), &path).line();
        assert!(
            line.len() < MAX_PATH_CHARS + MAX_METHOD_CHARS + 64,
            "{line}"
        );
        // cutting counts characters, never splitting one
        assert_eq!(escape("ééé", 2), "\\u{e9}\\u{e9}...");
    }
}
