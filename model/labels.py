"""Binary expression labels (GUIDE §1 step 4).

``median``: a gene is ON iff its RPKM >= the epigenome's median RPKM (the
reference implementation uses >=). ``valley``: ON iff RPKM >= the local
minimum between the low and high modes of the log10(RPKM + 0.01)
distribution (the paper's supplementary alternative).
"""
from __future__ import annotations

import numpy as np

from .errors import ModelError

THRESHOLDS = ("median", "valley")
PSEUDOCOUNT = 0.01


def valley_threshold(rpkm: np.ndarray, grid_size: int = 512) -> float:
    """RPKM at the density minimum between the two main modes of log10(RPKM + 0.01).

    The density is a Gaussian KDE (Scott's bandwidth) on a regular grid. The
    two modes are the two highest local maxima; the valley is the lowest grid
    point between them. Raises :class:`ModelError` when the distribution is
    not bimodal.
    """
    from scipy.stats import gaussian_kde

    x = np.log10(np.asarray(rpkm, dtype=float) + PSEUDOCOUNT)
    if len(x) < 10 or np.ptp(x) == 0:
        raise ModelError("too few distinct expression values for a valley threshold; use --threshold median")
    grid = np.linspace(x.min(), x.max(), grid_size)
    dens = gaussian_kde(x)(grid)
    peaks = np.flatnonzero((dens[1:-1] > dens[:-2]) & (dens[1:-1] >= dens[2:])) + 1
    if len(peaks) < 2:
        raise ModelError("expression distribution has a single mode, so no valley threshold exists; use --threshold median")
    a, b = np.sort(peaks[np.argsort(dens[peaks])[-2:]])
    valley = a + int(np.argmin(dens[a : b + 1]))
    return float(10 ** grid[valley] - PSEUDOCOUNT)


def threshold_value(rpkm: np.ndarray, method: str = "median") -> float:
    """The RPKM threshold for ``method`` (``median`` or ``valley``)."""
    rpkm = np.asarray(rpkm, dtype=float)
    if method == "median":
        return float(np.median(rpkm))
    if method == "valley":
        return valley_threshold(rpkm)
    raise ValueError(f"unknown threshold method {method!r}; choose one of {', '.join(THRESHOLDS)}")


def binarize(rpkm: np.ndarray, threshold: float) -> np.ndarray:
    """1 where RPKM >= threshold (ON), else 0."""
    return (np.asarray(rpkm, dtype=float) >= threshold).astype(np.int8)
