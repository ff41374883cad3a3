"""What the report pages of one workspace share: options, the sources of each epigenome, the explain cache.

A :class:`ReportContext` is made once per workspace (per process) and reused
for every page: it reads the models, the hub's track manifest
(``WS/hub/tracks.json``), the peak manifest (``WS/peaks.tsv``) and the ChromHMM
segmentations recorded by ``shallowchrome chromhmm``
(``WS/interpretation/chromhmm.json``); an epigenome's predictions.tsv is read
only when a page explains it. The indexed copies of the input files are made
after the tracks (the pipeline's peak index) and, when missing, on first use,
several at a time (see :mod:`shallowchrome.tracks.reports.regions`).

A page explains and shows a few epigenomes (:meth:`ReportContext.shown`: the
:data:`DEFAULT_SHOWN` best-modelled by test AUROC, plus any the user names, at
most :data:`MAX_SHOWN`); every other one is listed with its prediction item
(:meth:`ReportContext.prediction_item`, the hub's numbers) and its tracks are
one click away. Coordinates are 0-based, half-open.
"""
from __future__ import annotations

import copy
import difflib
import functools
import json
import logging
import math
import operator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError, ShallowChromeError
from shallowchrome.tracks.analysis.explain import check_epigenomes
from shallowchrome.tracks.hub.trackdb import group_of
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.reports.regions import (
    PeakCopy,
    ensure_copy,
    fetch_lines,
    make_copies,
    peak_copy_of,
    recorded_checksums,
    safe_name,
    segmentation_bed_text,
    tabix_header,
)
from shallowchrome.tracks.workspace.layout import DEFAULT_GENOME, Workspace, track_filename

log = logging.getLogger(__name__)

MAX_FLANK = 1_000_000
#: Epigenomes a page explains and shows by default (the best-modelled), and at most (with the user's).
DEFAULT_SHOWN, MAX_SHOWN = 4, 16
#: Epigenome pairs whose comparison (a page's "why ON in A but OFF in B") a context keeps (~5 MB each).
COMPARISONS = 4
#: Threads that make missing indexed copies while a page waits.
COPY_THREADS = 2
DEFAULT_IGV_URL = "/static/igv/igv.min.js"
#: File stems a page may not take (the index, and names Windows reserves).
RESERVED_STEMS = {"INDEX", "CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                  *(f"LPT{i}" for i in range(1, 10))}


class SelectionError(InputError):
    """The epigenomes a page should show are unknown, or too many."""


@dataclass
class ReportOptions:
    """How pages are made.

    ``flank``: bp shown either side of the TSS. ``embed``: inline igv.js (the
    page opens from disk) or load it from ``igv_js_url``. ``links``: (label,
    href) pairs for the page's header; ``{gene_id}`` in an href is replaced by
    the gene's id, ``{selection}`` by ``&epigenomes=...`` naming the shown
    epigenomes beyond the default ones. ``selection_links``: the page links
    itself with another selection (``?epigenomes=``), for pages a server makes.
    """

    flank: int = 10_000
    embed: bool = True
    igv_js_url: str = DEFAULT_IGV_URL
    links: tuple = (("all reports", "index.html"),)
    selection_links: bool = False

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
    """What the pages need of one epigenome: model, predictions (read on first use), hub tracks, input files."""

    eid: str
    tissue: str
    model: dict
    load_predictions: object  # () → predictions.tsv as a DataFrame
    predictions_bed: Path
    contributions: dict  # mark → the hub's contribution bigWig
    peak_files: dict  # (mark, format) → input peak file
    segmentation: Path | None
    peak_copies: dict = field(default_factory=dict)  # (mark, format) → its PeakCopy
    group: str = "Other"  # the Roadmap group
    _predictions: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def predictions(self) -> pd.DataFrame:
        """predictions.tsv (read once, when first needed)."""
        if self._predictions is None:
            self._predictions = self.load_predictions()
        return self._predictions

    @property
    def marks(self) -> list[str]:
        return list(self.model["marks"])

    @property
    def auroc(self) -> float | None:
        """The mean test AUROC over the evaluation splits (None when not recorded)."""
        value = ((self.model.get("metrics") or {}).get("auroc") or {}).get("mean")
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    @functools.cached_property
    def item_fields(self) -> list[str]:
        """Column names of the hub's prediction items (the last header line of predictions.bed.gz)."""
        header = tabix_header(self.predictions_bed)
        return header[-1].lstrip("#").split("\t") if header else []

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
        info = ws.info
        self.genome = manifest.get("genome") or DEFAULT_GENOME
        self.window = int(info["parameters"]["window"])
        self.sizes = chrom_sizes(ws, self.genome)
        self.cache_dir = ws.report_cache_dir
        peaks = pd.read_csv(ws.peaks_path, sep="\t", dtype=str)
        segmentations = recorded_segmentations(ws)
        self.sources = {eid: epigenome_sources(ws, eid, manifest, peaks, segmentations.get(eid), info)
                        for eid in self.eids}
        self.has_chromhmm = any("chromhmm_state" in s.item_fields for s in self.sources.values())
        self.explain_cache: dict = {}
        self._genes = ws.genes()
        self._ambiguous = ambiguous_symbols(self._genes)
        self._comparisons: dict = {}  # (A, B) → Comparison, the most recent COMPARISONS
        self._current: set = set()  # copies found current (not stamped again by every page)

    def with_options(self, options: ReportOptions) -> "ReportContext":
        """This context with other page options, sharing its sources, explanations, fits and copies."""
        other = copy.copy(self)
        other.options = options.check()
        return other

    # which epigenomes a page explains ---------------------------------------
    def ranked(self) -> list[str]:
        """The epigenomes by test AUROC, best first (those without one last; ties in workspace order)."""
        order = {eid: i for i, eid in enumerate(self.eids)}
        return sorted(self.eids, key=lambda e: (-(self.sources[e].auroc if self.sources[e].auroc is not None
                                                   else -math.inf), order[e]))

    def default_shown(self) -> list[str]:
        """The :data:`DEFAULT_SHOWN` best-modelled epigenomes, in workspace order."""
        best = set(self.ranked()[:DEFAULT_SHOWN])
        return [e for e in self.eids if e in best]

    def shown(self, requested=None) -> list[str]:
        """The epigenomes a page explains and shows: the default ones plus ``requested`` (ids of this
        context), in workspace order; an unknown id or more than :data:`MAX_SHOWN` is an :class:`InputError`."""
        requested = [str(e).strip() for e in (requested or ()) if str(e).strip()]
        unknown = [e for e in dict.fromkeys(requested) if e not in self.sources]
        if unknown:
            hints = []
            for e in unknown[:5]:
                close = difflib.get_close_matches(e.upper(), [x.upper() for x in self.eids], n=1)
                hints.append(f"{e} (did you mean {self.eids[[x.upper() for x in self.eids].index(close[0])]}?)"
                             if close else e)
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            listed = ", ".join(self.eids[:8]) + (f", ... ({len(self.eids)} in all)" if len(self.eids) > 8 else "")
            raise SelectionError(None, f"unknown epigenome(s) to show: {', '.join(hints)}{more}",
                             fix=f"pick epigenomes of this workspace ({listed})")
        chosen = set(self.default_shown()) | set(requested)
        if len(chosen) > MAX_SHOWN:
            raise SelectionError(None, f"{len(chosen)} epigenomes to show (the {DEFAULT_SHOWN} best-modelled and "
                             f"{len(set(requested))} named); a page explains at most {MAX_SHOWN}",
                             fix="name fewer; every epigenome's tracks are one click away in the page")
        return [e for e in self.eids if e in chosen]

    def comparison(self, a: str, b: str):
        """Epigenome ``a`` against ``b`` (:func:`~shallowchrome.tracks.analysis.compare.compare_frames` of
        their predictions.tsv, every gene ranked by Δlogit), kept for the next pages (at most
        :data:`COMPARISONS` pairs)."""
        from shallowchrome.tracks.analysis.compare import Side, compare_frames, tissue_of

        key = (a, b)
        found = self._comparisons.pop(key, None)
        if found is None:
            sides = [Side(e, tissue_of(self.ws, e), tuple(self.sources[e].marks)) for e in key]
            found = compare_frames(self._genes, self.sources[a].predictions, self.sources[b].predictions, *sides,
                                   where=self.ws.root)
        self._comparisons[key] = found  # the most recently used last
        while len(self._comparisons) > COMPARISONS:
            self._comparisons.pop(next(iter(self._comparisons)))
        return found

    def prediction_item(self, eid: str, gene: dict) -> dict | None:
        """The hub's prediction item of ``gene`` in ``eid`` (field → text), None when the track lacks it."""
        src = self.sources[eid]
        names = src.item_fields
        if "gene_id" not in names:
            return None
        tss = int(gene["tss"])
        for line in fetch_lines(src.predictions_bed, str(gene["chrom"]), tss, tss + 1):
            rec = dict(zip(names, line.split("\t")))
            if rec.get("gene_id") == gene["gene_id"]:
                return rec
        return None

    # indexed copies of the inputs -------------------------------------------
    def peak_copy(self, eid: str, mark: str, fmt: str | None) -> tuple[Path | None, str]:
        """(indexed copy, "") of the epigenome's ``mark`` peaks in ``fmt``, or (None, why not); made now
        when the peak index lacks it."""
        pc = self.sources[eid].peak_copies.get((mark, fmt))
        if pc is None:
            return None, f"peaks.tsv lists no {fmt} file of {mark}"
        if pc.copy in self._current and pc.copy.is_file():
            return pc.copy, ""
        try:
            pc.make()
        except ShallowChromeError as exc:
            log.warning("%s %s: peaks not shown: %s", eid, mark, exc)
            return None, str(exc)
        self._current.add(pc.copy)
        return pc.copy, ""

    def input_copies(self, eids=None) -> list[PeakCopy]:
        """The indexed copies the pages of ``eids`` (default all) read: each mark in its model's format."""
        out = []
        for eid in (self.eids if eids is None else eids):
            src = self.sources[eid]
            out += [src.peak_copies[(m, src.format_of(m))] for m in src.marks if (m, src.format_of(m)) in src.peak_copies]
        return out

    def check_inputs(self, eids=None) -> list[PeakCopy]:
        """Note the current copies of ``eids`` (default all), so that pages do not stamp them again;
        returns the missing ones (nothing is written)."""
        missing = []
        for c in self.input_copies(eids):
            if c.copy in self._current:
                continue
            if c.is_current():
                self._current.add(c.copy)
            else:
                missing.append(c)
        return missing

    def ensure_inputs(self, eids=None, jobs: int = COPY_THREADS) -> None:
        """Make the missing copies of ``eids`` (default all) now, ``jobs`` threads at a time (a page does
        this before it reads them; with the peak index built it only checks their stamps, once)."""
        todo = [c for c in self.input_copies(eids) if c.copy not in self._current]
        make_copies(todo, jobs, threads=True)
        self._current.update(c.copy for c in todo if c.is_current())

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

    def prepare(self, progress: bool = False, jobs: int = 1) -> None:
        """Make now the copies most pages use (the interpretation models' formats, by ``jobs`` processes;
        the segmentations)."""
        copies = self.input_copies()
        make_copies(copies, jobs, progress)
        self._current.update(c.copy for c in copies if c.is_current())
        for eid in self.sources:
            self.segmentation_copy(eid)

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


def epigenome_sources(ws: Workspace, eid: str, manifest: dict, peaks: pd.DataFrame, segmentation,
                      info: dict | None = None) -> EpigenomeSources:
    """Model, hub tracks and input files of one epigenome (its predictions are read on first use); a
    missing prediction track is an error. ``info``: workspace.json, when the caller has read it."""
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
    info = ws.info if info is None else info
    checksums = recorded_checksums(info, eid)
    copies = {(m, f): peak_copy_of(ws, Path(p), f, checksums.get(p))
              for m, f, p in zip(rows["mark"], rows["format"], rows["path"])}
    model = ws.model(eid)
    tissue = info["epigenomes"].get(eid, {}).get("tissue") or model.get("tissue") or ""
    return EpigenomeSources(eid=eid, tissue=tissue.replace("_", " "), model=model,
                            load_predictions=functools.partial(ws.predictions, eid), predictions_bed=bed,
                            contributions=contributions, peak_files=files, segmentation=segmentation,
                            peak_copies=copies,
                            group=group_of(eid, info["epigenomes"].get(eid, {}).get("group") or ""))


def ambiguous_symbols(genes: pd.DataFrame) -> set:
    """Symbols (upper case) that name genes with different ids; their pages are named ``SYMBOL_ENSGID``."""
    named = genes[genes["symbol"] != ""]
    ids = named.groupby(named["symbol"].str.upper())["gene_id"].nunique()
    return set(ids[ids > 1].index)
