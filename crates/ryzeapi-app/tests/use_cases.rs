//! The Chatwoot use cases on the ports' in-memory fakes: no database, no
//! HTTP, a scripted bridge and a fixed clock.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use ryzeapi_adapters::{AesGcmCipher, MemoryEngine, RingTokens};
use ryzeapi_app::chatwoot::{activate, deactivate, live_view, SetBody};
use ryzeapi_app::error::ApiError;
use ryzeapi_app::events::public_hub::QueueLimits;
use ryzeapi_app::events::{BridgeHub, HubStats, Hubs, PublicHub, SocketLimits};
use ryzeapi_app::rate_limit::RateLimiter;
use ryzeapi_app::state::{AppState, Module};
use ryzeapi_app::Secret;
use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, IntegrationStatus,
    Timestamp, WebsocketConfig,
};
use ryzeapi_ports::testing::fakes::BridgeCall;
use ryzeapi_ports::testing::{FixedClock, InMemoryRepository, ScriptedBridge};
use ryzeapi_ports::{
    AccountRepository, BridgeError, ChatwootFailure, EventLog, InstanceRepository,
    IntegrationRepository, TokenDigest,
};

struct World {
    state: AppState,
    module: Module,
    bridge: Arc<ScriptedBridge>,
    repo: Arc<InMemoryRepository>,
    clock: Arc<FixedClock>,
    instance: Instance,
}

fn world() -> World {
    let repo = Arc::new(InMemoryRepository::new());
    let clock = Arc::new(FixedClock::at(1_000_000));
    let bridge = Arc::new(ScriptedBridge::default());
    let stats = Arc::new(HubStats::default());
    let account = Account {
        id: AccountId::new("acc"),
        name: "acme".into(),
        max_instances: 5,
        created_at: Timestamp::from_millis(0),
    };
    repo.create_account(&account, &TokenDigest::from_hex("a".repeat(64)))
        .unwrap();
    let instance = Instance {
        id: InstanceId::new("inst"),
        account_id: account.id,
        name: InstanceName::parse("suporte").unwrap(),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::default(),
        created_at: Timestamp::from_millis(0),
    };
    repo.create_instance(&instance, &TokenDigest::from_hex("b".repeat(64)), 5)
        .unwrap();
    let module = Module {
        bridge: bridge.clone(),
        bridge_token: Secret::new("bridge"),
        ryzeapi_url: "http://ryzeapi:8080".into(),
    };
    let state = AppState {
        repo: repo.clone(),
        cipher: Arc::new(AesGcmCipher::new((1, [5; 32]), &[]).unwrap()),
        tokens: Arc::new(RingTokens::new()),
        clock: clock.clone(),
        module: Some(module.clone()),
        base_url: "http://localhost:8080".into(),
        max_body_bytes: 65_536,
        rate: Arc::new(RateLimiter::new()),
        requests_per_minute: 0,
        creations_per_minute: 0,
        events: repo.clone(),
        engine: Arc::new(MemoryEngine::new(clock.clone())),
        dev_engine: None,
        hubs: Hubs {
            public: PublicHub::new(stats.clone(), QueueLimits::default()),
            bridge: BridgeHub::new(stats.clone(), 16),
            stats,
            deletions: Arc::default(),
        },
        socket: SocketLimits {
            heartbeat: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(2),
            send_timeout: Duration::from_secs(1),
            window: 8,
            bridge_max_frame: 4096,
        },
    };
    World {
        state,
        module,
        bridge,
        repo,
        clock,
        instance,
    }
}

fn body(token: &str) -> SetBody {
    serde_json::from_value(serde_json::json!({
        "chatwootBaseUrl": "https://chat.example.com",
        "chatwootAccountId": 5,
        "chatwootApiToken": token
    }))
    .unwrap()
}

fn accepted(id: &str, inbox: i64) -> Result<RemoteState, BridgeError> {
    Ok(RemoteState {
        bridge_integration_id: id.into(),
        status: IntegrationStatus::Active,
        inbox_id: inbox,
        inbox_name: "WhatsApp - suporte".into(),
        last_error: String::new(),
    })
}

#[actix_web::test]
async fn activation_failure_is_recorded_and_repaired() {
    let w = world();
    w.bridge.on_activate(Err(BridgeError::Chatwoot {
        failure: ChatwootFailure::Unauthorized,
        status: Some(401),
        detail: "Invalid Access Token".into(),
    }));
    let input = body("sk_wrong").validate("suporte").unwrap();
    let err = activate(&w.state, &w.module, &w.instance, input).unwrap_err();
    assert!(matches!(err, ApiError::Bridge { .. }));
    let stored = w.repo.integration(&w.instance.id).unwrap().unwrap();
    assert_eq!(stored.integration.status(), IntegrationStatus::Error);
    assert!(stored
        .integration
        .last_error()
        .starts_with("Chatwoot rejected the API token"));
    assert!(
        w.repo.position(&w.instance.id).unwrap().is_some(),
        "the stream is open"
    );

    w.clock.advance(5_000);
    w.bridge.on_activate(accepted("int_1", 41));
    let input = body("sk_right").validate("suporte").unwrap();
    let integration = activate(&w.state, &w.module, &w.instance, input).unwrap();
    assert_eq!(integration.status(), IntegrationStatus::Active);
    assert_eq!(integration.created_at, Timestamp::from_millis(1_000_000));
    assert_eq!(integration.updated_at, Timestamp::from_millis(1_005_000));
    // the token that reached the bridge is the one just given; the stored one is sealed
    let calls = w.bridge.calls();
    match &calls[1] {
        BridgeCall::Activate(request) => assert_eq!(request.api_token.expose(), "sk_right"),
        other => panic!("unexpected call {other:?}"),
    }
    let stored = w.repo.integration(&w.instance.id).unwrap().unwrap();
    assert!(!stored.api_token.as_str().contains("sk_right"));
}

#[actix_web::test]
async fn live_view_applies_reports_and_falls_back() {
    let w = world();
    w.bridge.on_activate(accepted("int_1", 0));
    activate(
        &w.state,
        &w.module,
        &w.instance,
        body("sk").validate("suporte").unwrap(),
    )
    .unwrap();
    w.bridge.on_status(Ok(RemoteState {
        bridge_integration_id: "int_1".into(),
        status: IntegrationStatus::Paused,
        inbox_id: 9,
        inbox_name: String::new(),
        last_error: String::new(),
    }));
    let view = live_view(&w.state, &w.module, &w.instance).unwrap();
    assert!(view.live);
    assert_eq!(view.integration.status(), IntegrationStatus::Paused);
    assert_eq!(view.integration.inbox_id, 9);
    // no scripted answer: the fake refuses to connect; local data answers
    let view = live_view(&w.state, &w.module, &w.instance).unwrap();
    assert!(!view.live);
    assert_eq!(view.integration.status(), IntegrationStatus::Paused);
    assert_eq!(view.integration.inbox_id, 9, "the backfill was stored");
}

#[actix_web::test]
async fn deactivation_continues_past_bridge_failures() {
    let w = world();
    w.bridge.on_activate(accepted("int_1", 3));
    activate(
        &w.state,
        &w.module,
        &w.instance,
        body("sk").validate("suporte").unwrap(),
    )
    .unwrap();
    w.bridge
        .on_delete(Err(BridgeError::Timeout(Duration::from_secs(30))));
    deactivate(&w.state, &w.module, &w.instance).unwrap();
    assert!(w.repo.integration(&w.instance.id).unwrap().is_none());
    assert!(
        w.repo.position(&w.instance.id).unwrap().is_none(),
        "the stream is closed"
    );
    assert_eq!(
        w.bridge.calls().last(),
        Some(&BridgeCall::Delete("int_1".into()))
    );
    let again = deactivate(&w.state, &w.module, &w.instance).unwrap_err();
    assert!(matches!(
        again,
        ApiError::NotFound("no chatwoot integration to delete")
    ));
}
