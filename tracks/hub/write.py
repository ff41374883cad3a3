"""``shallowchrome tracks``: a workspace's genome-browser tracks and its UCSC/IGV track hub.

Layout (everything under WS/hub/, so every bigDataUrl is relative to the trackDb)::

    WS/hub/hub.txt, genomes.txt, hub.html          the hub and its description page
    WS/hub/igv_session.json, igv_session.xml        igv.js and IGV desktop sessions over the same files
    WS/hub/GENOME/genes.bed, .bed.gz, .bed.gz.tbi    the gene track (TSS ± window, name, strand)
    WS/hub/GENOME/GENOME.chrom.sizes                 the assembly as IGV desktop loads it (by file suffix)
    WS/hub/tracks.json                               manifest: genome, base URL, every track file
    WS/hub/GENOME/trackDb.txt, chrom.sizes, *.html   track settings, assembly sizes, description pages
    WS/hub/GENOME/EID/EID.predictions.bb             BED9+N bigBed, one item per gene (autoSql: .as)
    WS/hub/GENOME/EID/EID.predictions.as, .bed, .bed.gz, .bed.gz.tbi   schema, plain and tabix-indexed BED
    WS/hub/GENOME/EID/EID.outcome.bb                 the same items coloured correct / wrong
    WS/hub/GENOME/EID/EID.MARK.contribution.bw       ψ = weight × feature, per base of the gene windows
    WS/hub/GENOME/EID/EID.MARK.feature.bw            the feature (max peak signal), same bases

All coordinates are 0-based, half-open. The genes are checked against the
assembly's sizes before the first file is written; each epigenome is then read,
checked and written by one task (in this process, ``jobs`` processes or on a
Dask cluster). Every file is written atomically, binary tracks are re-opened
and verified first, and the hub text is written last. The callers (``build``,
``tracks``, ``chromhmm``) write into a new generation of the workspace, so a
failure anywhere leaves the published hub as it was.

An epigenome's track files are not rewritten when what they are made of is
unchanged since they were written: tracks.json records per epigenome
(``epigenome_keys``) a digest of its predictions.tsv, model.json and
features.tsv, the genes, the assembly's sizes, the window, its tissue and the
version, and the size of each of its files; when the digest matches and every
file is there with its size, the files are kept (same bytes, same mtime); so is
the gene track when the genes, sizes, window and version are those it was made of
(``genes_key``). The hub text (trackDb, pages, sessions, tracks.json, hub.txt) is
always rewritten.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.hub import pages as hub_pages
from shallowchrome.tracks.hub import trackdb as hub
from shallowchrome.tracks.hub.bigbed import write_bigbed
from shallowchrome.tracks.hub.bigwig import write_bigwig
from shallowchrome.tracks.hub.genetrack import gene_track_text
from shallowchrome.tracks.hub.items import bed_text, prediction_autosql, prediction_items, rest_strings
from shallowchrome.tracks.hub.jbrowse import write_jbrowse_config
from shallowchrome.tracks.hub.sessions import TrackFile, igv_desktop_session, igv_js_session
from shallowchrome.tracks.hub.tabix import write_bed_with_tabix
from shallowchrome.tracks.hub.territories import nearest_tss_territories
from shallowchrome.tracks.io.chromsizes import ChromSizes, check_genes_fit, load_chrom_sizes
from shallowchrome.tracks.io.metadata import describe
from shallowchrome.tracks.io.textio import write_text_atomic
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.workspace.executor import map_jobs
from shallowchrome.tracks.workspace.incremental import sha256_file
from shallowchrome.tracks.workspace.layout import (
    DEFAULT_GENOME,
    GENOMES_TXT,
    HUB_HTML,
    SESSION_JSON,
    SESSION_XML,
    TRACK_FILE,
    Workspace,
    description_page,
    track_filename,
    write_json_atomic,
)

log = logging.getLogger(__name__)

INDEX_FIELDS = ("name", "gene_id")
PREDICTION_COLUMNS = ("gene_id", "chrom", "tss", "logit", "probability", "rpkm", "label", "part")


@dataclass
class EpigenomePlan:
    """Everything one epigenome's tracks need, read and checked, nothing written yet."""

    eid: str
    tissue: str
    marks: list
    model: dict
    items: pd.DataFrame
    autosql: object
    wig_values: dict  # (kind, mark) -> values per territory
    auroc: float | None = None
    auroc_sd: float | None = None


@dataclass
class TracksResult:
    hub_dir: Path
    genome: str
    epigenomes: list
    files: list = field(default_factory=list)
    n_items: int = 0


def _column(frame: pd.DataFrame, name: str, path) -> np.ndarray:
    if name not in frame:
        raise InputError(path, f"has no column {name!r}", fix="rebuild the workspace with `shallowchrome build`")
    return frame[name].to_numpy(dtype=np.float64)


def plan_epigenome(ws: Workspace, eid: str, genes: pd.DataFrame, sizes: ChromSizes, window: int,
                   territories: pd.DataFrame) -> EpigenomePlan:
    """Read and check one epigenome's predictions, model and features; build its items and bigWig values."""
    pred = ws.predictions(eid)
    path = ws.predictions_path(eid)
    missing = [c for c in PREDICTION_COLUMNS if c not in pred]
    if missing:
        raise InputError(path, f"has no column(s) {', '.join(missing)}",
                         fix="rebuild the workspace with `shallowchrome build`")
    if len(pred) != len(genes) or not np.array_equal(pred["gene_id"].astype(str), genes["gene_id"].astype(str)):
        raise InputError(path, "its genes differ from the workspace's genes.tsv",
                         fix="rebuild the workspace with `shallowchrome build`")
    model = ws.model(eid)
    marks = list(model["marks"])
    features = ws.features(eid)
    rows = territories["row"].to_numpy()
    wig = {}
    for m in marks:
        wig[("contribution", m)] = _column(pred, f"contrib_{m}", path)[rows]
        wig[("feature", m)] = _column(features, m, ws.features_path(eid))[rows]
    info = ws.info["epigenomes"].get(eid, {})
    metrics = model.get("metrics", {}).get("auroc", {})
    return EpigenomePlan(eid=eid, tissue=info.get("tissue") or model.get("tissue") or "", marks=marks, model=model,
                         items=prediction_items(pred, model, window, sizes.sizes),
                         autosql=prediction_autosql(marks, "chromhmm_state" in pred), wig_values=wig,
                         auroc=metrics.get("mean"), auroc_sd=metrics.get("sd"))


def _plan_header(ws: Workspace, eid: str, epigenomes: dict) -> EpigenomePlan:
    """What the hub text needs of an epigenome whose track files are kept: no items, no bigWig values (None)."""
    model = ws.model(eid)
    marks = list(model["marks"])
    columns = pd.read_csv(ws.predictions_path(eid), sep="\t", nrows=0).columns
    info = epigenomes.get(eid, {})
    metrics = model.get("metrics", {}).get("auroc", {})
    wig = {(kind, m): None for m in marks for kind in ("contribution", "feature")}
    return EpigenomePlan(eid=eid, tissue=info.get("tissue") or model.get("tissue") or "", marks=marks, model=model,
                         items=None, autosql=prediction_autosql(marks, "chromhmm_state" in columns), wig_values=wig,
                         auroc=metrics.get("mean"), auroc_sd=metrics.get("sd"))


#: The two halves of an epigenome's track files: its items (schema, BED + tabix, the two bigBeds) and its
#: signals (the bigWigs). With fewer epigenomes to write than workers, each half is a task of its own.
PARTS = ("items", "signals")


def plan_and_write(task, ws: Workspace, genes: pd.DataFrame, sizes: ChromSizes, window: int,
                   territories: pd.DataFrame, genome: str) -> None:
    """One task: ``(epigenome, parts)``: read and check it (:func:`plan_epigenome`), then write those of its
    track files (:data:`PARTS`)."""
    eid, parts = task
    write_epigenome(ws, plan_epigenome(ws, eid, genes, sizes, window, territories), sizes, territories, genome, parts)


def write_epigenome(ws: Workspace, plan: EpigenomePlan, sizes: ChromSizes, territories: pd.DataFrame,
                    genome: str, parts=PARTS) -> None:
    """Write one epigenome's track files (the ``parts`` of :data:`PARTS`; :func:`track_files` names them)."""
    items, autosql = plan.items, plan.autosql
    names = autosql.names
    folder = ws.track_dir(plan.eid, genome)
    if "items" in parts:
        write_text_atomic(ws.track_file(plan.eid, "schema", genome=genome), autosql.text())
        rest = {kind: rest_strings(items, names, rgb) for kind, rgb in (("predictions", "reserved"),
                                                                       ("outcome", "outcome_rgb"))}
        write_bed_with_tabix(ws.track_file(plan.eid, "bed", genome=genome),
                             bed_text(items, names, rest["predictions"]))
        chrom, start, end = items["chrom"].tolist(), items["chromStart"].to_numpy(), items["chromEnd"].to_numpy()
        for kind in ("predictions", "outcome"):
            write_bigbed(ws.track_file(plan.eid, kind, genome=genome), chrom, start, end, rest[kind], sizes,
                         autosql, defined_fields=9, index_fields=INDEX_FIELDS if kind == "predictions" else ())
    if "signals" in parts:
        for (kind, mark), values in plan.wig_values.items():
            write_bigwig(ws.track_file(plan.eid, kind, mark, genome), territories["chrom"], territories["start"],
                         territories["end"], values, sizes)
    log.info("%s: tracks (%s) written to %s", plan.eid, ", ".join(parts), folder)


def track_files(ws: Workspace, plan: EpigenomePlan, genome: str) -> list[TrackFile]:
    """The hub's tracks of one epigenome (paths relative to the hub folder), in hub order."""
    keys = [(k, None) for k in ("predictions", "outcome")] + list(plan.wig_values)
    return [TrackFile(plan.eid, plan.tissue, k, m, ws.track_relpath(plan.eid, k, m, genome)) for k, m in keys]


def _written_files(ws: Workspace, plan: EpigenomePlan, genome: str) -> list[str]:
    """Names of every file :func:`write_epigenome` writes into the epigenome's track folder."""
    eid = plan.eid
    names = [track_filename(eid, "schema"), track_filename(eid, "bed"), track_filename(eid, "bed.gz"),
             track_filename(eid, "bed.gz") + ".tbi", track_filename(eid, "predictions"),
             track_filename(eid, "outcome")]
    return names + [track_filename(eid, kind, mark) for kind, mark in plan.wig_values]


def epigenome_key(ws: Workspace, plan: EpigenomePlan, genome: str, common: str) -> str:
    """Digest of everything an epigenome's track files are made of (``common``: genes, sizes, window, version)."""
    digest = hashlib.sha256(common.encode())
    digest.update(f"\0{genome}\0{plan.eid}\0{plan.tissue}\0".encode())
    for path in ws.epigenome_files(plan.eid):
        digest.update(f"{path.name}:{sha256_file(path)}\0".encode())
    return digest.hexdigest()


def _file_sizes(ws: Workspace, plan: EpigenomePlan, genome: str) -> dict | None:
    sizes = {}
    for name in _written_files(ws, plan, genome):
        try:
            sizes[name] = ws.track_path(plan.eid, name, genome).stat().st_size
        except OSError:
            return None
    return sizes


def _unchanged(ws: Workspace, plan: EpigenomePlan, genome: str, key: str, recorded) -> bool:
    """True when the epigenome's track files were written from the same ``key`` and are all there, same sizes."""
    if not isinstance(recorded, dict) or recorded.get("key") != key:
        return False
    return _file_sizes(ws, plan, genome) == recorded.get("files")


def _page_context(plans: list[EpigenomePlan], marks: list, window: int, genome: str, n_genes: int) -> dict:
    epigenomes = [{
        "eid": p.eid, "tissue": p.tissue.replace("_", " "), "auroc": p.auroc, "auroc_sd": p.auroc_sd or 0.0,
        "bias": p.model["bias"], "weights": p.model["weights"],
        "p_values": dict(p.model.get("p_values", {})),  # formatted by the pages (numbers.pvalue: no "p = 0")
    } for p in plans]
    return {"epigenomes": epigenomes, "marks": marks, "window": window, "genome": genome, "n_genes": n_genes}


def write_hub_text(ws: Workspace, plans, files: list[TrackFile], genome: str, sizes: ChromSizes, window: int,
                   n_genes: int, base_url: str | None, email: str, locus: str,
                   epigenome_keys: dict | None = None, genes_key: str | None = None) -> None:
    """Pages, trackDb, genomes.txt, hub.txt, sessions and the manifest (after every track file exists)."""
    marks = list(dict.fromkeys(m for p in plans for m in p.marks))
    gdir = ws.hub_genome_dir(genome)
    write_text_atomic(ws.chrom_sizes_path(genome), sizes.text())
    ctx = _page_context(plans, marks, window, genome, n_genes)
    fields = list(plans[0].autosql.fields) if plans else []
    for kind in ("predictions", "outcome"):
        write_text_atomic(gdir / description_page(kind), hub_pages.prediction_page(kind, fields, **ctx))
    for mark in marks:
        for kind in ("contribution", "feature"):
            write_text_atomic(gdir / description_page(kind, mark), hub_pages.mark_page(kind, mark, **ctx))
    by_key = {(f.epigenome, f.kind, f.mark): f.path for f in files}

    def url(eid, kind, mark):
        path = by_key[(eid, kind, mark)]
        return f"{base_url.rstrip('/')}/{path}" if base_url else path[len(genome) + 1:]

    recorded = ws.info.get("epigenomes", {})  # groups of `build --metadata` (else Roadmap's)
    epis = [hub.EpigenomeEntry(p.eid, p.tissue, p.marks, p.auroc, describe(p.eid, recorded.get(p.eid))["group"])
            for p in plans]
    with_chromhmm = bool(plans) and all("chromhmm_state" in p.autosql.names for p in plans)
    write_text_atomic(ws.trackdb_path(genome), hub.trackdb_text(hub.trackdb(epis, marks, url, with_chromhmm)))
    write_text_atomic(ws.hub_path(HUB_HTML), hub_pages.index_page(**ctx))
    write_text_atomic(ws.hub_path(GENOMES_TXT), hub.genomes_txt(genome))
    write_text_atomic(ws.igv_genome_path(genome), sizes.text())
    genes_track = ws.gene_track_path(genome).relative_to(ws.hub_dir).as_posix()
    igv_genome = ws.igv_genome_path(genome).relative_to(ws.hub_dir).as_posix()
    write_text_atomic(ws.hub_path(SESSION_JSON), igv_js_session(files, genome, locus, base_url, genes_track))
    write_text_atomic(ws.hub_path(SESSION_XML),
                      igv_desktop_session(files, igv_genome, locus, base_url, genes_track))
    write_json_atomic(ws.hub_manifest_path, {
        "format_version": 1, "genome": genome, "chrom_sizes": sizes.source, "base_url": base_url, "window": window,
        "locus": locus, "genes": genes_track,
        "epigenomes": [p.eid for p in plans],
        "tracks": [{"epigenome": f.epigenome, "tissue": f.tissue, "kind": f.kind, "mark": f.mark, "path": f.path}
                   for f in files],
        **({"epigenome_keys": epigenome_keys} if epigenome_keys is not None else {}),
        **({"genes_key": genes_key} if genes_key is not None else {}),
    })
    write_jbrowse_config(ws, genome, locus)  # WS/hub/jbrowse/config.json, from the manifest just written
    write_text_atomic(ws.hub_txt, hub.hub_txt(email))
    ws.link_entries()  # WS/hub when the hub is new in the published generation


#: Epigenomes read to choose the sessions' opening gene (the first ones of the workspace).
LOCUS_EPIGENOMES = 12


def opening_gene(ws: Workspace, genes: pd.DataFrame, eids: list[str]) -> int:
    """Row of the gene the sessions open at: the one whose predicted P(ON) differs most between the
    (first :data:`LOCUS_EPIGENOMES`) epigenomes — a gene on in one tissue and off in another; with one
    epigenome the most confidently ON gene. Ties go to the earlier gene of the table."""
    probabilities = np.column_stack([
        pd.read_csv(ws.predictions_path(eid), sep="\t", usecols=["probability"])["probability"].to_numpy(np.float64)
        for eid in eids[:LOCUS_EPIGENOMES]])
    if len(probabilities) != len(genes) or not np.isfinite(probabilities).any():
        return 0
    score = (np.nanmax(probabilities, axis=1) - np.nanmin(probabilities, axis=1) if probabilities.shape[1] > 1
             else probabilities[:, 0])
    return int(np.nanargmax(np.where(np.isfinite(score), score, -np.inf)))


def _locus(genes: pd.DataFrame, row: int, window: int) -> str:
    """Gene ``row``'s TSS ± 2 windows (1-based, closed, as browsers display loci)."""
    g = genes.iloc[row]
    return f"{g['chrom']}:{max(1, int(g['tss']) - 2 * window + 1)}-{int(g['tss']) + 2 * window}"


def write_tracks(workspace, genome: str = DEFAULT_GENOME, chrom_sizes=None, base_url: str | None = None,
                 email: str = hub.DEFAULT_EMAIL, jobs: int = 1, progress: bool = False,
                 force: bool = False, scheduler=None) -> TracksResult:
    """Write every epigenome's tracks and the hub of a built workspace; see the module docstring.

    The track files of an epigenome that are unchanged since they were written are kept unless ``force``.
    ``scheduler``: write the epigenomes' track files on this Dask cluster (see
    :func:`~shallowchrome.tracks.workspace.executor.map_jobs`; its workers write into the workspace, which
    they must see at the same path) instead of ``jobs`` local processes; the hub text is written here.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    if base_url is not None and not re.match(r"^https?://\S+$", base_url):
        raise InputError(None, f"--base-url {base_url!r} is not an http(s) URL",
                         fix="give the URL under which WS/hub/ is served, e.g. https://example.org/ws/hub")
    if not re.match(r"^[A-Za-z0-9_.-]+$", genome):
        raise InputError(None, f"genome {genome!r} is not an assembly name", fix="give a UCSC name such as hg19")
    sizes = load_chrom_sizes(genome, chrom_sizes)
    eids = ws.epigenomes()
    if not eids:
        raise InputError(ws.root, "has no fitted epigenome to make tracks of", fix="rebuild it with `shallowchrome build`")
    window = int(ws.info["parameters"]["window"])
    genes = ws.genes()
    check_genes_fit(sizes, genes["chrom"].to_numpy(dtype=object), genes["tss"].to_numpy(), genes["gene_id"].to_numpy(),
                    ws.genes_path)
    territories = nearest_tss_territories(genes["chrom"], genes["tss"], genes["gene_id"], window, sizes.sizes)

    # the hub text needs only the header plan of each epigenome; the tasks read, check and write the others
    recorded = ws.hub_manifest()
    recorded = recorded if isinstance(recorded, dict) and recorded.get("genome") == genome else {}
    common = hashlib.sha256(f"{package_version()}\0{window}\0{sha256_file(ws.genes_path)}\0".encode()
                            + sizes.text().encode()).hexdigest()
    recorded_epigenomes = ws.info["epigenomes"]
    headers = [_plan_header(ws, eid, recorded_epigenomes) for eid in eids]
    keys = {h.eid: epigenome_key(ws, h, genome, common) for h in headers}
    previous_keys = recorded.get("epigenome_keys") or {}
    kept = set() if force else {h.eid for h in headers
                                if _unchanged(ws, h, genome, keys[h.eid], previous_keys.get(h.eid))}
    if kept:
        log.info("%s: the tracks of %d of %d epigenomes are unchanged and kept", ws.hub_dir, len(kept), len(eids))
    plans = headers
    todo = [h.eid for h in headers if h.eid not in kept]
    write = partial(plan_and_write, ws=ws, genes=genes, sizes=sizes, window=window, territories=territories,
                    genome=genome)
    halves = scheduler is None and 0 < len(todo) < jobs  # e.g. one new epigenome: both cores on its files
    tasks = [(eid, (part,)) for eid in todo for part in PARTS] if halves else [(eid, PARTS) for eid in todo]
    map_jobs(write, tasks, jobs, progress=progress, desc="tracks", unit="task", scheduler=scheduler)
    files = [f for p in plans for f in track_files(ws, p, genome)]  # written or kept, the same names
    epigenome_keys = {p.eid: {"key": keys[p.eid], "files": _file_sizes(ws, p, genome)} for p in plans}
    previous = _recorded_epigenomes(ws, genome)
    gene_track = ws.gene_track_path(genome)
    made = (gene_track, Path(f"{gene_track}.gz"), Path(f"{gene_track}.gz.tbi"))
    if force or recorded.get("genes_key") != common or not all(p.is_file() for p in made):  # else kept: same genes
        write_bed_with_tabix(gene_track, gene_track_text(genes, window, sizes.sizes))
    locus = _locus(genes, opening_gene(ws, genes, eids), window)
    write_hub_text(ws, plans, files, genome, sizes, window, len(genes), base_url, email, locus,
                   epigenome_keys=epigenome_keys, genes_key=common)
    for eid in sorted(previous - set(eids)):
        _remove_track_folder(ws.track_dir(eid, genome))
    log.info("%s: hub written (%d epigenomes, %d track files)", ws.hub_dir, len(plans), len(files))
    return TracksResult(ws.hub_dir, genome, eids, files, len(genes) * len(plans))


def refresh_tracks(workspace, jobs: int = 1, progress: bool = False) -> TracksResult | None:
    """Rewrite an existing hub with the settings it was written with (e.g. after ``chromhmm`` added states).

    Returns None when the workspace has no hub yet.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    recorded = ws.hub_manifest()
    if recorded is None:
        return None
    sizes = recorded.get("chrom_sizes") or ""
    return write_tracks(ws, genome=recorded.get("genome", DEFAULT_GENOME),
                        chrom_sizes=None if sizes.startswith("packaged") or not Path(sizes).is_file() else sizes,
                        base_url=recorded.get("base_url"), email=_hub_email(ws.hub_txt),
                        jobs=jobs, progress=progress)


def _hub_email(hub_txt: Path) -> str:
    """The contact address of an existing hub.txt (the default when there is none)."""
    lines = hub_txt.read_text().splitlines() if hub_txt.is_file() else []
    return next((line.split(None, 1)[1].strip() for line in lines if line.startswith("email ")), hub.DEFAULT_EMAIL)


def _recorded_epigenomes(ws: Workspace, genome: str) -> set:
    """Epigenomes of the hub written before, for the same genome (none when there is no hub)."""
    recorded = ws.hub_manifest()
    if recorded is None:
        return set()
    return set(recorded.get("epigenomes", [])) if recorded.get("genome") == genome else set()


def _remove_track_folder(folder: Path) -> None:
    """Delete the track files of an epigenome that left the build (then the folder, if nothing else is in it)."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and TRACK_FILE.match(path.name):
            path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()
    log.info("%s: removed the tracks of an epigenome no longer in the workspace", folder)
