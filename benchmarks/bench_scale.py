"""Benchmark: many epigenomes, locally and on a Dask cluster, and incremental rebuilds.

Data: the shared REMC inputs (genes, the 56-epigenome RPKM table, the benchmark splits). Only five
epigenomes have peak files in shared/ (E065, E066, E079, E100, E104; H3K4me3 + H3K27me3 narrowPeak), so
a manifest maps the first N epigenome ids of the RPKM table (E003, E004, ...) to those five's peak files
in turn: every epigenome gets its own expression column (its own labels and fits) and real peaks.

What is timed (wall, time.perf_counter, in this process):

1. ``build_workspace`` of N epigenomes (default 8) without tracks: locally with ``jobs`` 1 and 2, then
   on a Dask cluster (``dask scheduler`` + ``dask worker --nthreads 1`` processes on loopback) with 1
   and 2 workers. Each build goes into a new folder (nothing reused). The phases are timed by wrapping
   the build module's ``map_jobs`` (the per-epigenome work, including rendering the epigenome's files,
   which runs in the task) and ``_write`` (writing the workspace); the fastest of ``--repeat`` builds:
   read = everything before the work (inputs, checks, digests). The cluster's workers are warmed up
   first (their first task imports numpy/pandas/scikit-learn, a one-off cost printed separately).
   Per-task time comes from the scheduler's task stream (compute start → stop of each build task on
   its worker), peak memory from each worker's ``resource.getrusage().ru_maxrss``, the size of one
   result from pickling it here.
2. Projection to 127 and 1,000 epigenomes on 8 and 64 workers:
   ``read + ceil(N / W) x per-task time + N x (write + transfer per epigenome)``, where the per-epigenome
   write time is this run's write phase / N and the transfer (result back to the client) is the 2-worker
   cluster's map phase minus ceil(N / 2) x per-task time, over N. The read phase is taken as fixed (it is
   dominated by the expression table and genes; each peak file is also hashed once, ~2 ms per MB).
   Tracks are written by the client (``--jobs`` local processes): their per-epigenome time is printed
   and projected separately. Memory: the client holds every result until it writes (nothing is written
   before everything is fitted), so N x result size; a worker needs its peak RSS.
3. Incremental: ``run_pipeline`` (build + tracks, what ``shallowchrome build`` does) of 8 epigenomes into
   a new folder, then the same 8 + a 9th into the same folder; ratio of the second to the first
   (target <= 0.35), for jobs 1 and 2. Also an unchanged rebuild.

Targets (printed, not asserted): 2 workers >= 1.7x one worker (on the per-epigenome work; the whole
build also has the client's fixed read and write); +1 epigenome <= 35 % of the 8-epigenome build.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import pickle
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from shallowchrome.tracks.workspace import build as build_module
from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace
from shallowchrome.tracks.workspace.pipeline import BuildInputs, Steps, run_pipeline

REPO = Path(__file__).resolve().parent.parent
SOURCES = ["E065", "E066", "E079", "E100", "E104"]
MARKS = ["H3K4me3", "H3K27me3"]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                   help="shared folder holding data/remc (default: <repo root>/../shared)")
    p.add_argument("--epigenomes", type=int, default=8, help="epigenomes per build (default 8)")
    p.add_argument("--repeat", type=int, default=3, help="builds per setting; the fastest is reported (default 3)")
    p.add_argument("--skip-cluster", action="store_true", help="local builds and incremental only")
    return p.parse_args()


# --- inputs ----------------------------------------------------------------------------------------
def make_manifest(remc: Path, folder: Path, n: int) -> tuple[Path, list[str]]:
    """A manifest of ``n`` epigenome ids (RPKM columns) over the five shared epigenomes' peak files."""
    columns = pd.read_csv(remc / "rpkm.56epigenomes.tsv.gz", sep="\t", nrows=0).columns[1:]
    ids = [c for c in columns][:n]
    if len(ids) < n:
        sys.exit(f"the RPKM table has only {len(ids)} epigenomes")
    rows = []
    for i, eid in enumerate(ids):
        src = SOURCES[i % len(SOURCES)]
        for mark in MARKS:
            rows.append({"epigenome": eid, "mark": mark, "path": str(remc / "peaks" / f"{src}-{mark}.narrowPeak.gz")})
    path = folder / f"manifest{n}.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    return path, ids


# --- phase timing ----------------------------------------------------------------------------------
class Phases:
    """Wraps the build module's map_jobs and _write to time the work and the writing (client side)."""

    def __init__(self):
        self.map = self.write = 0.0
        self._map, self._write = build_module.map_jobs, build_module._write

    def __enter__(self):
        def timed_map(*a, **k):
            t = time.perf_counter()
            try:
                return self._map(*a, **k)
            finally:
                self.map += time.perf_counter() - t

        def timed_write(*a, **k):
            t = time.perf_counter()
            try:
                return self._write(*a, **k)
            finally:
                self.write += time.perf_counter() - t

        build_module.map_jobs, build_module._write = timed_map, timed_write
        return self

    def __exit__(self, *exc):
        build_module.map_jobs, build_module._write = self._map, self._write


def timed_build(inputs: dict, out: Path, ids, opts: BuildOptions) -> dict:
    with Phases() as ph:
        t0 = time.perf_counter()
        build_workspace(**inputs, out=out, epigenomes=ids, marks=MARKS, options=opts)
        wall = time.perf_counter() - t0
    return {"wall": wall, "map": ph.map, "write": ph.write, "read": wall - ph.map - ph.write}


def best_run(runs: list[dict]) -> dict:
    """The fastest of the repeats (the least disturbed by other load on the machine)."""
    return min(runs, key=lambda r: r["wall"])


# --- a cluster on loopback -------------------------------------------------------------------------
class Cluster:
    def __init__(self, root: Path):
        self.root, self.procs, self.client = root, [], None
        self.scheduler_file = root / "scheduler.json"

    def _start(self, name, argv):
        with open(self.root / f"{name}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "dask", *argv], stdout=log, stderr=subprocess.STDOUT,
                                    cwd=self.root, start_new_session=True)
        self.procs.append(proc)

    def start(self):
        import distributed

        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.scheduler_file)])
        deadline = time.monotonic() + 60
        while not self.scheduler_file.is_file() or not self.scheduler_file.read_text().strip():
            if time.monotonic() > deadline:
                sys.exit("the Dask scheduler did not start; see " + str(self.root / "scheduler.log"))
            time.sleep(0.05)
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        self.client = distributed.Client(self.address, timeout=30, set_as_default=False)
        self.client.get_task_stream()  # installs the scheduler's task-stream recorder
        return self

    def add_worker(self):
        n = len(self.client.scheduler_info()["workers"]) + 1
        self._start(f"worker{n}", ["worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                   "--name", f"w{n}"])
        self.client.wait_for_workers(n, timeout=60)
        t = time.perf_counter()  # warm up: the imports a first build task would pay
        self.client.run(importlib.import_module, "shallowchrome.tracks.workspace.build")
        return time.perf_counter() - t

    def task_times(self, since: float) -> list[float]:
        times = []
        for rec in self.client.get_task_stream(start=since):
            key = str(rec["key"])
            if key.startswith("shallowchrome-build-") and "-shared-" not in key:
                times += [s["stop"] - s["start"] for s in rec["startstops"] if s["action"] == "compute"]
        return times

    def peak_rss_mb(self) -> dict:
        usage = self.client.run(resource.getrusage, resource.RUSAGE_SELF)
        return {addr: u.ru_maxrss / 1024 for addr, u in usage.items()}

    def stop(self):
        if self.client is not None:
            self.client.close(timeout=5)
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


# --- main --------------------------------------------------------------------------------------------
def main():
    args = parse_args()
    remc = args.shared / "data" / "remc"
    if not (remc / "genes.hg19.tsv").is_file():
        sys.exit(f"shared data folder not found: {remc}\n(give the shared folder with --shared DIR)")
    n = args.epigenomes
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        tmp = Path(tmp)
        manifest, ids = make_manifest(remc, tmp, max(n, 9))
        inputs = {"genes_path": remc / "genes.hg19.tsv", "expression_path": remc / "rpkm.56epigenomes.tsv.gz",
                  "peaks_path": manifest, "splits_path": remc / "splits.tsv.gz"}
        ids_n = ids[:n]
        print(f"bench_scale: {n} epigenomes ({', '.join(ids_n)}) x {', '.join(MARKS)}, the benchmark splits, "
              f"10 splits; peaks of {', '.join(SOURCES)} in turn; {os.cpu_count()} cores")
        print()

        rows = {}
        k = 0
        for jobs in (1, 2):
            runs = []
            for _ in range(args.repeat):
                k += 1
                runs.append(timed_build(inputs, tmp / f"ws{k}", ids_n, BuildOptions(n_splits=10, jobs=jobs)))
            rows[f"local --jobs {jobs}"] = best_run(runs)
        # one task's result size (what a worker sends back and the client keeps until it writes)
        from shallowchrome.tracks.io.manifest import read_peaks_manifest

        man = read_peaks_manifest(manifest)
        one = man[man["epigenome"] == ids_n[0]].to_dict("records")
        result_mb = _result_size_mb(inputs, ids_n[0], one)

        cluster_stats = {}
        warm = {}
        if not args.skip_cluster:
            try:
                import distributed  # noqa: F401
            except ImportError:
                print("(distributed is not installed: pip install 'shallowchrome[dask]'; cluster rows skipped)")
                args.skip_cluster = True
        if not args.skip_cluster:
            cluster = Cluster(tmp)  # its scheduler file and logs go into tmp
            try:
                cluster.start()
                for workers in (1, 2):
                    warm[workers] = cluster.add_worker()
                    runs, task_times = [], []
                    for _ in range(args.repeat):
                        k += 1
                        since = time.time()
                        runs.append(timed_build(inputs, tmp / f"ws{k}", ids_n,
                                                BuildOptions(n_splits=10, scheduler=cluster.address)))
                        task_times += cluster.task_times(since)
                    rows[f"Dask, {workers} worker{'s' if workers > 1 else ''}"] = best_run(runs)
                    cluster_stats[workers] = {"tasks": task_times, "rss": cluster.peak_rss_mb()}
            finally:
                cluster.stop()

        print(f"{'build of ' + str(n):<20}{'wall s':>8}{'read s':>8}{'work s':>8}{'write s':>8}{'vs jobs 1':>11}"
              f"{'work vs 1':>11}")
        base = rows["local --jobs 1"]
        for name, r in rows.items():
            print(f"{name:<20}{r['wall']:>8.2f}{r['read']:>8.2f}{r['map']:>8.2f}{r['write']:>8.2f}"
                  f"{base['wall'] / r['wall']:>10.2f}x{base['map'] / r['map']:>10.2f}x")
        print("(work = the per-epigenome tasks: reading the peaks, features, 10 splits x configurations, predictions)")
        print()

        t_task = t_transfer = None
        if cluster_stats:
            one_w, two_w = rows["Dask, 1 worker"], rows["Dask, 2 workers"]
            print(f"Dask 2 workers vs 1 worker: whole build {one_w['wall'] / two_w['wall']:.2f}x, "
                  f"per-epigenome work {one_w['map'] / two_w['map']:.2f}x (target >= 1.7x)")
            tasks = cluster_stats[1]["tasks"] + cluster_stats[2]["tasks"]
            t_task = statistics.median(tasks)
            print(f"per-epigenome task on a worker: median {t_task:.2f} s (min {min(tasks):.2f}, max {max(tasks):.2f}, "
                  f"{len(tasks)} tasks); a worker's first task also imports the stack: {max(warm.values()):.2f} s")
            rss = [v for s in cluster_stats.values() for v in s["rss"].values()]
            print(f"worker peak RSS: {max(rss):.0f} MiB (max over workers; the process's high-water mark)")
            two_tasks = cluster_stats[2]["tasks"]
            ideal = math.ceil(n / 2) * statistics.median(two_tasks)
            t_transfer = max(0.0, (two_w["map"] - ideal) / n)
        else:
            t_task = base["map"] / n
        print(f"one task result (pickled): {result_mb:.2f} MB; client write per epigenome: {base['write'] / n:.3f} s; "
              f"client read (fixed): {base['read']:.2f} s")
        print()

        # tracks (client side, local processes) and incremental builds: build + tracks as the CLI does
        inc = {}
        for jobs in (1, 2):
            out = tmp / f"inc{jobs}"
            t0 = time.perf_counter()
            run_pipeline(BuildInputs(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", manifest,
                                     splits=remc / "splits.tsv.gz", epigenomes=ids[:8], marks=MARKS), out,
                         BuildOptions(n_splits=10, jobs=jobs), Steps(tracks=True))
            t8 = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_pipeline(BuildInputs(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", manifest,
                                     splits=remc / "splits.tsv.gz", epigenomes=ids[:9], marks=MARKS), out,
                         BuildOptions(n_splits=10, jobs=jobs), Steps(tracks=True))
            t9 = time.perf_counter() - t0
            t0 = time.perf_counter()
            run_pipeline(BuildInputs(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", manifest,
                                     splits=remc / "splits.tsv.gz", epigenomes=ids[:9], marks=MARKS), out,
                         BuildOptions(n_splits=10, jobs=jobs), Steps(tracks=True))
            t_same = time.perf_counter() - t0
            t0 = time.perf_counter()
            from shallowchrome.tracks.hub.write import write_tracks

            write_tracks(out, jobs=jobs, force=True)
            t_tracks = time.perf_counter() - t0
            inc[jobs] = (t8, t9, t_same, t_tracks)
        print("incremental (build + tracks, as `shallowchrome build`):")
        print(f"{'jobs':>4}{'8 new s':>9}{'+1 s':>8}{'+1 / 8':>9}{'unchanged s':>13}{'tracks of 9 s':>15}")
        for jobs, (t8, t9, t_same, t_tracks) in inc.items():
            print(f"{jobs:>4}{t8:>9.2f}{t9:>8.2f}{t9 / t8:>8.0%} {t_same:>12.2f}{t_tracks:>15.2f}")
        print("(target: +1 <= 35 % of the 8-epigenome build; `tracks of 9` rewrites every epigenome's tracks)")
        t_tracks_each = inc[1][3] / 9
        print()

        print("projection: read + ceil(N/W) x task + N x (write + transfer); tracks on the client separately")
        write_each = base["write"] / n
        transfer = t_transfer or 0.0
        print(f"  task {t_task:.2f} s, write {write_each:.3f} s, transfer {transfer:.3f} s per epigenome, "
              f"read {base['read']:.1f} s; tracks {t_tracks_each:.2f} s per epigenome (1 process)")
        print(f"{'N':>6}{'W':>5}{'build min':>11}{'+ tracks min (2 procs)':>24}{'client memory GB':>18}")
        for total in (127, 1000):
            for workers in (8, 64):
                wall = base["read"] + math.ceil(total / workers) * t_task + total * (write_each + transfer)
                tracks = total * t_tracks_each / 2
                print(f"{total:>6}{workers:>5}{wall / 60:>11.1f}{tracks / 60:>24.1f}{total * result_mb / 1024:>18.1f}")
        print("(an estimate: workers as fast as this machine's cores, a shared filesystem as fast as this disk,"
              " and a client that keeps up with the results)")
    return 0


def _result_size_mb(inputs, eid, files) -> float:
    """Run one epigenome's task here and pickle what it returns: what a worker sends back (its files rendered
    and compressed) and the client keeps until it writes."""
    from shallowchrome.tracks.io.expression import epigenome_rpkm, read_expression
    from shallowchrome.tracks.io.genes import read_genes
    from shallowchrome.tracks.io.splits import read_splits

    genes = read_genes(inputs["genes_path"])
    rpkm = epigenome_rpkm(read_expression(inputs["expression_path"]), eid, genes["gene_id"])
    splits = read_splits(inputs["splits_path"], genes["gene_id"])
    extra = {"tissue": "", "window": 5000, "peak_files": files}
    res = build_module._fit_task((eid, files, rpkm, extra), genes, splits, BuildOptions(n_splits=10), MARKS)
    return len(pickle.dumps(res, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6


if __name__ == "__main__":
    sys.exit(main())
