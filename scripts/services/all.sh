#!/usr/bin/env bash
# Start/stop every test service Tapedeck's tests use (PostgreSQL first, then Kafka).
#   scripts/services/all.sh start|stop|status|env
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

case "${1:-}" in
  start)
    bash "$HERE/postgres.sh" start
    bash "$HERE/kafka.sh" start
    ;;
  stop)
    rc=0
    bash "$HERE/kafka.sh" stop || rc=1
    bash "$HERE/postgres.sh" stop || rc=1
    exit $rc
    ;;
  status)
    rc=0
    bash "$HERE/postgres.sh" status || rc=1
    bash "$HERE/kafka.sh" status || rc=1
    exit $rc
    ;;
  env)
    bash "$HERE/postgres.sh" env
    bash "$HERE/kafka.sh" env
    ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
