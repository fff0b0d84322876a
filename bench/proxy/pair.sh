#!/usr/bin/env bash
# Two builds of llmhost serve side by side: the CPU time each spends per openai request at c=64.
#
#   bench/proxy/pair.sh BUILD_A BUILD_B [ROUNDS] [SECS]
#
# BUILD_A and BUILD_B are build folders (each with bin/llmhost and plugins/), for example the
# build-bench/ of two worktrees. Both servers run at once on the gateway core, with the nginx
# mock upstream of bench/proxy/run.sh on the other; wrk (-c64, SECS seconds, default 2) loads A,
# then B, ROUNDS times (default 12). Each round prints A's and B's microseconds of CPU (user +
# system) per request and B/A; the median ratio is the result. On a VM whose speed drifts by 2x
# within minutes, alternating two servers that are both up is what makes a 3% difference
# visible: runs minutes apart, or one server restarted between runs, are not comparable.
# Knobs as in run.sh: BENCH_GW_CPU (default 0), BENCH_LOAD_CPU (default 1), BENCH_NICE (-19).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 2 ] || { sed -n '2,13p' "$0"; exit 2; }
A=$(cd "$1" && pwd)
B=$(cd "$2" && pwd)
ROUNDS=${3:-12}
SECS=${4:-2}
GW_CPU=${BENCH_GW_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
NICE=${BENCH_NICE:--19}
for d in "$A" "$B"; do
  [ -x "$d/bin/llmhost" ] && [ -d "$d/plugins" ] || { echo "pair.sh: $d has no bin/llmhost and plugins/" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v wrk >/dev/null || { echo "pair.sh: needs wrk and nginx (bench/proxy/run.sh installs both)" >&2; exit 2; }

source "$HERE/../lib.sh"
bench_scratch
MOCK=$(free_port)
python3 "$HERE/bench.py" files "$OUT" "$MOCK" "$(free_port)" "$(free_port)" "$(free_port)"
nice -n "$NICE" taskset -c "$LOAD_CPU" "$NGINX" -p "$OUT" -c "$OUT/mock.conf" &
pids+=($!)
ulimit -n "$(ulimit -Hn)"
serve() {  # BUILD PORT; config.yaml names every upstream, only the first is measured here
  LLMHOST_BENCH_UPSTREAM="http://127.0.0.1:$MOCK/v1" LLMHOST_BENCH_UPSTREAM_STREAM="http://127.0.0.1:$MOCK/stream/v1" \
    LLMHOST_BENCH_UPSTREAM_SLOW="http://127.0.0.1:$MOCK/slow/v1" LLMHOST_BENCH_UPSTREAM_TLS="https://127.0.0.1:$MOCK/v1" nice -n "$NICE" taskset -c "$GW_CPU" "$1/bin/llmhost" \
    --plugins "$1/plugins" serve --config "$HERE/config.yaml" --port "$2" --no-access-log --no-watch --workers 64 \
    >/dev/null 2>&1 &
  pids+=($!)
}
PORT_A=$(free_port)
serve "$A" "$PORT_A"
PID_A=$!
PORT_B=$(free_port)
serve "$B" "$PORT_B"
PID_B=$!
sleep 2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Microseconds of CPU per request of server PID on PORT over one wrk run.
per_request() {
  local before after out n
  before=$(cpu_ticks "$1")
  out=$(nice -n "$NICE" taskset -c "$LOAD_CPU" wrk -t1 -c64 -d"${SECS}s" -s "$HERE/post.lua" \
    "http://127.0.0.1:$2/v1/chat/completions" -- "$OUT/req.json")
  after=$(cpu_ticks "$1")
  n=$(echo "$out" | grep -o '"requests":[0-9]*' | cut -d: -f2)
  python3 -c "print(($after - $before) * 1e6 / $(getconf CLK_TCK) / $n)"
}
per_request "$PID_A" "$PORT_A" >/dev/null  # warm: upstream connections, allocator caches
per_request "$PID_B" "$PORT_B" >/dev/null
echo "round  A us/req  B us/req  B/A"
for r in $(seq "$ROUNDS"); do
  a=$(per_request "$PID_A" "$PORT_A")
  b=$(per_request "$PID_B" "$PORT_B")
  python3 -c "print('%5d  %8.2f  %8.2f  %.3f' % ($r, $a, $b, $b / $a))"
done | tee "$OUT/rounds"
python3 - "$OUT/rounds" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]).read().splitlines()]
print("median B/A %.3f over %d rounds; min A %.2f us, min B %.2f us" % (
    statistics.median(float(r[3]) for r in rows), len(rows),
    min(float(r[1]) for r in rows), min(float(r[2]) for r in rows)))
EOF
