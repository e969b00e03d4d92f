#!/usr/bin/env bash
# The service scripts refuse a port held by a process they did not start:
# a listener of our own on a free port, then postgres.sh and kafka.sh asked
# to start there must fail and name it (never report "ready").
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts/services" && pwd)
state=$(mktemp -d)
trap 'kill "$holder" 2>/dev/null || true; rm -rf "$state"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$port" &
holder=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

fail=0
check() { # name, expected text, command...
  local name=$1 want=$2; shift 2
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ $rc -eq 0 ] || ! grep -q -- "$want" <<<"$out"; then
    echo "FAIL: $name (exit $rc): $out"
    fail=1
  else
    echo "PASS: $name: $(grep -- "$want" <<<"$out" | head -n 1)"
  fi
}
check postgres "port $port on 127.0.0.1 is held by pid $holder (python3)" \
  env TAPEDECK_SERVICES_DIR="$state" TAPEDECK_PG_PORT="$port" bash "$HERE/postgres.sh" start
check kafka "port $port on 127.0.0.1 is held by pid $holder (python3)" \
  env TAPEDECK_SERVICES_DIR="$state" TAPEDECK_KAFKA_PORT="$port" TAPEDECK_KAFKA_CONTROLLER_PORT=$((port + 1)) bash "$HERE/kafka.sh" start
[ $fail = 0 ] && echo "2 passed, 0 failed" || echo "$fail failed"
exit $fail
