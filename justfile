# The index of everything a developer runs. `just --list` shows it.

# Run the server on the embedded default (SQLite under ./data).
run *ARGS:
    cargo run -p ryzeapi-app --bin ryzeapi -- {{ARGS}}

# The whole test suite (Postgres tests start or find PostgreSQL themselves).
test *ARGS:
    bash scripts/test.sh {{ARGS}}

# Formatting, clippy with warnings as errors, and the layering check.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    bash scripts/check-layering.sh

# Everything CI runs.
ci:
    bash .ci/run

# Start the local PostgreSQL cluster (tests use postgres://postgres@127.0.0.1:5432).
db:
    for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect $v main start || true; done
    pg_isready -h 127.0.0.1 -p 5432

# Apply migrations to DATABASE_URL (default: the embedded SQLite file).
migrate:
    cargo run -p ryzeapi-app --bin ryzeapi -- migrate

# Create an account and print its token (last line).
account NAME:
    cargo run -p ryzeapi-app --bin ryzeapi -- account create --name {{NAME}}

# Start Postgres and the server in containers.
up:
    docker compose up --build

# The bridge hub benchmark (release build; figures in docs/performance.md).
bench:
    cargo bench -p ryzeapi-app --bench hub

# The durable event log alone, by batch and payload size.
bench-log:
    cargo bench -p ryzeapi-adapters --bench event_log

# A bounded fuzzing run of every target under fuzz/ (FUZZ_SECONDS each, default 20).
fuzz:
    bash scripts/fuzz.sh
