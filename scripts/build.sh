#!/usr/bin/env bash
# Configure and build Tapedeck into build/ (Ninja, RelWithDebInfo, ccache when present).
#   scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# ccache: share hits between clones in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAPEDECK_WERROR=ON "$@" >/dev/null
cmake --build build -j"$jobs"
