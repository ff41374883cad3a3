"""One epigenome, end to end in memory: labels, per-split selection, the interpretation model,
predictions and contributions. Arrays and DataFrames in, a result object out."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import ModelError
from .estimator import finite_or_none
from .labels import binarize, threshold_value
from .selection import (
    PART_NAMES,
    UNUSED,
    Configuration,
    SplitResult,
    fit_split,
    interpretation_and_evaluation,
    summarise,
)


@dataclass
class EpigenomeResult:
    epigenome: str
    marks: list
    configurations: list
    threshold: dict
    interpretation: SplitResult
    evaluation: list
    summary: dict
    features: pd.DataFrame  # gene × mark for the interpretation model's configuration
    predictions: pd.DataFrame
    warnings: list = field(default_factory=list)
    features_by_file: pd.DataFrame | None = None  # gene × "MARK.FORMAT", every input file


def _split_record(res: SplitResult, marks: list) -> dict:
    m = res.model
    stats = {}
    for name, arr in (("standard_errors", m.se_), ("z", m.z_), ("p_values", m.pvalues_)):
        stats[name] = {"bias": finite_or_none(arr[0]), **{mk: finite_or_none(v) for mk, v in zip(marks, arr[1:])}}
    return {
        "split": res.split,
        "configuration": res.configuration.name,
        "formats": dict(res.configuration.formats),
        "validation_auroc": res.validation_auroc,
        "bias": m.intercept_,
        "weights": {mk: float(w) for mk, w in zip(marks, m.coef_)},
        **stats,
        "test": res.test,
    }


def fit_epigenome(
    epigenome: str,
    marks: list,
    configurations: list[Configuration],
    features: dict[str, np.ndarray],
    rpkm: np.ndarray,
    splits: dict[int, np.ndarray],
    threshold: str = "median",
    n_eval: int | None = None,
) -> EpigenomeResult:
    """Fit and evaluate one epigenome.

    ``features`` maps configuration name → (n_genes, n_marks) matrix;
    ``rpkm`` has NaN for genes without expression (they are predicted but
    neither labelled nor used by any split).
    """
    labelled = np.isfinite(rpkm)
    if labelled.sum() < 30:
        raise ModelError(f"{epigenome}: only {int(labelled.sum())} genes have expression values; at least 30 are needed")
    cut = threshold_value(rpkm[labelled], threshold)
    y = np.full(len(rpkm), -1, dtype=np.int8)
    y[labelled] = binarize(rpkm[labelled], cut)
    if len(np.unique(y[labelled])) < 2:
        raise ModelError(f"{epigenome}: every gene has the same label at threshold {cut:g}; the model needs ON and OFF genes")

    interp_id, eval_ids = interpretation_and_evaluation(splits, n_eval)
    results = {}
    for k in sorted(set(eval_ids) | {interp_id}):
        part = np.where(labelled, splits[k], UNUSED)
        res = fit_split(features, configurations, y, part)
        res.split = k
        results[k] = res
    interp = results[interp_id]
    evaluation = [results[k] for k in eval_ids]
    summary = summarise(evaluation)

    X = features[interp.configuration.name]
    model = interp.model
    logit = model.decision_function(X)
    proba = model.predict_proba(X)[:, 1]
    contrib = model.contributions(X)
    part_names = np.array([PART_NAMES[c] for c in (-1, 0, 1, 2)], dtype=object)
    part = np.where(labelled, splits[interp_id], UNUSED)
    predictions = pd.DataFrame({
        "logit": logit,
        "probability": proba,
        "predicted": (logit > 0).astype(np.int8),
        "rpkm": rpkm,
        "label": pd.Series(y, dtype="Int8").mask(~labelled),
        "part": part_names[part.astype(int) + 1],
    })
    for j, mark in enumerate(marks):
        predictions[f"contrib_{mark}"] = contrib[:, j]
    feats = pd.DataFrame(X, columns=marks)
    return EpigenomeResult(
        epigenome=epigenome, marks=list(marks), configurations=configurations,
        threshold={"method": threshold, "rpkm": cut}, interpretation=interp, evaluation=evaluation,
        summary=summary, features=feats, predictions=predictions,
    )


def model_document(result: EpigenomeResult, extra: dict | None = None) -> dict:
    """The human-readable JSON description of a fitted epigenome (never pickle)."""
    marks = result.marks
    interp = _split_record(result.interpretation, marks)
    selected = [r.configuration.name for r in result.evaluation]
    doc = {
        "format_version": 1,
        "epigenome": result.epigenome,
        **(extra or {}),
        "marks": marks,
        "feature_names": marks,
        "threshold": result.threshold,
        "configurations_tried": [{"name": c.name, "formats": dict(c.formats)} for c in result.configurations],
        "interpretation_split": result.interpretation.split,
        "configuration": interp["configuration"],
        "formats": interp["formats"],
        "bias": interp["bias"],
        "weights": interp["weights"],
        "standard_errors": interp["standard_errors"],
        "z": interp["z"],
        "p_values": interp["p_values"],
        "metrics": result.summary,
        "configuration_counts": {name: selected.count(name) for name in dict.fromkeys(selected)},
        "interpretation": {"split": interp["split"], "validation_auroc": interp["validation_auroc"],
                           "test": interp["test"]},
        "splits": [_split_record(r, marks) for r in result.evaluation],
    }
    return doc
