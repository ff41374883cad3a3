"""Benchmark: ``shallowchrome report`` pages on the shared REMC benchmark (5 epigenomes x 2 marks).

What is timed (wall time, time.perf_counter, in-process):

- first use: indexing the input files (10 peak files, 5 ChromHMM
  segmentations) into WS/reports/cache/ — once per workspace;
- per page, embedded (igv.js inlined) and --no-embed: ``gene_page`` on a warm
  context (explanations, Wald fits, indexed copies and open files reused),
  median over the genes, and the page size; plus ``write_reports`` end to end
  (context, fits, pages, index) with --jobs 1 and 2, as seconds per page;
- baseline, in the same run: ``patterns_chart`` alone (the SVG chart each page
  embeds) on the same explanations, i.e. the floor a page with the paper's
  Figure 3 sits on.

The workspace (build + tracks + chromhmm with the shared segmentations) is
built first, not timed, or given with --workspace. Genes: ALB, APOA1 and a
seeded random sample of genes.tsv. Target: under 0.5 s per page; ratios are
printed, not asserted. CLI equivalent: ``shallowchrome report WS --genes-file
genes.txt [--no-embed] [--jobs 2]``.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from shallowchrome.tracks.analysis.chromhmm import validate, write_results
from shallowchrome.tracks.analysis.explain import explain
from shallowchrome.tracks.analysis.pattern_charts import patterns_chart
from shallowchrome.tracks.hub.write import write_tracks
from shallowchrome.tracks.reports.context import ReportContext, ReportOptions
from shallowchrome.tracks.reports.page import gene_page
from shallowchrome.tracks.reports.write import resolve_genes, write_reports
from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace
from shallowchrome.tracks.workspace.layout import Workspace

REPO = Path(__file__).resolve().parent.parent
EPIGENOMES = ["E065", "E066", "E079", "E100", "E104"]
MARKS = ["H3K4me3", "H3K27me3"]
TARGET_S = 0.5


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                   help="shared folder holding data/remc (default: <repo root>/../shared)")
    p.add_argument("--workspace", type=Path, help="reuse a built workspace (with its hub) instead of building one")
    p.add_argument("--genes", type=int, default=20, help="number of genes (default 20)")
    return p.parse_args()


def build(shared: Path, out: Path) -> Workspace:
    remc = shared / "data" / "remc"
    if not remc.is_dir():
        sys.exit(f"shared data folder not found: {remc}\n(give the shared folder with --shared DIR)")
    ws = build_workspace(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", remc / "peaks", out,
                         epigenomes=EPIGENOMES, marks=MARKS, splits_path=remc / "splits.tsv.gz",
                         options=BuildOptions(n_splits=10, jobs=2))
    write_tracks(ws, jobs=2)
    segs = {e: remc / "chromhmm" / f"{e}_15_coreMarks_mnemonics.bed.gz" for e in EPIGENOMES}
    segs = {e: p for e, p in segs.items() if p.is_file()}
    if segs:
        write_results(ws, validate(ws, segmentations=segs))
    return ws


def pick_genes(ws: Workspace, n: int) -> list[str]:
    symbols = sorted({s for s in ws.genes()["symbol"] if s})
    rest = random.Random(0).sample([s for s in symbols if s not in ("ALB", "APOA1")], max(0, n - 2))
    return ["ALB", "APOA1", *rest][:n]


def warm_pages(ws: Workspace, genes: list[dict], embed: bool) -> tuple[list[float], list[int]]:
    """Seconds and bytes per page with a warm context (each gene explained once before the clock starts)."""
    ctx = ReportContext(ws, None, ReportOptions(embed=embed))
    for gene in genes:
        gene_page(ctx, gene)
    times, sizes = [], []
    for gene in genes:
        t0 = time.perf_counter()
        page = gene_page(ctx, gene)
        times.append(time.perf_counter() - t0)
        sizes.append(len(page.html.encode("utf-8")))
    return times, sizes


def chart_floor(ws: Workspace, genes: list[dict]) -> list[float]:
    cache, times = {}, []
    docs = [explain(ws, [g["gene_id"]], cache=cache) for g in genes]
    for doc in docs:
        t0 = time.perf_counter()
        patterns_chart(doc, "svg")
        times.append(time.perf_counter() - t0)
    return times


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        tmp = Path(tmp)
        if args.workspace:
            ws = Workspace.open(args.workspace)
        else:
            print("building the workspace, tracks and ChromHMM states (not timed) ...", file=sys.stderr)
            ws = build(args.shared, tmp / "ws")
        names = pick_genes(ws, args.genes)
        genes, _ = resolve_genes(ws, names)
        cache_dir = ws.root / "reports" / "cache"
        fresh = not cache_dir.exists()
        t0 = time.perf_counter()
        ReportContext(ws).prepare()
        first_use = time.perf_counter() - t0
        warm = {embed: warm_pages(ws, genes, embed) for embed in (True, False)}
        cold = {}
        for embed, jobs in ((True, 1), (False, 1), (True, 2)):
            t0 = time.perf_counter()
            write_reports(ws, names, out=tmp / f"out_{embed}_{jobs}", embed=embed, jobs=jobs)
            cold[(embed, jobs)] = (time.perf_counter() - t0) / len(genes)
        floor = statistics.median(chart_floor(ws, genes))
        n_epi = len(ws.epigenomes())

    print(f"report pages: {len(genes)} genes x {n_epi} epigenomes x {len(MARKS)} marks, TSS ± 10 kb; "
          f"target < {TARGET_S} s per page")
    what = "indexing the input files" if fresh else "checking the existing indexed copies"
    print(f"first use ({what}, once per workspace): {first_use:.2f} s")
    print()
    print(f"{'variant':<12}{'s/page warm':>13}{'vs 0.5 s':>10}{'vs chart':>10}{'KB/page':>9}"
          f"{'s/page end-to-end, jobs 1':>27}{'jobs 2':>8}")
    for embed in (True, False):
        times, sizes = warm[embed]
        med = statistics.median(times)
        jobs2 = f"{cold[(True, 2)]:>8.3f}" if embed else f"{'':>8}"
        print(f"{'embedded' if embed else '--no-embed':<12}{med:>13.3f}{med / TARGET_S:>9.2f}x{med / floor:>9.2f}x"
              f"{statistics.mean(sizes) / 1024:>9.0f}{cold[(embed, 1)]:>27.3f}{jobs2}")
    print(f"{'chart alone':<12}{floor:>13.3f}{floor / TARGET_S:>9.2f}x{1:>9.2f}x   (patterns_chart SVG, the baseline)")


if __name__ == "__main__":
    main()
