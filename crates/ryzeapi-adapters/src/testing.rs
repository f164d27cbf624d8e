//! Throw-away databases for tests: a fresh Postgres database per test cloned
//! from a migrated template (dropped afterwards), or a SQLite file in a
//! temporary folder (removed afterwards). Compiled only with `testing`.
//!
//! Postgres is found at `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it cannot be reached
//! the test fails and says so — it is never skipped.
#![allow(clippy::panic, clippy::expect_used)]

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, Timestamp,
    WebsocketConfig,
};
use ryzeapi_ports::{AccountRepository, EventLog, InstanceRepository, TokenDigest, TokenService};

use crate::crypto::RingTokens;
use crate::db::{Database, DatabaseKind, DieselRepository};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The maintenance database tests connect to in order to create their own.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

fn connect_admin(admin: &str) -> PgConnection {
    match PgConnection::establish(admin) {
        Ok(conn) => conn,
        Err(first) => {
            // Not running? On machines with a local cluster, start it once and retry.
            if try_start_local_postgres() {
                for _ in 0..40 {
                    if let Ok(conn) = PgConnection::establish(admin) {
                        return conn;
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            }
            panic!(
                "PostgreSQL is needed by this test but is not reachable at {}: {first}\n\
                 Start it (`just db`, or `pg_ctlcluster <version> main start`), or point \
                 TEST_DATABASE_URL at a server where this user may CREATE DATABASE.",
                crate::db::redact_url(admin)
            )
        }
    }
}

/// Starts the machine's local Postgres cluster(s) with `pg_ctlcluster`, once
/// per process; `false` when there is nothing to start.
fn try_start_local_postgres() -> bool {
    static STARTED: OnceLock<bool> = OnceLock::new();
    *STARTED.get_or_init(|| {
        let Ok(versions) = std::fs::read_dir("/etc/postgresql") else {
            return false;
        };
        let mut any = false;
        for version in versions.flatten() {
            let version = version.file_name().to_string_lossy().into_owned();
            let started = std::process::Command::new("pg_ctlcluster")
                .args(["--skip-systemctl-redirect", &version, "main", "start"])
                .status()
                .is_ok();
            any |= started;
        }
        any
    })
}

/// `admin` with its database name replaced by `name`.
fn with_database(admin: &str, name: &str) -> String {
    let (scheme, rest) = admin.split_once("://").unwrap_or(("postgres", admin));
    let (authority, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let query = tail
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

fn migrations_fingerprint() -> u64 {
    // FNV-1a over every migration file, so a changed migration gets a new template.
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../migrations/postgres"
    ));
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("migrations folder")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let bytes = std::fs::read(&file).expect("migration file");
        for b in file.to_string_lossy().bytes().chain(bytes) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[derive(QueryableByName)]
struct Datname {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    diesel::sql_query(format!(
        "SELECT datname FROM pg_database WHERE datname = '{name}'"
    ))
    .load::<Datname>(conn)
    .map(|rows| !rows.is_empty())
    .unwrap_or(false)
}

/// Creates (once per migration set, safely across processes) the migrated template.
fn template(admin: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("ryzeapi_template_{:016x}", migrations_fingerprint());
        let mut conn = connect_admin(admin);
        diesel::sql_query("SELECT pg_advisory_lock(727274)")
            .execute(&mut conn)
            .expect("advisory lock");
        if !database_exists(&mut conn, &name) {
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building}"))
                .execute(&mut conn)
                .expect("drop a stale template build");
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut conn)
                .expect("create the template");
            {
                let db =
                    Database::connect(&with_database(admin, &building), 1, Duration::from_secs(10))
                        .expect("connect to the template");
                db.migrate().expect("migrate the template");
            }
            // Published under its final name only once fully migrated.
            let mut renamed = false;
            for _ in 0..50 {
                if diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .is_ok()
                {
                    renamed = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(renamed, "could not publish the template database {name}");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(727274)")
            .execute(&mut conn)
            .expect("advisory unlock");
        name
    })
}

enum Cleanup {
    Postgres { admin: String, name: String },
    Sqlite { dir: PathBuf },
}

/// A database that exists for one test.
pub struct TestDatabase {
    url: String,
    cleanup: Cleanup,
}

impl TestDatabase {
    /// A fresh, migrated Postgres database cloned from the template.
    pub fn postgres() -> Self {
        let admin = admin_url();
        let template = template(&admin);
        let name = format!("ryzeapi_test_{}", RingTokens::new().generate_id());
        let mut conn = connect_admin(&admin);
        let mut last_error = String::new();
        for _ in 0..50 {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn)
            {
                Ok(_) => {
                    return Self {
                        url: with_database(&admin, &name),
                        cleanup: Cleanup::Postgres { admin, name },
                    }
                }
                // "source database is being accessed by other users": retry shortly
                Err(e) => last_error = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("could not create a test database from {template}: {last_error}");
    }

    /// A fresh, migrated SQLite database in a temporary folder.
    pub fn sqlite() -> Self {
        let dir =
            std::env::temp_dir().join(format!("ryzeapi-test-{}", RingTokens::new().generate_id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        let url = format!("sqlite://{}", dir.join("ryzeapi.db").display());
        Database::connect(&url, 1, Duration::from_secs(10))
            .and_then(|db| db.migrate())
            .expect("migrate the SQLite test database");
        Self {
            url,
            cleanup: Cleanup::Sqlite { dir },
        }
    }

    /// The database's URL, as `DATABASE_URL` would hold it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A small pool on this database.
    pub fn connect(&self) -> Database {
        Database::connect(&self.url, 4, Duration::from_secs(10))
            .expect("connect to the test database")
    }
}

impl TestDatabase {
    /// Makes the event log refuse, every time and with an error of the
    /// database's own, any segment whose body contains `marker`: an event
    /// the database cannot store, while everything else works.
    pub fn refuse_segments_containing(&self, marker: &str) {
        assert!(
            marker.chars().all(|c| c.is_ascii_alphanumeric()),
            "a plain marker"
        );
        let db = self.connect();
        let sql = match db.kind() {
            DatabaseKind::Sqlite => format!(
                "CREATE TRIGGER refuse_marker BEFORE INSERT ON bridge_segments \
                 WHEN instr(NEW.body, '{marker}') > 0 \
                 BEGIN SELECT RAISE(ABORT, 'value refused: {marker}'); END;"
            ),
            DatabaseKind::Postgres => format!(
                "CREATE FUNCTION refuse_marker() RETURNS trigger AS $$ \
                 BEGIN IF position('{marker}' in NEW.body) > 0 THEN \
                 RAISE EXCEPTION 'value refused: {marker}'; END IF; RETURN NEW; END $$ \
                 LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse_marker BEFORE INSERT ON bridge_segments \
                 FOR EACH ROW EXECUTE FUNCTION refuse_marker();"
            ),
        };
        db.execute_batch(&sql)
            .expect("install the refusing trigger");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Postgres { admin, name } => {
                if let Ok(mut conn) = PgConnection::establish(admin) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
            Cleanup::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// A repository on its own test database; dereferences to the repository.
pub struct TestRepository {
    repo: DieselRepository,
    _db: TestDatabase,
}

impl TestRepository {
    /// On a fresh Postgres database.
    pub fn postgres() -> Self {
        Self::on(TestDatabase::postgres())
    }

    /// On a fresh SQLite database.
    pub fn sqlite() -> Self {
        Self::on(TestDatabase::sqlite())
    }

    fn on(db: TestDatabase) -> Self {
        Self {
            repo: db.connect().repository(),
            _db: db,
        }
    }
}

impl Deref for TestRepository {
    type Target = DieselRepository;
    fn deref(&self) -> &DieselRepository {
        &self.repo
    }
}

/// Creates account `acc1` with one instance `i1` (named `one`) and opens its
/// event stream: what a test of the log needs before appending.
pub fn instance_with_stream(repo: &DieselRepository) -> InstanceId {
    let account = Account {
        id: AccountId::new("acc1"),
        name: "a".into(),
        max_instances: 1,
        created_at: Timestamp::from_millis(0),
    };
    repo.create_account(&account, &TokenDigest::from_hex("00"))
        .expect("account");
    let instance = Instance {
        id: InstanceId::new("i1"),
        account_id: account.id,
        name: InstanceName::parse("one").expect("name"),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::parse(false, &[], false).expect("websocket"),
        created_at: Timestamp::from_millis(0),
    };
    repo.create_instance(&instance, &TokenDigest::from_hex("01"), 1)
        .expect("instance");
    repo.open_stream(&instance.id, Timestamp::from_millis(0))
        .expect("stream");
    instance.id
}
