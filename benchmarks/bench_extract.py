"""Benchmark: per-gene peak extraction, ShallowChrome vs ``zcat`` and vs ``bedtools map``.

What is compared: the feature of every gene of the REMC gene table (19,802
genes), i.e. the max narrowPeak signalValue (column 7) over the peaks that
overlap the gene window [tss - 5000, tss + 5000), 0.0 when there is none, for
one REMC narrowPeak file (default E066-H3K4me3).

- ShallowChrome: ``read_peaks(file.gz)`` + ``max_signal_in_windows`` (timed
  together; reading and extraction alone are reported too). Reading the gene
  table is not timed.
- zcat: ``zcat FILE > /dev/null``, run directly (not through a shell): the
  cost of just decompressing the file, the floor of any reader of a gzip
  file. The target is read + extraction <= 2x this.
- bedtools: one shell pipeline timed end to end,
  ``zcat FILE | sort -k1,1 -k2,2n | bedtools map -a windows.sorted.bed -b stdin -c 7 -o max -prec 17``.
  The gene-window BED (max(0, tss-5000), tss+5000, row index as name) is
  written and sorted with the same ``sort -k1,1 -k2,2n`` beforehand, NOT timed.
  ``-prec 17`` only makes bedtools print the maxima with round-trip precision.

All three run ``--repeat`` times, interleaved so they see the same machine
state; the median wall times and both ratios are printed, with the ratios of
the fastest runs (on a shared machine, the less noisy estimate). The per-gene
values must be identical to bedtools' (exact float equality; bedtools' "." =
0.0): the script exits non-zero if they differ. No timing is asserted.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from shallowchrome.model.features import max_signal_in_windows
from shallowchrome.tracks.io.genes import read_genes
from shallowchrome.tracks.io.peaks import read_peaks

WINDOW = 5000
REPO = Path(__file__).resolve().parent.parent


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                   help="shared folder holding data/remc (default: <repo root>/../shared)")
    p.add_argument("--peaks", type=Path, default=None,
                   help="narrowPeak(.gz) file (default: SHARED/data/remc/peaks/E066-H3K4me3.narrowPeak.gz)")
    p.add_argument("--repeat", type=int, default=7, help="runs of each side (default 7); medians are reported")
    p.add_argument("--bedtools", default=shutil.which("bedtools") or "/usr/bin/bedtools", help="bedtools binary")
    return p.parse_args()


def run_ours(genes, peaks_path):
    t0 = time.perf_counter()
    peaks = read_peaks(peaks_path)
    t1 = time.perf_counter()
    values = max_signal_in_windows(genes["chrom"].to_numpy(), genes["tss"].to_numpy(), peaks["chrom"].to_numpy(),
                                   peaks["start"].to_numpy(), peaks["end"].to_numpy(), peaks["signal"].to_numpy(),
                                   window=WINDOW)
    t2 = time.perf_counter()
    return values, t2 - t0, t1 - t0, t2 - t1


def run_shell(cmd, env):
    t0 = time.perf_counter()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or proc.stderr.strip():
        sys.exit(f"pipeline failed (exit {proc.returncode}):\n{cmd}\n{proc.stderr.strip()}")
    return proc.stdout, elapsed


def run_cat(cat, path, env):
    """``cat``/``zcat`` PATH > /dev/null, executed directly (no extra shell), timed."""
    t0 = time.perf_counter()
    proc = subprocess.run([cat, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{cat} {path} failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def parse_bedtools(text, n_genes):
    values = np.full(n_genes, np.nan)
    for line in text.splitlines():
        fields = line.split("\t")
        values[int(fields[3])] = 0.0 if fields[4] == "." else float(fields[4])
    if np.isnan(values).any():
        sys.exit(f"bedtools output lacks {int(np.isnan(values).sum())} gene windows")
    return values


def main():
    args = parse_args()
    remc = args.shared / "data" / "remc"
    if not remc.is_dir():
        sys.exit(f"shared data folder not found: {remc}\n(give the shared folder with --shared DIR)")
    peaks_path = args.peaks or remc / "peaks" / "E066-H3K4me3.narrowPeak.gz"
    if not peaks_path.is_file():
        sys.exit(f"peak file not found: {peaks_path}")
    if not Path(args.bedtools).is_file():
        sys.exit(f"bedtools not found: {args.bedtools}")
    genes = read_genes(remc / "genes.hg19.tsv")
    n = len(genes)
    env = dict(os.environ, LC_ALL="C")  # same byte-order collation for both sorts

    with tempfile.TemporaryDirectory(prefix="bench_extract_") as tmp:
        windows = Path(tmp) / "windows.bed"
        start = np.maximum(genes["tss"].to_numpy() - WINDOW, 0)
        with open(windows, "w") as fh:
            for i, (c, s, e) in enumerate(zip(genes["chrom"], start, genes["tss"].to_numpy() + WINDOW)):
                fh.write(f"{c}\t{s}\t{e}\t{i}\n")
        sorted_windows = Path(tmp) / "windows.sorted.bed"
        subprocess.run(f"sort -k1,1 -k2,2n {windows} > {sorted_windows}", shell=True, check=True, env=env)
        cat = "zcat" if peaks_path.name.endswith(".gz") else "cat"
        zcat_cmd = f"{cat} '{peaks_path}' > /dev/null   (executed directly, no shell)"
        cmd = (f"{cat} '{peaks_path}' | sort -k1,1 -k2,2n | "
               f"'{args.bedtools}' map -a '{sorted_windows}' -b stdin -c 7 -o max -prec 17")

        times = {"total": [], "read": [], "extract": [], "zcat": [], "bedtools": []}
        run_ours(genes, peaks_path)  # warm-up: imports, page cache
        for _ in range(args.repeat):  # interleaved so every side sees the same machine state
            ours, total, read, extract = run_ours(genes, peaks_path)
            times["total"].append(total)
            times["read"].append(read)
            times["extract"].append(extract)
            times["zcat"].append(run_cat(cat, peaks_path, env))
            bt_text, elapsed = run_shell(cmd, env)
            times["bedtools"].append(elapsed)

    bt = parse_bedtools(bt_text, n)
    equal = np.array_equal(ours, bt)
    med = {k: statistics.median(v) for k, v in times.items()}

    print(f"peak file : {peaks_path}")
    print(f"genes     : {n} (windows tss +/- {WINDOW} bp), runs per side: {args.repeat} (medians; interleaved)")
    print(f"zcat      : {zcat_cmd}")
    print(f"bedtools  : {cmd}")
    print("            (gene windows written and sorted beforehand, not timed; LC_ALL=C for both sorts)")
    print()
    print(f"{'side':<44}{'median s':>10}{'min s':>10}{'max s':>10}")
    rows = [("ShallowChrome read_peaks + extraction", "total"),
            ("  read_peaks alone", "read"),
            ("  extraction alone", "extract"),
            (f"{cat} > /dev/null (decompression only)", "zcat"),
            (f"{cat} | sort | bedtools map (end to end)", "bedtools")]
    for label, key in rows:
        ts = times[key]
        print(f"{label:<44}{med[key]:>10.3f}{min(ts):>10.3f}{max(ts):>10.3f}")
    print()
    best = {k: min(v) for k, v in times.items()}
    print(f"vs {cat}      : read + extraction takes {med['total'] / med['zcat']:.2f}x the time of {cat} alone "
          f"(target <= 2x; fastest runs: {best['total'] / best['zcat']:.2f}x)")
    print(f"vs bedtools  : ShallowChrome is {med['bedtools'] / med['total']:.1f}x faster than "
          f"{cat} | sort | bedtools map (fastest runs: {best['bedtools'] / best['total']:.1f}x)")
    print()
    print(f"genes with a peak: ours {int((ours != 0).sum())}, bedtools {int((bt != 0).sum())} of {n}")
    if not equal:
        bad = np.flatnonzero(ours != bt)
        print(f"RESULTS DIFFER for {len(bad)} genes; first rows (row, gene, ours, bedtools):")
        for i in bad[:10]:
            print(f"  {i}\t{genes['gene_id'][i]}\t{ours[i]!r}\t{bt[i]!r}")
        return 1
    print("results identical per gene (exact float equality with bedtools -prec 17; bedtools '.' = 0.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
