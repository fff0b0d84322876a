#!/usr/bin/env bash
# ctest entry: starts `llmhost serve` on a free port with a master key and runs client.mjs (the
# official openai Node package) against it. Exits 77 (ctest: skipped) when node or the
# installed package is missing: `npm install` in this folder (scripts/test.sh does it).
#   run.sh <llmhost binary> <plugin dir>
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cli=$1
plugins=$2
if ! command -v node >/dev/null 2>&1 || [ ! -f "$here/node_modules/openai/package.json" ]; then
  echo "skipped: node or $here/node_modules/openai is missing (run npm install in $here)"
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
[ $rc -eq 0 ] || { echo "--- server stderr"; cat "$tmp/err"; }
exit $rc
