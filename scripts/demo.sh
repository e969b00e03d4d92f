#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and launch the app on the bundled demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --build
bash scripts/build.sh
exec build/app/tapedeck/tapedeck --demo "$@"
