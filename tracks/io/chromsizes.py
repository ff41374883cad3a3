"""Chromosome sizes of a genome assembly (UCSC ``chrom.sizes``: name, tab, length in bp).

hg19 is packaged (``tracks/data/hg19.chrom.sizes``); any other assembly needs
its own file (``--chrom-sizes``), e.g. from UCSC's ``fetchChromSizes``.
Names are compared in UCSC style (``chr1``), like everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import ucsc_name
from shallowchrome.tracks.io.textio import data_lines, read_bytes

PACKAGED = ("hg19",)


@dataclass(frozen=True)
class ChromSizes:
    """Chromosome name → length (bp), in the order of the source; ``source`` names the file."""

    genome: str
    sizes: dict
    source: str

    def sorted_items(self) -> list[tuple[str, int]]:
        """(name, length) sorted by name as bytes, the order of ``sort -k1,1`` that BBI files use."""
        return sorted(self.sizes.items(), key=lambda kv: kv[0].encode())

    def text(self) -> str:
        return "".join(f"{c}\t{n}\n" for c, n in self.sizes.items())


def packaged_path(genome: str):
    return resources.files("shallowchrome.tracks").joinpath("data", f"{genome}.chrom.sizes")


def load_chrom_sizes(genome: str = "hg19", path=None) -> ChromSizes:
    """Sizes from ``path`` when given, else the packaged table of ``genome`` (hg19 only)."""
    if path is None:
        if genome not in PACKAGED:
            raise InputError(None, f"no packaged chromosome sizes for genome {genome!r} (packaged: "
                             f"{', '.join(PACKAGED)})", fix=f"give the assembly's sizes with --chrom-sizes {genome}.chrom.sizes")
        src = packaged_path(genome)
        with resources.as_file(src) as real:
            return ChromSizes(genome, _parse(real), f"packaged {genome}.chrom.sizes")
    return ChromSizes(genome, _parse(Path(path)), str(path))


def _parse(path: Path) -> dict:
    sizes: dict = {}
    for number, text in data_lines(read_bytes(path)):
        fields = text.split("\t") if "\t" in text else text.split()
        if len(fields) < 2 or not fields[1].strip().isdigit() or int(fields[1]) <= 0:
            raise InputError(path, "not a chrom.sizes line (want: name, tab, length in bp)", line=number,
                             fix="give a UCSC chrom.sizes file (e.g. from fetchChromSizes)")
        name = ucsc_name(fields[0].strip())
        if name in sizes:
            raise InputError(path, f"chromosome {name} is listed twice", line=number, fix="remove the duplicate line")
        sizes[name] = int(fields[1])
    if not sizes:
        raise InputError(path, "contains no chromosome sizes", fix="give a UCSC chrom.sizes file")
    return sizes


def check_genes_fit(chrom_sizes: ChromSizes, chrom: np.ndarray, tss: np.ndarray, gene_id: np.ndarray, what: str) -> None:
    """Raise when a gene lies on a chromosome absent from the sizes, or its TSS is beyond the chromosome end."""
    chrom = np.asarray(chrom, dtype=object)
    absent = sorted({c for c in np.unique(chrom) if c not in chrom_sizes.sizes})
    if absent:
        n = int(np.isin(chrom, absent).sum())
        shown = ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else "")
        raise InputError(what, f"{n} gene(s) lie on chromosome(s) {shown}, absent from the {chrom_sizes.genome} "
                         f"chromosome sizes ({chrom_sizes.source})",
                         fix="give the assembly the genes use with --genome NAME --chrom-sizes FILE")
    limit = np.array([chrom_sizes.sizes[c] for c in chrom], dtype=np.int64)
    beyond = np.flatnonzero(np.asarray(tss, dtype=np.int64) >= limit)
    if beyond.size:
        i = beyond[0]
        raise InputError(what, f"gene {gene_id[i]} has its TSS at {chrom[i]}:{tss[i]}, beyond the end of {chrom[i]} "
                         f"({limit[i]} bp in {chrom_sizes.source}); {beyond.size} gene(s) affected",
                         fix="the genes use another assembly: give it with --genome NAME --chrom-sizes FILE")
