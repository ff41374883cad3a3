"""Region slices for the report pages: indexed copies of the input files, and text for one region.

Reading a whole peak file (100,000+ lines) per page is too slow, so each input
peak file and ChromHMM segmentation gets a sorted, bgzipped, CSI-indexed BED
copy in the workspace (0-based, half-open)::

    WS/reports/cache/peaks/KEY.FORMAT.bed.gz (+ .csi)   chrom, start, end, signalValue (``.`` for BED peaks)
    WS/reports/cache/chromhmm/EID.bed.gz (+ .csi)       chrom, start, end, state
    ... .bed.gz.source.json                             what the copy was made of (its stamp)

A peak file's KEY is the sha256 of its content as ``build`` recorded it in
workspace.json: every epigenome (and every generation of the workspace) that
read the same bytes shares one copy, a copy is made once per content and
format, and it is checked against that checksum when made, so it shows the
peaks the models read. A file without a recorded checksum is keyed by its
path, size and modification time, as ChromHMM segmentations are.

The copies are made after the tracks (:func:`make_peak_index`, the pipeline
step ``peak_index_step``; by :func:`map_jobs` with the build's jobs) and, for
whatever is missing, on first use. They are read with the project's own
readers (:func:`~shallowchrome.tracks.io.peaks.read_peaks`,
:func:`~shallowchrome.tracks.io.segmentation.read_segmentation`), written
atomically (the stamp last, so a copy without its stamp is never used) and
fetched with ``pysam.TabixFile``. CSI with 1 Mb bins instead of tabix's .tbi:
a .tbi's linear index has an entry per 16 kb of every chromosome (~0.5 MB per
file), and loading it costs ~10 ms per file, which a page of 56 epigenomes x 2
marks pays 112 times; the CSI loads in ~1 ms and a 1 Mb bin of peaks is read
in well under 1 ms. The hub's ``EID.predictions.bed.gz`` (tabix) and bigWigs
are read directly. A chromosome absent from a file is "no data", not an error.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError, ShallowChromeError
from shallowchrome.tracks.io.bgzf import bgzf_bytes
from shallowchrome.tracks.io.textio import write_text_atomic
from shallowchrome.tracks.workspace.incremental import sha256_file

log = logging.getLogger(__name__)

COPY_VERSION = 2
#: CSI bins of 2**20 bp (see the module docstring).
CSI_MIN_SHIFT = 20
INDEX_SUFFIX = ".csi"
STAMP_SUFFIX = ".source.json"
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


def checksum_stamp(sha256: str, fmt: str) -> dict:
    """The stamp of a copy made from the content whose sha256 is ``sha256``, read as ``fmt``."""
    return {"version": COPY_VERSION, "sha256": sha256, "format": fmt}


def stamp_path(copy: Path) -> Path:
    return copy.with_name(copy.name + STAMP_SUFFIX)


def index_path(copy: Path) -> Path:
    return copy.with_name(copy.name + INDEX_SUFFIX)


def copy_files(copy: Path) -> list[Path]:
    """The files of one copy: the bgzipped BED, its index, its stamp."""
    return [copy, index_path(copy), stamp_path(copy)]


def copy_is_current(copy: Path, stamp: dict) -> bool:
    """True when ``copy`` and its index exist and were made as ``stamp`` says (its recorded stamp holds
    every item of ``stamp``)."""
    try:
        recorded = json.loads(stamp_path(copy).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(recorded, dict) or any(recorded.get(k) != v for k, v in stamp.items()):
        return False
    return copy.is_file() and index_path(copy).is_file()


def write_tabix(copy: Path, text: str) -> None:
    """Write sorted BED ``text`` as ``copy`` (bgzip) + ``copy.csi``, each atomically (temporary folder + rename)."""
    import pysam

    copy.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{copy.name}.", dir=copy.parent) as tmpdir:
        gz = Path(tmpdir) / copy.name
        gz.write_bytes(bgzf_bytes(text.encode("utf-8")))
        pysam.tabix_index(str(gz), preset="bed", force=True, csi=True, min_shift=CSI_MIN_SHIFT)
        for path in (gz, index_path(gz)):
            os.chmod(path, 0o644)
        os.replace(gz, copy)
        os.replace(index_path(gz), index_path(copy))


def ensure_copy(copy: Path, source: Path, bed_text, stamp: dict | None = None) -> Path:
    """``copy`` made from ``source`` by ``bed_text(source)`` (sorted BED text), rebuilt only when its
    stamp differs from ``stamp`` (default :func:`source_stamp` of the source)."""
    stamp = source_stamp(source) if stamp is None else stamp
    if copy_is_current(copy, stamp):
        return copy
    with _lock(copy):
        if copy_is_current(copy, stamp):
            return copy
        stamp_path(copy).unlink(missing_ok=True)
        write_tabix(copy, bed_text(source))
        write_text_atomic(stamp_path(copy), json.dumps(stamp, indent=1, sort_keys=True) + "\n")
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


# --- the peak index of a workspace ----------------------------------------------------------
@dataclass(frozen=True)
class PeakCopy:
    """One input peak file's indexed copy: where it goes, what it is made of and how it is stamped."""

    copy: Path
    source: Path
    fmt: str
    sha256: str | None  # recorded by build; None: keyed by path, size and modification time

    def stamp(self) -> dict:
        return checksum_stamp(self.sha256, self.fmt) if self.sha256 else source_stamp(self.source)

    def is_current(self) -> bool:
        try:
            return copy_is_current(self.copy, self.stamp())
        except OSError:  # the source of a path-keyed copy is gone
            return False

    def make(self) -> Path:
        """Make the copy unless it is current; a source whose content is no longer what build read is an
        :class:`InputError` (the copy would not show the peaks the models read)."""
        if not self.source.is_file():
            raise InputError(self.source, "input peak file not found", fix="restore it, or rebuild the workspace")

        def text(source: Path) -> str:
            if self.sha256 and sha256_file(source) != self.sha256:
                raise InputError(source, "changed since the workspace was built (its sha256 differs from the one "
                                 "in workspace.json)", fix="rebuild the workspace with `shallowchrome build`")
            return peak_bed_text(source, self.fmt)

        return ensure_copy(self.copy, self.source, text, self.stamp())


def peak_copy_of(ws, source: Path, fmt: str, sha256: str | None) -> PeakCopy:
    """The :class:`PeakCopy` of one input file of the workspace ``ws``."""
    if sha256 and re.fullmatch(r"[0-9a-f]{64}", sha256):
        key = sha256[:32]
    else:
        sha256 = None
        try:
            stamp = source_stamp(source)
        except OSError:
            stamp = {"source": str(source)}
        key = "p" + hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:31]
    return PeakCopy(ws.peak_index_path(key, fmt), source, fmt, sha256)


def recorded_checksums(info: dict, eid: str) -> dict:
    """{input path: sha256} of an epigenome's peak files, as ``build`` recorded them in workspace.json."""
    peaks = (((info.get("epigenomes") or {}).get(eid) or {}).get("inputs") or {}).get("peaks") or {}
    return {path: rec.get("sha256") for path, rec in peaks.items() if isinstance(rec, dict)}


def workspace_peak_copies(ws, epigenomes=None, info: dict | None = None) -> dict:
    """{(eid, mark, format): PeakCopy} of every input file in the workspace's peaks.tsv (of ``epigenomes``)."""
    info = ws.info if info is None else info
    peaks = pd.read_csv(ws.peaks_path, sep="\t", dtype=str)
    wanted = None if epigenomes is None else set(epigenomes)
    out = {}
    for eid, mark, fmt, path in zip(peaks["epigenome"], peaks["mark"], peaks["format"], peaks["path"]):
        if wanted is not None and eid not in wanted:
            continue
        out[(eid, mark, fmt)] = peak_copy_of(ws, Path(path), fmt, recorded_checksums(info, eid).get(path))
    return out


def _make(copy: PeakCopy) -> str | None:
    """Make one copy; the error message when it cannot be made (a task of :func:`make_copies`)."""
    try:
        copy.make()
    except (ShallowChromeError, OSError) as exc:
        return str(exc)
    return None


def make_copies(copies, jobs: int = 1, progress: bool = False, threads: bool = False, scheduler=None) -> dict:
    """Make the copies that are not current, each once, by ``jobs`` processes (:func:`map_jobs`) or, with
    ``threads`` (in a server), threads; returns {copy path: why it could not be made} for failures."""
    from shallowchrome.tracks.workspace.executor import map_jobs

    todo = list({c.copy: c for c in copies if not c.is_current()}.values())
    if not todo:
        return {}
    if threads and jobs > 1 and len(todo) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(jobs, len(todo)), thread_name_prefix="peak-index") as pool:
            errors = list(pool.map(_make, todo))
    else:
        errors = map_jobs(_make, todo, jobs, progress=progress, desc="indexing peaks", unit="file",
                          scheduler=scheduler)
    failed = {c.copy: e for c, e in zip(todo, errors) if e}
    for copy, error in failed.items():
        log.warning("peak index: %s", error)
    return failed


def make_peak_index(ws, jobs: int = 1, progress: bool = False, scheduler=None) -> tuple[int, dict]:
    """Index every input peak file of the workspace (the ones whose copy is current are kept), by ``jobs``
    processes or on the Dask cluster ``scheduler``; returns (copies in the index, {copy: error} of those
    that could not be made)."""
    copies = set(workspace_peak_copies(ws).values())
    return len({c.copy for c in copies}), make_copies(copies, jobs, progress, scheduler=scheduler)


def prune_peak_index(ws, keep: set) -> list[Path]:
    """Delete the files of WS/reports/cache/peaks/ that belong to no copy in ``keep`` (copy paths); files of
    copies being made (dot-folders) are left alone. Returns what was deleted."""
    folder = ws.peak_index_dir
    if not folder.is_dir():
        return []
    kept = {p.name for c in keep for p in copy_files(c)}
    deleted = []
    for entry in folder.iterdir():
        if entry.name.startswith(".") or entry.name in kept or not entry.is_file():
            continue
        entry.unlink(missing_ok=True)
        deleted.append(entry)
    return deleted


# --- slices ---------------------------------------------------------------------------------
class _Handles:
    """Open ``pysam.TabixFile`` handles shared by the threads of a process (loading an index costs 1-10 ms).

    A handle is used by one thread at a time (its lock); it is reopened when its file is replaced, and the
    least recently used are closed beyond :data:`MAX_OPEN`."""

    MAX_OPEN = 512

    def __init__(self):
        self.guard = threading.Lock()
        self.entries: OrderedDict = OrderedDict()  # path → (file identity, handle, lock)

    def get(self, path: Path):
        import pysam

        st = os.stat(path)
        ident = (st.st_ino, st.st_mtime_ns, st.st_size)
        key = str(path)
        with self.guard:
            entry = self.entries.get(key)
            if entry is not None and entry[0] == ident:
                self.entries.move_to_end(key)
                return entry
        csi = index_path(path)
        handle = pysam.TabixFile(key, index=str(csi) if csi.is_file() else None, encoding="utf-8")
        entry = (ident, handle, threading.Lock())
        with self.guard:
            old = self.entries.pop(key, None)
            self.entries[key] = entry
            closing = [old] if old is not None else []
            while len(self.entries) > self.MAX_OPEN:
                closing.append(self.entries.popitem(last=False)[1])
        for _, stale, lock in closing:
            with lock:  # not while another thread reads it
                stale.close()
        return entry


_OPEN = _Handles()


def _forget_open_files() -> None:
    """In a forked child: drop the parent's handles (their file offsets are shared with the parent)."""
    global _OPEN
    _OPEN = _Handles()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_open_files)


def fetch_lines(path: Path, chrom: str, start: int, end: int) -> list[str]:
    """Lines of a tabix/CSI-indexed file overlapping ``[start, end)`` on ``chrom`` (none for an absent chromosome)."""
    _, handle, lock = _OPEN.get(path)
    with lock:
        if handle.closed:  # closed by another thread's eviction since: open it again
            return fetch_lines(path, chrom, start, end)
        if chrom not in handle.contigs:
            return []
        return list(handle.fetch(chrom, start, end))


_HEADERS: dict = {}


def tabix_header(path: Path) -> list[str]:
    """The leading ``#`` header lines of a bgzipped file (without line ends), cached per file version.

    Read with gzip: ``pysam.TabixFile.header`` loads the index again on every access."""
    st = os.stat(path)
    ident = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _HEADERS.get(ident)
    if cached is None:
        lines = []
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("#"):
                    break
                lines.append(line.rstrip("\n"))
        if len(_HEADERS) > 4096:
            _HEADERS.clear()
        cached = _HEADERS[ident] = lines
    return list(cached)


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
