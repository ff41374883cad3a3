"""Fetch public data and turn it into the three inputs of ``shallowchrome build``.

:func:`fetch_remc` downloads Roadmap (REMC) peak files, the RPKM table and the
gene annotation (see :mod:`.remc` for the catalogue and URLs, :mod:`.download`
for resuming, retries and verification) and writes, in the output folder::

    OUT/genes.tsv                chrom, tss (0-based, 5' end by strand), gene_id, symbol, strand
    OUT/expression.tsv.gz        gene_id + one RPKM column per requested epigenome
    OUT/peaks.tsv                the peaks manifest (epigenome, mark, format, path relative to OUT)
    OUT/peaks/EID-MARK.FORMAT.gz the peak files as REMC names them
    OUT/rna/57epigenomes.RPKM.pc.gz, OUT/rna/Ensembl_v65.Gencode_v10.ENSG.gene_info   as downloaded

:func:`convert_genes` turns a GENCODE GTF (or REMC's gene_info), local or at a
URL, into the same genes table.
"""
from __future__ import annotations

import logging
import shlex
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.fetch import remc
from shallowchrome.tracks.fetch.download import Downloaded, DownloadError, RetryPolicy, download, is_url
from shallowchrome.tracks.io.expression import read_expression
from shallowchrome.tracks.io.genes import genes_format, read_genes
from shallowchrome.tracks.io.manifest import MANIFEST_COLUMNS
from shallowchrome.tracks.io.textio import write_table_atomic

log = logging.getLogger(__name__)

#: column order of the genes table written here (the layout of the REMC benchmark's genes.hg19.tsv + strand).
GENES_TABLE_COLUMNS = ["chrom", "tss", "gene_id", "symbol", "strand"]
GENES_NAME, EXPRESSION_NAME, MANIFEST_NAME = "genes.tsv", "expression.tsv.gz", "peaks.tsv"


@dataclass(frozen=True)
class PeakFile:
    """One planned peak download: where from, and where to (relative to the output folder)."""

    epigenome: str
    mark: str
    format: str
    url: str
    relpath: str


@dataclass
class FetchResult:
    """What :func:`fetch_remc` fetched and wrote."""

    out: Path
    genes: Path
    expression: Path
    manifest: Path
    epigenomes: list = field(default_factory=list)  # requested epigenomes with peaks and RPKM
    without_expression: list = field(default_factory=list)
    files: list = field(default_factory=list)  # Downloaded, in download order
    n_genes: int = 0

    def counts(self) -> Counter:
        """Number of files per status (``downloaded``, ``resumed``, ``skipped``)."""
        return Counter(f.status for f in self.files)

    def build_command(self, workspace: str | Path | None = None) -> str:
        """The exact ``shallowchrome build`` command for the fetched data (shell-quoted)."""
        ws = workspace if workspace is not None else self.out / "ws"
        argv = ["shallowchrome", "build", "--genes", str(self.genes), "--expression", str(self.expression),
                "--peaks", str(self.manifest)]
        if self.without_expression:
            argv += ["--epigenomes", ",".join(self.epigenomes)]
        argv += ["--out", str(ws)]
        return " ".join(shlex.quote(a) for a in argv)


def fetch_remc(out, epigenomes, marks=None, formats=("narrowPeak",), base_url: str = remc.DEFAULT_BASE_URL, *,
               protein_coding_only: bool = True, policy: RetryPolicy | None = None,
               progress: bool | None = None) -> FetchResult:
    """Download REMC peaks, RPKM and gene annotation into ``out``; write the genes, expression and manifest.

    ``marks`` defaults to the five core marks; ``formats`` are among
    narrowPeak, broadPeak, gappedPeak. Ids, marks and formats are checked
    against the catalogue before anything is downloaded. Files already
    complete are skipped, partial ones resumed. The three tables are written
    (atomically) only after every download succeeded. An epigenome without
    an RPKM column is warned about (``build`` would skip it); none with one is
    an error.
    """
    epigenomes = remc.check_epigenomes(epigenomes)
    marks = remc.check_marks(marks or remc.CORE_MARKS)
    formats = remc.check_formats(formats)
    _check_base_url(base_url)
    out = Path(out)
    plan = plan_peaks(base_url, epigenomes, marks, formats)

    files = []
    rpkm_file, info_file = out / "rna" / Path(remc.RPKM_PATH).name, out / "rna" / Path(remc.GENE_INFO_PATH).name
    files.append(download(remc.rpkm_url(base_url), rpkm_file, policy=policy, progress=progress,
                          not_found_fix="check --base-url: it must hold byDataType/rna/expression/"))
    expression, missing = remc.expression_subset(read_expression(rpkm_file), epigenomes)
    with_rna = _check_expression(rpkm_file, epigenomes, missing)
    files.append(download(remc.gene_info_url(base_url), info_file, policy=policy, progress=progress,
                          not_found_fix="check --base-url: it must hold byDataType/rna/expression/"))
    genes = remc.read_gene_info(info_file, protein_coding_only=protein_coding_only)

    for peak in plan:
        files.append(download(peak.url, out / peak.relpath, policy=policy, progress=progress,
                              not_found_fix=remc.peak_not_found_fix(base_url, peak.epigenome, peak.mark,
                                                                    peak.format)))
    result = FetchResult(out=out, genes=out / GENES_NAME, expression=out / EXPRESSION_NAME,
                         manifest=out / MANIFEST_NAME, files=files, n_genes=len(genes),
                         epigenomes=[e for e in with_rna if any(p.epigenome == e for p in plan)],
                         without_expression=missing)
    write_genes_table(result.genes, genes)
    write_table_atomic(result.expression, expression)
    write_table_atomic(result.manifest, manifest_table(plan))
    return result


def plan_peaks(base_url: str, epigenomes, marks, formats) -> list[PeakFile]:
    """The peak files to fetch, in epigenome × mark × format order (combinations REMC lacks are left out)."""
    plan = []
    for eid in epigenomes:
        if eid in remc.EXPRESSION_ONLY:
            log.info("%s is REMC's universal reference RNA: expression only, no peaks", eid)
            continue
        for mark in marks:
            for fmt in formats:
                url = remc.peak_url(base_url, eid, mark, fmt)
                if url is None:
                    log.warning("REMC publishes %s peaks as narrowPeak only: %s %s %s left out", mark, eid, mark, fmt)
                    continue
                name = remc.peak_file_name(eid, mark, fmt)
                plan.append(PeakFile(eid, mark, fmt, url, f"peaks/{name}"))
    return plan


def manifest_table(plan) -> pd.DataFrame:
    """The peaks manifest of a plan: ``epigenome``, ``mark``, ``format``, ``path`` (relative)."""
    rows = [{"epigenome": p.epigenome, "mark": p.mark, "format": p.format, "path": p.relpath} for p in plan]
    return pd.DataFrame(rows, columns=MANIFEST_COLUMNS)


def _check_expression(path: Path, epigenomes, missing) -> list[str]:
    """The requested epigenomes with RPKM; warn about the others, fail when none has any."""
    wanted = [e for e in epigenomes if e not in remc.EXPRESSION_ONLY]
    with_rna = [e for e in wanted if e not in missing]
    if wanted and not with_rna:
        raise InputError(path, f"no RPKM column for {', '.join(wanted)}: REMC has RNA-seq for 56 epigenomes only",
                         line=1, fix="choose epigenomes that are columns of this table (e.g. E003, E066, E100, "
                                     "E116, E123)")
    if missing:
        log.warning("%s has no RPKM column for %s: `build` will skip %s", path, ", ".join(missing),
                    "it" if len(missing) == 1 else "them")
    return with_rna


def _check_base_url(base_url: str) -> None:
    if not is_url(base_url):
        raise InputError(None, f"--base-url {base_url!r} is not an http(s) URL",
                         fix=f"give the folder that holds byFileType/ and byDataType/, e.g. {remc.DEFAULT_BASE_URL}")


# --- genes tables ------------------------------------------------------------------------------------------

def write_genes_table(path, genes: pd.DataFrame) -> None:
    """Write a gene frame (``read_genes`` columns) as the genes TSV ``build`` takes, atomically."""
    write_table_atomic(path, genes[GENES_TABLE_COLUMNS])


def convert_genes(source, out, *, kind: str = "gtf", protein_coding_only: bool = False,
                  policy: RetryPolicy | None = None, progress: bool | None = None) -> pd.DataFrame:
    """Convert a GTF/GFF3 (``kind="gtf"``) or REMC gene_info (``kind="gene_info"``) to the genes table ``out``.

    ``source`` is a path or an http(s) URL; a URL is downloaded (resumably)
    beside ``out`` under its own name first. The TSS is the 5' end by strand,
    0-based. Returns the genes written.
    """
    local = _local_copy(source, Path(out).parent, policy, progress)
    if kind == "gtf":
        if genes_format(local) not in ("gtf", "gff3"):
            raise InputError(local, "is not named like a GTF or GFF3 file",
                             fix="give a .gtf[.gz] or .gff3[.gz] file (GENCODE's gencode.vNN.annotation.gtf.gz)")
        genes = read_genes(local, protein_coding_only=protein_coding_only)
    elif kind == "gene_info":
        genes = remc.read_gene_info(local, protein_coding_only=protein_coding_only)
    else:
        raise ValueError(f"kind must be 'gtf' or 'gene_info', not {kind!r}")
    write_genes_table(out, genes)
    log.info("%s: %d genes from %s", out, len(genes), source)
    return genes


def _local_copy(source, folder: Path, policy, progress) -> Path:
    if not is_url(source):
        return Path(source)
    name = Path(urllib.parse.urlsplit(str(source)).path).name
    if not name:
        raise DownloadError(source, "the URL does not end in a file name", fix="give the URL of the file itself")
    got: Downloaded = download(str(source), folder / name, policy=policy, progress=progress,
                               not_found_fix="check the URL (GENCODE keeps old releases under "
                                             "https://ftp.ebi.ac.uk/pub/databases/gencode/)")
    return got.path
