#!/usr/bin/env bash
# Sets up (Debian packages), builds, and runs llmhost on the bundled plugins: lists the
# providers, makes one call through echo, then serves the OpenAI-compatible proxy on
# 127.0.0.1:4000 until Ctrl-C. Arguments go to `llmhost serve` (e.g. --port 8080,
# --config docs/examples/config.yaml).
set -euo pipefail
source "$(dirname "$0")/deps.sh"

llmhost_install_deps
llmhost_configure "$LLMHOST_ROOT/build"
cmake --build "$LLMHOST_ROOT/build" --target llmhost llmhost_bundled_plugins  # not the tests
cli="$LLMHOST_ROOT/build/bin/llmhost"
set -x
"$cli" providers
"$cli" complete echo/any "Hello world"
{ set +x; } 2>/dev/null
cat >&2 <<'TRY'
llmhost: starting the proxy; from another terminal try:
  curl -s localhost:4000/v1/chat/completions -d '{"model":"echo/any","messages":[{"role":"user","content":"Hello"}]}'
  curl -sN localhost:4000/v1/chat/completions -d '{"model":"echo/any","stream":true,"messages":[{"role":"user","content":"a b c"}],"mock_delay_ms":300}'
TRY
exec "$cli" serve "$@"
