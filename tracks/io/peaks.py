"""Reading peak files: ENCODE narrowPeak / broadPeak / gappedPeak, plain BED3+, bigBed.

The formats' specs are the registry of :mod:`shallowchrome.tracks.io.formats`.
All coordinates are BED-style, 0-based half-open. The signal of a peak is its
``signalValue``: column 7 of narrowPeak (BED6+4) and broadPeak (BED6+3),
column 13 of gappedPeak (BED12+3); BED files and bigBeds without a
signalValue field give presence (1.0). Files may be gzip (or
bgzip) or plain, unsorted, use ``1`` or ``chr1`` names, and carry
``track``/``browser``/``#`` lines or a column-name header line.

The reader parses with pandas' C parser; only when that parse or a vectorised
check fails does it scan lines in Python to name the offending line.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import normalise
from shallowchrome.tracks.io.formats import FORMATS, PEAK_FORMATS, infer_format, normalise_format
from shallowchrome.tracks.io.textio import data_lines, read_bytes, strip_header_lines

_COLUMNS = ["chrom", "start", "end", "signal"]


def read_peaks(path, fmt: str | None = None) -> pd.DataFrame:
    """Read a peak file into a DataFrame with ``chrom`` (UCSC names), ``start``, ``end``, ``signal``.

    Raises :class:`InputError` naming the file and line for malformed or
    truncated lines, end < start, negative starts, non-numeric signal, an
    empty file or corrupt gzip.
    """
    path = Path(path)
    if fmt is None:
        fmt = infer_format(path)
        if fmt is None:
            raise InputError(path, "cannot tell the peak format from the file name",
                             fix=f"name it .narrowPeak/.broadPeak/.gappedPeak/.bed/.bb or give a format ({', '.join(FORMATS)})")
    fmt = normalise_format(fmt, path)
    frame = _read_bigbed(path) if PEAK_FORMATS[fmt].binary else _read_text_peaks(path, fmt)
    if frame.empty:
        raise InputError(path, "contains no peaks (empty, or only header lines)",
                         fix="give the complete peak file, or leave this mark out of the manifest")
    return frame


def _read_text_peaks(path: Path, fmt: str) -> pd.DataFrame:
    raw = read_bytes(path)
    if raw[:4] in (b"\x87\x89\xf2\xeb", b"\xeb\xf2\x89\x87"):
        raise InputError(path, "is a bigBed file but was given as " + fmt, fix="set its format to bigBed")
    body = strip_header_lines(raw)
    if not body.strip():
        return pd.DataFrame({c: [] for c in _COLUMNS})
    ncols = PEAK_FORMATS[fmt].columns
    sig_col = PEAK_FORMATS[fmt].signal_column
    has_signal = sig_col is not None
    usecols = [0, 1, 2, sig_col] if has_signal else [0, 1, 2]
    try:
        frame = pd.read_csv(
            io.BytesIO(body), sep="\t", header=None, usecols=usecols, dtype={0: str},
            keep_default_na=False, na_values=[""], engine="c", comment=None, skip_blank_lines=True,
        )
    except (ValueError, pd.errors.ParserError, IndexError):
        diagnose_lines(path, raw, fmt)
        raise  # _diagnose always raises; this is unreachable
    # Ragged lines (truncated or with extra columns) show up as a tab count that
    # is not rows × (columns - 1); counting tabs is a single C-level pass.
    first_line = body[: body.find(b"\n")] if b"\n" in body else body
    width = ncols if ncols is not None else first_line.rstrip(b"\r").count(b"\t") + 1
    if body.count(b"\t") != len(frame) * (width - 1):
        diagnose_lines(path, raw, fmt)
    ok = True
    for col in (1, 2):
        ok &= pd.api.types.is_integer_dtype(frame[col])
    if has_signal:
        ok &= pd.api.types.is_float_dtype(frame[sig_col]) or pd.api.types.is_integer_dtype(frame[sig_col])
    if not ok or frame.isna().to_numpy().any():
        diagnose_lines(path, raw, fmt)
    start = frame[1].to_numpy(np.int64)
    end = frame[2].to_numpy(np.int64)
    signal = frame[sig_col].to_numpy(np.float64) if has_signal else np.ones(len(frame))
    bad = (start < 0) | (end < start) | ~np.isfinite(signal)
    if bad.any():
        diagnose_lines(path, raw, fmt)
    return pd.DataFrame({"chrom": normalise(frame[0].to_numpy()), "start": start, "end": end, "signal": signal})


def diagnose_lines(path: Path, raw: bytes, fmt: str):
    """Scan the lines of a file that failed the fast path and raise for the first bad one."""
    ncols = PEAK_FORMATS[fmt].columns
    sig_col = PEAK_FORMATS[fmt].signal_column
    first_width = None
    for number, text in data_lines(raw):
        fields = text.split("\t")
        width = len(fields)
        if first_width is None:
            first_width = width
        if ncols is not None and width != ncols:
            what = "truncated or malformed line" if width < ncols else "line with extra columns"
            raise InputError(path, f"{what}: {width} tab-separated columns, {fmt} has {ncols}", line=number,
                             fix=f"repair or remove the line, or set the right format if this is not {fmt}")
        if ncols is None and width < 3:
            raise InputError(path, f"truncated or malformed line: {width} column(s), BED needs at least 3 (chrom, start, end)",
                             line=number, fix="repair or remove the line (columns must be tab-separated)")
        if any(f == "" for f in fields[:3]) or (sig_col is not None and fields[sig_col] == ""):
            raise InputError(path, "empty field in a required column", line=number, fix="repair or remove the line")
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            raise InputError(path, f"start/end are not integers ({fields[1]!r}, {fields[2]!r})", line=number,
                             fix="columns 2 and 3 must be 0-based integer coordinates") from None
        if start < 0:
            raise InputError(path, f"negative start {start}", line=number, fix="BED starts are 0-based and >= 0")
        if end < start:
            raise InputError(path, f"end {end} < start {start}", line=number,
                             fix="swap or correct the coordinates (BED is 0-based half-open: start <= end)")
        if sig_col is not None:
            value = fields[sig_col]
            try:
                signal = float(value)
            except ValueError:
                signal = math.nan
            if not math.isfinite(signal):
                raise InputError(path, f"signalValue (column {sig_col + 1}) is not a number: {value!r}", line=number,
                                 fix=f"column {sig_col + 1} of {fmt} must hold the numeric signalValue; "
                                     "use format bed for files without one")
        if ncols is None and width != first_width:
            raise InputError(path, f"line has {width} columns where earlier lines have {first_width}", line=number,
                             fix="repair or remove the line")
    raise InputError(path, f"cannot be parsed as {fmt}", fix="check that it is a tab-separated " + fmt + " file")


def _read_bigbed(path: Path) -> pd.DataFrame:
    import pyBigWig

    if not path.exists():
        raise InputError(path, "file not found", fix="check the path")
    try:
        bb = pyBigWig.open(str(path))
    except RuntimeError:
        bb = None
    if bb is None or not bb.isBigBed():
        raise InputError(path, "is not a readable bigBed file", fix="check the file, or set its real format")
    try:
        sql = bb.SQL() or b""
        if isinstance(sql, bytes):
            sql = sql.decode("utf-8", "replace")
        names = re.findall(r"^\s*\w+(?:\[\w+\])?\s+(\w+)\s*;", sql, flags=re.M)
        sig_index = names.index("signalValue") if "signalValue" in names else None
        chroms, starts, ends, rests = [], [], [], []
        for chrom, size in bb.chroms().items():
            entries = bb.entries(chrom, 0, size) or []
            if not entries:
                continue
            chroms.append(np.full(len(entries), chrom, dtype=object))
            arr = np.array([(s, e) for s, e, _ in entries], dtype=np.int64)
            starts.append(arr[:, 0])
            ends.append(arr[:, 1])
            rests.extend(r for _, _, r in entries)
    finally:
        bb.close()
    if not starts:
        return pd.DataFrame({c: [] for c in _COLUMNS})
    signal = np.ones(sum(len(s) for s in starts))
    if sig_index is not None and sig_index >= 3:
        rest = pd.Series(rests, dtype=object).str.split("\t", expand=True)
        values = pd.to_numeric(rest[sig_index - 3], errors="coerce").to_numpy(np.float64)
        if not np.isfinite(values).all():
            raise InputError(path, "signalValue field is not numeric in some items", fix="rebuild the bigBed from valid peaks")
        signal = values
    return pd.DataFrame({"chrom": normalise(np.concatenate(chroms)), "start": np.concatenate(starts),
                         "end": np.concatenate(ends), "signal": signal})
