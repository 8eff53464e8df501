#!/usr/bin/env bash
# Starts (or stops) the database servers grant's tests and benchmarks use, idempotently,
# as root or as a normal user. They are the project's own instances, on their own ports and
# data directories, so they never touch a server the machine already runs:
#
#   PostgreSQL primary     127.0.0.1:${GRANT_PG_PORT:-54320}
#   PostgreSQL replica     127.0.0.1:${GRANT_PG_REPLICA_PORT:-54321}  (streaming, hot standby)
#   MariaDB primary        127.0.0.1:${GRANT_MYSQL_PORT:-53306}
#   MariaDB replica        127.0.0.1:${GRANT_MYSQL_REPLICA_PORT:-53307} (binlog replication)
#
# Usage: scripts/servers.sh start|stop|env|status
# `start` and `env` print the URLs the tests read, as shell `export` lines:
#   eval "$(scripts/servers.sh start)"
set -euo pipefail

DIR=${GRANT_SERVERS_DIR:-/tmp/grant-servers}
PG_PORT=${GRANT_PG_PORT:-54320}
PG_REPLICA_PORT=${GRANT_PG_REPLICA_PORT:-54321}
MY_PORT=${GRANT_MYSQL_PORT:-53306}
MY_REPLICA_PORT=${GRANT_MYSQL_REPLICA_PORT:-53307}

log() { echo "servers: $*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
    is_root || die "$1 is missing and only root can install it (apt-get install $*)"
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq "$@" >&2
}

# --- PostgreSQL ---------------------------------------------------------------------------

pg_bin() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        apt_install postgresql postgresql-contrib
        bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    fi
    echo "$bin"
}

# Runs a PostgreSQL command as the user that owns the data directories.
as_pg() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

pg_start_instance() {
    local data=$1
    if ! pg_running "$data"; then
        rm -f "$data/postmaster.pid"
        as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
            || { cat "$data/server.log" >&2; die "PostgreSQL in $data did not start"; }
    fi
}

pg_start() {
    PGBIN=$(pg_bin)
    mkdir -p "$DIR/pg"
    if is_root; then chown postgres "$DIR/pg"; fi
    local primary=$DIR/pg/primary replica=$DIR/pg/replica
    if [ ! -f "$primary/PG_VERSION" ]; then
        log "creating PostgreSQL primary in $primary"
        as_pg "$PGBIN/initdb" -A trust -U postgres --no-sync --encoding=UTF8 --no-locale -D "$primary" >/dev/null
        cat >>"$primary/postgresql.conf" <<CONF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR/pg'
max_connections = 600
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
wal_keep_size = 256MB
# Test servers: durability against an OS crash is not what the tests exercise.
fsync = off
full_page_writes = off
max_prepared_transactions = 100
CONF
    fi
    pg_start_instance "$primary"
    pg_start_replica "$replica"
    if ! pg_replica_streams; then
        # A replica left by an earlier run that no longer follows the primary (promoted, or
        # behind the WAL the primary kept): rebuild it from a new base backup.
        log "PostgreSQL replica does not stream from the primary; rebuilding it"
        as_pg "$PGBIN/pg_ctl" -D "$replica" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$replica"
        pg_start_replica "$replica"
        pg_replica_streams || die "PostgreSQL replica does not stream from the primary"
    fi
}

# Creates the streaming replica (a base backup of the primary) when missing, and starts it.
pg_start_replica() {
    local replica=$1
    if [ ! -f "$replica/PG_VERSION" ]; then
        log "creating PostgreSQL streaming replica in $replica"
        as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U postgres -D "$replica" -R -X stream >/dev/null
        echo "port = $PG_REPLICA_PORT" >>"$replica/postgresql.conf"
    fi
    pg_start_instance "$replica"
    for _ in $(seq 1 60); do
        "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_REPLICA_PORT" && break
        sleep 0.5
    done
}

# Whether the replica is in recovery and the primary streams to it (waits up to 15 s).
pg_replica_streams() {
    local psql="$PGBIN/psql -X -q -At -h 127.0.0.1 -U postgres -d postgres"
    for _ in $(seq 1 30); do
        if [ "$(as_pg $psql -p "$PG_REPLICA_PORT" -c "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ] &&
            [ "$(as_pg $psql -p "$PG_PORT" -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null)" -ge 1 ] 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

pg_stop() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$bin" ] || return 0
    PGBIN=$bin
    for data in "$DIR/pg/replica" "$DIR/pg/primary"; do
        if [ -f "$data/PG_VERSION" ] && pg_running "$data"; then
            as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null
        fi
    done
    pg_clean_pairs
}

# Primary + replica pairs that tests create for themselves (tests/common/pg_pair.rs) and
# remove when they end; a test process that was killed leaves its pair behind.
pg_clean_pairs() {
    [ -d "$DIR/pairs" ] || return 0
    local data
    for data in "$DIR"/pairs/*/primary "$DIR"/pairs/*/replica; do
        if [ -f "$data/PG_VERSION" ] && pg_running "$data"; then
            log "stopping a left-over test server in $data"
            as_pg "$PGBIN/pg_ctl" -D "$data" -m immediate stop >/dev/null || true
        fi
    done
    rm -rf "$DIR"/pairs/*
}

# --- MariaDB ------------------------------------------------------------------------------

my_bins() {
    if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
        apt_install mariadb-server mariadb-client
    fi
    MYSQLD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    MYSQL=$(command -v mariadb || command -v mysql)
    INSTALL_DB=$(command -v mariadb-install-db || command -v mysql_install_db)
}

my_sql() { "$MYSQL" --no-defaults -uroot --socket="$1" -e "$2"; }

my_alive() { "$MYSQL" --no-defaults -uroot --socket="$1" -e "SELECT 1" >/dev/null 2>&1; }

my_start_instance() {
    local name=$1 port=$2 server_id=$3
    shift 3
    local data=$DIR/mariadb/$name sock=$DIR/mariadb/$name.sock
    mkdir -p "$DIR/mariadb"
    if is_root; then chown mysql "$DIR/mariadb"; fi
    if [ ! -d "$data/mysql" ]; then
        log "creating MariaDB $name in $data"
        local user_args=()
        if is_root; then user_args=(--user=mysql); fi
        "$INSTALL_DB" --no-defaults --datadir="$data" "${user_args[@]}" \
            --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1 \
            || die "mariadb-install-db failed for $data"
    fi
    if ! my_alive "$sock"; then
        local user_args=()
        if is_root; then user_args=(--user=mysql); fi
        nohup setsid "$MYSQLD" --no-defaults --datadir="$data" "${user_args[@]}" \
            --port="$port" --bind-address=127.0.0.1 --socket="$sock" \
            --pid-file="$DIR/mariadb/$name.pid" --log-error="$DIR/mariadb/$name.err" \
            --server-id="$server_id" --log-bin=binlog --binlog-format=ROW \
            --skip-name-resolve --max-connections=600 --innodb-buffer-pool-size=128M \
            --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 "$@" \
            >/dev/null 2>&1 </dev/null &
        for _ in $(seq 1 120); do
            my_alive "$sock" && break
            sleep 0.5
        done
        my_alive "$sock" || { tail -n 30 "$DIR/mariadb/$name.err" >&2; die "MariaDB $name did not start"; }
    fi
}

my_start() {
    my_bins
    my_start_instance primary "$MY_PORT" 1
    my_sql "$DIR/mariadb/primary.sock" \
        "CREATE USER IF NOT EXISTS 'root'@'%'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    # read_only is a start option, not a SET GLOBAL: it must survive a restart of the replica
    # (replication itself resumes from the replica's own master.info).
    my_start_instance replica "$MY_REPLICA_PORT" 2 --read-only
    local sock=$DIR/mariadb/replica.sock
    local status
    status=$(my_sql "$sock" "SHOW SLAVE STATUS\G")
    if grep -q "Slave_IO_Running: Yes" <<<"$status" && ! grep -q "Slave_SQL_Running: Yes" <<<"$status"; then
        # Replication stopped on an error (left by an earlier run): a replica that no longer
        # follows its primary fails the tests. Rebuild it; it replays the primary's binlog.
        log "MariaDB replica stopped replicating ($(grep -m1 "Last_SQL_Error" <<<"$status" | sed 's/^ *//')); rebuilding it"
        my_stop_instance replica
        rm -rf "$DIR/mariadb/replica"
        my_start_instance replica "$MY_REPLICA_PORT" 2 --read-only
        status=$(my_sql "$sock" "SHOW SLAVE STATUS\G")
    fi
    if ! grep -q "Slave_IO_Running: Yes" <<<"$status"; then
        my_sql "$sock" "STOP SLAVE; RESET SLAVE ALL;
            CREATE USER IF NOT EXISTS 'root'@'%'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
            SET GLOBAL gtid_slave_pos = '';
            CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MY_PORT, MASTER_USER='root',
                MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos;
            START SLAVE;" >/dev/null
        # A new replica replays the primary's whole binlog: let it catch up before the tests.
        for _ in $(seq 1 240); do
            my_sql "$sock" "SHOW SLAVE STATUS\G" | grep -q "Seconds_Behind_Master: 0$" && break
            sleep 0.5
        done
    fi
}

my_stop_instance() {
    local pidfile=$DIR/mariadb/$1.pid
    if [ -f "$pidfile" ]; then
        local pid
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
}

my_stop() {
    my_stop_instance replica
    my_stop_instance primary
}

print_env() {
    cat <<ENV
export GRANT_PG_URL=postgres://postgres@127.0.0.1:$PG_PORT
export GRANT_PG_REPLICA_URL=postgres://postgres@127.0.0.1:$PG_REPLICA_PORT
export GRANT_MYSQL_URL=mysql://root@127.0.0.1:$MY_PORT
export GRANT_MYSQL_REPLICA_URL=mysql://root@127.0.0.1:$MY_REPLICA_PORT
export GRANT_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
export GRANT_SERVERS_DIR=$DIR
ENV
}

case "${1:-start}" in
    start)
        mkdir -p "$DIR"
        chmod 755 "$DIR"
        pg_start
        pg_clean_pairs
        my_start
        log "PostgreSQL on $PG_PORT (replica $PG_REPLICA_PORT), MariaDB on $MY_PORT (replica $MY_REPLICA_PORT)"
        print_env
        ;;
    stop)
        pg_stop
        my_stop
        log "stopped"
        ;;
    env)
        print_env
        ;;
    status)
        PGBIN=$(pg_bin)
        for data in "$DIR/pg/primary" "$DIR/pg/replica"; do
            if pg_running "$data"; then log "running: $data"; else log "stopped: $data"; fi
        done
        my_bins
        for name in primary replica; do
            if my_alive "$DIR/mariadb/$name.sock"; then log "running: MariaDB $name"; else log "stopped: MariaDB $name"; fi
        done
        ;;
    *)
        die "usage: $0 start|stop|env|status"
        ;;
esac
