"""Load benchmark of the track server (loopback only, bounded in time).

Starts ``shallowchrome serve WORKSPACE`` (waitress) on a free 127.0.0.1 port
in a subprocess, then runs N concurrent keep-alive clients (default 50) for a
fixed time (default 30 s): with ``wrk`` (C, Debian package ``wrk``) when it is
installed, so the load generator takes little of the 2 cores the server runs
on, else with Python clients (2 processes of threads). Each request is, at
random (seeded), either
``GET /api/genes/<gene>`` for a random gene of the workspace, or a bigBed
HTTP Range request of 4-64 KiB at a random offset of a prediction track (what
igv.js and UCSC send). Reports throughput, p50/p90/p99/max latency per kind
and the number of failures (non-2xx or wrong length). Target: p99 under
100 ms with zero failures on the 2-core machine. Nothing is asserted.

    python benchmarks/bench_server.py WORKSPACE [--clients 50] [--seconds 30] [--client wrk|python]

With wrk, three runs are made (mixed, API only, Range only) for per-kind
figures; wrk counts socket errors and non-2xx responses as failures.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_process(port, genes, tracks, n_threads, seconds, seed, queue):
    results = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(k):
        rng = random.Random(seed * 1000 + k)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local = []
        while time.perf_counter() < stop_at:
            if rng.random() < 0.5:
                kind, path, headers = "api", f"/api/genes/{rng.choice(genes)}", {}
                want = None
            else:
                track, size = rng.choice(tracks)
                length = rng.randint(4096, 65536)
                start = rng.randrange(0, max(1, size - length))
                kind, path, headers = "range", track, {"Range": f"bytes={start}-{start + length - 1}"}
                want = min(length, size - start)
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                ok = resp.status in (200, 206) and (want is None or (resp.status == 206 and len(body) == want))
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            local.append((kind, time.perf_counter() - t0, ok))
        conn.close()
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(results)


WRK_SCRIPT = """
local genes = {%(genes)s}
local tracks = {%(tracks)s}
local mode = "%(mode)s"
math.randomseed(%(seed)d)
request = function()
  if mode == "api" or (mode == "mixed" and math.random() < 0.5) then
    return wrk.format("GET", "/api/genes/" .. genes[math.random(#genes)])
  end
  local t = tracks[math.random(#tracks)]
  local len = math.random(4096, 65536)
  local start = math.random(0, math.max(0, t[2] - len))
  return wrk.format("GET", t[1], {["Range"] = "bytes=" .. start .. "-" .. (start + len - 1)})
end
"""


def run_wrk(port, genes, tracks, clients, seconds, mode) -> dict:
    """One wrk run; returns requests, req/s, latency percentiles (ms) and failures."""
    script = WRK_SCRIPT % {"genes": ",".join(f'"{g}"' for g in genes),
                           "tracks": ",".join(f'{{"{p}", {n}}}' for p, n in tracks), "mode": mode, "seed": 42}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{int(seconds)}s", "--latency",
                              "-s", fh.name, f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                             check=True).stdout
    finally:
        os.unlink(fh.name)

    def ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    m = re.search(r"Latency\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)", out)
    mx = float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)]
    return {"requests": requests, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": ms(50), "p90": ms(90), "p99": ms(99), "max": mx, "failed": errors + non2xx}


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--processes", type=int, default=2, help="client processes sharing the clients")
    ap.add_argument("--threads", type=int, default=8, help="server worker threads")
    ap.add_argument("--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                    help="load generator (default: wrk when installed)")
    args = ap.parse_args()
    ws = args.workspace.resolve()
    info = json.loads((ws / "workspace.json").read_text())
    eps = [e for e, d in info["epigenomes"].items() if d["status"] == "ok"]
    genome = info.get("genome", "hg19")
    tracks = [(f"/hub/{genome}/{e}/predictions.bb", (ws / "hub" / genome / e / "predictions.bb").stat().st_size)
              for e in eps if (ws / "hub" / genome / e / "predictions.bb").is_file()]
    if not tracks:
        sys.exit(f"{ws}: no hub/{genome}/EID/predictions.bb; run `shallowchrome tracks {ws}` first")
    genes = [line.split("\t")[0] for line in (ws / "genes.tsv").read_text().splitlines()[1:]]

    port = free_port()
    exe = Path(sys.executable).parent / "shallowchrome"
    log_file = tempfile.TemporaryFile("w+")  # never a pipe: an unread pipe fills up and blocks the server
    server = subprocess.Popen([str(exe), "serve", str(ws), "--port", str(port), "--threads", str(args.threads)],
                              stdout=log_file, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None:
                    log_file.seek(0)
                    sys.exit("server exited:\n" + log_file.read())
                time.sleep(0.2)
        if args.client == "wrk":
            rows = {kind: run_wrk(port, genes, tracks, args.clients, args.seconds, kind)
                    for kind in ("mixed", "api", "range")}
        else:
            rows = python_clients(port, genes, tracks, args)
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"workspace {ws}: {len(eps)} epigenomes, {len(genes)} genes; {args.clients} clients ({args.client}), "
          f"{args.seconds:.0f} s per run, server threads {args.threads}, cores {os.cpu_count()}")
    print(f"{'kind':8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7}")
    for kind, r in rows.items():
        print(f"{kind:8} {r['requests']:9d} {r['rps']:8.0f} {r['p50']:8.1f} {r['p90']:8.1f} {r['p99']:8.1f} "
              f"{r['max']:8.1f} {r['failed']:7d}")
    first = next(iter(rows.values()))
    print(f"p99 ({next(iter(rows))}) {first['p99']:.1f} ms vs target 100 ms: ratio {first['p99'] / 100:.2f}; "
          f"failures {sum(r['failed'] for r in rows.values())}")


def python_clients(port, genes, tracks, args) -> dict:
    """The fallback load generator: Python threads in client processes (they share the server's cores)."""
    queue = mp.Queue()
    per = [args.clients // args.processes + (1 if i < args.clients % args.processes else 0) for i in range(args.processes)]
    procs = [mp.Process(target=client_process, args=(port, genes, tracks, n, args.seconds, i, queue))
             for i, n in enumerate(per)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    rows = {}
    for kind in ("mixed", "api", "range"):
        sel = [r for r in results if kind == "mixed" or r[0] == kind]
        lat = [r[1] * 1000 for r in sel]
        rows[kind] = {"requests": len(sel), "rps": len(sel) / elapsed, "p50": pct(lat, .5), "p90": pct(lat, .9),
                      "p99": pct(lat, .99), "max": max(lat, default=float("nan")),
                      "failed": sum(1 for r in sel if not r[2])}
    return rows


if __name__ == "__main__":
    main()
