#!/usr/bin/env bash
# The whole test suite: what the README's test command and CI run.
# The black-box API tests run on Postgres with the workspace, then once more
# on SQLite, the backend a new installation gets by default.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked "$@"
TEST_BACKEND=sqlite cargo test --locked -p ryzeapi-app --test api "$@"
