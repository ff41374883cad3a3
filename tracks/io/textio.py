"""Reading (gz or plain) and atomic writing of files."""
from __future__ import annotations

import gzip
import io
import os
import re
import tempfile
import zlib
from contextlib import contextmanager
from pathlib import Path

from shallowchrome.model.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
# UCSC header lines: track/browser lines and comments, anywhere in the file.
HEADER_LINE = re.compile(rb"^(?:#|track(?:[ \t]|$)|browser(?:[ \t]|$))", re.M)
_HEADER_LINE_WHOLE = re.compile(rb"^(?:#|track(?:[ \t]|$)|browser(?:[ \t]|$))[^\n]*(?:\n|$)", re.M)


def read_bytes(path) -> bytes:
    """The file's content, decompressed when it is gzip (detected by magic bytes, also bgzip)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found", fix="check the path") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file", fix="give the path of a file") from None
    except PermissionError:
        raise InputError(path, "permission denied", fix="make the file readable") from None
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(path, f"corrupt or truncated gzip data ({exc})",
                             fix="download the file again or re-compress it with gzip") from None
    return raw


def read_text(path) -> str:
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, "is not UTF-8 text (binary file?)", line=line,
                         fix="give a tab-separated text file, plain or gzip") from None


def strip_header_lines(raw: bytes) -> bytes:
    """Remove track/browser/# lines (anywhere) and a leading column-name line.

    A column-name line is the first remaining line when its second field is
    not an integer (e.g. ``chrom\tchromStart\t...``).
    """
    if HEADER_LINE.search(raw):
        raw = _HEADER_LINE_WHOLE.sub(b"", raw)
    raw = raw.lstrip(b"\r\n")
    first_end = raw.find(b"\n")
    first = raw if first_end < 0 else raw[:first_end]
    fields = first.split(b"\t")
    if len(fields) > 1 and not fields[1].strip().lstrip(b"-").isdigit():
        raw = b"" if first_end < 0 else raw[first_end + 1 :]
    return raw


def data_lines(raw: bytes):
    """Yield (line number in the original file, text) of each data line, skipping headers.

    The slow twin of :func:`strip_header_lines`, used to name the line of an error.
    """
    seen_data = False
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if HEADER_LINE.match(line) or not line.strip():
            continue
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if not seen_data:
            seen_data = True
            fields = text.split("\t")
            if len(fields) > 1 and not fields[1].strip().lstrip("-").isdigit():
                continue
        yield number, text


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text_atomic(path, text: str) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_bytes_atomic(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def table_bytes(frame, float_format: str | None = "%.8g") -> bytes:
    """A DataFrame as the TSV bytes every table of the product is written as (header, NA, \\n, UTF-8).

    The bytes of pandas' ``to_csv(sep="\\t", index=False, float_format=..., na_rep="NA")``; plain float,
    integer, boolean, nullable-integer and text columns are formatted here (pandas formats each value
    through several Python calls: ~0.2 s per 20k-gene table), anything else by pandas."""
    fast = _fast_table_text(frame, float_format)
    if fast is None:
        buf = io.StringIO()
        frame.to_csv(buf, sep="\t", index=False, float_format=float_format, na_rep="NA", lineterminator="\n")
        fast = buf.getvalue()
    return fast.encode("utf-8")


_NEEDS_QUOTES = re.compile(r'[\t"\n\r]')


def _fast_table_text(frame, float_format: str | None) -> str | None:
    """``to_csv``'s text of ``frame``, or None when a column needs pandas (other dtypes, text to quote)."""
    import numpy as np
    import pandas as pd

    if float_format is None or frame.columns.nlevels != 1 or frame.shape[1] < 2:
        return None  # (pandas quotes an empty field when it is a row's only one)
    names = [str(c) for c in frame.columns]
    if any(_NEEDS_QUOTES.search(n) for n in names) or len(set(names)) != len(names):
        return None
    columns = []
    for j in range(frame.shape[1]):
        col = frame.iloc[:, j]
        dtype = col.dtype
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, pd.StringDtype):
            if not pd.api.types.is_integer_dtype(dtype):
                return None
            missing = col.isna().to_numpy()
            values = col.to_numpy(dtype=np.int64, na_value=0).tolist()
            columns.append(["NA" if m else str(v) for v, m in zip(values, missing.tolist())])
        elif dtype.kind == "f":
            values = col.to_numpy()
            text = [float_format % v for v in values.tolist()]
            for i in np.flatnonzero(np.isnan(values)).tolist():
                text[i] = "NA"
            columns.append(text)
        elif dtype.kind in "iub":
            columns.append([str(v) for v in col.to_numpy().tolist()])
        elif dtype == object or isinstance(dtype, pd.StringDtype):
            text = []
            for v in col.tolist():
                if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                    text.append("NA")
                elif isinstance(v, str):
                    if _NEEDS_QUOTES.search(v):
                        return None
                    text.append(v)
                else:
                    return None  # numbers or other objects in a text column: pandas' rules
            columns.append(text)
        else:
            return None
    header = "\t".join(names) + "\n"
    if not len(frame):
        return header
    return header + "\n".join("\t".join(row) for row in zip(*columns)) + "\n"


#: gzip level of the tables written compressed: 9 (gzip's default) took 6x the time of 6 on splits.tsv.gz
#: (0.28 vs 0.04 s) for a file 2 % smaller.
GZIP_LEVEL = 6


def write_table_atomic(path, frame, float_format: str = "%.8g") -> None:
    """Write a DataFrame as TSV (gzip when the name ends in .gz), atomically and deterministically."""
    data = table_bytes(frame, float_format)
    if str(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    write_bytes_atomic(path, data)
