#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each one for
# $1 seconds (default 60) from its seed corpus, as many at once as there are CPUs. Fails if any
# target crashes, and prints the crashing input. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# Env: LLMHOST_FUZZ_BUILD (build folder, default build-fuzz), LLMHOST_FUZZ_OUT (where each
# target's working corpus, log and crashes go; default a fresh temp folder), LLMHOST_FUZZ_JOBS
# (targets at once, default nproc).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sse upstream anthropic gemini descriptor request_body chat_request config frame tokens http_response multipart)

# clang + its runtimes (libclang_rt.fuzzer, asan, ubsan) live in libclang-rt-14-dev on Debian 12.
llmhost_install_deps clang libclang-rt-14-dev
build=${LLMHOST_FUZZ_BUILD:-$LLMHOST_ROOT/build-fuzz}
CC=clang CXX=clang++ cmake -S "$LLMHOST_ROOT" -B "$build" -G Ninja -DLLMHOST_BUILD_FUZZERS=ON \
  -DLLMHOST_BUILD_TESTS=OFF -DLLMHOST_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target $(printf 'fuzz_%s ' "${targets[@]}")  # the targets only, not the CLI

out=${LLMHOST_FUZZ_OUT:-$(mktemp -d -t llmhost-fuzz.XXXXXX)}
mkdir -p "$out"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Longest input worth trying per target (bytes).
max_len() {
  case $1 in
    descriptor) echo 256 ;;
    config) echo 4096 ;;
    *) echo 8192 ;;
  esac
}

# fuzz_one TARGET: its regressions, then SECONDS of fuzzing; prints what it found.
fuzz_one() {
  local t=$1 bin="$build/bin/fuzz_$1" dir="$out/$1"
  mkdir -p "$dir/corpus" "$dir/crashes"
  cp "$LLMHOST_ROOT/fuzz/corpus/$t/"* "$dir/corpus/"
  # Old crashes first: each must pass before fuzzing starts.
  local regressions=("$LLMHOST_ROOT/fuzz/regressions/$t/"*)
  if [ -e "${regressions[0]}" ] && ! "$bin" "${regressions[@]}" >"$dir/regressions.log" 2>&1; then
    echo "llmhost-fuzz: $t: a regression input crashes again; see $dir/regressions.log" >&2
    return 1
  fi
  if ! "$bin" "$dir/corpus" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/" >"$dir/fuzz.log" 2>&1; then
    echo "llmhost-fuzz: $t: CRASH; log: $dir/fuzz.log" >&2
    for c in "$dir/crashes/"*; do [ -e "$c" ] && echo "llmhost-fuzz: $t: crashing input: $c" >&2; done
    grep -m1 -E "ERROR: |runtime error|fuzz invariant broken|deadly signal" "$dir/fuzz.log" >&2 || true
    return 1
  fi
  echo "llmhost-fuzz: $t: ${seconds}s"
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(average_exec_per_sec|peak_rss_mb)" "$dir/fuzz.log" | sed "s/^/  $t: /"
}

# A target is one single-threaded process: as many run at once as there are CPUs
# (LLMHOST_FUZZ_JOBS), each for the full time. Each one's report is printed whole when it ends.
jobs_max=${LLMHOST_FUZZ_JOBS:-$(nproc)}
failed=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs_max" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
  fuzz_one "$t" >"$out/$t.report" 2>&1 && cat "$out/$t.report" || { cat "$out/$t.report" >&2; exit 1; } &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ $failed -eq 0 ] && echo "llmhost-fuzz: all targets clean ($out)"
exit $failed
