#!/usr/bin/env bash
# Compile time of a 20-table schema declared with grant::table! vs the same schema with
# diesel::table!: generates two small crates under target/compile-bench/, builds their
# dependencies once, then times rebuilding each crate alone (debug), RUNS times, and prints
# the median of each and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=$root/target/compile-bench
runs=${RUNS:-5}
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
members = ["with_diesel", "with_grant"]
resolver = "3"
TOML
for kind in diesel grant; do
    mkdir -p "$dir/with_$kind/src"
    dep='diesel = { version = "2.3", default-features = false, features = ["postgres_backend", "chrono"] }'
    [ "$kind" = grant ] && dep="grant = { path = \"$root\" }
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
    tables "$kind::table" >"$dir/with_$kind/src/lib.rs"
done
cp Cargo.lock "$dir/Cargo.lock"

cd "$dir"
cargo build -q --offline 2>/dev/null || cargo build -q
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A result
for kind in diesel grant; do
    times=$(for _ in $(seq 1 "$runs"); do
        touch "with_$kind/src/lib.rs"
        start=$(date +%s.%N)
        cargo build -q --offline -p "with_$kind"
        end=$(date +%s.%N)
        awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
    done | median)
    result[$kind]=$times
    echo "20 tables with $kind::table!: ${times}s (median of $runs rebuilds)"
done
awk -v g="${result[grant]}" -v d="${result[diesel]}" 'BEGIN { printf "ratio grant/diesel: %.2f\n", g / d }'
