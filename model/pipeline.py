"""One epigenome, end to end in memory: labels, per-split selection and evaluation, the interpretation
model, cross-fitted predictions and contributions. Arrays and DataFrames in, a result object out.

Two kinds of models, for two purposes:

- the benchmark's splits: split 0 is the paper's *interpretation model* (the model summary: weights,
  Wald p-values, the weights heatmap), splits 1..N the *evaluation* (mean test AUROC, the reference
  figures), exactly as published;
- *cross-fitting* (:func:`~shallowchrome.model.selection.crossfit`): K folds over the labelled genes,
  each gene predicted and explained by the model of the fold that held it out (genes without
  expression by the model fitted on every labelled gene). These are the per-gene numbers every view
  shows (``predictions``): one explanation per gene, from a model that never saw its label.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from .errors import ModelError
from .estimator import finite_or_none
from .labels import binarize, threshold_value
from .selection import (
    ALL_FOLDS,
    N_FOLDS,
    PART_NAMES,
    TEST,
    UNUSED,
    Configuration,
    CrossFit,
    SplitResult,
    crossfit,
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
    features: pd.DataFrame  # gene × mark: each gene's features under its explaining (fold) model's configuration
    predictions: pd.DataFrame  # cross-fitted: each gene as its fold model predicts and explains it
    crossfit: CrossFit | None = None
    warnings: list = field(default_factory=list)
    features_by_file: pd.DataFrame | None = None  # gene × "MARK.FORMAT", every input file
    #: The non-default modes (:mod:`~shallowchrome.model.modes`): "classification" or "regression"; with the
    #: extended features, ``terms`` (the model's feature names) and ``groups`` (mark -> its columns), ``features``
    #: is then gene × term; ``lr_tests``: per mark LR tests of the interpretation model and of each fold model.
    task: str = "classification"
    terms: list | None = None
    groups: dict | None = None
    lr_tests: dict | None = None


def _coefficients(m, marks: list) -> dict:
    """bias, weights and their Wald statistics (JSON-ready) of a fitted estimator."""
    stats = {}
    for name, arr in (("standard_errors", m.se_), ("z", m.z_), ("p_values", m.pvalues_)):
        stats[name] = {"bias": finite_or_none(arr[0]), **{mk: finite_or_none(v) for mk, v in zip(marks, arr[1:])}}
    return {"bias": m.intercept_, "weights": {mk: float(w) for mk, w in zip(marks, m.coef_)}, **stats}


def _split_record(res: SplitResult, marks: list) -> dict:
    coefficients = _coefficients(res.model, marks)
    return {
        "split": res.split,
        "configuration": res.configuration.name,
        "formats": dict(res.configuration.formats),
        "validation_auroc": res.validation_auroc,
        **coefficients,
        "test": res.test,
    }


def _fold_record(fm, marks: list) -> dict:
    return {
        "fold": fm.fold,
        "n_train": fm.n_train,
        "configuration": fm.configuration.name,
        "formats": dict(fm.configuration.formats),
        "validation_fold": fm.validation_fold,
        "validation_auroc": fm.validation_auroc,
        **_coefficients(fm.model, marks),
        "test": fm.test,
    }


def crossfit_document(cf: CrossFit, marks: list) -> dict:
    """The ``"crossfit"`` entry of ``model.json``: the scheme, the pooled out-of-fold metrics, one record per fold."""
    return {
        "folds": cf.n_folds,
        "seed": cf.seed,
        "assignment": f"labelled genes, stratified by label, dealt to {cf.n_folds} folds in a seeded random order "
                      f"(numpy default_rng([seed, 0xC0F])); predictions.tsv's fold column gives each gene's fold",
        "selection": "per fold k: each configuration fitted on the folds other than k and its validation fold "
                     "(its partner: folds paired 0-1, 2-3, ...), the best AUROC on the validation fold chosen and "
                     "refitted on every fold but k; the all model: the best mean of those AUROCs",
        "unlabelled": f"genes without expression are explained by the model fitted on every labelled gene "
                      f"(fold {ALL_FOLDS!r})",
        "metrics": cf.metrics,
        "models": [_fold_record(fm, marks) for fm in cf.models],
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
    n_folds: int = N_FOLDS,
    seed: int = 0,
    task: str = "classification",
    groups: dict | None = None,
) -> EpigenomeResult:
    """Fit and evaluate one epigenome.

    ``features`` maps configuration name → (n_genes, n_marks) matrix;
    ``rpkm`` has NaN for genes without expression (they are predicted but
    neither labelled nor used by any split). The benchmark splits give the
    interpretation model and the evaluation; ``n_folds``-fold cross-fitting
    (seeded with ``seed``) gives the per-gene predictions and contributions.
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
    if task != "classification" or groups is not None:
        return _fit_mode(epigenome, marks, configurations, features, rpkm, splits, threshold, cut, y, labelled,
                         interp_id, eval_ids, n_folds, seed, task, groups)
    results = {}
    for k in sorted(set(eval_ids) | {interp_id}):
        part = np.where(labelled, splits[k], UNUSED)
        res = fit_split(features, configurations, y, part)
        res.split = k
        results[k] = res
    interp = results[interp_id]
    evaluation = [results[k] for k in eval_ids]
    summary = summarise(evaluation)

    cf = crossfit(features, configurations, y, labelled, n_folds, seed)
    logit = cf.logit
    # every labelled gene is in the test part of its fold's model; the others were never seen by any model
    part = np.where(labelled, PART_NAMES[TEST], PART_NAMES[UNUSED]).astype(object)
    predictions = pd.DataFrame({
        "logit": logit,
        "probability": expit(logit),
        "predicted": (logit > 0).astype(np.int8),
        "rpkm": rpkm,
        "label": pd.Series(y, dtype="Int8").mask(~labelled),
        "part": part,
        "fold": pd.Series(np.where(cf.folds >= 0, cf.folds.astype(str), ALL_FOLDS), dtype=object),
    })
    for j, mark in enumerate(marks):
        predictions[f"contrib_{mark}"] = cf.contributions[:, j]
    feats = pd.DataFrame(cf.features, columns=marks)
    return EpigenomeResult(
        epigenome=epigenome, marks=list(marks), configurations=configurations,
        threshold={"method": threshold, "rpkm": cut}, interpretation=interp, evaluation=evaluation,
        summary=summary, features=feats, predictions=predictions, crossfit=cf,
    )


def _fit_mode(epigenome, marks, configurations, features, rpkm, splits, threshold, cut, y, labelled, interp_id,
              eval_ids, n_folds, seed, task, groups) -> EpigenomeResult:
    """:func:`fit_epigenome` for ``--task regression`` and/or the extended features (``groups``: mark -> the
    columns of its terms); see :mod:`~shallowchrome.model.modes`."""
    from . import modes

    regression = task == "regression"
    target = modes.log_expression(rpkm) if regression else None
    results = {}
    for k in sorted(set(eval_ids) | {interp_id}):
        part = np.where(labelled, splits[k], UNUSED)
        res = (modes.fit_split_regression(features, configurations, target, part) if regression
               else fit_split(features, configurations, y, part))
        res.split = k
        results[k] = res
    evaluation = [results[k] for k in eval_ids]
    summary = modes.summarise_metrics(evaluation, modes.REGRESSION_METRICS) if regression else summarise(evaluation)
    cf = (modes.crossfit_generic(features, configurations, y, labelled, n_folds, seed, target=target) if regression
          else crossfit(features, configurations, y, labelled, n_folds, seed))
    width = features[configurations[0].name].shape[1]
    terms = [t for cols in (groups or {}).values() for t in cols] if groups else None
    index = None
    if groups is not None:
        names = list(groups)
        index = {m: list(range(sum(len(groups[n]) for n in names[:i]), sum(len(groups[n]) for n in names[:i + 1])))
                 for i, m in enumerate(names)}
        if sum(len(v) for v in groups.values()) != width:
            raise ModelError(f"{epigenome}: {width} feature columns for {len(terms)} terms")
    contrib = cf.contributions if index is None else modes.mark_contributions(cf.contributions, index)
    out = cf.logit
    part = np.where(labelled, PART_NAMES[TEST], PART_NAMES[UNUSED]).astype(object)
    frame = {"logit": out, "probability": expit(out)}
    if regression:  # the predicted log2(RPKM + 1); logit holds it too, so every reader of logit works
        sigma = {str(fm.fold): fm.model.sigma_ for fm in cf.models}
        gene_sigma = np.array([sigma[f] for f in np.where(cf.folds >= 0, cf.folds.astype(str), ALL_FOLDS)])
        frame = {"prediction": out, "logit": out, "probability": modes.on_probability(out, np.log2(cut + 1.0),
                                                                                       gene_sigma)}
        predicted = (out >= np.log2(cut + 1.0)).astype(np.int8)
    else:
        predicted = (out > 0).astype(np.int8)
    predictions = pd.DataFrame({
        **frame,
        "predicted": predicted,
        "rpkm": rpkm,
        "label": pd.Series(y, dtype="Int8").mask(~labelled),
        "part": part,
        "fold": pd.Series(np.where(cf.folds >= 0, cf.folds.astype(str), ALL_FOLDS), dtype=object),
    })
    if regression:
        predictions.insert(predictions.columns.get_loc("rpkm") + 1, "log_expression", target)
    for j, mark in enumerate(marks):
        predictions[f"contrib_{mark}"] = contrib[:, j]
    lr_tests = None
    if index is not None and not regression:
        lr_tests = {}
        interp = results[interp_id]
        tr = labelled & (splits[interp_id] == 0)
        X = features[interp.configuration.name]
        lr_tests["interpretation"] = modes.mark_lr_tests(X[tr], y[tr], index, interp.model)
        every = cf.folds >= 0
        for fm in cf.models:
            rows = every if fm.fold == ALL_FOLDS else every & (cf.folds != fm.fold)
            Xf = features[fm.configuration.name]
            lr_tests[str(fm.fold)] = modes.mark_lr_tests(Xf[rows], y[rows], index, fm.model)
    feats = pd.DataFrame(cf.features, columns=terms or marks)
    return EpigenomeResult(
        epigenome=epigenome, marks=list(marks), configurations=configurations,
        threshold={"method": threshold, "rpkm": cut}, interpretation=results[interp_id], evaluation=evaluation,
        summary=summary, features=feats, predictions=predictions, crossfit=cf, task=task, terms=terms,
        groups=index and {m: [terms[j] for j in cols] for m, cols in index.items()}, lr_tests=lr_tests,
    )


def _mode_document(result: EpigenomeResult, doc: dict) -> dict:
    """The default document's layout with a mode's terms: coefficient tables keyed by term, the task and
    the metrics' meaning, per mark LR tests (extended features)."""
    names = result.terms or result.marks
    regression = result.task == "regression"

    def fix(rec, model=None):
        if regression:
            rec["validation_r2"] = rec.pop("validation_auroc")
            if model is not None:
                rec["residual_sd"] = model.sigma_
        return rec

    interp = fix(_split_record(result.interpretation, names), result.interpretation.model)
    for key in ("bias", "weights", "standard_errors", "z", "p_values"):
        doc[key] = interp[key]
    doc["feature_names"] = names
    doc["interpretation"] = {"split": interp["split"], "validation": interp["validation_r2" if regression
                                                                               else "validation_auroc"],
                             "test": interp["test"]}
    doc["splits"] = [fix(_split_record(r, names), r.model) for r in result.evaluation]
    if result.crossfit is not None:
        cfd = crossfit_document(result.crossfit, names)
        cfd["models"] = [fix(r, fm.model) for r, fm in zip(cfd["models"], result.crossfit.models)]
        if result.lr_tests:
            for r in cfd["models"]:
                r["mark_tests"] = result.lr_tests[str(r["fold"])]
        doc["crossfit"] = cfd
    mode = {"task": result.task, "feature_set": "extended" if result.terms else "exact"}
    if regression:
        mode["target"] = "log2(RPKM + 1)"
        mode["model"] = "ordinary least squares; z holds the t statistics, p_values two-sided t-test p-values"
        mode["prediction"] = "predictions.tsv: prediction (= logit) the predicted log2(RPKM + 1), bias + the " \
                             "contributions; probability = Phi((prediction - log2(threshold + 1)) / residual_sd), " \
                             "P(ON) under the model's normal residuals; predicted = prediction >= log2(threshold + 1)"
        mode["metrics"] = "Pearson r, Spearman rho and R^2 (1 - SS_res/SS_tot) of the test parts; " \
                          "configurations chosen by validation R^2"
    if result.groups:
        mode["terms"] = result.groups
        mode["contribution"] = "a mark's contribution is the sum of its terms' weight x feature"
    if regression:
        doc["residual_sd"] = interp["residual_sd"]
    if result.lr_tests:
        mode["mark_tests"] = result.lr_tests["interpretation"]
        mode["mark_test"] = "likelihood-ratio test of the mark's group of terms (chi2, df = number of terms), " \
                            "on the model's training genes"
    return {**{k: v for k, v in doc.items() if k not in ("metrics",)}, "mode": mode, "metrics": result.summary}


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
    if result.crossfit is not None and result.task == "classification" and result.terms is None:
        doc["crossfit"] = crossfit_document(result.crossfit, marks)
    if result.task != "classification" or result.terms is not None:
        return _mode_document(result, doc)
    return doc
