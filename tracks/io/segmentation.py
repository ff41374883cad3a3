"""ChromHMM files: segmentations, emission tables and state-group tables.

**Segmentation** (REMC ``EID_15_coreMarks_mnemonics.bed.gz``): BED4 or more,
``chrom``, ``start``, ``end``, ``state`` (0-based half-open, gz or plain,
``1`` or ``chr1`` names, ``track``/``browser``/``#`` lines allowed; ChromHMM's
own dense BED9 with ``itemRgb`` works too, column 4 is the state). A gene's
state is the state of the segment containing its TSS (a 0-based position):
the segment starting last at or before the TSS, when it ends after it.

**Emission table**: a TSV with a header line, the state in the first column
(``state``, or any name, e.g. ChromHMM's ``State (Emission order)``) and one
column per mark holding the state's emission probability (≥ 0). The
15-state core-mark table of the Roadmap Epigenomics project is packaged
(:func:`default_emissions_path`).

**Groups table**: a TSV with columns ``state`` and ``group``; a state may be
given by its full name (``10_TssBiv``) or its number (``10``).

**Segmentation manifest**: a TSV with columns ``epigenome`` and ``path``
(relative paths resolve against the manifest's folder).
"""
from __future__ import annotations

import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.chromhmm import state_number
from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import normalise
from shallowchrome.tracks.io.tables import first_bad_row, read_tsv
from shallowchrome.tracks.io.textio import data_lines, read_bytes, strip_header_lines

DEFAULT_EMISSIONS = "emissions_15_coreMarks.tsv"
SEGMENTATION_COLUMNS = ["chrom", "start", "end", "state"]


# --- segmentations ------------------------------------------------------------------------
def read_segmentation(path) -> pd.DataFrame:
    """A DataFrame ``chrom`` (UCSC names), ``start``, ``end``, ``state``, sorted by (chrom, start).

    Raises :class:`InputError` naming the file and line for lines with fewer
    than 4 columns, non-integer or negative coordinates, end < start, an
    empty state, an empty file or corrupt gzip.
    """
    path = Path(path)
    raw = read_bytes(path)
    body = strip_header_lines(raw)
    if not body.strip():
        raise InputError(path, "contains no segments (empty, or only header lines)",
                         fix="give a ChromHMM segmentation BED (chrom, start, end, state)")
    try:
        frame = pd.read_csv(io.BytesIO(body), sep="\t", header=None, usecols=[0, 1, 2, 3], dtype={0: str, 3: str},
                            keep_default_na=False, na_values=[""], engine="c")
    except (ValueError, pd.errors.ParserError, IndexError):
        _diagnose(path, raw)
    ints = all(pd.api.types.is_integer_dtype(frame[c]) for c in (1, 2))
    if not ints or frame.isna().to_numpy().any():
        _diagnose(path, raw)
    start, end = frame[1].to_numpy(np.int64), frame[2].to_numpy(np.int64)
    if ((start < 0) | (end < start)).any():
        _diagnose(path, raw)
    seg = pd.DataFrame({"chrom": normalise(frame[0].to_numpy()), "start": start, "end": end,
                        "state": frame[3].str.strip().to_numpy(dtype=object)})
    return seg.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)


def _diagnose(path: Path, raw: bytes):
    """Raise for the first bad line of a segmentation that failed the fast path."""
    for number, text in data_lines(raw):
        fields = text.split("\t")
        if len(fields) < 4:
            raise InputError(path, f"{len(fields)} tab-separated column(s); a segmentation needs chrom, start, end, state",
                             line=number, fix="repair or remove the line")
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            raise InputError(path, f"start/end are not integers ({fields[1]!r}, {fields[2]!r})", line=number,
                             fix="columns 2 and 3 must be 0-based integer coordinates") from None
        if start < 0 or end < start:
            raise InputError(path, f"bad interval {start}-{end}", line=number,
                             fix="BED intervals are 0-based half-open with 0 <= start <= end")
        if not fields[0].strip() or not fields[3].strip():
            raise InputError(path, "empty chrom or state", line=number, fix="repair or remove the line")
    raise InputError(path, "cannot be parsed as a segmentation BED",
                     fix="give a tab-separated BED with chrom, start, end, state")


def states_at(segmentation: pd.DataFrame, chrom, position) -> np.ndarray:
    """The state at each (chrom, 0-based position); None where no segment covers it.

    ``segmentation`` is as returned by :func:`read_segmentation` (sorted by
    chrom, start). Vectorised: one ``np.searchsorted`` per chromosome.
    """
    chrom = normalise(chrom)
    position = np.asarray(position, dtype=np.int64)
    out = np.full(len(position), None, dtype=object)
    seg_chrom = segmentation["chrom"].to_numpy(dtype=object)
    bounds = pd.Series(np.arange(len(seg_chrom))).groupby(seg_chrom, sort=False).agg(["min", "max"])
    starts, ends = segmentation["start"].to_numpy(np.int64), segmentation["end"].to_numpy(np.int64)
    states = segmentation["state"].to_numpy(dtype=object)
    for name, rows in pd.Series(np.arange(len(chrom))).groupby(chrom, sort=False).groups.items():
        if name not in bounds.index:
            continue
        lo, hi = int(bounds.at[name, "min"]), int(bounds.at[name, "max"]) + 1
        pos = position[rows]
        k = np.searchsorted(starts[lo:hi], pos, side="right") - 1
        inside = (k >= 0) & (pos < ends[lo:hi][np.clip(k, 0, None)])
        out[np.asarray(rows)[inside]] = states[lo:hi][k[inside]]
    return out


# --- emission and group tables ------------------------------------------------------------
def default_emissions_path():
    """The packaged Roadmap 15-state core-mark emission table."""
    return resources.files("shallowchrome.tracks").joinpath("data", DEFAULT_EMISSIONS)


def read_emissions(path=None) -> pd.DataFrame:
    """States × marks emission probabilities (index: state names in file order); the packaged table by default."""
    if path is None:
        with resources.as_file(default_emissions_path()) as packaged:
            return read_emissions(packaged)
    frame = read_tsv(path, "emission table")
    if frame.shape[1] < 2:
        raise InputError(path, "emission table has no mark columns", line=1,
                         fix="the header must be state followed by one column per mark")
    states = frame.iloc[:, 0].fillna("").str.strip()
    row = first_bad_row(states == "")
    if row is not None:
        raise InputError(path, "empty state name", line=row + 2, fix="fill in the state or remove the line")
    row = first_bad_row(states.duplicated())
    if row is not None:
        raise InputError(path, f"state {states[row]!r} is listed twice", line=row + 2, fix="keep one line per state")
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values < 0) | ~np.isfinite(values)
    row = first_bad_row(bad.any(axis=1))
    if row is not None:
        col = values.columns[bad.iloc[row].to_numpy()][0]
        raise InputError(path, f"emission {frame.at[row, col]!r} of state {states[row]} for {col} is not a number >= 0",
                         line=row + 2, fix="emissions are probabilities between 0 and 1")
    values.index = pd.Index(states.to_numpy(), name="state")
    return values.astype(np.float64)


def read_groups(path, states) -> dict[str, str]:
    """State → group for every state of ``states``, from a groups TSV (``state``, ``group``).

    Raises :class:`InputError` for a state listed twice, an empty group, or a
    state of the model the table does not place in a group.
    """
    frame = read_tsv(path, "groups table", required=("state", "group"))
    keys = frame["state"].fillna("").str.strip()
    groups = frame["group"].fillna("").str.strip()
    row = first_bad_row((keys == "") | (groups == ""))
    if row is not None:
        raise InputError(path, "empty state or group", line=row + 2, fix="fill in both columns or remove the line")
    row = first_bad_row(keys.duplicated())
    if row is not None:
        raise InputError(path, f"state {keys[row]!r} is listed twice", line=row + 2, fix="give each state one group")
    by_name = dict(zip(keys, groups))
    by_number = {state_number(k): g for k, g in by_name.items() if k.isdigit()}
    out = {}
    for state in states:
        group = by_name.get(state, by_number.get(state_number(state)))
        if group is None:
            raise InputError(path, f"state {state!r} of the emission table has no group",
                             fix="add a line 'STATE<TAB>GROUP' for it (by name or number)")
        out[state] = group
    return out


# --- which segmentation belongs to which epigenome -----------------------------------------
def parse_segmentation_options(values) -> dict[str, Path]:
    """``["E066=path.bed.gz", ...]`` → {epigenome: path}."""
    out = {}
    for value in values or ():
        eid, sep, path = str(value).partition("=")
        if not sep or not eid.strip() or not path.strip():
            raise InputError(None, f"--segmentation {value!r} is not EID=PATH",
                             fix="write e.g. --segmentation E066=E066_15_coreMarks_mnemonics.bed.gz")
        if eid.strip() in out:
            raise InputError(None, f"--segmentation given twice for {eid.strip()}", fix="give one file per epigenome")
        out[eid.strip()] = Path(path.strip())
    return out


def read_segmentation_manifest(path) -> dict[str, Path]:
    """{epigenome: path} from a TSV with columns ``epigenome`` and ``path``."""
    path = Path(path)
    frame = read_tsv(path, "segmentation manifest", required=("epigenome", "path"))
    eids = frame["epigenome"].fillna("").str.strip()
    paths = frame["path"].fillna("").str.strip()
    row = first_bad_row((eids == "") | (paths == ""))
    if row is not None:
        raise InputError(path, "empty epigenome or path", line=row + 2, fix="fill in both columns or remove the line")
    row = first_bad_row(eids.duplicated())
    if row is not None:
        raise InputError(path, f"epigenome {eids[row]} is listed twice", line=row + 2, fix="give one file per epigenome")
    return {e: (p if p.is_absolute() else path.parent / p) for e, p in zip(eids, map(Path, paths))}
