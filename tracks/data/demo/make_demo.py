"""Regenerate the embedded demo data set from the shared Roadmap (REMC) data (developers only).

    python tracks/data/demo/make_demo.py [--shared ../shared] [--out FOLDER]

The demo is a real subset: epigenomes E066 (adult liver), E079 (esophagus)
and E100 (psoas muscle), plus E104 (right atrium) given WITHOUT its RNA-seq
(the demo build predicts it by transfer, from a model learnt on the other
three); H3K4me3 and H3K27me3 narrowPeak files; the 19,802 benchmark genes,
their RPKM in the labelled epigenomes and the benchmark splits; the 15-state
ChromHMM segmentations of the labelled epigenomes. Peaks and segments are kept where they
overlap some gene's TSS ± 20 kb: the model reads TSS ± 5 kb and the report
pages show ± 10 kb around it, so the models and pages are exactly those of
the full files, at a fraction of the size. Files are gzip with mtime 0, so
regenerating gives the same bytes.
"""
from __future__ import annotations

import argparse
import gzip
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
EPIGENOMES = ("E066", "E079", "E100")  # labelled: peaks, RPKM column, ChromHMM segmentation
#: Peaks only: no RPKM column (so the build transfers a model to them) and no segmentation (ChromHMM
#: validation ranks states over an epigenome's held-out test genes, which an unlabelled epigenome has not).
UNLABELLED = ("E104",)
MARKS = ("H3K4me3", "H3K27me3")
FLANK = 20_000


def near_genes(frame: pd.DataFrame, tss_by_chrom: dict, flank: int) -> np.ndarray:
    """Rows (BED: columns 0-2, 0-based half-open) overlapping some TSS ± flank."""
    keep = np.zeros(len(frame), dtype=bool)
    for chrom, tss in tss_by_chrom.items():
        rows = np.flatnonzero(frame[0].to_numpy() == chrom)
        lo = np.searchsorted(tss, frame[1].to_numpy()[rows] - flank, side="right")
        hi = np.searchsorted(tss, frame[2].to_numpy()[rows] + flank, side="left")
        keep[rows[hi > lo]] = True
    return keep


def write_gz(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def trim_bed(src: Path, dest: Path, tss_by_chrom: dict) -> tuple[int, int]:
    frame = pd.read_csv(io.BytesIO(gzip.decompress(src.read_bytes())), sep="\t", header=None, dtype=str,
                        keep_default_na=False)
    frame[1], frame[2] = frame[1].astype(np.int64), frame[2].astype(np.int64)
    keep = near_genes(frame, tss_by_chrom, FLANK)
    write_gz(dest, frame[keep].to_csv(sep="\t", header=False, index=False, lineterminator="\n"))
    return len(frame), int(keep.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=HERE.parents[2].parent / "shared")
    ap.add_argument("--out", type=Path, default=HERE, help="where to write (default: here, the packaged data)")
    args = ap.parse_args()
    make(args.shared / "data" / "remc", args.out)


def make(remc: Path, out: Path) -> None:
    """Write the demo data set from the shared REMC folder ``remc`` into ``out``."""
    genes = pd.read_csv(remc / "genes.hg19.tsv", sep="\t", dtype=str, keep_default_na=False)
    write_gz(out / "genes.tsv.gz", genes.to_csv(sep="\t", index=False, lineterminator="\n"))
    tss_by_chrom = {c: np.sort(g["tss"].astype(np.int64).to_numpy()) for c, g in genes.groupby("chrom")}
    rpkm = pd.read_csv(remc / "rpkm.56epigenomes.tsv.gz", sep="\t", dtype=str, keep_default_na=False)[
        ["gene_id", *EPIGENOMES]]
    write_gz(out / "rpkm.tsv.gz", rpkm.to_csv(sep="\t", index=False, lineterminator="\n"))
    shutil.copyfile(remc / "splits.tsv.gz", out / "splits.tsv.gz")
    for eid in (*EPIGENOMES, *UNLABELLED):
        for mark in MARKS:
            name = f"{eid}-{mark}.narrowPeak.gz"
            n, kept = trim_bed(remc / "peaks" / name, out / "peaks" / name, tss_by_chrom)
            print(f"{name}: {kept} of {n} peaks")
        if eid in UNLABELLED:
            continue
        name = f"{eid}_15_coreMarks_mnemonics.bed.gz"
        n, kept = trim_bed(remc / "chromhmm" / name, out / "chromhmm" / name, tss_by_chrom)
        print(f"{name}: {kept} of {n} segments")
    total = sum(p.stat().st_size for p in out.rglob("*.gz"))
    print(f"demo data: {total / 1e6:.1f} MB in {out}")


if __name__ == "__main__":
    main()
