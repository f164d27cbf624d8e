//! One bridge connection on `/ws/chatwoot/:instance`, speaking
//! `ryzeapi.bridge.v1` (see `docs/bridge-protocol.md`):
//!
//! 1. the server sends `hello`; the bridge answers `resume {after}`;
//! 2. the server streams `event` frames after that point, in order, from
//!    memory or from the durable log, never more than `window` beyond the
//!    bridge's last `ack`; a point older than what is retained gets `resync`;
//! 3. `ack` moves the cursor (persisted, coalesced); `command` frames run
//!    through the engine with idempotency; `status` reports update the
//!    integration row;
//! 4. pings every heartbeat; a silent bridge, a bridge that stops
//!    acknowledging, a malformed or oversized frame (or message assembled
//!    from fragments), or a newer connection for the same instance closes the
//!    socket with a documented code; a close frame from the bridge is answered
//!    with one.
//!
//! Text from the bridge (a `last_error`, a close reason that quotes a frame)
//! is redacted of the integration's Chatwoot API token before it is cut,
//! stored, sent or logged.

use std::io::ErrorKind;
use std::sync::Arc;
use std::time::Instant;

use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, MessageStream,
    ProtocolError, Session,
};
use ryzeapi_core::bridge::{self, CommandOutcome, StatusError, StatusReport};
use ryzeapi_core::Ports;
use ryzeapi_domain::text::{quote, Limit};
use ryzeapi_domain::Instance;
use ryzeapi_ports::StreamPosition;
use ryzeapi_protocol::{
    close, limits, BridgeFrame, Command, CommandResult, ErrorFrame, Event, Hello, Outcome, Resync,
    ResyncReason, ServerFrame, StatusRecorded, PROTOCOL,
};
use tokio::sync::{mpsc, watch};

use super::bridge_hub::{Attachment, BridgeHub, EventFrame, InstanceStream};
use super::stats::HubStats;
use super::SocketLimits;
use crate::blocking::blocking;
use crate::error::{Secrets, CLOSE_REASON_BYTES};

/// Events read from the log per round trip when the bridge is behind.
const READ_BATCH: usize = limits::EVENT_BATCH;

// Close reasons are cut to the protocol's limit.
const _: () = assert!(CLOSE_REASON_BYTES == limits::MAX_CLOSE_REASON_BYTES);

/// A `resync` frame.
fn resync(
    reason: ResyncReason,
    requested_after: u64,
    from_seq: u64,
    last_seq: u64,
) -> ServerFrame<'static> {
    ServerFrame::Resync(Resync {
        reason,
        requested_after,
        from_seq,
        last_seq,
    })
}

/// An `error` frame: `correlation_id`'s frame was understood but refused.
fn refusal(correlation_id: &str, reason: &str) -> ServerFrame<'static> {
    ServerFrame::Error(ErrorFrame {
        correlation_id: correlation_id.to_owned(),
        reason: reason.to_owned(),
    })
}

/// What a bridge connection needs.
#[derive(Clone)]
pub struct BridgeContext {
    /// Every port, for the use cases.
    pub ports: Ports,
    /// The hub.
    pub hub: BridgeHub,
    /// Counters.
    pub stats: Arc<HubStats>,
    /// Timing and limits.
    pub limits: SocketLimits,
}

/// What actix-ws says when a message assembled from fragments exceeds
/// `max_continuation_size` (an I/O error of its own, not `Overflow`).
const CONTINUATION_OVERFLOW: &str = "Exceeded maximum continuation size";

enum End {
    /// Close with a reason of the server's own.
    Close(u16, String),
    /// Close with a reason that quotes the bridge's frame: redacted before it
    /// is sent or logged.
    Refused(u16, String),
    /// The bridge sent a close frame: answer it.
    PeerClosed(Option<CloseReason>),
    Gone,
}

fn end(code: u16, reason: impl Into<String>) -> End {
    End::Close(code, reason.into())
}

struct Conn {
    ctx: BridgeContext,
    instance: Instance,
    session: Session,
    stream: Arc<InstanceStream>,
    /// Highest sequence number written to the socket.
    sent: u64,
    /// Highest sequence number the bridge acknowledged on this connection.
    acked: u64,
    /// Acknowledged but not yet written to the log.
    ack_pending: bool,
    last_seen: Instant,
    last_ack_progress: Instant,
}

impl Conn {
    async fn send(&mut self, frame: ServerFrame<'_>) -> Result<(), End> {
        self.send_text(frame.encode()).await
    }

    async fn send_text(&mut self, text: String) -> Result<(), End> {
        match tokio::time::timeout(self.ctx.limits.send_timeout, self.session.text(text)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(end(close::WRITE_TIMEOUT, "write timed out")),
        }
    }

    fn position(
        &self,
    ) -> impl std::future::Future<Output = Result<Option<StreamPosition>, crate::error::ApiError>>
    {
        let log = self.ctx.ports.log.clone();
        let id = self.instance.id.clone();
        blocking(move || log.position(&id).map_err(crate::error::ApiError::internal))
    }

    /// Sends what is available up to `latest`, within the window.
    async fn deliver(&mut self, latest: &watch::Receiver<u64>) -> Result<(), End> {
        loop {
            let latest = *latest.borrow();
            let in_flight = self.sent.saturating_sub(self.acked);
            if self.sent >= latest || in_flight >= self.ctx.limits.window {
                return Ok(());
            }
            let budget =
                usize::try_from((self.ctx.limits.window - in_flight).min(latest - self.sent))
                    .unwrap_or(READ_BATCH)
                    .min(READ_BATCH);
            let frames = match self.stream.after(self.sent, budget) {
                Some(frames) if !frames.is_empty() => frames,
                _ => {
                    let frames = self.read_log(budget).await?;
                    if let Some(first) = frames.first().map(|f| f.seq) {
                        if first > self.sent + 1 {
                            // Part of what follows was pruned: never a silent gap.
                            self.send(resync(ResyncReason::Pruned, self.sent, first, latest))
                                .await?;
                        }
                    }
                    frames
                }
            };
            if frames.is_empty() {
                // The log has nothing after `sent` although the watch says more
                // exists: those events were pruned. Say so, then go on.
                let pos = match self.position().await {
                    Ok(Some(pos)) => pos,
                    Ok(None) => return Err(end(close::STREAM_CLOSED, "integration removed")),
                    Err(_) => return Err(end(close::INTERNAL, "log unavailable")),
                };
                if pos.last_seq <= self.sent {
                    return Ok(());
                }
                let from = pos.oldest_seq.max(self.sent + 1);
                if from == self.sent + 1 {
                    // The log says the next event exists but returned none.
                    return Err(end(close::INTERNAL, "event log inconsistent"));
                }
                self.send(resync(ResyncReason::Pruned, self.sent, from, pos.last_seq))
                    .await?;
                self.sent = from - 1;
                continue;
            }
            if self.sent == self.acked {
                // Nothing was in flight: the acknowledgement clock starts now.
                self.last_ack_progress = Instant::now();
            }
            // One deadline for the whole batch: a bridge that stopped reading
            // is caught without a timer per frame.
            let batch = async {
                for frame in frames {
                    if frame.seq <= self.sent {
                        continue;
                    }
                    if self.session.text(frame.text).await.is_err() {
                        return Err(End::Gone);
                    }
                    self.sent = frame.seq;
                    HubStats::incr(&self.ctx.stats.events_sent_to_bridge);
                }
                Ok(())
            };
            match tokio::time::timeout(self.ctx.limits.send_timeout, batch).await {
                Ok(result) => result?,
                Err(_) => return Err(end(close::WRITE_TIMEOUT, "write timed out")),
            }
        }
    }

    async fn read_log(&mut self, budget: usize) -> Result<Vec<EventFrame>, End> {
        let log = self.ctx.ports.log.clone();
        let id = self.instance.id.clone();
        let after = self.sent;
        let events = blocking(move || {
            log.read_after(&id, after, budget)
                .map_err(crate::error::ApiError::internal)
        })
        .await
        .map_err(|e| {
            log::error!("bridge socket: reading the log: {e:?}");
            end(close::INTERNAL, "log unavailable")
        })?;
        Ok(events
            .into_iter()
            .map(|l| EventFrame {
                seq: l.seq,
                text: Event::encode_around(l.seq, &l.event.event_id, &l.event.payload).into(),
            })
            .collect())
    }

    /// Hands the acknowledged position to the pump, which stores it
    /// with its own writes.
    fn note_ack(&mut self) {
        if self.ack_pending {
            self.ack_pending = false;
            self.ctx
                .hub
                .record_ack(self.instance.id.as_str(), self.acked);
        }
    }

    /// Stores the acknowledged position at once (when the connection ends,
    /// so that the next one starts from it).
    async fn flush_ack(&mut self) {
        if !self.ack_pending {
            return;
        }
        self.ack_pending = false;
        let ports = self.ctx.ports.clone();
        let id = self.instance.id.clone();
        let seq = self.acked;
        if let Err(e) = blocking(move || {
            Ok(bridge::record_ack(
                ports.log.as_ref(),
                ports.clock.as_ref(),
                &id,
                seq,
            )?)
        })
        .await
        {
            log::error!(
                "bridge socket: recording ack {seq} for '{}': {e:?}",
                self.instance.name
            );
            self.ack_pending = true;
        }
    }

    async fn status(&mut self, correlation_id: String, report: StatusReport) -> Result<(), End> {
        let ports = self.ctx.ports.clone();
        let instance = self.instance.clone();
        let applied =
            blocking(move || Ok(bridge::apply_status_report(&ports, &instance, report))).await;
        match applied {
            Ok(Ok(status)) => {
                self.send(ServerFrame::StatusRecorded(StatusRecorded {
                    correlation_id,
                    status: status.as_str().to_owned(),
                }))
                .await
            }
            Ok(Err(StatusError::Refused(reason))) => {
                self.send(refusal(&correlation_id, &reason)).await
            }
            Ok(Err(e @ StatusError::Storage(_))) => {
                log::error!(
                    "bridge socket: status report for '{}': {e}",
                    self.instance.name
                );
                self.send(refusal(&correlation_id, "status could not be recorded"))
                    .await
            }
            Err(e) => {
                log::error!(
                    "bridge socket: status report for '{}': {e:?}",
                    self.instance.name
                );
                self.send(refusal(&correlation_id, "status could not be recorded"))
                    .await
            }
        }
    }
}

/// Runs a command once per idempotency key (use case:
/// `ryzeapi_core::bridge::execute_command`), holding the key meanwhile.
fn execute(
    ctx: &BridgeContext,
    instance: &Instance,
    key: &str,
    command: &Command,
) -> (Outcome, bool) {
    // Held until the result is stored: the same key on another connection
    // (a reconnect racing this one) cannot send a second time meanwhile.
    let Some(_reservation) = ctx.hub.reserve_command(instance.id.as_str(), key) else {
        return (
            Outcome::Failed {
                reason: "a command with this idempotency key is in progress; retry for its result"
                    .into(),
            },
            false,
        );
    };
    match bridge::execute_command(&ctx.ports, instance, key, command) {
        CommandOutcome::Done {
            message_id,
            duplicate,
        } => (Outcome::Sent { message_id }, duplicate),
        CommandOutcome::Failed { reason } => (Outcome::Failed { reason }, false),
    }
}

/// Runs the connection's commands one after another, off the socket task.
fn spawn_command_worker(
    ctx: BridgeContext,
    instance: Instance,
) -> (
    mpsc::Sender<(String, String, Command)>,
    mpsc::UnboundedReceiver<String>,
) {
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<(String, String, Command)>(limits::COMMANDS_WAITING);
    // Results never wait (one per accepted command), so the socket task and
    // the worker can never block each other.
    let (res_tx, res_rx) = mpsc::unbounded_channel::<String>();
    actix_web::rt::spawn(async move {
        while let Some((correlation_id, key, command)) = cmd_rx.recv().await {
            let ctx2 = ctx.clone();
            let inst = instance.clone();
            let key2 = key.clone();
            let (outcome, duplicate) = blocking(move || Ok(execute(&ctx2, &inst, &key2, &command)))
                .await
                .unwrap_or_else(|e| {
                    (
                        Outcome::Failed {
                            reason: format!("{e}"),
                        },
                        false,
                    )
                });
            let result = ServerFrame::Result(CommandResult {
                correlation_id,
                idempotency_key: key,
                outcome,
                duplicate,
            });
            if res_tx.send(result.encode()).is_err() {
                break;
            }
        }
    });
    (cmd_tx, res_rx)
}

fn close_reason(code: u16, reason: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code: CloseCode::from(code),
        description: Some(quote(reason, &[], Limit::Bytes(CLOSE_REASON_BYTES))),
    })
}

/// The secrets a text of the bridge about `instance` must not reveal, read
/// from its stored integration; unreadable when there is none (any more).
async fn bridge_secrets(ctx: &BridgeContext, instance: &Instance) -> Secrets {
    let ports = ctx.ports.clone();
    let id = instance.id.clone();
    blocking(move || {
        let stored = ports.repo.integration(&id)?;
        Ok(stored.map_or_else(Secrets::unreadable, |stored| {
            Secrets::of_stored(ports.cipher.as_ref(), &id, &stored.api_token, &[])
        }))
    })
    .await
    .unwrap_or_else(|e| {
        log::error!(
            "bridge socket: reading the integration of '{}': {e:?}",
            instance.name
        );
        Secrets::unreadable()
    })
}

/// Whether `e` says a frame, or a message assembled from fragments, exceeds
/// the limit.
fn too_big(e: &ProtocolError) -> bool {
    match e {
        ProtocolError::Overflow => true,
        ProtocolError::Io(io) => {
            io.kind() == ErrorKind::Other && io.to_string() == CONTINUATION_OVERFLOW
        }
        _ => false,
    }
}

/// Serves one bridge connection until it ends.
pub async fn run(ctx: BridgeContext, instance: Instance, session: Session, stream: MessageStream) {
    let attachment = ctx.hub.attach(instance.id.as_str());
    HubStats::incr(&ctx.stats.bridge_connections);
    let conn_id = attachment.id;
    let mut conn = Conn {
        ctx: ctx.clone(),
        instance: instance.clone(),
        session,
        stream: attachment.stream.clone(),
        sent: 0,
        acked: 0,
        ack_pending: false,
        last_seen: Instant::now(),
        last_ack_progress: Instant::now(),
    };
    let mut stream = stream
        .max_frame_size(ctx.limits.bridge_max_frame)
        .aggregate_continuations()
        .max_continuation_size(ctx.limits.bridge_max_frame);
    let outcome = serve(&mut conn, &mut stream, attachment).await;
    // What was handed to the pump may not be stored yet: the last
    // position is stored now, so that the next connection starts from it.
    conn.ack_pending |= conn.acked > 0;
    conn.flush_ack().await;
    ctx.hub.detach(instance.id.as_str(), conn_id);
    HubStats::decr(&ctx.stats.bridge_connections);
    let limit = ctx.limits.send_timeout;
    match outcome {
        End::Close(code, reason) => {
            log::info!(
                "bridge socket of '{}' closed: {code} {reason}",
                instance.name
            );
            let _ =
                tokio::time::timeout(limit, conn.session.close(close_reason(code, &reason))).await;
        }
        End::Refused(code, reason) => {
            // The same quoted text goes to the log and into the close frame.
            let reason = bridge_secrets(&ctx, &instance)
                .await
                .quote(&reason, Limit::Bytes(CLOSE_REASON_BYTES));
            log::info!(
                "bridge socket of '{}' closed: {code} {reason}",
                instance.name
            );
            let _ =
                tokio::time::timeout(limit, conn.session.close(close_reason(code, &reason))).await;
        }
        End::PeerClosed(reason) => {
            // The closing handshake: a close frame answers the bridge's, with its code.
            let answer = reason.as_ref().map(|r| CloseReason {
                code: r.code,
                description: None,
            });
            let _ = tokio::time::timeout(limit, conn.session.close(answer)).await;
            let (code, description) = match reason {
                Some(r) => (u16::from(r.code), r.description.unwrap_or_default()),
                // 1005: the close frame carried no code (RFC 6455, 7.4.1).
                None => (1005, String::new()),
            };
            let description = if description.trim().is_empty() {
                String::new()
            } else {
                bridge_secrets(&ctx, &instance)
                    .await
                    .quote(&description, Limit::Bytes(CLOSE_REASON_BYTES))
            };
            log::info!(
                "bridge socket of '{}' closed by the bridge: {code} {description}",
                instance.name
            );
        }
        End::Gone => {}
    }
}

async fn start_point(conn: &mut Conn, after: u64) -> Result<(), End> {
    let pos = match conn.position().await {
        Ok(Some(pos)) => pos,
        Ok(None) => return Err(end(close::STREAM_CLOSED, "no stream for this instance")),
        Err(_) => return Err(end(close::INTERNAL, "log unavailable")),
    };
    conn.sent = if after > pos.last_seq {
        let from = pos.oldest_seq;
        conn.send(resync(ResyncReason::CursorAhead, after, from, pos.last_seq))
            .await?;
        from.saturating_sub(1)
    } else if after + 1 < pos.oldest_seq {
        let from = pos.oldest_seq;
        conn.send(resync(
            ResyncReason::CursorExpired,
            after,
            from,
            pos.last_seq,
        ))
        .await?;
        from - 1
    } else {
        after
    };
    conn.acked = conn.sent;
    conn.ack_pending = after > pos.acked_seq && after <= pos.last_seq;
    Ok(())
}

async fn serve(
    conn: &mut Conn,
    stream: &mut AggregatedMessageStream,
    attachment: Attachment,
) -> End {
    let limits = conn.ctx.limits;
    let pos = match conn.position().await {
        Ok(Some(pos)) => pos,
        Ok(None) => return end(close::STREAM_CLOSED, "no stream for this instance"),
        Err(_) => return end(close::INTERNAL, "log unavailable"),
    };
    conn.stream.raise_latest(pos.last_seq);
    let hello = ServerFrame::Hello(Hello {
        protocol: PROTOCOL.to_owned(),
        instance: conn.instance.name.as_str().to_owned(),
        acked_seq: pos.acked_seq,
        last_seq: pos.last_seq,
        oldest_seq: pos.oldest_seq,
        window: limits.window,
        heartbeat_secs: limits.heartbeat.as_secs(),
        max_frame_bytes: u64::try_from(limits.bridge_max_frame).unwrap_or(u64::MAX),
    });
    if let Err(e) = conn.send(hello).await {
        return e;
    }

    // The bridge says where it stands before anything is streamed.
    let first = tokio::time::timeout(limits.heartbeat_timeout, async {
        loop {
            let message = stream.recv().await;
            if let Some(frame) = handle_raw(conn, message).await? {
                return Ok::<BridgeFrame, End>(frame);
            }
        }
    })
    .await;
    let after = match first {
        Err(_) => return end(close::NO_RESUME, "no resume frame in time"),
        Ok(Err(e)) => return e,
        Ok(Ok(BridgeFrame::Resume(resume))) => resume.after,
        Ok(Ok(_)) => return end(close::POLICY, "the first frame must be resume"),
    };
    if let Err(e) = start_point(conn, after).await {
        return e;
    }

    let Attachment {
        closed,
        stream: instance_stream,
        ..
    } = attachment;
    let mut latest = instance_stream.subscribe();
    let mut closed = std::pin::pin!(closed);
    let (commands, mut results) = spawn_command_worker(conn.ctx.clone(), conn.instance.clone());
    let mut heartbeat = tokio::time::interval(limits.heartbeat);
    heartbeat.tick().await;
    let mut ack_flush = tokio::time::interval(super::pump::ACK_FLUSH);
    let mut deliver_now = true;
    loop {
        if deliver_now {
            if let Err(e) = conn.deliver(&latest).await {
                return e;
            }
            deliver_now = false;
        }
        tokio::select! {
            changed = latest.changed() => {
                if changed.is_err() {
                    return end(close::STREAM_CLOSED, "stream restarted");
                }
                deliver_now = true;
            }
            order = &mut closed => {
                return match order {
                    Ok(order) => end(order.code, order.reason),
                    Err(_) => end(close::STREAM_CLOSED, "stream closed"),
                };
            }
            message = stream.recv() => match handle_raw(conn, message).await {
                Err(e) => return e,
                Ok(None) => {}
                Ok(Some(BridgeFrame::Ack(ack))) => {
                    let seq = ack.seq.min(conn.sent);
                    if seq > conn.acked {
                        conn.acked = seq;
                        conn.stream.forget_through(seq);
                        conn.ack_pending = true;
                        conn.last_ack_progress = Instant::now();
                        deliver_now = true;
                    }
                }
                Ok(Some(BridgeFrame::Resume(_))) => return end(close::POLICY, "resume is only allowed once"),
                Ok(Some(BridgeFrame::Command(c))) => {
                    HubStats::incr(&conn.ctx.stats.bridge_commands);
                    if commands.send((c.correlation_id, c.idempotency_key, c.command)).await.is_err() {
                        return end(close::INTERNAL, "command worker stopped");
                    }
                }
                Ok(Some(BridgeFrame::Status(s))) => {
                    let reported = conn.status(
                        s.correlation_id.unwrap_or_default(),
                        StatusReport {
                            integration_id: s.integration_id.unwrap_or_default(),
                            status: s.status,
                            last_error: s.last_error.unwrap_or_default(),
                            inbox_id: s.inbox_id.unwrap_or_default(),
                        },
                    );
                    if let Err(e) = reported.await {
                        return e;
                    }
                }
            },
            result = results.recv() => {
                if let Some(text) = result {
                    if let Err(e) = conn.send_text(text).await {
                        return e;
                    }
                }
            }
            _ = heartbeat.tick() => {
                if conn.last_seen.elapsed() > limits.heartbeat_timeout {
                    return end(close::HEARTBEAT_TIMEOUT, "heartbeat timeout");
                }
                if conn.sent > conn.acked && conn.last_ack_progress.elapsed() > limits.heartbeat_timeout {
                    return end(close::ACK_TIMEOUT, "events not acknowledged in time");
                }
                match tokio::time::timeout(limits.send_timeout, conn.session.ping(b"")).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return End::Gone,
                    Err(_) => return end(close::WRITE_TIMEOUT, "write timed out"),
                }
            }
            _ = ack_flush.tick() => conn.note_ack(),
        }
    }
}

/// Turns one raw message into a protocol frame; pings are answered, and any
/// message counts as a sign of life. `Ok(None)`: nothing for the protocol.
async fn handle_raw(
    conn: &mut Conn,
    message: Option<Result<AggregatedMessage, ProtocolError>>,
) -> Result<Option<BridgeFrame>, End> {
    let Some(message) = message else {
        return Err(End::Gone);
    };
    conn.last_seen = Instant::now();
    match message {
        Ok(AggregatedMessage::Text(text)) => BridgeFrame::parse(&text)
            .map(Some)
            .map_err(|e| End::Refused(e.close_code(), e.to_string())),
        Ok(AggregatedMessage::Binary(_)) => Err(end(
            close::POLICY,
            "binary frames are not part of the protocol",
        )),
        Ok(AggregatedMessage::Ping(bytes)) => {
            let limit = conn.ctx.limits.send_timeout;
            match tokio::time::timeout(limit, conn.session.pong(&bytes)).await {
                Ok(Ok(())) => Ok(None),
                Ok(Err(_)) => Err(End::Gone),
                Err(_) => Err(end(close::WRITE_TIMEOUT, "write timed out")),
            }
        }
        Ok(AggregatedMessage::Pong(_)) => Ok(None),
        Ok(AggregatedMessage::Close(reason)) => Err(End::PeerClosed(reason)),
        Err(e) if too_big(&e) => Err(end(close::TOO_BIG, "frame larger than max_frame_bytes")),
        Err(e) => Err(End::Refused(close::POLICY, format!("protocol error: {e}"))),
    }
}
