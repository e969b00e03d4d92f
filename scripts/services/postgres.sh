#!/usr/bin/env bash
# Throwaway PostgreSQL 15 for Tapedeck's tests (logical replication enabled).
#   scripts/services/postgres.sh start|stop|status|env
# State (data dir, socket, log): ${TAPEDECK_SERVICES_DIR:-/tmp/tapedeck-services}/postgres
# Port: ${TAPEDECK_PG_PORT:-54329} on 127.0.0.1, trust auth, superuser "postgres".
set -euo pipefail

PGBIN=${TAPEDECK_PGBIN:-/usr/lib/postgresql/15/bin}
BASE=${TAPEDECK_SERVICES_DIR:-/tmp/tapedeck-services}
STATE=$BASE/postgres
DATA=$STATE/data
LOG=$STATE/postgres.log
PORT=${TAPEDECK_PG_PORT:-54329}
DB=tapedeck_test
TIMEOUT=${TAPEDECK_PG_START_TIMEOUT:-60}
SVC_USER=tapedeck   # initdb/postgres refuse to run as root

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

# The postmaster of our data directory, or empty.
our_pid() {
  [ -f "$DATA/postmaster.pid" ] && head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true
}

show_log_tail() {
  if [ -f "$LOG" ]; then
    log "--- last lines of $LOG ---"
    tail -n 40 "$LOG" >&2 || true
  fi
}

# Run a command as the unprivileged service user when we are root.
as_svc() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$STATE" && runuser -u "$SVC_USER" -- "$@")
  else
    (cd "$STATE" && "$@")
  fi
}

ensure_user() {
  [ "$(id -u)" -eq 0 ] || return 0
  if ! id -u "$SVC_USER" >/dev/null 2>&1; then
    log "creating system user $SVC_USER"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$SVC_USER"
  fi
}

is_running() {
  [ -f "$DATA/PG_VERSION" ] || return 1
  as_svc "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

is_ready() {
  "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -t 2
}

psql_q() {
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres "$@"
}

write_conf() {
  local conf=$DATA/tapedeck.conf
  {
    echo "# written by scripts/services/postgres.sh on every start"
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PORT"
    echo "unix_socket_directories = '$STATE'"
    echo "wal_level = logical"
    echo "max_replication_slots = 16"
    echo "max_wal_senders = 16"
    echo "max_connections = 100"
    echo "logging_collector = off"
    # Newer minor releases only allow listed libraries as logical decoding
    # output plugins; the setting does not exist on older ones (15.18 here),
    # where naming it would stop the server from starting.
    if "$PGBIN/postgres" --describe-config 2>/dev/null | awk '$1 == "output_plugin_libraries" {f = 1} END {exit !f}'; then
      if [ -f "$PGBIN/../lib/wal2json.so" ]; then
        echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json'"
      fi
    fi
  } > "$conf"
  [ "$(id -u)" -eq 0 ] && chown "$SVC_USER:" "$conf"
  grep -q "^include_if_exists = 'tapedeck.conf'" "$DATA/postgresql.conf" ||
    echo "include_if_exists = 'tapedeck.conf'" >> "$DATA/postgresql.conf"
  cat > "$DATA/pg_hba.conf" <<HBA
# written by scripts/services/postgres.sh: trust on loopback only
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
HBA
  [ "$(id -u)" -eq 0 ] && chown "$SVC_USER:" "$DATA/pg_hba.conf"
  return 0
}

cmd_start() {
  [ -x "$PGBIN/postgres" ] || die "$PGBIN/postgres not found (run scripts/install-deps.sh --test)"
  ensure_user
  mkdir -p "$STATE"
  chmod 755 "$BASE" 2>/dev/null || true
  [ "$(id -u)" -eq 0 ] && chown "$SVC_USER:" "$STATE"
  as_svc test -w "$STATE" ||
    die "$STATE is not writable by $SVC_USER (set TAPEDECK_SERVICES_DIR to a directory it can reach)"

  if is_running; then
    refuse_foreign_port "$PORT" "$(our_pid)"
    if is_ready; then
      log "already running on 127.0.0.1:$PORT"
      ensure_db
      return 0
    fi
  else
    refuse_foreign_port "$PORT"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      rm -rf "$DATA"
      log "initdb in $DATA"
      if ! as_svc "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 \
             --locale=C.UTF-8 --no-sync >"$STATE/initdb.log" 2>&1; then
        cat "$STATE/initdb.log" >&2
        die "initdb failed"
      fi
    fi
    write_conf
    log "starting on 127.0.0.1:$PORT (log: $LOG)"
    if ! as_svc "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$TIMEOUT" start >/dev/null 2>&1; then
      show_log_tail
      die "pg_ctl start failed"
    fi
  fi

  local deadline=$((SECONDS + TIMEOUT))
  until is_ready; do
    if [ $SECONDS -ge $deadline ]; then
      show_log_tail
      die "not ready after ${TIMEOUT}s"
    fi
    sleep 0.5
  done
  refuse_foreign_port "$PORT" "$(our_pid)"
  ensure_db
  log "ready: $(psql_q -d postgres -tAc 'SELECT version()' | cut -d, -f1), wal_level=$(psql_q -d postgres -tAc 'SHOW wal_level')"
}

ensure_db() {
  if [ "$(psql_q -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    psql_q -d postgres -c "CREATE DATABASE $DB" >/dev/null
  fi
}

cmd_stop() {
  if [ -f "$DATA/PG_VERSION" ] && [ -f "$DATA/postmaster.pid" ]; then
    local pid
    pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
    if ! as_svc "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
      if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        log "pg_ctl stop failed; killing postmaster $pid"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
      fi
    fi
  fi
  rm -rf "$STATE"
  log "stopped (removed $STATE)"
}

cmd_status() {
  if is_running && is_ready; then
    echo "postgres: running on 127.0.0.1:$PORT (state $STATE)"
  else
    echo "postgres: not running"
    return 1
  fi
}

cmd_env() {
  cat <<ENV
export TAPEDECK_PG_HOST=127.0.0.1
export TAPEDECK_PG_PORT=$PORT
export TAPEDECK_PG_USER=postgres
export TAPEDECK_PG_DB=$DB
export TAPEDECK_PG_URI=postgresql://postgres@127.0.0.1:$PORT/$DB
export TAPEDECK_PG_SOCKET_DIR=$STATE
ENV
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
