#!/usr/bin/env bash
# Long fuzzing runs (CI gives each target only seconds, through ctest):
#   scripts/fuzz.sh [TARGET|all] [SECONDS]      default: all, 600 s each
# Builds the libFuzzer targets (build/fuzz, a clang build with
# ASan+UBSan; see tests/fuzz/CMakeLists.txt), runs each from its seed
# corpus, keeps the grown corpus and findings in build/fuzz-work/TARGET/,
# and prints each target's executions. A finding (crash-*, leak-*,
# timeout-*) ends the run with exit 1: fix it, then copy the input into
# tests/fuzz/regressions/TARGET/ so that ctest replays it for ever.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-600}
targets=$(sed -n 's/^set(TAPEDECK_FUZZ_TARGETS \(.*\))$/\1/p' tests/fuzz/CMakeLists.txt)
[ "$target" = all ] || targets=$target
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
[ -f build/build.ninja ] || bash scripts/build.sh
cmake --build build --target tapedeck_fuzzers
status=0
for t in $targets; do
    work=build/fuzz-work/$t
    mkdir -p "$work"
    echo "== fuzz_$t for $seconds s (work: $work)"
    if ! bash tests/fuzz/run.sh "build/fuzz/tests/fuzz/fuzz_$t" "$t" "$seconds" "$work" > "$work/log" 2>&1; then
        status=1
        echo "fuzz_$t: FINDING, see $work/log and $(ls "$work" | grep -E '^(crash|leak|timeout|oom)-' | tr '\n' ' ')"
    fi
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/log" | tr '\n' ' '
    echo "corpus $(ls "$work/corpus" | wc -l) inputs"
done
exit $status
