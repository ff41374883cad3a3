"""bigWig writing (pyBigWig), verified before it replaces anything.

Intervals are bedGraph-like: 0-based, half-open ``[start, end)`` with one
float value each; they must not overlap (bigWig holds one value per base) and
are sorted by chromosome as bytes, then start. The file is written to a
temporary name, re-opened with pyBigWig and compared interval by interval
(values as float32), and only then renamed over the target.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from shallowchrome.tracks.hub import bbifile
from shallowchrome.tracks.hub.bigbed import TrackWriteError, bed_sort_order
from shallowchrome.tracks.io.chromsizes import ChromSizes
from shallowchrome.tracks.io.textio import atomic_path

log = logging.getLogger(__name__)

ZOOM_LEVELS = 10


def write_bigwig(path, chrom, start, end, value, chrom_sizes: ChromSizes) -> int:
    """Write intervals as a bigWig atomically; return the number of intervals."""
    import pyBigWig

    path = Path(path)
    chrom = np.asarray(chrom, dtype=object)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64) + 0.0  # no negative zeros
    order = bed_sort_order(chrom, start, end)
    chrom, start, end, value = chrom[order], start[order], end[order], value[order]
    same = chrom[1:] == chrom[:-1]
    if np.any(same & (start[1:] < end[:-1])):
        raise ValueError(f"{path}: overlapping intervals cannot go into a bigWig")
    with atomic_path(path) as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader(chrom_sizes.sorted_items(), maxZooms=ZOOM_LEVELS)
            if len(chrom):
                bw.addEntries(chrom.tolist(), start.tolist(), ends=end.tolist(), values=value.tolist())
        finally:
            bw.close()
        if len(chrom):
            bbifile.set_summary(tmp, bbifile.wig_summary(start, end, value))
        verify_bigwig(tmp, chrom, start, end, value)
    log.debug("%s: %d intervals", path, len(chrom))
    return len(chrom)


def verify_bigwig(path, chrom, start, end, value) -> None:
    """Re-open with pyBigWig and compare every interval (values as float32)."""
    import pyBigWig

    bw = pyBigWig.open(str(path))
    if bw is None or not bw.isBigWig():
        raise TrackWriteError(f"{path}: pyBigWig cannot open the bigWig just written")
    try:
        names, first = np.unique(chrom, return_index=True)
        bounds = dict(zip(names, first))
        for name in names:
            lo = bounds[name]
            hi = lo + int(np.sum(chrom == name))
            got = np.array(bw.intervals(name) or [], dtype=np.float64).reshape(-1, 3)
            want = np.column_stack([start[lo:hi], end[lo:hi], value[lo:hi].astype(np.float32)])
            if got.shape != want.shape or not np.array_equal(got, want):
                raise TrackWriteError(f"{path}: {name} reads back {len(got)} intervals, {hi - lo} written, "
                                      "or different values")
    finally:
        bw.close()
