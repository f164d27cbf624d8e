#!/usr/bin/env bash
# Proves the direction of dependencies: the domain and the ports pull in no
# framework, driver or crypto crate (normal dependencies, default features).
set -euo pipefail
cd "$(dirname "$0")/.."

forbidden='^(diesel|diesel_migrations|actix-web|actix-ws|actix-rt|actix-http|ureq|ring|tokio|libsqlite3-sys|pq-sys|serde_json)$'
status=0
for crate in ${LAYERING_CRATES:-ryzeapi-domain ryzeapi-ports}; do
  deps=$(cargo tree -q -p "$crate" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
  bad=$(printf '%s\n' "$deps" | grep -E "$forbidden" || true)
  if [ -n "$bad" ]; then
    echo "layering: $crate depends on: $(echo $bad)" >&2
    status=1
  else
    echo "layering: $crate is clean ($(printf '%s\n' "$deps" | wc -l) crates: $(echo $deps))"
  fi
done
exit $status
