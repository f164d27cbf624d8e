#!/usr/bin/env bash
# A bounded fuzzing run of every target under fuzz/ (cargo-fuzz, libFuzzer):
# FUZZ_SECONDS per target (default 20). Installs cargo-fuzz when missing.
# The toolchain here is stable: RUSTC_BOOTSTRAP lets cargo-fuzz pass its
# flags, and no sanitizer is used (`-s none`): these targets are safe Rust,
# so what is looked for is panics, failed assertions and hangs.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-20}"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: installing it"
  cargo install cargo-fuzz --locked --version 0.13.2
fi
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
cargo fuzz build -s none
for target in $targets; do
  mkdir -p "corpus/$target"
  echo "-- $target, ${seconds} s"
  log="$(mktemp)"
  status=0
  cargo fuzz run -s none "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 >"$log" 2>&1 || status=$?
  grep -E "^Done|panicked|ERROR|SUMMARY|Test unit written" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "fuzz target $target failed (exit $status): the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  rm -f "$log"
done
