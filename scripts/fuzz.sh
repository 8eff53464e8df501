#!/usr/bin/env bash
# Fuzzes the TOML topology, the key codec and the strategies (fuzz/fuzz_targets/) with
# cargo-fuzz, each for SECONDS (default 20), starting from the corpus in fuzz/corpus/.
# cargo-fuzz needs a nightly toolchain: without one the script says so and exits 0 (the
# targets' properties are also covered by the test suite's property and unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: skipped (no nightly toolchain for cargo-fuzz)"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked -q
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in topology key_codec strategies; do
    echo "fuzz: $target for ${seconds}s"
    # -s none: coverage-guided without AddressSanitizer (grant forbids unsafe code).
    if ! cargo +nightly fuzz run -s none "$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz: $target failed; the input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^Done' "$log" || true
done
echo "fuzz: ok"
