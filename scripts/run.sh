#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs llmhost on the bundled plugins: lists the
# providers and makes a completion and a streamed call through the echo provider.
set -euo pipefail
source "$(dirname "$0")/deps.sh"

llmhost_install_deps
llmhost_configure "$LLMHOST_ROOT/build"
cmake --build "$LLMHOST_ROOT/build" --target llmhost llmhost_bundled_plugins  # not the tests
cli="$LLMHOST_ROOT/build/bin/llmhost"
set -x
"$cli" providers
"$cli" complete echo/any "Hello world"
"$cli" stream echo/any "a b c"
