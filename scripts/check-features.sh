#!/usr/bin/env bash
# Builds grant with each backend alone, as a user who needs only that backend would, and
# checks what such a build pulls in: a PostgreSQL-only build has no MySQL driver, no SQLite
# and no C compiler (`cc`); the default build has SQLite and neither server driver.
set -euo pipefail
cd "$(dirname "$0")/.."

for features in postgres mysql sqlite bundled-sqlite postgres,metrics; do
    echo "check-features: --no-default-features --features $features"
    cargo check -q -p grant --no-default-features --features "$features"
done

deps() { cargo tree -q -p grant -e normal,build --prefix none "$@" | sed 's/ (\*)//' | sort -u; }
refuse() { # refuse PATTERN WHAT ARGS...: the build of ARGS must not depend on PATTERN
    local pattern=$1 what=$2
    shift 2
    if deps "$@" | grep -E "$pattern"; then
        echo "check-features: the build with $* depends on $what" >&2
        exit 1
    fi
}
refuse '^(cc|libsqlite3-sys|mysql_async|mysql_common) ' "a C compiler, SQLite or the MySQL driver" \
    --no-default-features --features postgres
refuse '^(tokio-postgres|mysql_async) ' "a server driver" # the default features
echo "check-features: ok"
