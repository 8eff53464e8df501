#!/usr/bin/env bash
# Runs the benchmark suite: starts the servers of scripts/servers.sh, then criterion
# (release build) for every bench in benches/. Figures land in target/criterion/ and the
# summary lines on standard output; BENCHMARKS.md records them with the machine and date.
#
#   scripts/bench.sh                 # every bench (a few minutes)
#   scripts/bench.sh --bench scatter # one bench file
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/servers.sh start)"
cargo bench --all-features "$@"
