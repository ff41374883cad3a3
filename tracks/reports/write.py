"""``shallowchrome report``: one HTML page per gene, and an index of the pages.

Layout (default folder WS/reports/; every file written atomically)::

    OUT/GENE.html      one page per gene (see :mod:`shallowchrome.tracks.reports.page`); the name is the
                       symbol made safe for file systems, or SYMBOL_ENSGID when the symbol names several
                       genes, or the Ensembl id for genes without a symbol
    OUT/index.html     the pages with their headline numbers (P(ON), predicted and measured class per
                       epigenome), sortable by clicking a column header
    OUT/index.json     the same records; pages of earlier runs into the same folder are kept in the index
    WS/reports/cache/  indexed copies of the input files (made after the tracks, or here when missing;
                       safe to delete)

Each page explains and shows the best-modelled epigenomes plus ``show``, and
lists every epigenome (see :mod:`shallowchrome.tracks.reports.page`); the
index has every epigenome's P(ON), the explanation's for the explained ones,
the hub's prediction item's (``source: hub``) for the others.

Genes: symbols or Ensembl ids, case-insensitive, each page once. Unknown
genes are skipped with a warning (and listed in the result) when at least one
gene is known; when none is, nothing is written and an error lists them with
suggestions. Pages are made by ``jobs`` processes, with a progress bar.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from shallowchrome.model.errors import InputError
from shallowchrome.templates import environment
from shallowchrome.tracks.io.textio import write_text_atomic
from shallowchrome.tracks.numbers import tidy
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.reports.context import ReportContext, ReportOptions
from shallowchrome.tracks.reports.page import gene_page
from shallowchrome.tracks.workspace.executor import map_jobs
from shallowchrome.tracks.workspace.layout import UnknownGeneError, Workspace, dumps_json

log = logging.getLogger(__name__)

INDEX_HTML, INDEX_JSON = "index.html", "index.json"


@dataclass
class ReportsResult:
    """What ``write_reports`` wrote, and the queries it skipped (query → close symbols)."""

    out_dir: Path
    pages: list = field(default_factory=list)
    index: Path | None = None
    unknown: dict = field(default_factory=dict)


def resolve_genes(ws: Workspace, queries) -> tuple[list[dict], dict]:
    """(genes.tsv records with ``row``, each gene once in query order; {unknown query: suggestions})."""
    genes, seen, unknown = [], set(), {}
    for query in dict.fromkeys(str(q).strip() for q in queries if str(q).strip()):
        try:
            rows = ws.find_gene(query)
        except UnknownGeneError as exc:
            unknown[query] = exc.suggestions
            continue
        for rec in rows.to_dict("records"):
            if rec["gene_id"] not in seen:
                seen.add(rec["gene_id"])
                genes.append({k: (v.item() if hasattr(v, "item") else v) for k, v in rec.items()})
    return genes, unknown


def unknown_message(unknown: dict, limit: int = 20) -> str:
    """``GENE (did you mean A, B?), OTHER`` for unknown queries (the first ``limit``, then how many more)."""
    shown = [f"{q} (did you mean {', '.join(s)}?)" if s else q for q, s in list(unknown.items())[:limit]]
    more = f" and {len(unknown) - limit} more" if len(unknown) > limit else ""
    return ", ".join(shown) + more


def _check_genes(ws: Workspace, queries) -> tuple[list[dict], dict]:
    genes, unknown = resolve_genes(ws, queries)
    if not genes and not unknown:
        raise InputError(None, "no genes given", fix="name genes with --genes ALB,APOA1 or --genes-file genes.txt")
    if not genes:
        if len(unknown) == 1:
            ws.find_gene(next(iter(unknown)))  # raises the one-gene error, with its suggestions
        raise InputError(ws.root, f"none of the genes is in this workspace: {unknown_message(unknown)}",
                         fix="give HGNC symbols or Ensembl gene ids of genes.tsv")
    for query, suggestions in unknown.items():  # the caller reports them (ReportsResult.unknown)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        log.info("unknown gene %r skipped%s", query, hint)
    return genes, unknown


# --- pages, in this process or in workers -------------------------------------------------
_WORKER: dict = {}


def _init_worker(root: str, epigenomes, options: ReportOptions) -> None:
    _WORKER["ctx"] = ReportContext(Workspace.open(root), epigenomes, options)


def _write_page(ctx: ReportContext, gene: dict, out_dir: Path, shown=None) -> dict:
    page = gene_page(ctx, gene, shown)
    write_text_atomic(out_dir / page.summary["file"], page.html)
    return page.summary


def _worker_page(gene: dict, out_dir: str, shown=None) -> dict:
    return _write_page(_WORKER["ctx"], gene, Path(out_dir), shown)


def _write_pages(ctx: ReportContext, genes: list[dict], out_dir: Path, jobs: int, progress: bool,
                 epigenomes, shown=None, scheduler=None) -> list[dict]:
    """Each gene's page (summaries in gene order), written by ``jobs`` processes (each loads the context once)."""
    _WORKER["ctx"] = ctx  # the tasks run here when jobs == 1
    try:
        return map_jobs(partial(_worker_page, out_dir=str(out_dir), shown=shown), genes, jobs, progress=progress,
                        desc="reports", unit="page", initializer=_init_worker,
                        initargs=(str(ctx.ws.root), epigenomes, ctx.options), scheduler=scheduler)
    finally:
        _WORKER.pop("ctx", None)


# --- the index ----------------------------------------------------------------------------
def merge_index(out_dir: Path, summaries: list[dict]) -> list[dict]:
    """This run's records plus those of earlier runs whose pages still exist, sorted by symbol then id."""
    records = {}
    previous = out_dir / INDEX_JSON
    if previous.is_file():
        try:
            for rec in json.loads(previous.read_text()).get("pages", []):
                if (out_dir / rec["file"]).is_file():
                    records[rec["file"]] = rec
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("%s: unreadable, rebuilt from this run's pages only", previous)
    records.update({s["file"]: s for s in summaries})
    return sorted(records.values(), key=lambda r: ((r["symbol"] or r["gene_id"]).upper(), r["gene_id"]))


def write_index(out_dir: Path, records: list[dict], workspace: Path) -> Path:
    """OUT/index.json and OUT/index.html (the HTML written last)."""
    eids = list(dict.fromkeys(e for r in records for e in r["epigenomes"]))
    tissues = {e: x.get("tissue") or "" for r in records for e, x in r["epigenomes"].items()}
    write_text_atomic(out_dir / INDEX_JSON, dumps_json(tidy({"format_version": 1, "epigenomes": eids, "pages": records})))
    html = environment().get_template("report/index.html").render(records=records, eids=eids, tissues=tissues,
                                                                   version=package_version(),
                                                                   workspace=workspace.name)
    write_text_atomic(out_dir / INDEX_HTML, html)
    return out_dir / INDEX_HTML


# --- the command --------------------------------------------------------------------------
def write_reports(ws, genes, epigenomes=None, flank: int = 10_000, out=None, embed: bool = True, jobs: int = 1,
                  progress: bool = False, igv_js_url: str | None = None, show=None, scheduler=None) -> ReportsResult:
    """Write one page per gene and the index; see the module docstring.

    ``genes``: symbols or Ensembl ids. ``epigenomes``: default all fitted
    ones. ``flank``: bp shown either side of the TSS. ``out``: default
    WS/reports/. ``embed``: inline igv.js (pages open from disk) or load it
    from ``igv_js_url`` (default the server's ``/static/igv/igv.min.js``).
    ``show``: epigenomes each page explains and shows besides the
    best-modelled ones (checked before anything is written). ``scheduler``: make the pages on this Dask
    cluster (:func:`~shallowchrome.tracks.workspace.executor.map_jobs`; its workers read the workspace and
    write the pages into ``out``, which they must see at the same paths) instead of ``jobs`` processes.
    """
    ws = ws if isinstance(ws, Workspace) else Workspace.open(ws)
    options = ReportOptions(flank=flank, embed=embed)
    if igv_js_url:
        options.igv_js_url = igv_js_url
    selected, unknown = _check_genes(ws, genes)
    ctx = ReportContext(ws, epigenomes, options)
    shown = ctx.shown(show)
    out_dir = Path(out) if out is not None else ws.reports_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx.prepare(progress, jobs=max(1, int(jobs)))
    summaries = _write_pages(ctx, selected, out_dir, max(1, int(jobs)), progress, ctx.eids, shown, scheduler)
    index = write_index(out_dir, merge_index(out_dir, summaries), ws.root)
    log.info("%d report page(s) written to %s", len(summaries), out_dir)
    return ReportsResult(out_dir, [out_dir / s["file"] for s in summaries], index, unknown)
