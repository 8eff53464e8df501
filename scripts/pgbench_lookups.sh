#!/usr/bin/env bash
# pgbench (C, libpq, prepared statements) doing the point lookups of benches/coalesced.rs on
# the database that holds every row (grant_bench_coalesced_all, made by that bench): the
# figure coalesced lookups are compared with in BENCHMARKS.md. Prints lookups per second at
# each client count.
#   cargo bench --features postgres --bench coalesced   # first: makes the data
#   scripts/pgbench_lookups.sh [seconds] [clients...]  # default 10 s, 1 16 64 clients
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(1 16 64)
eval "$(scripts/servers.sh env)"
server=${GRANT_PG_URL:-postgres://postgres@127.0.0.1:54320}
db="$server/grant_bench_coalesced_all"
pgbench=$(command -v pgbench || echo "${GRANT_PG_BIN:-/usr/lib/postgresql/15/bin}/pgbench")
orders=$(psql -Atq "$db" -c "SELECT max(order_id) FROM order_items")
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat > "$script" <<SQL
\set o random(0, $orders)
\set p random(0, 9)
SELECT order_id, product_id, quantity FROM order_items WHERE order_id = :o AND product_id = :p;
SQL
for c in "${clients[@]}"; do
    tps=$("$pgbench" -n -M prepared -c "$c" -j 2 -T "$seconds" -f "$script" "$db" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    echo "pgbench: $c clients: $tps lookups/s"
done
