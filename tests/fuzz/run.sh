#!/usr/bin/env bash
# Runs one libFuzzer target: first every input in regressions/TARGET (each
# once: a crash found earlier must stay fixed), then SECONDS of fuzzing from
# a copy of corpus/TARGET (the source tree is never written).
#   tests/fuzz/run.sh BINARY TARGET SECONDS [WORKDIR]
# WORKDIR (default: a temporary directory) keeps the grown corpus and any
# crash-* / leak-* / timeout-* files.
set -euo pipefail
binary=$(realpath -m "$1") target=$2 seconds=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(realpath -m "${4:-$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")}")
echo "run.sh: fuzz_$target in $work (findings are written there)"
mkdir -p "$work/corpus"
[ -x "$binary" ] || { echo "run.sh: $binary is not built (target tapedeck_fuzzers)" >&2; exit 1; }
dict=()
[ -f "$here/dict/$target.dict" ] && dict=(-dict="$here/dict/$target.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if compgen -G "$here/regressions/$target/*" >/dev/null; then
    "$binary" -runs=1 "${dict[@]}" "$here"/regressions/"$target"/*
fi
[ -d "$here/corpus/$target" ] && cp -r "$here/corpus/$target/." "$work/corpus/"
cd "$work"
exec "$binary" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    "${dict[@]}" "$work/corpus"
