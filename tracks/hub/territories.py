"""Per-base ownership of overlapping gene windows, so per-gene values fit in a bigWig.

Gene windows (TSS ± window, 0-based half-open ``[tss - window, tss + window)``)
overlap when TSSs are closer than 2 × window, but a bigWig holds one value
per base. Each base is given to the gene whose TSS is nearest: the split
between adjacent TSSs ``a < b`` falls after the midpoint, so base ``p`` goes to
``a`` when ``p - a <= b - p`` (a tie goes to the earlier gene). Genes sorted by
(chromosome, TSS, gene_id, row) decide "earlier"; genes sharing a TSS with an
earlier gene own no bases (their window is the earlier gene's). Territories
are clipped to the window and to ``[0, chromosome length)``, never empty for
an owning gene (it always owns its TSS base), disjoint and sorted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def nearest_tss_territories(chrom, tss, gene_id, window: int, chrom_sizes: dict) -> pd.DataFrame:
    """One row per owning gene: ``chrom``, ``start``, ``end`` (0-based, half-open) and ``row`` (input index).

    Rows come sorted by chromosome (as bytes) and start.
    """
    chrom = np.asarray(chrom, dtype=object)
    tss = np.asarray(tss, dtype=np.int64)
    rows = np.arange(len(tss))
    names = np.unique(np.array([c.encode() for c in chrom], dtype=object)) if len(chrom) else np.array([], dtype=object)
    code = np.searchsorted(names, np.array([c.encode() for c in chrom], dtype=object)) if len(chrom) else rows
    order = np.lexsort([rows, np.asarray(gene_id, dtype=str), tss, code])
    c, t, r = code[order], tss[order], rows[order]
    first = np.ones(len(t), dtype=bool)
    first[1:] = (c[1:] != c[:-1]) | (t[1:] != t[:-1])
    c, t, r = c[first], t[first], r[first]
    n = len(t)
    size = np.array([chrom_sizes[chrom[i]] for i in r], dtype=np.int64)
    start = np.maximum(t - window, 0)
    end = np.minimum(t + window, size)
    if n > 1:
        same = c[1:] == c[:-1]
        cut = (t[:-1] + t[1:]) // 2 + 1  # first base owned by the later gene
        end[:-1] = np.where(same, np.minimum(end[:-1], cut), end[:-1])
        start[1:] = np.where(same, np.maximum(start[1:], cut), start[1:])
    return pd.DataFrame({"chrom": chrom[r], "start": start, "end": end, "row": r})
