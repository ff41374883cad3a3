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

Features common to the epigenomes: per mark, one input file per epigenome, the first of narrowPeak,
broadPeak, gappedPeak it has (else its only or first-named file), on the marks every epigenome involved has.
"""
from __future__ import annotations

import io
import logging
import zlib
from dataclasses import dataclass, field

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
    cross_evaluation,
    reference_model,
    scale_features,
)
from shallowchrome.tracks.io.manifest import write_manifest
from shallowchrome.tracks.io.peaks import read_peaks
from shallowchrome.tracks.io.textio import table_bytes, write_bytes_atomic, write_table_atomic
from shallowchrome.tracks.workspace.layout import FEATURES_FILE, MODEL_FILE, PREDICTIONS_FILE, Workspace, dumps_json

log = logging.getLogger(__name__)

STATUS = "transfer"
NO_EXPRESSION = "no column {eid} in the expression table"


def note(reference) -> str:
    return f"no expression data: model from {','.join(reference)}"


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

    @property
    def note(self) -> str:
        return note(self.reference)

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
            feats, lab = previous.features(eid), pd.read_csv(previous.predictions_path(eid), sep="\t",
                                                              usecols=["label"])["label"]
        else:
            c = res.contents()
            feats = pd.read_csv(io.BytesIO(c[FEATURES_FILE]), sep="\t")
            lab = pd.read_csv(io.BytesIO(c[PREDICTIONS_FILE]), sep="\t", usecols=["label"])["label"]
        columns[eid] = _by_file(feats)
        labels[eid] = pd.to_numeric(lab, errors="coerce").to_numpy(dtype=float)
    return columns, labels


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
#: order when there are more): its pairs grow as epigenomes^2 (56 epigenomes: ~50 s in one process).
MAX_COMPARED = 16


@dataclass
class Outcome:
    results: dict  # eid -> Transferred
    evaluation: pd.DataFrame | None  # the cross-epigenome evaluation table


def run(genes, manifest, splits, chosen, results, skipped, opts, out, reference=None, scale=DEFAULT_SCALE) -> Outcome:
    """The transfer step of a build: the reference model's predictions for the epigenomes skipped for want of
    an expression column, and the cross-epigenome evaluation of the labelled ones. Everything in memory."""
    from shallowchrome.tracks.reference import tissues
    from shallowchrome.tracks.workspace.build import _gene_columns, order_marks

    labelled = [e for e in chosen if e in results and e not in skipped
                and not isinstance(results[e], Transferred) and hasattr(results[e], "summary")]
    unlabelled = [e for e in chosen if e in skipped and skipped[e].reason == NO_EXPRESSION.format(eid=e)]
    if not labelled:
        return Outcome({}, None)
    columns, labels = _labelled_inputs(results, labelled, Workspace(out))

    evaluation = None
    every_mark = set().union(*[_marks_of(columns[e]) for e in labelled])
    complete = [e for e in labelled if _marks_of(columns[e]) == every_mark]
    compared = complete if len(complete) >= 2 else labelled  # all marks where >= 2 epigenomes have them all
    if len(compared) > MAX_COMPARED:  # pairs grow as epigenomes^2 and run in this process: a spread sample
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
            evaluation = cross_evaluation(feats, {e: labels[e] for e in compared}, splits, eval_ids, marks, scale)
        else:
            log.warning("cross-epigenome evaluation skipped: no mark is common to %s", ", ".join(compared))

    done = {}
    gene_cols = _gene_columns(genes)
    for eid in unlabelled:
        files = manifest[manifest["epigenome"] == eid].to_dict("records")
        own = _read_columns(files, genes, opts.window)
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
        X = scale_features(np.column_stack([picked[m][1] for m in marks]), scale)
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
        transfer_doc = {"status": STATUS, "note": note(ref_ids), "reference": ref_ids, "scale": scale,
                        "n_train": n_train,
                        "features": f"{scale}(max signalValue) per mark, the {', '.join(FORMAT_PREFERENCE)} file "
                                    f"first; features.tsv's mark columns hold the scaled values "
                                    f"(contribution = weight x feature), its MARK.FORMAT columns the raw ones"}
        doc = _model_document(eid, marks, formats, model, n_train, transfer_doc, opts,
                              {"tissue": tissues().get(eid, ""), "window": opts.window,
                               "peak_files": write_manifest(manifest[manifest["epigenome"] == eid]).to_dict("records")})
        rendered = {FEATURES_FILE: table_bytes(features, float_format="%.10g"),
                    PREDICTIONS_FILE: table_bytes(pd.concat([gene_cols, predictions], axis=1)),
                    MODEL_FILE: dumps_json(doc).encode("utf-8")}
        done[eid] = Transferred(eid, marks, ref_ids, formats, n_train,
                                {k: zlib.compress(v, 1) for k, v in rendered.items()})
        log.info("%s: %s (%d training genes, %s features)", eid, note(ref_ids), n_train, scale)
    for eid in done:
        skipped.pop(eid, None)
    return Outcome(done, evaluation)


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
            "transfer": {"note": res.note, "reference": res.reference},
            "outputs": {name: incremental.sha256_bytes(data) for name, data in contents.items()}}


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
