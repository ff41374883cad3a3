"""Gene tables: where each gene's TSS is.

Accepted inputs (gz or plain):

- TSV with a header: ``chrom``, ``tss``, ``gene_id`` and optional ``symbol``,
  ``strand`` (the layout of the REMC benchmark's genes.hg19.tsv). ``tss`` is
  taken as given (a 0-based position; windows are symmetric around it).
- GTF (``.gtf``) and GFF3 (``.gff``, ``.gff3``): records of type ``gene``;
  the TSS is the 5' end by strand (start on +, end on -), converted from the
  1-based closed GFF coordinates to a 0-based position.
- BED6 (``.bed``): name = gene id, TSS = chromStart on +, chromEnd - 1 on -.

Missing symbols (empty, or ``NA``/``N/A``/``.`` as R and BED tools write them;
the REMC benchmark table has 996 ``NA``) become empty, so such genes are
named by their gene id. Ensembl ids lose their version suffix (``ENSG00000000003.14`` →
``ENSG00000000003``) so they match expression tables keyed without versions.
Returned columns: ``gene_id``, ``symbol``, ``chrom`` (UCSC names), ``tss``
(int), ``strand`` (``+``, ``-`` or ``.``), in file order.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.chroms import normalise
from shallowchrome.tracks.io.peaks import diagnose_lines
from shallowchrome.tracks.io.tables import check_unique_ids, first_bad_row, read_tsv
from shallowchrome.tracks.io.textio import data_lines, read_bytes, strip_header_lines

GENE_COLUMNS = ["gene_id", "symbol", "chrom", "tss", "strand"]
MISSING_SYMBOLS = ("NA", "N/A", "n/a", ".")
_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*\d{6,})\.\d+$")


def strip_version(ids: pd.Series) -> pd.Series:
    return ids.str.replace(_ENSEMBL_VERSION, r"\1", regex=True)


def genes_format(path) -> str:
    name = re.sub(r"\.(gz|bgz)$", "", Path(path).name.lower())
    if name.endswith(".gtf"):
        return "gtf"
    if name.endswith((".gff", ".gff3")):
        return "gff3"
    if re.search(r"\.bed\d*$", name):
        return "bed"
    return "tsv"


def read_genes(path, protein_coding_only: bool = False) -> pd.DataFrame:
    """Read a gene table in any accepted layout; see the module docstring."""
    fmt = genes_format(path)
    if fmt == "tsv":
        genes = _read_tsv_genes(path)
    elif fmt == "bed":
        genes = _read_bed_genes(path)
    else:
        genes = _read_gff_genes(path, fmt, protein_coding_only)
    if genes.empty:
        raise InputError(path, "contains no genes", fix="give a non-empty gene table")
    return genes.reset_index(drop=True)


def _read_tsv_genes(path) -> pd.DataFrame:
    frame = read_tsv(path, "gene table", required=("chrom", "tss", "gene_id"))
    for col in ("chrom", "tss", "gene_id"):
        row = first_bad_row(frame[col].isna())
        if row is not None:
            raise InputError(path, f"empty {col}", line=row + 2, fix="fill in the value or remove the line")
    tss = pd.to_numeric(frame["tss"], errors="coerce")
    row = first_bad_row(tss.isna() | (tss < 0) | (tss % 1 != 0))
    if row is not None:
        raise InputError(path, f"tss {frame['tss'][row]!r} is not a non-negative integer", line=row + 2,
                         fix="tss must be a 0-based integer position")
    ids = strip_version(frame["gene_id"].str.strip())
    check_unique_ids(path, ids, "gene_id", same=pd.DataFrame({"chrom": frame["chrom"], "tss": tss}))
    symbol = frame["symbol"].fillna("") if "symbol" in frame else pd.Series("", index=frame.index)
    symbol = symbol.where(~symbol.str.strip().isin(MISSING_SYMBOLS), "")
    strand = frame["strand"].fillna(".") if "strand" in frame else pd.Series(".", index=frame.index)
    row = first_bad_row(~strand.isin(["+", "-", "."]))
    if row is not None:
        raise InputError(path, f"strand {strand[row]!r} is not +, - or .", line=row + 2, fix="use +, - or .")
    return pd.DataFrame({"gene_id": ids, "symbol": symbol.str.strip(), "chrom": normalise(frame["chrom"].str.strip()),
                         "tss": tss.astype(np.int64), "strand": strand})


def _read_bed_genes(path) -> pd.DataFrame:
    raw = read_bytes(path)
    body = strip_header_lines(raw)
    try:
        frame = pd.read_csv(io.BytesIO(body), sep="\t", header=None, dtype={0: str, 3: str, 5: str},
                            keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, f"malformed BED: {str(exc).splitlines()[0]}", fix="give a tab-separated BED6 file") from None
    if frame.shape[1] < 6:
        raise InputError(path, f"gene BED has {frame.shape[1]} columns; BED6 (name = gene id, strand) is needed",
                         line=1, fix="add name, score and strand columns")
    if not (pd.api.types.is_integer_dtype(frame[1]) and pd.api.types.is_integer_dtype(frame[2])) \
            or frame[[1, 2]].isna().to_numpy().any():
        diagnose_lines(Path(path), raw, "bed")  # names the bad line and raises
    row = first_bad_row(frame[[0, 3, 5]].isna().any(axis=1).to_numpy())
    if row is not None:
        line = next(number for k, (number, _) in enumerate(data_lines(raw)) if k == row)
        raise InputError(path, "empty chrom, name or strand field", line=line,
                         fix="BED6 gene records need chrom, name (the gene id) and strand (+, - or .)")
    strand = frame[5]
    tss = np.where(strand == "-", frame[2] - 1, frame[1]).astype(np.int64)
    ids = strip_version(frame[3])
    check_unique_ids(path, ids, "gene id (BED name)", line_offset=None)
    return pd.DataFrame({"gene_id": ids, "symbol": "", "chrom": normalise(frame[0]), "tss": tss,
                         "strand": strand.where(strand.isin(["+", "-"]), ".")})


def _attr(attrs: pd.Series, key: str, gff3: bool) -> pd.Series:
    pattern = rf'(?:^|;)\s*{key}=([^;]*)' if gff3 else rf'(?:^|;)\s*{key} "([^"]*)"'
    return attrs.str.extract(pattern, expand=False)


def _read_gff_genes(path, fmt: str, protein_coding_only: bool) -> pd.DataFrame:
    raw = read_bytes(path)
    gff3 = fmt == "gff3"
    if gff3 and b"##FASTA" in raw:
        raw = raw[: raw.index(b"##FASTA")]
    try:
        frame = pd.read_csv(io.BytesIO(raw), sep="\t", header=None, comment="#", dtype=str,
                            keep_default_na=False, na_values=[""], usecols=range(9))
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(path, f"malformed {fmt.upper()}: {str(exc).splitlines()[0]}",
                         fix=f"give a tab-separated {fmt.upper()} file with 9 columns") from None
    genes = frame[frame[2] == "gene"]
    if genes.empty:
        raise InputError(path, f"no 'gene' records in this {fmt.upper()}", fix="give a file with gene records (feature type 'gene')")
    attrs = genes[8].fillna("")
    if gff3:
        ids = _attr(attrs, "gene_id", True).fillna(_attr(attrs, "ID", True).str.replace(r"^gene:", "", regex=True))
        symbol = _attr(attrs, "Name", True).fillna(_attr(attrs, "gene_name", True))
        biotype = _attr(attrs, "biotype", True).fillna(_attr(attrs, "gene_type", True)).fillna(_attr(attrs, "gene_biotype", True))
    else:
        ids = _attr(attrs, "gene_id", False)
        symbol = _attr(attrs, "gene_name", False)
        biotype = _attr(attrs, "gene_type", False).fillna(_attr(attrs, "gene_biotype", False))
    start = pd.to_numeric(genes[3], errors="coerce")
    end = pd.to_numeric(genes[4], errors="coerce")
    bad = ids.isna() | start.isna() | end.isna() | (end < start)
    if bad.any():
        raise InputError(path, f"gene record without gene id or with bad coordinates (record {first_bad_row(bad) + 1} of the genes)",
                         fix="each gene record needs a gene id attribute and start <= end")
    out = pd.DataFrame({"gene_id": strip_version(ids), "symbol": symbol.fillna(""), "chrom": normalise(genes[0]),
                        "tss": np.where(genes[6] == "-", end - 1, start - 1).astype(np.int64),
                        "strand": genes[6].where(genes[6].isin(["+", "-"]), ".")})
    if protein_coding_only:
        out = out[biotype.fillna("").to_numpy() == "protein_coding"]
    out = out.reset_index(drop=True)
    check_unique_ids(path, out["gene_id"], "gene_id", line_offset=None)
    return out
