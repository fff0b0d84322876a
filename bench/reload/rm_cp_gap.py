#!/usr/bin/env python3
"""How long a plugin file is absent when a shell script replaces it with `rm` then `cp`.

The removal grace (docs/hot-reload.md, general_settings.plugin_removal_grace) must cover this
gap. Watches a scratch folder with inotify (through ctypes: no extra package) and times, for
each of N runs of `sh -c 'rm f && cp build f'`, the time from the file's IN_DELETE to its
IN_CREATE.

    bench/reload/rm_cp_gap.py [BUILD_FILE] [RUNS]    # default: /bin/ls, 200
"""
import ctypes
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time

IN_CREATE, IN_DELETE = 0x100, 0x200

libc = ctypes.CDLL("libc.so.6", use_errno=True)
build = sys.argv[1] if len(sys.argv) > 1 else "/bin/ls"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200

with tempfile.TemporaryDirectory() as d:
    target = os.path.join(d, "libx.so")
    subprocess.run(["cp", build, target], check=True)
    fd = libc.inotify_init()
    if fd < 0 or libc.inotify_add_watch(fd, d.encode(), IN_CREATE | IN_DELETE) < 0:
        sys.exit("inotify: " + os.strerror(ctypes.get_errno()))
    # A thread blocked on the inotify fd stamps each event as it comes; the shell runs meanwhile.
    events = []

    def read_events():
        while True:
            buf = os.read(fd, 4096)
            now = time.monotonic()
            off = 0
            while off < len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, off)
                off += 16 + length
                events.append((mask, now))

    threading.Thread(target=read_events, daemon=True).start()
    gaps = []
    for _ in range(runs):
        events.clear()
        subprocess.run(["sh", "-c", f"rm '{target}' && cp '{build}' '{target}'"], check=True)
        while not any(m & IN_CREATE for m, _ in events):
            time.sleep(0.001)
        deleted = next(t for m, t in events if m & IN_DELETE)
        created = next(t for m, t in events if m & IN_CREATE)
        gaps.append(created - deleted)
    gaps.sort()
    ms = lambda s: f"{s * 1000:.2f} ms"
    print(f"rm + cp of {os.path.getsize(build)} bytes, {runs} runs: file absent median {ms(gaps[len(gaps) // 2])}, "
          f"p99 {ms(gaps[int(len(gaps) * 0.99)])}, max {ms(gaps[-1])}")
