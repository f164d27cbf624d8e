//! The protocol's limits and the defaults the server announces in `hello`.

/// The longest close reason, in bytes (a WebSocket close frame leaves 123
/// bytes for it; a reason that quotes the peer is cut to this).
pub const MAX_CLOSE_REASON_BYTES: usize = 120;

/// The default of `hello.window`: events the bridge may hold unacknowledged.
pub const DEFAULT_WINDOW: u64 = 1024;

/// The default of `hello.max_frame_bytes`: the largest frame, or message
/// assembled from fragments, the server accepts from the bridge.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1024 * 1024;

/// Commands of one connection that may wait to run; beyond that the server
/// stops reading the socket until one finishes.
pub const COMMANDS_WAITING: usize = 64;

/// Event frames read from the log and written to the socket in one batch
/// when the bridge is behind (one write deadline covers the batch).
pub const EVENT_BATCH: usize = 500;
