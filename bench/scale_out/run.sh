#!/usr/bin/env bash
# What shared limits cost (issue 18): req/s and latency of llmhost serve with no limits, with
# rpm/tpm counted in process, and with them shared through a local Redis, side by side in one
# run (interleaved in each round). One command from a fresh clone:
#
#   bench/scale_out/run.sh          # ~3 minutes
#
# Installs what is missing (redis-server, wrk), builds llmhost and the bundled plugins into
# build-bench/ (as bench/proxy/run.sh does), starts a redis-server and two llmhost serve on
# loopback (echo deployments whose limits are never reached: the cost of checking them is what
# is measured), loads each with wrk, prints a markdown table, and Redis's memory per entry.
# The gateways are pinned to one core (BENCH_GW_CPU, default 0), Redis and wrk to the other
# (BENCH_LOAD_CPU, default 1). Knobs: BENCH_ROUNDS (default 3), BENCH_SECS (per cell, default 5),
# BENCH_CONNS (default 64). Results: docs/benchmarks.md, "Shared limits".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/deps.sh"
llmhost_install_deps wrk python3

GW_CPU=${BENCH_GW_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECS:-5}
CONNS=${BENCH_CONNS:-64}
BUILD=${BENCH_BUILD:-$LLMHOST_ROOT/build-bench}
llmhost_configure "$BUILD" -DLLMHOST_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD" --target llmhost llmhost_bundled_plugins

source "$LLMHOST_ROOT/bench/lib.sh"
bench_scratch

REDIS_PORT=$(free_port)
taskset -c "$LOAD_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$OUT" --logfile "$OUT/redis.log" &
pids+=($!)

# rpm and tpm far above what a run sends: each request is checked and counted, never refused.
deployments='model_list:
  - model_name: free
    litellm_params: {model: echo/free}
  - model_name: limited
    litellm_params: {model: echo/limited, rpm: 100000000, tpm: 1000000000000}
  - model_name: rpm-only
    litellm_params: {model: echo/rpm-only, rpm: 100000000}
'
printf '%s' "$deployments" >"$OUT/local.yaml"
printf '%srouter_settings:\n  redis_host: 127.0.0.1\n  redis_port: %s\n' "$deployments" "$REDIS_PORT" >"$OUT/shared.yaml"

start_serve() {  # config, log -> prints the port
  taskset -c "$GW_CPU" "$BUILD/bin/llmhost" serve --port 0 --plugins "$BUILD/plugins" --config "$1" \
    --no-access-log >"$2.out" 2>"$2.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q "serving on" "$2.out"; then sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$2.out"; return; fi
    sleep 0.1
  done
  echo "llmhost serve did not start: $(cat "$2.err")" >&2
  exit 1
}
LOCAL=$(start_serve "$OUT/local.yaml" "$OUT/local")
SHARED=$(start_serve "$OUT/shared.yaml" "$OUT/shared")
grep -q "limits and cooldowns are shared" "$OUT/shared.err" || { echo "Redis not up: $(cat "$OUT/shared.err")" >&2; exit 1; }

for m in free limited rpm-only; do
  printf '{"model":"%s","messages":[{"role":"user","content":"hi"}],"mock_response":"hello"}' "$m" >"$OUT/$m.json"
done
targets=("no limits|$LOCAL|free" "rpm+tpm in process|$LOCAL|limited" "rpm through Redis|$SHARED|rpm-only"
  "rpm+tpm through Redis|$SHARED|limited")

run() {  # port model conns secs -> WRKJSON line
  taskset -c "$LOAD_CPU" wrk -t1 -c"$3" -d"$4"s --timeout 5s --latency -s "$LLMHOST_ROOT/bench/proxy/post.lua" \
    "http://127.0.0.1:$1/v1/chat/completions" -- "$OUT/$2.json" | sed -n 's/^WRKJSON //p'
}
for t in "${targets[@]}"; do IFS='|' read -r _ port model <<<"$t"; run "$port" "$model" 16 1 >/dev/null; done
: >"$OUT/results"
for r in $(seq "$ROUNDS"); do
  for t in "${targets[@]}"; do
    IFS='|' read -r name port model <<<"$t"
    echo "$name|c$CONNS|$(run "$port" "$model" "$CONNS" "$SECS")" >>"$OUT/results"
    echo "$name|c1|$(run "$port" "$model" 1 "$SECS")" >>"$OUT/results"
  done
  echo "round $r of $ROUNDS done" >&2
done

python3 - "$OUT/results" "$ROUNDS" "$SECS" "$CONNS" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, cell, js = line.rstrip("\n").split("|", 2)
    rows.setdefault(name, {}).setdefault(cell, []).append(json.loads(js))
rounds, secs, conns = sys.argv[2], sys.argv[3], sys.argv[4]
print(f"wrk -t1, {rounds} rounds x {secs} s per cell, the targets interleaved in each round; medians. "
      f"Errors must be 0.\n")
print(f"| | req/s at c={conns} | vs no limits | p50 at c=1 (µs) | p99 at c=1 (µs) | errors |")
print("|---|---|---|---|---|---|")
base = None
for name, cells in rows.items():
    rps = statistics.median(x["requests"] / (x["duration_us"] / 1e6) for x in cells[f"c{conns}"])
    p50 = statistics.median(x["p50"] for x in cells["c1"])
    p99 = statistics.median(x["p99"] for x in cells["c1"])
    errors = sum(x["errors"] for c in cells.values() for x in c)
    base = base or rps
    print(f"| {name} | {rps:,.0f} | {rps / base:.2f} | {p50} | {p99} | {errors} |")
PY

key=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'llmhost:{limited}:*:r' | head -1)
entries=$(redis-cli -p "$REDIS_PORT" ZCARD "$key")
bytes=$(redis-cli -p "$REDIS_PORT" MEMORY USAGE "$key" SAMPLES 0)
echo
echo "Redis: the requests log of the limited deployment holds $entries entries in $bytes bytes" \
  "($((bytes / (entries > 0 ? entries : 1))) bytes per entry)."
