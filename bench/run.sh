#!/usr/bin/env bash
# Builds Release with the benchmarks into build-bench/ and runs every in-process benchmark and
# the hot-reload latency benchmark, printing the results. One command from a fresh clone:
#
#   bench/run.sh                     # 5 repetitions, medians (and mean/stddev/cv) reported
#   REPS=9 SWAPS=200 bench/run.sh    # more repetitions / reload swaps
#   bench/run.sh --benchmark_filter=Stream   # extra flags go to the Google Benchmark binary
#
# Results and how to read them: docs/benchmarks.md. The over-HTTP benchmarks are separate.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/deps.sh"
llmhost_install_deps

BUILD="$LLMHOST_ROOT/build-bench"
# Tests stay configured: the reload benchmark uses the swap_v1/swap_v2 test plugins they build.
# Only what the benchmarks need is built; the request parser has a binary of its own
# (inprocess_parse), since it links the openai module and the rest does not need it.
cmake -S "$LLMHOST_ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLMHOST_BUILD_BENCH=ON \
  -DLLMHOST_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD" --target inprocess inprocess_parse isolation reload_latency llmhost_bundled_plugins \
  llmhost_test_plugins

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Hypervisor vendor)' || true
echo "nproc: $(nproc)  kernel: $(uname -r)  date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== in process (Google Benchmark; CPU column = the calling threads' own time)"
"$BUILD/bin/inprocess" --benchmark_repetitions="${REPS:-5}" --benchmark_report_aggregates_only=true "$@"
"$BUILD/bin/inprocess_parse" --benchmark_repetitions="${REPS:-5}" --benchmark_report_aggregates_only=true "$@"

echo "== process isolation against in process (echo), and a crashed plugin's restart"
"$BUILD/bin/isolation" --benchmark_repetitions="${REPS:-5}" --benchmark_report_aggregates_only=true "$@"

echo "== hot reload: close of a new build -> first call answered by it"
"$BUILD/bin/reload_latency" "$BUILD/test-plugins/libswap_v1.so" "$BUILD/test-plugins/libswap_v2.so" "${SWAPS:-100}"
