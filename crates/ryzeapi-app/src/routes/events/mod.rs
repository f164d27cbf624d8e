//! `/api/events/*`: the public WebSocket settings of an instance.

pub mod websocket_get;
pub mod websocket_set;
