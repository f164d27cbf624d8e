#!/usr/bin/env bash
# Proves the direction of dependencies: the domain, the ports, the wire
# contract and the use cases pull in no framework, driver, crypto crate or
# runtime (normal dependencies, default features). Each crate has its own
# forbidden list: the domain and the ports may not use serde_json either;
# the protocol may (it is JSON encoding), but no other ryzeapi crate, so that
# the bridge can build on it alone; the use cases (ryzeapi-core) may use
# serde_json and the protocol, but no adapter or app crate.
set -euo pipefail
cd "$(dirname "$0")/.."

frameworks='diesel|diesel_migrations|actix-web|actix-ws|actix-rt|actix-http|ureq|ring|tokio|libsqlite3-sys|pq-sys'

# The pattern of the dependencies `$1` may not have.
forbidden_for() {
  case "$1" in
    ryzeapi-protocol) echo "^($frameworks|ryzeapi-.*)$" ;;
    ryzeapi-core) echo "^($frameworks|ryzeapi-adapters|ryzeapi-app)$" ;;
    *) echo "^($frameworks|serde_json)$" ;;
  esac
}

status=0
for crate in ${LAYERING_CRATES:-ryzeapi-domain ryzeapi-ports ryzeapi-protocol ryzeapi-core}; do
  deps=$(cargo tree -q -p "$crate" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u | grep -vx "$crate" || true)
  bad=$(printf '%s\n' "$deps" | grep -E "$(forbidden_for "$crate")" || true)
  if [ -n "$bad" ]; then
    echo "layering: $crate depends on: $(echo $bad)" >&2
    status=1
  else
    echo "layering: $crate is clean ($(printf '%s\n' "$deps" | grep -c .) crates: $(echo $deps))"
  fi
done
exit $status
