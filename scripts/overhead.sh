#!/usr/bin/env bash
# Client instructions per point lookup through `Sharded` vs a direct diesel-async bb8 pool
# sending the same SQL, counted by callgrind (repeatable whatever else runs on the machine).
# Each side runs N1 and N2 lookups; (instructions(N2) - instructions(N1)) / (N2 - N1) is the
# cost per lookup with start-up subtracted. Prints both and their ratio; exits 1 when the
# ratio passes GRANT_OVERHEAD_MAX (default 1.10: a regression check on a ratio, not a time).
#   scripts/overhead.sh            # 200 and 1,200 lookups
#   scripts/overhead.sh 100 300    # CI's short mode
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-200}
n2=${2:-1200}
max=${GRANT_OVERHEAD_MAX:-1.10}
if ! command -v valgrind >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq valgrind
fi
eval "$(scripts/servers.sh start)"
cargo build -q --release --features postgres --example lookup_overhead
bin=target/release/examples/lookup_overhead
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Each mode once outside valgrind: creates the database and its rows, and stops the script
# if a mode fails (a failed run would count no lookups).
for mode in direct grant find; do
    "$bin" "$mode" 10 >/dev/null
done
count() { # count MODE N: the instructions of one run
    valgrind --tool=callgrind --callgrind-out-file="$out/$1.$2" "$bin" "$1" "$2" >/dev/null 2>&1
    grep -E '^(summary|totals):' "$out/$1.$2" | head -1 | awk '{print $2}'
}
declare -A per
for mode in direct grant find; do
    a=$(count "$mode" "$n1")
    b=$(count "$mode" "$n2")
    per[$mode]=$(( (b - a) / (n2 - n1) ))
done
echo "overhead: client instructions per lookup (callgrind, $n1 and $n2 lookups, start-up subtracted)"
echo "overhead:   direct diesel-async pool  ${per[direct]}"
echo "overhead:   Sharded::run, same SQL    ${per[grant]}"
echo "overhead:   Sharded::find (record)    ${per[find]}"
ratio=$(awk -v g="${per[grant]}" -v d="${per[direct]}" 'BEGIN { printf "%.3f", g / d }')
echo "overhead: ratio Sharded::run / direct = ${ratio}x (+$(( per[grant] - per[direct] )) instructions)"
if awk -v r="$ratio" -v m="$max" 'BEGIN { exit !(r > m) }'; then
    echo "overhead: ${ratio}x is above GRANT_OVERHEAD_MAX=${max}" >&2
    exit 1
fi
