"""Expression tables: ``gene_id`` plus one RPKM column per epigenome.

This is the layout of REMC's ``57epigenomes.RPKM.pc`` (gz or plain). When the
first column is not named ``gene_id`` it is still taken as the gene id.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.genes import strip_version
from shallowchrome.tracks.io.tables import check_unique_ids, first_bad_row, read_tsv


def read_expression(path, epigenomes=None) -> pd.DataFrame:
    """A DataFrame indexed by gene id with one float column per epigenome (only those of ``epigenomes``, when
    given: a 57-column table is read in half the time).

    Values are checked lazily per column by :func:`epigenome_rpkm`, so a bad
    value in a column nobody asked for does not stop a run.
    """
    wanted = None if epigenomes is None else set(epigenomes)

    def columns(names):  # the id column and the wanted ones (all when none is there: the checks below say so)
        chosen = [i for i, n in enumerate(names) if i == 0 or n.strip() in wanted]
        return chosen if len(chosen) > 1 else range(len(names))

    frame = read_tsv(path, "expression table", columns=None if wanted is None else columns)
    if frame.shape[1] < 2:
        raise InputError(path, "expression table has no epigenome columns", line=1,
                         fix="the header must be gene_id followed by one column per epigenome (e.g. E066)")
    id_col = "gene_id" if "gene_id" in frame.columns else frame.columns[0]
    ids = strip_version(frame[id_col].fillna("").str.strip())
    row = first_bad_row(ids == "")
    if row is not None:
        raise InputError(path, "empty gene id", line=row + 2, fix="fill in the gene id or remove the line")
    frame = frame.drop(columns=[id_col])
    if check_unique_ids(path, ids, "gene_id", same=frame, kept="the first row of each is used"):
        keep = ~ids.duplicated().to_numpy()
        frame, ids = frame[keep], ids[keep]
    frame.index = pd.Index(ids, name="gene_id")
    frame.attrs["source"] = str(path)
    return frame


def epigenome_rpkm(expression: pd.DataFrame, epigenome: str, gene_ids) -> np.ndarray:
    """RPKM of ``gene_ids`` in ``epigenome`` (NaN for genes absent from the table)."""
    source = expression.attrs.get("source")
    if epigenome not in expression.columns:
        cols = list(expression.columns)
        raise InputError(source, f"no column for epigenome {epigenome} (has {', '.join(cols[:10])}"
                         f"{' ...' if len(cols) > 10 else ''})", line=1,
                         fix="add the epigenome's RPKM column, or leave it out with --epigenomes")
    raw = expression[epigenome]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() | (values < 0)
    row = first_bad_row(bad)
    if row is not None:
        raise InputError(source, f"RPKM {raw.iloc[row]!r} for {expression.index[row]} in column {epigenome} "
                         "is not a non-negative number", line=row + 2, fix="fix the value or remove the gene")
    return values.reindex(pd.Index(gene_ids)).to_numpy(np.float64)
