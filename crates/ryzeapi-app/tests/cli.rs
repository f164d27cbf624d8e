//! The `ryzeapi` binary's one-shot commands and its startup errors.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::process::Command;

use ryzeapi_adapters::testing::TestDatabase;
use ryzeapi_adapters::RingTokens;
use ryzeapi_ports::{AccountRepository, TokenService};

fn ryzeapi(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ryzeapi"));
    cmd.env_clear()
        .env("DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn account_create_prints_a_working_token_last() {
    let db = TestDatabase::postgres();
    let out = ryzeapi(db.url())
        .args([
            "account",
            "create",
            "--name",
            "acme",
            "--max-instances",
            "3",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim();
    assert!(token.len() >= 32, "{stdout}");
    let repo = db.connect().repository();
    let account = repo
        .account_by_token(&RingTokens::new().digest(token))
        .unwrap()
        .expect("the printed token belongs to the new account");
    assert_eq!(account.name, "acme");
    assert_eq!(account.max_instances, 3);
}

#[test]
fn migrate_creates_the_embedded_database() {
    let dir = std::env::temp_dir().join(format!("ryzeapi-cli-{}", RingTokens::new().generate_id()));
    let url = format!("sqlite://{}", dir.join("sub").join("ryzeapi.db").display());
    let out = ryzeapi(&url).arg("migrate").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("sub").join("ryzeapi.db").exists());
    let again = ryzeapi(&url).arg("migrate").output().expect("run");
    assert!(again.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn startup_errors_are_clear() {
    let db = TestDatabase::postgres();
    let out = ryzeapi(db.url())
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ENCRYPTION_KEY is required with a Postgres database"),
        "{stderr}"
    );

    let out = ryzeapi(db.url())
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("ENCRYPTION_KEY", "dG9vIHNob3J0")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ENCRYPTION_KEY must be the base64 encoding of exactly 32"),
        "{stderr}"
    );

    let out = ryzeapi("mysql://x").arg("migrate").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("DATABASE_URL must start with postgres:// or sqlite://"));

    let out = ryzeapi(db.url()).arg("frobnicate").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command 'frobnicate'"));
}
