//! The multi-backend connection type (generated items carry no docs of their own).
#![allow(missing_docs)]

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// Production: PostgreSQL.
    Postgresql(diesel::PgConnection),
    /// Embedded default: SQLite.
    Sqlite(diesel::SqliteConnection),
}
