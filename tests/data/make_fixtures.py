"""Regenerate the tiny fixture data set under tests/data/fixture (deterministic).

    python tests/data/make_fixtures.py

A small genome (chr1, chr2 with peaks; chr3 genes without any peak), 120
genes, three epigenomes (E901, E902 with two marks in three formats, E903
with H3K4me3 only plus a BED4 DNase track), expression with a signal that
the marks explain imperfectly (so the unpenalised fit is finite).
"""
import gzip
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "fixture"
rng = np.random.default_rng(20221)

N = 120
chroms = np.array(["chr1"] * 50 + ["chr2"] * 50 + ["chr3"] * 20)
tss = np.concatenate([np.sort(rng.choice(np.arange(20_000, 2_000_000, 1000), 50, replace=False)),
                      np.sort(rng.choice(np.arange(20_000, 2_000_000, 1000), 50, replace=False)),
                      np.sort(rng.choice(np.arange(20_000, 2_000_000, 1000), 20, replace=False))])
strand = rng.choice(["+", "-"], N)
gene_ids = [f"ENSG{900000 + i:011d}" for i in range(N)]
symbols = [f"GENE{i}" for i in range(N)]
symbols[0], symbols[1] = "ALB", "MYOD1"

OUT.mkdir(parents=True, exist_ok=True)
with open(OUT / "genes.tsv", "w") as fh:
    fh.write("chrom\ttss\tgene_id\tsymbol\tstrand\n")
    for i in range(N):
        fh.write(f"{chroms[i]}\t{tss[i]}\t{gene_ids[i]}\t{symbols[i]}\t{strand[i]}\n")

# Latent activity per gene and epigenome drives both marks and expression.
epis = ["E901", "E902", "E903"]
active = {e: rng.random(N) < 0.5 for e in epis}
active["E902"][0], active["E901"][0] = False, True  # ALB on in E901, off in E902
rpkm = {}
for e in epis:
    base = np.where(active[e], rng.lognormal(2.5, 1.0, N), rng.lognormal(-1.0, 1.2, N))
    rpkm[e] = np.round(np.where(rng.random(N) < 0.06, 0.0, base), 3)
with gzip.open(OUT / "rpkm.tsv.gz", "wt", compresslevel=9) as fh:
    fh.write("gene_id\t" + "\t".join(epis) + "\n")
    for i in range(N):
        fh.write(gene_ids[i] + "\t" + "\t".join(f"{rpkm[e][i]:g}" for e in epis) + "\n")


def peaks_for(e, mark, fmt):
    """Peaks near genes (noisy by activity) plus random background peaks on chr1/chr2."""
    rows = []
    act = active[e]
    for i in range(100):  # chr3 genes get nothing
        p = 0.8 if (act[i] == (mark == "H3K4me3")) else 0.25
        if rng.random() < p:
            centre = tss[i] + int(rng.integers(-4000, 4000))
            width = int(rng.integers(200, 1500 if fmt == "narrowPeak" else 6000))
            strong = act[i] == (mark == "H3K4me3")
            signal = rng.gamma(4.0, 5.0) if strong else rng.gamma(1.5, 2.0)
            rows.append((chroms[i], max(0, centre - width // 2), centre + width // 2, round(float(signal), 5)))
    for _ in range(40):
        c = rng.choice(["chr1", "chr2"])
        s = int(rng.integers(0, 2_100_000))
        rows.append((c, s, s + int(rng.integers(150, 800)), round(float(rng.gamma(1.2, 2.0)), 5)))
    order = rng.permutation(len(rows))  # deliberately unsorted
    return [rows[k] for k in order]


def write_peaks(path, rows, fmt, header=None, bare_chroms=False):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as fh:
        if header:
            fh.write(header)
        for k, (c, s, en, sig) in enumerate(rows):
            c = c[3:] if bare_chroms else c
            common = f"{c}\t{s}\t{en}\tpeak{k}\t{min(1000, int(sig * 20))}\t.\t{sig}\t{sig / 2:.3f}\t{sig / 3:.3f}"
            if fmt == "narrowPeak":
                fh.write(f"{common}\t{(en - s) // 2}\n")
            elif fmt == "broadPeak":
                fh.write(common + "\n")
            elif fmt == "gappedPeak":
                fh.write(f"{c}\t{s}\t{en}\tpeak{k}\t{min(1000, int(sig * 20))}\t.\t{s}\t{en}\t0,0,0\t1\t{en - s}\t0\t"
                         f"{sig}\t{sig / 2:.3f}\t{sig / 3:.3f}\n")


PEAKS = OUT / "peaks"
PEAKS.mkdir(exist_ok=True)
for e in ("E901", "E902"):
    for mark in ("H3K4me3", "H3K27me3"):
        for fmt in ("narrowPeak", "broadPeak", "gappedPeak"):
            rows = peaks_for(e, mark, fmt)
            header = "track type=narrowPeak name=\"fixture\"\n# comment\n" if (e, mark, fmt) == ("E901", "H3K4me3", "narrowPeak") else None
            bare = (e, mark) == ("E902", "H3K27me3")  # 1-style chromosome names
            suffix = ".gz" if fmt != "broadPeak" else ""
            write_peaks(PEAKS / f"{e}-{mark}.{fmt}{suffix}", rows, fmt, header=header, bare_chroms=bare)
write_peaks(PEAKS / "E903-H3K4me3.narrowPeak.gz", peaks_for("E903", "H3K4me3", "narrowPeak"), "narrowPeak")
with gzip.open(PEAKS / "E903-DNase.imputed.bed4.gz", "wt") as fh:
    for i in range(100):
        if rng.random() < (0.7 if active["E903"][i] else 0.3):
            s = int(tss[i] + rng.integers(-3000, 3000))
            fh.write(f"{chroms[i]}\t{s}\t{s + 150}\tnPk\n")

# Splits in the benchmark's layout: split 0 ordered thirds, splits 1-3 random.
with gzip.open(OUT / "splits.tsv.gz", "wt") as fh:
    fh.write("split\tpart\trow\n")
    for k in range(4):
        order = np.arange(N) if k == 0 else rng.permutation(N)
        for j, row in enumerate(order):
            part = "train" if j < 40 else "validation" if j < 80 else "test"
            fh.write(f"{k}\t{part}\t{row}\n")
print("fixtures written to", OUT)
