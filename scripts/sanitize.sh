#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (CMake preset "asan", build-asan/, GCC). Not run by CI (a Debug build of
# everything with sanitizers costs ~20 min on 2 cores); run it before a
# release and after changes to parsers, threads or memory handling.
#   scripts/sanitize.sh [ctest arguments...]     e.g. -L replay, -E bench
# Starts and stops the test services like scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake --preset asan >/dev/null
cmake --build build-asan -j"$(nproc)"
trap 'bash scripts/services/all.sh stop >/dev/null 2>&1 || true' EXIT
bash scripts/services/all.sh start
eval "$(bash scripts/services/all.sh env)"
export QT_QPA_PLATFORM=offscreen
# Qt's and librdkafka's own one-time allocations are not ours to chase.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Benchmarks measure speed, which a sanitizer build does not have; the fuzz
# targets have their own sanitized build.
ctest --test-dir build-asan --output-on-failure -j2 --timeout 1800 -E '^(bench_|fuzz_)' "$@"
