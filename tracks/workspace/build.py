"""``shallowchrome build``: from peak files, genes and expression to a workspace.

All inputs are read and every model is fitted before anything is written, so
bad input never leaves a half-written workspace; each file is then written
atomically and ``workspace.json`` last.

A rebuild into an existing workspace reuses the epigenomes whose inputs and
parameters did not change (:mod:`shallowchrome.tracks.workspace.incremental`;
``BuildOptions.force`` recomputes all). The per-epigenome work (reading its
peak files, features, the fits over every split and configuration, the
cross-fitting folds and their per-gene predictions) runs in this process, in ``jobs`` local processes, or on a Dask
cluster (``BuildOptions.scheduler``); the results come back here and this
process writes the workspace, the same bytes whichever ran the work.
"""
from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError, ModelError
from shallowchrome.model.features import max_signal_in_windows
from shallowchrome.model.labels import THRESHOLDS
from shallowchrome.model.modes import (
    EXTENDED_TERMS,
    FEATURE_SETS,
    REGRESSION_METRICS,
    SPLIT_BY,
    TASKS,
    chromosome_splits,
    extended_terms,
    term_names,
)
from shallowchrome.model.pipeline import fit_epigenome, model_document
from shallowchrome.model.selection import CROSSFIT_VERSION, N_FOLDS, random_splits, resolve_configurations
from shallowchrome.tracks.analysis.charts import evaluation_chart
from shallowchrome.tracks.io.expression import epigenome_rpkm, read_expression
from shallowchrome.tracks.io.genes import read_genes
from shallowchrome.tracks.io.manifest import read_peaks_manifest, write_manifest
from shallowchrome.tracks.io.metadata import workspace_record
from shallowchrome.tracks.io.peaks import read_peaks
from shallowchrome.tracks.io.splits import read_splits, splits_frame
from shallowchrome.tracks.io.textio import table_bytes, write_bytes_atomic, write_table_atomic
from shallowchrome.tracks.reference import deepchrome_auroc, package_version, tissues
from shallowchrome.tracks.workspace import incremental, transfer
from shallowchrome.tracks.workspace.executor import cluster_client, map_jobs
from shallowchrome.tracks.workspace.layout import (
    DEFAULT_GENOME,
    FEATURES_FILE,
    FORMAT_VERSION,
    GENERATIONS_DIR,
    MODEL_FILE,
    PREDICTIONS_FILE,
    Workspace,
    dumps_json,
    write_json_atomic,
)

log = logging.getLogger(__name__)

#: Marks in the order of the ChromHMM core-mark emission table; others follow alphabetically.
CORE_MARK_ORDER = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K27me3", "H3K9me3"]


def order_marks(marks) -> list[str]:
    rank = {m.lower(): i for i, m in enumerate(CORE_MARK_ORDER)}
    return sorted(set(marks), key=lambda m: (rank.get(m.lower(), len(rank)), m.lower()))


@dataclass
class BuildOptions:
    window: int = 5000
    threshold: str = "median"
    n_splits: int = 10
    seed: int = 0
    jobs: int = 1
    #: Dask scheduler (``tcp://host:8786``, a scheduler file, or a ``distributed.Client``) running the
    #: per-epigenome work instead of ``jobs`` local processes; None: local.
    scheduler: object = None
    #: Recompute every epigenome, even those whose inputs did not change since the workspace was built.
    force: bool = False
    #: Names, groups, colours of epigenomes (``build --metadata``: :func:`~shallowchrome.tracks.io.metadata.
    #: read_epigenome_metadata`), recorded in workspace.json; None: the Roadmap table's.
    metadata: dict | None = None
    #: Cross-fitting folds: every labelled gene is predicted and explained by the model of the fold that held it
    #: out (the folds are seeded with ``seed``, with or without a splits file).
    folds: int = N_FOLDS
    #: Samples without expression (:mod:`.transfer`): the labelled epigenomes whose pooled model predicts them
    #: (``build --reference``); None: every labelled epigenome of the build.
    reference: list | None = None
    #: ``build --reference-workspace``: predict them by that workspace's recorded reference model instead
    #: (:func:`.transfer.check_reference_workspace`); None: fit the reference here.
    reference_workspace: str | None = None
    #: Non-default modes (:mod:`shallowchrome.model.modes`): "regression" models log2(RPKM + 1) by least squares;
    #: "extended" features add multi-scale, log, count and distance terms per mark; "chromosome" splits hold out
    #: whole chromosomes. The defaults are the paper's method, unchanged.
    task: str = "classification"
    features: str = "exact"
    split_by: str = "random"

    def mode_parameters(self) -> dict:
        """The non-default modes (empty for the paper's method: its rebuild keys stay as they were)."""
        out = {"task": self.task, "features": self.features, "split_by": self.split_by}
        return {k: v for k, v in out.items() if v != {"task": "classification", "features": "exact",
                                                      "split_by": "random"}[k]}


@dataclass
class Skipped:
    epigenome: str
    reason: str
    marks: list


@dataclass
class Fitted:
    """A fitted epigenome as the task hands it back: its three files already rendered (zlib-compressed bytes,
    so the rendering runs in the workers and little travels), and what the evaluation table needs."""

    epigenome: str
    marks: list
    configurations: list  # names of the configurations tried
    configuration: str  # the interpretation model's
    split_configurations: list  # the configuration selected in each evaluation split
    summary: dict
    n_genes: int
    n_on: int
    files: dict  # file name -> compressed bytes
    crossfit: dict = field(default_factory=dict)  # the cross-fitted (out-of-fold) metrics: auroc, aupr, f1
    warnings: list = field(default_factory=list)
    #: (raw features by file, labels) as the transfer step reads them (:func:`.transfer.labelled_columns`),
    #: parsed in the task rather than by the building process
    inputs: tuple | None = None

    def contents(self) -> dict:
        return {name: zlib.decompress(data) for name, data in self.files.items()}


def _fit_one(eid: str, files: list[dict], genes: pd.DataFrame, rpkm: np.ndarray, splits: dict,
             opts: BuildOptions, all_marks: list[str]):
    """Worker: read one epigenome's peak files, extract features, fit. Returns a result or Skipped."""
    marks = order_marks(f["mark"] for f in files)
    notes = _missing_marks(eid, marks, all_marks)
    available = {m: [f["format"] for f in files if f["mark"] == m] for m in marks}
    try:
        configs = resolve_configurations(available)
    except ModelError as exc:
        return Skipped(eid, str(exc), marks)
    vectors = {}
    terms, presence = {}, {}  # extended features: (mark, format) -> (n_genes, n_terms); file without signal?
    gchrom, gtss = genes["chrom"].to_numpy(), genes["tss"].to_numpy()
    for f in files:
        peaks = read_peaks(f["path"], f["format"])
        log.debug("%s: %d peaks", f["path"], len(peaks))
        if not np.isin(peaks["chrom"].unique(), np.unique(gchrom)).any():
            notes.append(f"{f['path']}: no peak lies on a chromosome of the gene table (names like "
                         f"{peaks['chrom'].iloc[0]}); this mark's features are all 0")
        vectors[(f["mark"], f["format"])] = max_signal_in_windows(
            gchrom, gtss, peaks["chrom"].to_numpy(), peaks["start"].to_numpy(), peaks["end"].to_numpy(),
            peaks["signal"].to_numpy(), window=opts.window)
        if opts.features == "extended":
            presence[(f["mark"], f["format"])] = bool((peaks["signal"].to_numpy() == 1.0).all())
            terms[(f["mark"], f["format"])] = extended_terms(
                gchrom, gtss, peaks["chrom"].to_numpy(), peaks["start"].to_numpy(), peaks["end"].to_numpy(),
                peaks["signal"].to_numpy())
    groups = None
    if opts.features == "extended":
        # a file without signalValue (presence 1.0): its max terms are presence, the raw max would repeat one
        keep = {m: [j for j, (_, kind, _) in enumerate(EXTENDED_TERMS)
                    if not (kind == "max" and all(presence[(m, f["format"])] for f in files if f["mark"] == m))]
                for m in marks}
        groups = {m: [term_names(m)[j] for j in keep[m]] for m in marks}
        features = {c.name: np.column_stack([terms[(m, c.format_of(m))][:, keep[m]] for m in marks]) for c in configs}
    else:
        features = {c.name: np.column_stack([vectors[(m, c.format_of(m))] for m in marks]) for c in configs}
    try:
        result = fit_epigenome(eid, marks, configs, features, rpkm, splits, opts.threshold, opts.n_splits,
                               n_folds=opts.folds, seed=opts.seed, task=opts.task, groups=groups)
    except ModelError as exc:
        return Skipped(eid, str(exc), marks)
    result.warnings = notes
    result.features_by_file = pd.DataFrame({f"{m}.{fmt}": v for (m, fmt), v in sorted(vectors.items())})
    return result


def _missing_marks(eid: str, marks: list, all_marks: list) -> list[str]:
    missing = [m for m in all_marks if m not in marks]
    if missing:
        return [f"{eid} has no peaks for {', '.join(missing)}; it is modelled with {', '.join(marks)}"]
    return []


def _fit_task(item, genes, splits, opts, all_marks):
    """:func:`map_jobs` task: ``item`` = (epigenome, its peak files, its RPKM, the model document's extra fields).

    Returns :class:`Fitted` (its files rendered here, in the worker) or :class:`Skipped`.
    """
    eid, files, rpkm, extra = item
    res = _fit_one(eid, files, genes, rpkm, splits, opts, all_marks)
    if isinstance(res, Skipped):
        return res
    doc = model_document(res, extra=extra)
    from shallowchrome.tracks.numbers import json_number  # the threshold without binary noise (2.392, not
    if isinstance(doc.get("threshold"), dict) and "rpkm" in doc["threshold"]:  # ...0000003)
        doc["threshold"] = {**doc["threshold"], "rpkm": json_number(doc["threshold"]["rpkm"])}
    gene_cols = _gene_columns(genes)
    rendered = {
        FEATURES_FILE: table_bytes(pd.concat([gene_cols[["gene_id", "symbol", "chrom", "tss"]], res.features,
                                               res.features_by_file], axis=1), float_format="%.10g"),
        PREDICTIONS_FILE: table_bytes(pd.concat([gene_cols, res.predictions], axis=1)),
        MODEL_FILE: dumps_json(doc).encode("utf-8"),
    }
    if res.terms is not None:  # extended: each mark's exact feature (max in TSS ± window) beside its terms
        exact = pd.DataFrame({m: res.features_by_file[f"{m}.{res.crossfit.models[-1].configuration.format_of(m)}"]
                              for m in res.marks})
        rendered[FEATURES_FILE] = table_bytes(pd.concat([gene_cols[["gene_id", "symbol", "chrom", "tss"]], exact,
                                                         res.features, res.features_by_file], axis=1),
                                              float_format="%.10g")
    labels = res.predictions["label"]
    inputs = None
    if opts.task == "classification" and opts.features == "exact":  # what the transfer step reads of it
        inputs = transfer.labelled_columns(rendered[FEATURES_FILE], rendered[PREDICTIONS_FILE])
    return Fitted(epigenome=eid, marks=list(res.marks), configurations=[c.name for c in res.configurations],
                  configuration=doc["configuration"], split_configurations=[r.configuration.name for r in res.evaluation],
                  summary=res.summary, n_genes=int(labels.notna().sum()), n_on=int((labels == 1).sum()),
                  files={name: zlib.compress(data, 1) for name, data in rendered.items()}, warnings=res.warnings,
                  crossfit=doc["crossfit"]["metrics"], inputs=inputs)


def build_workspace(genes_path, expression_path, peaks_path, out, epigenomes=None, splits_path=None,
                    options: BuildOptions | None = None, progress: bool = False, marks=None,
                    publish: bool = True) -> Workspace:
    """Build a workspace; see :mod:`shallowchrome.tracks.workspace.layout` for what it holds.

    Everything is written into a new generation of ``out`` (:meth:`Workspace.stage`), published when
    complete (``publish``; else the caller adds to it, e.g. the tracks, and publishes): a build
    interrupted at any point leaves the published workspace as it was, or no workspace at all.
    """
    opts = options or BuildOptions()
    if opts.threshold not in THRESHOLDS:
        raise InputError(None, f"unknown threshold {opts.threshold!r}", fix=f"use one of {', '.join(THRESHOLDS)}")
    if opts.window < 1:
        raise InputError(None, f"window {opts.window} is not a positive number of bp", fix="give the half-width in bp, e.g. 5000")
    if isinstance(opts.folds, bool) or not isinstance(opts.folds, int) or opts.folds < 3:
        raise InputError(None, f"{opts.folds!r} cross-fitting folds: at least 3 are needed",
                         fix=f"give a whole number of folds, e.g. {N_FOLDS}")
    for name, value, allowed in (("task", opts.task, TASKS), ("features", opts.features, FEATURE_SETS),
                                 ("split-by", opts.split_by, SPLIT_BY)):
        if value not in allowed:
            raise InputError(None, f"unknown --{name} {value!r}", fix=f"use one of {', '.join(allowed)}")
    if opts.split_by == "chromosome" and splits_path:
        raise InputError(splits_path, "--split-by chromosome makes its own splits and cannot use a splits file",
                         fix="drop --splits-file, or use --split-by random")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder", fix="give a folder for the workspace")
    leftovers = {GENERATIONS_DIR}  # an interrupted first build leaves only its unpublished generation
    if out.is_dir() and any(p.name not in leftovers for p in out.iterdir()) and not Workspace(out).info_path.exists():
        raise InputError(out, "is a non-empty folder that is not a workspace",
                         fix="give a new or empty folder, or an existing workspace to rebuild")
    args = (genes_path, expression_path, peaks_path, out, epigenomes, splits_path, opts, progress, marks)
    if opts.scheduler is None:
        ws = _build(*args, scheduler=None)
    else:
        with cluster_client(opts.scheduler) as client:  # connected (or refused) before any input is read
            ws = _build(*args, scheduler=client)
    if publish:
        ws.publish()
    return ws


def _build(genes_path, expression_path, peaks_path, out: Path, epigenomes, splits_path, opts: BuildOptions,
           progress: bool, marks, scheduler) -> Workspace:
    genes = read_genes(genes_path)
    log.info("%s: %d genes", genes_path, len(genes))
    manifest = read_peaks_manifest(peaks_path)
    if marks:
        unknown = [m for m in marks if m not in set(manifest["mark"])]
        if unknown:
            raise InputError(peaks_path, f"no peak files for mark(s) {', '.join(unknown)} "
                             f"(has {', '.join(order_marks(manifest['mark']))})", fix="correct --marks")
        manifest = manifest[manifest["mark"].isin(marks)].reset_index(drop=True)
    if expression_path is None and not opts.reference_workspace:
        raise InputError(None, "no expression table", fix="give --expression (RPKM per epigenome), or "
                         "--reference-workspace WS to predict samples without RNA-seq by WS's reference model")
    in_manifest = list(dict.fromkeys(manifest["epigenome"]))
    if epigenomes:
        unknown = [e for e in epigenomes if e not in in_manifest]
        if unknown:
            raise InputError(peaks_path, f"no peak files for {', '.join(unknown)} (has {', '.join(in_manifest)})",
                             fix="add their peak files or drop them from --epigenomes")
        chosen = list(dict.fromkeys(epigenomes))
    else:
        chosen = in_manifest
    # no table (--reference-workspace only): every epigenome is without expression; else only their columns
    expression = read_expression(expression_path, chosen) if expression_path is not None else \
        pd.DataFrame(index=pd.Index([], name="gene_id"))
    log.info("%s: %d peak files; %s: %d genes x %d of the build's epigenomes", peaks_path, len(manifest),
             expression_path or "no expression table", *expression.shape)

    skipped: dict[str, Skipped] = {}
    rpkm = {}
    for eid in chosen:
        if eid not in expression.columns and (not epigenomes or any(e in expression.columns for e in chosen)
                                              or opts.reference_workspace):
            # no RNA-seq: predicted by the reference model of the labelled epigenomes (transfer.run), else skipped
            skipped[eid] = Skipped(eid, f"no column {eid} in the expression table", [])
            if opts.reference_workspace:
                log.info("%s: no expression column; predicted by the reference model of %s", eid,
                         opts.reference_workspace)
            else:
                log.warning("%s: the expression table has no column for it; predicted by a model of the labelled "
                            "epigenomes (skipped when there is none)", eid)
            continue
        rpkm[eid] = epigenome_rpkm(expression, eid, genes["gene_id"])
    transfer.check_reference(opts.reference, chosen, list(rpkm))
    transfer.check_reference_workspace(opts, out, manifest, list(skipped))
    absent = np.zeros(len(genes), dtype=bool)
    for values in rpkm.values():
        absent |= np.isnan(values)
    if absent.all():
        raise InputError(expression_path, "none of the genes of the gene table is in the expression table",
                         fix="use tables with the same gene ids (Ensembl ids without version)")
    if absent.any():
        examples = ", ".join(genes["gene_id"][absent].head(3))
        log.warning("%s: %d genes of the gene table are not in it (e.g. %s); they are predicted but not labelled or "
                    "used for training/evaluation", expression_path, int(absent.sum()), examples)

    if opts.split_by == "chromosome":  # whole chromosomes per part (no neighbouring-gene leakage)
        splits = chromosome_splits(genes["chrom"].to_numpy(), ~absent, opts.n_splits, opts.seed)
    elif splits_path:
        splits = read_splits(splits_path, genes["gene_id"])
        n_avail = len([k for k in splits if k != 0]) or 1
        if opts.n_splits > n_avail:
            log.warning("%s: has %d evaluation splits, fewer than --splits %d; using %d",
                        splits_path, n_avail, opts.n_splits, n_avail)
    else:
        labelled_rows = np.flatnonzero(~absent)
        splits = {}
        for k, part in random_splits(len(labelled_rows), opts.n_splits, opts.seed).items():
            arr = np.full(len(genes), -1, dtype=np.int8)
            arr[labelled_rows] = part
            splits[k] = arr

    all_marks = order_marks(manifest["mark"])
    jobs = [eid for eid in chosen if eid not in skipped]
    files = {eid: manifest[manifest["epigenome"] == eid].to_dict("records") for eid in jobs}
    keys = input_keys(jobs, files, rpkm, genes, splits, opts)
    ws = Workspace(out)
    previous = {} if opts.force else incremental.previous_epigenomes(out)
    reused: dict[str, incremental.Reused] = {}
    for eid in jobs:
        outputs = incremental.reusable(ws, eid, previous.get(eid), keys[eid])
        if outputs is not None:
            reused[eid] = incremental.load_reused(ws, eid, outputs)
            reused[eid].warnings = _missing_marks(eid, order_marks(f["mark"] for f in files[eid]), all_marks)
    todo = [eid for eid in jobs if eid not in reused]
    if reused:
        log.info("%s: %d of %d epigenomes reused (inputs and parameters unchanged), %d to compute", out,
                 len(reused), len(jobs), len(todo))
    # the task gets only what it needs: `opts` without the scheduler (a client does not pickle)
    task_opts = BuildOptions(window=opts.window, threshold=opts.threshold, n_splits=opts.n_splits, seed=opts.seed,
                             folds=opts.folds, task=opts.task, features=opts.features, split_by=opts.split_by)
    fit = partial(_fit_task, genes=genes, splits=splits, opts=task_opts, all_marks=all_marks)
    tissue_names = tissues()
    extra = {eid: {"tissue": tissue_names.get(eid, ""), "window": opts.window,
                   "peak_files": write_manifest(manifest[manifest["epigenome"] == eid]).to_dict("records")}
             for eid in todo}
    done = map_jobs(fit, [(eid, files[eid], rpkm[eid], extra[eid]) for eid in todo], opts.jobs, progress=progress,
                    desc="build", unit="epigenome", scheduler=scheduler if todo else None)
    results: dict[str, Fitted | Skipped | incremental.Reused] = dict(zip(todo, done))
    results.update(reused)

    for eid in jobs:
        res = results[eid]
        if isinstance(res, incremental.Reused):
            log.info("%s: reused (inputs unchanged), mean test %s %.3f", eid, *headline(res.summary))
        elif isinstance(res, Fitted):
            log.info("%s: marks %s, configurations tried %s, mean test %s %.3f", eid, ",".join(res.marks),
                     ",".join(res.configurations), *headline(res.summary))
        if isinstance(res, Skipped):
            log.warning("%s: skipped, %s", eid, res.reason)
            skipped[eid] = res
        else:
            for note in res.warnings:
                log.warning("%s", note)

    fitted = [results[e] for e in jobs if isinstance(results[e], (Fitted, incremental.Reused))]
    if not fitted and not opts.reference_workspace:
        reasons = "; ".join(f"{s.epigenome}: {s.reason}" for s in skipped.values())
        raise ModelError(f"no epigenome could be modelled ({reasons})")

    moved = None
    if opts.task == "classification" and opts.features == "exact":  # the paper's method only
        moved = transfer.run(genes, manifest, splits, chosen, results, skipped, opts, out, opts.reference,
                             scheduler=scheduler)
        results.update(moved.results)
    if not fitted and not (moved and moved.results):  # --reference-workspace, and it predicted nothing
        reasons = "; ".join(f"{s.epigenome}: {s.reason}" for s in skipped.values())
        raise ModelError(f"no epigenome could be modelled ({reasons})")
    return _write(out, genes, manifest, splits, chosen, results, skipped, opts,
                  inputs={"genes": genes_path, "expression": expression_path, "peaks": peaks_path, "splits": splits_path},
                  requested=epigenomes, marks=marks, keys=keys, transferred=moved, recorded=previous)


def _link_unchanged_splits(previous: Workspace, ws: Workspace, keys: dict, recorded: dict) -> bool:
    """Hard-link the published splits.tsv.gz into the new generation when it holds these splits (a record of
    ``recorded``, the published workspace.json's epigenomes, has their digest and this version), as an
    incremental rebuild links unchanged epigenomes' files: rendering and compressing ~200k rows costs 0.2 s.
    False when it has to be written."""
    want = next(iter(keys.values()), None)
    if want is None or not previous.splits_path.is_file():
        return False
    for record in recorded.values():
        inputs = record.get("inputs") if isinstance(record, dict) else None
        if (isinstance(inputs, dict) and inputs.get("splits") == want["splits"]
                and inputs.get("parameters", {}).get("version") == want["parameters"]["version"]
                and inputs.get("parameters", {}).get("format_version") == want["parameters"]["format_version"]):
            ws.splits_path.parent.mkdir(parents=True, exist_ok=True)
            os.link(previous.splits_path, ws.splits_path)
            return True
    return False


def input_keys(eids, files: dict, rpkm: dict, genes: pd.DataFrame, splits: dict, opts: BuildOptions) -> dict:
    """Per epigenome, what its result depends on (content digests; see :mod:`.incremental`)."""
    gene_digest = incremental.genes_digest(_gene_columns(genes))
    split_digest = incremental.splits_digest(splits)
    parameters = {"window": opts.window, "threshold": opts.threshold, "splits": opts.n_splits,
                  "crossfit": crossfit_parameters(opts),
                  "version": package_version(), "format_version": FORMAT_VERSION, **opts.mode_parameters()}
    cache: dict = {}
    return {eid: {"peaks": incremental.peaks_key(files[eid], cache),
                  "expression": incremental.expression_digest(rpkm[eid]),
                  "genes": gene_digest, "splits": split_digest, "parameters": dict(parameters)} for eid in eids}


def crossfit_parameters(opts: BuildOptions) -> dict:
    """What the cross-fitted predictions depend on besides the inputs: folds, their seed, the scheme's revision."""
    return {"folds": int(opts.folds), "seed": int(opts.seed), "version": CROSSFIT_VERSION}


def _auroc_or_none(summary: dict):
    return summary["auroc"]["mean"] if "auroc" in summary else None


def headline(summary: dict) -> tuple[str, float]:
    """(metric name, mean) of an epigenome's evaluation: AUROC, or Pearson r for the regression task."""
    if "auroc" in summary:
        return "AUROC", summary["auroc"]["mean"]
    return "Pearson r", summary["pearson"]["mean"]


def _gene_columns(genes: pd.DataFrame) -> pd.DataFrame:
    return genes[["gene_id", "symbol", "chrom", "tss", "strand"]].reset_index(drop=True)


def evaluation_table(chosen, results, skipped) -> pd.DataFrame:
    rows = []
    names, dc = tissues(), deepchrome_auroc()
    for eid in chosen:
        row = {"epigenome": eid, "tissue": names.get(eid, "")}
        res = results.get(eid)
        if isinstance(res, transfer.Transferred):
            row.update(res.evaluation_row())
        elif isinstance(res, (Fitted, incremental.Reused)):
            s = res.summary
            configs = res.split_configurations
            counts = pd.Series(configs).value_counts()
            if "auroc" not in s:  # the regression task: correlation metrics, no AUROC
                cf = res.crossfit
                row.update(status="ok", marks=",".join(res.marks), n_genes=res.n_genes, n_on=res.n_on,
                           n_splits=len(configs), configuration=counts.index[0], reason="",
                           **{f"{k}_{stat}": s[k][stat] for k in REGRESSION_METRICS for stat in ("mean", "sd")},
                           **{f"crossfit_{k}": cf.get(k) for k in REGRESSION_METRICS})
                row["deepchrome_auroc"] = dc.get(eid, np.nan)
                rows.append(row)
                continue
            row.update(status="ok", marks=",".join(res.marks), n_genes=res.n_genes,
                       n_on=res.n_on, n_splits=len(configs), configuration=counts.index[0],
                       auroc_mean=s["auroc"]["mean"], auroc_sd=s["auroc"]["sd"], aupr_mean=s["aupr"]["mean"],
                       aupr_sd=s["aupr"]["sd"], f1_mean=s["f1"]["mean"], f1_sd=s["f1"]["sd"],
                       crossfit_auroc=res.crossfit.get("auroc"), crossfit_aupr=res.crossfit.get("aupr"),
                       crossfit_f1=res.crossfit.get("f1"), reason="")
        else:
            sk = skipped[eid]
            row.update(status="skipped", marks=",".join(sk.marks), reason=sk.reason)
        row["deepchrome_auroc"] = dc.get(eid, np.nan)
        rows.append(row)
    cols = ["epigenome", "tissue", "status", "marks", "n_genes", "n_on", "n_splits", "configuration",
            "auroc_mean", "auroc_sd", "aupr_mean", "aupr_sd", "f1_mean", "f1_sd", "crossfit_auroc", "crossfit_aupr",
            "crossfit_f1", "deepchrome_auroc", "reason"]
    if any("pearson_mean" in r for r in rows):  # the regression task's columns, before deepchrome_auroc
        cols[-2:-2] = [f"{k}_{stat}" for k in REGRESSION_METRICS for stat in ("mean", "sd")] + \
            [f"crossfit_{k}" for k in REGRESSION_METRICS]
    frame = pd.DataFrame(rows).reindex(columns=cols)
    for c in ("n_genes", "n_on", "n_splits"):
        frame[c] = frame[c].astype("Int64")
    return frame


def _write(out: Path, genes, manifest, splits, chosen, results, skipped, opts, inputs, requested, marks,
           keys, transferred=None, recorded=None) -> Workspace:
    """Write a new generation of the workspace: the computed epigenomes' files (a reused one's hard-linked
    from the published generation: same bytes, same mtime), then the tables covering every epigenome,
    ``workspace.json`` last. ``recorded``: the published workspace.json's epigenome records ({} with
    ``--force``). Returns the unpublished generation."""
    previous = Workspace(out)
    ws = Workspace.stage(out)
    gene_cols = _gene_columns(genes)
    shown = partial(workspace_record, metadata=opts.metadata)  # tissue (+ group, color) in workspace.json
    status = {}
    for eid in chosen:
        res = results.get(eid)
        if isinstance(res, incremental.Reused):
            for src in previous.epigenome_files(eid):
                dst = ws.data / src.relative_to(previous.data)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.link(src, dst)
            status[eid] = {"status": "ok", **shown(eid), "marks": res.marks,
                           "configuration": res.configuration, "auroc_mean": _auroc_or_none(res.summary),
                           "inputs": keys[eid], "outputs": res.outputs}
            continue
        if isinstance(res, transfer.Transferred):  # no expression data: the reference model's predictions
            status[eid] = transfer.write_epigenome(ws, res, shown(eid))
            continue
        if not isinstance(res, Fitted):
            status[eid] = {"status": "skipped", "reason": skipped[eid].reason, **shown(eid)}
            continue
        contents = res.contents()
        for name in (FEATURES_FILE, PREDICTIONS_FILE, MODEL_FILE):  # the order a build always wrote them in
            write_bytes_atomic(ws.epigenome_dir(eid) / name, contents[name])
        status[eid] = {"status": "ok", **shown(eid), "marks": res.marks,
                       "configuration": res.configuration, "auroc_mean": _auroc_or_none(res.summary),
                       "inputs": keys[eid],
                       "outputs": {name: incremental.sha256_bytes(data) for name, data in contents.items()}}
    evaluation = evaluation_table(chosen, results, skipped)
    evaluation["tissue"] = [status[e]["tissue"] for e in evaluation["epigenome"]]
    write_table_atomic(ws.evaluation_path, evaluation, float_format="%.4f")
    evaluation_chart(evaluation, ws.evaluation_chart_path, status)
    write_table_atomic(ws.genes_path, gene_cols)
    write_table_atomic(ws.peaks_path, write_manifest(manifest[manifest["epigenome"].isin(chosen)]))
    if not _link_unchanged_splits(previous, ws, keys, recorded or {}):
        write_table_atomic(ws.splits_path, splits_frame(splits))
    transfer.write_outputs(ws, transferred)  # evaluation_transfer.tsv/.png, reference_model.json
    info = {
        "format_version": FORMAT_VERSION,
        "shallowchrome_version": package_version(),
        "genome": DEFAULT_GENOME,
        "inputs": {k: (str(Path(v).resolve()) if v else None) for k, v in inputs.items()},
        "parameters": {"window": opts.window, "threshold": opts.threshold, "splits": opts.n_splits,
                       "seed": opts.seed if not inputs["splits"] else None,
                       "crossfit": crossfit_parameters(opts),
                       "epigenomes": list(requested) if requested else None,
                       "marks": list(marks) if marks else None, **opts.mode_parameters()},
        "epigenomes": status,
    }
    write_json_atomic(ws.info_path, info)
    log.info("%s: workspace written (generation %s)", out, ws.generation)
    return ws
