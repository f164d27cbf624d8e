//! The schema the migrations create is the one the code expects: on each
//! backend, every table of `db::schema` exists with exactly the columns the
//! code names, and nothing else is there.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::Text;
use ryzeapi_adapters::db::schema::{
    accounts, bridge_commands, bridge_segments, bridge_streams, chatwoot_integrations, instances,
    set_aside_events,
};
use ryzeapi_adapters::db::sqlite_path;
use ryzeapi_adapters::testing::TestDatabase;

type Columns = BTreeMap<String, Vec<String>>;

/// The column names of a `SELECT` of all columns, as diesel writes it.
fn named(sql: &str) -> Vec<String> {
    let list = sql
        .trim_start_matches("SELECT ")
        .split(" FROM ")
        .next()
        .unwrap_or_default();
    let mut names: Vec<String> = list
        .split(", ")
        .map(|c| {
            c.rsplit('.')
                .next()
                .unwrap_or_default()
                .trim_matches(|q| q == '"' || q == '`')
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

/// What the code expects, from its table definitions.
fn expected() -> Columns {
    use diesel::pg::Pg;
    macro_rules! table_columns {
        ($($t:ident),*) => {
            BTreeMap::from([$(
                (
                    stringify!($t).to_owned(),
                    named(&diesel::debug_query::<Pg, _>(&$t::table.select($t::all_columns)).to_string()),
                ),
            )*])
        };
    }
    table_columns!(
        accounts,
        instances,
        chatwoot_integrations,
        bridge_streams,
        bridge_segments,
        bridge_commands,
        set_aside_events
    )
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

fn collect(rows: Vec<Column>) -> Columns {
    let mut found = Columns::new();
    for row in rows {
        if row.table_name.starts_with("__diesel") {
            continue;
        }
        found
            .entry(row.table_name)
            .or_default()
            .push(row.column_name);
    }
    for names in found.values_mut() {
        names.sort();
    }
    found
}

#[test]
fn the_sqlite_schema_is_the_one_the_code_expects() {
    let db = TestDatabase::sqlite();
    let mut conn = SqliteConnection::establish(sqlite_path(db.url())).expect("open");
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
    )
    .load(&mut conn)
    .expect("catalog");
    assert_eq!(collect(rows), expected());
}

#[test]
fn the_postgres_schema_is_the_one_the_code_expects() {
    let db = TestDatabase::postgres();
    let mut conn = PgConnection::establish(db.url()).expect("open");
    let rows: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text AS table_name, column_name::text AS column_name \
         FROM information_schema.columns WHERE table_schema = 'public' \
         ORDER BY table_name, ordinal_position",
    )
    .load(&mut conn)
    .expect("catalog");
    assert_eq!(collect(rows), expected());

    // Segment bodies use lz4 where the server has it, the default elsewhere.
    #[derive(QueryableByName)]
    struct Compression {
        #[diesel(sql_type = Text)]
        available: String,
        #[diesel(sql_type = Text)]
        chosen: String,
    }
    let c: Compression = diesel::sql_query(
        "SELECT (SELECT CASE WHEN 'lz4' = ANY(enumvals) THEN 'lz4' ELSE 'pglz' END \
                 FROM pg_settings WHERE name = 'default_toast_compression') AS available, \
                CASE attcompression WHEN 'l' THEN 'lz4' ELSE 'pglz' END AS chosen \
         FROM pg_attribute WHERE attrelid = 'bridge_segments'::regclass AND attname = 'body'",
    )
    .get_result(&mut conn)
    .expect("compression");
    assert_eq!(c.chosen, c.available);
}
