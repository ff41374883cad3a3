"""Per-gene features from peak intervals (GUIDE §1 steps 2-3).

Coordinates are BED-style: 0-based, half-open. A gene's window is
``[tss - window, tss + window)``; a peak ``[start, end)`` belongs to the gene
when the two intervals overlap (``start < tss + window`` and
``end > tss - window``), exactly as ``bedtools map`` / ``intersect`` decide
overlap. The feature is the maximum signal of the overlapping peaks, 0.0 when
there is none.

The computation is vectorised and output-sensitive. Because every window has
the same width, the windows overlapping a peak are a contiguous run of genes
once genes are sorted by (chromosome, TSS): the run is found with two binary
searches per peak, the (peak, gene) overlap pairs are enumerated with
``np.repeat`` and reduced with ``np.maximum.at``. Peaks of any length, nested
or overlapping peaks, and genes on chromosomes without peaks need no special
case.
"""
from __future__ import annotations

import numpy as np

# Chromosome codes are packed above the coordinate bits so that a single
# sorted int64 array holds every chromosome: positions stay < 2**36 (68 Gb).
_SHIFT = 36


def _keys(codes: np.ndarray, pos: np.ndarray) -> np.ndarray:
    return (codes.astype(np.int64) << _SHIFT) + pos.astype(np.int64)


def max_signal_in_windows(
    gene_chrom: np.ndarray,
    gene_tss: np.ndarray,
    peak_chrom: np.ndarray,
    peak_start: np.ndarray,
    peak_end: np.ndarray,
    peak_signal: np.ndarray,
    window: int = 5000,
) -> np.ndarray:
    """Max ``peak_signal`` over peaks overlapping each gene's TSS ± ``window``.

    ``gene_chrom`` and ``peak_chrom`` are arrays of chromosome names (already
    normalised to one naming style); peaks on chromosomes without genes are
    ignored. Returns a float64 array aligned with the genes, 0.0 where no peak
    overlaps. Signals are expected to be non-negative; a gene whose only
    overlapping peaks have negative signal gets that (negative) maximum.
    """
    if window < 1:
        raise ValueError("window must be >= 1 bp")
    n = len(gene_tss)
    out = np.zeros(n, dtype=np.float64)
    if n == 0 or len(peak_start) == 0:
        return out
    chroms, gcode = np.unique(np.asarray(gene_chrom, dtype=object), return_inverse=True)
    lookup = {c: i for i, c in enumerate(chroms)}
    pchrom = np.asarray(peak_chrom, dtype=object)
    # Map peak chromosome names to gene chromosome codes (-1 = no gene there).
    pnames, pinv = np.unique(pchrom, return_inverse=True)
    pcode = np.array([lookup.get(c, -1) for c in pnames], dtype=np.int64)[pinv]
    keep = pcode >= 0
    if not keep.any():
        return out
    pcode = pcode[keep]
    pstart = np.asarray(peak_start, dtype=np.int64)[keep]
    pend = np.asarray(peak_end, dtype=np.int64)[keep]
    psig = np.asarray(peak_signal, dtype=np.float64)[keep]

    gkey = _keys(gcode, np.asarray(gene_tss, dtype=np.int64))
    order = np.argsort(gkey, kind="stable")
    skey = gkey[order]
    # Overlap <=> tss > start - window  and  tss < end + window.
    lo = np.searchsorted(skey, _keys(pcode, pstart) - window, side="right")
    hi = np.searchsorted(skey, _keys(pcode, pend) + window, side="left")
    counts = np.maximum(hi - lo, 0)
    total = int(counts.sum())
    if total == 0:
        return out
    peak_idx = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    sorted_gene = lo[peak_idx] + (np.arange(total) - first[peak_idx])
    best = np.full(n, -np.inf)
    np.maximum.at(best, sorted_gene, psig[peak_idx])
    hit = np.isfinite(best)
    out[order[hit]] = best[hit]
    return out
