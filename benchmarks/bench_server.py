"""Load benchmark of the track server (loopback only, bounded in time).

Starts ``shallowchrome serve WORKSPACE`` (waitress) on a free 127.0.0.1 port
in a subprocess, then runs N concurrent clients (default 50, split over 2
client processes of threads with keep-alive connections) for a fixed time
(default 30 s). Each request is, at random (seeded), either
``GET /api/genes/<gene>`` for a random gene of the workspace, or a bigBed
HTTP Range request of 4-64 KiB at a random offset of a prediction track (what
igv.js and UCSC send). Reports throughput, p50/p90/p99/max latency per kind
and the number of failures (non-2xx or wrong length). Target: p99 under
100 ms with zero failures on the 2-core machine. Nothing is asserted.

    python benchmarks/bench_server.py WORKSPACE [--clients 50] [--seconds 30]
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import subprocess
import sys
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
    server = subprocess.Popen([str(exe), "serve", str(ws), "--port", str(port), "--threads", str(args.threads)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("server exited:\n" + server.stdout.read())
                time.sleep(0.2)
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
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"workspace {ws}: {len(eps)} epigenomes, {len(genes)} genes; {args.clients} clients "
          f"({args.processes} processes), {args.seconds:.0f} s, server threads {args.threads}, cores {os.cpu_count()}")
    print(f"{'kind':8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'failed':>7}")
    for kind in ("api", "range", "all"):
        rows = [r for r in results if kind == "all" or r[0] == kind]
        lat = [r[1] * 1000 for r in rows]
        failed = sum(1 for r in rows if not r[2])
        print(f"{kind:8} {len(rows):9d} {len(rows) / elapsed:8.0f} {pct(lat, .5):8.1f} {pct(lat, .9):8.1f} "
              f"{pct(lat, .99):8.1f} {max(lat, default=float('nan')):8.1f} {failed:7d}")
    p99 = pct([r[1] * 1000 for r in results], .99)
    print(f"p99 {p99:.1f} ms vs target 100 ms: ratio {p99 / 100:.2f}")


if __name__ == "__main__":
    main()
