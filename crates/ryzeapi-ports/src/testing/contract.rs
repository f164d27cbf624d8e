//! The repository contract: one check per behaviour, run against every
//! adapter (in-memory, SQLite, Postgres) through [`repository_contract!`](crate::repository_contract).

use ryzeapi_domain::integration::RemoteState;
use ryzeapi_domain::{
    Account, AccountId, ChatwootAccountId, ChatwootBaseUrl, ChatwootSettings, ConnectionState,
    InboxName, Instance, InstanceId, InstanceName, Integration, IntegrationFlags,
    IntegrationStatus, Timestamp, WebsocketConfig,
};

use crate::cipher::SealedSecret;
use crate::repository::{DuplicateField, RepoError, Repository};
use crate::tokens::TokenDigest;

/// Expands to one `#[test]` per contract check; `$make` builds a fresh,
/// empty repository (anything that dereferences to a [`Repository`]).
#[macro_export]
macro_rules! repository_contract {
    ($make:expr) => {
        $crate::repository_contract!(@each $make;
            accounts_are_found_by_token_digest,
            account_tokens_are_unique,
            instances_round_trip,
            instance_names_are_unique_server_wide,
            instance_tokens_are_unique,
            quota_is_enforced,
            instance_needs_an_existing_account,
            websocket_and_state_updates,
            integration_save_is_an_upsert,
            integration_state_update_leaves_settings_alone,
            integration_needs_an_existing_instance,
            deleting_an_instance_removes_its_integration,
            ping_answers,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let repo = $make;
                $crate::testing::contract::$name(&*repo);
            }
        )*
    };
}

fn digest(s: &str) -> TokenDigest {
    TokenDigest::from_hex(format!("{s:0>64}"))
}

fn account(id: &str, max: u32) -> Account {
    Account {
        id: AccountId::new(id),
        name: format!("account {id}"),
        max_instances: max,
        created_at: Timestamp::from_millis(1_700_000_000_000),
    }
}

fn instance(id: &str, account: &str, name: &str, at: i64) -> Instance {
    Instance {
        id: InstanceId::new(id),
        account_id: AccountId::new(account),
        name: InstanceName::parse(name).expect("valid name"),
        state: ConnectionState::Disconnected,
        websocket: WebsocketConfig::default(),
        created_at: Timestamp::from_millis(at),
    }
}

fn settings(inbox: &str) -> ChatwootSettings {
    ChatwootSettings {
        base_url: ChatwootBaseUrl::parse("https://chat.example.com").expect("url"),
        account_id: ChatwootAccountId::parse(5).expect("id"),
        inbox_name: InboxName::parse(inbox).expect("inbox"),
        flags: IntegrationFlags {
            sign_messages: true,
            ignore_groups: false,
            start_as_pending: true,
            reopen_resolved: false,
        },
    }
}

fn active(instance: &str, bridge_id: &str, inbox_id: i64, at: i64) -> Integration {
    Integration::activated(
        InstanceId::new(instance),
        settings("WhatsApp - Orion"),
        &RemoteState {
            bridge_integration_id: bridge_id.into(),
            status: IntegrationStatus::Active,
            inbox_id,
            inbox_name: "WhatsApp - Orion".into(),
            last_error: String::new(),
        },
        Timestamp::from_millis(at),
    )
    .expect("valid activation")
}

fn seed(repo: &dyn Repository) {
    repo.create_account(&account("acc1", 10), &digest("a1"))
        .expect("account 1");
    repo.create_account(&account("acc2", 10), &digest("a2"))
        .expect("account 2");
}

/// Accounts are found by the digest of their token, and only by it.
pub fn accounts_are_found_by_token_digest(repo: &dyn Repository) {
    seed(repo);
    let found = repo.account_by_token(&digest("a1")).expect("lookup");
    assert_eq!(found, Some(account("acc1", 10)));
    assert_eq!(repo.account_by_token(&digest("zz")).expect("lookup"), None);
}

/// Two accounts cannot share a token.
pub fn account_tokens_are_unique(repo: &dyn Repository) {
    seed(repo);
    let err = repo
        .create_account(&account("acc3", 1), &digest("a1"))
        .expect_err("duplicate token");
    assert_eq!(err, RepoError::Duplicate(DuplicateField::Token));
    assert_eq!(
        repo.account_by_token(&digest("a1"))
            .expect("lookup")
            .map(|a| a.id),
        Some(AccountId::new("acc1"))
    );
}

/// Instances come back as stored, by token, by name and per account, oldest first.
pub fn instances_round_trip(repo: &dyn Repository) {
    seed(repo);
    let mut first = instance("i1", "acc1", "suporte", 2_000);
    first.websocket = WebsocketConfig::parse(
        true,
        &["message.exchange".into(), "instance.state".into()],
        true,
    )
    .expect("config");
    let second = instance("i2", "acc1", "vendas", 1_000);
    let other = instance("i3", "acc2", "outra", 500);
    repo.create_instance(&first, &digest("t1"), 10).expect("i1");
    repo.create_instance(&second, &digest("t2"), 10)
        .expect("i2");
    repo.create_instance(&other, &digest("t3"), 10).expect("i3");

    assert_eq!(
        repo.instance_by_token(&digest("t1")).expect("q"),
        Some(first.clone())
    );
    assert_eq!(repo.instance_by_token(&digest("a1")).expect("q"), None);
    let by_name = repo
        .instance_by_name(&InstanceName::parse("vendas").expect("n"))
        .expect("q");
    assert_eq!(by_name, Some(second.clone()));
    assert_eq!(
        repo.instance_by_name(&InstanceName::parse("nope").expect("n"))
            .expect("q"),
        None
    );
    let listed = repo.instances_of(&AccountId::new("acc1")).expect("q");
    assert_eq!(listed, vec![second, first]);
    assert!(repo
        .instances_of(&AccountId::new("none"))
        .expect("q")
        .is_empty());
}

/// A name is taken server-wide, whichever account holds it; nothing is written.
pub fn instance_names_are_unique_server_wide(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "suporte", 1), &digest("t1"), 10)
        .expect("first");
    let err = repo
        .create_instance(&instance("i2", "acc2", "suporte", 2), &digest("t2"), 10)
        .expect_err("same name");
    assert_eq!(err, RepoError::Duplicate(DuplicateField::InstanceName));
    assert!(repo
        .instances_of(&AccountId::new("acc2"))
        .expect("q")
        .is_empty());
    assert_eq!(repo.instance_by_token(&digest("t2")).expect("q"), None);
}

/// Two instances cannot share a token.
pub fn instance_tokens_are_unique(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 10)
        .expect("first");
    let err = repo
        .create_instance(&instance("i2", "acc1", "b", 2), &digest("t1"), 10)
        .expect_err("same token");
    assert_eq!(err, RepoError::Duplicate(DuplicateField::Token));
    assert_eq!(
        repo.instances_of(&AccountId::new("acc1")).expect("q").len(),
        1
    );
}

/// The quota counts the account's instances only, and frees up on delete.
pub fn quota_is_enforced(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 2)
        .expect("1");
    repo.create_instance(&instance("i2", "acc1", "b", 2), &digest("t2"), 2)
        .expect("2");
    let err = repo
        .create_instance(&instance("i3", "acc1", "c", 3), &digest("t3"), 2)
        .expect_err("over quota");
    assert_eq!(err, RepoError::QuotaExceeded);
    repo.create_instance(&instance("i4", "acc2", "d", 4), &digest("t4"), 2)
        .expect("other account unaffected");
    assert!(repo
        .delete_instance(&InstanceId::new("i1"))
        .expect("delete"));
    repo.create_instance(&instance("i3", "acc1", "c", 5), &digest("t3"), 2)
        .expect("room again");
    let err = repo
        .create_instance(&instance("i5", "acc2", "e", 6), &digest("t5"), 0)
        .expect_err("zero quota");
    assert_eq!(err, RepoError::QuotaExceeded);
}

/// An instance cannot be created for an account that does not exist.
pub fn instance_needs_an_existing_account(repo: &dyn Repository) {
    seed(repo);
    let err = repo
        .create_instance(&instance("i1", "ghost", "a", 1), &digest("t1"), 10)
        .expect_err("no account");
    assert_eq!(err, RepoError::MissingParent);
}

/// WebSocket settings and the connection state are stored and read back.
pub fn websocket_and_state_updates(repo: &dyn Repository) {
    seed(repo);
    let i = instance("i1", "acc1", "a", 1);
    repo.create_instance(&i, &digest("t1"), 10).expect("create");
    let cfg = WebsocketConfig::parse(true, &["message.status".into()], true).expect("cfg");
    assert!(repo.set_websocket(&i.id, &cfg).expect("ws"));
    assert!(repo
        .set_state(&i.id, ConnectionState::Connected)
        .expect("state"));
    let back = repo
        .instance_by_token(&digest("t1"))
        .expect("q")
        .expect("some");
    assert_eq!(back.websocket, cfg);
    assert_eq!(back.state, ConnectionState::Connected);
    let ghost = InstanceId::new("ghost");
    assert!(!repo.set_websocket(&ghost, &cfg).expect("ws"));
    assert!(!repo
        .set_state(&ghost, ConnectionState::Connected)
        .expect("state"));
    repo.create_instance(&instance("i2", "acc1", "b", 2), &digest("t2"), 10)
        .expect("create");
    assert_eq!(
        repo.set_all_states(ConnectionState::Disconnected)
            .expect("all"),
        1
    );
    let back = repo
        .instance_by_token(&digest("t1"))
        .expect("q")
        .expect("some");
    assert_eq!(back.state, ConnectionState::Disconnected);
    assert_eq!(
        repo.set_all_states(ConnectionState::Disconnected)
            .expect("all"),
        0
    );
}

/// Saving twice replaces the row (settings, token, state) and keeps its creation time.
pub fn integration_save_is_an_upsert(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 10)
        .expect("create");
    let id = InstanceId::new("i1");
    assert_eq!(repo.integration(&id).expect("q"), None);
    let first = active("i1", "int_1", 0, 10_000);
    repo.save_integration(&first, &SealedSecret::new("sealed-1"))
        .expect("save");
    let stored = repo.integration(&id).expect("q").expect("row");
    assert_eq!(stored.integration, first);
    assert_eq!(stored.api_token, SealedSecret::new("sealed-1"));

    let mut second = Integration::failed(
        id.clone(),
        settings("Other inbox"),
        "Chatwoot rejected the API token",
        Timestamp::from_millis(20_000),
    )
    .expect("failed");
    second.settings.flags.ignore_groups = true;
    repo.save_integration(&second, &SealedSecret::new("sealed-2"))
        .expect("save again");
    let stored = repo.integration(&id).expect("q").expect("row");
    assert_eq!(stored.api_token, SealedSecret::new("sealed-2"));
    assert_eq!(stored.integration.status(), IntegrationStatus::Error);
    assert_eq!(
        stored.integration.last_error(),
        "Chatwoot rejected the API token"
    );
    assert!(stored.integration.settings.flags.ignore_groups);
    assert_eq!(
        stored.integration.settings.inbox_name.as_str(),
        "Other inbox"
    );
    assert_eq!(
        stored.integration.created_at,
        Timestamp::from_millis(10_000)
    );
    assert_eq!(
        stored.integration.updated_at,
        Timestamp::from_millis(20_000)
    );
}

/// A state update moves status, error, bridge id and inbox only.
pub fn integration_state_update_leaves_settings_alone(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 10)
        .expect("create");
    let id = InstanceId::new("i1");
    let original = active("i1", "int_1", 0, 10_000);
    repo.save_integration(&original, &SealedSecret::new("sealed-1"))
        .expect("save");
    let mut changed = original.clone();
    changed
        .apply_report(
            IntegrationStatus::Paused,
            "",
            77,
            Timestamp::from_millis(30_000),
        )
        .expect("report");
    changed.settings = settings("Must not be stored");
    assert!(repo.update_integration_state(&changed).expect("update"));
    let stored = repo.integration(&id).expect("q").expect("row");
    assert_eq!(stored.integration.status(), IntegrationStatus::Paused);
    assert_eq!(stored.integration.inbox_id, 77);
    assert_eq!(
        stored.integration.updated_at,
        Timestamp::from_millis(30_000)
    );
    assert_eq!(stored.integration.settings, original.settings);
    assert_eq!(stored.api_token, SealedSecret::new("sealed-1"));
    let ghost = active("ghost", "int_9", 0, 1);
    assert!(!repo.update_integration_state(&ghost).expect("update"));
}

/// An integration cannot exist without its instance.
pub fn integration_needs_an_existing_instance(repo: &dyn Repository) {
    seed(repo);
    let err = repo
        .save_integration(&active("ghost", "int_1", 1, 1), &SealedSecret::new("s"))
        .expect_err("no instance");
    assert_eq!(err, RepoError::MissingParent);
}

/// Deleting an instance deletes its integration; deletes report whether a row went.
pub fn deleting_an_instance_removes_its_integration(repo: &dyn Repository) {
    seed(repo);
    repo.create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 10)
        .expect("create");
    repo.create_instance(&instance("i2", "acc1", "b", 2), &digest("t2"), 10)
        .expect("create");
    repo.save_integration(&active("i1", "int_1", 1, 1), &SealedSecret::new("s"))
        .expect("save");
    repo.save_integration(&active("i2", "int_2", 2, 1), &SealedSecret::new("s"))
        .expect("save");
    assert!(repo
        .delete_instance(&InstanceId::new("i1"))
        .expect("delete"));
    assert!(!repo.delete_instance(&InstanceId::new("i1")).expect("again"));
    assert_eq!(repo.integration(&InstanceId::new("i1")).expect("q"), None);
    assert!(repo
        .integration(&InstanceId::new("i2"))
        .expect("q")
        .is_some());
    assert!(repo
        .delete_integration(&InstanceId::new("i2"))
        .expect("delete"));
    assert!(!repo
        .delete_integration(&InstanceId::new("i2"))
        .expect("again"));
    assert!(repo.instance_by_token(&digest("t2")).expect("q").is_some());
}

/// The health probe answers on a working store.
pub fn ping_answers(repo: &dyn Repository) {
    repo.ping().expect("ping");
}

/// Expands to one `#[test]` per event-log contract check; `$make` builds a
/// fresh, empty store implementing both [`Repository`] and [`EventLog`](crate::EventLog).
#[macro_export]
macro_rules! event_log_contract {
    ($make:expr) => {
        $crate::event_log_contract!(@each $make;
            streams_number_events_per_instance,
            large_mixed_batches_are_stored_whole_and_in_order,
            only_instances_with_a_stream_are_logged,
            reading_resumes_after_a_sequence_number,
            acks_are_cumulative_and_bounded,
            pruning_keeps_what_is_not_acknowledged,
            reading_and_pruning_are_exact_across_a_long_stream,
            reopening_a_stream_continues_its_numbering,
            opening_an_active_stream_changes_nothing,
            command_results_are_kept_once,
            deleting_the_instance_removes_its_stream,
            any_text_the_event_types_admit_is_stored_unchanged,
            set_aside_events_are_kept_counted_and_deleted_with_their_instance,
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let store = $make;
                $crate::testing::contract::events::$name(&*store);
            }
        )*
    };
}

/// The event-log checks.
pub mod events {
    use ryzeapi_domain::{EventData, EventId, EventName, InstanceId, Timestamp};

    use super::{digest, instance, seed};
    use crate::events::{EventLog, LoggedEvent, NewEvent};
    use crate::repository::{RepoError, Repository};

    /// What the checks need: both traits.
    pub trait Store: Repository + EventLog {}
    impl<T: Repository + EventLog + ?Sized> Store for T {}

    fn event(instance: &str, n: u32, at: i64) -> NewEvent {
        NewEvent {
            instance_id: InstanceId::new(instance),
            event_id: format!("ev-{instance}-{n}"),
            name: "message.exchange".into(),
            payload: format!(r#"{{"event":"message.exchange","n":{n}}}"#),
            created_at: Timestamp::from_millis(at),
        }
    }

    fn setup(store: &dyn Store) {
        seed(store);
        store
            .create_instance(&instance("i1", "acc1", "a", 1), &digest("t1"), 10)
            .expect("i1");
        store
            .create_instance(&instance("i2", "acc1", "b", 2), &digest("t2"), 10)
            .expect("i2");
    }

    fn id(s: &str) -> InstanceId {
        InstanceId::new(s)
    }

    const NOW: Timestamp = Timestamp::from_millis(1_000);

    /// Sequence numbers start at 1 and increase per instance, in the order given.
    pub fn streams_number_events_per_instance(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        store.open_stream(&id("i2"), NOW).expect("open");
        let batch = vec![event("i1", 1, 10), event("i2", 1, 11), event("i1", 2, 12)];
        let seqs = store.append(&batch).expect("append");
        assert_eq!(
            seqs,
            vec![Some(1), Some(1), Some(2)],
            "one number per event, in order"
        );
        let more = store.append(&[event("i1", 3, 13)]).expect("append");
        assert_eq!(more, vec![Some(3)]);
        let pos = store.position(&id("i1")).expect("pos").expect("stream");
        assert_eq!((pos.acked_seq, pos.last_seq, pos.oldest_seq), (0, 3, 1));
        let stored = store.read_after(&id("i1"), 0, 10).expect("read");
        assert_eq!(stored.len(), 3);
        assert_eq!(stored[0].event, batch[0], "the event comes back as given");
        assert_eq!(stored[1].event, batch[2]);
    }

    /// A batch larger than any statement an adapter may cut it into, with two
    /// instances interleaved, comes back whole: every number in order, every
    /// field as given.
    pub fn large_mixed_batches_are_stored_whole_and_in_order(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        store.open_stream(&id("i2"), NOW).expect("open");
        let batch: Vec<NewEvent> = (1..=300)
            .map(|n| {
                // i1 gets 270 rows, i2 30: a bulk path for many rows and
                // plain inserts for few meet in one transaction
                let instance = if n % 10 == 0 { "i2" } else { "i1" };
                let mut e = event(instance, n, i64::from(n));
                if n % 7 == 0 {
                    // what a bulk path must carry unchanged: tabs, line
                    // breaks, backslashes, quotes and text beyond ASCII
                    e.payload = format!(
                        "{{\"n\":{n},\"text\":\"a\tb\nc\\\\d \\\"e\\\" olá 😀 \\u0000\"}}\r\n\t"
                    );
                    e.event_id = format!("ev\t{instance}\\{n}");
                }
                e
            })
            .collect();
        let seqs = store.append(&batch).expect("append");
        let (mut next1, mut next2) = (0, 0);
        for (event, seq) in batch.iter().zip(&seqs) {
            let counter = if event.instance_id.as_str() == "i1" {
                &mut next1
            } else {
                &mut next2
            };
            *counter += 1;
            assert_eq!(*seq, Some(*counter), "{}", event.event_id);
        }
        assert_eq!((next1, next2), (270, 30));
        for (instance, count) in [("i1", 270), ("i2", 30)] {
            let stored = store.read_after(&id(instance), 0, 1_000).expect("read");
            let given: Vec<&NewEvent> = batch
                .iter()
                .filter(|e| e.instance_id.as_str() == instance)
                .collect();
            assert_eq!(stored.len(), count);
            for (n, (logged, original)) in stored.iter().zip(given).enumerate() {
                assert_eq!(logged.seq, n as u64 + 1);
                assert_eq!(&logged.event, original);
            }
        }
    }

    /// Instances without a stream are skipped, not refused.
    pub fn only_instances_with_a_stream_are_logged(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let seqs = store
            .append(&[event("i2", 1, 10), event("i1", 1, 11)])
            .expect("append");
        assert_eq!(seqs, vec![None, Some(1)]);
        assert_eq!(store.position(&id("i2")).expect("pos"), None);
        assert!(store.read_after(&id("i2"), 0, 10).expect("read").is_empty());
        assert_eq!(store.append(&[]).expect("empty"), Vec::<Option<u64>>::new());
    }

    /// Reading after N gives N+1.. in order, up to the limit.
    pub fn reading_resumes_after_a_sequence_number(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let batch: Vec<NewEvent> = (1..=10).map(|n| event("i1", n, i64::from(n))).collect();
        store.append(&batch).expect("append");
        let read = store.read_after(&id("i1"), 4, 3).expect("read");
        assert_eq!(
            read.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![5, 6, 7]
        );
        assert_eq!(read[0].event.event_id, "ev-i1-5");
        assert!(store.read_after(&id("i1"), 10, 5).expect("read").is_empty());
    }

    /// Acks never move back and never pass the last sequence number.
    pub fn acks_are_cumulative_and_bounded(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let batch: Vec<NewEvent> = (1..=5).map(|n| event("i1", n, 1)).collect();
        store.append(&batch).expect("append");
        assert!(store.ack(&id("i1"), 3, NOW).expect("ack"));
        assert!(store.ack(&id("i1"), 2, NOW).expect("ack"));
        assert_eq!(
            store.position(&id("i1")).expect("p").expect("s").acked_seq,
            3
        );
        store.ack(&id("i1"), 99, NOW).expect("ack");
        assert_eq!(
            store.position(&id("i1")).expect("p").expect("s").acked_seq,
            5
        );
        assert!(!store.ack(&id("i2"), 1, NOW).expect("no stream"));
    }

    /// Acknowledged events go after their retention; unacknowledged ones only
    /// after the maximum age.
    pub fn pruning_keeps_what_is_not_acknowledged(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let batch: Vec<NewEvent> = (1..=6)
            .map(|n| event("i1", n, i64::from(n) * 100))
            .collect();
        store.append(&batch).expect("append");
        store.ack(&id("i1"), 4, NOW).expect("ack");
        // acked and older than 350: seqs 1..3
        let removed = store
            .prune(Timestamp::from_millis(350), Timestamp::from_millis(0))
            .expect("prune");
        assert_eq!(removed, 3);
        let pos = store.position(&id("i1")).expect("p").expect("s");
        assert_eq!(pos.oldest_seq, 4);
        // past the maximum age everything goes, acknowledged or not
        let removed = store
            .prune(Timestamp::from_millis(0), Timestamp::from_millis(550))
            .expect("prune");
        assert_eq!(removed, 2);
        assert_eq!(
            store.position(&id("i1")).expect("p").expect("s").oldest_seq,
            6
        );
        let removed = store
            .prune(
                Timestamp::from_millis(10_000),
                Timestamp::from_millis(10_000),
            )
            .expect("prune");
        assert_eq!(removed, 1);
        let pos = store.position(&id("i1")).expect("p").expect("s");
        assert_eq!(
            (pos.last_seq, pos.oldest_seq),
            (6, 7),
            "numbering survives pruning"
        );
        let next = store.append(&[event("i1", 7, 1)]).expect("append");
        assert_eq!(next, vec![Some(7)]);
    }

    /// Over a stream long enough for an adapter to store it in several
    /// pieces, reads start and stop at exactly the numbers asked for, and
    /// pruning removes exactly the events due, even when the clock went back
    /// for some of them.
    pub fn reading_and_pruning_are_exact_across_a_long_stream(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let at = |n: u32| if n % 50 == 0 { 0 } else { i64::from(n) };
        let batch: Vec<NewEvent> = (1..=700).map(|n| event("i1", n, at(n))).collect();
        store.append(&batch[..650]).expect("append");
        store.append(&batch[650..]).expect("append");
        let seqs = |events: Vec<LoggedEvent>| events.iter().map(|e| e.seq).collect::<Vec<_>>();
        for (after, limit, want) in [
            (0_u64, 1_000_usize, 1..=700_u64),
            (255, 3, 256..=258),
            (250, 300, 251..=550),
            (649, 2, 650..=651),
            (699, 10, 700..=700),
        ] {
            let read = store.read_after(&id("i1"), after, limit).expect("read");
            assert_eq!(
                seqs(read),
                want.collect::<Vec<_>>(),
                "after {after}, limit {limit}"
            );
        }
        assert!(store
            .read_after(&id("i1"), 700, 10)
            .expect("read")
            .is_empty());
        assert!(store.read_after(&id("i1"), 0, 0).expect("read").is_empty());
        store.ack(&id("i1"), 600, NOW).expect("ack");
        let (acked_before, any_before) = (400, 1);
        let due = |n: u32| (n <= 600 && at(n) < acked_before) || at(n) < any_before;
        let removed = store
            .prune(
                Timestamp::from_millis(acked_before),
                Timestamp::from_millis(any_before),
            )
            .expect("prune");
        let kept: Vec<u64> = (1..=700).filter(|n| !due(*n)).map(u64::from).collect();
        assert_eq!(removed, 700 - kept.len() as u64);
        let left = store.read_after(&id("i1"), 0, 1_000).expect("read");
        for logged in &left {
            let n = usize::try_from(logged.seq).expect("seq") - 1;
            assert_eq!(logged.event, batch[n], "event {} unchanged", logged.seq);
        }
        assert_eq!(seqs(left), kept);
        let pos = store.position(&id("i1")).expect("p").expect("s");
        assert_eq!((pos.oldest_seq, pos.last_seq), (kept[0], 700));
        assert_eq!(
            store.prune(
                Timestamp::from_millis(acked_before),
                Timestamp::from_millis(any_before)
            ),
            Ok(0),
            "nothing more is due"
        );
        assert_eq!(
            seqs(store.read_after(&id("i1"), 420, 3).expect("read")),
            kept.iter()
                .copied()
                .filter(|s| *s > 420)
                .take(3)
                .collect::<Vec<_>>()
        );
    }

    /// A closed stream loses its events and commands but not its numbering:
    /// a later stream continues after it, with everything before acknowledged.
    pub fn reopening_a_stream_continues_its_numbering(store: &dyn Store) {
        setup(store);
        assert!(store.open_stream(&id("i1"), NOW).expect("open"));
        store
            .append(&[event("i1", 1, 1), event("i1", 2, 1)])
            .expect("append");
        store
            .save_command_result(&id("i1"), "k1", "sent", NOW)
            .expect("cmd");
        store.close_stream(&id("i1")).expect("close");
        assert_eq!(store.position(&id("i1")).expect("p"), None);
        assert!(store.read_after(&id("i1"), 0, 10).expect("read").is_empty());
        assert_eq!(
            store.append(&[event("i1", 9, 1)]).expect("append"),
            vec![None],
            "closed: not logged"
        );
        assert!(store.ack(&id("i1"), 2, NOW).is_ok_and(|found| !found));
        assert!(store.open_stream(&id("i1"), NOW).expect("reopen"));
        let pos = store.position(&id("i1")).expect("p").expect("s");
        assert_eq!((pos.acked_seq, pos.last_seq, pos.oldest_seq), (2, 2, 3));
        assert_eq!(store.command_result(&id("i1"), "k1").expect("cmd"), None);
        assert_eq!(
            store.append(&[event("i1", 3, 1)]).expect("append"),
            vec![Some(3)]
        );
        assert_eq!(
            store.open_stream(&id("ghost"), NOW),
            Err(RepoError::MissingParent)
        );
    }

    /// Opening a stream that is active changes nothing (concurrent activations).
    pub fn opening_an_active_stream_changes_nothing(store: &dyn Store) {
        setup(store);
        assert!(store.open_stream(&id("i1"), NOW).expect("open"));
        store.append(&[event("i1", 1, 1)]).expect("append");
        store.ack(&id("i1"), 1, NOW).expect("ack");
        assert!(!store.open_stream(&id("i1"), NOW).expect("again"));
        let pos = store.position(&id("i1")).expect("p").expect("s");
        assert_eq!((pos.acked_seq, pos.last_seq, pos.oldest_seq), (1, 1, 1));
        assert_eq!(store.read_after(&id("i1"), 0, 10).expect("read").len(), 1);
    }

    /// The first result stored under a key is the one kept.
    pub fn command_results_are_kept_once(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        assert_eq!(store.command_result(&id("i1"), "k").expect("q"), None);
        assert!(store
            .save_command_result(&id("i1"), "k", "first", NOW)
            .expect("save"));
        assert!(!store
            .save_command_result(&id("i1"), "k", "second", NOW)
            .expect("save"));
        assert_eq!(
            store.command_result(&id("i1"), "k").expect("q").as_deref(),
            Some("first")
        );
        assert_eq!(
            store.command_result(&id("i2"), "k").expect("q"),
            None,
            "keys are per instance"
        );
    }

    /// Deleting the instance removes its stream, events and commands.
    pub fn deleting_the_instance_removes_its_stream(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        store.append(&[event("i1", 1, 1)]).expect("append");
        store
            .save_command_result(&id("i1"), "k", "r", NOW)
            .expect("cmd");
        assert!(store.delete_instance(&id("i1")).expect("delete"));
        assert_eq!(store.position(&id("i1")).expect("p"), None);
        assert!(store.read_after(&id("i1"), 0, 10).expect("read").is_empty());
    }

    /// Characters an engine may hand over: NUL and the other controls, the
    /// escape characters of JSON and of the log's own format, and a sample
    /// of every Unicode plane.
    const HOSTILE: &[char] = &[
        '\u{0}',
        '\u{1}',
        '\u{8}',
        '\t',
        '\n',
        '\r',
        '\u{1b}',
        '\u{1f}',
        ' ',
        '"',
        '%',
        '\\',
        '{',
        '}',
        'a',
        'Z',
        '0',
        '\u{7f}',
        '\u{80}',
        '\u{85}',
        '\u{9f}',
        '\u{a0}',
        'é',
        '\u{2028}',
        '\u{feff}',
        '\u{fffd}',
        '\u{ffff}',
        '\u{10000}',
        '\u{1f600}',
        '\u{2a6d6}',
        '\u{e0001}',
        '\u{f0000}',
        '\u{10ffff}',
    ];

    /// A string of `len` characters drawn from [`HOSTILE`] by a fixed
    /// pseudo-random sequence (`seed`), so that a failure can be replayed.
    fn hostile(seed: u64, len: usize) -> String {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                HOSTILE[usize::try_from(x % HOSTILE.len() as u64).unwrap_or(0)]
            })
            .collect()
    }

    /// Whatever an engine hands over, once made into an event id, name and
    /// data, is stored and read back unchanged: every control character,
    /// every plane, 100 KB values.
    pub fn any_text_the_event_types_admit_is_stored_unchanged(store: &dyn Store) {
        setup(store);
        store.open_stream(&id("i1"), NOW).expect("open");
        let lengths = [0, 1, 2, 7, 31, 200, 1_000, 100_000];
        let batch: Vec<NewEvent> = (0..64_u64)
            .map(|n| {
                let len = lengths[usize::try_from(n).unwrap_or(0) % lengths.len()];
                NewEvent {
                    instance_id: id("i1"),
                    event_id: EventId::from_engine(&hostile(n, len)).into_string(),
                    name: EventName::from_engine(&hostile(n + 1_000, len.min(80)))
                        .as_str()
                        .to_owned(),
                    payload: EventData::from_engine(hostile(n + 2_000, len)).into_string(),
                    created_at: Timestamp::from_millis(i64::try_from(n).unwrap_or(0)),
                }
            })
            .collect();
        // In one batch, and again event by event.
        store.append(&batch).expect("append the batch");
        for e in &batch {
            store.append(std::slice::from_ref(e)).expect("append one");
        }
        let stored = store.read_after(&id("i1"), 0, 1_000).expect("read");
        assert_eq!(stored.len(), batch.len() * 2);
        for (n, logged) in stored.iter().enumerate() {
            assert_eq!(
                logged.event,
                batch[n % batch.len()],
                "event {n} comes back as given"
            );
        }
    }

    /// An event set aside is kept whatever it holds (a NUL included), is
    /// counted, and goes with its instance.
    pub fn set_aside_events_are_kept_counted_and_deleted_with_their_instance(store: &dyn Store) {
        setup(store);
        assert_eq!(store.set_aside_count().expect("count"), 0);
        let mut refused = event("i1", 1, 1);
        refused.event_id = "a\u{0}b".into();
        refused.payload = format!("{{\"t\":\"\u{0}{}\"}}", hostile(7, 5_000));
        store
            .set_aside(
                &refused,
                "invalid byte sequence for encoding \"UTF8\": 0x00",
                NOW,
            )
            .expect("set aside");
        store
            .set_aside(&event("i2", 1, 1), "reason\u{0}with a NUL", NOW)
            .expect("set aside");
        assert_eq!(store.set_aside_count().expect("count"), 2);
        assert!(store.delete_instance(&id("i1")).expect("delete"));
        assert_eq!(
            store.set_aside_count().expect("count"),
            1,
            "deleted with the instance"
        );
    }
}
