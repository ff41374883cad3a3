"""Samples without RNA-seq in ``build`` (see :mod:`shallowchrome.model.transfer` for the method).

An epigenome with peak files but no column in the expression table is predicted and explained by a
*reference model*: one unpenalised logistic regression fitted on every labelled gene of the build's labelled
epigenomes, pooled (``BuildOptions.reference``: some of them), on features put on a common scale (log1p). Its
``predictions.tsv`` / ``features.tsv`` / ``model.json`` are laid out like any other epigenome's (label and
rpkm NA, part ``none``, fold ``all``: the reference model's record in ``model.json``'s ``crossfit.models``);
``model.json``'s ``"transfer"`` and ``workspace.json``'s epigenome record say ``no expression data: model from
<ids>``; ``evaluation.tsv`` gives it status ``transfer``.

With at least 2 labelled epigenomes the build also writes the cross-epigenome evaluation
(``evaluation_transfer.tsv``, :func:`shallowchrome.model.transfer.cross_evaluation`) and its heatmap.

**The workspace's reference model** (``reference_model.json``, :data:`REFERENCE_FILE`): with at least one
labelled epigenome (and the paper's method: classification, exact features) every build records one pooled
reference model, so that another build can reuse it (``build --reference-workspace WS``): bias, weights and
Wald statistics per mark, the scale (log1p), the window, the epigenomes it was learnt from and the input
format of each. It is learnt on ``--reference``'s epigenomes if given, else on the labelled epigenomes having
every mark of the build (all of them when none has), on the marks those share.

**``--reference-workspace WS``** predicts and explains this build's epigenomes without expression by WS's
recorded model instead of one fitted here (the build may then have no labelled epigenome at all): the same
weights, applied to log1p(max signalValue) of the epigenome's own peaks (the narrowPeak file first). The
epigenome's marks must be the model's marks, its window the build's; WS must be a workspace of the paper's
method with that file; ``--reference`` and ``--reference-workspace`` exclude each other. Each mismatch is a
one-line error naming the fix. The note reads ``no expression data: model from WS (E066,E079)``.

Features common to the epigenomes: per mark, one input file per epigenome, the first of narrowPeak,
broadPeak, gappedPeak it has (else its only or first-named file), on the marks every epigenome involved has.
"""
from __future__ import annotations

import io
import json
import logging
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from shallowchrome.model.errors import InputError, ModelError
from shallowchrome.model.features import max_signal_in_windows
from shallowchrome.model.pipeline import _coefficients
from shallowchrome.model.selection import interpretation_and_evaluation
from shallowchrome.model.transfer import (
    DEFAULT_SCALE,
    FORMAT_PREFERENCE,
    REFERENCE_FOLD,
    SCALES,
    StoredReference,
    cross_evaluation,
    reference_model,
    scale_features,
)
from shallowchrome.tracks.io.manifest import write_manifest
from shallowchrome.tracks.io.peaks import read_peaks
from shallowchrome.tracks.io.textio import table_bytes, write_bytes_atomic, write_table_atomic
from shallowchrome.tracks.workspace.executor import map_jobs
from shallowchrome.tracks.workspace.layout import (
    FEATURES_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    Workspace,
    dumps_json,
    write_json_atomic,
)

log = logging.getLogger(__name__)

STATUS = "transfer"
NO_EXPRESSION = "no column {eid} in the expression table"


#: The workspace's pooled reference model, reused by other builds' ``--reference-workspace``.
REFERENCE_FILE = "reference_model.json"
REFERENCE_KIND = "shallowchrome pooled reference model"


def note(reference, source: str | None = None) -> str:
    """``no expression data: model from E066,E079`` (``source``: the reference workspace's name, then
    ``... model from WS (E066,E079)``)."""
    ids = ",".join(reference)
    return f"no expression data: model from {source} ({ids})" if source else f"no expression data: model from {ids}"


def reference_model_path(ws: Workspace) -> Path:
    return ws.data / REFERENCE_FILE


@dataclass
class Transferred:
    """An epigenome without expression, predicted by the reference model: its three files (zlib bytes)."""

    epigenome: str
    marks: list
    reference: list
    formats: dict
    n_train: int
    files: dict
    warnings: list = field(default_factory=list)
    source: str | None = None  # the reference workspace's name (--reference-workspace), None: this build's

    @property
    def note(self) -> str:
        return note(self.reference, self.source)

    def contents(self) -> dict:
        return {name: zlib.decompress(data) for name, data in self.files.items()}

    def evaluation_row(self) -> dict:
        """Its ``evaluation.tsv`` fields: status ``transfer``, no labelled gene, no test metrics."""
        return {"status": STATUS, "marks": ",".join(self.marks), "n_genes": 0, "n_on": 0, "n_splits": 0,
                "configuration": "reference", "reason": self.note}


def check_reference(reference, chosen, labelled) -> None:
    """``--reference``: each id must be a labelled epigenome of the build (one-line error otherwise)."""
    for eid in reference or []:
        if eid not in chosen:
            raise InputError(None, f"--reference {eid}: not an epigenome of this build (has {', '.join(chosen)})",
                             fix="name labelled epigenomes of --peaks/--epigenomes, or omit --reference")
        if eid not in labelled:
            raise InputError(None, f"--reference {eid}: has no expression column, so no labels to learn from",
                             fix=f"name labelled epigenomes ({', '.join(labelled) or 'none'}), or omit --reference")


@dataclass
class ReferenceWorkspace:
    """Another workspace's recorded reference model (``--reference-workspace``)."""

    root: Path
    path: Path  # its reference_model.json
    doc: dict
    sha256: str = ""  # of the file's bytes (recorded in the models that use it)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def marks(self) -> list:
        return list(self.doc["marks"])

    @property
    def reference(self) -> list:
        return list(self.doc["reference"])


def load_reference_workspace(path, window: int, out=None) -> ReferenceWorkspace:
    """Read and check another workspace's ``reference_model.json`` (one-line :class:`InputError` otherwise)."""
    root = Path(path).absolute()
    flag = f"--reference-workspace {path}"
    if out is not None and root.resolve() == Path(out).absolute().resolve():
        raise InputError(path, f"{flag} is the workspace this build writes",
                         fix="name another workspace, or use --reference with labelled epigenomes of this build")
    if not root.is_dir():
        raise InputError(path, f"{flag}: no such workspace folder", fix="give the folder of a built workspace")
    ws = Workspace.open(root)
    params = ws.info.get("parameters") or {}
    for key, default in (("task", "classification"), ("features", "exact")):
        if params.get(key, default) != default:
            raise InputError(path, f"{flag}: built with --{key} {params[key]}; a reference model is the paper's "
                             "logistic regression on one feature per mark", fix=f"rebuild it with --{key} {default}")
    stored = reference_model_path(ws)
    ref = ws.shown(stored)  # WS/reference_model.json, as users name it
    if not stored.is_file():
        raise InputError(path, f"{flag}: has no reference model ({REFERENCE_FILE}): it has no labelled epigenome, "
                         "or was built by an older shallowchrome", fix="rebuild it with this version, with an "
                         "expression column for at least one of its epigenomes")
    try:
        doc = json.loads(stored.read_text())
    except ValueError as exc:
        raise InputError(ref, f"is not valid JSON ({exc})", fix="rebuild that workspace") from None
    if not isinstance(doc, dict) or doc.get("kind") != REFERENCE_KIND or doc.get("scale") not in SCALES \
            or not doc.get("marks") or not doc.get("reference"):
        raise InputError(ref, "is not a ShallowChrome reference model (kind, scale, marks, reference)",
                         fix="rebuild that workspace with this version")
    try:
        StoredReference(doc, doc["marks"])
    except ModelError as exc:
        raise InputError(ref, exc.detail, fix="rebuild that workspace with this version") from None
    if int(doc.get("window", window)) != int(window):
        raise InputError(ref, f"its model's features are the max signal in TSS ± {doc['window']} bp, this "
                         f"build's in TSS ± {window} bp", fix=f"build with --window {doc['window']}")
    import hashlib

    return ReferenceWorkspace(root, ref, doc, hashlib.sha256(stored.read_bytes()).hexdigest())


def check_reference_workspace(opts, out, manifest: pd.DataFrame, unlabelled) -> ReferenceWorkspace | None:
    """``--reference-workspace``: before any fitting, the model is readable and its marks are those of each
    epigenome without expression (``unlabelled``); None without the option."""
    path = getattr(opts, "reference_workspace", None)
    if not path:
        return None
    if opts.reference:
        raise InputError(None, "--reference and --reference-workspace both name the reference model",
                         fix="give one of them")
    if opts.task != "classification" or opts.features != "exact":
        raise InputError(None, "--reference-workspace predicts with the paper's method only (logistic regression, "
                         "exact features)", fix="drop --task/--features, or --reference-workspace")
    ref = load_reference_workspace(path, opts.window, out)
    for eid in unlabelled:
        own = set(manifest.loc[manifest["epigenome"] == eid, "mark"])
        extra = [m for m in sorted(own) if m not in ref.marks]
        if extra:
            raise InputError(ref.path, f"the reference model of {ref.name} has no weight for {', '.join(extra)}, "
                             f"which {eid} has (its marks: {', '.join(ref.marks)})",
                             fix=f"restrict this build with --marks {','.join(ref.marks)}, or rebuild {ref.name} "
                                 f"with peaks of {', '.join(extra)}")
        missing = [m for m in ref.marks if m not in own]
        if missing:
            raise InputError(None, f"{eid} has no peak file for {', '.join(missing)}, a mark of the reference "
                             f"model of {ref.name} ({', '.join(ref.marks)})",
                             fix=f"add {eid}'s {', '.join(missing)} peaks to --peaks, or rebuild {ref.name} with "
                                 f"--marks {','.join(m for m in ref.marks if m in own) or '...'}")
    if not unlabelled:
        log.warning("--reference-workspace %s: every epigenome of this build has expression; the option is unused",
                    path)
    return ref


def _pick(columns: dict, mark: str):
    """The (format, vector) of ``mark`` among an epigenome's ``{(mark, format): vector}``."""
    fmts = [f for (m, f) in columns if m == mark]
    for f in FORMAT_PREFERENCE:
        if f in fmts:
            return f, columns[(mark, f)]
    return fmts[0], columns[(mark, fmts[0])]


def _by_file(table: pd.DataFrame) -> dict:
    """``{(mark, format): vector}`` from a features table's ``MARK.FORMAT`` columns."""
    out = {}
    for col in table.columns:
        if "." in col and col.split(".", 1)[0] and col not in ("gene_id",):
            mark, fmt = col.split(".", 1)
            out[(mark, fmt)] = table[col].to_numpy(dtype=np.float64)
    return out


def _labelled_inputs(results: dict, eids: list, previous: Workspace) -> tuple[dict, dict]:
    """Per labelled epigenome: its ``{(mark, format): raw vector}`` and its label array (float, NaN)."""
    from shallowchrome.tracks.workspace import incremental

    columns, labels = {}, {}
    for eid in eids:
        res = results[eid]
        if isinstance(res, incremental.Reused):
            columns[eid], labels[eid] = labelled_columns(previous.features_path(eid).read_bytes(),
                                                         previous.predictions_path(eid).read_bytes())
        elif getattr(res, "inputs", None) is not None:  # parsed by the task that rendered the files
            columns[eid], labels[eid] = res.inputs
        else:
            c = res.contents()
            columns[eid], labels[eid] = labelled_columns(c[FEATURES_FILE], c[PREDICTIONS_FILE])
    return columns, labels


def labelled_columns(features_tsv: bytes, predictions_tsv: bytes) -> tuple[dict, np.ndarray]:
    """What the transfer step reads of a labelled epigenome, from its features.tsv and predictions.tsv bytes:
    ``{(mark, format): raw vector}`` (as written, so a reused epigenome reads the same) and the labels."""
    feats = pd.read_csv(io.BytesIO(features_tsv), sep="\t")
    lab = pd.read_csv(io.BytesIO(predictions_tsv), sep="\t", usecols=["label"])["label"]
    return _by_file(feats), pd.to_numeric(lab, errors="coerce").to_numpy(dtype=float)


def _marks_of(columns: dict) -> set:
    return {m for (m, _) in columns}


def _read_columns(files: list, genes: pd.DataFrame, window: int) -> dict:
    gchrom, gtss = genes["chrom"].to_numpy(), genes["tss"].to_numpy()
    out = {}
    for f in files:
        peaks = read_peaks(f["path"], f["format"])
        out[(f["mark"], f["format"])] = max_signal_in_windows(
            gchrom, gtss, peaks["chrom"].to_numpy(), peaks["start"].to_numpy(), peaks["end"].to_numpy(),
            peaks["signal"].to_numpy(), window=window)
    return out


def _default_reference(marks: set, labelled: list, columns: dict) -> list:
    """The labelled epigenomes having the most of ``marks`` (every one of them, when some have all)."""
    shared = {e: len(marks & _marks_of(columns[e])) for e in labelled}
    best = max(shared.values())
    return [e for e in labelled if shared[e] == best]


#: At most this many labelled epigenomes enter the cross-epigenome evaluation (evenly spread over the build's
#: order when there are more): its pairs grow as epigenomes^2 (56 epigenomes: ~50 s in one process). It runs
#: in the build's ``jobs`` processes.
MAX_COMPARED = 16


@dataclass
class Outcome:
    results: dict  # eid -> Transferred
    evaluation: pd.DataFrame | None  # the cross-epigenome evaluation table
    reference: dict | None = None  # this build's reference_model.json (None without labelled epigenomes)


def _reference_document(columns: dict, labels: dict, labelled: list, reference, opts, scale: str) -> dict | None:
    """This build's pooled reference model, for other builds (see the module docstring); None when there is
    no mark to learn on or the pooled fit fails."""
    from shallowchrome.tracks.workspace.build import order_marks

    every = set().union(*[_marks_of(columns[e]) for e in labelled])
    if reference:
        ref_ids = [e for e in reference if e in labelled]
    else:
        ref_ids = [e for e in labelled if _marks_of(columns[e]) == every] or list(labelled)
    marks = order_marks(set.intersection(*[_marks_of(columns[e]) for e in ref_ids])) if ref_ids else []
    if not marks:
        log.info("no %s: no mark is common to %s", REFERENCE_FILE, ", ".join(ref_ids))
        return None
    try:
        model, n_train = reference_model({e: np.column_stack([_pick(columns[e], m)[1] for m in marks])
                                          for e in ref_ids}, labels, ref_ids, scale)
    except ModelError as exc:
        log.warning("no %s: the pooled reference model could not be fitted (%s)", REFERENCE_FILE, exc)
        return None
    return {"format_version": 1, "kind": REFERENCE_KIND,
            "about": f"one unpenalised logistic regression on every labelled gene of {','.join(ref_ids)}, pooled, "
                     f"on {scale}(max signalValue in TSS ± window) per mark (the format of each epigenome's file in "
                     "formats); reused by `shallowchrome build --reference-workspace` for epigenomes without "
                     "expression",
            "task": "classification", "feature_set": "exact", "window": int(opts.window),
            "threshold": opts.threshold, "scale": scale, "marks": marks, "reference": ref_ids,
            "formats": {e: {m: _pick(columns[e], m)[0] for m in marks} for e in ref_ids}, "n_train": n_train,
            **_coefficients(model, marks)}


def run(genes, manifest, splits, chosen, results, skipped, opts, out, reference=None, scale=DEFAULT_SCALE,
        scheduler=None) -> Outcome:
    """The transfer step of a build: the reference model's predictions for the epigenomes skipped for want of
    an expression column, and the cross-epigenome evaluation of the labelled ones (its tasks in the build's
    ``jobs`` processes, or on the Dask cluster ``scheduler``). Everything in memory."""
    from shallowchrome.tracks.reference import tissues
    from shallowchrome.tracks.workspace.build import _gene_columns, order_marks

    labelled = [e for e in chosen if e in results and e not in skipped
                and not isinstance(results[e], Transferred) and hasattr(results[e], "summary")]
    unlabelled = [e for e in chosen if e in skipped and skipped[e].reason == NO_EXPRESSION.format(eid=e)]
    ref_ws = (load_reference_workspace(opts.reference_workspace, opts.window, out)
              if getattr(opts, "reference_workspace", None) else None)
    if not labelled and ref_ws is None:
        return Outcome({}, None)
    columns, labels = _labelled_inputs(results, labelled, Workspace(out)) if labelled else ({}, {})
    own_reference = _reference_document(columns, labels, labelled, reference, opts, scale) if labelled else None

    evaluation = None
    every_mark = set().union(*[_marks_of(columns[e]) for e in labelled])
    complete = [e for e in labelled if _marks_of(columns[e]) == every_mark]
    compared = complete if len(complete) >= 2 else labelled  # all marks where >= 2 epigenomes have them all
    if len(compared) > MAX_COMPARED:  # pairs grow as epigenomes^2: a spread sample
        keep = np.unique(np.linspace(0, len(compared) - 1, MAX_COMPARED).round().astype(int))
        log.info("cross-epigenome evaluation: %d of the %d labelled epigenomes, spread over their order (%s)",
                 len(keep), len(compared), ", ".join(compared[i] for i in keep))
        compared = [compared[i] for i in keep]
    if len(compared) >= 2:
        marks = order_marks(set.intersection(*[_marks_of(columns[e]) for e in compared]))
        if marks:
            if len(compared) < len(labelled):
                log.info("cross-epigenome evaluation: %s (the labelled epigenomes with every mark, %s)",
                         ", ".join(compared), ", ".join(marks))
            feats = {e: np.column_stack([_pick(columns[e], m)[1] for m in marks]) for e in compared}
            eval_ids = interpretation_and_evaluation(splits, opts.n_splits)[1]
            evaluation = cross_evaluation(feats, {e: labels[e] for e in compared}, splits, eval_ids, marks, scale,
                                          mapper=partial(map_jobs, jobs=opts.jobs, scheduler=scheduler)
                                          if opts.jobs > 1 or scheduler is not None else None)
        else:
            log.warning("cross-epigenome evaluation skipped: no mark is common to %s", ", ".join(compared))

    done = {}
    gene_cols = _gene_columns(genes)
    for eid in unlabelled:
        files = manifest[manifest["epigenome"] == eid].to_dict("records")
        own = _read_columns(files, genes, opts.window)
        source = None
        if ref_ws is not None:  # another workspace's recorded model (its marks checked before the fits)
            ref_ids, marks, source = ref_ws.reference, ref_ws.marks, ref_ws.name
            model, n_train, eid_scale = StoredReference(ref_ws.doc, marks), int(ref_ws.doc["n_train"]), \
                ref_ws.doc["scale"]
        else:
            eid_scale = scale
            ref_ids = list(reference) if reference else _default_reference(_marks_of(own), labelled, columns)
            marks = order_marks(set.intersection(_marks_of(own), *[_marks_of(columns[e]) for e in ref_ids]))
            if not marks:
                skipped[eid].reason += f"; no mark in common with the reference epigenomes {','.join(ref_ids)}"
                continue
            try:
                model, n_train = reference_model(
                    {e: np.column_stack([_pick(columns[e], m)[1] for m in marks]) for e in ref_ids},
                    labels, ref_ids, scale)
            except ModelError as exc:
                skipped[eid].reason += f"; the reference model could not be fitted ({exc})"
                continue
        picked = {m: _pick(own, m) for m in marks}
        formats = {m: f for m, (f, _) in picked.items()}
        X = scale_features(np.column_stack([picked[m][1] for m in marks]), eid_scale)
        logit = model.decision_function(X)
        n = len(genes)
        predictions = pd.DataFrame({
            "logit": logit, "probability": expit(logit), "predicted": (logit > 0).astype(np.int8),
            "rpkm": np.full(n, np.nan), "label": pd.Series([pd.NA] * n, dtype="Int8"),
            "part": pd.Series(["none"] * n, dtype=object), "fold": pd.Series([REFERENCE_FOLD] * n, dtype=object)})
        contrib = model.contributions(X) + 0.0
        for j, m in enumerate(marks):
            predictions[f"contrib_{m}"] = contrib[:, j]
        features = pd.concat([gene_cols[["gene_id", "symbol", "chrom", "tss"]], pd.DataFrame(X, columns=marks),
                              pd.DataFrame({f"{m}.{f}": v for (m, f), v in sorted(own.items())})], axis=1)
        transfer_doc = {"status": STATUS, "note": note(ref_ids, source), "reference": ref_ids, "scale": eid_scale,
                        "n_train": n_train,
                        "features": f"{eid_scale}(max signalValue) per mark, the {', '.join(FORMAT_PREFERENCE)} "
                                    f"file first; features.tsv's mark columns hold the scaled values "
                                    f"(contribution = weight x feature), its MARK.FORMAT columns the raw ones"}
        if ref_ws is not None:
            transfer_doc.update(workspace=ref_ws.name, reference_model=str(ref_ws.path),
                                reference_model_sha256=ref_ws.sha256, reference_formats=ref_ws.doc.get("formats", {}))
        doc = _model_document(eid, marks, formats, model, n_train, transfer_doc, opts,
                              {"tissue": tissues().get(eid, ""), "window": opts.window,
                               "peak_files": write_manifest(manifest[manifest["epigenome"] == eid]).to_dict("records")})
        rendered = {FEATURES_FILE: table_bytes(features, float_format="%.10g"),
                    PREDICTIONS_FILE: table_bytes(pd.concat([gene_cols, predictions], axis=1)),
                    MODEL_FILE: dumps_json(doc).encode("utf-8")}
        done[eid] = Transferred(eid, marks, ref_ids, formats, n_train,
                                {k: zlib.compress(v, 1) for k, v in rendered.items()}, source=source)
        log.info("%s: %s (%d training genes, %s features)", eid, note(ref_ids, source), n_train, eid_scale)
    for eid in done:
        skipped.pop(eid, None)
    return Outcome(done, evaluation, own_reference)


def _model_document(eid, marks, formats, model, n_train, transfer_doc, opts, extra) -> dict:
    coefficients = _coefficients(model, marks)
    record = {"fold": REFERENCE_FOLD, "n_train": n_train, "configuration": "reference", "formats": dict(formats),
              "validation_fold": None, "validation_auroc": {}, **coefficients, "test": {}}
    empty = {"mean": None, "sd": None, "values": []}
    return {
        "format_version": 1, "epigenome": eid, **extra, "transfer": transfer_doc,
        "marks": marks, "feature_names": marks, "threshold": {"method": opts.threshold, "rpkm": None},
        "configurations_tried": [{"name": "reference", "formats": dict(formats)}],
        "interpretation_split": 0, "configuration": "reference", "formats": dict(formats),
        "bias": coefficients["bias"], "weights": coefficients["weights"],
        "standard_errors": coefficients["standard_errors"], "z": coefficients["z"],
        "p_values": coefficients["p_values"],
        "metrics": {"auroc": dict(empty), "aupr": dict(empty), "f1": dict(empty)},
        "configuration_counts": {}, "interpretation": {"split": 0, "validation_auroc": {}, "test": {}},
        "splits": [],
        "crossfit": {"folds": 0, "seed": opts.seed, "assignment": "no expression data: every gene is explained by "
                     "the reference model", "selection": "none", "unlabelled": transfer_doc["note"],
                     "metrics": {}, "models": [record]},
    }


def write_epigenome(ws: Workspace, res: Transferred, shown: dict) -> dict:
    """Write a transferred epigenome's files; its ``workspace.json`` record (status ``ok``: every view shows it)."""
    from shallowchrome.tracks.workspace import incremental

    contents = res.contents()
    for name in (FEATURES_FILE, PREDICTIONS_FILE, MODEL_FILE):
        write_bytes_atomic(ws.epigenome_dir(res.epigenome) / name, contents[name])
    return {"status": "ok", **shown, "marks": res.marks, "configuration": "reference", "auroc_mean": None,
            "transfer": {"note": res.note, "reference": res.reference,
                         **({"workspace": res.source} if res.source else {})},
            "outputs": {name: incremental.sha256_bytes(data) for name, data in contents.items()}}


def write_outputs(ws: Workspace, outcome: Outcome | None) -> None:
    """The transfer step's workspace-wide files: ``evaluation_transfer.tsv`` / ``.png`` and
    ``reference_model.json`` (each only when there is one)."""
    if outcome is None:
        return
    write_evaluation(ws, outcome.evaluation)
    if outcome.reference is not None:
        write_json_atomic(reference_model_path(ws), outcome.reference)


def read_reference(ws: Workspace) -> dict | None:
    """A workspace's ``reference_model.json`` (None when it has none)."""
    path = reference_model_path(ws)
    return json.loads(path.read_text()) if path.is_file() else None


def write_evaluation(ws: Workspace, table: pd.DataFrame | None) -> None:
    """``evaluation_transfer.tsv`` and its heatmap (nothing when there is no table)."""
    if table is None:
        return
    write_table_atomic(ws.transfer_evaluation_path, table, float_format="%.4f")
    from shallowchrome.tracks.analysis.transfer import transfer_heatmap

    transfer_heatmap(table, ws.transfer_chart_path)


def read_evaluation(ws: Workspace) -> pd.DataFrame | None:
    path = ws.transfer_evaluation_path
    if not path.is_file():
        return None
    return pd.read_csv(path, sep="\t", dtype={"train": str, "test": str})


def summary_lines(ws: Workspace) -> list[str]:
    """What ``build`` prints about the cross-epigenome evaluation (nothing without it)."""
    from shallowchrome.model.transfer import summary

    table = read_evaluation(ws)
    if table is None or table.empty:
        return []
    s = summary(table)
    lines = [f"cross-epigenome AUROC ({s['n_epigenomes']} labelled epigenomes, held-out genes): train on A / test on "
             f"B {s['off_diagonal']:.3f} (A = B {s['diagonal']:.3f}); leave one epigenome out {s['leave_one_out']:.3f} "
             f"(label-varying genes {s['leave_one_out_varying']:.3f}); average-label baseline {s['average_label']:.3f} "
             f"({s['average_label_varying']:.3f})"]
    return lines
