//! Table definitions shared by both backends (see `migrations/`).
#![allow(missing_docs)]

diesel::table! {
    accounts (id) {
        id -> Text,
        name -> Text,
        max_instances -> BigInt,
        token_digest -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    instances (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        token_digest -> Text,
        state -> Text,
        websocket_enabled -> Integer,
        websocket_events -> Text,
        websocket_media_base64 -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    chatwoot_integrations (instance_id) {
        instance_id -> Text,
        bridge_integration_id -> Text,
        chatwoot_base_url -> Text,
        chatwoot_account_id -> BigInt,
        chatwoot_api_token_enc -> Text,
        chatwoot_inbox_id -> BigInt,
        chatwoot_inbox_name -> Text,
        requested_inbox_name -> Text,
        status -> Text,
        last_error -> Text,
        sign_messages -> Integer,
        ignore_groups -> Integer,
        start_as_pending -> Integer,
        reopen_resolved -> Integer,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    bridge_streams (instance_id) {
        instance_id -> Text,
        last_seq -> BigInt,
        acked_seq -> BigInt,
        active -> Integer,
        opened_at -> BigInt,
        acked_at -> BigInt,
    }
}

diesel::table! {
    bridge_segments (instance_id, last_seq) {
        instance_id -> Text,
        last_seq -> BigInt,
        first_seq -> BigInt,
        events -> BigInt,
        oldest_at -> BigInt,
        newest_at -> BigInt,
        body -> Text,
    }
}

diesel::table! {
    bridge_commands (instance_id, idempotency_key) {
        instance_id -> Text,
        idempotency_key -> Text,
        result -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    set_aside_events (id) {
        id -> BigInt,
        instance_id -> Text,
        event_id -> Binary,
        event_name -> Text,
        payload -> Binary,
        reason -> Text,
        created_at -> BigInt,
        set_aside_at -> BigInt,
    }
}

diesel::joinable!(instances -> accounts (account_id));
diesel::joinable!(chatwoot_integrations -> instances (instance_id));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    instances,
    chatwoot_integrations,
    bridge_streams,
    bridge_segments,
    bridge_commands,
    set_aside_events
);
