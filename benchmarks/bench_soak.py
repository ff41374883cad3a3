"""Soak benchmark of the track server as a public service (loopback only, bounded: at most 2 minutes).

Starts ``shallowchrome serve WORKSPACE`` (waitress, the product's defaults) on a free 127.0.0.1 port in a
subprocess, opens 150 idle connections and keeps them open, then runs 50 keep-alive client threads for
``--seconds`` (default 90) mixing, at random (seeded): ``GET /api/genes/<gene>`` (40 %), a bigBed HTTP
Range request of 4-64 KiB (40 %), and ``GET /reports/<gene>`` of a gene not asked before (20 %, each one
a page the server has to make). A 503 answer carries Retry-After: the client waits that long and asks
again, as the page's own refresh does (counted as "deferred", not failed; "unfinished" when the run
ended before the retry). Every second a fresh client
opens a new connection and asks ``/health``; its latency is the "fresh client" figure. The server's RSS
is sampled every second from /proc.

Reports: requests and failures (errors, timeouts, non-2xx other than deferred 503) per kind, p50/p99
latency, the fresh-client p50/max, and the server's RSS after warm-up (first 20 s) vs at the end.
Targets (issue: a server you can put on the internet): 0 failures, fresh clients within 1 s, RSS flat
within 100 MB after warm-up. Nothing is asserted.

    python benchmarks/bench_soak.py [WORKSPACE] [--seconds 90]   # default: builds the embedded demo
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(ws: Path):
    proc = subprocess.Popen([sys.executable, "-c", "from shallowchrome.server.cli import main; main()", "serve",
                             str(ws), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        m = re.search(r"home:\s+http://([^/:]+):(\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # drain the log
            return proc, m.group(1), int(m.group(2))
    raise SystemExit("the server did not start")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workspace", nargs="?", type=Path, help="a built workspace with tracks (default: build the demo)")
    p.add_argument("--seconds", type=float, default=90.0, help="length of the load (default 90, at most 110)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--idle", type=int, default=150)
    args = p.parse_args()
    seconds = min(args.seconds, 110.0)
    ws = args.workspace
    if ws is None:
        from shallowchrome.tracks.workspace.demo import build_demo

        ws = Path(tempfile.mkdtemp(prefix="soak-")) / "ws"
        print("building the demo workspace (not timed) ...", flush=True)
        build_demo(ws, jobs=2, reports=False)
    from shallowchrome.tracks.workspace.layout import Workspace

    w = Workspace.open(ws)
    genes = w.genes()
    symbols = [s or g for s, g in zip(genes["symbol"], genes["gene_id"])]
    manifest = w.hub_manifest() or {}
    tracks = [(t["path"], (w.hub_dir / t["path"]).stat().st_size) for t in manifest.get("tracks", [])
              if t["kind"] == "predictions"]
    proc, host, port = start_server(ws)
    idle = [socket.create_connection((host, port)) for _ in range(args.idle)]
    report_genes = iter(random.Random(7).sample(symbols, len(symbols)))
    gene_lock = threading.Lock()
    stats: dict = {k: {"ok": 0, "failed": 0, "deferred": 0, "unfinished": 0, "lat": []} for k in ("api", "range", "report")}
    stats_lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    errors: list = []

    def client(k: int) -> None:
        rng = random.Random(k)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while time.perf_counter() < stop_at:
            r = rng.random()
            headers = {}
            if r < 0.4:
                kind, path = "api", f"/api/genes/{rng.choice(genes['gene_id'])}"
            elif r < 0.8:
                kind = "range"
                track, size = rng.choice(tracks)
                start = rng.randrange(0, max(1, size - 65536))
                path, headers = f"/hub/{track}", {"Range": f"bytes={start}-{start + rng.randint(4096, 65536) - 1}"}
            else:
                kind = "report"
                with gene_lock:
                    path = f"/reports/{next(report_genes)}"
            while True:
                t0 = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    status, retry = resp.status, resp.getheader("Retry-After")
                except Exception as exc:  # noqa: BLE001 - counted and shown
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                    with stats_lock:
                        stats[kind]["failed"] += 1
                        errors.append(f"{kind} {path}: {exc!r}")
                    break
                elapsed = time.perf_counter() - t0
                if status == 503 and retry:
                    with stats_lock:
                        stats[kind]["deferred"] += 1
                    if time.perf_counter() >= stop_at:  # asked to come back after the end of the run
                        stats[kind]["unfinished"] += 1
                        break
                    time.sleep(float(retry))
                    continue
                with stats_lock:
                    good = status in (200, 206) or (kind == "report" and status == 409)  # 409: no leak-free model
                    stats[kind]["ok" if good else "failed"] += 1
                    stats[kind]["lat"].append(elapsed)
                    if not good:
                        errors.append(f"{kind} {path}: HTTP {status}")
                break
        conn.close()

    fresh, rss = [], []

    def monitor() -> None:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                c = http.client.HTTPConnection(host, port, timeout=10)
                c.request("GET", "/health")
                c.getresponse().read()
                c.close()
                fresh.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001
                fresh.append(float("inf"))
                errors.append(f"fresh client: {exc!r}")
            rss.append((time.perf_counter(), rss_mib(proc.pid)))
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    threads.append(threading.Thread(target=monitor))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in idle:
        s.close()
    proc.terminate()
    proc.wait(timeout=10)

    print(f"soak: {args.clients} clients + {args.idle} idle connections for {seconds:.0f} s on {ws} "
          f"({len(w.epigenomes())} epigenomes, {len(genes)} genes)")
    print(f"{'kind':8} {'ok':>7} {'failed':>7} {'deferred':>9} {'unfinished':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for kind, s in stats.items():
        lat = sorted(s["lat"]) or [float("nan")]
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        print(f"{kind:8} {s['ok']:7d} {s['failed']:7d} {s['deferred']:9d} {s['unfinished']:10d} "
              f"{1e3 * statistics.median(lat):8.1f} "
              f"{1e3 * p99:8.1f}")
    finite = [f for f in fresh if f != float("inf")]
    print(f"fresh clients: {len(fresh)}, p50 {1e3 * statistics.median(finite):.1f} ms, max "
          f"{1e3 * max(fresh):.1f} ms (target < 1000 ms)")
    warm = [m for t, m in rss if t - started >= 20] or [m for _, m in rss]
    print(f"server RSS: {warm[0]:.0f} MiB after warm-up, {warm[-1]:.0f} MiB at the end, max {max(warm):.0f} MiB "
          f"(growth {warm[-1] - warm[0]:+.0f} MiB; target within 100 MB)")
    print(f"failures: {sum(s['failed'] for s in stats.values())}")
    for e in errors[:10]:
        print("  ", e)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "lat"} for k, v in stats.items()}))


if __name__ == "__main__":
    main()
