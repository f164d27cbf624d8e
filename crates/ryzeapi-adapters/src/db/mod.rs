//! The diesel repository: one implementation over a multi-backend connection
//! (Postgres or SQLite), pooled with r2d2, migrations embedded per backend.

mod connection;
mod events;
mod repository;
mod rows;
pub mod schema;
pub mod segment;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::RunQueryDsl as _;
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

/// What a checkpoint of the SQLite write-ahead log found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Pages in the write-ahead log.
    pub log_pages: u64,
    /// Of those, pages now also in the database file.
    pub checkpointed_pages: u64,
}

#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

#[derive(Debug, Clone, Copy)]
struct ConnectionSetup;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            // Write-ahead log; no connection folds it into the database
            // file on commit (wal_autocheckpoint = 0): `Database::checkpoint`
            // does that in the background, so a commit never pays for it. The
            // log file is cut back to 64 MiB when it restarts.
            c.batch_execute(
                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; \
                 PRAGMA journal_size_limit = 67108864;",
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
            // A Postgres connection is checked with a round trip before it is
            // handed out (the server may have closed it); a SQLite one is a
            // local file and cannot break that way, so it is not: that check
            // was a query of its own before every statement batch.
            .test_on_check_out(kind == DatabaseKind::Postgres)
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

    /// On SQLite, copies what the write-ahead log holds into the database
    /// file without waiting for readers or the writer (a passive
    /// checkpoint), so that the log can start over; returns how many pages
    /// the log held and how many of them are now in the database file.
    /// `None` on Postgres, which needs nothing of the kind.
    ///
    /// # Errors
    /// When no connection can be had or the checkpoint fails.
    pub fn checkpoint(&self) -> anyhow::Result<Option<Checkpoint>> {
        if self.kind != DatabaseKind::Sqlite {
            return Ok(None);
        }
        let mut conn = self.pool.get().context("no database connection")?;
        let AnyConnection::Sqlite(lite) = &mut *conn else {
            return Ok(None);
        };
        let row: CheckpointRow = diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
            .get_result(lite)
            .context("checkpoint of the SQLite write-ahead log")?;
        Ok(Some(Checkpoint {
            log_pages: u64::try_from(row.log).unwrap_or(0),
            checkpointed_pages: u64::try_from(row.checkpointed).unwrap_or(0),
        }))
    }

    /// Runs SQL statements as they are (tests only: to make the database
    /// refuse something, for instance).
    ///
    /// # Errors
    /// When no connection can be had or a statement fails.
    #[cfg(feature = "testing")]
    pub fn execute_batch(&self, sql: &str) -> anyhow::Result<()> {
        use diesel::connection::SimpleConnection as _;
        let mut conn = self.pool.get().context("no database connection")?;
        match &mut *conn {
            AnyConnection::Postgresql(c) => c.batch_execute(sql),
            AnyConnection::Sqlite(c) => c.batch_execute(sql),
        }
        .context("running SQL")
    }

    /// The repository over this database.
    pub fn repository(&self) -> repository::DieselRepository {
        repository::DieselRepository::new(self.pool.clone())
    }
}

pub use repository::DieselRepository;
