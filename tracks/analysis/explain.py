"""Regulative patterns read from a workspace: ``explain`` (per gene) and ``weights`` (per epigenome).

A gene is explained by its cross-fitting fold's model (the fold that held it
out; the ``all`` model for genes without expression): the same model, hence
the same numbers, as its row of ``predictions.tsv``, which every other view
(gene pages, the API, tracks, reports) reads. ``--split K`` explains with a
benchmark split's model instead, when the gene is in a part of it that
model never used. ``weights`` shows the interpretation model (split 0).

An epigenome without expression (``build`` without its RNA-seq) is explained by
its reference model, named as such (``reference model learnt on E066,E079
(log1p features)``): the features are log1p of the ``MARK.FORMAT`` columns (the
values its ``predictions.tsv`` was computed from) and the statistics are the
stored Wald tests of the reference fit (its training genes are other
epigenomes'). With ``--features extended`` each mark's contribution is the sum
of its terms' (the ``MARK:term`` columns of ``features.tsv``, those of the
gene's fold model), with its likelihood-ratio test and the per-term detail
(``terms``); the per-term Wald statistics are the stored ones.

The numbers come from the workspace alone: each model record from
``model.json``, the features of its configuration from the ``MARK.FORMAT``
columns of ``features.tsv``, the labels and folds from ``predictions.tsv``
and the parts from ``splits.tsv.gz``. P-values come from statsmodels
``Logit`` refitted on the model's training genes (a fold's: the labelled
genes outside it; a split's: its train part); its coefficients are checked
against the stored ones, and when statsmodels cannot fit (a singular
information matrix) or does not reproduce them the stored Wald statistics
are used and the output says so.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError, ModelError
from shallowchrome.model.interpret import (
    REFERENCE,
    SIGNIFICANCE,
    ExplainingModel,
    WaldFit,
    choose_model,
    fit_wald,
    fold_record,
    fold_training,
    grouped_pattern,
    is_significant,
    is_transferred,
    model_splits,
    reference_label,
    regulative_pattern,
    same_fit,
    split_record,
    stored_wald,
)
from shallowchrome.model.selection import PART_NAMES, TRAIN
from shallowchrome.tracks.workspace.layout import Workspace

log = logging.getLogger(__name__)

#: Columns of the weights table (one row per epigenome × term). ``scale``: the features the weight multiplies,
#: ``raw`` (max signalValue) or, for an epigenome without expression, its reference model's (``log1p``);
#: ``model``: which model (``split 0``, or the reference model and the epigenomes it was learnt on).
WEIGHTS_COLUMNS = ["epigenome", "tissue", "term", "weight", "standard_error", "z", "p_value", "significant", "source",
                   "scale", "model"]
#: Columns of the long (one row per gene × epigenome × term) TSV of explanations.
EXPLAIN_COLUMNS = ["gene_id", "symbol", "epigenome", "model", "fold", "split", "part", "term", "format", "feature",
                   "weight", "contribution", "normalised", "standard_error", "p_value", "significant", "role", "logit",
                   "probability", "predicted", "measured", "rpkm"]


@dataclass
class EpigenomeView:
    """One epigenome's model, features and labels, with the statsmodels fits made so far."""

    eid: str
    model: dict
    features: pd.DataFrame
    labels: pd.Series  # Int8, NA for genes without expression
    rpkm: pd.Series
    folds: pd.Series | None = None  # predictions.tsv's fold column (None in a workspace built before cross-fitting)
    fits: dict = field(default_factory=dict)
    name: str = ""  # its tissue as workspace.json records it (`build --metadata`), else model.json's

    @property
    def marks(self) -> list[str]:
        return list(self.model["marks"])

    @property
    def tissue(self) -> str:
        return self.name or self.model.get("tissue", "") or ""

    @property
    def extended(self) -> bool:
        return (self.model.get("mode") or {}).get("feature_set") == "extended"

    @property
    def terms(self) -> list[str]:
        """The model's feature names: the marks, or with extended features their terms."""
        return list(self.model.get("feature_names") or self.marks)


def load_view(ws: Workspace, eid: str) -> EpigenomeView:
    """Read what interpreting ``eid`` needs from the workspace."""
    pred = ws.predictions(eid)
    folds = pred["fold"].astype(str) if "fold" in pred.columns else None
    return EpigenomeView(eid=eid, model=ws.model(eid), features=ws.features(eid), labels=pred["label"],
                         rpkm=pred["rpkm"], folds=folds,
                         name=(ws.info.get("epigenomes", {}).get(eid) or {}).get("tissue") or "")


def check_epigenomes(ws: Workspace, requested) -> list[str]:
    """The requested epigenomes (default: all modelled ones); an unknown one is an :class:`InputError`."""
    available = ws.epigenomes()
    if not requested:
        return available
    unknown = [e for e in requested if e not in available]
    if unknown:
        raise InputError(ws.root, f"no model for epigenome(s) {', '.join(unknown)} in this workspace "
                         f"(has {', '.join(available)})", fix="pick --epigenomes among those")
    return list(dict.fromkeys(requested))


def split_features(view: EpigenomeView, record: dict) -> np.ndarray:
    """(n_genes, n_marks) features of a model record's configuration (a split's or a fold's), from the
    ``MARK.FORMAT`` columns."""
    formats = record.get("formats") or {}
    columns = [f"{m}.{formats.get(m)}" for m in view.marks]
    missing = [c for c in columns if c not in view.features.columns]
    if missing:
        which = f"fold {record['fold']}" if "fold" in record else \
            f"split {record.get('split', view.model.get('interpretation_split'))}"
        raise ModelError(f"{view.eid}: features.tsv has no column {', '.join(missing)} for {which}",
                         fix="rebuild the workspace with this version of shallowchrome build")
    return view.features[columns].to_numpy(dtype=np.float64)


def model_features(view: EpigenomeView, model: ExplainingModel) -> np.ndarray:
    """(n_genes, n_marks) features the explaining model multiplies: its configuration's ``MARK.FORMAT``
    columns, put on the reference model's scale (log1p) for an epigenome without expression."""
    X = split_features(view, model.record)
    if model.kind == REFERENCE:
        from shallowchrome.model.transfer import scale_features

        X = scale_features(X, (model.transfer or {}).get("scale") or "log1p")
    return X


def reference_statistics(view: EpigenomeView) -> WaldFit:
    """The reference model's Wald statistics, as stored: its training genes are other epigenomes'."""
    key = (REFERENCE, "all")
    if key not in view.fits:
        record = fold_record(view.model, "all")
        fit = stored_wald(record, view.marks)
        n = record.get("n_train")
        view.fits[key] = WaldFit(fit.params, fit.bse, fit.z, fit.pvalues,
                                 source=f"model.json Wald statistics of the {reference_label(view.model['transfer'])}",
                                 n_train=None if n is None else int(n))
    return view.fits[key]


def split_statistics(view: EpigenomeView, split: int, parts: np.ndarray) -> WaldFit:
    """Wald statistics of a split's model: a statsmodels refit on its training genes, cached per split.

    Falls back to the statistics stored in ``model.json`` (with a warning)
    when statsmodels cannot fit or does not reproduce the stored weights.
    """
    train = (parts == TRAIN) & view.labels.notna().to_numpy()
    return _statistics(view, ("split", split), split_record(view.model, split), train)


def fold_statistics(view: EpigenomeView, fold) -> WaldFit:
    """Wald statistics of a cross-fitting fold's model: a statsmodels refit on the labelled genes outside the
    fold (every labelled gene for the ``all`` model), cached per fold; the same fallback as
    :func:`split_statistics`."""
    if view.folds is None:
        raise ModelError(f"{view.eid}: predictions.tsv has no fold column",
                         fix="rebuild the workspace with this version of shallowchrome build")
    record = fold_record(view.model, fold)
    train = fold_training(view.folds.to_numpy(), view.labels.notna().to_numpy(), fold)
    return _statistics(view, ("fold", str(record["fold"])), record, train)


def model_statistics(view: EpigenomeView, model: ExplainingModel, splits: dict) -> WaldFit:
    """Wald statistics of the model explaining a gene (a fold's, a split's or the reference model's)."""
    if model.kind == REFERENCE:
        return reference_statistics(view)
    if view.extended:  # several terms per mark: the stored per-term Wald tests (no refit)
        key = ("terms", model.kind, str(model.id))
        if key not in view.fits:
            fit = stored_wald(model.record, view.terms)
            n = model.record.get("n_train")
            view.fits[key] = WaldFit(fit.params, fit.bse, fit.z, fit.pvalues, source=fit.source,
                                     n_train=None if n is None else int(n))
        return view.fits[key]
    if model.kind == "fold":
        return fold_statistics(view, model.id)
    return split_statistics(view, model.id, splits[model.id])


def _statistics(view: EpigenomeView, key, record: dict, train: np.ndarray) -> WaldFit:
    if key in view.fits:
        return view.fits[key]
    if is_transferred(view.model):  # learnt on other epigenomes' genes: the stored statistics
        view.fits[key] = reference_statistics(view)
        return view.fits[key]
    if view.extended:  # the per-term statistics, stored (features.tsv holds the fold configuration's terms only)
        view.fits[key] = stored_wald(record, view.terms)
        return view.fits[key]
    if (view.model.get("mode") or {}).get("task") == "regression":  # OLS t-tests, stored (no Logit refit)
        view.fits[key] = stored_wald(record, view.marks)
        return view.fits[key]
    X = split_features(view, record)[train]
    y = view.labels[train].astype(int).to_numpy()
    try:
        fit = fit_wald(X, y)
        gap = same_fit(fit, record, view.marks)
        if gap > 1e-5:
            raise ModelError(f"the refit differs from model.json by {gap:.2g} (relative); the workspace's files "
                             "disagree, rebuild it")
    except ModelError as exc:
        log.warning("%s %s %s: %s; using the Wald statistics stored in model.json", view.eid, *key, exc)
        fit = stored_wald(record, view.marks)
    view.fits[key] = fit
    return fit


def resolve_genes(ws: Workspace, queries) -> pd.DataFrame:
    """Rows of genes.tsv (with ``row``) for symbols or Ensembl ids, in query order, each gene once.

    An unknown query raises :class:`~shallowchrome.tracks.workspace.layout.UnknownGeneError` (close symbols suggested).
    """
    hits = [ws.find_gene(q) for q in dict.fromkeys(str(q).strip() for q in queries)]
    genes = pd.concat(hits, ignore_index=True)
    return genes.drop_duplicates("gene_id", keep="first").reset_index(drop=True)


def explain(ws: Workspace, queries, epigenomes=None, split: int | None = None,
            alpha: float = SIGNIFICANCE, cache: dict | None = None) -> dict:
    """Explanations of genes × epigenomes: ``{"significance": alpha, "explanations": [...]}``.

    Each explanation names the gene, the epigenome, the explaining model
    (``model``: ``fold 3``, ``all labelled genes`` or, with ``split``,
    ``split 4``; ``fold`` and ``split`` its id, the other None) and the
    gene's part for it (see :func:`~shallowchrome.model.interpret.choose_model`),
    the measured RPKM and class, the logit, probability and predicted class,
    the bias and one entry per mark (feature φ, weight w, contribution
    ψ = φ·w, bar length normalised to the largest absolute value, standard
    error, z, p-value, significance at ``alpha``, role) and where the
    statistics come from.

    ``cache`` (a dict the caller keeps, e.g. a long-running server) holds the
    splits and the loaded epigenome views with their statsmodels fits, so
    later calls skip the reading and refitting.
    """
    genes = resolve_genes(ws, queries)
    eids = check_epigenomes(ws, epigenomes)
    cache = {} if cache is None else cache
    if "splits" not in cache:
        cache["splits"] = ws.splits()
    splits = cache["splits"]
    views = {}
    for eid in eids:
        if ("view", eid) not in cache:
            cache[("view", eid)] = load_view(ws, eid)
        views[eid] = cache[("view", eid)]
    out = []
    for gene in genes.to_dict("records"):
        for eid in eids:
            out.append(explain_one(views[eid], gene, splits, split, alpha))
    return {"significance": alpha, "explanations": out}


def explain_one(view: EpigenomeView, gene: dict, splits: dict, requested: int | None, alpha: float) -> dict:
    """The explanation of one gene (a genes.tsv record with ``row``) in one epigenome."""
    row = int(gene["row"])
    interp, evaluation = model_splits(view.model)
    labelled = bool(pd.notna(view.labels.iloc[row]))
    parts = {k: (PART_NAMES[int(splits[k][row])] if labelled and k in splits else "none") for k in [interp, *evaluation]}
    name = gene["symbol"] or gene["gene_id"]
    fold = None if view.folds is None else view.folds.iloc[row]
    model = choose_model(view.model, fold, parts, requested, subject=f"{name} in {view.eid}")
    record = model.record
    stats = model_statistics(view, model, splits)
    if view.extended:
        pattern = _extended_pattern(view, model, row, stats, alpha, name)
    else:
        phi = model_features(view, model)[row]
        pattern = regulative_pattern(record, view.marks, phi, stats, alpha)
    if (view.model.get("mode") or {}).get("task") == "regression":  # logit = the predicted log2(RPKM + 1)
        from shallowchrome.model.modes import on_probability

        cut, sd = (view.model.get("threshold") or {}).get("rpkm"), record.get("residual_sd")
        on = None if cut is None else pattern["logit"] >= np.log2(cut + 1.0)
        pattern["probability"] = None if on is None or not sd else float(on_probability(pattern["logit"],
                                                                                         np.log2(cut + 1.0), sd))
        pattern["predicted"] = None if on is None else ("ON" if on else "OFF")
    label = view.labels.iloc[row]
    rpkm = view.rpkm.iloc[row]
    return {
        "gene_id": gene["gene_id"], "symbol": gene["symbol"], "chrom": gene["chrom"], "tss": int(gene["tss"]),
        "strand": gene["strand"], "epigenome": view.eid, "tissue": view.tissue,
        "model": model.label, "fold": model.fold, "split": model.split, "part": model.part,
        "interpretation_split": interp, "configuration": record.get("configuration"),
        "rpkm": None if pd.isna(rpkm) else float(rpkm),
        "measured": None if pd.isna(label) else ("ON" if int(label) == 1 else "OFF"),
        "threshold_rpkm": (view.model.get("threshold") or {}).get("rpkm"),
        "logit": pattern["logit"], "probability": pattern["probability"], "predicted": pattern["predicted"],
        "bias": pattern["bias"], "marks": pattern["marks"],
        "statistics": {"source": stats.source, "n_train": stats.n_train},
    }


def _extended_pattern(view: EpigenomeView, model: ExplainingModel, row: int, stats: WaldFit, alpha: float,
                      name: str) -> dict:
    """The pattern under a model of several terms per mark: the ``MARK:term`` columns of features.tsv hold
    each gene's features in its fold model's configuration, so a split's model explains only where its
    configuration is the same."""
    groups = (view.model.get("mode") or {}).get("terms") or {}
    missing = [t for t in view.terms if t not in view.features.columns]
    if missing or not groups:
        raise ModelError(f"{view.eid}: features.tsv has no column {', '.join(missing[:3]) or 'of the terms'}",
                         fix="rebuild the workspace with this version of shallowchrome build")
    if model.kind == "split":
        fold = fold_record(view.model, view.folds.iloc[row]) if view.folds is not None else {}
        if dict(fold.get("formats") or {}) != dict(model.record.get("formats") or {}):
            raise ModelError(f"{name} in {view.eid}: built with --features extended, features.tsv holds its terms "
                             f"in its fold model's configuration ({fold.get('configuration')}), not split "
                             f"{model.id}'s ({model.record.get('configuration')})",
                             fix="omit --split: its cross-fitting fold model explains it")
    phi = {t: float(view.features[t].iloc[row]) for t in view.terms}
    exact = {m: float(view.features[m].iloc[row]) for m in view.marks if m in view.features.columns}
    tests = model.record.get("mark_tests")
    if tests is None and model.kind == "split" and model.id == model_splits(view.model)[0]:
        tests = (view.model.get("mode") or {}).get("mark_tests")
    return grouped_pattern(model.record, groups, phi, stats, tests, exact, alpha)


def explanations_table(doc: dict) -> pd.DataFrame:
    """The explanations as a long table: one row per gene × epigenome × term (each mark, then the bias).

    With extended features each mark's row (its contribution: the sum of its terms'; p-value: the
    likelihood-ratio test) is followed by one row per term (``MARK:term``)."""
    rows = []
    for e in doc["explanations"]:
        common = {k: e.get(k) for k in ("gene_id", "symbol", "epigenome", "model", "fold", "split", "part")}
        tail = {k: e[k] for k in ("logit", "probability", "predicted", "measured", "rpkm")}
        for m in e["marks"]:
            rows.append({**common, "term": m["mark"], **{k: m[k] for k in EXPLAIN_COLUMNS if k in m}, **tail})
            for t in m.get("terms") or []:
                rows.append({**common, **{k: t[k] for k in EXPLAIN_COLUMNS if k in t}, "format": m.get("format"),
                             **tail})
        b = e["bias"]
        rows.append({**common, "term": "bias", "contribution": b["value"],
                     **{k: b[k] for k in ("normalised", "standard_error", "p_value", "significant", "role")}, **tail})
    frame = pd.DataFrame(rows, columns=EXPLAIN_COLUMNS)
    frame["significant"] = frame["significant"].map({True: "yes", False: "no"})
    return frame


def weights_table(ws: Workspace, epigenomes=None, alpha: float = SIGNIFICANCE) -> pd.DataFrame:
    """The interpretation models side by side: one row per epigenome × term (marks, then the bias).

    Columns: epigenome, tissue, term, weight, standard_error, z, p_value,
    significant (yes/no), source of the statistics, scale and model. An
    epigenome without expression shows its reference model (``scale`` log1p:
    its weights multiply log1p features, not comparable with the raw-scale
    weights of the others); with extended features a row per term
    (``MARK:term``).
    """
    splits = ws.splits()
    rows = []
    for eid in check_epigenomes(ws, epigenomes):
        view = load_view(ws, eid)
        interp, _ = model_splits(view.model)
        stats = split_statistics(view, interp, splits[interp])
        terms = view.terms
        values = [view.model["bias"], *[view.model["weights"][t] for t in terms]]
        if is_transferred(view.model):
            scale, model = view.model["transfer"].get("scale") or "log1p", reference_label(view.model["transfer"])
        else:
            scale, model = ("extended terms" if view.extended else "raw"), f"split {interp}"
        for i, term in [*((j + 1, t) for j, t in enumerate(terms)), (0, "bias")]:
            sig = is_significant(stats.pvalues[i], alpha)
            rows.append({"epigenome": eid, "tissue": view.tissue, "term": term, "weight": float(values[i]),
                         "standard_error": stats.bse[i], "z": stats.z[i], "p_value": stats.pvalues[i],
                         "significant": None if sig is None else ("yes" if sig else "no"), "source": stats.source,
                         "scale": scale, "model": model})
    return pd.DataFrame(rows, columns=WEIGHTS_COLUMNS)
