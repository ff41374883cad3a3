"""Region slices for the report pages: indexed copies of the input files, and text for one region.

Reading a whole peak file (100,000+ lines) per page is too slow, so on first
use each input peak file and ChromHMM segmentation gets a sorted, bgzipped,
tabix-indexed BED copy in the workspace (0-based, half-open)::

    WS/reports/cache/peaks/EID-MARK.FORMAT.bed.gz (+ .tbi)   chrom, start, end, signalValue (``.`` for BED peaks)
    WS/reports/cache/chromhmm/EID.bed.gz (+ .tbi)            chrom, start, end, state
    ... .bed.gz.source.json                                  the source file (path, size, mtime) the copy was made of

A copy is rebuilt when its source's path, size or modification time changes.
The copies are read with the project's own readers (:func:`~shallowchrome.tracks.io.peaks.read_peaks`,
:func:`~shallowchrome.tracks.io.segmentation.read_segmentation`), written atomically
(the stamp last, so a copy without its stamp is never used) and fetched with
``pysam.TabixFile``. The hub's ``EID.predictions.bed.gz`` (tabix) and bigWigs are
read directly. A chromosome absent from a file is "no data", not an error.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.tracks.io.textio import write_text_atomic

COPY_VERSION = 1
_LOCKS: dict = {}
_LOCKS_GUARD = threading.Lock()


# --- indexed copies ------------------------------------------------------------------------
def _lock(path: Path) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(str(path), threading.Lock())


def source_stamp(source: Path) -> dict:
    """What identifies a source file's content cheaply: absolute path, size, modification time (ns)."""
    st = source.stat()
    return {"version": COPY_VERSION, "source": str(source.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _stamp_path(copy: Path) -> Path:
    return copy.with_name(copy.name + ".source.json")


def copy_is_current(copy: Path, source: Path) -> bool:
    """True when ``copy`` (+ ``.tbi``) was made from ``source`` as it is now."""
    stamp = _stamp_path(copy)
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded == source_stamp(source) and copy.is_file() and Path(f"{copy}.tbi").is_file()


def write_tabix(copy: Path, text: str) -> None:
    """Write sorted BED ``text`` as ``copy`` (bgzip) + ``copy.tbi``, each atomically (temporary folder + rename)."""
    import pysam

    copy.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{copy.name}.", dir=copy.parent) as tmpdir:
        plain = Path(tmpdir) / copy.name.removesuffix(".gz")
        plain.write_text(text, encoding="utf-8")
        gz = Path(pysam.tabix_index(str(plain), preset="bed", force=True))
        for path in (gz, Path(f"{gz}.tbi")):
            os.chmod(path, 0o644)
        os.replace(gz, copy)
        os.replace(f"{gz}.tbi", f"{copy}.tbi")


def ensure_copy(copy: Path, source: Path, bed_text) -> Path:
    """``copy`` made from ``source`` by ``bed_text(source)`` (sorted BED text), rebuilt only when stale."""
    if copy_is_current(copy, source):
        return copy
    with _lock(copy):
        if copy_is_current(copy, source):
            return copy
        stamp = _stamp_path(copy)
        stamp.unlink(missing_ok=True)
        write_tabix(copy, bed_text(source))
        write_text_atomic(stamp, json.dumps(source_stamp(source), indent=1) + "\n")
    return copy


def _sorted_bed(frame: pd.DataFrame, columns: list[str]) -> str:
    frame = frame.sort_values(["chrom", "start", "end"], kind="stable")
    if frame.empty:
        return ""
    return frame[columns].to_csv(sep="\t", header=False, index=False, lineterminator="\n")


def peak_bed_text(source: Path, fmt: str) -> str:
    """A peak file as sorted BED4: chrom, start, end, signalValue (``.`` for formats without a signal)."""
    from shallowchrome.tracks.io.formats import PEAK_FORMATS
    from shallowchrome.tracks.io.peaks import read_peaks

    peaks = read_peaks(source, fmt)
    has_signal = PEAK_FORMATS[fmt].has_signal or not np.all(peaks["signal"].to_numpy() == 1.0)
    name = np.char.mod("%.6g", peaks["signal"].to_numpy(np.float64)) if has_signal else np.full(len(peaks), ".")
    return _sorted_bed(peaks.assign(name=name), ["chrom", "start", "end", "name"])


def segmentation_bed_text(source: Path) -> str:
    """A ChromHMM segmentation as sorted BED4: chrom, start, end, state."""
    from shallowchrome.tracks.io.segmentation import read_segmentation

    return _sorted_bed(read_segmentation(source), ["chrom", "start", "end", "state"])


def safe_name(text: str) -> str:
    """``text`` with every character but letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(text))


# --- slices ---------------------------------------------------------------------------------
class _OpenFiles(threading.local):
    """Per-thread open ``pysam.TabixFile`` handles (loading an index costs ~10 ms; handles are not thread-safe)."""

    def __init__(self):
        self.handles: dict = {}


_OPEN = _OpenFiles()


def _forget_open_files() -> None:
    """In a forked child: drop the parent's handles (their file offsets are shared with the parent)."""
    global _OPEN
    _OPEN = _OpenFiles()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_open_files)


def tabix_file(path: Path):
    """An open ``pysam.TabixFile`` of ``path``, reused by this thread until the file is replaced."""
    import pysam

    st = os.stat(path)
    key = str(path)
    entry = _OPEN.handles.get(key)
    if entry is not None and entry[0] == (st.st_ino, st.st_mtime_ns, st.st_size):
        return entry[1]
    if entry is not None:
        entry[1].close()
    if len(_OPEN.handles) >= 256:  # bounded: close them all and start again
        for _, handle, _ in _OPEN.handles.values():
            handle.close()
        _OPEN.handles.clear()
    handle = pysam.TabixFile(key, encoding="utf-8")
    # the header is read once per opened file: pysam's TabixFile.header allocates anew on every access
    _OPEN.handles[key] = ((st.st_ino, st.st_mtime_ns, st.st_size), handle, list(handle.header))
    return handle


def fetch_lines(path: Path, chrom: str, start: int, end: int) -> list[str]:
    """Lines of a tabix-indexed file overlapping ``[start, end)`` on ``chrom`` (none for an absent chromosome)."""
    tbx = tabix_file(path)
    if chrom not in tbx.contigs:
        return []
    return list(tbx.fetch(chrom, start, end))


def tabix_header(path: Path) -> list[str]:
    """The ``#`` header lines of a tabix-indexed file (read once per opened file, see :func:`tabix_file`)."""
    tabix_file(path)
    return list(_OPEN.handles[str(path)][2])


def bigwig_bedgraph(path: Path, chrom: str, start: int, end: int) -> list[tuple[int, int, float]]:
    """(start, end, value) intervals of a bigWig in ``[start, end)``, clipped to it; none for an absent chromosome."""
    import pyBigWig

    bw = pyBigWig.open(str(path))
    try:
        if chrom not in bw.chroms():
            return []
        try:
            intervals = bw.intervals(chrom, start, end) or ()
        except RuntimeError:
            return []
    finally:
        bw.close()
    return [(max(s, start), min(e, end), float(v)) for s, e, v in intervals]
