#!/usr/bin/env bash
# Over-HTTP benchmark of llmhost serve (issue 6). One command from a fresh clone:
#
#   bench/proxy/run.sh                  # full run, ~12 minutes on a quiet machine
#   BENCH_QUICK=1 bench/proxy/run.sh    # smoke test, ~3 minutes, numbers not for the record
#   BENCH_PROFILE=1 bench/proxy/run.sh  # also perf profiles of llmhost serve (c=1, c=256) and
#                                       # syscalls / context switches / mallocs per request
#   BENCH_COST=1 bench/proxy/run.sh     # ~1 minute: only the CPU time llmhost serve spends per
#                                       # request (openai, echo, stream; c=1 and 64), which a
#                                       # shared machine hardly disturbs; for before/after checks
#   BENCH_MEMORY=1 bench/proxy/run.sh   # ~2 minutes: only the memory runs (open streams, below)
#   BENCH_COUNT=1 bench/proxy/run.sh    # ~30 s: only syscalls, context switches and mallocs per
#                                       # request at c=1 (perf), which load does not change at all
#
# Installs what is missing (nginx-light, wrk, python3; linux-perf with BENCH_PROFILE=1), builds
# llmhost, the bundled plugins and the fixed-rate load generator (openloop.cpp) into
# build-bench/ (RelWithDebInfo, for symbols in the profiles; bench/run.sh configures the same
# folder as Release, so alternating the two rebuilds), starts on loopback: an nginx mock upstream (plain and TLS, a self-signed certificate), an nginx proxy_pass to it (each way) and
# llmhost serve (openai provider to the mock, and echo), measures, stops everything, and prints
# markdown tables. The gateway under test is pinned to one core (BENCH_GW_CPU, default 0), the
# mock upstream and the load generators to the other (BENCH_LOAD_CPU, default 1).
# Other knobs: BENCH_MAX_WAIT / BENCH_WAIT_EACH (s to wait in all / before one measurement for a
# busy machine to calm down, default 240 / 60),
# BENCH_STREAMS (open SSE streams to echo for the memory test, default 1000), BENCH_HOLD_S (how
# long each echo stream lasts, default 30), BENCH_OPENAI_STREAMS (open streams through openai to
# the mock's slow path, each about 30 s, default 10000; 1000 with BENCH_QUICK=1),
# BENCH_NICE (priority of everything started, as root; default -19), BENCH_SERVE_ARGS (more
# flags for llmhost serve, e.g. "--io-threads 1"),
# LLMHOST_BENCH_OUT (results folder, default build-bench/bench-proxy), BENCH_BUILD (build
# folder, default build-bench).
# What is measured and the results: docs/benchmarks.md, "Over HTTP".
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../../scripts/deps.sh"

QUICK=${BENCH_QUICK:-0}
PROFILE=${BENCH_PROFILE:-0}
COUNT=${BENCH_COUNT:-0}
GW_CPU=${BENCH_GW_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
STREAMS=${BENCH_STREAMS:-1000}
OPENAI_STREAMS=${BENCH_OPENAI_STREAMS:-10000}
HOLD_S=${BENCH_HOLD_S:-30}
[ "$QUICK" = 1 ] && HOLD_S=${BENCH_HOLD_S:-5} && OPENAI_STREAMS=${BENCH_OPENAI_STREAMS:-1000}

extra=(nginx-light wrk python3 openssl)
if [ "$PROFILE" = 1 ] || [ "$COUNT" = 1 ]; then extra+=(linux-perf); fi
# Any nginx flavour will do; do not pull nginx-light next to an installed nginx.
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then extra=("${extra[@]:1}"); fi
llmhost_install_deps "${extra[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PY=/usr/bin/python3

BUILD=${BENCH_BUILD:-$LLMHOST_ROOT/build-bench}
llmhost_configure "$BUILD" -DLLMHOST_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD" --target llmhost llmhost_bundled_plugins openloop

OUT=${LLMHOST_BENCH_OUT:-$BUILD/bench-proxy}
rm -rf "$OUT"
mkdir -p "$OUT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Everything we start runs at nice -19 (BENCH_NICE) when we may: on a shared machine another
# job at nice 0 then gets ~1% of a core from ours instead of half of it. Other load is still
# detected and reported (bench.py, Quiet).
prio=()
[ "$(id -u)" -eq 0 ] && prio=(nice -n "${BENCH_NICE:--19}")
if [ "$(nproc)" -ge 2 ]; then
  on_gw=("${prio[@]}" taskset -c "$GW_CPU"); on_load=("${prio[@]}" taskset -c "$LOAD_CPU")
else
  echo "bench: one CPU only: nothing is pinned, the numbers mix gateway and load" >&2
  on_gw=("${prio[@]}"); on_load=("${prio[@]}")
fi

pids=()
cleanup() {
  set +e  # stop everything even if one step fails
  local p
  if [ "$PROFILE" = 1 ] || [ "$COUNT" = 1 ]; then perf probe -q -d 'probe_libc:*' -d 'probe_libtcmalloc*' >/dev/null 2>&1 || true; fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # wait_http URL: until it answers at all (any status), 10 s at most
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up" >&2; return 1
}
# start_serve NAME FLAGS...: llmhost serve on a free port, pinned; sets SERVE_PORT and SERVE_PID.
start_serve() {
  local name=$1 log="$OUT/$1.out"
  shift
  env -u OPENAI_API_KEY -u OPENAI_BASE_URL -u OPENAI_API_BASE \
    LLMHOST_BENCH_UPSTREAM="http://127.0.0.1:$MOCK_PORT/v1" \
    LLMHOST_BENCH_UPSTREAM_STREAM="http://127.0.0.1:$MOCK_PORT/stream/v1" \
    LLMHOST_BENCH_UPSTREAM_SLOW="http://127.0.0.1:$MOCK_PORT/slow/v1" \
    LLMHOST_BENCH_UPSTREAM_TLS="https://127.0.0.1:$MOCK_TLS_PORT/v1" SSL_CERT_FILE="$OUT/cert.pem" \
    "${on_gw[@]}" "$BUILD/bin/llmhost" --plugins "$BUILD/plugins" serve --config "$HERE/config.yaml" \
    --port 0 --no-access-log --no-watch "$@" ${BENCH_SERVE_ARGS:-} >"$log" 2>"$OUT/$name.err" &
  SERVE_PID=$!
  pids+=("$SERVE_PID")
  local i
  for i in $(seq 100); do
    SERVE_PORT=$(sed -n 's|^llmhost: serving on http://127.0.0.1:\([0-9]*\).*|\1|p' "$log" | head -1)
    [ -n "$SERVE_PORT" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: llmhost serve did not start:" >&2; cat "$OUT/$name.err" >&2; return 1
}

MOCK_PORT=$(free_port); PROXY_PORT=$(free_port); MOCK_TLS_PORT=$(free_port); PROXY_TLS_PORT=$(free_port)
"$PY" "$HERE/bench.py" files "$OUT" "$MOCK_PORT" "$PROXY_PORT" "$MOCK_TLS_PORT" "$PROXY_TLS_PORT"
"${on_load[@]}" "$NGINX" -p "$OUT" -c "$OUT/mock.conf" &
pids+=($!)
"${on_gw[@]}" "$NGINX" -p "$OUT" -c "$OUT/proxy.conf" &
PROXY_PID=$!
pids+=("$PROXY_PID")
start_serve serve --workers 64
wait_http "http://127.0.0.1:$MOCK_PORT/"
wait_http "http://127.0.0.1:$PROXY_PORT/"
wait_http "http://127.0.0.1:$PROXY_TLS_PORT/"
wait_http "http://127.0.0.1:$SERVE_PORT/health/liveliness"

# Every path answers what it should before anything is timed.
check() {  # check URL BODY WANT
  local got
  got=$(curl -s --max-time 5 -H 'Content-Type: application/json' --data-binary "@$2" "$1")
  case "$got" in *"$3"*) ;; *) echo "bench: $1 answered: $got" >&2; exit 1 ;; esac
}
for u in "http://127.0.0.1:$MOCK_PORT" "http://127.0.0.1:$PROXY_PORT" "http://127.0.0.1:$SERVE_PORT"; do
  check "$u/v1/chat/completions" "$OUT/req.json" '"content":"The capital of France is Paris."'
done
check "http://127.0.0.1:$SERVE_PORT/v1/chat/completions" "$OUT/req-echo.json" '"content":"The capital of France is Paris."'
check "http://127.0.0.1:$PROXY_TLS_PORT/v1/chat/completions" "$OUT/req.json" '"content":"The capital of France is Paris."'
check "http://127.0.0.1:$SERVE_PORT/v1/chat/completions" "$OUT/req-tls.json" '"content":"The capital of France is Paris."'
check "http://127.0.0.1:$SERVE_PORT/v1/chat/completions" "$OUT/req-stream.json" 'data: [DONE]'
check "http://127.0.0.1:$PROXY_PORT/stream/v1/chat/completions" "$OUT/req-stream.json" 'data: [DONE]'
check "http://127.0.0.1:$SERVE_PORT/v1/chat/completions" "$OUT/req-echo-stream.json" '"content":" Tower."'

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "Machine: $(nproc) CPUs, $cpu, kernel $(uname -r); $(date -u '+%Y-%m-%d %H:%M UTC'); uptime at start:$(uptime | sed 's/.*up [^,]*,//')."
  echo "Pinning: llmhost serve and the nginx proxy on CPU $GW_CPU; the nginx mock, wrk, openloop and the Python clients on CPU $LOAD_CPU; all of them at ${prio[*]:-the default priority}."
  echo "Versions: $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $("$PY" --version)."
  echo "llmhost serve: \`--workers 64 --no-access-log --no-watch ${BENCH_SERVE_ARGS:-}\` (I/O threads: --io-threads' default, one per two CPUs it may use: 1 when pinned to one) with bench/proxy/config.yaml; nginx: 1 worker, access_log off."
  echo
} | tee "$OUT/machine.md"

# Per request at c=1: syscalls, context switches, and mallocs through a uprobe on libc's malloc.
# Allocations are counted with uprobes on the allocator each process calls: libc's malloc for
# nginx; for llmhost, tcmalloc's malloc and operator new when it links tcmalloc (LLMHOST_MALLOC).
count_per_request() {
  local libc tcmalloc
  libc=$(ldd "$BUILD/bin/llmhost" | awk '/libc\.so\.6/ {print $3}')
  tcmalloc=$(ldd "$BUILD/bin/llmhost" | awk '/libtcmalloc/ {print $3}')
  perf probe -q -d 'probe_libc:*' -d 'probe_libtcmalloc*' >/dev/null 2>&1 || true
  ngx_malloc=(); serve_malloc=()
  if perf probe -q -x "$libc" malloc >/dev/null 2>&1; then ngx_malloc=(--malloc probe_libc:malloc); fi
  if [ -z "$tcmalloc" ]; then
    serve_malloc=("${ngx_malloc[@]}")
  elif perf probe -q -x "$tcmalloc" --add tc_malloc=tc_malloc --add tc_new=tc_new >/dev/null 2>&1; then
    local group
    group=$(perf probe -l 2>/dev/null | sed -n 's/^ *\(probe_libtcmalloc[^:]*\):tc_new .*/\1/p' | head -1)
    serve_malloc=(--malloc "$group:tc_malloc,$group:tc_new")
  fi
  echo "| per request, c=1 (perf stat of the gateway process) | syscalls | context switches | mallocs | req/s while counted |"
  echo "|---|---:|---:|---:|---:|"
  ngx_worker=$(pgrep -P "$PROXY_PID" | head -1)
  u="http://127.0.0.1"
  "${on_load[@]}" "$PY" "$HERE/bench.py" count --dir "$OUT" --name "nginx (worker)" --pid "$ngx_worker" --url "$u:$PROXY_PORT/v1/chat/completions" --body "$OUT/req.json" "${ngx_malloc[@]}"
  "${on_load[@]}" "$PY" "$HERE/bench.py" count --dir "$OUT" --name llmhost-openai --pid "$SERVE_PID" --url "$u:$SERVE_PORT/v1/chat/completions" --body "$OUT/req.json" "${serve_malloc[@]}"
  "${on_load[@]}" "$PY" "$HERE/bench.py" count --dir "$OUT" --name llmhost-echo --pid "$SERVE_PID" --url "$u:$SERVE_PORT/v1/chat/completions" --body "$OUT/req-echo.json" "${serve_malloc[@]}"
  perf probe -q -d 'probe_libc:*' -d 'probe_libtcmalloc*' >/dev/null 2>&1 || true
}

if [ "${BENCH_COST:-0}" = 1 ]; then
  "${on_load[@]}" "$PY" "$HERE/bench.py" cost --dir "$OUT" --serve "$SERVE_PORT" --pid "$SERVE_PID"
  exit 0
fi
if [ "$COUNT" = 1 ]; then
  count_per_request
  exit 0
fi

quick=(); [ "$QUICK" = 1 ] && quick=(--quick)
[ "${BENCH_MEMORY:-0}" = 1 ] || "${on_load[@]}" "$PY" "$HERE/bench.py" measure --dir "$OUT" --mock "$MOCK_PORT" --proxy "$PROXY_PORT" --proxy-tls "$PROXY_TLS_PORT" \
  --serve "$SERVE_PORT" --serve-pid "$SERVE_PID" --openloop "$BUILD/bin/openloop" --max-wait "${BENCH_MAX_WAIT:-240}" --wait-each "${BENCH_WAIT_EACH:-60}" "${quick[@]}"
echo

if [ "$PROFILE" = 1 ]; then
  # perf record of llmhost serve during a c=1 and a c=256 run to the openai path. Without
  # hardware counters (VMs) the cpu-clock software event samples; DWARF call graphs, since the
  # build keeps frame pointers out.
  for c in 1 256; do
    "${on_load[@]}" "$PY" "$HERE/bench.py" wrk "http://127.0.0.1:$SERVE_PORT/v1/chat/completions" "$OUT/req.json" "$c" 9 \
      >"$OUT/perf-c$c.wrk.json" &
    wrk_pid=$!
    sleep 2
    perf record -e cpu-clock -F 1000 --call-graph dwarf,16384 -p "$SERVE_PID" -o "$OUT/perf-c$c.data" -- sleep 6 \
      >/dev/null 2>"$OUT/perf-c$c.record.log" || true
    wait "$wrk_pid"
    report() { perf report -i "$OUT/perf-c$c.data" --stdio -g none "$@" 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/  */ /g' | cut -c1-220; }
    report --no-children --sort dso >"$OUT/perf-c$c.dso.txt" || true
    report --no-children --sort dso,symbol --percent-limit 0.5 >"$OUT/perf-c$c.self.txt" || true
    report --children --sort symbol --percent-limit 2 >"$OUT/perf-c$c.children.txt" || true
    perf script -i "$OUT/perf-c$c.data" -F comm,tid,ip,sym,dso 2>/dev/null >"$OUT/perf-c$c.script.txt" || true
    "$PY" "$HERE/bench.py" perf-categories "$OUT/perf-c$c.script.txt" | tee "$OUT/perf-c$c.categories.txt"
    rm -f "$OUT/perf-c$c.script.txt"
    echo "profile c=$c above; also $OUT/perf-c$c.{dso,self,children}.txt (by library, self, inclusive)"
  done
  echo
  count_per_request
  echo
fi

# Memory, echo: a second serve with enough workers for every stream (an echo stream holds one).
# Then openai: a third, its streams to the mock's slow path; they hold no worker, only connections.
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
hold() {  # hold KIND STREAMS SERVE-ARGS...
  local kind=$1 n=$2
  shift 2
  start_serve "serve-mem-$kind" "$@"
  wait_http "http://127.0.0.1:$SERVE_PORT/health/liveliness"
  sleep 2
  "${on_load[@]}" "$PY" "$HERE/bench.py" hold --kind "$kind" --dir "$OUT" --port "$SERVE_PORT" --pid "$SERVE_PID" \
    --n "$n" --seconds "$HOLD_S" --serve-args "$*" --note "${HOLD_NOTE:-}"
  kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
  echo
}
hold echo "$STREAMS" --workers $((STREAMS + 64)) --max-connections $((STREAMS + 64))
# Each of these streams holds two descriptors in serve (its client's and its upstream's
# connection): a machine whose hard limit is lower than that holds as many as it allows.
fd_room=$(( ($(ulimit -n) - 256) / 2 ))
if [ "$OPENAI_STREAMS" -gt "$fd_room" ]; then
  HOLD_NOTE="$OPENAI_STREAMS asked, but this machine's open-file limit (ulimit -n $(ulimit -n), hard) leaves room for $fd_room"
  OPENAI_STREAMS=$fd_room
fi
hold openai "$OPENAI_STREAMS" --workers 64 --max-connections $((OPENAI_STREAMS + 64))
echo "Results: $OUT/results.md, $OUT/memory-{echo,openai}.md, raw numbers in $OUT/results.json and $OUT/memory-*.json"
