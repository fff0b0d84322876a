#!/usr/bin/env bash
# Sets up (Debian packages), builds and runs the whole test suite.
#   scripts/test.sh                               the suite, in build/
#   scripts/test.sh --sanitize address,undefined  the suite under ASan+UBSan, in build-asan/
#   scripts/test.sh --sanitize thread -L 'concurrency|reload'   TSan on the threaded tests
# Extra arguments after the options go to ctest; when they select tests, only what those run is
# built.
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
# Node for the OpenAI client test: Debian's, unless a node with its own npm (NodeSource) is there.
command -v npm >/dev/null 2>&1 || llmhost_install_deps nodejs npm
llmhost_configure "$build_dir" "${cmake_args[@]}"
# With ctest arguments that select tests (-L, -R), build only what those tests run: the
# executables under bin/ that their commands name, plus the CLI and the plugins any test may
# start. A selected test whose command names none (a script that builds against the installed
# tree) needs the whole build.
targets=()
if [ $# -gt 0 ]; then
  targets=(llmhost llmhost_bundled_plugins llmhost_test_plugins)
  while read -r command; do
    named=0
    for word in $command; do
      case $word in "$build_dir"/bin/*) targets+=("$(basename "$word")"); named=1 ;; esac
    done
    [ "$named" = 1 ] || { targets=(); break; }
  done < <(ctest --test-dir "$build_dir" -N -V "$@" | sed -n 's/^.*Test command: //p')
fi
cmake --build "$build_dir" ${targets[@]:+--target $(printf '%s\n' "${targets[@]}" | sort -u)}
# The tests with a Node reference: the official openai package against the proxy
# (tests/proxy/openai_client) and js-tiktoken against the tokenizer
# (tests/tokens/tiktoken_reference), at the versions each package-lock.json pins. Under CI=true
# every test must run: a failure here fails.
for node_dir in tests/proxy/openai_client tests/tokens/tiktoken_reference; do
  dir="$LLMHOST_ROOT/$node_dir"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    if ! (cd "$dir" && timeout 300 npm ci --no-audit --no-fund --silent); then
      [ "${CI:-}" = true ] && { echo "llmhost: npm ci failed in $dir, and CI runs every test" >&2; exit 1; }
      echo "llmhost: WARNING: npm ci failed in $dir: its test will be SKIPPED" >&2
    fi
  fi
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1:suppressions=$LLMHOST_ROOT/scripts/tsan.supp}
# --no-tests=error: a label filter that matches nothing fails instead of passing.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j "$(nproc)" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
skipped=$(sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/p' "$log" | tr '\n' ' ')
if [ -n "$skipped" ]; then
  echo "llmhost: SKIPPED, not run: $skipped" >&2
  if [ "${CI:-}" = true ]; then
    echo "llmhost: CI runs every test: failing" >&2
    exit 1
  fi
fi
exit "$rc"
