"""Gene splits files: ``split``, ``part`` and ``row`` (or ``gene_id``).

The layout of the benchmark's splits.tsv.gz: ``row`` is a 0-based row index
into the gene table (data rows, header excluded); ``part`` is train,
validation or test. Genes absent from a split are not used by it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.model.selection import PART_CODES, PART_NAMES, UNUSED
from shallowchrome.tracks.io.tables import first_bad_row, read_tsv

_PART_ALIASES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
                 "val": "validation", "test": "test", "testing": "test"}


def _shown(value) -> str:
    return repr(value) if isinstance(value, str) else "'' (empty)"


def _numbers(column: pd.Series) -> pd.Series:
    """A text column as numbers (NaN where it is not one): plain integers parsed at once, else pandas'."""
    try:
        return pd.Series(column.to_numpy(dtype=object).astype(np.int64))
    except (TypeError, ValueError, OverflowError):
        return pd.to_numeric(column, errors="coerce")


def read_splits(path, gene_ids: pd.Series) -> dict[int, np.ndarray]:
    """Split id → array of part codes aligned with ``gene_ids``."""
    frame = read_tsv(path, "splits file", required=("split", "part"))
    if "row" not in frame.columns and "gene_id" not in frame.columns:
        raise InputError(path, "splits file needs a row or gene_id column", line=1,
                         fix="add row (0-based index into the gene table) or gene_id")
    split = _numbers(frame["split"])
    row = first_bad_row(split.isna() | (split % 1 != 0))
    if row is not None:
        raise InputError(path, f"split {frame['split'][row]!r} is not an integer", line=row + 2, fix="use integer split ids")
    inverse, names = pd.factorize(frame["part"].to_numpy(dtype=object))  # a few distinct values, mapped once
    mapped = [_PART_ALIASES.get(str(n).strip().lower()) for n in names] + [None]  # code -1 (missing): None
    part = pd.Series(np.array(mapped, dtype=object)[inverse])
    row = first_bad_row(part.isna())
    if row is not None:
        raise InputError(path, f"part {_shown(frame['part'][row])} is not train, validation or test", line=row + 2,
                         fix="use train, validation or test")
    n = len(gene_ids)
    if "row" in frame.columns:
        idx = _numbers(frame["row"])
        row = first_bad_row(idx.isna() | (idx < 0) | (idx >= n) | (idx % 1 != 0))
        if row is not None:
            raise InputError(path, f"row {frame['row'][row]!r} is not a row of the gene table (0..{n - 1})",
                             line=row + 2, fix="use the splits file made for this gene table, or a gene_id column")
        idx = idx.astype(np.int64).to_numpy()
    else:
        pos = pd.Series(np.arange(n), index=pd.Index(gene_ids))
        mapped = pos.reindex(frame["gene_id"].str.strip())
        row = first_bad_row(mapped.isna().to_numpy())
        if row is not None:
            raise InputError(path, f"gene_id {frame['gene_id'][row]!r} is not in the gene table", line=row + 2,
                             fix="use the splits file made for this gene table")
        idx = mapped.to_numpy(np.int64)
    out = {}
    codes = part.map(PART_CODES).to_numpy(np.int8)
    split = split.astype(np.int64).to_numpy()
    for k in np.unique(split):
        sel = split == k
        arr = np.full(n, UNUSED, dtype=np.int8)
        rows = idx[sel]
        if len(np.unique(rows)) != len(rows):
            raise InputError(path, f"split {k} lists a gene more than once", fix="list each gene once per split")
        arr[rows] = codes[sel]
        out[int(k)] = arr
    return out


def splits_frame(splits: dict[int, np.ndarray]) -> pd.DataFrame:
    """The inverse of :func:`read_splits` (row layout), for recording in a workspace."""
    parts = []
    for k in sorted(splits):
        rows = np.flatnonzero(splits[k] != UNUSED)
        parts.append(pd.DataFrame({"split": k, "part": [PART_NAMES[c] for c in splits[k][rows]], "row": rows}))
    return pd.concat(parts, ignore_index=True)
