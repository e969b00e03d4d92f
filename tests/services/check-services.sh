#!/usr/bin/env bash
# Proves that the test services scripts gave us a real PostgreSQL with logical
# decoding and a real Kafka broker. Fails (never skips) when they are missing:
# run the tests through scripts/test.sh, which starts them.
set -euo pipefail
: "${TAPEDECK_PG_URI:?TAPEDECK_PG_URI is not set: start the services with scripts/services/all.sh start (scripts/test.sh does)}"
: "${TAPEDECK_KAFKA_BOOTSTRAP:?TAPEDECK_KAFKA_BOOTSTRAP is not set: start the services with scripts/services/all.sh start (scripts/test.sh does)}"
level=$(psql "$TAPEDECK_PG_URI" -XAtc "SHOW wal_level")
[ "$level" = logical ] || { echo "wal_level is '$level', expected 'logical'"; exit 1; }
slot="tapedeck_check_$$"
psql "$TAPEDECK_PG_URI" -XAtqc "SELECT 1 FROM pg_create_logical_replication_slot('$slot', 'pgoutput', true)" >/dev/null
echo "postgres: wal_level=logical, temporary pgoutput slot created"
meta=$(kcat -L -b "$TAPEDECK_KAFKA_BOOTSTRAP" -m 10)
echo "$meta" | grep -q " 1 brokers:" || { echo "kafka metadata unexpected:"; echo "$meta"; exit 1; }
echo "kafka: $(echo "$meta" | grep -m1 'broker 1 at')"
