#!/usr/bin/env bash
# Over HTTP: llmhost serve with echo in process against the same with echo isolated
# (--isolation process), side by side (issue 15, docs/isolation.md). One command from a fresh
# clone:
#
#   bench/isolation/run.sh               # 5 rounds x (c=1, c=64) x both modes, ~3 minutes
#   ROUNDS=9 SECS=5 bench/isolation/run.sh
#
# Installs wrk when missing, builds llmhost and the bundled plugins into build-bench/ (Release,
# as bench/run.sh), starts
# both servers on loopback pinned to CPU 0 (an isolated plugin's worker inherits the pinning,
# so both modes get the same one core), wrk on CPU 1, and measures the two modes interleaved in
# every round, so that a busy machine disturbs both alike. Prints a markdown table: req/s at
# c=1 and c=64, latency at c=1, and the ratios the targets are about (isolated >= 0.7x the
# in-process req/s; <= 20 us added per call at c=1).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/deps.sh"
llmhost_install_deps wrk curl python3

BUILD=${BENCH_BUILD:-$LLMHOST_ROOT/build-bench}
# Release, as bench/run.sh configures the same folder (bench/proxy/run.sh: RelWithDebInfo).
llmhost_configure "$BUILD" -DLLMHOST_BUILD_BENCH=ON -DLLMHOST_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD" --target llmhost llmhost_bundled_plugins

OUT=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$OUT"
}
trap cleanup EXIT
on_gw=(); on_load=()
if [ "$(nproc)" -ge 2 ]; then on_gw=(taskset -c 0); on_load=(taskset -c 1); fi

# serve NAME ARGS...: llmhost serve on a free port; prints the port.
serve() {
  local name=$1; shift
  "${on_gw[@]}" "$BUILD/bin/llmhost" --plugins "$BUILD/plugins" "$@" serve --port 0 --no-access-log --no-watch \
    >"$OUT/$name.out" 2>"$OUT/$name.err" &
  pids+=($!)
  local port="" i
  for i in $(seq 100); do
    port=$(sed -n 's|^llmhost: serving on http://127.0.0.1:\([0-9]*\).*|\1|p' "$OUT/$name.out" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bench: llmhost serve ($name) did not start" >&2; cat "$OUT/$name.err" >&2; exit 1; }
  echo "$port"
}
IN_PORT=$(serve in_process)
ISO_PORT=$(serve isolated --isolation process)
printf '%s' '{"model":"echo/bench","messages":[{"role":"user","content":"What is the capital of France?"}],"mock_response":"Paris."}' >"$OUT/req.json"
for port in "$IN_PORT" "$ISO_PORT"; do
  curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' \
    --data-binary "@$OUT/req.json" | grep -q '"content":"Paris."' || { echo "bench: port $port does not answer" >&2; exit 1; }
done
curl -s "http://127.0.0.1:$ISO_PORT/health/readiness" | grep -q '"isolation":"process"' \
  || { echo "bench: the isolated server does not isolate echo" >&2; exit 1; }

echo "Machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)."
"${on_load[@]}" python3 - "$HERE/../proxy/post.lua" "$OUT/req.json" "$IN_PORT" "$ISO_PORT" "${ROUNDS:-5}" "${SECS:-4}" <<'PY'
import json, statistics, subprocess, sys
lua, body, in_port, iso_port, rounds, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
modes = {"in process": in_port, "isolated": iso_port}

def wrk(port, conns):
    out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--timeout", "5s", "-s", lua,
                          f"http://127.0.0.1:{port}/v1/chat/completions", "--", body],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRKJSON "))
    r = json.loads(line[8:])
    if r["errors"]:
        sys.exit(f"bench: {r['errors']} errors on port {port} at c={conns}")
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    return r

for port in modes.values():  # warm-up
    wrk(port, 16)
runs = {m: {1: [], 64: []} for m in modes}
for r in range(rounds):
    for c in (1, 64):
        for m, port in modes.items():
            runs[m][c].append(wrk(port, c))
    print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)

med = lambda xs: statistics.median(xs)
row = lambda m, c, k: med([x[k] for x in runs[m][c]])
print(f"\n{rounds} rounds, each: wrk -t1 -cN -d{secs}s per mode and N, modes interleaved; medians.\n")
print("| echo over HTTP | req/s c=1 | p50 c=1 (us) | mean c=1 (us) | p99 c=1 (us) | req/s c=64 | p99 c=64 (us) |")
print("|---|---:|---:|---:|---:|---:|---:|")
for m in modes:
    print(f"| {m} | {row(m, 1, 'rps'):,.0f} | {row(m, 1, 'p50'):,.0f} | {row(m, 1, 'mean'):,.1f} | {row(m, 1, 'p99'):,.0f} "
          f"| {row(m, 64, 'rps'):,.0f} | {row(m, 64, 'p99'):,.0f} |")
added = med([b["p50"] - a["p50"] for a, b in zip(runs["in process"][1], runs["isolated"][1])])
added_mean = med([b["mean"] - a["mean"] for a, b in zip(runs["in process"][1], runs["isolated"][1])])
ratio = {c: med([b["rps"] / a["rps"] for a, b in zip(runs["in process"][c], runs["isolated"][c])]) for c in (1, 64)}
print(f"\nIsolated / in process, req/s: {ratio[1]:.2f}x at c=1, {ratio[64]:.2f}x at c=64 (target >= 0.7x).")
print(f"Added per call at c=1: {added:.0f} us at the median, {added_mean:.1f} us on the mean (target <= 20 us).")
PY
