//! The use cases on the ports' fakes alone: an in-memory repository and
//! log, a scripted bridge, a fake cipher, counting tokens, a recording
//! engine and a fixed clock. No database, no HTTP, no application state.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ryzeapi_core::chatwoot::{
    activate, deactivate, live_view, BridgeFailureKind, ChatwootError, SetBody,
};
use ryzeapi_core::instances::{
    self, Block, Caller, ChatwootBlock, ChatwootOutcome, InstanceError, NewInstance, WebsocketBlock,
};
use ryzeapi_core::messages::{self, MessageError, SendText};
use ryzeapi_core::{ChatwootModule, Notifier, Ports, ServiceToken};
use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::{
    Account, AccountId, ConnectionState, Instance, InstanceId, InstanceName, IntegrationStatus,
    Timestamp, WebsocketConfig,
};
use ryzeapi_ports::testing::fakes::BridgeCall;
use ryzeapi_ports::testing::{
    CountingTokens, EngineCall, FakeCipher, FixedClock, InMemoryRepository, RecordingEngine,
    ScriptedBridge,
};
use ryzeapi_ports::{
    AccountRepository, BridgeError, ChatwootFailure, EngineError, EventLog, InstanceRepository,
    IntegrationRepository, TokenDigest,
};

/// What the use cases told the transports.
#[derive(Default)]
struct Told(Mutex<Vec<String>>);

impl Notifier for Told {
    fn websocket_changed(&self, instance: &Instance) {
        self.0
            .lock()
            .unwrap()
            .push(format!("websocket {}", instance.name));
    }
    fn stream_restarted(&self, instance: &InstanceId) {
        self.0
            .lock()
            .unwrap()
            .push(format!("restarted {}", instance.as_str()));
    }
    fn stream_removed(&self, instance: &InstanceId) {
        self.0
            .lock()
            .unwrap()
            .push(format!("removed {}", instance.as_str()));
    }
    fn instance_deleted(&self, instance: &Instance) {
        self.0
            .lock()
            .unwrap()
            .push(format!("deleted {}", instance.name));
    }
}

struct World {
    ports: Ports,
    module: ChatwootModule,
    bridge: Arc<ScriptedBridge>,
    repo: Arc<InMemoryRepository>,
    engine: Arc<RecordingEngine>,
    told: Arc<Told>,
    clock: Arc<FixedClock>,
    account: Account,
    instance: Instance,
}

fn world() -> World {
    let repo = Arc::new(InMemoryRepository::new());
    let clock = Arc::new(FixedClock::at(1_000_000));
    let bridge = Arc::new(ScriptedBridge::default());
    let engine = Arc::new(RecordingEngine::default());
    let told = Arc::new(Told::default());
    let account = Account {
        id: AccountId::new("acc"),
        name: "acme".into(),
        max_instances: 3,
        created_at: Timestamp::from_millis(0),
    };
    repo.create_account(&account, &TokenDigest::from_hex("a".repeat(64)))
        .unwrap();
    let instance = Instance {
        id: InstanceId::new("inst"),
        account_id: account.id.clone(),
        name: InstanceName::parse("suporte").unwrap(),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::default(),
        created_at: Timestamp::from_millis(0),
    };
    repo.create_instance(&instance, &TokenDigest::from_hex("b".repeat(64)), 5)
        .unwrap();
    let module = ChatwootModule {
        bridge: bridge.clone(),
        service_token: ServiceToken::new("bridge-service-token"),
        server_url: "http://ryzeapi:8080".into(),
    };
    let ports = Ports {
        repo: repo.clone(),
        log: repo.clone(),
        cipher: Arc::new(FakeCipher),
        tokens: Arc::new(CountingTokens::default()),
        clock: clock.clone(),
        engine: engine.clone(),
        notify: told.clone(),
    };
    World {
        ports,
        module,
        bridge,
        repo,
        engine,
        told,
        clock,
        account,
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

fn told(w: &World) -> Vec<String> {
    w.told.0.lock().unwrap().clone()
}

#[test]
fn activation_failure_is_recorded_and_repaired() {
    let w = world();
    w.bridge.on_activate(Err(BridgeError::Chatwoot {
        failure: ChatwootFailure::Unauthorized,
        status: Some(401),
        detail: "Invalid Access Token sk_wrong".into(),
    }));
    let input = body("sk_wrong").validate("suporte").unwrap();
    let err = activate(&w.ports, &w.module, &w.instance, input).unwrap_err();
    let ChatwootError::Bridge(failure) = err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.kind, BridgeFailureKind::ChatwootUnauthorized);
    assert!(!failure.message.contains("sk_wrong"), "{}", failure.message);
    let stored = w.repo.integration(&w.instance.id).unwrap().unwrap();
    assert_eq!(stored.integration.status(), IntegrationStatus::Error);
    assert_eq!(
        stored.integration.last_error(),
        failure.message,
        "what is stored is the failure's own message"
    );
    assert!(
        w.repo.position(&w.instance.id).unwrap().is_some(),
        "the stream is open"
    );
    assert_eq!(told(&w), ["restarted inst"]);

    w.clock.advance(5_000);
    w.bridge.on_activate(accepted("int_1", 41));
    let input = body("sk_right").validate("suporte").unwrap();
    let integration = activate(&w.ports, &w.module, &w.instance, input).unwrap();
    assert_eq!(integration.status(), IntegrationStatus::Active);
    assert_eq!(integration.created_at, Timestamp::from_millis(1_000_000));
    assert_eq!(integration.updated_at, Timestamp::from_millis(1_005_000));
    assert_eq!(told(&w), ["restarted inst"], "the open stream is kept");
    // the token that reached the bridge is the one just given; the stored one is sealed
    match &w.bridge.calls()[1] {
        BridgeCall::Activate(request) => assert_eq!(request.api_token.expose(), "sk_right"),
        other => panic!("unexpected call {other:?}"),
    }
    let stored = w.repo.integration(&w.instance.id).unwrap().unwrap();
    assert!(!stored.api_token.as_str().contains("sk_right"));
}

#[test]
fn an_invalid_body_changes_nothing() {
    let w = world();
    let err = SetBody::default().validate("suporte").unwrap_err();
    assert!(
        matches!(err, ChatwootError::Invalid(ref m) if m.contains("chatwootBaseUrl")),
        "{err:?}"
    );
    assert!(w.bridge.calls().is_empty());
}

#[test]
fn live_view_applies_reports_quotes_them_and_falls_back() {
    let w = world();
    w.bridge.on_activate(accepted("int_1", 0));
    activate(
        &w.ports,
        &w.module,
        &w.instance,
        body("sk_live_token").validate("suporte").unwrap(),
    )
    .unwrap();
    w.bridge.on_status(Ok(RemoteState {
        bridge_integration_id: "int_1".into(),
        status: IntegrationStatus::Error,
        inbox_id: 9,
        inbox_name: String::new(),
        last_error: "inbox gone; token sk_live_token".into(),
    }));
    let view = live_view(&w.ports, &w.module, &w.instance).unwrap();
    assert!(view.live);
    assert_eq!(view.integration.status(), IntegrationStatus::Error);
    assert_eq!(
        view.integration.last_error(),
        "inbox gone; token [redacted]"
    );
    assert_eq!(view.integration.inbox_id, 9);
    // no scripted answer: the fake refuses to connect; local data answers
    let view = live_view(&w.ports, &w.module, &w.instance).unwrap();
    assert!(!view.live);
    assert_eq!(view.integration.inbox_id, 9, "the backfill was stored");
}

#[test]
fn deactivation_continues_past_bridge_failures() {
    let w = world();
    w.bridge.on_activate(accepted("int_1", 3));
    activate(
        &w.ports,
        &w.module,
        &w.instance,
        body("sk").validate("suporte").unwrap(),
    )
    .unwrap();
    w.bridge
        .on_delete(Err(BridgeError::Timeout(Duration::from_secs(30))));
    deactivate(&w.ports, &w.module, &w.instance).unwrap();
    assert!(w.repo.integration(&w.instance.id).unwrap().is_none());
    assert!(
        w.repo.position(&w.instance.id).unwrap().is_none(),
        "the stream is closed"
    );
    assert_eq!(told(&w), ["restarted inst", "removed inst"]);
    assert_eq!(
        w.bridge.calls().last(),
        Some(&BridgeCall::Delete("int_1".into()))
    );
    let again = deactivate(&w.ports, &w.module, &w.instance).unwrap_err();
    assert!(matches!(
        again,
        ChatwootError::NoIntegration("no chatwoot integration to delete")
    ));
}

fn new_instance(name: &str) -> NewInstance {
    NewInstance {
        name: Some(name.into()),
        token: None,
        websocket: Block::Absent,
        chatwoot: Block::Absent,
    }
}

#[test]
fn creation_applies_valid_blocks_and_reports_failing_ones() {
    let w = world();
    let mut request = new_instance("vendas");
    request.websocket = Block::Given(WebsocketBlock {
        websocket_enabled: Some(true),
        websocket_events: Some(vec!["nope".into()]),
        websocket_media_base64: None,
    });
    request.chatwoot = Block::Given(ChatwootBlock {
        chatwoot_enabled: Some(true),
        chatwoot_base_url: Some("https://chat.example.com".into()),
        chatwoot_account_id: Some(5),
        chatwoot_api_token: Some("sk".into()),
        ..ChatwootBlock::default()
    });
    w.bridge.on_activate(accepted("int_v", 7));
    let created = instances::create(&w.ports, Some(&w.module), &w.account, request).unwrap();
    assert!(created
        .websocket_error
        .unwrap()
        .starts_with("invalid body: "));
    assert!(
        !created.instance.websocket.enabled,
        "an invalid block is not applied"
    );
    assert!(matches!(created.chatwoot, Some(ChatwootOutcome::Activated(ref i)) if i.inbox_id == 7));
    assert!(w
        .repo
        .instance_by_name(&created.instance.name)
        .unwrap()
        .is_some());

    // the module off: the instance is created all the same
    let mut request = new_instance("outra");
    request.chatwoot = Block::Given(ChatwootBlock {
        chatwoot_enabled: Some(true),
        ..ChatwootBlock::default()
    });
    let created = instances::create(&w.ports, None, &w.account, request).unwrap();
    assert!(
        matches!(created.chatwoot, Some(ChatwootOutcome::Failed(ref m)) if m.contains("BRIDGE_URL"))
    );

    // the quota (3) is used up: nothing is written
    let err = instances::create(&w.ports, None, &w.account, new_instance("demais")).unwrap_err();
    assert!(matches!(err, InstanceError::QuotaExceeded), "{err:?}");
}

#[test]
fn creation_refuses_bad_names_tokens_and_duplicates() {
    let w = world();
    let err = instances::create(&w.ports, None, &w.account, new_instance("")).unwrap_err();
    assert!(matches!(err, InstanceError::Invalid(_)), "{err:?}");
    let mut short = new_instance("curto");
    short.token = Some("short".into());
    let err = instances::create(&w.ports, None, &w.account, short).unwrap_err();
    assert!(matches!(err, InstanceError::Invalid(ref m) if m.contains("token must be")));
    let err = instances::create(&w.ports, None, &w.account, new_instance("suporte")).unwrap_err();
    assert!(matches!(err, InstanceError::NameTaken), "{err:?}");
}

#[test]
fn listing_follows_the_caller() {
    let w = world();
    let account = Caller::Account(w.account.clone());
    let all = instances::list(&w.ports, &account, &[]).unwrap();
    assert_eq!(all.len(), 1);
    let err = instances::list(&w.ports, &account, &["nada".into()]).unwrap_err();
    assert!(matches!(err, InstanceError::NotFound));
    let own = Caller::Instance(w.instance.clone());
    assert_eq!(instances::list(&w.ports, &own, &[]).unwrap().len(), 1);
    let err = instances::list(&w.ports, &own, &["outra".into()]).unwrap_err();
    assert!(matches!(err, InstanceError::TokenMismatch));
}

#[test]
fn deletion_tears_down_tells_the_transports_and_the_engine_forgets() {
    let w = world();
    w.bridge.on_activate(accepted("int_1", 3));
    activate(
        &w.ports,
        &w.module,
        &w.instance,
        body("sk").validate("suporte").unwrap(),
    )
    .unwrap();
    instances::delete(&w.ports, Some(&w.module), &w.instance).unwrap();
    assert!(w.repo.instance_by_name(&w.instance.name).unwrap().is_none());
    assert_eq!(told(&w).last().map(String::as_str), Some("deleted suporte"));
    assert_eq!(w.engine.calls(), [EngineCall::Forget("suporte".into())]);
    assert_eq!(
        w.bridge.calls().last(),
        Some(&BridgeCall::Delete("int_1".into()))
    );
    let err = instances::delete(&w.ports, Some(&w.module), &w.instance).unwrap_err();
    assert!(matches!(err, InstanceError::NotFound));
}

fn send_body(number: &str) -> SendText {
    SendText {
        number: Some(number.into()),
        message: Some("olá".into()),
        reply_to: Some(String::new()),
        delay: None,
    }
}

#[test]
fn sending_normalises_the_number_and_maps_the_engines_answers() {
    let w = world();
    let send = send_body("+55 (11) 99999-0000").validate().unwrap();
    assert_eq!(send.text.to, "5511999990000@s.whatsapp.net");
    assert_eq!(send.text.reply_to, None, "an empty reply id is none");
    assert_eq!(
        messages::ensure_connected(&w.ports, &w.instance),
        Err(MessageError::NotConnected)
    );
    w.engine.connect("suporte");
    messages::ensure_connected(&w.ports, &w.instance).unwrap();
    let sent = messages::send(&w.ports, &w.instance, &send).unwrap();
    assert_eq!(sent.message_id, "MSG1");
    w.engine.fail_next(EngineError::Busy("intake full".into()));
    assert!(matches!(
        messages::send(&w.ports, &w.instance, &send),
        Err(MessageError::Busy(_))
    ));
    for bad in ["abc", "123", "5511999990000@evil.com"] {
        assert!(
            matches!(send_body(bad).validate(), Err(MessageError::Invalid(_))),
            "{bad}"
        );
    }
    let long = SendText {
        message: Some("x".repeat(messages::MAX_TEXT + 1)),
        ..send_body("5511999990000")
    };
    assert!(matches!(long.validate(), Err(MessageError::Invalid(ref m)) if m.contains("at most")));
}

#[test]
fn access_follows_the_ownership_policy() {
    use ryzeapi_core::access::{self, AccessError};
    let w = world();
    let other = Account {
        id: AccountId::new("other"),
        name: "other".into(),
        max_instances: 1,
        created_at: Timestamp::from_millis(0),
    };
    w.repo
        .create_account(&other, &w.ports.tokens.digest("other-token"))
        .unwrap();
    let caller = access::identify(&w.ports, &w.ports.tokens.digest("other-token")).unwrap();
    assert!(matches!(caller, Caller::Account(ref a) if a.id == other.id));
    assert!(matches!(
        access::identify(&w.ports, &w.ports.tokens.digest("nobody")),
        Err(AccessError::InvalidToken)
    ));
    // another account's instance is not found, in the route's words
    assert!(matches!(
        access::instance_for(&w.ports, &caller, "suporte", "gone"),
        Err(AccessError::NotFound("gone"))
    ));
    let own = Caller::Instance(w.instance.clone());
    assert!(access::instance_for(&w.ports, &own, "suporte", "gone").is_ok());
    assert!(matches!(
        access::instance_for(&w.ports, &own, "outra", "gone"),
        Err(AccessError::TokenMismatch)
    ));
    assert!(matches!(
        access::instance_for(&w.ports, &own, "not a name!", "gone"),
        Err(AccessError::TokenMismatch)
    ));
    // the bridge's socket needs an integration
    assert!(matches!(
        access::bridge_instance(&w.ports, "suporte"),
        Err(AccessError::NotFound(
            "no chatwoot integration for this instance"
        ))
    ));
}

#[test]
fn websocket_settings_are_validated_stored_and_told() {
    use ryzeapi_core::websocket::{self, WebsocketBody, WebsocketError};
    let w = world();
    assert!(matches!(
        WebsocketBody::default().validate(),
        Err(WebsocketError::Invalid(ref m)) if m == "enabled is required"
    ));
    let config = WebsocketBody {
        enabled: Some(true),
        events: Some(vec!["message.exchange".into()]),
        media_base64: None,
    }
    .validate()
    .unwrap();
    let updated = websocket::configure(&w.ports, &w.instance, config).unwrap();
    assert!(updated.websocket.enabled);
    let stored = w.repo.instance_by_name(&w.instance.name).unwrap().unwrap();
    assert_eq!(stored.websocket, updated.websocket);
    assert_eq!(told(&w), ["websocket suporte"]);
}

#[test]
fn the_directory_reuses_lookups_forgets_deletions_and_never_takes_a_failure_for_unknown() {
    use ryzeapi_core::events::{InstanceDirectory, Route};
    let w = world();
    let directory = InstanceDirectory::new(Duration::from_secs(60));
    let name = w.instance.name.clone();
    assert!(matches!(
        directory.route(w.repo.as_ref(), &name, false),
        (Route::To(_), None)
    ));
    // the database down: the instance as last seen, with the failure
    w.repo.fail_lookups(true);
    let (route, failure) = directory.route(w.repo.as_ref(), &name, true);
    assert!(matches!(route, Route::To(_)) && failure.is_some());
    // never seen, and the database down: the event waits
    let other = InstanceName::parse("nunca").unwrap();
    assert!(matches!(
        directory.route(w.repo.as_ref(), &other, false),
        (Route::Later(_), Some(_))
    ));
    // a deletion is forgotten at once: the next event looks again
    directory.forget(&name);
    assert!(matches!(
        directory.route(w.repo.as_ref(), &name, false),
        (Route::Later(_), Some(_))
    ));
    w.repo.fail_lookups(false);
    assert!(matches!(
        directory.route(w.repo.as_ref(), &other, false),
        (Route::Unknown, None)
    ));
}

#[test]
fn a_command_runs_once_per_key_and_checks_its_addresses() {
    use ryzeapi_core::bridge::{execute_command, CommandOutcome};
    use ryzeapi_protocol::{Command, MarkReadArgs, SendTextArgs};
    let w = world();
    w.repo
        .open_stream(&w.instance.id, Timestamp::from_millis(0))
        .unwrap();
    let send = Command::SendText(SendTextArgs {
        to: "+55 11 99999-0000".into(),
        text: "oi".into(),
        reply_to: None,
    });
    assert!(matches!(
        execute_command(&w.ports, &w.instance, "k1", &send),
        CommandOutcome::Failed { ref reason } if reason == "Instance is not connected to WhatsApp"
    ));
    w.engine.connect("suporte");
    let first = execute_command(&w.ports, &w.instance, "k1", &send);
    assert_eq!(
        first,
        CommandOutcome::Done {
            message_id: "MSG1".into(),
            duplicate: false
        }
    );
    let again = execute_command(&w.ports, &w.instance, "k1", &send);
    assert_eq!(
        again,
        CommandOutcome::Done {
            message_id: "MSG1".into(),
            duplicate: true
        }
    );
    let sends: Vec<_> = w
        .engine
        .calls()
        .into_iter()
        .filter(|c| matches!(c, EngineCall::Text(..)))
        .collect();
    assert_eq!(sends.len(), 1, "the same key sends once");
    assert!(
        matches!(&sends[0], EngineCall::Text(_, t) if t.to == "5511999990000@s.whatsapp.net"),
        "the same address rule as the send route"
    );
    let bad = Command::MarkRead(MarkReadArgs {
        chat: "nobody".into(),
        message_ids: vec![],
    });
    assert!(matches!(
        execute_command(&w.ports, &w.instance, "k2", &bad),
        CommandOutcome::Failed { ref reason } if reason.starts_with("invalid request: chat must be")
    ));
}

#[test]
fn status_reports_are_checked_quoted_and_adopt_a_missing_id() {
    use ryzeapi_core::bridge::{apply_status_report, StatusError, StatusReport};
    let w = world();
    let report = |status: &str, last_error: &str| StatusReport {
        integration_id: "int_9".into(),
        status: status.into(),
        last_error: last_error.into(),
        inbox_id: 4,
    };
    assert!(matches!(
        apply_status_report(&w.ports, &w.instance, report("active", "")),
        Err(StatusError::Refused(ref m)) if m == "no chatwoot integration for this instance"
    ));
    // an activation that timed out on the server: stored in error, no bridge id
    w.bridge
        .on_activate(Err(BridgeError::Timeout(Duration::from_secs(60))));
    let _ = activate(
        &w.ports,
        &w.module,
        &w.instance,
        body("sk_secret").validate("suporte").unwrap(),
    );
    assert!(matches!(
        apply_status_report(&w.ports, &w.instance, report("sleeping", "")),
        Err(StatusError::Refused(ref m)) if m.contains("active, paused or error")
    ));
    let recorded =
        apply_status_report(&w.ports, &w.instance, report("error", "boom sk_secret")).unwrap();
    assert_eq!(recorded, IntegrationStatus::Error);
    let stored = w.repo.integration(&w.instance.id).unwrap().unwrap();
    assert_eq!(stored.integration.bridge_integration_id, "int_9", "adopted");
    assert_eq!(stored.integration.last_error(), "boom [redacted]");
}
