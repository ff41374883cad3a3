"""Which peak file holds which epigenome × mark.

Either a manifest TSV with columns ``epigenome``, ``mark``, ``path`` and
optional ``format`` (inferred from the file name when absent; relative paths
resolve against the manifest's folder), or a folder of files named the REMC
way, ``EID-MARK.FORMAT[.gz]`` (``E066-H3K4me3.narrowPeak.gz``,
``E066-DNase.imputed.bed4.gz``: the mark is the text between the first ``-``
and the next ``.``).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.formats import infer_format, normalise_format
from shallowchrome.tracks.io.names import check_name
from shallowchrome.tracks.io.tables import read_tsv

log = logging.getLogger(__name__)
MANIFEST_COLUMNS = ["epigenome", "mark", "format", "path"]
_REMC_NAME = re.compile(r"^(?P<epigenome>[^-./]+)-(?P<mark>[^.]+)\.(?P<rest>.+)$")


def read_peaks_manifest(path) -> pd.DataFrame:
    """A DataFrame with ``epigenome``, ``mark``, ``format``, ``path`` (absolute) for a manifest or a folder."""
    path = Path(path)
    frame = _scan_folder(path) if path.is_dir() else _read_manifest(path)
    if frame.empty:
        raise InputError(path, "lists no peak files", fix="name files EID-MARK.FORMAT[.gz] or list them in a manifest")
    key = ["epigenome", "mark", "format"]
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        d = frame[dup].iloc[0]
        others = frame[dup & (frame.epigenome == d.epigenome) & (frame.mark == d.mark) & (frame.format == d.format)]
        lines = ", ".join(str(x) for x in others["line"])
        raise InputError(path, f"{d.epigenome} {d.mark} has more than one {d.format} file (lines/files: {lines})",
                         fix="keep one file per epigenome, mark and format")
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def _read_manifest(path: Path) -> pd.DataFrame:
    frame = read_tsv(path, "peaks manifest", required=("epigenome", "mark", "path"))
    base = path.parent
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        line = i + 2
        for col in ("epigenome", "mark", "path"):
            if not isinstance(rec[col], str) or not rec[col].strip():
                raise InputError(path, f"empty {col}", line=line, fix="fill in the column or remove the line")
        check_name(rec["epigenome"].strip(), "epigenome id", path, line)  # ids and marks become paths
        check_name(rec["mark"].strip(), "mark", path, line)
        peak_path = Path(rec["path"].strip())
        if not peak_path.is_absolute():
            peak_path = base / peak_path
        fmt = rec.get("format")
        if isinstance(fmt, str) and fmt.strip():
            fmt = normalise_format(fmt, path, line)
        else:
            fmt = infer_format(peak_path)
            if fmt is None:
                raise InputError(path, f"cannot infer the format of {peak_path.name}", line=line,
                                 fix="add a format column (narrowPeak, broadPeak, gappedPeak, bed, bigBed)")
        if not peak_path.is_file():
            raise InputError(path, f"peak file {peak_path} does not exist", line=line,
                             fix="correct the path (relative paths are relative to the manifest's folder)")
        rows.append({"epigenome": rec["epigenome"].strip(), "mark": rec["mark"].strip(), "format": fmt,
                     "path": str(peak_path.resolve()), "line": line})
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS + ["line"])


def _scan_folder(folder: Path) -> pd.DataFrame:
    rows = []
    for child in sorted(folder.iterdir()):
        if not child.is_file() or child.name.startswith("."):
            continue
        m = _REMC_NAME.match(child.name)
        fmt = infer_format(child)
        if not m or fmt is None:
            log.warning("%s: skipped, not named EID-MARK.FORMAT[.gz] with a known peak format", child)
            continue
        check_name(m["epigenome"], "epigenome id", child)
        check_name(m["mark"], "mark", child)
        rows.append({"epigenome": m["epigenome"], "mark": m["mark"], "format": fmt,
                     "path": str(child.resolve()), "line": child.name})
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS + ["line"])


def write_manifest(frame: pd.DataFrame) -> pd.DataFrame:
    """The manifest columns only, for recording in a workspace."""
    return frame[MANIFEST_COLUMNS].copy()
