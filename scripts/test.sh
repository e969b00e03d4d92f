#!/usr/bin/env bash
# Quick start, command 2 (and what CI runs): install what is missing, build,
# start the real test services (PostgreSQL 15, Kafka 4.x) on loopback, run
# every test, stop the services.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/install-deps.sh --all
bash scripts/build.sh
echo "== build done after $(( $(date +%s) - start )) s"
trap 'bash scripts/services/all.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/services/all.sh start
eval "$(bash scripts/services/all.sh env)"
echo "== services up after $(( $(date +%s) - start )) s"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure -j2 --timeout 900
echo "== all tests done after $(( $(date +%s) - start )) s"
