//! JSON shapes of instances and integrations in answers. The Chatwoot API
//! token has no field here: it cannot leak through a view.

use ryzeapi_domain::{Instance, Integration};
use serde_json::{json, Value};

/// The integration as `GET /api/chatwoot/list` shows it.
pub fn integration(instance: &Instance, i: &Integration) -> Value {
    let f = &i.settings.flags;
    json!({
        "instance_name": instance.name.as_str(),
        "status": i.status().as_str(),
        "bridge_integration_id": i.bridge_integration_id,
        "chatwoot_base_url": i.settings.base_url.as_str(),
        "chatwoot_account_id": i.settings.account_id.get(),
        "chatwoot_inbox_id": i.inbox_id,
        "chatwoot_inbox_name": i.inbox_name,
        "last_error": i.last_error(),
        "sign_messages": f.sign_messages,
        "ignore_groups": f.ignore_groups,
        "start_as_pending": f.start_as_pending,
        "reopen_resolved": f.reopen_resolved,
        "created_at": i.created_at.to_rfc3339(),
        "updated_at": i.updated_at.to_rfc3339(),
    })
}

/// The short summary an instance listing carries.
pub fn integration_summary(i: &Integration) -> Value {
    json!({
        "status": i.status().as_str(),
        "bridge_integration_id": i.bridge_integration_id,
        "chatwoot_base_url": i.settings.base_url.as_str(),
        "chatwoot_account_id": i.settings.account_id.get(),
        "chatwoot_inbox_id": i.inbox_id,
        "chatwoot_inbox_name": i.inbox_name,
        "last_error": i.last_error(),
    })
}

/// The WebSocket settings of an instance.
pub fn websocket(instance: &Instance) -> Value {
    json!({
        "enabled": instance.websocket.enabled,
        "events": instance.websocket.events,
        "mediaBase64": instance.websocket.media_base64,
    })
}

/// An instance in listings (its token is never shown again after creation).
pub fn instance(instance: &Instance, chatwoot: Option<&Integration>) -> Value {
    json!({
        "name": instance.name.as_str(),
        "state": instance.state.as_str(),
        "createdAt": instance.created_at.to_rfc3339(),
        "websocket": websocket(instance),
        "integrations": {
            "chatwoot": chatwoot.map(integration_summary),
        },
    })
}

/// The event stream's health: whether the bridge is connected, how far it
/// has acknowledged, and how many events wait.
pub fn stream(position: Option<&ryzeapi_ports::StreamPosition>, connected: bool) -> Value {
    match position {
        Some(p) => json!({
            "socket_connected": connected,
            "last_seq": p.last_seq,
            "acked_seq": p.acked_seq,
            "pending": p.last_seq.saturating_sub(p.acked_seq),
            "oldest_retained_seq": p.oldest_seq,
        }),
        None => json!({"socket_connected": connected}),
    }
}
