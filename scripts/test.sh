#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole test suite.
#   scripts/test.sh                               the suite, in build/
#   scripts/test.sh --sanitize address,undefined  the suite under ASan+UBSan, in build-asan/
#   scripts/test.sh --sanitize thread -L 'concurrency|reload'   TSan on the threaded tests
# Extra arguments after the options go to ctest.
set -euo pipefail
source "$(dirname "$0")/deps.sh"

build_dir="$LLMHOST_ROOT/build"
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  build_dir="$LLMHOST_ROOT/build-$(echo "$2" | tr ',' '-')"
  cmake_args+=("-DLLMHOST_SANITIZE=$2" -DCMAKE_BUILD_TYPE=Debug)
  shift 2
fi

llmhost_install_deps
llmhost_build "$build_dir" "${cmake_args[@]}"
# The OpenAI client test (tests/proxy/openai_client) uses the official openai npm package; without
# node/npm or offline it is skipped, never failed.
if command -v npm >/dev/null 2>&1; then
  (cd "$LLMHOST_ROOT/tests/proxy/openai_client" && timeout 300 npm install --no-audit --no-fund --silent) ||
    echo "llmhost: npm install failed; the OpenAI client test will be skipped" >&2
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1}
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
