"""bigBed writing with an autoSql schema (``bed N + M``), verified before it replaces anything.

Items are BED: 0-based, half-open ``[chromStart, chromEnd)``, sorted by
chromosome as bytes, then start, end (checked: unsorted items would make a
corrupt file). The file is made by :mod:`~shallowchrome.tracks.hub.bbiwrite`
(with definedFieldCount N, the totalSummary and the extra name indexes),
written to a temporary name, re-opened with pyBigWig and checked (item count
per chromosome, field count, schema, definedFieldCount), and only then
renamed over the target.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shallowchrome.model.errors import ShallowChromeError
from shallowchrome.tracks.hub import bbifile
from shallowchrome.tracks.hub.bbiwrite import bigbed_bytes
from shallowchrome.tracks.io.chromsizes import ChromSizes
from shallowchrome.tracks.io.textio import atomic_path

log = logging.getLogger(__name__)

#: The BED9 columns as UCSC's autoSql names them (bed.as).
BED9_FIELDS = [
    ("string", "chrom", "Reference sequence chromosome or scaffold"),
    ("uint", "chromStart", "Start position in chromosome (0-based)"),
    ("uint", "chromEnd", "End position in chromosome (exclusive)"),
    ("string", "name", "Name of item"),
    ("uint", "score", "Score (0-1000)"),
    ("char[1]", "strand", "+ or - or . for unknown"),
    ("uint", "thickStart", "Start of where display should be thick"),
    ("uint", "thickEnd", "End of where display should be thick"),
    ("uint", "reserved", "Used as itemRgb as of 2004-11-22"),
]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TrackWriteError(ShallowChromeError):
    """A written track did not read back as written (a bug or a full disk; nothing was replaced)."""


@dataclass(frozen=True)
class AutoSql:
    """An autoSql table: ``fields`` are (type, name, description) triples, BED columns first."""

    table: str
    comment: str
    fields: tuple

    def __post_init__(self):
        names = [f[1] for f in self.fields]
        bad = [n for n in names if not _IDENT.match(n)]
        if bad or len(set(names)) != len(names):
            raise ValueError(f"autoSql field names must be unique identifiers: {bad or names}")

    @property
    def names(self) -> list[str]:
        return [f[1] for f in self.fields]

    def text(self) -> str:
        width = max(len(t) for t, _, _ in self.fields) + 1
        nwidth = max(len(n) for _, n, _ in self.fields) + 2
        lines = [f"table {self.table}", f'"{self.comment}"', "    ("]
        for typ, name, desc in self.fields:
            lines.append(f"    {typ:<{width}}{name + ';':<{nwidth}}\"{desc}\"")
        lines.append("    )")
        return "\n".join(lines) + "\n"


_AS_FIELD = re.compile(r"^\s*([A-Za-z_][\w\[\]]*(?:\s*\[\s*\w*\s*\])?)\s+([A-Za-z_]\w*)\s*;")


def parse_autosql_names(text: str) -> list[str]:
    """Field names of an autoSql table definition, in order."""
    body = text.split("(", 1)[1] if "(" in text else ""
    return [m.group(2) for m in (_AS_FIELD.match(line) for line in body.splitlines()) if m]


def bed_sort_order(chrom: np.ndarray, start: np.ndarray, end: np.ndarray, tiebreak=None) -> np.ndarray:
    """Indices sorting items like ``sort -k1,1 -k2,2n`` (chromosome as bytes, then start, end, tiebreak)."""
    keys = [np.asarray(end), np.asarray(start), np.array([c.encode() for c in chrom], dtype=object)]
    if tiebreak is not None:
        keys.insert(0, np.asarray(tiebreak))
    names = np.unique(keys[-1])
    code = np.searchsorted(names, keys[-1])  # bytes order of the names
    keys[-1] = code
    return np.lexsort(keys)


def write_bigbed(path, chrom, start, end, rest: list[str], chrom_sizes: ChromSizes, autosql: AutoSql,
                 defined_fields: int = 9, index_fields=("name",)) -> int:
    """Write a sorted ``bed{defined_fields}+`` bigBed atomically; return the number of items.

    ``rest`` holds, per item, the tab-joined fields after chromEnd (name ...),
    matching ``autosql``. Items must already be sorted (:func:`bed_sort_order`)
    and lie within ``chrom_sizes`` (0-based, half-open).
    """
    path = Path(path)
    chrom = list(chrom)
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    _check_sorted(path, chrom, start)
    field_ids = [autosql.names.index(f) for f in index_fields] if len(chrom) else []
    data = bigbed_bytes(chrom_sizes.sorted_items(), chrom, start, end, rest, autosql.text(), len(autosql.fields),
                        defined_fields, field_ids)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
        verify_bigbed(tmp, chrom, autosql, defined_fields)
    log.debug("%s: %d items", path, len(chrom))
    return len(chrom)


def _check_sorted(path, chrom, start) -> None:
    keys = [c.encode() for c in chrom]
    for i in range(1, len(keys)):
        if keys[i] < keys[i - 1] or (keys[i] == keys[i - 1] and start[i] < start[i - 1]):
            raise ValueError(f"{path}: items are not sorted at item {i} ({chrom[i]}:{start[i]})")


def verify_bigbed(path, chrom: list, autosql: AutoSql, defined_fields: int) -> None:
    """Re-open with pyBigWig: per-chromosome item counts, field count, schema and definedFieldCount."""
    import pyBigWig

    header = bbifile.read_header_of(path)
    problems = []
    if header.defined_field_count != defined_fields or header.field_count != len(autosql.fields):
        problems.append(f"fieldCount {header.field_count}/definedFieldCount {header.defined_field_count}, "
                        f"want {len(autosql.fields)}/{defined_fields}")
    bb = pyBigWig.open(str(path))
    try:
        if bb is None or not bb.isBigBed():
            raise TrackWriteError(f"{path}: pyBigWig cannot open the bigBed just written")
        if parse_autosql_names(bb.SQL().decode()) != autosql.names:
            problems.append("autoSql schema differs")
        names, counts = np.unique(np.array(chrom, dtype=object), return_counts=True) if chrom else ((), ())
        sizes = bb.chroms()
        for name, want in zip(names, counts):
            got = bb.entries(name, 0, sizes[name]) or []
            if len(got) != want:
                problems.append(f"{name}: {len(got)} items read back, {want} written")
            elif got and got[0][2].count("\t") + 4 != len(autosql.fields):
                problems.append(f"{name}: items have {got[0][2].count(chr(9)) + 4} fields, schema {len(autosql.fields)}")
    finally:
        if bb is not None:
            bb.close()
    if problems:
        raise TrackWriteError(f"{path}: the bigBed just written does not read back: {'; '.join(problems)}")
