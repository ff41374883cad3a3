"""Helpers shared by the tab-separated table readers."""
from __future__ import annotations

import io
import logging

import pandas as pd

from shallowchrome.model.errors import InputError

log = logging.getLogger(__name__)

from shallowchrome.tracks.io.textio import read_bytes


def read_tsv(path, what: str, required=(), dtype=str, columns=None) -> pd.DataFrame:
    """Read a TSV with a header line (gz or plain); check the required columns.

    ``columns(names)``: the indices of the columns to read, given the header's names (as written); default all.
    Line numbers of data rows are ``index + 2`` (after the header).
    """
    raw = read_bytes(path)
    if not raw.strip():
        raise InputError(path, f"{what} is empty", fix=f"give a {what} with a header line")
    usecols = None
    if columns is not None:
        header = raw.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", errors="replace").split("\t")
        usecols = [i for i in range(len(header)) if i in set(columns(header))]
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep="\t", dtype=dtype, keep_default_na=False, na_values=[""],
                            comment=None, engine="c", usecols=usecols)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        line = _parser_line(str(exc))
        raise InputError(path, f"malformed {what}: {str(exc).splitlines()[0]}", line=line,
                         fix="every line needs the same number of tab-separated columns as the header") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(path, f"{what} lacks column(s) {', '.join(missing)} (has {', '.join(frame.columns[:8])}"
                         f"{' ...' if len(frame.columns) > 8 else ''})", line=1,
                         fix=f"the header line must name {', '.join(required)}")
    return frame


def _parser_line(message: str):
    import re

    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else None


def first_bad_row(mask) -> int | None:
    """The position of the first True in a boolean array, or None."""
    import numpy as np

    hits = np.flatnonzero(np.asarray(mask))
    return int(hits[0]) if len(hits) else None


def check_unique_ids(path, ids: pd.Series, what: str, line_offset: int | None = 2, same=None,
                     kept: str = "kept as given") -> bool:
    """Check that ids are unique; returns True when there are (harmless) duplicates.

    Repeated ids are an error naming both lines (rows are ``index +
    line_offset``; ``None`` for formats whose comment lines were dropped),
    unless ``same`` (a DataFrame aligned with ``ids``) is given and the
    repeated rows agree on all its columns: then the run can honestly go on,
    a warning says so, and True is returned.
    """
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return False
    if same is not None:
        groups = same[dup].assign(_id=ids[dup].to_numpy()).drop_duplicates()
        if not groups["_id"].duplicated().any():
            n = int(ids[dup].nunique())
            cols = "/".join(same.columns) if same.shape[1] <= 3 else "values"
            log.warning("%s: %d %s(s) appear on more than one line with identical %s (e.g. %s); %s",
                        path, n, what, cols, ids[dup].iloc[0], kept)
            return True
    rows = list(ids.index[dup])
    first = ids[rows[0]]
    rows_same = [r for r in rows if ids[r] == first]
    detail = " with different values" if same is not None else ""
    if line_offset is None:
        raise InputError(path, f"duplicate {what} {first!r}{detail} ({len(rows_same)} records)",
                         fix=f"keep one record per {what}")
    raise InputError(path, f"duplicate {what} {first!r}{detail} (also on line {rows_same[0] + line_offset})",
                     line=rows_same[1] + line_offset, fix=f"keep one row per {what}")
