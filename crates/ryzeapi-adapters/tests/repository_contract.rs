//! The repository contract against both SQL backends.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod sqlite {
    use ryzeapi_adapters::testing::TestRepository;
    ryzeapi_ports::repository_contract!(TestRepository::sqlite());
    mod events {
        use ryzeapi_adapters::testing::TestRepository;
        ryzeapi_ports::event_log_contract!(TestRepository::sqlite());
    }
}

mod postgres {
    use ryzeapi_adapters::testing::TestRepository;
    ryzeapi_ports::repository_contract!(TestRepository::postgres());
    mod events {
        use ryzeapi_adapters::testing::TestRepository;
        ryzeapi_ports::event_log_contract!(TestRepository::postgres());
    }
}
