"""The non-default build modes (issue 12): ``--task regression``, ``--features extended``, ``--split-by chromosome``.

The default method (the paper's: max signalValue in TSS ± 5 kb, unpenalised logistic regression on median
labels, the benchmark's splits) never goes through this module.

- **regression**: the target is log2(RPKM + 1); the model is ordinary least squares
  (:class:`ShallowChromeRegressor`: standard errors from sigma² (X1ᵀX1)⁻¹, t-tests with n - p - 1 degrees
  of freedom); the evaluation reports Pearson r, Spearman rho and R² on each split's test part; the
  contributions are in log2 expression units (ψ = weight × feature, bias = intercept, prediction = bias + Σψ).
- **extended features**: per mark, several terms (:data:`EXTENDED_TERMS`): log1p of the max signal in
  TSS ± 1, 2.5, 5 and 10 kb, the raw max in ± 5 kb, log1p of the number of peaks in ± 5 kb and log1p of the
  distance from the TSS to the nearest peak (capped at 100 kb). Still a logistic regression; a mark's
  contribution is the sum of its terms' ψ; per mark a likelihood-ratio test of its group of terms.
- **chromosome splits**: train/validation/test parts made of whole chromosomes (:func:`chromosome_splits`).

Coordinates are BED: 0-based, half-open.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as sps
from scipy.special import expit

from .errors import ModelError
from .estimator import ShallowChromeClassifier
from .features import max_signal_in_windows
from .selection import (
    ALL_FOLDS,
    TEST,
    TRAIN,
    UNUSED,
    VALIDATION,
    CrossFit,
    FoldModel,
    SplitResult,
    crossfit_folds,
    validation_fold,
)

TASKS = ("classification", "regression")
FEATURE_SETS = ("exact", "extended")
SPLIT_BY = ("random", "chromosome")
REGRESSION_METRICS = ("pearson", "spearman", "r2")

#: The extended feature set: (term suffix, kind, half-width in bp).
EXTENDED_TERMS = (
    ("logmax1k", "logmax", 1000),
    ("logmax2.5k", "logmax", 2500),
    ("logmax5k", "logmax", 5000),
    ("logmax10k", "logmax", 10000),
    ("max5k", "max", 5000),
    ("logcount5k", "logcount", 5000),
    ("logdist", "logdist", 100_000),
)


def log_expression(rpkm: np.ndarray) -> np.ndarray:
    """The regression target: log2(RPKM + 1) (NaN stays NaN)."""
    return np.log2(np.asarray(rpkm, dtype=np.float64) + 1.0)


# --- regression -------------------------------------------------------------------------------
class ShallowChromeRegressor:
    """Ordinary least squares over per-mark features, with t-tests (statsmodels ``OLS``'s numbers).

    Fitted attributes as :class:`~shallowchrome.model.estimator.ShallowChromeClassifier`'s: ``coef_``,
    ``intercept_``, ``se_``, ``z_`` (here the t statistics), ``pvalues_`` (two-sided, t with
    ``df_resid_`` degrees of freedom), for ``[intercept, *coef]``.
    """

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        X1 = np.column_stack([np.ones(len(X)), X])
        params, *_ = np.linalg.lstsq(X1, y, rcond=None)
        resid = y - X1 @ params
        df = len(y) - X1.shape[1]
        if df < 1:
            raise ModelError(f"{len(y)} genes cannot fit {X1.shape[1]} coefficients by least squares")
        sigma2 = float(resid @ resid) / df
        gram = X1.T @ X1
        if np.linalg.cond(gram) > 1e14:
            se = np.full(X1.shape[1], np.nan)
        else:
            se = np.sqrt(np.diag(np.linalg.inv(gram)) * sigma2)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = params / se
        self.intercept_ = float(params[0])
        self.coef_ = params[1:].copy()
        self.se_, self.z_ = se, t
        self.pvalues_ = 2 * sps.t.sf(np.abs(t), df)
        self.df_resid_ = int(df)
        self.sigma_ = float(np.sqrt(sigma2))  # the residual standard deviation
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X):
        return self.intercept_ + np.asarray(X, dtype=np.float64) @ self.coef_

    predict = decision_function

    def contributions(self, X):
        return np.asarray(X, dtype=np.float64) * self.coef_


def on_probability(prediction, threshold: float, sigma) -> np.ndarray:
    """P(ON) of a regression prediction: P(log2(RPKM + 1) >= ``threshold``) when the measured value is the
    prediction plus a normal residual of standard deviation ``sigma`` (the OLS model's):
    Phi((prediction - threshold) / sigma); >= 0.5 exactly when the prediction reaches the threshold."""
    return sps.norm.cdf((np.asarray(prediction, dtype=np.float64) - threshold) / np.asarray(sigma, dtype=np.float64))


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """Pearson r, Spearman rho and R² (1 - SS_res / SS_tot) of predictions ``pred`` of ``y``."""
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {"pearson": float(sps.pearsonr(y, pred)[0]), "spearman": float(sps.spearmanr(y, pred)[0]),
            "r2": float(1.0 - ((y - pred) ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")}


def fit_split_regression(features: dict, configs: list, target: np.ndarray, part: np.ndarray) -> SplitResult:
    """:func:`~shallowchrome.model.selection.fit_split` for regression: the configuration with the best
    validation R² (ties: the earlier), its test Pearson r, Spearman rho and R². ``validation_auroc`` holds
    the validation R² of each configuration."""
    tr, va, te = (part == TRAIN), (part == VALIDATION), (part == TEST)
    for name, mask in (("train", tr), ("validation", va), ("test", te)):
        if mask.sum() < 3:
            raise ModelError(f"the {name} part of a split has fewer than 3 genes with expression")
    best, val = None, {}
    for cfg in configs:
        X = features[cfg.name]
        model = ShallowChromeRegressor().fit(X[tr], target[tr])
        r2 = regression_metrics(target[va], model.predict(X[va]))["r2"]
        val[cfg.name] = r2
        if best is None or r2 > best[0]:
            best = (r2, cfg, model)
    _, cfg, model = best
    test = regression_metrics(target[te], model.predict(features[cfg.name][te]))
    return SplitResult(split=-1, configuration=cfg, validation_auroc=val, model=model, test=test)


def summarise_metrics(results: list, keys) -> dict:
    """Mean and sample sd of each test metric in ``keys`` over the splits' results."""
    out = {}
    for key in keys:
        vals = np.array([r.test[key] for r in results])
        out[key] = {"mean": float(vals.mean()), "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                    "values": [float(v) for v in vals]}
    return out


def crossfit_generic(features: dict, configs: list, y: np.ndarray, labelled: np.ndarray, n_folds: int, seed: int,
                     target: np.ndarray | None = None) -> CrossFit:
    """Cross-fitting with the default scheme's folds (:func:`~shallowchrome.model.selection.crossfit_folds`,
    stratified by label) and selection (each fold's configuration chosen on its partner fold), for the
    regression task (``target`` given: OLS, selection and metrics by R², Pearson, Spearman) or the extended
    features (logistic regression, selection by AUROC). Slower than the default's warm-started crossfit,
    the same numbers up to the solver's tolerance."""
    from .selection import metrics, rank_auroc

    regression = target is not None
    folds = crossfit_folds(y, labelled, n_folds, seed)
    K = int(n_folds)
    every = folds >= 0
    resp = target if regression else y

    def fit(X, rows):
        model = ShallowChromeRegressor() if regression else ShallowChromeClassifier()
        return model.fit(X[rows], resp[rows])

    def score(model, X, rows):
        pred = model.decision_function(X[rows])
        return regression_metrics(resp[rows], pred)["r2"] if regression else rank_auroc(resp[rows], pred)

    models, table = [], []
    for k in range(K):
        train = every & (folds != k)
        if len(configs) == 1:
            cfg, v, val = configs[0], None, {}
        else:
            v = validation_fold(k, K)
            inner, vrows = train & (folds != v), folds == v
            val = {c.name: score(fit(features[c.name], inner), features[c.name], vrows) for c in configs}
            table.append(val)
            cfg = max(configs, key=lambda c: (val[c.name], -configs.index(c)))
        models.append(FoldModel(k, cfg, fit(features[cfg.name], train), int(train.sum()), v, val))
    mean = {c.name: float(np.mean([t[c.name] for t in table])) for c in configs} if table else {}
    cfg_all = max(configs, key=lambda c: (mean.get(c.name, 0.0), -configs.index(c)))
    models.append(FoldModel(ALL_FOLDS, cfg_all, fit(features[cfg_all.name], every), int(every.sum()), None, mean))

    n, width = len(y), features[configs[0].name].shape[1]
    X = np.zeros((n, width))
    out = np.zeros(n)
    contrib = np.zeros((n, width))
    for fm in models:
        rows = folds == (-1 if fm.fold == ALL_FOLDS else fm.fold)
        if not rows.any():
            continue
        Xr = features[fm.configuration.name][rows]
        X[rows], out[rows] = Xr, fm.model.decision_function(Xr)
        contrib[rows] = fm.model.contributions(Xr) + 0.0
        if fm.fold != ALL_FOLDS:
            fm.test = (regression_metrics(resp[rows], out[rows]) if regression
                       else {"auroc": rank_auroc(resp[rows], out[rows])})
    oof = regression_metrics(resp[every], out[every]) if regression else metrics(y[every], expit(out[every]))
    return CrossFit(n_folds=K, seed=int(seed), folds=folds, models=models, logit=out, features=X,
                    contributions=contrib, metrics=oof)


# --- extended features ------------------------------------------------------------------------
def term_names(mark: str) -> list[str]:
    """The extended terms of one mark, ``MARK:suffix``."""
    return [f"{mark}:{suffix}" for suffix, _, _ in EXTENDED_TERMS]


def peak_counts(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end, window: int) -> np.ndarray:
    """Number of peaks overlapping each gene's ``[tss - window, tss + window)`` (BED overlap, as
    :func:`~shallowchrome.model.features.max_signal_in_windows`): #(start < tss + w) - #(end <= tss - w)."""
    gene_chrom = np.asarray(gene_chrom, dtype=object)
    tss = np.asarray(gene_tss, dtype=np.int64)
    out = np.zeros(len(tss))
    pc = np.asarray(peak_chrom, dtype=object)
    starts, ends = np.asarray(peak_start, dtype=np.int64), np.asarray(peak_end, dtype=np.int64)
    for c in np.unique(pc[pd_notna(pc)]):
        g = gene_chrom == c
        if not g.any():
            continue
        p = pc == c
        s, e = np.sort(starts[p]), np.sort(ends[p])
        out[g] = np.searchsorted(s, tss[g] + window, side="left") - np.searchsorted(e, tss[g] - window, side="right")
    return out


def nearest_peak_distance(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end, cap: int) -> np.ndarray:
    """Distance in bp from each TSS to the nearest peak (0 inside one), at most ``cap`` (also without peaks)."""
    gene_chrom = np.asarray(gene_chrom, dtype=object)
    tss = np.asarray(gene_tss, dtype=np.int64)
    out = np.full(len(tss), float(cap))
    pc = np.asarray(peak_chrom, dtype=object)
    starts, ends = np.asarray(peak_start, dtype=np.int64), np.asarray(peak_end, dtype=np.int64)
    for c in np.unique(pc[pd_notna(pc)]):
        g = np.flatnonzero(gene_chrom == c)
        if not len(g):
            continue
        p = pc == c
        s, e = starts[p], ends[p]
        o = np.argsort(s, kind="stable")
        s, e = s[o], e[o]
        emax = np.maximum.accumulate(e)  # the furthest end among peaks starting at or before each one
        t = tss[g]
        i = np.searchsorted(s, t, side="right")  # peaks [0, i) start <= t
        left = np.where(i > 0, np.maximum(t - emax[np.maximum(i - 1, 0)] + 1, 0), cap)  # inside when end > t
        right = np.where(i < len(s), s[np.minimum(i, len(s) - 1)] - t, cap)
        out[g] = np.minimum(np.minimum(left, right), cap)
    return out


def pd_notna(arr) -> np.ndarray:
    import pandas as pd

    return pd.notna(arr)


def extended_terms(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end, peak_signal) -> np.ndarray:
    """(n_genes, len(EXTENDED_TERMS)) matrix of one peak file's extended terms (see the module docstring)."""
    cols, cache = [], {}
    for _, kind, width in EXTENDED_TERMS:
        if kind in ("logmax", "max"):
            if width not in cache:
                cache[width] = max_signal_in_windows(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end,
                                                     peak_signal, window=width)
            v = cache[width]
            cols.append(np.log1p(np.maximum(v, 0.0)) if kind == "logmax" else v)
        elif kind == "logcount":
            cols.append(np.log1p(peak_counts(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end, width)))
        else:
            cols.append(np.log1p(nearest_peak_distance(gene_chrom, gene_tss, peak_chrom, peak_start, peak_end, width)))
    return np.column_stack(cols)


def logit_loglik(model, X, y) -> float:
    """Bernoulli log-likelihood of a fitted logistic model on (X, y)."""
    eta = model.decision_function(X)
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def mark_lr_tests(X: np.ndarray, y: np.ndarray, groups: dict, full=None) -> dict:
    """Per mark, the likelihood-ratio test of its group of terms (columns ``groups[mark]`` of ``X``):
    ``{"lr": 2 (llf_full - llf_without_mark), "df": len(group), "p_value": chi2.sf(lr, df)}``, on the genes
    (X, y) the model was fitted on."""
    full = full or ShallowChromeClassifier().fit(X, y)
    llf = logit_loglik(full, X, y)
    out = {}
    for mark, cols in groups.items():
        keep = [j for j in range(X.shape[1]) if j not in set(cols)]
        if keep:
            reduced = ShallowChromeClassifier().fit(X[:, keep], y)
            llr = logit_loglik(reduced, X[:, keep], y)
        else:
            p = float(np.clip(y.mean(), 1e-12, 1 - 1e-12))
            llr = float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
        lr = max(0.0, 2.0 * (llf - llr))
        out[mark] = {"lr": lr, "df": len(cols), "p_value": float(sps.chi2.sf(lr, len(cols)))}
    return out


def mark_contributions(contrib: np.ndarray, groups: dict) -> np.ndarray:
    """(n_genes, n_marks): a mark's contribution is the sum of its terms' ψ."""
    return np.column_stack([contrib[:, cols].sum(axis=1) for cols in groups.values()]) + 0.0


# --- chromosome splits --------------------------------------------------------------------------
def chromosome_splits(chrom: np.ndarray, usable: np.ndarray, n_splits: int, seed: int = 0) -> dict:
    """Splits 0..n_splits whose train/validation/test parts are made of whole chromosomes.

    Per split, the chromosomes (of the ``usable`` genes) in a random order (``default_rng([seed, 0xC4])``)
    are dealt, each to the part furthest below its third of the genes, so no chromosome is in two parts.
    Genes not ``usable`` are UNUSED.
    """
    chrom = np.asarray(chrom, dtype=object).astype(str)
    names, counts = np.unique(chrom[usable], return_counts=True)
    if len(names) < 3:
        raise ModelError(f"chromosome splits need genes on at least 3 chromosomes (have {len(names)})",
                         fix="use random splits (--split-by random)")
    rng = np.random.default_rng([int(seed), 0xC4])
    total = counts.sum()
    out = {}
    for k in range(n_splits + 1):
        order = rng.permutation(len(names))
        sizes = np.zeros(3)
        assign = {}
        for i in order:
            p = int(np.argmax(total / 3 - sizes))
            assign[names[i]] = p
            sizes[p] += counts[i]
        for p in range(3):  # a part with no chromosome takes one from the largest part
            if sizes[p] == 0:
                big = int(np.argmax(sizes))
                c = next(n for n, q in assign.items() if q == big)
                assign[c] = p
        part = np.array([assign.get(c, UNUSED) for c in chrom], dtype=np.int8)
        part[~usable] = UNUSED
        out[k] = part
    return out
