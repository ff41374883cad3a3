"""Cross-epigenome transfer (the paper's S7): a model learnt on labelled epigenomes predicts and explains a
sample without RNA-seq, and the train-on-A / test-on-B evaluation that says how well that works.

Signal values (MACS2 fold enrichment) differ in scale between samples, so every epigenome's features are
first put on a common scale, per sample and per mark (:func:`scale_features`):

- ``log1p`` (the default): ``log(1 + signal)``; a gene without a peak stays 0. It compresses the long right
  tail that differs most between samples, and keeps the contribution ``psi = weight x feature`` of a gene
  without a peak at exactly 0.
- ``rank``: the gene's per-sample quantile, ``(rank - 1) / (n - 1)`` with mid-ranks for ties (genes without a
  peak tie at the bottom), removing any monotone difference of scale between samples.

On the five shared Roadmap epigenomes (H3K4me3 + H3K27me3, benchmark splits 1-10) log1p measured best: mean
off-diagonal AUROC 0.8236 (rank 0.8223, raw 0.8198), leave-one-epigenome-out 0.8245 (rank 0.8238, raw
0.8180).

Everything here is arrays in, arrays / DataFrames out: no paths.
"""
from __future__ import annotations

import copy
import warnings
from functools import partial

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from .errors import ModelError
from .estimator import ShallowChromeClassifier
from .selection import TEST, TRAIN, rank_auroc

SCALES = ("log1p", "rank")
DEFAULT_SCALE = "log1p"
#: ``predictions.tsv``'s fold for a gene of an epigenome without expression: the reference model explains it,
#: fitted on every labelled gene of the reference epigenomes (the ``all`` model's id, so every view reads it).
REFERENCE_FOLD = "all"
#: Preferred input format per mark for the common features (the first one an epigenome has a file in).
FORMAT_PREFERENCE = ("narrowPeak", "broadPeak", "gappedPeak")

#: Columns of ``evaluation_transfer.tsv``.
COLUMNS = ["evaluation", "train", "test", "genes", "marks", "scale", "n_splits", "n_genes", "auroc_mean",
           "auroc_sd"]
#: Above MANY labelled epigenomes the evaluation uses the first MANY_SPLITS evaluation splits (n_splits says so).
MANY, MANY_SPLITS = 5, 3
#: Tasks per split of the cross-epigenome evaluation (groups of test epigenomes), for the build's workers.
TEST_GROUPS = 2
PAIR, LOO, BASELINE = "pair", "leave_one_out", "average_label"
HELD_OUT, VARYING = "held_out", "held_out_varying"


def scale_features(X: np.ndarray, scale: str = DEFAULT_SCALE) -> np.ndarray:
    """``X`` (n_genes, n_marks) raw max signal values, put on the common ``scale`` (one sample at a time)."""
    X = np.asarray(X, dtype=np.float64)
    if scale == "log1p":
        return np.log1p(np.clip(X, 0.0, None)) + 0.0
    if scale == "rank":
        if len(X) < 2:
            return np.zeros_like(X)
        return np.column_stack([(rankdata(c) - 1.0) / (len(c) - 1.0) for c in X.T]) if X.shape[1] else X
    raise ModelError(f"unknown feature scale {scale!r}", fix=f"use one of {', '.join(SCALES)}")


def fit_pooled(blocks, start: ShallowChromeClassifier | None = None) -> ShallowChromeClassifier:
    """The unpenalised logistic regression fitted on the pooled ``(X, y)`` blocks (scaled features; labels 0/1).

    ``start``: a model fitted on similar data, whose solution Newton starts from (the same optimum, to the
    solver's tolerance, in fewer iterations)."""
    X = np.vstack([b[0] for b in blocks])
    y = np.concatenate([b[1] for b in blocks]).astype(int)
    if start is None:
        return ShallowChromeClassifier().fit(X, y)
    model = copy.deepcopy(start)
    model.warm_start = True
    return model.fit(X, y)


def reference_model(features: dict, labels: dict, reference: list, scale: str = DEFAULT_SCALE):
    """The model of the ``reference`` epigenomes, pooled: fitted on every labelled gene of each.

    ``features``: eid -> raw (n_genes, n_marks) on the same marks; ``labels``: eid -> float array (0/1, NaN
    unlabelled). Returns the fitted estimator and its number of training genes.
    """
    blocks = []
    for eid in reference:
        y = np.asarray(labels[eid], dtype=float)
        keep = np.isfinite(y)
        blocks.append((scale_features(features[eid], scale)[keep], y[keep]))
    return fit_pooled(blocks), int(sum(len(b[1]) for b in blocks))


class StoredReference:
    """A reference model read back from its JSON record (``bias``, ``weights``, Wald statistics): the same
    ``decision_function`` / ``contributions`` / fitted attributes as the fitted estimator, for
    ``build --reference-workspace``. ``marks`` orders the weights; features must be on the model's scale."""

    def __init__(self, record: dict, marks):
        self.marks = list(marks)
        missing = [m for m in self.marks if m not in (record.get("weights") or {})]
        if missing or "bias" not in record:
            raise ModelError(f"the reference model record has no weight for {', '.join(missing) or 'the bias'}")
        self.intercept_ = float(record["bias"])
        self.coef_ = np.array([float(record["weights"][m]) for m in self.marks], dtype=np.float64)

        def stat(key):
            d = record.get(key) or {}
            return np.array([np.nan if d.get(k) is None else float(d[k]) for k in ("bias", *self.marks)])

        self.se_, self.z_, self.pvalues_ = stat("standard_errors"), stat("z"), stat("p_values")
        self.n_features_in_ = len(self.marks)

    def decision_function(self, X) -> np.ndarray:
        return self.intercept_ + np.asarray(X, dtype=np.float64) @ self.coef_

    def contributions(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) * self.coef_


def _auroc(y, score) -> float:
    return rank_auroc(y.astype(int), score) if len(np.unique(y)) == 2 else float("nan")  # roc_auc_score's value


def varying_genes(labels: dict) -> np.ndarray:
    """Genes labelled in every epigenome whose label is not the same in all of them."""
    Y = np.column_stack([np.asarray(v, dtype=float) for v in labels.values()])
    every = np.isfinite(Y).all(axis=1)
    return every & (np.nanmax(Y, axis=1) != np.nanmin(Y, axis=1))


def cross_evaluation(features: dict, labels: dict, splits: dict, eval_ids, marks, scale: str = DEFAULT_SCALE,
                     mapper=None) -> pd.DataFrame:
    """The cross-epigenome evaluation over the build's evaluation splits (rows: :data:`COLUMNS`).

    - ``pair`` A -> B: fitted on A's labelled genes in the split's train part, AUROC on B's labelled genes in
      its test part (the splits are over genes, so no test gene was seen in training; A = B is the usual
      within-epigenome test AUROC, on the common scale).
    - ``leave_one_out`` -> B: fitted on the train-part genes of every other epigenome, pooled.
    - ``average_label`` -> B: each gene scored by its mean label in the other epigenomes (Schreiber et al.,
      Genome Biology 2020), no model.

    ``leave_one_out`` and ``average_label`` also on the ``held_out_varying`` genes: those whose label differs
    between the epigenomes. Means and sample sds over the splits (the first :data:`MANY_SPLITS` of them with more
    than :data:`MANY` epigenomes).

    ``mapper(func, items)`` runs the tasks (per split, :data:`TEST_GROUPS` groups of test epigenomes), e.g. in
    worker processes; by default here. The table is the same whichever runs them.
    """
    eids = list(features)
    if len(eids) < 2:
        raise ModelError("the cross-epigenome evaluation needs at least 2 labelled epigenomes")
    X = {e: scale_features(features[e], scale) for e in eids}
    Y = {e: np.asarray(labels[e], dtype=float) for e in eids}
    eval_ids = list(eval_ids)
    if len(eids) > MANY:  # cost grows as epigenomes^2 x splits: a few splits are enough for many epigenomes
        eval_ids = eval_ids[:MANY_SPLITS]
    varying = varying_genes(Y)
    acc: dict[tuple, list] = {}
    sizes: dict[tuple, list] = {}
    # tasks: per split, the test epigenomes in a few groups (each task fits the split's per-epigenome models)
    n_groups = min(TEST_GROUPS, len(eids)) if mapper is not None else 1  # (serial: fit each split's models once)
    groups = [eids[i::n_groups] for i in range(n_groups)]
    tasks = [(np.asarray(splits[k]), tested) for k in eval_ids for tested in groups]
    work = partial(_split_aurocs, X=X, Y=Y, eids=eids, varying=varying)
    done = (mapper or (lambda f, items: [f(i) for i in items]))(work, tasks)
    for i in range(len(eval_ids)):  # in the order of a serial loop: split, test epigenome, then its rows
        per_b = {b: entries for result in done[i * len(groups): (i + 1) * len(groups)] for b, entries in result}
        for b in eids:
            for key, value, size in per_b[b]:
                acc.setdefault(key, []).append(value)
                sizes.setdefault(key, []).append(size)
    rows = []
    for (kind, train, test, genes), values in acc.items():
        v = np.array(values, dtype=float)
        rows.append({"evaluation": kind, "train": train, "test": test, "genes": genes, "marks": ",".join(marks),
                     "scale": scale, "n_splits": len(v), "n_genes": int(round(float(np.mean(sizes[(kind, train, test,
                                                                                                 genes)])))),
                     "auroc_mean": float(np.nanmean(v)) if np.isfinite(v).any() else float("nan"),
                     "auroc_sd": float(np.nanstd(v, ddof=1)) if np.isfinite(v).sum() > 1 else 0.0})
    order = {PAIR: 0, LOO: 1, BASELINE: 2}
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["_o"] = frame["evaluation"].map(order)
    frame["_t"] = frame["test"].map({e: i for i, e in enumerate(eids)})
    frame["_g"] = (frame["genes"] == VARYING).astype(int)
    return frame.sort_values(["_o", "_t", "_g"], kind="stable").drop(columns=["_o", "_t", "_g"]).reset_index(drop=True)


def _split_aurocs(task, X: dict, Y: dict, eids: list, varying: np.ndarray) -> list:
    """One task of :func:`cross_evaluation`: in one split, for each epigenome B of ``tested``, its rows
    ``(key, AUROC, n genes)``: A -> B for every A, leave-one-out and average-label (held-out and varying genes)."""
    part, tested = task
    train, test = part == TRAIN, part == TEST
    blocks = {a: (X[a][train & np.isfinite(Y[a])], Y[a][train & np.isfinite(Y[a])]) for a in eids}
    pooled = fit_pooled(list(blocks.values()))  # every model below starts from it (warm start: fewer iterations)
    models = {a: fit_pooled([blocks[a]], pooled) for a in eids}
    out = []
    for b in tested:
        rows = []

        def add(key, y, score):
            rows.append((key, _auroc(y, score), len(y)))

        t = test & np.isfinite(Y[b])
        for a in eids:
            add((PAIR, a, b, HELD_OUT), Y[b][t], models[a].decision_function(X[b][t]))
        others = [a for a in eids if a != b]
        loo = fit_pooled([blocks[a] for a in others], pooled)
        with warnings.catch_warnings():  # a gene no other epigenome labels: NaN, replaced below
            warnings.simplefilter("ignore", RuntimeWarning)
            average = np.nanmean(np.column_stack([Y[a] for a in others]), axis=1)
        average = np.where(np.isfinite(average), average, 0.5)  # a gene no other epigenome labels: no opinion
        loo_score = loo.decision_function(X[b])
        for genes, mask in ((HELD_OUT, t), (VARYING, t & varying)):
            add((LOO, ",".join(others), b, genes), Y[b][mask], loo_score[mask])
            add((BASELINE, ",".join(others), b, genes), Y[b][mask], average[mask])
        out.append((b, rows))
    return out


def auroc_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """The train (rows) x test (columns) mean AUROC matrix of the ``pair`` rows of an evaluation table."""
    pairs = table[table["evaluation"] == PAIR]
    eids = list(dict.fromkeys(pairs["test"]))
    return pairs.pivot(index="train", columns="test", values="auroc_mean").reindex(index=eids, columns=eids)


def summary(table: pd.DataFrame) -> dict:
    """Headline numbers of an evaluation table: mean diagonal / off-diagonal AUROC of the matrix, mean
    leave-one-out and average-label AUROC (all held-out genes and the varying ones)."""
    m = auroc_matrix(table).to_numpy(dtype=float)
    off = ~np.eye(len(m), dtype=bool)

    def mean(kind, genes):
        rows = table[(table["evaluation"] == kind) & (table["genes"] == genes)]["auroc_mean"]
        return float(rows.mean()) if len(rows) else float("nan")

    return {"n_epigenomes": len(m), "diagonal": float(np.diag(m).mean()),
            "off_diagonal": float(m[off].mean()) if off.any() else float("nan"),
            "leave_one_out": mean(LOO, HELD_OUT), "leave_one_out_varying": mean(LOO, VARYING),
            "average_label": mean(BASELINE, HELD_OUT), "average_label_varying": mean(BASELINE, VARYING)}
