//! Building the application: database (migrated), cipher, ports, the
//! module's switch, the bootstrap account, then the bound HTTP server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Logger};
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use ryzeapi_adapters::crypto::{decode_key, load_or_create_key_file, parse_old_keys};
use ryzeapi_adapters::db::redact_url;
use ryzeapi_adapters::{
    AesGcmCipher, Database, DatabaseKind, HttpBridgeClient, RingTokens, SystemClock,
};
use ryzeapi_ports::{Clock, Repository, TokenService};

use crate::accounts::ensure_account;
use crate::rate_limit::{self, RateLimiter};
use crate::routes;
use crate::settings::Settings;
use crate::state::{AppState, Module};

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
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
        let repo: Arc<dyn Repository> = Arc::new(db.repository());
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
            Module {
                bridge: Arc::new(HttpBridgeClient::new(
                    settings.bridge_url.trim(),
                    settings.bridge_token.expose().trim(),
                    settings.bridge_timeouts(),
                )),
                bridge_token: settings.bridge_token.clone(),
                ryzeapi_url,
            }
        });
        match &module {
            Some(m) => log::info!(
                "chatwoot module enabled: bridge {}, the bridge reaches this server at {}",
                settings.bridge_url.trim(),
                m.ryzeapi_url
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

        let state = AppState {
            repo,
            cipher: Arc::new(cipher),
            tokens,
            clock,
            module,
            base_url,
            max_body_bytes: settings.max_body_bytes,
            rate: Arc::new(RateLimiter::new()),
            requests_per_minute: settings.rate_limit_per_minute,
            creations_per_minute: settings.rate_limit_create_per_minute,
        };
        let module_on = state.module.is_some();
        let data = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .wrap(from_fn(rate_limit::headers))
                .wrap(
                    // The path only: a `?token=` must never reach the log.
                    Logger::new("%{r}a \"%{METHOD}xi %U\" %s %b %Dms")
                        .custom_request_replace("METHOD", |req| req.method().to_string()),
                )
                .configure(|cfg| routes::configure(cfg, module_on))
                .default_service(web::to(routes::not_found))
        })
        .shutdown_timeout(10);
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener)?.run();
        log::info!(
            "listening on {}",
            settings.listen_addr.replace(":0", &format!(":{port}"))
        );
        Ok(Self { port, server })
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
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
