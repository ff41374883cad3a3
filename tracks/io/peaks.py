"""Reading peak files: ENCODE narrowPeak / broadPeak / gappedPeak, plain BED3+, bigBed.

The formats' specs are the registry of :mod:`shallowchrome.tracks.io.formats`.
All coordinates are BED-style, 0-based half-open. The signal of a peak is its
``signalValue``: column 7 of narrowPeak (BED6+4) and broadPeak (BED6+3),
column 13 of gappedPeak (BED12+3); BED files and bigBeds without a
signalValue field give presence (1.0). Files may be gzip (or
bgzip) or plain, unsorted, use ``1`` or ``chr1`` names, and carry
``track``/``browser``/``#`` lines or a column-name header line.

The reader parses with pandas' C parser, reading only the chrom, start, end
and signal columns; only when that parse or a vectorised check fails does it
scan lines in Python to name the offending line. Header lines are usually all
at the top: the fast path skips them there without scanning the rest of the
file, and falls back to stripping them everywhere (then parsing again) when
the parsed chromosome names show a header line further down. Chromosome names
are renamed once per distinct name, not once per peak.
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import normalise, ucsc_name
from shallowchrome.tracks.io.formats import FORMATS, PEAK_FORMATS, infer_format, normalise_format
from shallowchrome.tracks.io.textio import HEADER_LINE, data_lines, read_bytes, strip_header_lines

_COLUMNS = ["chrom", "start", "end", "signal"]
_TAB = ord("\t")


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
    # Fast path: header lines are stripped from the top only, and the parse is
    # taken only when it shows no header line further down; otherwise the
    # careful path strips them wherever they are and parses again.
    body = _skip_leading_headers(raw)
    if _blank(body) or b'"' in body:  # a quote could hide a header line inside a quoted field
        return _parse_body(path, raw, fmt, strip_header_lines(raw))
    frame = _parse_body(path, raw, fmt, body, fast=True)
    return _parse_body(path, raw, fmt, strip_header_lines(raw)) if frame is None else frame


def _skip_leading_headers(raw: bytes) -> bytes:
    """What :func:`strip_header_lines` leaves when every header line is at the top of the file.

    The leading run of track/browser/# lines and line breaks is dropped, then a
    column-name line, as there. Header lines further down are left in place:
    the caller must check that none is (:func:`_header_like`).
    """
    pos, size = 0, len(raw)
    while pos < size:
        if raw[pos] in b"\r\n":
            pos += 1
        elif raw[pos] in b"#tb" and HEADER_LINE.match(raw, pos):
            nl = raw.find(b"\n", pos)
            pos = size if nl < 0 else nl + 1
        else:
            break
    first_end = raw.find(b"\n", pos)
    first = raw[pos:] if first_end < 0 else raw[pos:first_end]
    fields = first.split(b"\t", 2)
    if len(fields) > 1 and not fields[1].strip().lstrip(b"-").isdigit():
        pos = size if first_end < 0 else first_end + 1
    return raw[pos:] if pos else raw


def _blank(body: bytes) -> bool:
    """``not body.strip()`` without copying the body."""
    return not body or body.isspace()


def _header_like(names) -> bool:
    """True when a chromosome name could be the first field of a track/browser/# line."""
    return any(not isinstance(n, str) or n.startswith(("#", "track", "browser")) for n in names)


def _parse_body(path: Path, raw: bytes, fmt: str, body: bytes, fast: bool = False) -> pd.DataFrame | None:
    """Parse the header-free ``body`` of ``raw`` with pandas' C parser; scan ``raw`` line by line if that fails.

    With ``fast``, ``body`` may still hold header lines below the top: None
    is returned, before any error is raised, when the parse fails or shows one.
    """
    if _blank(body):
        return pd.DataFrame({c: [] for c in _COLUMNS})
    spec = PEAK_FORMATS[fmt]
    ncols, sig_col = spec.columns, spec.signal_column
    has_signal = sig_col is not None
    usecols = [0, 1, 2, sig_col] if has_signal else [0, 1, 2]
    try:
        frame = pd.read_csv(
            io.BytesIO(body), sep="\t", header=None, usecols=usecols, dtype={0: "category"},
            keep_default_na=False, na_values=[""], engine="c", comment=None, skip_blank_lines=True,
        )
    except (ValueError, pd.errors.ParserError, IndexError):
        if fast:
            return None
        diagnose_lines(path, raw, fmt)
        raise  # _diagnose always raises; this is unreachable
    # Chromosome names as categories: each distinct name once, a code per row (-1 for an empty field).
    chroms = frame[0].array
    codes, names = chroms.codes, np.asarray(chroms.categories, dtype=object)
    if fast and _header_like(names):
        return None
    # Ragged lines (truncated or with extra columns) show up as a tab count that
    # is not rows × (columns - 1); counting tabs is a single vectorised pass.
    first_line = body[: body.find(b"\n")] if b"\n" in body else body
    width = ncols if ncols is not None else first_line.rstrip(b"\r").count(b"\t") + 1
    if np.count_nonzero(np.frombuffer(body, dtype=np.uint8) == _TAB) != len(frame) * (width - 1):
        diagnose_lines(path, raw, fmt)
    ok = True
    for col in (1, 2):
        ok &= pd.api.types.is_integer_dtype(frame[col])
    if has_signal:
        ok &= pd.api.types.is_float_dtype(frame[sig_col]) or pd.api.types.is_integer_dtype(frame[sig_col])
    # Integer columns hold no NA; a NaN signal fails the finiteness check below.
    if not ok or (codes < 0).any():
        diagnose_lines(path, raw, fmt)
    start = frame[1].to_numpy(np.int64)
    end = frame[2].to_numpy(np.int64)
    signal = frame[sig_col].to_numpy(np.float64) if has_signal else np.ones(len(frame))
    bad = (start < 0) | (end < start) | ~np.isfinite(signal)
    if bad.any():
        diagnose_lines(path, raw, fmt)
    chrom = np.array([ucsc_name(str(n)) for n in names], dtype=object)[codes]
    return pd.DataFrame({"chrom": chrom, "start": start, "end": end, "signal": signal})


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
