#!/usr/bin/env bash
# Install the Debian 12 packages Tapedeck needs to build and/or test.
#   scripts/install-deps.sh [--build|--test|--all]   (default: --all)
# Idempotent: packages already installed are skipped (dpkg-query), and
# `apt-get update` runs only when something has to be installed.
set -euo pipefail

usage() { echo "usage: $0 [--build|--test|--all]" >&2; exit 2; }

want_build=0 want_test=0
case "${1:---all}" in
  --build) want_build=1 ;;
  --test)  want_test=1 ;;
  --all)   want_build=1; want_test=1 ;;
  -h|--help) usage ;;
  *) usage ;;
esac
[ $# -le 1 ] || usage

BUILD_PKGS=(
  cmake ninja-build g++ ccache
  qt6-base-dev qt6-declarative-dev qt6-declarative-private-dev libqt6sql6-sqlite qt6-tools-dev qt6-tools-dev-tools
  libqt6svg6-dev libgl-dev libqscintilla2-qt6-dev
  librdkafka-dev libpq-dev libzstd-dev libsqlite3-dev
)
TEST_PKGS=(
  postgresql-15 postgresql-15-wal2json postgresql-contrib
  openjdk-17-jre-headless maven
  xvfb xauth kcat fonts-dejavu-core
  clang libclang-rt-14-dev
)

pkgs=()
[ "$want_build" = 1 ] && pkgs+=("${BUILD_PKGS[@]}")
[ "$want_test" = 1 ] && pkgs+=("${TEST_PKGS[@]}")

# One dpkg-query call: names of installed packages plus what they Provide
# (libqt6svg6-dev, for one, is a virtual package provided by qt6-svg-dev).
declare -A have=()
while read -r name; do
  [ -n "$name" ] && have[$name]=1
done < <(dpkg-query -W -f='${db:Status-Status}\t${Package}\t${Provides}\n' 2>/dev/null |
         awk -F'\t' '$1 == "installed" {
             print $2
             n = split($3, prov, ",")
             for (i = 1; i <= n; i++) { sub(/^ +/, "", prov[i]); sub(/[ (].*/, "", prov[i]); print prov[i] }
         }')
missing=()
for p in "${pkgs[@]}"; do
  [ -n "${have[$p]:-}" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages already installed"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: not root and sudo is not available; missing: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}"
