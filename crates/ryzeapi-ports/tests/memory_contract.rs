//! The repository contract against the in-memory fake.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use ryzeapi_ports::testing::InMemoryRepository;

ryzeapi_ports::repository_contract!(Box::new(InMemoryRepository::new()));

mod events {
    use ryzeapi_ports::testing::InMemoryRepository;
    ryzeapi_ports::event_log_contract!(Box::new(InMemoryRepository::new()));
}
