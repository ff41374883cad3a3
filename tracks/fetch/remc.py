"""The Roadmap Epigenomics (REMC) catalogue: epigenome ids, marks, file URLs, and its two RNA files.

Public layout (hg19), under ``DEFAULT_BASE_URL``:

- peaks: ``byFileType/peaks/consolidated/{FORMAT}/{EID}-{MARK}.{FORMAT}.gz`` for
  FORMAT in narrowPeak, broadPeak, gappedPeak; DNase is published as MACS2
  narrowPeak only, ``.../narrowPeak/{EID}-DNase.macs2.narrowPeak.gz``.
- expression: ``byDataType/rna/expression/57epigenomes.RPKM.pc.gz``, a TSV
  with a header ``gene_id E000 E003 ...``: RPKM of protein-coding genes in
  56 epigenomes plus E000, the "universal reference" RNA (no chromatin data).
- gene annotation: ``byDataType/rna/expression/Ensembl_v65.Gencode_v10.ENSG.gene_info``
  (see :func:`read_gene_info` for its layout).

Epigenome ids are E001–E129 without E060 and E064 (withdrawn): the 111
Roadmap reference epigenomes plus 16 ENCODE cell lines (E114–E129). All of
them have the five core marks (the ChromHMM core set); other marks exist only
for some epigenomes, and a missing one is a 404.
"""
from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import normalise
from shallowchrome.tracks.io.formats import ENCODE_FORMATS
from shallowchrome.tracks.io.genes import GENE_COLUMNS, strip_version
from shallowchrome.tracks.io.textio import read_bytes

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://egg2.wustl.edu/roadmap/data"
RPKM_PATH = "byDataType/rna/expression/57epigenomes.RPKM.pc.gz"
GENE_INFO_PATH = "byDataType/rna/expression/Ensembl_v65.Gencode_v10.ENSG.gene_info"
PEAK_FORMATS = ENCODE_FORMATS  # REMC publishes the three ENCODE peak formats

#: Consolidated epigenome ids: E001–E129 without the withdrawn E060 and E064.
EPIGENOMES = tuple(f"E{n:03d}" for n in range(1, 130) if n not in (60, 64))
#: E000 is in the RPKM table only: the universal reference RNA, no peaks.
EXPRESSION_ONLY = ("E000",)
#: The five core marks, available for every epigenome (ChromHMM's core set).
CORE_MARKS = ("H3K4me3", "H3K4me1", "H3K36me3", "H3K27me3", "H3K9me3")
#: Marks REMC publishes peaks for in some epigenomes (e.g. E003 / E017 have most of them).
OTHER_MARKS = ("H3K27ac", "H3K9ac", "H3K4me2", "H3K79me1", "H3K79me2", "H4K20me1", "H2A.Z", "H2AK5ac",
               "H2AK9ac", "H2BK5ac", "H2BK12ac", "H2BK15ac", "H2BK20ac", "H2BK120ac", "H3K4ac", "H3K9me1",
               "H3K14ac", "H3K18ac", "H3K23ac", "H3K23me2", "H3K56ac", "H4K5ac", "H4K8ac", "H4K91ac", "DNase")
MARKS = CORE_MARKS + OTHER_MARKS
_MARK_BY_LOWER = {m.lower(): m for m in MARKS}
#: chromosomes kept from the annotation (the assembled hg19 chromosomes, UCSC names).
PRIMARY_CHROMS = frozenset([f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY", "chrM"])


# --- catalogue ---------------------------------------------------------------------------------------------

def check_epigenomes(ids) -> list[str]:
    """Canonical ids (``e66`` is not accepted, ``e066`` → ``E066``), unique, in the given order.

    Raises :class:`InputError` for anything outside the catalogue.
    """
    out = []
    for raw in ids:
        eid = str(raw).strip().upper()
        if eid in EXPRESSION_ONLY or eid in EPIGENOMES:
            if eid not in out:
                out.append(eid)
            continue
        if re.fullmatch(r"E\d{3}", eid):
            why = "was withdrawn" if eid in ("E060", "E064") else "is outside E001–E129"
            raise InputError(None, f"unknown epigenome {raw}: it {why}",
                             fix="REMC epigenome ids are E001–E129 except E060 and E064")
        raise InputError(None, f"unknown epigenome {raw!r}: REMC ids look like E003",
                         fix="give ids such as E003,E116,E123 (E001–E129 except E060 and E064)")
    if not out:
        raise InputError(None, "no epigenomes given", fix="give ids such as E003,E116,E123")
    return out


def check_marks(marks) -> list[str]:
    """Canonical spellings (matched case-insensitively), unique, in the given order."""
    out = []
    for raw in marks:
        mark = _MARK_BY_LOWER.get(str(raw).strip().lower())
        if mark is None:
            raise InputError(None, f"unknown mark {raw}; known: {', '.join(CORE_MARKS)} (core, in every "
                                   f"epigenome), {', '.join(OTHER_MARKS)}",
                             fix="use one of the known marks (case does not matter)")
        if mark not in out:
            out.append(mark)
    if not out:
        raise InputError(None, "no marks given", fix=f"give marks such as {','.join(CORE_MARKS[:2])}")
    return out


def check_formats(formats) -> list[str]:
    """Canonical REMC peak formats (narrowPeak, broadPeak, gappedPeak), unique, in order."""
    out = []
    for raw in formats:
        fmt = {f.lower(): f for f in PEAK_FORMATS}.get(str(raw).strip().lower())
        if fmt is None:
            raise InputError(None, f"unknown peak format {raw}; REMC publishes {', '.join(PEAK_FORMATS)}",
                             fix="use narrowPeak, broadPeak and/or gappedPeak")
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise InputError(None, "no formats given", fix="use narrowPeak, broadPeak and/or gappedPeak")
    return out


def peak_file_name(epigenome: str, mark: str, fmt: str) -> str | None:
    """REMC's file name for one peak file, or None when REMC does not publish that combination."""
    if mark == "DNase":
        return f"{epigenome}-DNase.macs2.narrowPeak.gz" if fmt == "narrowPeak" else None
    return f"{epigenome}-{mark}.{fmt}.gz"


def peak_url(base_url: str, epigenome: str, mark: str, fmt: str) -> str | None:
    name = peak_file_name(epigenome, mark, fmt)
    return None if name is None else f"{base_url.rstrip('/')}/byFileType/peaks/consolidated/{fmt}/{name}"


def rpkm_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{RPKM_PATH}"


def gene_info_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{GENE_INFO_PATH}"


def peak_not_found_fix(base_url: str, epigenome: str, mark: str, fmt: str) -> str:
    """The advice for a 404 on a peak file."""
    folder = f"{base_url.rstrip('/')}/byFileType/peaks/consolidated/{fmt}/"
    core = "" if mark in CORE_MARKS else f"; {mark} is not a core mark, so many epigenomes lack it"
    return (f"check that REMC has {mark} {fmt} peaks for {epigenome} (listing: {folder}){core}; "
            "fetch other marks/formats, or fix --base-url")


# --- the gene annotation -----------------------------------------------------------------------------------

def read_gene_info(path, protein_coding_only: bool = True) -> pd.DataFrame:
    """Read REMC's ``Ensembl_v65.Gencode_v10.ENSG.gene_info`` into the gene table columns.

    Layout (no header line, tab-separated, Ensembl 1-based closed
    coordinates), as read by the Roadmap analysis code that uses it (Ernst's
    ``57epigenomes`` linking code, Zhang's R scripts):

    ====  ===========================================================
    1     Ensembl gene id (``ENSG...``)
    2     chromosome without ``chr`` (``1`` … ``22``, ``X``, ``Y``, ``MT``)
    3     gene start (1-based)
    4     gene end (1-based, inclusive)
    5     strand, ``1`` or ``-1``
    6     gene biotype (``protein_coding``, ``lincRNA``, ...)
    7     gene symbol (optional)
    8+    description (optional, ignored)
    ====  ===========================================================

    The TSS is the 5' end by strand, as a 0-based position (``start - 1`` on
    +, ``end - 1`` on -), like :func:`~shallowchrome.tracks.io.genes.read_genes`
    does for GTF. Lines starting with ``#`` and a first line that is a column
    header are skipped; every other line must have at least 6 fields. Genes on
    contigs other than chr1–22, X, Y, M are left out (logged), and a repeated
    gene id keeps its first line (warned). ``protein_coding_only`` keeps
    biotype ``protein_coding`` (the genes of the ``.pc`` RPKM table).
    """
    records = _gene_info_records(path)
    frame = pd.DataFrame.from_records(records, columns=["gene_id", "chrom", "start", "end", "strand", "biotype",
                                                       "symbol"])
    tss = np.where(frame["strand"] == "-", frame["end"] - 1, frame["start"] - 1).astype(np.int64)
    genes = pd.DataFrame({"gene_id": strip_version(frame["gene_id"]), "symbol": frame["symbol"],
                          "chrom": normalise(frame["chrom"]), "tss": tss, "strand": frame["strand"]})
    if protein_coding_only:
        genes = genes[frame["biotype"].to_numpy() == "protein_coding"]
    genes = _primary_unique(path, genes)
    if genes.empty:
        what = "protein-coding genes" if protein_coding_only else "genes"
        raise InputError(path, f"no {what} on chr1–22, X, Y or M", fix="check that this is REMC's gene_info file")
    return genes[GENE_COLUMNS].reset_index(drop=True)


def _gene_info_records(path) -> list[tuple]:
    """Parse and check every data line; raises :class:`InputError` naming the line."""
    records = []
    text = read_bytes(path).decode("utf-8", errors="replace")  # descriptions are ignored
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 6:
            raise InputError(path, f"{len(fields)} tab-separated field(s); REMC gene_info lines have at least 6 "
                                   "(gene id, chromosome, start, end, strand 1/-1, biotype[, symbol, description])",
                             line=number, fix="give the Ensembl_v65.Gencode_v10.ENSG.gene_info file, "
                                              "or a GTF with `fetch genes --gtf`")
        gene_id, chrom, start, end, strand, biotype = (f.strip() for f in fields[:6])
        if not records and not start.isdigit() and not gene_id.upper().startswith("ENS"):
            continue  # a column-name header line
        records.append(_gene_info_record(path, number, gene_id, chrom, start, end, strand, biotype,
                                         fields[6].strip() if len(fields) > 6 else ""))
    return records


def _gene_info_record(path, number, gene_id, chrom, start, end, strand, biotype, symbol) -> tuple:
    if not gene_id or not chrom:
        raise InputError(path, "empty gene id or chromosome", line=number, fix="fill in columns 1 and 2")
    if not (start.isdigit() and end.isdigit()) or int(start) < 1 or int(end) < int(start):
        raise InputError(path, f"start {start!r} / end {end!r} are not 1-based positions with start <= end",
                         line=number, fix="columns 3 and 4 must be integers, start <= end (Ensembl, 1-based)")
    sign = {"1": "+", "+1": "+", "+": "+", "-1": "-", "-": "-"}.get(strand)
    if sign is None:
        raise InputError(path, f"strand {strand!r} is not 1 or -1", line=number,
                         fix="column 5 must be the Ensembl strand, 1 or -1")
    return gene_id, chrom, int(start), int(end), sign, biotype, symbol


def _primary_unique(path, genes: pd.DataFrame) -> pd.DataFrame:
    """Drop genes on unplaced/alternative contigs and repeated ids (first kept), saying how many."""
    primary = np.isin(genes["chrom"].to_numpy(dtype=str), list(PRIMARY_CHROMS))
    if not primary.all():
        others = sorted(set(genes["chrom"][~primary]))
        log.info("%s: %d gene(s) on other contigs left out (%s%s)", path, int((~primary).sum()),
                 ", ".join(others[:3]), " ..." if len(others) > 3 else "")
        genes = genes[primary]
    dup = genes["gene_id"].duplicated()
    if dup.any():
        log.warning("%s: %d gene id(s) on more than one line (e.g. %s); the first line of each is used",
                    path, int(dup.sum()), genes["gene_id"][dup].iloc[0])
        genes = genes[~dup]
    return genes


# --- the expression table ----------------------------------------------------------------------------------

def expression_subset(expression: pd.DataFrame, epigenomes) -> tuple[pd.DataFrame, list[str]]:
    """``gene_id`` + the requested epigenomes' columns (values as read), and the requested ids it lacks.

    ``expression`` is :func:`~shallowchrome.tracks.io.expression.read_expression`'s
    frame (indexed by gene id). E000 is included only when requested.
    """
    present = [e for e in epigenomes if e in expression.columns]
    missing = [e for e in epigenomes if e not in expression.columns]
    table = expression[present].reset_index()
    return table, missing
