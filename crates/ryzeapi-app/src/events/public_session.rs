//! One `/ws/:instance` client: writes the frames its queue receives, pings,
//! and leaves when the hub drops it (also in the middle of a write: a client
//! too far behind is closed at once), when it goes silent, when it sends a
//! frame, or a message assembled from fragments, over 16 KiB, or when a write
//! takes longer than the send timeout (a client that stopped reading).

use std::sync::Arc;
use std::time::Instant;

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, MessageStream, Session};

use super::public_hub::{DropReason, PublicHub, Subscription};
use super::stats::HubStats;
use super::SocketLimits;

/// The largest frame, and the largest message assembled from fragments, a
/// client may send.
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// The close reason of a client the hub dropped for falling too far behind.
const NOT_READ_IN_TIME: &str = "client too slow: events were not read in time";

fn reason(code: u16, text: &'static str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(text.to_owned()),
    })
}

/// Serves one public client until it leaves or is dropped.
pub async fn run(
    mut session: Session,
    stream: MessageStream,
    hub: PublicHub,
    instance_id: String,
    sub: Subscription,
    limits: SocketLimits,
    stats: Arc<HubStats>,
) {
    HubStats::incr(&stats.public_connections);
    let mut stream = stream
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_CLIENT_MESSAGE);
    let mut ping = tokio::time::interval(limits.heartbeat);
    ping.tick().await;
    let mut last_seen = Instant::now();
    let close = loop {
        tokio::select! {
            frame = sub.next() => match frame {
                Ok(frame) => {
                    let write = tokio::time::timeout(limits.send_timeout, session.text(frame));
                    tokio::select! {
                        written = write => match written {
                            Ok(Ok(())) => {}
                            Ok(Err(_)) => break None,
                            Err(_) => {
                                HubStats::incr(&stats.public_dropped_slow);
                                break reason(1013, "client too slow: a write timed out");
                            }
                        },
                        // The hub gave up on the client while a write waits
                        // for it: no need to wait for the write's time limit.
                        () = sub.dropped_slow() => break reason(1013, NOT_READ_IN_TIME),
                    }
                }
                Err(dropped) => break match dropped {
                    DropReason::Slow => reason(1013, NOT_READ_IN_TIME),
                    DropReason::Disabled => reason(1000, "WebSocket disabled for this instance"),
                    DropReason::Deleted => reason(1000, "instance deleted"),
                    DropReason::None => reason(1001, "server going away"),
                },
            },
            message = stream.recv() => match message {
                Some(Ok(AggregatedMessage::Ping(bytes))) => {
                    last_seen = Instant::now();
                    match tokio::time::timeout(limits.send_timeout, session.pong(&bytes)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => break None,
                        Err(_) => break reason(1013, "client too slow: a write timed out"),
                    }
                }
                Some(Ok(AggregatedMessage::Close(_))) | None => break None,
                Some(Ok(_)) => last_seen = Instant::now(),
                Some(Err(_)) => break reason(1009, "frame too large or malformed"),
            },
            _ = ping.tick() => {
                if last_seen.elapsed() > limits.heartbeat_timeout {
                    break reason(4002, "heartbeat timeout");
                }
                match tokio::time::timeout(limits.send_timeout, session.ping(b"")).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break None,
                    Err(_) => break reason(1013, "client too slow: a write timed out"),
                }
            }
        }
    };
    hub.unsubscribe(&instance_id, sub.id);
    HubStats::decr(&stats.public_connections);
    // A close frame to a client that stopped reading could wait forever: bounded.
    let _ = tokio::time::timeout(limits.send_timeout, session.close(close)).await;
}
