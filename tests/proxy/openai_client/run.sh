#!/usr/bin/env bash
# ctest entry: starts `llmhost serve` on a free port with a master key and runs client.mjs (the
# official openai Node package) against it, then stops the server with SIGTERM: it must exit 0,
# with no sanitizer report. Needs node and the package (`npm ci` in this folder; scripts/test.sh
# does it). Without them: a failure under CI=true, else exit 77 (ctest: skipped), saying why.
#   run.sh <llmhost binary> <plugin dir>
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=$1
plugins=$2
if ! command -v node >/dev/null 2>&1 || [ ! -f "$here/node_modules/openai/package.json" ]; then
  echo "test_proxy_openai_client: node or $here/node_modules/openai is missing (run npm ci in $here)"
  [ "${CI:-}" = true ] && { echo "FAILED: CI runs every test"; exit 1; }
  echo "SKIPPED"
  exit 77
fi
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cat >"$tmp/config.yaml" <<'YAML'
model_list:
  - model_name: echo-model
    litellm_params:
      model: echo/any
general_settings:
  master_key: os.environ/LLMHOST_NODE_TEST_KEY
YAML
LLMHOST_NODE_TEST_KEY=sk-node-test "$cli" serve --port 0 --plugins "$plugins" --config "$tmp/config.yaml" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*serving on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$tmp/out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "llmhost serve did not start:"; cat "$tmp/err"
  exit 1
fi
LLMHOST_URL="http://127.0.0.1:$port/v1" LLMHOST_KEY=sk-node-test node "$here/client.mjs"
rc=$?
# The server's own end counts: a crash or a sanitizer report at shutdown fails the test.
kill -TERM "$pid"
wait "$pid"
serve_rc=$?
pid=
if [ $serve_rc -ne 0 ]; then
  echo "llmhost serve exited with $serve_rc after SIGTERM"
  rc=1
fi
if grep -qE 'Sanitizer|runtime error:' "$tmp/err"; then
  echo "llmhost serve reported a sanitizer error"
  rc=1
fi
[ $rc -eq 0 ] || { echo "--- server stderr"; cat "$tmp/err"; }
exit $rc
