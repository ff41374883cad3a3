"""Binary expression labels (GUIDE §1 step 4).

``median``: a gene is ON iff its RPKM >= the epigenome's median RPKM (the
reference implementation uses >=). ``valley``: ON iff RPKM >= the local
minimum between the low and high modes of the log2(RPKM + 1) distribution
(the paper's supplementary alternative). log2(x + 1) rather than a log with a
tiny pseudocount: RNA-seq tables have many exact zeros, which would otherwise
form their own spike and pull the "valley" down to ~0.02 RPKM; with it the
REMC epigenomes get valleys between 1.2 and 2.4 RPKM.
"""
from __future__ import annotations

import numpy as np

from .errors import ModelError

THRESHOLDS = ("median", "valley")


def valley_threshold(rpkm: np.ndarray, grid_size: int = 512) -> float:
    """RPKM at the density minimum between the two main modes of log2(RPKM + 1).

    The density is a Gaussian KDE (Scott's bandwidth) on a regular grid. The
    two modes are the two most prominent local maxima (prominence at least 1%
    of the highest density, so tail wiggles do not count); the valley is the
    lowest grid point between them. Raises :class:`ModelError` when the
    distribution is not bimodal.
    """
    from scipy.signal import find_peaks
    from scipy.stats import gaussian_kde

    x = np.log2(np.asarray(rpkm, dtype=float) + 1)
    if len(x) < 10 or np.ptp(x) == 0:
        raise ModelError("too few distinct expression values for a valley threshold; use --threshold median")
    grid = np.linspace(x.min(), x.max(), grid_size)
    dens = gaussian_kde(x)(grid)
    peaks, props = find_peaks(np.r_[0.0, dens, 0.0], prominence=0.01 * dens.max())
    peaks = peaks - 1
    if len(peaks) < 2:
        raise ModelError("expression distribution has a single mode, so no valley threshold exists; use --threshold median")
    a, b = np.sort(peaks[np.argsort(props["prominences"])[-2:]])
    valley = a + int(np.argmin(dens[a : b + 1]))
    return float(2 ** grid[valley] - 1)


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
