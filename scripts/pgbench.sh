#!/usr/bin/env bash
# The machine's ceiling for point lookups: `pgbench -S -M prepared` (one indexed SELECT per
# transaction) on the PostgreSQL of scripts/servers.sh at 1, 4 and 16 clients, for
# comparison with the point-lookup bench (BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/servers.sh start)"
port=${GRANT_PG_PORT:-54320}
run() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run "$GRANT_PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "DROP DATABASE IF EXISTS grant_pgbench" -c "CREATE DATABASE grant_pgbench" >/dev/null
run "$GRANT_PG_BIN/pgbench" -q -i -s 10 -h 127.0.0.1 -p "$port" -U postgres grant_pgbench >/dev/null 2>&1
for clients in 1 4 16; do
    tps=$(run "$GRANT_PG_BIN/pgbench" -S -M prepared -c "$clients" -j "$clients" -T "${PGBENCH_SECONDS:-5}" \
        -h 127.0.0.1 -p "$port" -U postgres grant_pgbench 2>/dev/null | awk '/^tps/ {print $3}')
    echo "pgbench -S -M prepared -c $clients: $tps tps"
done
