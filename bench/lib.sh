# Sourced by the bench scripts: a scratch folder ($OUT) and the processes they start ($pids), both
# gone when the script exits however it exits, and a free loopback port.

# bench_scratch: makes $OUT and an empty $pids, and the exit trap that removes both.
bench_scratch() {
  OUT=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$OUT"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
