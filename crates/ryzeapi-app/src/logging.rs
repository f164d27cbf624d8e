//! Logging: env_logger (filter from `RUST_LOG`, default [`DEFAULT_FILTER`])
//! behind a small filter for lines a client can cause at will.
//!
//! actix-http writes an ERROR line (`stream error: …`, target
//! `actix_http::h1::dispatcher`) for every malformed request and every
//! connection a client breaks off; anyone can produce thousands a minute.
//! [`ClientErrors`] writes those at DEBUG instead and, at most once a
//! minute, one WARN line with how many there were since the previous one.
//! Connections refused over `MAX_CONNECTIONS_PER_IP` are reported the same
//! way ([`note_refused_connection`]). Every other line passes unchanged.

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use log::{Level, Log, Metadata, Record};

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,actix_server=warn";
/// The target of actix-http's per-connection lines.
pub const DISPATCHER_TARGET: &str = "actix_http::h1::dispatcher";
/// The least time between two summary lines of the same kind.
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// The starts of actix-http's lines that a client causes: a request that
/// cannot be parsed (answered 400 or 431), a connection broken off or too
/// slow.
const CLIENT_CAUSED: [&str; 4] = [
    "stream error: request parse error",
    "stream error: I/O error",
    "stream error: request did not complete within the specified timeout",
    "stream error: connection shutdown timeout",
];

/// Counts occurrences and says when a report is due: at the first one, then
/// at the first one at least `every` after the previous report.
#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttle {
    /// A throttle reporting at most once per `every`.
    pub const fn new(every: Duration) -> Self {
        Self {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// Counts one occurrence at `now`; `Some(n)` when a report is due, `n`
    /// being the occurrences since the previous report (this one included).
    pub fn hit(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1 = state.1.saturating_add(1);
        let due = state
            .0
            .is_none_or(|last| now.saturating_duration_since(last) >= self.every);
        if !due {
            return None;
        }
        let n = state.1;
        *state = (Some(now), 0);
        Some(n)
    }
}

/// Whether a line comes from the HTTP client's wire dumps: at TRACE, ureq
/// and ureq-proto write the raw bytes of requests and answers, headers
/// included (the bridge's service token, a Chatwoot token in an activate
/// body), cut into pieces no redaction could recognise. Those lines are never
/// written, whatever `RUST_LOG` says.
pub fn is_wire_dump(metadata: &Metadata<'_>) -> bool {
    metadata.level() == Level::Trace
        && (metadata.target() == "ureq"
            || metadata.target().starts_with("ureq::")
            || metadata.target().starts_with("ureq_proto"))
}

/// Whether `record` is one of actix-http's lines that a client causes.
pub fn is_client_caused(record: &Record<'_>) -> bool {
    if record.target() != DISPATCHER_TARGET || record.level() != Level::Error {
        return false;
    }
    let text = record.args().to_string();
    CLIENT_CAUSED.iter().any(|start| text.starts_with(start))
}

/// A logger that passes every line to `inner`, except actix-http's
/// client-caused errors: those go to `inner` at DEBUG, with a WARN summary
/// at most once per [`SUMMARY_EVERY`].
#[derive(Debug)]
pub struct ClientErrors<L> {
    inner: L,
    throttle: Throttle,
}

impl<L: Log> ClientErrors<L> {
    /// Wraps `inner`.
    pub fn new(inner: L) -> Self {
        Self {
            inner,
            throttle: Throttle::new(SUMMARY_EVERY),
        }
    }

    fn relevel(&self, record: &Record<'_>, now: Instant) {
        self.inner.log(
            &Record::builder()
                .level(Level::Debug)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .args(*record.args())
                .build(),
        );
        if let Some(n) = self.throttle.hit(now) {
            self.inner.log(
                &Record::builder()
                    .level(Level::Warn)
                    .target(module_path!())
                    .args(format_args!(
                        "{n} malformed or broken-off HTTP connection(s) since the last report (latest: {}); each is logged at debug level under {DISPATCHER_TARGET}",
                        record.args()
                    ))
                    .build(),
            );
        }
    }
}

impl<L: Log> Log for ClientErrors<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        !is_wire_dump(metadata)
            && ((metadata.target() == DISPATCHER_TARGET && metadata.level() == Level::Error)
                || self.inner.enabled(metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if is_wire_dump(record.metadata()) {
            return;
        }
        if is_client_caused(record) {
            self.relevel(record, Instant::now());
        } else {
            self.inner.log(record);
        }
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

static REFUSED: Throttle = Throttle::new(SUMMARY_EVERY);

/// Reports a connection refused over `MAX_CONNECTIONS_PER_IP`: a WARN line
/// at most once per [`SUMMARY_EVERY`], with the count since the previous one.
pub fn note_refused_connection(ip: IpAddr) {
    if let Some(n) = REFUSED.hit(Instant::now()) {
        log::warn!(
            "refused {n} connection(s) over MAX_CONNECTIONS_PER_IP since the last report (latest from {ip})"
        );
    }
}

/// Installs env_logger, filtered by `RUST_LOG` (default [`DEFAULT_FILTER`]),
/// behind [`ClientErrors`].
///
/// # Errors
/// A logger is already installed.
pub fn init() -> Result<(), log::SetLoggerError> {
    let inner =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(DEFAULT_FILTER))
            .build();
    let max = inner.filter();
    log::set_boxed_logger(Box::new(ClientErrors::new(inner)))?;
    log::set_max_level(max);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(Level, String, String)>>);

    impl Log for Lines {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &Record<'_>) {
            self.0.lock().unwrap().push((
                record.level(),
                record.target().to_owned(),
                record.args().to_string(),
            ));
        }
        fn flush(&self) {}
    }

    fn emit(logger: &impl Log, level: Level, target: &str, text: &str) {
        logger.log(
            &Record::builder()
                .level(level)
                .target(target)
                .args(format_args!("{text}"))
                .build(),
        );
    }

    #[test]
    fn the_http_clients_wire_dumps_are_never_written() {
        let logger = ClientErrors::new(Lines::default());
        emit(
            &logger,
            Level::Trace,
            "ureq_proto::client",
            "api_access_token: sk_",
        );
        emit(
            &logger,
            Level::Trace,
            "ureq::unversioned::transport",
            "live_abc",
        );
        emit(&logger, Level::Debug, "ureq::pool", "connection reused");
        emit(&logger, Level::Trace, "ryzeapi_app::events", "kept");
        let lines = logger.inner.0.lock().unwrap().clone();
        let texts: Vec<&str> = lines.iter().map(|l| l.2.as_str()).collect();
        assert_eq!(texts, ["connection reused", "kept"]);
        assert!(!logger.enabled(
            &Metadata::builder()
                .level(Level::Trace)
                .target("ureq_proto::client")
                .build()
        ));
    }

    #[test]
    fn client_caused_errors_become_debug_with_a_summary() {
        let logger = ClientErrors::new(Lines::default());
        for _ in 0..1000 {
            emit(
                &logger,
                Level::Error,
                DISPATCHER_TARGET,
                "stream error: request parse error: invalid Header provided",
            );
        }
        emit(
            &logger,
            Level::Error,
            DISPATCHER_TARGET,
            "stream error: I/O error: reset",
        );
        let lines = logger.inner.0.lock().unwrap().clone();
        assert!(
            lines.iter().all(|(l, _, _)| *l != Level::Error),
            "no ERROR line left"
        );
        assert_eq!(
            lines.iter().filter(|(l, _, _)| *l == Level::Debug).count(),
            1001
        );
        let warnings: Vec<_> = lines.iter().filter(|(l, _, _)| *l == Level::Warn).collect();
        assert_eq!(warnings.len(), 1, "one summary within a minute");
        assert!(
            warnings[0].2.starts_with("1 malformed"),
            "{:?}",
            warnings[0]
        );
    }

    #[test]
    fn other_lines_pass_unchanged() {
        let logger = ClientErrors::new(Lines::default());
        emit(
            &logger,
            Level::Error,
            DISPATCHER_TARGET,
            "stream error: internal error",
        );
        emit(
            &logger,
            Level::Error,
            DISPATCHER_TARGET,
            "Upgrade handler error: x",
        );
        emit(
            &logger,
            Level::Error,
            "ryzeapi_app::error",
            "stream error: request parse error",
        );
        emit(
            &logger,
            Level::Info,
            "ryzeapi_app::access_log",
            "127.0.0.1 \"GET /\" 200 0 1ms",
        );
        let lines = logger.inner.0.lock().unwrap().clone();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines.iter().filter(|(l, _, _)| *l == Level::Error).count(),
            3
        );
    }

    #[test]
    fn the_throttle_reports_counts_once_per_period() {
        let t = Throttle::new(Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(t.hit(start), Some(1));
        assert_eq!(t.hit(start + Duration::from_secs(1)), None);
        assert_eq!(t.hit(start + Duration::from_secs(59)), None);
        assert_eq!(t.hit(start + Duration::from_secs(60)), Some(3));
        assert_eq!(t.hit(start + Duration::from_secs(61)), None);
    }
}
