//! [`EventLog`] on diesel: streams, the durable event log and command results.

use diesel::backend::Backend;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};
use ryzeapi_domain::{InstanceId, Timestamp};
use ryzeapi_ports::{EventLog, LoggedEvent, NewEvent, RepoError, StreamPosition};

use super::repository::{map_db, map_tx, DieselRepository, TxError};
use super::schema::{bridge_commands, bridge_events, bridge_streams};
use super::AnyConnection;

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// One row of `bridge_events`, borrowed from the event it stores.
#[derive(Insertable)]
#[diesel(table_name = bridge_events, treat_none_as_default_value = false)]
struct EventInsert<'a> {
    instance_id: &'a str,
    seq: i64,
    event_id: &'a str,
    event_name: &'a str,
    payload: &'a str,
    created_at: i64,
}

/// `INSERT INTO bridge_events … VALUES (…), (…), …` for `N` rows, every value
/// bound. Its text depends only on `N`, and `N` is part of its type: with the
/// sizes of [`chunks`] a connection prepares at most seven such statements
/// (64, 32, …, 1 rows), once, and finds them again in diesel's statement cache
/// by type, without rebuilding their text.
struct InsertEvents<'a, const N: usize> {
    /// Exactly `N` rows.
    rows: &'a [EventInsert<'a>],
}

/// The statement-cache identity of [`InsertEvents`] for `N` rows.
struct InsertEventsId<const N: usize>;

impl<const N: usize> QueryId for InsertEvents<'_, N> {
    type QueryId = InsertEventsId<N>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<DB, const N: usize> QueryFragment<DB> for InsertEvents<'_, N>
where
    DB: Backend + HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, DB>,
    i64: ToSql<BigInt, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO bridge_events (instance_id, seq, event_id, event_name, payload, created_at) VALUES ",
        );
        for (i, row) in self.rows.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<Text, str>(row.instance_id)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, i64>(&row.seq)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(row.event_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(row.event_name)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, str>(row.payload)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, i64>(&row.created_at)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

impl<Conn, const N: usize> RunQueryDsl<Conn> for InsertEvents<'_, N> {}

/// Inserts `rows` with the statements of [`InsertEvents`].
fn insert_events<Conn>(conn: &mut Conn, rows: &[EventInsert<'_>]) -> QueryResult<()>
where
    Conn: Connection,
    Conn::Backend: HasSqlType<Text> + HasSqlType<BigInt>,
    str: ToSql<Text, Conn::Backend>,
    i64: ToSql<BigInt, Conn::Backend>,
{
    fn run<Conn, const N: usize>(conn: &mut Conn, rows: &[EventInsert<'_>]) -> QueryResult<usize>
    where
        Conn: Connection,
        Conn::Backend: HasSqlType<Text> + HasSqlType<BigInt>,
        str: ToSql<Text, Conn::Backend>,
        i64: ToSql<BigInt, Conn::Backend>,
    {
        debug_assert_eq!(rows.len(), N);
        InsertEvents::<N> { rows }.execute(conn)
    }
    for chunk in chunks(rows) {
        match chunk.len() {
            64 => run::<_, 64>(conn, chunk)?,
            32 => run::<_, 32>(conn, chunk)?,
            16 => run::<_, 16>(conn, chunk)?,
            8 => run::<_, 8>(conn, chunk)?,
            4 => run::<_, 4>(conn, chunk)?,
            2 => run::<_, 2>(conn, chunk)?,
            _ => {
                // single rows: `chunks` yields no other size
                for row in chunk {
                    run::<_, 1>(conn, std::slice::from_ref(row))?;
                }
                0
            }
        };
    }
    Ok(())
}

/// From this many rows on, Postgres gets them with `COPY … FROM STDIN` in
/// its binary format (no statement to parse or plan, rows streamed in one
/// go); fewer go through the prepared inserts below.
const POSTGRES_COPY_FROM: usize = 64;

/// The largest chunk; smaller ones are its halves down to one row.
const CHUNK: usize = 64;

/// `rows` cut into chunks of [`CHUNK`] rows, the rest into halves of that
/// (32, 16, …, 1), so only seven statement texts ever occur.
fn chunks<T>(mut rows: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if rows.is_empty() {
            return None;
        }
        let size = if rows.len() >= CHUNK {
            CHUNK
        } else {
            // the largest power of two not above what is left
            1 << (usize::BITS - 1 - rows.len().leading_zeros())
        };
        let (head, tail) = rows.split_at(size);
        rows = tail;
        Some(head)
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bridge_events)]
struct EventRow {
    instance_id: String,
    seq: i64,
    event_id: String,
    event_name: String,
    payload: String,
    created_at: i64,
}

impl EventRow {
    fn into_logged(self) -> LoggedEvent {
        LoggedEvent {
            seq: to_u64(self.seq),
            event: NewEvent {
                instance_id: InstanceId::new(self.instance_id),
                event_id: self.event_id,
                name: self.event_name,
                payload: self.payload,
                created_at: Timestamp::from_millis(self.created_at),
            },
        }
    }
}

impl EventLog for DieselRepository {
    fn open_stream(&self, instance: &InstanceId, now: Timestamp) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let id = instance.as_str();
        let opened = conn.transaction::<bool, DieselError, _>(|conn| {
            // An earlier, closed stream: reactivate it; numbering carries on
            // and everything before counts as acknowledged.
            let reactivated = diesel::update(
                bridge_streams::table
                    .find(id)
                    .filter(bridge_streams::active.eq(0)),
            )
            .set((
                bridge_streams::active.eq(1),
                bridge_streams::acked_seq.eq(bridge_streams::last_seq),
                bridge_streams::opened_at.eq(now.as_millis()),
                bridge_streams::acked_at.eq(now.as_millis()),
            ))
            .execute(conn)?;
            if reactivated > 0 {
                return Ok(true);
            }
            let exists: i64 = bridge_streams::table.find(id).count().get_result(conn)?;
            if exists > 0 {
                return Ok(false);
            }
            diesel::insert_into(bridge_streams::table)
                .values((
                    bridge_streams::instance_id.eq(id),
                    bridge_streams::last_seq.eq(0_i64),
                    bridge_streams::acked_seq.eq(0_i64),
                    bridge_streams::active.eq(1),
                    bridge_streams::opened_at.eq(now.as_millis()),
                    bridge_streams::acked_at.eq(now.as_millis()),
                ))
                .execute(conn)?;
            Ok(true)
        });
        match opened {
            // Another caller opened it at the same moment.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            other => other.map_err(map_db),
        }
    }

    fn close_stream(&self, instance: &InstanceId) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        let id = instance.as_str();
        conn.transaction::<(), DieselError, _>(|conn| {
            diesel::delete(bridge_events::table.filter(bridge_events::instance_id.eq(id)))
                .execute(conn)?;
            diesel::delete(bridge_commands::table.filter(bridge_commands::instance_id.eq(id)))
                .execute(conn)?;
            // The row stays, inactive, so that numbers are never reused.
            diesel::update(bridge_streams::table.find(id))
                .set((
                    bridge_streams::active.eq(0),
                    bridge_streams::acked_seq.eq(bridge_streams::last_seq),
                ))
                .execute(conn)?;
            Ok(())
        })
        .map_err(map_db)
    }

    fn append(&self, events: &[NewEvent]) -> Result<Vec<Option<u64>>, RepoError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        conn.transaction::<Vec<Option<u64>>, TxError, _>(|conn| {
            // Instances in first-seen order, so each one's stream row is read once.
            let mut instances: Vec<&str> = Vec::new();
            for e in events {
                if !instances.contains(&e.instance_id.as_str()) {
                    instances.push(e.instance_id.as_str());
                }
            }
            // Indexed like `events`, so callers get them in the order given.
            let mut seqs: Vec<Option<u64>> = vec![None; events.len()];
            for instance in instances {
                // The write comes first: it takes the row lock (Postgres) or the
                // write lock (SQLite) before the read.
                let touched = diesel::update(
                    bridge_streams::table
                        .find(instance)
                        .filter(bridge_streams::active.eq(1)),
                )
                .set(bridge_streams::last_seq.eq(bridge_streams::last_seq))
                .execute(conn)?;
                if touched == 0 {
                    continue;
                }
                let mut last: i64 = bridge_streams::table
                    .find(instance)
                    .select(bridge_streams::last_seq)
                    .first(conn)?;
                let mine: Vec<(usize, &NewEvent)> = events
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.instance_id.as_str() == instance)
                    .collect();
                let rows: Vec<EventInsert<'_>> = mine
                    .iter()
                    .map(|(_, e)| {
                        last += 1;
                        EventInsert {
                            instance_id: instance,
                            seq: last,
                            event_id: &e.event_id,
                            event_name: &e.name,
                            payload: &e.payload,
                            created_at: e.created_at.as_millis(),
                        }
                    })
                    .collect();
                match &mut **conn {
                    AnyConnection::Postgresql(pg) if rows.len() >= POSTGRES_COPY_FROM => {
                        diesel::copy_from(bridge_events::table)
                            .from_insertable(rows)
                            .execute(pg)?;
                    }
                    AnyConnection::Postgresql(pg) => insert_events(pg, &rows)?,
                    AnyConnection::Sqlite(lite) => insert_events(lite, &rows)?,
                }
                diesel::update(bridge_streams::table.find(instance))
                    .set(bridge_streams::last_seq.eq(last))
                    .execute(conn)?;
                let first = to_u64(last - i64::try_from(mine.len()).unwrap_or(0)) + 1;
                for (seq, (index, _)) in (first..).zip(mine) {
                    seqs[index] = Some(seq);
                }
            }
            Ok(seqs)
        })
        .map_err(map_tx)
    }

    fn read_after(
        &self,
        instance: &InstanceId,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LoggedEvent>, RepoError> {
        let mut conn = self.conn()?;
        let rows: Vec<EventRow> = bridge_events::table
            .filter(bridge_events::instance_id.eq(instance.as_str()))
            .filter(bridge_events::seq.gt(to_i64(after)))
            .order(bridge_events::seq.asc())
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .select(EventRow::as_select())
            .load(&mut conn)
            .map_err(map_db)?;
        Ok(rows.into_iter().map(EventRow::into_logged).collect())
    }

    fn position(&self, instance: &InstanceId) -> Result<Option<StreamPosition>, RepoError> {
        let mut conn = self.conn()?;
        let Some((last, acked)) = bridge_streams::table
            .find(instance.as_str())
            .filter(bridge_streams::active.eq(1))
            .select((bridge_streams::last_seq, bridge_streams::acked_seq))
            .first::<(i64, i64)>(&mut conn)
            .optional()
            .map_err(map_db)?
        else {
            return Ok(None);
        };
        let oldest: Option<i64> = bridge_events::table
            .filter(bridge_events::instance_id.eq(instance.as_str()))
            .select(diesel::dsl::min(bridge_events::seq))
            .first(&mut conn)
            .map_err(map_db)?;
        Ok(Some(StreamPosition {
            acked_seq: to_u64(acked),
            last_seq: to_u64(last),
            oldest_seq: to_u64(oldest.unwrap_or(last + 1)),
        }))
    }

    fn ack(&self, instance: &InstanceId, seq: u64, now: Timestamp) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        let id = instance.as_str();
        conn.transaction::<bool, DieselError, _>(|conn| {
            let Some((last, acked)) = bridge_streams::table
                .find(id)
                .filter(bridge_streams::active.eq(1))
                .select((bridge_streams::last_seq, bridge_streams::acked_seq))
                .first::<(i64, i64)>(conn)
                .optional()?
            else {
                return Ok(false);
            };
            let target = to_i64(seq).min(last).max(acked);
            if target != acked {
                diesel::update(bridge_streams::table.find(id))
                    .set((
                        bridge_streams::acked_seq.eq(target),
                        bridge_streams::acked_at.eq(now.as_millis()),
                    ))
                    .execute(conn)?;
            }
            Ok(true)
        })
        .map_err(map_db)
    }

    fn prune(&self, acked_before: Timestamp, any_before: Timestamp) -> Result<u64, RepoError> {
        let mut conn = self.conn()?;
        conn.transaction::<u64, DieselError, _>(|conn| {
            let mut removed = 0_usize;
            let streams: Vec<(String, i64)> = bridge_streams::table
                .select((bridge_streams::instance_id, bridge_streams::acked_seq))
                .load(conn)?;
            for (instance, acked) in streams {
                removed += diesel::delete(
                    bridge_events::table
                        .filter(bridge_events::instance_id.eq(&instance))
                        .filter(bridge_events::seq.le(acked))
                        .filter(bridge_events::created_at.lt(acked_before.as_millis())),
                )
                .execute(conn)?;
            }
            removed += diesel::delete(
                bridge_events::table.filter(bridge_events::created_at.lt(any_before.as_millis())),
            )
            .execute(conn)?;
            diesel::delete(
                bridge_commands::table
                    .filter(bridge_commands::created_at.lt(any_before.as_millis())),
            )
            .execute(conn)?;
            Ok(u64::try_from(removed).unwrap_or(u64::MAX))
        })
        .map_err(map_db)
    }

    fn command_result(
        &self,
        instance: &InstanceId,
        key: &str,
    ) -> Result<Option<String>, RepoError> {
        let mut conn = self.conn()?;
        bridge_commands::table
            .find((instance.as_str(), key))
            .select(bridge_commands::result)
            .first(&mut conn)
            .optional()
            .map_err(map_db)
    }

    fn save_command_result(
        &self,
        instance: &InstanceId,
        key: &str,
        result: &str,
        now: Timestamp,
    ) -> Result<bool, RepoError> {
        let mut conn = self.conn()?;
        match diesel::insert_into(bridge_commands::table)
            .values((
                bridge_commands::instance_id.eq(instance.as_str()),
                bridge_commands::idempotency_key.eq(key),
                bridge_commands::result.eq(result),
                bridge_commands::created_at.eq(now.as_millis()),
            ))
            .execute(&mut conn)
        {
            Ok(_) => Ok(true),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
            Err(e) => Err(map_db(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{chunks, CHUNK};
    use std::collections::BTreeSet;

    #[test]
    fn chunks_cover_every_row_in_order_with_seven_sizes_at_most() {
        let mut sizes = BTreeSet::new();
        for n in 0..=(3 * CHUNK + 5) {
            let rows: Vec<usize> = (0..n).collect();
            let joined: Vec<usize> = chunks(&rows).flatten().copied().collect();
            assert_eq!(joined, rows, "{n} rows");
            for chunk in chunks(&rows) {
                assert!(chunk.len().is_power_of_two() && chunk.len() <= CHUNK);
                sizes.insert(chunk.len());
            }
        }
        assert_eq!(
            sizes.into_iter().collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 32, 64]
        );
    }
}
