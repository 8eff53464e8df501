#!/usr/bin/env bash
# Runs grant's whole test suite: unit tests, integration tests against real PostgreSQL
# (primary + streaming replica), MariaDB and SQLite, trybuild compile-fail cases and doc
# tests. Starts the servers it needs first (scripts/servers.sh; idempotent).
# Extra arguments go to `cargo test`, e.g. `scripts/test.sh --test keys`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/servers.sh start)"
cargo test --all-features "$@"
