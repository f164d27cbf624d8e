//! Close codes: the standard ones the server uses (RFC 6455, 7.4.1) and the
//! protocol's own (4000–4999). The reasons that go with them are listed in
//! `docs/bridge-protocol.md` ("Close codes").

/// A frame that is not valid JSON.
pub const INVALID_PAYLOAD: u16 = 1007;
/// A frame that breaks the protocol (unknown type, missing fields, binary).
pub const POLICY: u16 = 1008;
/// A frame larger than the limit.
pub const TOO_BIG: u16 = 1009;
/// The server failed (e.g. the log could not be read).
pub const INTERNAL: u16 = 1011;
/// A newer connection for the same instance took over.
pub const REPLACED: u16 = 4001;
/// Nothing heard from the peer within the heartbeat timeout.
pub const HEARTBEAT_TIMEOUT: u16 = 4002;
/// The integration (and its stream) was removed or restarted.
pub const STREAM_CLOSED: u16 = 4003;
/// Events sent but not acknowledged within the heartbeat timeout.
pub const ACK_TIMEOUT: u16 = 4004;
/// The bridge did not send `resume` in time.
pub const NO_RESUME: u16 = 4005;
/// Writing to the bridge took longer than the send timeout (it stopped reading).
pub const WRITE_TIMEOUT: u16 = 4006;
