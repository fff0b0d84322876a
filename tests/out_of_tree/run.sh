#!/usr/bin/env bash
# Installs the build into a scratch prefix, builds the providers in tests/out_of_tree against that
# prefix only (find_package(llmhost)), and loads and calls them through the installed llmhost:
# myprov (C), and relay (C++: asynchronous calls over llmhost/http.hpp), which relays to an
# installed `llmhost serve` answering with the bundled echo, from the CLI (the blocking forms the
# SDK makes) and from a second `llmhost serve` (the asynchronous forms, on its I/O threads).
# Usage: run.sh <llmhost build dir>
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
# A clean environment: nothing from the source or build tree may leak in.
env -i PATH=/usr/bin:/bin HOME="$work" cmake -S "$here/myprov" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null

llmhost="$work/prefix/bin/llmhost"
"$llmhost" check "$work/build/libmyprov.so"
out=$("$llmhost" --plugins "$work/build" complete myprov/any "hello from outside")
[ "$out" = "myprov says: hello from outside" ] || { echo "unexpected reply: $out" >&2; exit 1; }
# The installed binary finds the installed bundled plugins with no flag.
env -u LLMHOST_PLUGIN_DIR "$llmhost" providers | grep -q '^echo ' || { echo "installed llmhost lacks echo" >&2; exit 1; }

env -i PATH=/usr/bin:/bin HOME="$work" cmake -S "$here/relay" -B "$work/relay" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/relay" >/dev/null
"$llmhost" check "$work/relay/libootrelay.so"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$work"' EXIT
# serve [PLUGIN_FOLDER [CONFIG]]: starts the installed `llmhost serve` on a free port, with the
# bundled plugins or those in PLUGIN_FOLDER, and sets $port to its port.
serve() {
  local log="$work/serve${#pids[@]}.out" args=()
  [ $# -ge 1 ] && args+=(--plugins "$1")
  args+=(serve --port 0)
  [ $# -ge 2 ] && args+=(--config "$2")
  "$llmhost" "${args[@]}" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    port=$(sed -n 's|^llmhost: serving on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  echo "llmhost serve did not start:" >&2
  cat "$log" >&2
  exit 1
}
expect() {  # expect WHAT EXPECTED ACTUAL
  [ "$3" = "$2" ] || { echo "$1: expected [$2], got [$3]" >&2; exit 1; }
}

serve  # the upstream: the bundled echo
upstream="http://127.0.0.1:$port"
expect "relay, blocking complete" "hello relay" \
  "$("$llmhost" --plugins "$work/relay" complete --api-base "$upstream" ootrelay/echo/x "hello relay")"
expect "relay, blocking stream" "hello relay" \
  "$("$llmhost" --plugins "$work/relay" stream --api-base "$upstream" ootrelay/echo/x "hello relay")"
expect "relay, no upstream" "llmhost: error 400: ootrelay: give the upstream as api_base" \
  "$("$llmhost" --plugins "$work/relay" complete ootrelay/echo/x "hi" 2>&1 || true)"

cat >"$work/relayed.yaml" <<YAML
model_list:
  - model_name: relayed
    litellm_params:
      model: ootrelay/echo/x
      api_base: $upstream
YAML
serve "$work/relay" "$work/relayed.yaml"
post() {
  curl -sS --max-time 20 "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "{\"model\": \"relayed\", \"messages\": [{\"role\": \"user\", \"content\": \"through two\"}]$1}"
}
answer=$(post "")
grep -q '"content":"through two"' <<<"$answer" || { echo "relay through serve answered: $answer" >&2; exit 1; }
events=$(post ', "stream": true')
expect "relay through serve, streamed" "through two" \
  "$(sed -n 's/^data: .*"delta":{[^}]*"content":"\([^"]*\)".*/\1/p' <<<"$events" | tr -d '\n')"
grep -q '^data: \[DONE\]' <<<"$events" || { echo "the relayed stream did not end: $events" >&2; exit 1; }
echo "out-of-tree plugins OK"
