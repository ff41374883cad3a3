"""The peak-format registry: every peak file format the product reads, its spec, in one place.

=============  =========  =============================  ===========================
format         columns    signal (0-based column)         file names
=============  =========  =============================  ===========================
narrowPeak     10 (BED6+4) signalValue, 6                 .narrowPeak[.gz]
broadPeak      9 (BED6+3)  signalValue, 6                 .broadPeak[.gz]
gappedPeak     15 (BED12+3) signalValue, 12               .gappedPeak[.gz]
bed            3 or more   none: presence (1.0)           .bed, .bed4, .bed6+4 ... [.gz]
bigBed         binary      the autoSql ``signalValue``    .bb, .bigBed
=============  =========  =============================  ===========================

(ENCODE/UCSC specs; coordinates 0-based half-open.) The three ENCODE peak
formats are the ones a model configuration chooses between
(:data:`shallowchrome.model.selection.PEAK_FORMATS`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shallowchrome.model.errors import InputError
from shallowchrome.model.selection import PEAK_FORMATS as CONFIGURABLE


@dataclass(frozen=True)
class PeakFormat:
    """One peak file format: its column count (None: BED3 or more), signal column and file-name endings."""

    name: str
    columns: int | None
    signal_column: int | None
    suffixes: tuple
    aliases: tuple = ()
    binary: bool = False

    @property
    def has_signal(self) -> bool:
        """True when every file of the format carries a signalValue (bigBed: when its autoSql has one)."""
        return self.signal_column is not None


PEAK_FORMATS = {f.name: f for f in (
    PeakFormat("narrowPeak", 10, 6, ("narrowpeak",)),
    PeakFormat("broadPeak", 9, 6, ("broadpeak",)),
    PeakFormat("gappedPeak", 15, 12, ("gappedpeak",)),
    PeakFormat("bed", None, None, ()),
    PeakFormat("bigBed", None, None, ("bigbed", "bb"), aliases=("bb",), binary=True),
)}
FORMATS = tuple(PEAK_FORMATS)
#: The ENCODE peak formats (narrowPeak, broadPeak, gappedPeak): those REMC publishes and configurations choose.
ENCODE_FORMATS = tuple(f for f in FORMATS if PEAK_FORMATS[f].columns is not None)
assert ENCODE_FORMATS == tuple(CONFIGURABLE), "the model's configurable formats are the ENCODE peak formats"
_ALIASES = {a.lower(): f.name for f in PEAK_FORMATS.values() for a in (f.name, *f.aliases)}
_BED = re.compile(r"\.bed\d*(\+\d*)?$")


def normalise_format(name: str, source=None, line=None) -> str:
    """The registry's spelling of a format name (case-insensitive, ``bb`` for bigBed); an error names the file."""
    fmt = _ALIASES.get(str(name).strip().lower())
    if fmt is None:
        raise InputError(source, f"unknown peak format {name!r}", line=line, fix=f"use one of {', '.join(FORMATS)}")
    return fmt


def infer_format(path) -> str | None:
    """The peak format from a file name (``.narrowPeak[.gz]``, ``.bed4.gz``, ``.bb`` ...), or None."""
    name = re.sub(r"\.(gz|bgz)$", "", Path(path).name.lower())
    for fmt in PEAK_FORMATS.values():
        if any(name.endswith("." + suffix) for suffix in fmt.suffixes):
            return fmt.name
    return "bed" if _BED.search(name) else None
