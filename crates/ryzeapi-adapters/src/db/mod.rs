//! The diesel repository: one implementation over a multi-backend connection
//! (Postgres or SQLite), pooled with r2d2, migrations embedded per backend.

mod connection;
mod events;
mod repository;
mod rows;
mod schema;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub(crate) use connection::AnyConnection;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Which backend a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite://PATH` (or `sqlite::memory:`).
    Sqlite,
}

impl DatabaseKind {
    /// Recognises the backend of a URL.
    ///
    /// # Errors
    /// When the scheme is neither Postgres nor SQLite.
    pub fn of(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            anyhow::bail!(
                "DATABASE_URL must start with postgres:// or sqlite:// (got scheme '{}')",
                url.split(':').next().unwrap_or_default()
            )
        }
    }
}

/// The path part of a `sqlite://PATH` URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// The same URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

#[derive(Debug, Clone, Copy)]
struct ConnectionSetup;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A pooled database, either backend. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager<AnyConnection>>,
    kind: DatabaseKind,
}

impl Database {
    /// Opens a pool on `url` (`postgres://…` or `sqlite://PATH`), creating the
    /// SQLite file's folder when needed. Does not run migrations.
    ///
    /// # Errors
    /// An unknown scheme, an unreachable database, a folder that cannot be created.
    pub fn connect(url: &str, pool_size: u32, timeout: Duration) -> anyhow::Result<Self> {
        let kind = DatabaseKind::of(url)?;
        let target = match kind {
            DatabaseKind::Postgres => url.to_owned(),
            DatabaseKind::Sqlite => {
                let path = sqlite_path(url);
                if let Some(parent) = Path::new(path).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).with_context(|| {
                            format!("cannot create the database folder {}", parent.display())
                        })?;
                    }
                }
                path.to_owned()
            }
        };
        // One connection for SQLite in memory, or each would see its own database.
        let size = if target == ":memory:" {
            1
        } else {
            pool_size.max(1)
        };
        let pool = Pool::builder()
            .max_size(size)
            // Connections are opened on demand: no background connection
            // attempts race the process's exit (libpq's teardown is not
            // safe against them).
            .min_idle(Some(0))
            .connection_timeout(timeout)
            .connection_customizer(Box::new(ConnectionSetup))
            .build(ConnectionManager::<AnyConnection>::new(target))
            .with_context(|| format!("cannot open the database at {}", redact_url(url)))?;
        Ok(Self { pool, kind })
    }

    /// Which backend this is.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    ///
    /// # Errors
    /// When a connection cannot be had or a migration fails.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self
            .pool
            .get()
            .context("no database connection for migrations")?;
        let applied = match &mut *conn {
            AnyConnection::Postgresql(c) => c.run_pending_migrations(PG_MIGRATIONS),
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.len())
    }

    /// The repository over this database.
    pub fn repository(&self) -> repository::DieselRepository {
        repository::DieselRepository::new(self.pool.clone())
    }
}

pub use repository::DieselRepository;
