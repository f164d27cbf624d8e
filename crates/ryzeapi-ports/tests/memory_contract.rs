//! The repository contract against the in-memory fake.

use ryzeapi_ports::testing::InMemoryRepository;

ryzeapi_ports::repository_contract!(Box::new(InMemoryRepository::new()));
