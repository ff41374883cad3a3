"""Regulative patterns and their significance (GUIDE §1 step 7).

For a gene g in an epigenome, with the model's weights w and bias b, the
regulative pattern is ψ = φ ⊙ w (the feature vector times the weights,
element-wise) and the logit is y = b + Σ ψ. A weight is significant when its
Wald-test p-value is ≤ 1e-4; the p-values come from statsmodels ``Logit``
refitted on the model's training genes (the same maximum-likelihood fit as
the scikit-learn model, see :func:`fit_wald`).

No leakage: a gene is explained only by a model that never used its label.
By default that is its cross-fitting fold's model (:func:`choose_model`):
the build splits the labelled genes into K folds and fits each fold's model
on the other folds (configuration chosen inside them too), so every labelled
gene has exactly one explaining model, the one whose predictions
``predictions.tsv`` holds; genes without expression are explained by the
model fitted on every labelled gene (fold ``"all"``). An epigenome without any
expression (``model.json`` has ``"transfer"``) is explained by its *reference
model* (kind ``reference``), learnt on other epigenomes' labels, on log1p
features (:mod:`shallowchrome.model.transfer`): its label names them. On request (``explain
--split K``) a benchmark split's model explains the gene instead, when the
gene is in a part of it the model never used: the test part, unused (no
expression), or the validation part when the build tried a single peak
format configuration (validation genes then select nothing). That check is
:func:`choose_split`.

Model records are the dictionaries of ``model.json``: the top level for the
interpretation split, one entry of ``"splits"`` per evaluation split and one
of ``"crossfit"]["models"]`` per fold, each with ``formats``, ``bias``,
``weights``, ``standard_errors``, ``z`` and ``p_values``.

Extended features (``build --features extended``): a mark has several terms
(``model.json``'s ``mode.terms``); :func:`grouped_pattern` gives each mark the
sum of its terms' contributions, the likelihood-ratio test of its group of terms
(``mark_tests``) and the per-term detail (feature, weight, ψ, Wald test). Pure
functions: arrays and dictionaries in and out, no paths.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from scipy.special import expit

from .errors import ModelError
from .estimator import finite_or_none
from .selection import ALL_FOLDS

#: A weight is "not significant" when its p-value exceeds this (the paper's threshold).
SIGNIFICANCE = 1e-4
#: Parts in which a gene can be explained without leakage ("none": the model never saw it).
LEAK_FREE_PARTS = ("test", "none")


def leak_free_parts(n_configurations: int) -> tuple[str, ...]:
    """The parts whose genes a split's model never used: validation too when no selection took place."""
    return LEAK_FREE_PARTS + (("validation",) if n_configurations == 1 else ())


# --- which model explains a gene ------------------------------------------------------------
def model_splits(model_doc: Mapping) -> tuple[int, list[int]]:
    """(interpretation split, evaluation splits in ascending order) recorded in a ``model.json``."""
    interp = int(model_doc.get("interpretation_split", 0))
    evaluation = sorted({int(rec["split"]) for rec in model_doc.get("splits", [])} - {interp})
    return interp, evaluation


def split_record(model_doc: Mapping, split: int) -> Mapping:
    """The model record (formats, bias, weights, statistics) of one split of a ``model.json``.

    The interpretation split's record is the document's top level; the
    others are entries of ``"splits"``. Raises :class:`ModelError` for a split
    the document does not hold.
    """
    interp, evaluation = model_splits(model_doc)
    if split == interp:
        return model_doc
    for rec in model_doc.get("splits", []):
        if int(rec["split"]) == split:
            return rec
    raise ModelError(f"{model_doc.get('epigenome', 'this epigenome')} has no model for split {split} "
                     f"(splits: {', '.join(str(k) for k in [interp, *evaluation])})")


def choose_split(parts: Mapping[int, str], interpretation: int, evaluation: Sequence[int],
                 requested: int | None = None, subject: str = "the gene",
                 leak_free: Sequence[str] = LEAK_FREE_PARTS) -> tuple[int, str]:
    """The split whose model explains a gene without leakage, and the gene's part in it.

    ``parts`` maps each split id to the gene's part (train, validation, test,
    or none for a gene the split does not use); ``leak_free`` are the parts
    whose genes a model never used (see :func:`leak_free_parts`). Without
    ``requested``: the interpretation split when the gene is in a leak-free
    part of it, otherwise the first evaluation split where it is. With
    ``requested``: that split, or a :class:`ModelError` naming the splits
    that could explain it.
    """
    available = [interpretation, *[k for k in evaluation if k != interpretation]]
    usable = [k for k in available if parts.get(k, "none") in leak_free]
    if requested is not None:
        return _requested_split(parts, available, usable, requested, subject, leak_free)
    if usable:
        return usable[0], parts.get(usable[0], "none")
    summary = ", ".join(f"{k}: {parts.get(k, 'none')}" for k in available)
    raise ModelError(f"{subject} is in the training data of every split ({summary}), so no model can explain it "
                     "without leakage", fix="rebuild the workspace with more --splits")


_MORE_SPLITS = "rebuild with more --splits"


def _requested_split(parts, available, usable, requested: int, subject: str, leak_free) -> tuple[int, str]:
    """The split asked for with --split, when it has a model and the gene is in a leak-free part of it."""
    if requested not in available:
        raise ModelError(f"{subject}: there is no model for split {requested} (the workspace has splits "
                         f"{', '.join(map(str, available))})", fix="use one of them or omit --split")
    part = parts.get(requested, "none")
    if part not in leak_free:
        where = "no split" if not usable else f"split {usable[0]}" if len(usable) == 1 else \
            f"splits {', '.join(map(str, usable))}"
        fix = f"use --split {usable[0]} or omit --split" if usable else _MORE_SPLITS
        raise ModelError(f"{subject} is in the {part} part of split {requested}, so its model cannot explain it "
                         f"without leakage; the models that never used it are those of {where}", fix=fix)
    return requested, part


# --- cross-fitting folds -----------------------------------------------------------------
def fold_id(value):
    """A fold id as ``predictions.tsv`` or ``model.json`` gives it: an int 0..K-1, or ``"all"``.

    Accepts ints, numpy integers and their text (``"3"``); anything else is a :class:`ModelError`.
    """
    if isinstance(value, str):
        text = value.strip()
        if text == ALL_FOLDS:
            return ALL_FOLDS
        if text.isdigit():
            return int(text)
    elif not isinstance(value, bool):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number is not None and number == value and number >= 0:
            return number
    raise ModelError(f"{value!r} is not a cross-fitting fold (0, 1, ... or {ALL_FOLDS!r})",
                     fix="rebuild the workspace with this version of shallowchrome build")


def has_crossfit(model_doc: Mapping) -> bool:
    """Whether a ``model.json`` holds cross-fitting fold models (workspaces built before them do not)."""
    return bool((model_doc.get("crossfit") or {}).get("models"))


def fold_record(model_doc: Mapping, fold) -> Mapping:
    """The model record (formats, bias, weights, statistics, ``n_train``) of a cross-fitting fold.

    ``fold``: 0..K-1 or ``"all"`` (as in ``predictions.tsv``'s ``fold`` column, text or int).
    """
    fold = fold_id(fold)
    for rec in (model_doc.get("crossfit") or {}).get("models", []):
        if fold_id(rec["fold"]) == fold:
            return rec
    raise ModelError(f"{model_doc.get('epigenome', 'this epigenome')} has no cross-fitting model for fold {fold}",
                     fix="rebuild the workspace with this version of shallowchrome build")


def fold_training(folds: Sequence, labelled: np.ndarray, fold) -> np.ndarray:
    """Boolean mask of the genes a fold's model was fitted on: the labelled genes outside the fold.

    ``folds``: each gene's fold (``predictions.tsv``'s column); the ``"all"``
    model was fitted on every labelled gene.
    """
    fold = fold_id(fold)
    labelled = np.asarray(labelled, dtype=bool)
    if fold == ALL_FOLDS:
        return labelled.copy()
    ids = np.array([str(f) for f in folds], dtype=object)
    return labelled & (ids != str(fold))


REFERENCE = "reference"


@dataclass(frozen=True)
class ExplainingModel:
    """The model that explains one gene: a cross-fitting fold's (the default), a requested split's, or for an
    epigenome without expression its reference model (``kind`` ``reference``, fold ``all``)."""

    kind: str  # "fold", "split" or "reference"
    id: object  # fold 0..K-1 / "all", or the split id
    part: str  # the gene's part for that model: "test" (held out), "none" (never labelled), "validation"
    record: Mapping
    transfer: Mapping | None = None  # model.json's "transfer" (reference epigenomes, scale, source workspace)

    @property
    def fold(self):
        return self.id if self.kind in ("fold", REFERENCE) else None

    @property
    def split(self):
        return self.id if self.kind == "split" else None

    @property
    def label(self) -> str:
        """``fold 3``, ``all labelled genes``, ``split 4`` or ``reference model learnt on E066,E079 (log1p
        features)``: what the views print."""
        if self.kind == "split":
            return f"split {self.id}"
        if self.kind == REFERENCE:
            return reference_label(self.transfer or {})
        return "all labelled genes" if self.id == ALL_FOLDS else f"fold {self.id}"


def reference_label(transfer: Mapping) -> str:
    """``reference model learnt on E066,E079 (log1p features)``; ``... of workspace WS learnt on ...`` when it
    came from another workspace (``build --reference-workspace``)."""
    ids = ",".join(transfer.get("reference") or []) or "other epigenomes"
    source = f" of workspace {transfer['workspace']}" if transfer.get("workspace") else ""
    return f"reference model{source} learnt on {ids} ({transfer.get('scale') or 'log1p'} features)"


def mark_p_value(record: Mapping, mark: str):
    """A mark's p-value in a model record: its Wald test, or with extended features (several terms per mark,
    ``build --features extended``) the likelihood-ratio test of its terms (``mark_tests``); None if absent."""
    if "mark_tests" in record:
        return ((record["mark_tests"] or {}).get(mark) or {}).get("p_value")
    return (record.get("p_values") or {}).get(mark)


def is_transferred(model_doc: Mapping) -> bool:
    """Whether a ``model.json`` is an epigenome without expression, predicted by a reference model."""
    return isinstance(model_doc.get("transfer"), Mapping)


def choose_model(model_doc: Mapping, fold=None, parts: Mapping[int, str] | None = None,
                 requested_split: int | None = None, subject: str = "the gene",
                 leak_free: Sequence[str] | None = None) -> ExplainingModel:
    """The model that explains a gene without leakage (see the module docstring).

    Without ``requested_split``: the gene's cross-fitting fold model
    (``fold`` from ``predictions.tsv``), part ``test`` for a labelled gene
    (its fold held it out) and ``none`` for the ``all`` model's genes. A
    workspace built before cross-fitting (no ``"crossfit"`` in model.json)
    falls back to :func:`choose_split` over its splits. With
    ``requested_split``: that split's model, checked by :func:`choose_split`.
    """
    parts = parts or {}
    if is_transferred(model_doc):  # no expression: its reference model, learnt on other epigenomes, explains it
        if requested_split is not None:
            raise ModelError(f"{subject}: {model_doc['transfer'].get('note', 'no expression data')}, so no split "
                             "model exists; its reference model explains every gene", fix="omit --split")
        return ExplainingModel(REFERENCE, ALL_FOLDS, "none", fold_record(model_doc, ALL_FOLDS),
                               model_doc["transfer"])
    if leak_free is None:
        leak_free = leak_free_parts(len(model_doc.get("configurations_tried", [])) or 2)
    if requested_split is None and has_crossfit(model_doc):
        if fold is None:
            raise ModelError(f"{subject}: no cross-fitting fold is recorded for it",
                             fix="rebuild the workspace with this version of shallowchrome build")
        fold = fold_id(fold)
        return ExplainingModel("fold", fold, "none" if fold == ALL_FOLDS else "test", fold_record(model_doc, fold))
    interp, evaluation = model_splits(model_doc)
    try:
        k, part = choose_split(parts, interp, evaluation, requested_split, subject, leak_free)
    except ModelError as exc:
        if requested_split is None or not has_crossfit(model_doc) or exc.fix != _MORE_SPLITS:
            raise
        raise ModelError(exc.detail, fix="omit --split: the model of its cross-fitting fold explains it") from None
    return ExplainingModel("split", k, part, split_record(model_doc, k))


# --- significance -------------------------------------------------------------------------
@dataclass(frozen=True)
class WaldFit:
    """Coefficients and Wald statistics of ``[bias, *weights]``, and where they come from."""

    params: np.ndarray
    bse: np.ndarray
    z: np.ndarray
    pvalues: np.ndarray
    source: str
    n_train: int | None = None


def fit_wald(X: np.ndarray, y: np.ndarray) -> WaldFit:
    """Refit the unpenalised logistic regression with statsmodels ``Logit`` (Newton).

    ``X`` holds the training genes' features (no constant column), ``y`` their
    0/1 labels. Its ``params`` equal the scikit-learn fit of
    :class:`~shallowchrome.model.estimator.ShallowChromeClassifier` (both are
    the maximum-likelihood estimate). Raises :class:`ModelError` when
    statsmodels cannot fit (a singular information matrix, e.g. a feature
    that is constant in training, or perfect separation).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        HessianInversionWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    X1 = np.column_stack([np.ones(len(X)), X])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("error", HessianInversionWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = sm.Logit(y, X1).fit(method="newton", maxiter=100, tol=1e-12, disp=0)
        except (np.linalg.LinAlgError, ConvergenceWarning, HessianInversionWarning, PerfectSeparationError,
                PerfectSeparationWarning, ValueError) as exc:
            raise ModelError(f"statsmodels Logit cannot fit these training genes ({type(exc).__name__}: {exc})") from None
    params, bse = np.asarray(res.params), np.asarray(res.bse)
    if not (np.isfinite(params).all() and np.isfinite(bse).all()):
        raise ModelError("statsmodels Logit gave non-finite coefficients or standard errors")
    return WaldFit(params=params, bse=bse, z=np.asarray(res.tvalues), pvalues=np.asarray(res.pvalues),
                   source="statsmodels Logit", n_train=int(len(y)))


def stored_wald(record: Mapping, marks: Sequence[str]) -> WaldFit:
    """The Wald statistics a model record already holds (``None`` in JSON → NaN)."""
    def vector(key):
        d = record.get(key) or {}
        return np.array([_nan(d.get(name)) for name in ("bias", *marks)], dtype=np.float64)

    params = np.r_[record["bias"], [record["weights"][m] for m in marks]].astype(np.float64)
    return WaldFit(params=params, bse=vector("standard_errors"), z=vector("z"), pvalues=vector("p_values"),
                   source="model.json Wald statistics")


def same_fit(fit: WaldFit, record: Mapping, marks: Sequence[str], rtol: float = 1e-5) -> float:
    """The largest difference between a refit's coefficients and a record's, scaled by max(1, |coef|).

    Values above ``rtol`` mean the features do not reproduce the stored model.
    """
    stored = np.r_[record["bias"], [record["weights"][m] for m in marks]].astype(np.float64)
    return float(np.max(np.abs(fit.params - stored) / np.maximum(1.0, np.abs(stored))))


def is_significant(p_value, alpha: float = SIGNIFICANCE) -> bool | None:
    """p ≤ alpha; None when the p-value is undefined (NaN)."""
    if p_value is None or not math.isfinite(p_value):
        return None
    return bool(p_value <= alpha)


# --- the regulative pattern ---------------------------------------------------------------
def regulative_pattern(record: Mapping, marks: Sequence[str], phi: Sequence[float], stats: WaldFit,
                       alpha: float = SIGNIFICANCE) -> dict:
    """The pattern of one gene under one model record.

    Returns ``bias`` and ``marks`` entries (value, standard error, z, p-value,
    significance, role, the bar length ``normalised`` to the largest absolute
    value among the contributions and the bias) and ``logit``, ``probability``
    and ``predicted`` (ON when the logit is > 0). The bias and weights are the
    record's; the statistics are ``stats``'.
    """
    phi = np.asarray(phi, dtype=np.float64)
    w = np.array([record["weights"][m] for m in marks], dtype=np.float64)
    b = float(record["bias"])
    psi = phi * w + 0.0  # + 0.0 turns -0.0 (no peak, negative weight) into 0.0
    logit = b + float(psi.sum())
    scale = float(np.max(np.abs(np.r_[b, psi]))) or 1.0
    formats = record.get("formats") or {}

    def term(i, value):
        p = _nan(stats.pvalues[i])
        coef = b if i == 0 else w[i - 1]
        return {"standard_error": finite_or_none(stats.bse[i]), "z": finite_or_none(stats.z[i]), "p_value": finite_or_none(p),
                "significant": is_significant(p, alpha), "role": role(coef),
                "normalised": value / scale}

    bias = {"value": b, **term(0, b)}
    entries = [{"mark": m, "format": formats.get(m), "feature": float(phi[j]), "weight": float(w[j]),
                "contribution": float(psi[j]), **term(j + 1, float(psi[j]))} for j, m in enumerate(marks)]
    return {"bias": bias, "marks": entries, "logit": logit, "probability": float(expit(logit)),
            "predicted": "ON" if logit > 0 else "OFF"}


def role(coef: float | None) -> str:
    """A term's role by the sign of its weight: ``activating``, ``repressing`` or ``none`` (also undefined)."""
    if coef is None or not math.isfinite(coef):
        return "none"
    return "activating" if coef > 0 else "repressing" if coef < 0 else "none"


def grouped_pattern(record: Mapping, groups: Mapping[str, Sequence[str]], phi: Mapping[str, float],
                    stats: WaldFit, mark_tests: Mapping | None, exact: Mapping[str, float] | None = None,
                    alpha: float = SIGNIFICANCE) -> dict:
    """The pattern of one gene under a model with several terms per mark (``build --features extended``).

    ``groups``: mark -> its terms (``mode.terms``); ``phi``: term -> the gene's feature; ``stats``: the Wald
    statistics of ``[bias, *terms]`` in ``groups``' order; ``mark_tests``: mark -> the likelihood-ratio test of
    its group (``lr``, ``df``, ``p_value``); ``exact``: mark -> the max signal in TSS ± window (shown as the
    mark's ``feature``). Each mark's ``contribution`` is the sum of its terms' ψ = weight × feature; its
    ``weight`` is None (several), its p-value the LR test's and its ``role`` the sign of the contribution;
    ``terms`` lists the terms (feature, weight, contribution, Wald standard error, z, p-value, significance,
    role). Same keys as :func:`regulative_pattern` otherwise.
    """
    names = [t for ts in groups.values() for t in ts]
    b = float(record["bias"])
    w = {t: float(record["weights"][t]) for t in names}
    psi = {t: float(phi[t]) * w[t] + 0.0 for t in names}
    totals = {m: float(sum(psi[t] for t in ts)) + 0.0 for m, ts in groups.items()}
    logit = b + float(sum(totals.values()))
    scale = float(np.max(np.abs([b, *totals.values()]))) or 1.0
    formats = record.get("formats") or {}
    index = {t: i + 1 for i, t in enumerate(names)}

    def wald(i, coef, value):
        p = _nan(stats.pvalues[i])
        return {"standard_error": finite_or_none(stats.bse[i]), "z": finite_or_none(stats.z[i]),
                "p_value": finite_or_none(p), "significant": is_significant(p, alpha), "role": role(coef),
                "normalised": value / scale}

    entries = []
    for m, ts in groups.items():
        test = (mark_tests or {}).get(m) or {}
        p = _nan(test.get("p_value"))
        terms = [{"term": t, "feature": float(phi[t]), "weight": w[t], "contribution": psi[t],
                  **wald(index[t], w[t], psi[t])} for t in ts]
        entries.append({"mark": m, "format": formats.get(m),
                        "feature": None if exact is None or exact.get(m) is None else float(exact[m]),
                        "weight": None, "contribution": totals[m], "standard_error": None, "z": None,
                        "p_value": finite_or_none(p), "significant": is_significant(p, alpha),
                        "role": role(totals[m]), "normalised": totals[m] / scale,
                        "test": "likelihood ratio" if test else None, "lr": finite_or_none(test.get("lr")),
                        "df": test.get("df"), "terms": terms})
    bias = {"value": b, **wald(0, b, b)}
    return {"bias": bias, "marks": entries, "logit": logit, "probability": float(expit(logit)),
            "predicted": "ON" if logit > 0 else "OFF"}


def _nan(value) -> float:
    return math.nan if value is None else float(value)


