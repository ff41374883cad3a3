"""Benchmark: the whole ``shallowchrome build`` of the shared REMC benchmark.

What is timed: ``build_workspace`` (called in-process, wall time with
time.perf_counter) for the five shared epigenomes E065, E066, E079, E100,
E104 x two marks (H3K4me3, H3K27me3) with the benchmark splits file and 10
splits: reading inputs, feature extraction, the 10 splits, configuration
selection, predictions and writing the workspace into a temporary folder.
It is run with --jobs 1 and with --jobs 2. CLI equivalent:

  shallowchrome build --genes G --expression E --peaks SHARED/data/remc/peaks \\
      --splits-file S --epigenomes E065,E066,E079,E100,E104 \\
      --marks H3K4me3,H3K27me3 --out DIR [--jobs 2]

Target: under 30 s wall on this 2-core machine. The ratio to the target is
printed, not asserted. The per-epigenome mean AUROC is printed next to the
reference values and flagged when it is more than 0.005 away. Peak RSS comes
from resource.getrusage (this process, and the largest child process).
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

REPO = Path(__file__).resolve().parent.parent
EPIGENOMES = ["E065", "E066", "E079", "E100", "E104"]
MARKS = ["H3K4me3", "H3K27me3"]
REFERENCE_AUROC = {"E065": 0.786, "E066": 0.834, "E079": 0.823, "E100": 0.868, "E104": 0.812}
TOLERANCE = 0.005
TARGET_S = 30.0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                   help="shared folder holding data/remc (default: <repo root>/../shared)")
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time (default: 1 2)")
    p.add_argument("--repeat", type=int, default=1, help="builds per --jobs value; the median is reported (default 1)")
    return p.parse_args()


def peak_rss_mb():
    """High-water RSS so far (MiB): this process, and the largest child reaped so far."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kb / 1024, child_kb / 1024


def main():
    args = parse_args()
    remc = args.shared / "data" / "remc"
    if not remc.is_dir():
        sys.exit(f"shared data folder not found: {remc}\n(give the shared folder with --shared DIR)")
    inputs = dict(genes_path=remc / "genes.hg19.tsv", expression_path=remc / "rpkm.56epigenomes.tsv.gz",
                  peaks_path=remc / "peaks", splits_path=remc / "splits.tsv.gz")
    missing = [str(p) for p in inputs.values() if not p.exists()]
    if missing:
        sys.exit("missing input(s): " + ", ".join(missing))

    runs = {}  # jobs -> (wall times, evaluation, peak rss self, peak rss child)
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        for jobs in args.jobs:
            times = []
            for r in range(args.repeat):
                out = Path(tmp) / f"ws-jobs{jobs}-{r}"
                t0 = time.perf_counter()
                ws = build_workspace(**inputs, out=out, epigenomes=EPIGENOMES, marks=MARKS,
                                     options=BuildOptions(n_splits=10, jobs=jobs))
                times.append(time.perf_counter() - t0)
                evaluation = ws.evaluation().set_index("epigenome")
            runs[jobs] = (times, evaluation, *peak_rss_mb())

    print(f"build: {', '.join(EPIGENOMES)} x {', '.join(MARKS)}, splits file {inputs['splits_path'].name}, "
          f"10 splits; target < {TARGET_S:.0f} s")
    print()
    print(f"{'jobs':>4}{'wall s':>9}{'vs 30 s':>9}{'peak RSS self MiB':>19}{'largest child MiB':>19}")
    for jobs, (times, _, rss_self, rss_child) in runs.items():
        wall = statistics.median(times)
        print(f"{jobs:>4}{wall:>9.2f}{wall / TARGET_S:>8.2f}x{rss_self:>19.0f}{rss_child:>19.0f}")
    print("(peak RSS is a high-water mark since start, so later rows include earlier runs; "
          "children are the --jobs worker processes)")
    print()

    header = f"{'epigenome':<10}{'reference':>10}" + "".join(f"{'jobs ' + str(j):>10}" for j in runs) + "  flag"
    print("mean AUROC over the splits (reference +/- 0.005)")
    print(header)
    flagged = 0
    for eid in EPIGENOMES:
        ref = REFERENCE_AUROC[eid]
        line, flags = f"{eid:<10}{ref:>10.3f}", []
        for jobs, (_, evaluation, _, _) in runs.items():
            row = evaluation.loc[eid]
            if row["status"] != "ok":
                line += f"{'skipped':>10}"
                flags.append(f"jobs {jobs} skipped: {row['reason']}")
                continue
            auroc = float(row["auroc_mean"])
            line += f"{auroc:>10.4f}"
            if abs(auroc - ref) > TOLERANCE:
                flags.append(f"jobs {jobs} off by {auroc - ref:+.3f}")
        flagged += bool(flags)
        print(line + ("  " + "; ".join(flags) if flags else "  ok"))
    print()
    print(f"{flagged} of {len(EPIGENOMES)} epigenomes beyond +/- {TOLERANCE} of the reference" if flagged
          else f"all {len(EPIGENOMES)} epigenomes within +/- {TOLERANCE} of the reference")
    return 0


if __name__ == "__main__":
    sys.exit(main())
