"""Benchmark: ``shallowchrome tracks`` on the shared REMC benchmark (19,802 genes x 5 epigenomes).

What is timed: ``write_tracks`` (in-process, wall time with time.perf_counter)
on a workspace of the five shared epigenomes E065, E066, E079, E100, E104 x
two marks (H3K4me3, H3K27me3): reading the workspace, per epigenome the
predictions bigBed and its correct/wrong twin (sorted, definedFieldCount
patched, name + gene_id indexes, re-opened and verified), the BED + bgzip +
tabix copy, 2 marks x (contribution, feature) bigWigs (verified), then the
hub text, description pages and sessions. Run with --jobs 1 and --jobs 2.
CLI equivalent: ``shallowchrome tracks WS [--jobs 2]``.

The workspace is built first (not timed; ``build --no-tracks``), or given
with --workspace. Target: under 10 s wall on this 2-core machine; the ratio
to the target is printed, not asserted. Baseline, measured in the same run:
the bare writer calls on the same items (pybigtools, the bigBed writer used before
bbiwrite, for the two bigBeds,
pyBigWig for the four bigWigs per epigenome) with no sorting, patching,
indexing, verification, tabix or hub, i.e. the floor our extra work sits on.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shallowchrome.tracks.hub import write as tracks_mod
from shallowchrome.tracks.hub.items import rest_strings
from shallowchrome.tracks.hub.territories import nearest_tss_territories
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace
from shallowchrome.tracks.workspace.layout import Workspace

REPO = Path(__file__).resolve().parent.parent
EPIGENOMES = ["E065", "E066", "E079", "E100", "E104"]
MARKS = ["H3K4me3", "H3K27me3"]
TARGET_S = 10.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                   help="shared folder holding data/remc (default: <repo root>/../shared)")
    p.add_argument("--workspace", type=Path, help="reuse a built workspace instead of building one")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default: 1 2)")
    p.add_argument("--repeat", type=int, default=3, help="runs per --jobs value; the median is reported (default 3)")
    return p.parse_args()


def build(shared: Path, out: Path) -> Workspace:
    remc = shared / "data" / "remc"
    if not remc.is_dir():
        sys.exit(f"shared data folder not found: {remc}\n(give the shared folder with --shared DIR)")
    return build_workspace(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", remc / "peaks", out,
                           epigenomes=EPIGENOMES, marks=MARKS, splits_path=remc / "splits.tsv.gz",
                           options=BuildOptions(n_splits=10, jobs=2))


def bare_writers(ws: Workspace, tmp: Path) -> float:
    """The floor: the writer libraries alone on the same items (items prepared before the clock starts)."""
    import pybigtools
    import pyBigWig

    sizes = load_chrom_sizes("hg19")
    window = int(ws.info["parameters"]["window"])
    genes = ws.genes()
    terr = nearest_tss_territories(genes["chrom"], genes["tss"], genes["gene_id"], window, sizes.sizes)
    plans = [tracks_mod.plan_epigenome(ws, e, genes, sizes, window, terr) for e in ws.epigenomes()]
    jobs = []
    for plan in plans:
        names = plan.autosql.names
        rows = [list(zip(plan.items["chrom"], plan.items["chromStart"].tolist(), plan.items["chromEnd"].tolist(),
                         rest_strings(plan.items, names, rgb))) for rgb in ("reserved", "outcome_rgb")]
        jobs.append((plan, rows))
    chroms = dict(sizes.sorted_items())
    t0 = time.perf_counter()
    for plan, rows in jobs:
        for k, r in enumerate(rows):
            pybigtools.open(str(tmp / f"{plan.eid}.{k}.bb"), "w").write(chroms, iter(r), autosql=plan.autosql.text())
        for k, values in enumerate(plan.wig_values.values()):
            bw = pyBigWig.open(str(tmp / f"{plan.eid}.{k}.bw"), "w")
            bw.addHeader(sizes.sorted_items(), maxZooms=10)
            bw.addEntries(terr["chrom"].tolist(), terr["start"].tolist(), ends=terr["end"].tolist(),
                          values=[float(v) + 0.0 for v in values])
            bw.close()
    return time.perf_counter() - t0


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_tracks_") as tmp:
        tmp = Path(tmp)
        if args.workspace:
            ws = Workspace.open(args.workspace)
        else:
            print("building the workspace (not timed) ...", file=sys.stderr)
            ws = build(args.shared, tmp / "ws")
        n_genes, n_epigenomes = len(ws.genes()), len(ws.epigenomes())
        runs = {}
        for jobs in args.jobs:
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = tracks_mod.write_tracks(ws, jobs=jobs, force=True)  # every file written, as before incremental tracks
                times.append(time.perf_counter() - t0)
            runs[jobs] = (times, result)
        floor_dir = tmp / "floor"
        floor_dir.mkdir()
        floor = statistics.median(bare_writers(ws, floor_dir) for _ in range(args.repeat))

    print(f"tracks: {n_epigenomes} epigenomes x {n_genes} genes, {len(result.files)} track files, "
          f"{result.n_items} bigBed items per variant; target < {TARGET_S:.0f} s; median of {args.repeat}")
    print()
    print(f"{'jobs':>4}{'wall s':>9}{'vs 10 s':>9}{'vs bare writers':>17}   runs")
    for jobs, (times, _) in runs.items():
        wall = statistics.median(times)
        print(f"{jobs:>4}{wall:>9.2f}{wall / TARGET_S:>8.2f}x{wall / floor:>16.2f}x   "
              + " ".join(f"{t:.2f}" for t in times))
    print(f"bare writers (pybigtools + pyBigWig only, one process): {floor:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
