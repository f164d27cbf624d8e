//! The body of a log segment: several events of one instance in one text
//! value, so that the log writes one row per segment rather than one per
//! event.
//!
//! Each event is a record: a header line of five fixed-width decimal fields
//! separated by spaces, then the event's id, name and payload back to back,
//! then a line break:
//!
//! ```text
//! SSSSSSSSSSSSSSSSSSSS CCCCCCCCCCCCCCCCCCCC IIIIIIIIII NNNNNNNNNN PPPPPPPPPP\n
//! <event id><event name><payload>\n
//! ```
//!
//! `S` the sequence number, `C` the creation time in milliseconds (both
//! zero-padded to 20 characters, a minus sign first when negative), `I`, `N`,
//! `P` the lengths in bytes of the id, the name and the payload (10 digits).
//! Nothing in the parts is escaped: the lengths say where each ends. Fixed
//! widths keep the format readable by plain SQL (the migrations convert
//! between it and one row per event with `substr` alone).

use std::fmt::Write as _;

use ryzeapi_domain::{InstanceId, Timestamp};
use ryzeapi_ports::{LoggedEvent, NewEvent, RepoError};

/// Bytes of a record's header line, its line break included.
pub const HEADER: usize = 20 + 1 + 20 + 1 + 10 + 1 + 10 + 1 + 10 + 1;

/// Where a record's header has its spaces (after each field but the last).
const SEPARATORS: [usize; 4] = [20, 41, 52, 63];

/// Most events in one segment.
pub const MAX_EVENTS: usize = 256;

/// A segment takes no further event once its body is this long (a single
/// event may be longer: it then has a segment of its own).
pub const MAX_BYTES: usize = 256 * 1024;

/// A segment being built, or read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The lowest sequence number it holds.
    pub first_seq: i64,
    /// The highest sequence number it holds.
    pub last_seq: i64,
    /// How many events it holds.
    pub events: i64,
    /// The oldest creation time of its events, in milliseconds.
    pub oldest_at: i64,
    /// The newest creation time of its events, in milliseconds.
    pub newest_at: i64,
    /// The records, in the format above.
    pub body: String,
}

impl Segment {
    fn start(seq: i64, created_at: i64) -> Self {
        Self {
            first_seq: seq,
            last_seq: seq,
            events: 0,
            oldest_at: created_at,
            newest_at: created_at,
            body: String::new(),
        }
    }

    /// Whether it can take another event.
    fn has_room(&self) -> bool {
        usize::try_from(self.events).unwrap_or(usize::MAX) < MAX_EVENTS
            && self.body.len() < MAX_BYTES
    }

    fn push(&mut self, seq: i64, event: &NewEvent) {
        let created_at = event.created_at.as_millis();
        // Writing into a String cannot fail.
        let _ = writeln!(
            self.body,
            "{seq:020} {created_at:020} {:010} {:010} {:010}",
            event.event_id.len(),
            event.name.len(),
            event.payload.len()
        );
        self.body.push_str(&event.event_id);
        self.body.push_str(&event.name);
        self.body.push_str(&event.payload);
        self.body.push('\n');
        self.first_seq = self.first_seq.min(seq);
        self.last_seq = self.last_seq.max(seq);
        self.oldest_at = self.oldest_at.min(created_at);
        self.newest_at = self.newest_at.max(created_at);
        self.events += 1;
    }
}

/// Packs events, with their sequence numbers, into segments of at most
/// [`MAX_EVENTS`] events and (unless one event alone is larger) about
/// [`MAX_BYTES`], in the order given.
pub fn pack<'a>(events: impl IntoIterator<Item = (i64, &'a NewEvent)>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for (seq, event) in events {
        match out.last_mut() {
            Some(segment) if segment.has_room() => segment.push(seq, event),
            _ => {
                let mut segment = Segment::start(seq, event.created_at.as_millis());
                segment.push(seq, event);
                out.push(segment);
            }
        }
    }
    out
}

/// The events of a segment body, in the order stored.
///
/// # Errors
/// [`RepoError::Corrupt`] when the body is not in the format above.
pub fn unpack(instance: &InstanceId, body: &str) -> Result<Vec<LoggedEvent>, RepoError> {
    let corrupt = |what: &str| {
        RepoError::Corrupt(format!(
            "event log segment of instance {}: {what}",
            instance.as_str()
        ))
    };
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        // Each field at its place and width, separated as written: a header
        // that only looks similar (other widths, the same length overall)
        // is refused.
        let header = rest
            .get(..HEADER)
            .filter(|h| h.ends_with('\n') && SEPARATORS.iter().all(|&i| h.as_bytes()[i] == b' '))
            .ok_or_else(|| corrupt("a record header is cut short or malformed"))?;
        let field = |from: usize, width: usize, name: &str| -> Result<i64, RepoError> {
            header
                .get(from..from + width)
                .and_then(|f| f.parse::<i64>().ok())
                .ok_or_else(|| corrupt(&format!("unreadable {name}")))
        };
        let seq = field(0, 20, "sequence number")?;
        let created_at = field(21, 20, "creation time")?;
        let length = |from: usize, name: &str| -> Result<usize, RepoError> {
            usize::try_from(field(from, 10, name)?)
                .map_err(|_| corrupt(&format!("negative {name}")))
        };
        let id_len = length(42, "id length")?;
        let name_len = length(53, "name length")?;
        let payload_len = length(64, "payload length")?;
        let after_header = &rest[HEADER..];
        let id_end = id_len;
        let name_end = id_end
            .checked_add(name_len)
            .ok_or_else(|| corrupt("length"))?;
        let payload_end = name_end
            .checked_add(payload_len)
            .filter(|end| *end < usize::MAX)
            .ok_or_else(|| corrupt("length"))?;
        let part = |from: usize, to: usize| {
            after_header
                .get(from..to)
                .ok_or_else(|| corrupt("a record is cut short"))
        };
        let event_id = part(0, id_end)?;
        let name = part(id_end, name_end)?;
        let payload = part(name_end, payload_end)?;
        if part(payload_end, payload_end + 1)? != "\n" {
            return Err(corrupt("a record does not end where its lengths say"));
        }
        out.push(LoggedEvent {
            seq: u64::try_from(seq).map_err(|_| corrupt("negative sequence number"))?,
            event: NewEvent {
                instance_id: instance.clone(),
                event_id: event_id.to_owned(),
                name: name.to_owned(),
                payload: payload.to_owned(),
                created_at: Timestamp::from_millis(created_at),
            },
        });
        rest = &after_header[payload_end + 1..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{pack, unpack, HEADER, MAX_BYTES, MAX_EVENTS};
    use ryzeapi_domain::{InstanceId, Timestamp};
    use ryzeapi_ports::{NewEvent, RepoError};

    fn event(n: i64, payload: &str) -> NewEvent {
        NewEvent {
            instance_id: InstanceId::new("i1".to_owned()),
            event_id: format!("e{n}"),
            name: "message.exchange".to_owned(),
            payload: payload.to_owned(),
            created_at: Timestamp::from_millis(n * 10 - 25),
        }
    }

    #[test]
    fn events_come_back_as_they_went_in() {
        let payloads = [
            "{\"text\":\"plain\"}",
            "tabs\tand\nline breaks\r\n and a \\ and \"quotes\"",
            "non-ASCII: ação, 日本語, emoji 😀",
            "",
            "00000000000000000001 00000000000000000002 0000000001 0000000001 0000000001\n",
        ];
        let events: Vec<NewEvent> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| event(i64::try_from(i).unwrap(), p))
            .collect();
        let segments = pack(
            events
                .iter()
                .enumerate()
                .map(|(i, e)| (i64::try_from(i).unwrap() + 7, e)),
        );
        assert_eq!(segments.len(), 1);
        let s = &segments[0];
        assert_eq!((s.first_seq, s.last_seq, s.events), (7, 11, 5));
        assert_eq!((s.oldest_at, s.newest_at), (-25, 15));
        let back = unpack(&InstanceId::new("i1".to_owned()), &s.body).expect("unpack");
        assert_eq!(back.len(), 5);
        for (i, logged) in back.iter().enumerate() {
            assert_eq!(logged.seq, 7 + u64::try_from(i).unwrap());
            assert_eq!(logged.event, events[i]);
        }
        // The first record starts with its header, readable as it is.
        assert!(s.body.starts_with(
            "00000000000000000007 -0000000000000000025 0000000002 0000000016 0000000016\ne0message.exchange{"
        ));
    }

    #[test]
    fn segments_close_at_their_event_count_or_size() {
        let small: Vec<NewEvent> = (0..(2 * MAX_EVENTS + 3))
            .map(|n| event(i64::try_from(n).unwrap(), "{}"))
            .collect();
        let segments = pack(
            small
                .iter()
                .enumerate()
                .map(|(i, e)| (i64::try_from(i).unwrap() + 1, e)),
        );
        let counts: Vec<i64> = segments.iter().map(|s| s.events).collect();
        let max = i64::try_from(MAX_EVENTS).unwrap();
        assert_eq!(counts, [max, max, 3]);
        assert_eq!(segments[1].first_seq, max + 1);
        assert_eq!(segments[2].last_seq, 2 * max + 3);

        let big = "x".repeat(MAX_BYTES / 3);
        let large: Vec<NewEvent> = (0..5).map(|n| event(n, &big)).collect();
        let segments = pack(
            large
                .iter()
                .enumerate()
                .map(|(i, e)| (i64::try_from(i).unwrap() + 1, e)),
        );
        assert!(segments.len() >= 2, "{} segments", segments.len());
        for s in &segments {
            let one_less = s.body.len() - (HEADER + 2 + 16 + big.len() + 1);
            assert!(
                s.events == 1 || one_less < MAX_BYTES,
                "{} bytes",
                s.body.len()
            );
        }
        let all: usize = segments
            .iter()
            .map(|s| {
                unpack(&InstanceId::new("i1".to_owned()), &s.body)
                    .unwrap()
                    .len()
            })
            .sum();
        assert_eq!(all, 5);

        let huge = "y".repeat(MAX_BYTES * 2);
        let alone = [event(1, &huge), event(2, "{}")];
        let segments = pack(
            alone
                .iter()
                .enumerate()
                .map(|(i, e)| (i64::try_from(i).unwrap() + 1, e)),
        );
        assert_eq!(
            segments.iter().map(|s| s.events).collect::<Vec<_>>(),
            [1, 1]
        );
    }

    #[test]
    fn damaged_bodies_are_reported_not_misread() {
        let events = [event(1, "{\"a\":1}"), event(2, "{\"b\":2}")];
        let body = pack(
            events
                .iter()
                .enumerate()
                .map(|(i, e)| (i64::try_from(i).unwrap() + 1, e)),
        )
        .remove(0)
        .body;
        let instance = InstanceId::new("i1".to_owned());
        let damaged = [
            body[..body.len() - 1].to_owned(), // last line break gone
            body[..HEADER - 5].to_owned(),     // header cut short
            body.replacen("0000000007", "0000000009", 1), // payload length too long
            body.replacen("0000000002 ", "00000000x2 ", 1), // unreadable id length
            format!("{body}garbage"),
            // the same length overall, the fields at other places and widths
            format!("{:<74}\n", "1 1 9223372036854775807 9223372036854775807 1"),
            body.replacen("0000000002 ", "000000002  ", 1),
        ];
        for (i, text) in damaged.iter().enumerate() {
            match unpack(&instance, text) {
                Err(RepoError::Corrupt(message)) => assert!(message.contains("i1"), "{message}"),
                other => panic!("damage {i}: {other:?}"),
            }
        }
        assert_eq!(unpack(&instance, "").expect("empty").len(), 0);
    }
}
