"""What the report pages of one workspace share: options, the sources of each epigenome, the explain cache.

A :class:`ReportContext` is made once per workspace (per process) and reused
for every page: it reads the models, predictions, the hub's track manifest
(``WS/hub/tracks.json``), the peak manifest (``WS/peaks.tsv``) and the ChromHMM
segmentations recorded by ``shallowchrome chromhmm``
(``WS/interpretation/chromhmm.json``), and makes indexed copies of the input
files on first use (see :mod:`shallowchrome.tracks.reports.regions`).
Coordinates are 0-based, half-open.
"""
from __future__ import annotations

import json
import logging
import operator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError, ShallowChromeError
from shallowchrome.tracks.analysis.explain import check_epigenomes
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.reports.regions import ensure_copy, peak_bed_text, safe_name, segmentation_bed_text
from shallowchrome.tracks.workspace.layout import DEFAULT_GENOME, Workspace, track_filename

log = logging.getLogger(__name__)

MAX_FLANK = 1_000_000
DEFAULT_IGV_URL = "/static/igv/igv.min.js"
#: File stems a page may not take (the index, and names Windows reserves).
RESERVED_STEMS = {"INDEX", "CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                  *(f"LPT{i}" for i in range(1, 10))}


@dataclass
class ReportOptions:
    """How pages are made.

    ``flank``: bp shown either side of the TSS. ``embed``: inline igv.js (the
    page opens from disk) or load it from ``igv_js_url``. ``links``: (label,
    href) pairs for the page's header; ``{gene_id}`` in an href is replaced by
    the gene's id.
    """

    flank: int = 10_000
    embed: bool = True
    igv_js_url: str = DEFAULT_IGV_URL
    links: tuple = (("all reports", "index.html"),)

    def check(self) -> "ReportOptions":
        """Validate the options (a bad ``flank`` is an :class:`InputError`); returns them, ``flank`` as an int."""
        try:
            flank = operator.index(self.flank) if not isinstance(self.flank, bool) else None
        except TypeError:
            flank = None
        if flank is None or not 1 <= flank <= MAX_FLANK:
            raise InputError(None, f"--flank {self.flank} is out of range",
                             fix=f"give a whole number of bp between 1 and {MAX_FLANK:,}")
        self.flank = int(flank)
        return self


@dataclass
class Region:
    """A page's region, BED-style (0-based, half-open), around a gene's TSS (0-based)."""

    chrom: str
    start: int
    end: int
    tss: int

    def locus(self) -> str:
        """``chrom:start-end`` as browsers display it (1-based, closed)."""
        return f"{self.chrom}:{self.start + 1:,}-{self.end:,}"


@dataclass
class EpigenomeSources:
    """What the pages need of one epigenome: model, predictions, hub tracks, input files."""

    eid: str
    tissue: str
    model: dict
    predictions: pd.DataFrame
    predictions_bed: Path
    contributions: dict  # mark → the hub's contribution bigWig
    peak_files: dict  # (mark, format) → input peak file
    segmentation: Path | None

    @property
    def marks(self) -> list[str]:
        return list(self.model["marks"])

    def format_of(self, mark: str) -> str | None:
        """The peak format of ``mark`` in the interpretation model."""
        return (self.model.get("formats") or {}).get(mark)


class ReportContext:
    """Everything the pages of one workspace share; see the module docstring."""

    def __init__(self, ws: Workspace, epigenomes=None, options: ReportOptions | None = None):
        self.ws = ws
        self.options = (options or ReportOptions()).check()
        self.eids = check_epigenomes(ws, epigenomes)
        if not self.eids:
            raise InputError(ws.root, "has no fitted epigenome to report on",
                             fix="rebuild it with `shallowchrome build`")
        manifest = hub_manifest(ws)
        self.genome = manifest.get("genome") or DEFAULT_GENOME
        self.window = int(ws.info["parameters"]["window"])
        self.sizes = chrom_sizes(ws, self.genome)
        self.cache_dir = ws.report_cache_dir
        peaks = pd.read_csv(ws.peaks_path, sep="\t", dtype=str)
        segmentations = recorded_segmentations(ws)
        self.sources = {eid: epigenome_sources(ws, eid, manifest, peaks, segmentations.get(eid)) for eid in self.eids}
        self.has_chromhmm = any("chromhmm_state" in s.predictions for s in self.sources.values())
        self.explain_cache: dict = {}
        self._ambiguous = ambiguous_symbols(ws.genes())

    # indexed copies of the inputs -------------------------------------------
    def peak_copy(self, eid: str, mark: str, fmt: str | None) -> tuple[Path | None, str]:
        """(indexed copy, "") of the epigenome's ``mark`` peaks in ``fmt``, or (None, why not)."""
        source = self.sources[eid].peak_files.get((mark, fmt))
        if source is None:
            return None, f"peaks.tsv lists no {fmt} file of {mark}"
        if not source.is_file():
            return None, f"input file {source} not found"
        copy = self.cache_dir / "peaks" / f"{safe_name(eid)}-{safe_name(mark)}.{safe_name(fmt)}.bed.gz"
        try:
            return ensure_copy(copy, source, lambda s: peak_bed_text(s, fmt)), ""
        except ShallowChromeError as exc:
            log.warning("%s %s: peaks not shown: %s", eid, mark, exc)
            return None, str(exc)

    def segmentation_copy(self, eid: str) -> Path | None:
        """The indexed copy of the epigenome's ChromHMM segmentation, when one is recorded and still exists."""
        source = self.sources[eid].segmentation
        if source is None or not source.is_file():
            return None
        try:
            return ensure_copy(self.cache_dir / "chromhmm" / f"{safe_name(eid)}.bed.gz", source, segmentation_bed_text)
        except ShallowChromeError as exc:
            log.warning("%s: ChromHMM segments not shown: %s", eid, exc)
            return None

    def prepare(self, progress: bool = False) -> None:
        """Make now the copies most pages use (the interpretation models' formats, the segmentations)."""
        from tqdm.auto import tqdm

        tasks = [(eid, m) for eid, s in self.sources.items() for m in s.marks] + [(eid, None) for eid in self.sources]
        for eid, mark in tqdm(tasks, desc="indexing inputs", unit="file", disable=not progress, leave=False):
            if mark is None:
                self.segmentation_copy(eid)
            else:
                self.peak_copy(eid, mark, self.sources[eid].format_of(mark))

    # genes -------------------------------------------------------------------
    def page_name(self, gene: dict) -> str:
        """File stem of a gene's page: its symbol, or ``SYMBOL_ENSGID`` when the symbol names several genes.

        Safe for file systems (letters, digits, ``.``, ``_``, ``-``), never a
        reserved name, deterministic: it depends on the workspace's genes only.
        """
        symbol = str(gene.get("symbol") or "")
        stem = safe_name(symbol).strip("._") if symbol else ""
        if not stem:
            return safe_name(gene["gene_id"])
        if symbol.upper() in self._ambiguous or stem.upper() in RESERVED_STEMS:
            stem = f"{stem}_{safe_name(gene['gene_id'])}"
        return stem[:120]

    def region(self, gene: dict) -> Region:
        """TSS ± flank (the TSS base in the middle), clipped to the chromosome."""
        chrom, tss = str(gene["chrom"]), int(gene["tss"])
        size = self.sizes.get(chrom)
        if size is None:
            raise InputError(self.ws.genes_path, f"gene {gene['gene_id']} lies on {chrom}, absent from the "
                             f"{self.genome} chromosome sizes",
                             fix="rebuild the tracks with the assembly the genes use")
        return Region(chrom, max(0, tss - self.options.flank), min(size, tss + self.options.flank + 1), tss)


def hub_manifest(ws: Workspace) -> dict:
    """WS/hub/tracks.json (written last by ``shallowchrome tracks``)."""
    manifest = ws.hub_manifest()
    if manifest is None:
        raise InputError(ws.root, f"has no track hub ({ws.hub_manifest_path.relative_to(ws.root).as_posix()}), "
                         "whose tracks the report pages show", fix=f"run `shallowchrome tracks {ws.root}` first")
    return manifest


def chrom_sizes(ws: Workspace, genome: str) -> dict:
    """The hub's chrom.sizes, else the packaged table of ``genome``."""
    hub_copy = ws.chrom_sizes_path(genome)
    return load_chrom_sizes(genome, hub_copy if hub_copy.is_file() else None).sizes


def recorded_segmentations(ws: Workspace) -> dict:
    """Epigenome → the segmentation ``shallowchrome chromhmm`` recorded in WS/interpretation/chromhmm.json."""
    path = ws.interpretation_path("chromhmm.json")
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    return {eid: Path(info["segmentation"]) for eid, info in (doc.get("epigenomes") or {}).items()
            if isinstance(info, dict) and info.get("segmentation")}


def epigenome_sources(ws: Workspace, eid: str, manifest: dict, peaks: pd.DataFrame, segmentation) -> EpigenomeSources:
    """Model, predictions, hub tracks and input files of one epigenome; a missing prediction track is an error."""
    tracks = [t for t in manifest.get("tracks", []) if t.get("epigenome") == eid]
    hub = ws.hub_dir
    bed = next((hub / Path(t["path"]).parent / track_filename(eid, "bed.gz") for t in tracks if t["kind"] == "predictions"),
               None)
    if bed is None or not bed.is_file() or not Path(f"{bed}.tbi").is_file():
        raise InputError(hub, f"has no indexed prediction track of {eid} ({track_filename(eid, 'bed.gz')} + .tbi)",
                         fix=f"run `shallowchrome tracks {ws.root}`")
    contributions = {t["mark"]: hub / t["path"] for t in tracks if t["kind"] == "contribution"}
    rows = peaks[peaks["epigenome"] == eid]
    files = {(m, f): Path(p) for m, f, p in zip(rows["mark"], rows["format"], rows["path"])}
    model = ws.model(eid)
    tissue = ws.info["epigenomes"].get(eid, {}).get("tissue") or model.get("tissue") or ""
    return EpigenomeSources(eid=eid, tissue=tissue.replace("_", " "), model=model, predictions=ws.predictions(eid),
                            predictions_bed=bed, contributions=contributions, peak_files=files,
                            segmentation=segmentation)


def ambiguous_symbols(genes: pd.DataFrame) -> set:
    """Symbols (upper case) that name genes with different ids; their pages are named ``SYMBOL_ENSGID``."""
    named = genes[genes["symbol"] != ""]
    ids = named.groupby(named["symbol"].str.upper())["gene_id"].nunique()
    return set(ids[ids > 1].index)
