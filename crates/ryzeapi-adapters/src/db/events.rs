//! [`EventLog`] on diesel: streams, the durable event log and command results.

use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::Bool;
use ryzeapi_domain::{InstanceId, Timestamp};
use ryzeapi_ports::{EventLog, LoggedEvent, NewEvent, RepoError, StreamPosition};

use super::repository::{map_db, map_tx, DieselRepository, TxError};
use super::schema::{bridge_commands, bridge_segments, bridge_streams, set_aside_events};
use super::segment::{self, Segment};
use super::AnyConnection;

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// One row of `bridge_segments`.
#[derive(Insertable)]
#[diesel(table_name = bridge_segments, treat_none_as_default_value = false)]
struct SegmentInsert<'a> {
    instance_id: &'a str,
    last_seq: i64,
    first_seq: i64,
    events: i64,
    oldest_at: i64,
    newest_at: i64,
    body: &'a str,
}

impl<'a> SegmentInsert<'a> {
    fn of(instance_id: &'a str, segment: &'a Segment) -> Self {
        Self {
            instance_id,
            last_seq: segment.last_seq,
            first_seq: segment.first_seq,
            events: segment.events,
            oldest_at: segment.oldest_at,
            newest_at: segment.newest_at,
            body: &segment.body,
        }
    }
}

/// Segments read per query by [`EventLog::read_after`] until it has enough events.
const READ_SEGMENTS: i64 = 4;

type Backend = <AnyConnection as Connection>::Backend;

/// A condition on the rows of `bridge_segments`.
type SegmentFilter<'a> =
    Box<dyn BoxableExpression<bridge_segments::table, Backend, SqlType = Bool> + 'a>;

/// What pruning removes, in milliseconds: acknowledged events created before
/// `acked_before`, and any event created before `any_before`.
#[derive(Debug, Clone, Copy)]
struct PruneBounds {
    acked_before: i64,
    any_before: i64,
}

impl PruneBounds {
    /// Whether an event is due, with the stream acknowledged up to `acked`.
    fn due(self, seq: i64, created_at: i64, acked: i64) -> bool {
        (seq <= acked && created_at < self.acked_before) || created_at < self.any_before
    }

    /// The segments of `instance` holding at least one event due.
    fn some_due(self, instance: &str, acked: i64) -> SegmentFilter<'_> {
        use bridge_segments::dsl as s;
        Box::new(
            s::instance_id.eq(instance).and(
                s::oldest_at.lt(self.any_before).or(s::first_seq
                    .le(acked)
                    .and(s::oldest_at.lt(self.acked_before))),
            ),
        )
    }

    /// The segments of `instance` whose every event is due.
    fn all_due(self, instance: &str, acked: i64) -> SegmentFilter<'_> {
        use bridge_segments::dsl as s;
        Box::new(
            s::instance_id.eq(instance).and(
                s::newest_at.lt(self.any_before).or(s::last_seq
                    .le(acked)
                    .and(s::newest_at.lt(self.acked_before))),
            ),
        )
    }
}

/// Prunes the segments of one instance, inside the caller's transaction;
/// returns how many events went.
fn prune_instance(
    conn: &mut AnyConnection,
    instance: &str,
    bounds: PruneBounds,
) -> Result<i64, TxError> {
    use bridge_segments::dsl as s;
    // The stream row first, as append and close_stream do: no append commits
    // segments between the reads and the deletes below, and a stream closed
    // meanwhile is seen as closed, never given back the events it deleted.
    let locked = diesel::update(bridge_streams::table.find(instance))
        .set(bridge_streams::last_seq.eq(bridge_streams::last_seq))
        .execute(conn)?;
    if locked == 0 {
        return Ok(0);
    }
    let acked: i64 = bridge_streams::table
        .find(instance)
        .select(bridge_streams::acked_seq)
        .first(conn)?;
    // Segments whose every event is due go whole.
    let counts: Vec<i64> = s::bridge_segments
        .filter(bounds.all_due(instance, acked))
        .select(s::events)
        .load(conn)?;
    let mut removed: i64 = counts.iter().sum();
    if !counts.is_empty() {
        diesel::delete(s::bridge_segments.filter(bounds.all_due(instance, acked))).execute(conn)?;
    }
    // Segments with some events due are written again without them.
    let some: Vec<(i64, String)> = s::bridge_segments
        .filter(bounds.some_due(instance, acked))
        .select((s::last_seq, s::body))
        .load(conn)?;
    let id = InstanceId::new(instance);
    for (last_seq, body) in some {
        let events = segment::unpack(&id, &body).map_err(TxError::Repo)?;
        let total = events.len();
        let kept: Vec<LoggedEvent> = events
            .into_iter()
            .filter(|e| !bounds.due(to_i64(e.seq), e.event.created_at.as_millis(), acked))
            .collect();
        if kept.len() == total {
            continue;
        }
        removed += i64::try_from(total - kept.len()).unwrap_or(0);
        diesel::delete(s::bridge_segments.find((instance, last_seq))).execute(conn)?;
        for piece in &segment::pack(kept.iter().map(|e| (to_i64(e.seq), &e.event))) {
            diesel::insert_into(s::bridge_segments)
                .values(SegmentInsert::of(instance, piece))
                .execute(conn)?;
        }
    }
    Ok(removed)
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
            // The row stays, inactive, so that numbers are never reused. It
            // is written first: that waits for an append or a prune of the
            // instance in progress (they write it first too), so the
            // deletes below see everything they wrote.
            diesel::update(bridge_streams::table.find(id))
                .set((
                    bridge_streams::active.eq(0),
                    bridge_streams::acked_seq.eq(bridge_streams::last_seq),
                ))
                .execute(conn)?;
            diesel::delete(bridge_segments::table.filter(bridge_segments::instance_id.eq(id)))
                .execute(conn)?;
            diesel::delete(bridge_commands::table.filter(bridge_commands::instance_id.eq(id)))
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
                let first = last + 1;
                let segments = segment::pack((first..).zip(mine.iter().map(|(_, e)| *e)));
                for piece in &segments {
                    diesel::insert_into(bridge_segments::table)
                        .values(SegmentInsert::of(instance, piece))
                        .execute(conn)?;
                }
                last += i64::try_from(mine.len()).unwrap_or(i64::MAX);
                diesel::update(bridge_streams::table.find(instance))
                    .set(bridge_streams::last_seq.eq(last))
                    .execute(conn)?;
                for (seq, (index, _)) in (to_u64(first)..).zip(mine) {
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
        let mut out = Vec::new();
        let mut cursor = to_i64(after);
        while out.len() < limit {
            let rows: Vec<(i64, String)> = bridge_segments::table
                .filter(bridge_segments::instance_id.eq(instance.as_str()))
                .filter(bridge_segments::last_seq.gt(cursor))
                .order(bridge_segments::last_seq.asc())
                .select((bridge_segments::last_seq, bridge_segments::body))
                .limit(READ_SEGMENTS)
                .load(&mut conn)
                .map_err(map_db)?;
            let fetched = rows.len();
            for (last_seq, body) in rows {
                let wanted = segment::unpack(instance, &body)?
                    .into_iter()
                    .filter(|e| e.seq > after);
                out.extend(wanted.take(limit - out.len()));
                cursor = last_seq;
            }
            if i64::try_from(fetched).unwrap_or(0) < READ_SEGMENTS {
                break;
            }
        }
        Ok(out)
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
        let oldest: Option<i64> = bridge_segments::table
            .filter(bridge_segments::instance_id.eq(instance.as_str()))
            .select(diesel::dsl::min(bridge_segments::first_seq))
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
        let bounds = PruneBounds {
            acked_before: acked_before.as_millis(),
            any_before: any_before.as_millis(),
        };
        let mut conn = self.conn()?;
        let streams: Vec<(String, i64)> = bridge_streams::table
            .select((bridge_streams::instance_id, bridge_streams::acked_seq))
            .load(&mut conn)
            .map_err(map_db)?;
        let mut removed = 0_i64;
        for (instance, acked) in streams {
            // Instances with nothing due are left alone, unlocked. (The
            // acknowledged position only grows: one read a moment ago can
            // only find less due than there is; the rest goes next time.)
            let due: Option<i64> = bridge_segments::table
                .filter(bounds.some_due(&instance, acked))
                .select(bridge_segments::last_seq)
                .first(&mut conn)
                .optional()
                .map_err(map_db)?;
            if due.is_some() {
                // One transaction per instance: an instance's appends wait
                // only for its own pruning.
                removed += conn
                    .transaction(|conn| prune_instance(conn, &instance, bounds))
                    .map_err(map_tx)?;
            }
        }
        diesel::delete(
            bridge_commands::table.filter(bridge_commands::created_at.lt(bounds.any_before)),
        )
        .execute(&mut conn)
        .map_err(map_db)?;
        Ok(to_u64(removed))
    }

    fn set_aside(&self, event: &NewEvent, reason: &str, now: Timestamp) -> Result<(), RepoError> {
        let mut conn = self.conn()?;
        // The reason is the database's own text; a NUL would be refused again.
        let reason: String = reason.chars().filter(|c| *c != '\0').take(1000).collect();
        diesel::insert_into(set_aside_events::table)
            .values((
                set_aside_events::instance_id.eq(event.instance_id.as_str()),
                set_aside_events::event_id.eq(event.event_id.as_bytes()),
                set_aside_events::event_name.eq(event.name.replace('\0', "")),
                set_aside_events::payload.eq(event.payload.as_bytes()),
                set_aside_events::reason.eq(reason),
                set_aside_events::created_at.eq(event.created_at.as_millis()),
                set_aside_events::set_aside_at.eq(now.as_millis()),
            ))
            .execute(&mut conn)
            .map_err(map_db)?;
        Ok(())
    }

    fn set_aside_count(&self) -> Result<u64, RepoError> {
        let mut conn = self.conn()?;
        set_aside_events::table
            .count()
            .get_result::<i64>(&mut conn)
            .map(to_u64)
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
