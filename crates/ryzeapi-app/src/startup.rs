//! Building the application: database (migrated), cipher, ports, the
//! module's switch, the bootstrap account, then the bound HTTP server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use ryzeapi_adapters::crypto::{decode_key, load_or_create_key_file, parse_old_keys};
use ryzeapi_adapters::db::redact_url;
use ryzeapi_adapters::MemoryEngine;
use ryzeapi_adapters::{
    AesGcmCipher, Database, DatabaseKind, HttpBridgeClient, RingTokens, SystemClock,
};
use ryzeapi_core::{ChatwootModule, Ports, ServiceToken};
use ryzeapi_ports::{Clock, EventLog, Repository, TokenService, WhatsAppEngine};

use crate::access_log;
use crate::accounts::ensure_account;
use crate::events::public_hub::QueueLimits;
use crate::events::pump::Pump;
use crate::events::{BridgeHub, HubStats, Hubs, PublicHub, SocketLimits};
use crate::limits::{self, BodyLimits, ConnectionLimiter};
use crate::rate_limit::{self, RateLimiter};
use crate::routes;
use crate::settings::Settings;
use crate::state::{AppState, HubNotifier};

/// Unacknowledged events per instance kept in memory (at most 16 MiB), so
/// that a bridge a burst behind reads them from memory, not from the log.
const BRIDGE_TAIL: usize = 16_384;
/// Engine events waiting for the pump before the engine is made to wait.
const PUMP_QUEUE: usize = 16_384;

/// Prunes the event log every `interval`: acknowledged events older than
/// `acked`, any event older than `max_age`.
fn spawn_pruner(
    log: Arc<dyn EventLog>,
    clock: Arc<dyn Clock>,
    interval: Duration,
    acked: Duration,
    max_age: Duration,
) {
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(interval);
        loop {
            every.tick().await;
            let log = log.clone();
            let now = clock.now().as_millis();
            let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
            let acked_before =
                ryzeapi_domain::Timestamp::from_millis(now.saturating_sub(ms(acked)));
            let any_before =
                ryzeapi_domain::Timestamp::from_millis(now.saturating_sub(ms(max_age)));
            match actix_web::web::block(move || log.prune(acked_before, any_before)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => log::info!("pruned {n} event(s) from the log"),
                Ok(Err(e)) => log::error!("pruning the event log: {e}"),
                Err(e) => log::error!("pruning the event log: {e}"),
            }
        }
    });
}

/// How often the SQLite write-ahead log is folded into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// On SQLite, checkpoints the write-ahead log every [`CHECKPOINT_EVERY`] on a
/// blocking thread, so that commits (the event log's above all) never do it.
fn spawn_checkpointer(db: Database) {
    if db.kind() != DatabaseKind::Sqlite {
        return;
    }
    actix_web::rt::spawn(async move {
        let mut every = actix_web::rt::time::interval(CHECKPOINT_EVERY);
        loop {
            every.tick().await;
            let db = db.clone();
            match actix_web::web::block(move || db.checkpoint()).await {
                Ok(Ok(Some(done))) if done.checkpointed_pages < done.log_pages => log::debug!(
                    "checkpoint: {} of {} page(s) of the write-ahead log copied (readers hold the rest)",
                    done.checkpointed_pages,
                    done.log_pages
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => log::warn!("checkpoint of the SQLite write-ahead log: {e:#}"),
                Err(e) => log::warn!("checkpoint of the SQLite write-ahead log: {e}"),
            }
        }
    });
}

/// Gives an accepted connection a send buffer of `bytes` (0: leaves the
/// system's, which grows to several MiB). A client that stops reading then
/// holds at most that much kernel memory and is noticed after that much
/// data, so the hubs' own queues fill and drop it instead of the kernel
/// buffering megabytes for it.
fn limit_send_buffer(io: &dyn std::any::Any, bytes: usize) {
    if bytes == 0 {
        return;
    }
    if let Some(tcp) = io.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(bytes) {
            log::warn!("setting the send buffer of a connection: {e}");
        }
    }
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    engine: Arc<MemoryEngine>,
}

/// Opens and migrates the database named by the settings.
///
/// # Errors
/// Unreachable database or failed migration.
pub fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let db = Database::connect(
        &settings.database_url,
        settings.database_pool_size,
        Duration::from_secs(10),
    )?;
    let applied = db
        .migrate()
        .with_context(|| format!("migrating {}", redact_url(&settings.database_url)))?;
    if applied > 0 {
        log::info!("applied {applied} migration(s)");
    }
    Ok(db)
}

/// The cipher from `ENCRYPTION_KEY` (+ `ENCRYPTION_OLD_KEYS`); on SQLite
/// without a key, from a key file generated on first run.
///
/// # Errors
/// A missing key on Postgres, or a malformed key.
pub fn cipher(settings: &Settings, kind: DatabaseKind) -> anyhow::Result<AesGcmCipher> {
    let active = if !settings.encryption_key.expose().trim().is_empty() {
        decode_key("ENCRYPTION_KEY", settings.encryption_key.expose())?
    } else if kind == DatabaseKind::Sqlite {
        let path = Path::new(&settings.encryption_key_file);
        log::warn!(
            "ENCRYPTION_KEY is not set: using the key in {} (created on first run). Back it up; without it stored Chatwoot tokens cannot be read.",
            path.display()
        );
        load_or_create_key_file(path)?
    } else {
        anyhow::bail!(
            "ENCRYPTION_KEY is required with a Postgres database: set it to the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
        );
    };
    let old = parse_old_keys(settings.encryption_old_keys.expose())?;
    Ok(AesGcmCipher::new(
        (settings.encryption_key_id, active),
        &old,
    )?)
}

impl Application {
    /// Binds the listener first (port 0 picks one), then prepares everything
    /// the server needs. Call inside an actix system.
    ///
    /// # Errors
    /// Any startup failure, with a message naming the setting at fault.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let listener = TcpListener::bind(&settings.listen_addr)
            .with_context(|| format!("cannot listen on {}", settings.listen_addr))?;
        let port = listener.local_addr()?.port();
        let db = open_database(&settings)?;
        let cipher = cipher(&settings, db.kind())?;
        let store = Arc::new(db.repository());
        let repo: Arc<dyn Repository> = store.clone();
        let events: Arc<dyn EventLog> = store;
        let tokens: Arc<dyn TokenService> = Arc::new(RingTokens::new());
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);

        let base_url = if settings.base_url.trim().is_empty() {
            let host = settings
                .listen_addr
                .rsplit_once(':')
                .map_or("127.0.0.1", |(h, _)| h);
            format!("http://{host}:{port}")
        } else {
            settings.base_url.trim().trim_end_matches('/').to_owned()
        };
        let module = settings.module_enabled().then(|| {
            let ryzeapi_url = if settings.bridge_internal_ryzeapi_url.trim().is_empty() {
                base_url.clone()
            } else {
                settings
                    .bridge_internal_ryzeapi_url
                    .trim()
                    .trim_end_matches('/')
                    .to_owned()
            };
            ChatwootModule {
                bridge: Arc::new(HttpBridgeClient::new(
                    settings.bridge_url.trim(),
                    settings.bridge_token.expose().trim(),
                    settings.bridge_timeouts(),
                )),
                service_token: ServiceToken::new(settings.bridge_token.expose().trim()),
                server_url: ryzeapi_url,
            }
        });
        match &module {
            Some(m) => log::info!(
                "chatwoot module enabled: bridge {}, the bridge reaches this server at {}",
                settings.bridge_url.trim(),
                m.server_url
            ),
            None => log::info!(
                "chatwoot module disabled (set BRIDGE_URL and BRIDGE_TOKEN to enable it)"
            ),
        }

        let bootstrap = settings.bootstrap_account_token.expose().trim();
        if !bootstrap.is_empty() {
            anyhow::ensure!(
                bootstrap.len() >= 16,
                "BOOTSTRAP_ACCOUNT_TOKEN must be at least 16 characters"
            );
            let created = ensure_account(
                repo.as_ref(),
                tokens.as_ref(),
                clock.as_ref(),
                &settings.bootstrap_account_name,
                settings.default_max_instances,
                bootstrap,
            )?;
            if created {
                log::info!(
                    "created the bootstrap account '{}'",
                    settings.bootstrap_account_name
                );
            }
        }

        let stats = Arc::new(HubStats::default());
        let hubs = Hubs {
            public: PublicHub::new(
                stats.clone(),
                QueueLimits {
                    max_bytes: settings.public_ws_queue_bytes,
                    max_lag: Duration::from_secs(settings.public_ws_max_lag_secs),
                },
            ),
            bridge: BridgeHub::new(stats.clone(), BRIDGE_TAIL),
            stats: stats.clone(),
            directory: Arc::default(),
        };
        // The in-process engine starts with no connection: stored states follow.
        let reset = repo.set_all_states(ryzeapi_domain::ConnectionState::Disconnected)?;
        if reset > 0 {
            log::info!(
                "{reset} instance(s) marked disconnected: the engine starts without connections"
            );
        }
        let memory_engine = Arc::new(MemoryEngine::new(clock.clone()));
        let engine: Arc<dyn WhatsAppEngine> = memory_engine.clone();
        let sink = Pump {
            repo: repo.clone(),
            log: events.clone(),
            public: hubs.public.clone(),
            bridge: hubs.bridge.clone(),
            stats,
            base_url: base_url.clone(),
            clock: clock.clone(),
            batch: match db.kind() {
                DatabaseKind::Sqlite => crate::events::pump::SQLITE_BATCH,
                DatabaseKind::Postgres => crate::events::pump::POSTGRES_BATCH,
            },
            directory: hubs.directory.clone(),
        }
        .start(PUMP_QUEUE)?;
        engine.attach(Arc::new(sink));
        spawn_checkpointer(db.clone());
        spawn_pruner(
            events.clone(),
            clock.clone(),
            Duration::from_secs(settings.event_prune_interval_secs),
            Duration::from_secs(settings.event_retention_acked_secs),
            Duration::from_secs(settings.event_retention_max_hours.saturating_mul(3600)),
        );
        if settings.public_ws_queue.is_some() {
            log::warn!("PUBLIC_WS_QUEUE has no effect any more: a public socket client is dropped when it is more than PUBLIC_WS_MAX_LAG_SECS behind or PUBLIC_WS_QUEUE_BYTES wait for it");
        }
        if settings.dev_engine_routes {
            log::warn!("DEV_ENGINE_ROUTES is on: /dev/engine/* can inject WhatsApp events (development only)");
        }

        let ports = Ports {
            repo,
            log: events,
            cipher: Arc::new(cipher),
            tokens,
            clock,
            engine,
            notify: Arc::new(HubNotifier(hubs.clone())),
        };
        let state = AppState {
            ports,
            module,
            base_url,
            max_body_bytes: settings.max_body_bytes,
            rate: Arc::new(RateLimiter::new()),
            requests_per_minute: settings.rate_limit_per_minute,
            creations_per_minute: settings.rate_limit_create_per_minute,
            dev_engine: settings.dev_engine_routes.then(|| memory_engine.clone()),
            hubs,
            socket: SocketLimits {
                heartbeat: Duration::from_secs(settings.ws_heartbeat_secs),
                heartbeat_timeout: Duration::from_secs(settings.ws_heartbeat_timeout_secs),
                send_timeout: Duration::from_secs(settings.ws_send_timeout_secs),
                window: settings.bridge_window,
                bridge_max_frame: settings.bridge_max_frame_bytes,
            },
        };
        let module_on = state.module.is_some();
        let dev_routes = state.dev_engine.is_some();
        let data = web::Data::new(state);
        let send_buffer = settings.tcp_send_buffer_bytes;
        let trusted = Arc::new(settings.trusted_proxies()?);
        let connections = ConnectionLimiter::new(settings.max_connections_per_ip, trusted.clone());
        let body_limits = BodyLimits {
            timeout: Duration::from_secs(settings.body_read_timeout_secs),
            max_bytes: settings.max_body_bytes,
        };
        let mut server = HttpServer::new(move || {
            let trusted = trusted.clone();
            App::new()
                .app_data(data.clone())
                .wrap(from_fn(rate_limit::headers))
                .wrap(from_fn(move |req, next| {
                    limits::enforce(body_limits, req, next)
                }))
                // The path only: a `?token=` must never reach the log.
                .wrap(from_fn(move |req, next| {
                    access_log::log_requests(trusted.clone(), req, next)
                }))
                .configure(|cfg| routes::configure(cfg, module_on, dev_routes))
                .default_service(web::to(routes::not_found))
        })
        .on_connect(move |io, ext| {
            limit_send_buffer(io, send_buffer);
            connections.on_connect(io, ext);
        })
        .shutdown_timeout(10)
        // Event frames are small and must not wait for Nagle's algorithm.
        .tcp_nodelay(true);
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener)?.run();
        log::info!(
            "listening on {}",
            settings.listen_addr.replace(":0", &format!(":{port}"))
        );
        Ok(Self {
            port,
            server,
            engine: memory_engine,
        })
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// The in-process WhatsApp engine (the built-in engine), for embedding
    /// programs such as the benchmarks to inject events directly.
    pub fn memory_engine(&self) -> Arc<MemoryEngine> {
        self.engine.clone()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (SIGINT/SIGTERM).
    ///
    /// # Errors
    /// An I/O failure of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
