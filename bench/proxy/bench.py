#!/usr/bin/env python3
"""Measurement driver of the over-HTTP benchmark. bench/proxy/run.sh starts the servers and
calls this; it needs only the Python standard library, wrk and openloop (openloop.cpp).

  bench.py files DIR MOCK_PORT PROXY_PORT     nginx configs and request bodies into DIR
  bench.py measure --dir DIR --mock P --proxy P --serve P --serve-pid PID
                                              every measurement; markdown on stdout,
                                              raw numbers in DIR/results.json
  bench.py hold --kind echo|openai --dir DIR --port P --pid PID
                                              N SSE streams open at once, each read to its end
                                              and checked; RSS of PID sampled
  bench.py wrk URL BODY CONNS SECONDS         one wrk run, its JSON line (for profiling)
  bench.py perf-categories FILE               where serve's CPU goes, from `perf script` output
  bench.py count --pid P --url U --body B ... syscalls, context switches, mallocs per request

Targets: direct = the nginx mock upstream itself; nginx = nginx proxy_pass to it (keep-alive
to the upstream); llmhost-openai = llmhost serve + the openai provider to it; llmhost-echo =
llmhost serve + echo (no upstream).
"""
import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "post.lua")

# ---------------------------------------------------------------------------------------------
# Fixed bodies: one typical chat request, the upstream's answer, and its streamed form.

ANSWER = "The capital of France is Paris."
STREAM_TEXT = ("The capital of France is Paris, a city on the Seine known for its museums, "
               "cafes and the Eiffel Tower.")  # 20 words: 20 content chunks + 1 finish chunk
SLOW_STREAM_S = 30  # how long the mock's slow path (bench-openai-slow) takes to send its stream

CHAT_REQUEST = {
    "model": "bench-openai",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
        {"role": "user", "content": "What is the capital of France? Reply in one word."},
    ],
    "temperature": 0.2, "top_p": 1, "max_tokens": 256, "user": "bench-user",
}

UPSTREAM_MODEL = "gpt-4o-mini-2024-07-18"
COMPLETION = {
    "id": "chatcmpl-bench0001", "object": "chat.completion", "created": 1764000000,
    "model": UPSTREAM_MODEL,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER, "refusal": None},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 28, "completion_tokens": 7, "total_tokens": 35},
    "system_fingerprint": "fp_bench",
}


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def sse_body():
    """The mock's SSE answer, shaped like OpenAI's: one event per word (the first carries the
    role), a finish event, [DONE]. 22 events, as llmhost serve sends for echo's 20 words."""
    words = STREAM_TEXT.split(" ")
    events = []
    for i, w in enumerate(words):
        delta = {"role": "assistant", "content": w} if i == 0 else {"content": " " + w}
        events.append({"id": "chatcmpl-bench0002", "object": "chat.completion.chunk",
                       "created": 1764000000, "model": UPSTREAM_MODEL, "system_fingerprint": "fp_bench",
                       "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]})
    events.append({"id": "chatcmpl-bench0002", "object": "chat.completion.chunk", "created": 1764000000,
                   "model": UPSTREAM_MODEL, "system_fingerprint": "fp_bench",
                   "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
    return "".join("data: " + compact(e) + "\n\n" for e in events) + "data: [DONE]\n\n"


def slow_rate():
    """nginx limit_rate (bytes/s) at which the SSE body takes SLOW_STREAM_S to send."""
    return max(1, len(sse_body()) // SLOW_STREAM_S)


def nginx_quote(text):
    """A single-quoted nginx string: the parser turns \\n, \\", \\' and \\\\ back."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


NGINX_COMMON = """worker_processes 1;
daemon off;
worker_rlimit_nofile 65536;
error_log {dir}/{name}-error.log warn;
pid {dir}/{name}.pid;
events {{ worker_connections 32768; }}
http {{
  access_log off;
  client_body_temp_path {dir}/{name}-body;
  proxy_temp_path {dir}/{name}-proxy;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
{body}
}}
"""

MOCK_SERVER = """  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location = /v1/chat/completions {{
      default_type application/json;
      return 200 {completion};
    }}
{sse_locations}  }}"""

# The SSE body is over nginx's 4 KiB limit for one config token, so it is a file. A POST to a
# static file is 405; error_page turns that into an internal GET of the file. On /stream/v1 it
# goes all at once; on /slow/v1 (the memory run's upstream, which keeps streams open) at
# limit_rate.
SSE_LOCATION = """    location = /{name}/v1/chat/completions {{
      error_page 405 =200 /{name}.sse;
      return 405;
    }}
    location = /{name}.sse {{
      internal;
      default_type text/event-stream;
      {rate}alias {dir}/stream.sse;
    }}
"""

# TLS to the mock, as production upstreams are reached: the same locations on a second port
# (HTTPS_LISTEN), and the nginx proxy's second server passing to it over TLS with the
# certificate verified, as llmhost verifies it (PROXY_TLS_LOCATIONS).
HTTPS_LISTEN = """    listen 127.0.0.1:{tls_port} ssl backlog=4096;
    ssl_certificate {dir}/cert.pem;
    ssl_certificate_key {dir}/key.pem;
"""

# The nginx proxy: a keep-alive upstream pool and a server in front of it.
PROXY = """  upstream {name} {{
    server 127.0.0.1:{upstream};
    keepalive 512;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
{locations}
  }}"""

PROXY_LOCATIONS = """    location / { proxy_pass http://mock; }
    location /stream/ { proxy_pass http://mock; proxy_buffering off; }"""

PROXY_TLS_LOCATIONS = """    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate {dir}/cert.pem;
    proxy_ssl_name localhost;
    proxy_ssl_server_name on;
    proxy_ssl_session_reuse on;
    location / {{ proxy_pass https://mock_tls; }}"""


def write_files(d, mock_port, proxy_port, mock_tls_port, proxy_tls_port):
    def put(name, text):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)

    # A self-signed certificate for the mock's TLS port, trusted by both gateways.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(d, "key.pem"), "-out", os.path.join(d, "cert.pem"), "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    sse_locations = (SSE_LOCATION.format(name="stream", rate="", dir=d) +
                     SSE_LOCATION.format(name="slow", rate=f"limit_rate {slow_rate()};\n      ", dir=d))
    mock = MOCK_SERVER.format(port=mock_port, completion=nginx_quote(compact(COMPLETION)), sse_locations=sse_locations)
    mock = mock.replace("backlog=4096;\n", "backlog=4096;\n" + HTTPS_LISTEN.format(tls_port=mock_tls_port, dir=d), 1)
    put("stream.sse", sse_body())
    put("mock.conf", NGINX_COMMON.format(dir=d, name="mock", body=mock))
    proxies = (PROXY.format(name="mock", port=proxy_port, upstream=mock_port, locations=PROXY_LOCATIONS) + "\n" +
               PROXY.format(name="mock_tls", port=proxy_tls_port, upstream=mock_tls_port,
                            locations=PROXY_TLS_LOCATIONS.format(dir=d)))
    put("proxy.conf", NGINX_COMMON.format(dir=d, name="proxy", body=proxies))
    put("req.json", compact(CHAT_REQUEST))
    put("req-tls.json", compact({**CHAT_REQUEST, "model": "bench-openai-tls"}))
    put("req-stream.json", compact({**CHAT_REQUEST, "model": "bench-openai-stream", "stream": True}))
    put("req-echo.json", compact({**CHAT_REQUEST, "model": "echo/bench", "mock_response": ANSWER}))
    put("req-echo-stream.json", compact({**CHAT_REQUEST, "model": "echo/bench", "stream": True,
                                         "mock_response": STREAM_TEXT}))


# ---------------------------------------------------------------------------------------------
# Machine state

def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def cpu_busy(seconds=1.0):
    """Cores busy over `seconds` (0..nproc), from /proc/stat."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + v[4]
        return sum(v) - idle, sum(v)
    b0, t0 = read()
    time.sleep(seconds)
    b1, t1 = read()
    return os.cpu_count() * (b1 - b0) / max(1, t1 - t0)


class Quiet:
    """Before each measurement: uptime recorded; when something else keeps the CPUs busy (our
    own servers are idle between measurements, so any CPU use is someone else's), wait up to
    max_wait seconds in all for it to stop. The 1-minute load average itself is not the test
    during the run: our own saturation runs keep it near 2."""

    def __init__(self, max_wait, wait_each, threshold=0.35):
        self.max_wait, self.wait_each, self.threshold, self.waited = max_wait, wait_each, threshold, 0.0
        self.log = []

    def check(self, label):
        time.sleep(0.2)
        busy = cpu_busy(0.5)
        start = time.time()
        while busy > self.threshold and self.waited < self.max_wait and time.time() - start < self.wait_each:
            time.sleep(4)
            self.waited += 5
            busy = cpu_busy(1.0)
        entry = {"label": label, "loadavg": loadavg(), "busy_cores": round(busy, 2),
                 "loaded": busy > self.threshold, "waited_s": round(time.time() - start, 1)}
        self.log.append(entry)
        return entry


# ---------------------------------------------------------------------------------------------
# Load generators

def cpu_times():
    """Per CPU: (busy, total) jiffies."""
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                out.append((sum(v) - v[3] - v[4], sum(v)))
    return out


def wrk(url, body, conns, secs):
    c0 = cpu_times()
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{secs}s", "--timeout", "5s", "-s", LUA, url, "--", body]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("WRKJSON "):
            r = json.loads(line[8:])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            c1 = cpu_times()
            r["cpu_busy_pct"] = [round(100 * (b1 - b0) / max(1, t1 - t0)) for (b0, t0), (b1, t1) in zip(c0, c1)]
            return r
    raise RuntimeError("wrk printed no result:\n" + out)


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def openloop(binary, port, body, rate, secs):
    """Fixed-rate run with openloop (bench/proxy/openloop.cpp): requests due evenly spaced,
    latency from the due time. 1 s warm-up at the same rate first."""
    cmd = [binary, "127.0.0.1", str(port), "/v1/chat/completions", body, f"{rate:.0f}", str(secs), "1", "1000"]
    c0 = cpu_times()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    c1 = cpu_times()
    r = json.loads(out.strip().splitlines()[-1])
    r["cpu_busy_pct"] = [round(100 * (b1 - b0) / max(1, t1 - t0)) for (b0, t0), (b1, t1) in zip(c0, c1)]
    return r


# ---------------------------------------------------------------------------------------------
# Streaming client: time to first event and gaps between events, per request.

def http_request(path, host, port, body):
    return (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class SseConn:
    """One keep-alive connection. quickack: ACK every segment at once (TCP_QUICKACK after each
    read), so that a server's Nagle algorithm never waits for the client's delayed ACK."""

    def __init__(self, host, port, quickack=False):
        self.host, self.port, self.quickack = host, port, quickack
        self.sock = None

    def request(self, path, body):
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.quickack:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        req = http_request(path, self.host, self.port, body)
        t0 = time.perf_counter_ns()
        self.sock.sendall(req)
        head, body_bytes, times = b"", b"", []
        length, chunked, status = None, False, 0
        while True:
            data = self.sock.recv(262144)
            t = time.perf_counter_ns()
            if self.quickack:
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            if not data:
                raise RuntimeError("connection closed mid-response")
            if status == 0:
                head += data
                i = head.find(b"\r\n\r\n")
                if i < 0:
                    continue
                lines = head[:i].decode("latin-1").split("\r\n")
                status = int(lines[0].split()[1])
                for h in lines[1:]:
                    k, _, v = h.partition(":")
                    k, v = k.strip().lower(), v.strip().lower()
                    if k == "content-length":
                        length = int(v)
                    elif k == "transfer-encoding" and "chunked" in v:
                        chunked = True
                data = head[i + 4:]
            prev = body_bytes[-1:]
            body_bytes += data
            times += [t] * (prev + data).count(b"\n\n")
            if (length is not None and len(body_bytes) >= length) or (chunked and body_bytes.endswith(b"0\r\n\r\n")):
                break
        if status != 200:
            raise RuntimeError(f"status {status}: {body_bytes[:200]!r}")
        if not times:
            raise RuntimeError("no event")
        gap = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 0.0
        return {"ttfc": (times[0] - t0) / 1000, "gap": gap / 1000, "events": len(times)}


def stream_bench(targets, rounds, per_round, quickack, quiet):
    """targets: name -> (port, path, body bytes). Rounds interleave the targets."""
    conns = {n: SseConn("127.0.0.1", p, quickack) for n, (p, _, _) in targets.items()}
    res = {n: {"ttfc": [], "gap": [], "events": set()} for n in targets}
    for n, (_, path, body) in targets.items():  # warm-up
        for _ in range(5):
            conns[n].request(path, body)
    for r in range(rounds):
        quiet.check(f"stream{' quickack' if quickack else ''} round {r + 1}")
        for n, (_, path, body) in targets.items():
            for _ in range(per_round):
                x = conns[n].request(path, body)
                res[n]["ttfc"].append(x["ttfc"])
                res[n]["gap"].append(x["gap"])
                res[n]["events"].add(x["events"])
    out = {}
    for n, v in res.items():
        out[n] = {"ttfc_p50": pct(v["ttfc"], 50), "ttfc_p99": pct(v["ttfc"], 99),
                  "gap_p50": pct(v["gap"], 50), "gap_p99": pct(v["gap"], 99),
                  "events": sorted(v["events"]), "n": len(v["ttfc"])}
    return out


# ---------------------------------------------------------------------------------------------
# Memory: N open SSE streams, each read to its end; RSS of the serving process sampled.

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        d = dict(line.split(":", 1) for line in f)
    return int(d["VmRSS"].split()[0]), int(d["Threads"])


class Dechunker:
    """HTTP/1.1 chunked framing, undone as bytes arrive; counts the SSE events of the body."""

    def __init__(self):
        self.raw, self.body, self.left, self.done = b"", b"", 0, False

    def feed(self, data):
        self.raw += data
        while not self.done:
            if self.left:
                take = self.raw[:self.left]
                self.body += take
                self.raw, self.left = self.raw[len(take):], self.left - len(take)
                if self.left:
                    return
                continue
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            line, self.raw = self.raw[:i], self.raw[i + 2:]
            if not line:  # the CRLF that ends a chunk's data
                continue
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.done = True
            self.left = size

    def events(self):
        return [e for e in self.body.split(b"\n\n") if e.startswith(b"data: ")]


class Live:
    """How many streams have their answer's head and not yet its end, and the most at once."""

    def __init__(self):
        self.now, self.most = 0, 0

    def open(self):
        self.now += 1
        self.most = max(self.most, self.now)


async def read_stream(port, req, timeout, live):
    """One streamed request on its own connection: (status line, Dechunker)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(req)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        status = head.split(b"\r\n", 1)[0].decode()
        d = Dechunker()
        if " 200 " not in status or b"chunked" not in head.lower():
            return status, d
        live.open()
        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while not d.done:
                chunk = await asyncio.wait_for(reader.read(65536), max(0.1, end - loop.time()))
                if not chunk:
                    break
                d.feed(chunk)
        finally:
            live.now -= 1
        return status, d
    finally:
        writer.close()


async def hold_streams(port, ref_body, body, n, pid, timeout):
    """The reference request (same events, fast path) says what every stream must deliver; then N
    streams are opened at once and each is read to its end."""
    live = Live()
    _, ref = await read_stream(port, http_request("/v1/chat/completions", "127.0.0.1", port, ref_body), 30, live)
    live = Live()
    want = ref.events()
    if not ref.done or not want or want[-1] != b"data: [DONE]":
        raise RuntimeError(f"the reference stream did not end with [DONE]: {ref.body[-200:]!r}")
    req = http_request("/v1/chat/completions", "127.0.0.1", port, body)
    finished = 0
    errors = []

    async def one():
        nonlocal finished
        try:
            status, d = await read_stream(port, req, timeout, live)
        except Exception as e:  # noqa: BLE001 - counted and reported, not raised
            errors.append(repr(e))
            return
        got = d.events()
        # The ids and timestamps differ per stream; the number of events and their order of
        # kinds (content, finish, [DONE]) may not.
        if not status.endswith("200 OK") or not d.done or len(got) != len(want) or got[-1] != want[-1]:
            errors.append(f"{status}: {len(got)} of {len(want)} events, ended: {d.done}")
            return
        finished += 1

    idle = rss_kb(pid)
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    tasks = [asyncio.create_task(one()) for _ in range(n)]
    samples = []
    while not all(t.done() for t in tasks):
        samples.append(rss_kb(pid))
        await asyncio.sleep(0.5)
    took = time.monotonic() - t0
    cpu = (cpu_seconds(pid) - cpu0) / took
    await asyncio.sleep(3)
    after = rss_kb(pid)
    return {"n": n, "finished": finished, "most_open": live.most, "events_each": len(want), "took_s": round(took, 1),
            "errors": errors[:5], "error_count": len(errors),
            "idle_rss_kb": idle[0], "idle_threads": idle[1],
            "max_rss_kb": max(s[0] for s in samples), "mean_rss_kb": statistics.mean(s[0] for s in samples),
            "threads_held": max(s[1] for s in samples), "cpu_cores": cpu, "after_close_rss_kb": after[0]}


# ---------------------------------------------------------------------------------------------
# The whole measurement

def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=0):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{digits}f}"


def measure(a):
    d, quick = a.dir, a.quick
    quiet = Quiet(a.max_wait, a.wait_each)
    ports = {"direct": a.mock, "nginx": a.proxy, "llmhost-openai": a.serve, "llmhost-echo": a.serve,
             "nginx-tls": a.proxy_tls, "llmhost-openai-tls": a.serve}
    urls = {n: f"http://127.0.0.1:{p}/v1/chat/completions" for n, p in ports.items()}
    body_file = {"llmhost-echo": "req-echo.json", "llmhost-openai-tls": "req-tls.json"}
    bodies = {n: os.path.join(d, body_file.get(n, "req.json")) for n in urls}
    names = list(urls)
    gateways = names[1:]
    R = {"quick": quick, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "loadavg_start": loadavg()}
    R["serve_idle_rss_kb"], R["serve_idle_threads"] = rss_kb(a.serve_pid)

    def log(m):
        print(f"[bench] {m}", file=sys.stderr, flush=True)

    # Warm-up: every path, a little concurrency.
    for n in names:
        wrk(urls[n], bodies[n], 16, 1 if quick else 2)

    # 1. c=1 latency, rounds interleaved.
    rounds, c1_secs = (2, 2) if quick else (5, 4)
    lat = {n: [] for n in names}
    for r in range(rounds):
        for n in names:
            q = quiet.check(f"c=1 round {r + 1} {n}")
            x = wrk(urls[n], bodies[n], 1, c1_secs)
            x["quiet"] = q
            lat[n].append(x)
            log(f"c=1 round {r + 1} {n}: p50 {x['p50']} us p99 {x['p99']} us {x['rps']:.0f} req/s "
                f"load {q['loadavg'][0]} busy {q['busy_cores']}")
    R["c1"] = lat

    def added(n, key):
        return med([lat[n][i][key] - lat["direct"][i][key] for i in range(rounds)])

    # 2. Concurrency sweep (c=1 reuses the rounds above).
    conc = [1, 16, 64, 256]
    reps, sw_secs = (1, 2) if quick else (3, 3)
    sweep = {n: {1: lat[n]} for n in names}
    for c in conc[1:]:
        for r in range(reps):
            for n in names:
                q = quiet.check(f"c={c} rep {r + 1} {n}")
                x = wrk(urls[n], bodies[n], c, sw_secs)
                x["quiet"] = q
                sweep[n].setdefault(c, []).append(x)
                log(f"c={c} rep {r + 1} {n}: {x['rps']:.0f} req/s p50 {x['p50']} p99 {x['p99']} errors {x['errors']} "
                    f"cpu {x['cpu_busy_pct']} busy before {q['busy_cores']}")
    R["sweep"] = sweep
    summ = {n: {c: {k: med([x[k] for x in sweep[n][c]]) for k in ("rps", "p50", "p99")} | {
        "errors": sum(x["errors"] for x in sweep[n][c]),
        "cpu": [med([x["cpu_busy_pct"][i] for x in sweep[n][c]]) for i in range(len(sweep[n][c][0]["cpu_busy_pct"]))]}
        for c in conc} for n in names}
    sat_c = {n: max(conc, key=lambda c: summ[n][c]["rps"]) for n in names}
    sat = {n: summ[n][sat_c[n]]["rps"] for n in names}

    # 3. Highest fixed rate with no error and p99 < 10 ms: openloop, bisection below 1.25x the
    #    saturation rate.
    steps, rate_secs = (3, 2) if quick else (6, 3)
    maxrate = {}
    for n in names:
        lo, hi, best, tried = 0.0, 1.25 * sat[n], None, []
        rate = 0.75 * sat[n]
        for _ in range(steps):
            rate = max(50, round(rate))
            q = quiet.check(f"rate {rate} {n}")
            x = openloop(a.openloop, ports[n], bodies[n], rate, rate_secs)
            ok = x["errors"] == 0 and 0 <= x["p99"] < 10000 and x["achieved"] >= 0.99 * rate
            x["ok"], x["quiet"] = ok, q
            tried.append(x)
            log(f"rate {n} {rate}/s: achieved {x['achieved']:.0f} p50 {x['p50']} p99 {x['p99']} errors {x['errors']} "
                f"cpu {x['cpu_busy_pct']} -> {'ok' if ok else 'no'}")
            if ok:
                lo, best = rate, x
            else:
                hi = rate
            rate = (lo + hi) / 2
        maxrate[n] = {"best": best, "tried": tried}
    R["maxrate"] = maxrate

    # 4. Streaming: as a plain client sees it, then with a client that ACKs at once.
    st_req = open(os.path.join(d, "req-stream.json"), "rb").read()
    st_targets = {
        "direct": (a.mock, "/stream/v1/chat/completions", st_req),
        "nginx": (a.proxy, "/stream/v1/chat/completions", st_req),
        "llmhost-openai": (a.serve, "/v1/chat/completions", st_req),
        "llmhost-echo": (a.serve, "/v1/chat/completions", open(os.path.join(d, "req-echo-stream.json"), "rb").read()),
    }
    srounds = 2 if quick else 5
    R["stream"] = stream_bench(st_targets, srounds, 10 if quick else 40, False, quiet)
    R["stream_qa"] = stream_bench(st_targets, srounds, 30 if quick else 200, True, quiet)
    for key in ("stream", "stream_qa"):
        for n, v in R[key].items():
            log(f"{key} {n}: first event p50 {v['ttfc_p50']:.0f} us gap p50 {v['gap_p50']:.1f} us events {v['events']}")
    R["serve_after_rss_kb"], R["serve_after_threads"] = rss_kb(a.serve_pid)
    R["quiet"] = quiet.log
    R["loaded_measurements"] = sum(1 for q in quiet.log if q["loaded"])
    R["max_loadavg"] = max(q["loadavg"][0] for q in quiet.log)
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(R, f, indent=1, default=list)

    # ---- markdown
    out = []
    p = out.append
    p(f"Measured {R['started']}{'; **QUICK mode** (short runs, not for the record)' if quick else ''}; "
      f"load average at start {' '.join(str(x) for x in R['loadavg_start'])}. Before each of the {len(quiet.log)} "
      f"measurements the CPUs were sampled for 0.5 s while our own servers were idle: "
      f"{R['loaded_measurements']} started with other processes still keeping > 0.35 cores busy after waiting "
      f"(waited {quiet.waited:.0f} s in all). Highest 1-min load average seen: {R['max_loadavg']:.2f} "
      f"(it includes our own runs, which keep both cores busy).")
    p("")
    p(f"**Latency at c=1** (wrk -t1 -c1, {rounds} rounds x {c1_secs} s, the targets interleaved in each round; "
      "medians over rounds; added = median over rounds of (target - direct) in the same round):")
    p("")
    p("| target | p50 µs | p99 µs | req/s | added p50 µs | added p99 µs |")
    p("|---|---:|---:|---:|---:|---:|")
    for n in names:
        p(f"| {n} | {fmt(med([x['p50'] for x in lat[n]]))} | {fmt(med([x['p99'] for x in lat[n]]))} | "
          f"{fmt(med([x['rps'] for x in lat[n]]))} | {'—' if n == 'direct' else fmt(added(n, 'p50'))} | "
          f"{'—' if n == 'direct' else fmt(added(n, 'p99'))} |")
    p("")
    p(f"**Concurrency sweep** (wrk -t1 -cN, {reps} repetition(s) x {sw_secs} s per cell, targets interleaved; "
      "medians; errors summed over repetitions; c=1 from the rounds above; peak = the c with the most req/s, "
      "CPU = busy % of CPU0 (gateway) / CPU1 (mock + wrk) during that run):")
    p("")
    p("| target | " + " | ".join(f"c={c} req/s | p50 µs | p99 µs" for c in conc) + " | errors | peak at | CPU0/CPU1 at peak |")
    p("|---|" + "---:|---:|---:|" * len(conc) + "---:|---:|---:|")
    for n in names:
        cells = " | ".join(f"{fmt(summ[n][c]['rps'])} | {fmt(summ[n][c]['p50'])} | {fmt(summ[n][c]['p99'])}" for c in conc)
        cpu = summ[n][sat_c[n]]["cpu"]
        p(f"| {n} | {cells} | {sum(summ[n][c]['errors'] for c in conc)} | c={sat_c[n]} | {'/'.join(f'{x:.0f}%' for x in cpu[:2])} |")
    p("")
    verdicts = []
    for n in gateways:
        c0, c1 = (summ[n][sat_c[n]]["cpu"] + [0, 0])[:2]
        ratio_n = sat["direct"] / sat[n]
        if ratio_n >= 3:
            v = "the mock is not the limit"
        elif c1 < 70:
            v = f"CPU1 (mock + wrk) had room ({c1:.0f}% busy) while CPU0 was {c0:.0f}%: the gateway is the limit"
        else:
            v = (f"**CPU1 (mock + wrk) was {c1:.0f}% busy too: the mock/load core shares the limit, so this peak "
                 "is a lower bound of the gateway's capacity**")
        verdicts.append(f"{n} {ratio_n:.1f}x ({v})")
    p(f"Mock headroom (direct peak {fmt(sat['direct'])} req/s over each gateway's peak, asked: >= 3x): " + "; ".join(verdicts) + ".")
    p("")
    p(f"**Highest fixed rate with zero errors and p99 < 10 ms** (openloop: requests due evenly spaced, latency from "
      f"the due time, up to 1,000 keep-alive connections; {steps} bisection steps of 1 s warm-up + {rate_secs} s "
      "below 1.25x the target's saturation rate; achieved rate must be >= 99% of the asked one):")
    p("")
    p("| target | rate req/s | p50 µs | p90 µs | p99 µs | of its saturation req/s | first failing rate tried | CPU0/CPU1 |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in names:
        b = maxrate[n]["best"]
        fails = [x["rate"] for x in maxrate[n]["tried"] if not x["ok"]]
        fail_s = fmt(min(fails)) if fails else "—"
        if b:
            cpu = "/".join(f"{x}%" for x in b["cpu_busy_pct"][:2])
            p(f"| {n} | {fmt(b['rate'])} | {fmt(b['p50'])} | {fmt(b['p90'])} | {fmt(b['p99'])} | {100 * b['rate'] / sat[n]:.0f}% | {fail_s} | {cpu} |")
        else:
            p(f"| {n} | none passed | | | | | {fail_s} | |")
    p("")
    for key, title in (("stream", f"**Streaming, plain client** ({srounds} rounds x {10 if quick else 40} streamed requests per target"),
                       ("stream_qa", f"**Streaming, client that ACKs at once** (TCP_QUICKACK after every read; {srounds} rounds x "
                                     f"{30 if quick else 200} requests per target")):
        s_ = R[key]
        p(title + ", one keep-alive connection each, targets interleaved; first event = time from sending the request "
          "to the first complete SSE event; gap = mean time between events within a response; medians and p99 over "
          "requests. The mock sends its whole SSE body at once, so a gateway's gap is its own per-chunk cost):")
        p("")
        p("| target | events | first event p50 µs | p99 µs | gap p50 µs | gap p99 µs | added first event p50 µs | added gap p50 µs |")
        p("|---|---:|---:|---:|---:|---:|---:|---:|")
        for n in s_:
            v = s_[n]
            p(f"| {n} | {','.join(map(str, v['events']))} | {fmt(v['ttfc_p50'])} | {fmt(v['ttfc_p99'])} | {fmt(v['gap_p50'], 1)} | "
              f"{fmt(v['gap_p99'], 1)} | {'—' if n == 'direct' else fmt(v['ttfc_p50'] - s_['direct']['ttfc_p50'])} | "
              f"{'—' if n == 'direct' else fmt(v['gap_p50'] - s_['direct']['gap_p50'], 1)} |")
        p("")
    p(f"llmhost serve RSS: {R['serve_idle_rss_kb'] / 1024:.1f} MiB idle at start ({R['serve_idle_threads']} threads), "
      f"{R['serve_after_rss_kb'] / 1024:.1f} MiB after the runs above.")
    p("")
    a1 = added("llmhost-openai", "p50")
    ratio = sat["llmhost-openai"] / sat["nginx"]
    p("**Targets**")
    p("")
    p("| target | measured | |")
    p("|---|---|---|")
    hop = added("nginx", "p50")
    p(f"| llmhost-openai adds < 50 µs p50 at c=1 | {fmt(a1)} µs | {'met' if a1 < 50 else f'**missed** by {fmt(a1 - 50)} µs ({a1 / 50:.1f}x the budget)'} |")
    p(f"| llmhost-openai's added p50 at c=1 <= 1.5x nginx's own hop | {fmt(a1)} vs {fmt(hop)} µs = {a1 / hop:.2f}x | "
      f"{'met' if a1 <= 1.5 * hop else '**missed**'} |")
    p(f"| llmhost-openai >= 80% of nginx proxy_pass req/s at saturation | {fmt(sat['llmhost-openai'])} vs {fmt(sat['nginx'])} req/s = {100 * ratio:.0f}% | "
      f"{'met' if ratio >= 0.8 else f'**missed**: needs {0.8 / ratio:.1f}x the throughput'} |")
    a1t = med([lat["llmhost-openai-tls"][i]["p50"] - lat["nginx-tls"][i]["p50"] for i in range(rounds)])
    ratio_t = sat["llmhost-openai-tls"] / sat["nginx-tls"]
    p(f"| the same over TLS to the upstream: >= 80% of nginx's req/s | {fmt(sat['llmhost-openai-tls'])} vs {fmt(sat['nginx-tls'])} req/s = {100 * ratio_t:.0f}% | "
      f"{'met' if ratio_t >= 0.8 else f'**missed**: needs {0.8 / ratio_t:.1f}x the throughput'} |")
    p(f"| over TLS, llmhost-openai-tls's p50 at c=1 minus nginx-tls's | {fmt(a1t)} µs | |")
    md = "\n".join(out)
    with open(os.path.join(d, "results.md"), "w") as f:
        f.write(md + "\n")
    print(md)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def cost(a):
    """CPU time of the gateway process per request (utime + stime over a wrk run divided by the
    requests), for quick before/after comparisons: unlike wall-clock latency it hardly moves
    when other jobs share the machine. One line per (target, concurrency), median of reps."""
    u = f"http://127.0.0.1:{a.serve}/v1/chat/completions"
    targets = [(n, os.path.join(a.dir, b)) for n, b in (("openai", "req.json"), ("echo", "req-echo.json"),
                                                        ("openai-stream", "req-stream.json"))]
    print("| target | c | CPU µs per request | req/s | p50 µs | p99 µs |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, body in targets:
        for c in a.conns:
            rows = []
            for _ in range(a.reps):
                t0 = cpu_seconds(a.pid)
                r = wrk(u, body, c, a.secs)
                rows.append((1e6 * (cpu_seconds(a.pid) - t0) / max(1, r["requests"]), r["rps"], r["p50"], r["p99"]))
            print(f"| {name} | {c} | " + " | ".join(fmt(med([row[i] for row in rows]), 1 if i == 0 else 0)
                                                  for i in range(4)) + " |", flush=True)


def count(a):
    """Syscalls, context switches and (with uprobes on the allocator's entry points, --malloc)
    allocations per request of one process, over a wrk -c1 run."""
    allocs = a.malloc.split(",") if a.malloc else []
    events = ["raw_syscalls:sys_enter", "context-switches"] + allocs
    out = os.path.join(a.dir, f"count-{a.name}.txt")
    perf = subprocess.Popen(["perf", "stat", "-e", ",".join(events), "-p", str(a.pid), "-o", out, "--",
                             "sleep", str(a.secs + 1)])
    time.sleep(0.4)
    r = wrk(a.url, a.body, 1, a.secs)
    perf.wait()
    text = open(out).read()

    def get(name):
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] == name:
                return int(parts[0].replace(",", "")) / r["requests"]
        return float("nan")

    print(f"| {a.name} | {get('raw_syscalls:sys_enter'):.1f} | {get('context-switches'):.1f} | "
          f"{sum(get(e) for e in allocs) if allocs else float('nan'):.1f} | "
          f"{r['requests'] / (r['duration_us'] / 1e6):,.0f} |")


# What each kind of hold opens, and its target: (streams, MB of RSS in all).
HOLD_TARGETS = {"echo": (1000, 100), "openai": (10000, 300)}


def hold(a):
    if a.kind == "echo":
        words = max(2, round(a.seconds * 1000 / a.delay_ms))
        chat = {**CHAT_REQUEST, "model": "echo/bench", "stream": True, "mock_response": " ".join(["word"] * words)}
        body, ref_body = {**chat, "mock_delay_ms": a.delay_ms}, {**chat, "mock_delay_ms": 0}
        what = (f"SSE streams to echo, {words} events each, one every {a.delay_ms} ms. Each open echo stream holds "
                "one worker thread of llmhost serve for its whole duration (echo is a blocking plugin), so "
                "--workers must be at least the number of concurrent streams")
    else:
        body = {**CHAT_REQUEST, "model": "bench-openai-slow", "stream": True}
        ref_body = {**CHAT_REQUEST, "model": "bench-openai-stream", "stream": True}
        what = (f"SSE streams through the openai provider to the nginx mock, which sends its {len(sse_body())}-byte "
                f"stream at {slow_rate()} bytes/s (`limit_rate`), so each stream lasts about {SLOW_STREAM_S} s. "
                "The openai provider streams asynchronously: an open stream holds no worker thread")
    r = asyncio.run(hold_streams(a.port, compact(ref_body).encode(), compact(body).encode(), a.n, a.pid,
                                 timeout=a.seconds + 120))
    with open(os.path.join(a.dir, f"memory-{a.kind}.json"), "w") as f:
        json.dump(r, f, indent=1)
    per1k = (r["max_rss_kb"] - r["idle_rss_kb"]) / 1024 * 1000 / max(1, r["most_open"])
    mb = r["max_rss_kb"] * 1024 / 1e6
    target_n, target_mb = HOLD_TARGETS[a.kind]
    if r["most_open"] < target_n:
        projected = (r["idle_rss_kb"] / 1024 + per1k * target_n / 1000) * 1024 * 1024 / 1e6
        verdict = (f"not measured at {target_n:,}; at the RSS each open stream added here, {target_n:,} would take "
                   f"{projected:.0f} MB")
    else:
        verdict = "met" if mb < target_mb and r["finished"] == r["n"] else "**missed**"
    md = [
        f"**Memory, {a.kind}** (a second llmhost serve, `{a.serve_args}`, pinned like the first): {a.n:,} {what}. "
        f"RSS = VmRSS, sampled every 0.5 s.",
        "",
        "| streams | open at once | delivered whole | took | idle RSS | max RSS | added per 1,000 open | serve CPU | RSS after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {r['n']:,} | {r['most_open']:,} | {r['finished']:,} | {r['took_s']} s | {r['idle_rss_kb'] / 1024:.1f} MiB | "
        f"{r['max_rss_kb'] / 1024:.1f} MiB | {per1k:.1f} MiB | {100 * r['cpu_cores']:.0f}% of a core | "
        f"{r['after_close_rss_kb'] / 1024:.1f} MiB |",
        "",
        f"Target: {target_n:,} open streams < {target_mb} MB RSS in all, every event delivered: {mb:.1f} MB, "
        f"{r['finished']:,} of {r['n']:,} streams whole ({r['events_each']} events each): {verdict}.",
    ]
    if a.note:
        md += ["", f"Note: {a.note}."]
    if r["errors"]:
        md += ["", f"{r['error_count']} streams failed or came short; the first: " + "; ".join(r["errors"])]
    text = "\n".join(md)
    with open(os.path.join(a.dir, f"memory-{a.kind}.md"), "w") as f:
        f.write(text + "\n")
    print(text)


# Where llmhost serve's CPU goes, from `perf script -F comm,tid,ip,sym,dso` with call graphs:
# each sample goes to the first rule (in this order) that one of its frames matches.
PERF_RULES = [
    ("upstream client: curl_multi_poll (wait for the upstream)", ["curl_multi_poll"]),
    ("upstream client: handle reset/setopt/add/remove", ["curl_easy_reset", "curl_easy_setopt", "curl_multi_add_handle",
                                                        "curl_multi_remove_handle", "http::(anonymous namespace)::configure"]),
    ("upstream client: libcurl transfer (request, response, connection reuse)",
     ["curl_multi_perform", "curl_multi_info_read", "curl_multi_socket_action"]),
    ("upstream client: ours (headers, retries, event loop glue)",
     ["HttpService::perform", "run_transfer", "perform_or_throw", "http::AsyncClient", "http::CurlMultiLoop", "http::HttpCall",
      "http::CallPolicy"]),
    ("openai plugin (body rewrite, answer parse)", ["libopenai", "openai_plugin::"]),
    ("echo plugin", ["libecho"]),
    ("proxy: parse_chat_request", ["parse_chat_request"]),
    ("proxy: write_completion, new_id", ["write_completion", "new_id", "unix_now"]),
    ("host: complete (routing, ABI bridge)", ["Host::complete", "Registry::find", "split_model", "request_body"]),
    ("proxy: Api::chat, rest", ["Api::chat", "Api::handle", "ModelTable"]),
    ("session: write the response (Beast + send)", ["Session::send", "write_msg_op", "write_op<"]),
    ("session: read the request (Beast + recv)", ["Session::read_header", "Session::on_header", "Session::on_body",
                                                 "read_op<", "read_some_op<", "basic_parser"]),
    ("session: dispatch, done, disconnect watch, metrics", ["Session::dispatch", "Session::exchange_done", "watch_disconnect",
                                                           "Metrics", "metrics", "Session::reply"]),
    ("session: accept, close", ["async_accept", "Session::close", "Session::linger", "Session::~Session", "Session::start"]),
    ("worker pool: queue, wake, sleep", ["ThreadPool"]),
    ("I/O threads: epoll, scheduler, wake-ups", ["epoll_wait", "scheduler::run", "scheduler::do_run_one", "epoll_reactor"]),
]


def perf_categories(path):
    counts, total, frames = {}, 0, []

    def flush():
        nonlocal total
        if not frames:
            return
        total += 1
        joined = "\n".join(frames)
        name = next((n for n, pats in PERF_RULES if any(p_ in joined for p_ in pats)), "other")
        counts[name] = counts.get(name, 0) + 1

    with open(path, errors="replace") as f:
        for line in f:
            if not line[:1].isspace():
                flush()
                frames = []
            elif line.strip():
                frames.append(line.strip())
    flush()
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{100 * n / max(1, total):5.1f}%  {name}")
    print(f"({total} samples)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("files")
    f.add_argument("dir")
    f.add_argument("mock", type=int)
    f.add_argument("proxy", type=int)
    f.add_argument("mock_tls", type=int)
    f.add_argument("proxy_tls", type=int)
    m = sub.add_parser("measure")
    for k in ("mock", "proxy", "proxy-tls", "serve", "serve-pid"):
        m.add_argument(f"--{k}", type=int, required=True)
    m.add_argument("--dir", required=True)
    m.add_argument("--openloop", required=True)
    m.add_argument("--quick", action="store_true")
    m.add_argument("--max-wait", type=float, default=240)
    m.add_argument("--wait-each", type=float, default=60)
    h = sub.add_parser("hold")
    h.add_argument("--dir", required=True)
    h.add_argument("--port", type=int, required=True)
    h.add_argument("--pid", type=int, required=True)
    h.add_argument("--kind", choices=sorted(HOLD_TARGETS), required=True)
    h.add_argument("--n", type=int, default=1000)
    h.add_argument("--seconds", type=float, default=30, help="how long an echo stream lasts")
    h.add_argument("--delay-ms", type=int, default=1000, help="echo: between events")
    h.add_argument("--serve-args", default="", help="how that serve was started, for the report")
    h.add_argument("--note", default="", help="said in the report (why fewer streams than the target)")
    ct = sub.add_parser("count")
    for k in ("dir", "name", "url", "body"):
        ct.add_argument(f"--{k}", required=True)
    ct.add_argument("--pid", type=int, required=True)
    ct.add_argument("--secs", type=int, default=3)
    ct.add_argument("--malloc", help="comma-separated uprobe events that count allocations")
    co = sub.add_parser("cost")
    co.add_argument("--dir", required=True)
    co.add_argument("--serve", type=int, required=True)
    co.add_argument("--pid", type=int, required=True)
    co.add_argument("--secs", type=int, default=3)
    co.add_argument("--reps", type=int, default=3)
    co.add_argument("--conns", type=int, nargs="+", default=[1, 64])
    pc = sub.add_parser("perf-categories")
    pc.add_argument("file")
    w = sub.add_parser("wrk")
    w.add_argument("url")
    w.add_argument("body")
    w.add_argument("conns", type=int)
    w.add_argument("secs", type=int)
    a = ap.parse_args()
    if a.cmd == "files":
        write_files(a.dir, a.mock, a.proxy, a.mock_tls, a.proxy_tls)
    elif a.cmd == "measure":
        measure(a)
    elif a.cmd == "hold":
        hold(a)
    elif a.cmd == "count":
        count(a)
    elif a.cmd == "cost":
        cost(a)
    elif a.cmd == "perf-categories":
        perf_categories(a.file)
    else:
        print(json.dumps(wrk(a.url, a.body, a.conns, a.secs)))


if __name__ == "__main__":
    main()
