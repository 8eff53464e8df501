#!/usr/bin/env bash
# Compile time of a 20-table schema declared with grant::table! vs the same schema with
# diesel::table!: generates three small crates under target/compile-bench/ (diesel::table! in
# a diesel-only crate, diesel::table! in a crate that also depends on grant, grant::table!),
# builds their dependencies once, then times rebuilding each crate alone (debug), RUNS times,
# and prints the median of each and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=$root/target/compile-bench
runs=${RUNS:-5}
# grant's features in the generated crates (space-separated), as a user of one backend.
features=$(printf '"%s", ' ${GRANT_FEATURES:-postgres} | sed 's/, $//')
mkdir -p "$dir"

tables() { # $1 = macro path
    for t in $(seq 1 20); do
        cat <<RS
$1! {
    t$t (tenant_id, item_id) {
        tenant_id -> BigInt,
        item_id -> BigInt,
        name -> Text,
        amount -> Integer,
        created_on -> Date,
    }
}
RS
    done
}

cat >"$dir/Cargo.toml" <<TOML
[workspace]
members = ["with_diesel", "with_diesel_grant_dep", "with_grant"]
resolver = "3"
TOML
# with_diesel_grant_dep: diesel::table! in a crate that also depends on grant (as a grant
# user's crate does), so that loading grant and its dependencies is not counted as the cost of
# grant::table!.
for kind in diesel diesel_grant_dep grant; do
    mkdir -p "$dir/with_$kind/src"
    dep='diesel = { version = "2.3", default-features = false, features = ["postgres_backend", "chrono"] }'
    [ "$kind" != diesel ] && dep="grant = { path = \"$root\", default-features = false, features = [$features] }
$dep"
    cat >"$dir/with_$kind/Cargo.toml" <<TOML
[package]
name = "with_$kind"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
$dep
TOML
    case $kind in
        grant) tables "grant::table" >"$dir/with_$kind/src/lib.rs" ;;
        diesel_grant_dep) { echo "use grant as _;"; tables "diesel::table"; } >"$dir/with_$kind/src/lib.rs" ;;
        *) tables "diesel::table" >"$dir/with_$kind/src/lib.rs" ;;
    esac
done
cp Cargo.lock "$dir/Cargo.lock"

cd "$dir"
cargo build -q --offline 2>/dev/null || cargo build -q
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
kinds=(diesel diesel_grant_dep grant)
# Round-robin: each run rebuilds every crate once, so that drift of the machine over the
# runs touches all three alike.
declare -A times
for _ in $(seq 1 "$runs"); do
    for kind in "${kinds[@]}"; do
        touch "with_$kind/src/lib.rs"
        start=$(date +%s.%N)
        cargo build -q --offline -p "with_$kind"
        end=$(date +%s.%N)
        times[$kind]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
    done
done
declare -A result
for kind in "${kinds[@]}"; do
    result[$kind]=$(tr ' ' '\n' <<<"${times[$kind]}" | grep . | median)
    echo "20 tables, crate with_$kind: ${result[$kind]}s (median of $runs rebuilds)"
done
awk -v g="${result[grant]}" -v d="${result[diesel]}" -v e="${result[diesel_grant_dep]}" 'BEGIN {
    printf "ratio grant::table! / diesel::table! (diesel-only crate): %.2f\n", g / d
    printf "ratio grant::table! / diesel::table! (both crates depend on grant): %.2f\n", g / e
}'
