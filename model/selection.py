"""Splits, peak-format configurations and per-split model selection (GUIDE §1 steps 5-6).

The only hyperparameter of ShallowChrome is which peak-calling format feeds
each mark. The paper's six configurations assign one format to the "broad"
marks (H3K27me3, H3K36me3, H3K9me3) and one to the "narrow" marks; any other
track (H3K4me1/3, acetylation marks, DNase, ...) follows the narrow choice. A
mark with a single file uses that file under every configuration; a
configuration is tried only when the files it asks for exist, and
configurations that resolve to the same files are tried once.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from .errors import ModelError
from .estimator import ShallowChromeClassifier

BROAD_MARKS = frozenset({"h3k27me3", "h3k36me3", "h3k9me3"})
PEAK_FORMATS = ("narrowPeak", "broadPeak", "gappedPeak")
#: (format for broad marks, format for narrow marks), in the paper's order.
CONFIGURATIONS = (
    ("broadPeak", "broadPeak"),
    ("narrowPeak", "narrowPeak"),
    ("gappedPeak", "gappedPeak"),
    ("broadPeak", "narrowPeak"),
    ("gappedPeak", "broadPeak"),
    ("gappedPeak", "narrowPeak"),
)
TRAIN, VALIDATION, TEST, UNUSED = 0, 1, 2, -1
PART_NAMES = {TRAIN: "train", VALIDATION: "validation", TEST: "test", UNUSED: "none"}
PART_CODES = {v: k for k, v in PART_NAMES.items()}


def is_broad(mark: str) -> bool:
    return mark.lower() in BROAD_MARKS


@dataclass(frozen=True)
class Configuration:
    """A resolved assignment of one input format per mark."""

    name: str
    formats: tuple  # ((mark, format), ...) in mark order

    def format_of(self, mark: str) -> str:
        return dict(self.formats)[mark]


def resolve_configurations(available: dict[str, list[str]]) -> list[Configuration]:
    """The distinct configurations whose files exist.

    ``available`` maps each mark to the formats it has files in. Raises
    :class:`ModelError` when no configuration can be formed (e.g. a mark with
    two files in formats no configuration chooses between).
    """
    marks = list(available)
    seen: dict[tuple, Configuration] = {}
    for broad_fmt, narrow_fmt in CONFIGURATIONS:
        chosen = []
        for mark in marks:
            fmts = available[mark]
            want = broad_fmt if is_broad(mark) else narrow_fmt
            if len(fmts) == 1:
                chosen.append((mark, fmts[0]))
            elif want in fmts:
                chosen.append((mark, want))
            else:
                break
        else:
            key = tuple(chosen)
            if key not in seen:
                seen[key] = Configuration(f"{broad_fmt}/{narrow_fmt}", key)
    if not seen:
        detail = "; ".join(f"{m}: {', '.join(f)}" for m, f in available.items() if len(f) > 1)
        raise ModelError(
            f"no peak-format configuration fits the files given ({detail}): a mark with several files "
            f"needs them in {', '.join(PEAK_FORMATS)} so a configuration can choose; keep one file per mark otherwise"
        )
    configs = list(seen.values())
    if len(configs) == 1 and all(len(f) == 1 for f in available.values()):
        configs = [Configuration("single", configs[0].formats)]
    return configs


def random_splits(n: int, n_splits: int, seed: int = 0) -> dict[int, np.ndarray]:
    """Seeded random train/validation/test thirds, splits 0..n_splits.

    Split 0 is the interpretation split; 1..n_splits are for evaluation. Sizes
    follow the benchmark's 6601/6601/6600 for 19,802 genes.
    """
    rng = np.random.default_rng(seed)
    n_train = -(-n // 3)
    n_val = -(-(n - n_train) // 2)
    out = {}
    for k in range(n_splits + 1):
        perm = rng.permutation(n)
        part = np.full(n, TEST, dtype=np.int8)
        part[perm[:n_train]] = TRAIN
        part[perm[n_train : n_train + n_val]] = VALIDATION
        out[k] = part
    return out


def interpretation_and_evaluation(split_ids, n_eval: int | None = None):
    """(interpretation split, evaluation splits): split 0 interprets, the others evaluate.

    When split 0 is absent the smallest id interprets; when it is the only split
    it also evaluates.
    """
    ids = sorted(split_ids)
    interp = 0 if 0 in ids else ids[0]
    rest = [k for k in ids if k != interp] or [interp]
    if n_eval is not None:
        rest = rest[:n_eval]
    return interp, rest


def metrics(y_true: np.ndarray, proba: np.ndarray) -> dict:
    """AUROC, AUPR (average precision) and F1 at probability 0.5."""
    return {
        "auroc": float(roc_auc_score(y_true, proba)),
        "aupr": float(average_precision_score(y_true, proba)),
        "f1": float(f1_score(y_true, (proba >= 0.5).astype(int), zero_division=0)),
    }


@dataclass
class SplitResult:
    split: int
    configuration: Configuration
    validation_auroc: dict
    model: ShallowChromeClassifier
    test: dict = field(default_factory=dict)


def fit_split(features: dict[str, np.ndarray], configs: list[Configuration], y: np.ndarray, part: np.ndarray) -> SplitResult:
    """Fit every configuration on the training part, keep the best by validation AUROC.

    ``features`` maps a configuration name to its (n_genes, n_marks) matrix;
    ``part`` gives each gene's part (TRAIN/VALIDATION/TEST/UNUSED). Ties keep the
    earlier configuration. Test metrics are computed for the chosen model only.
    """
    tr, va, te = (part == TRAIN), (part == VALIDATION), (part == TEST)
    for name, mask in (("train", tr), ("validation", va), ("test", te)):
        if len(np.unique(y[mask])) < 2:
            raise ModelError(f"the {name} part of a split has a single class of labels; more genes are needed")
    best = None
    val_auc = {}
    for cfg in configs:
        X = features[cfg.name]
        model = ShallowChromeClassifier().fit(X[tr], y[tr])
        auc = float(roc_auc_score(y[va], model.decision_function(X[va])))
        val_auc[cfg.name] = auc
        if best is None or auc > best[0]:
            best = (auc, cfg, model)
    _, cfg, model = best
    X = features[cfg.name]
    test = metrics(y[te], model.predict_proba(X[te])[:, 1])
    return SplitResult(split=-1, configuration=cfg, validation_auroc=val_auc, model=model, test=test)


def summarise(results: list[SplitResult]) -> dict:
    """Mean and sample standard deviation of each test metric over splits."""
    out = {}
    for key in ("auroc", "aupr", "f1"):
        vals = np.array([r.test[key] for r in results])
        out[key] = {
            "mean": float(vals.mean()),
            "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            "values": [float(v) for v in vals],
        }
    return out


# --- cross-fitting: one leak-free explanation per gene ------------------------------------------
#: Fold id of the model fitted on every labelled gene (it predicts the genes without expression).
ALL_FOLDS = "all"
#: Default number of cross-fitting folds.
N_FOLDS = 10
#: Revision of the cross-fitting scheme (fold assignment, selection); part of the rebuild key.
CROSSFIT_VERSION = 1
_FOLD_STREAM = 0xC0F  # the fold assignment's random stream, independent of the random splits' (seed alone)


def crossfit_folds(y: np.ndarray, labelled: np.ndarray, n_folds: int, seed: int = 0) -> np.ndarray:
    """Each gene's cross-fitting fold, 0..n_folds-1 (-1 for genes without a label).

    Stratified by label and seeded: the OFF genes, then the ON genes, each in a
    random order drawn from ``numpy.random.default_rng([seed, 0xC0F])``, are
    dealt to the folds in turn (the ON genes continuing where the OFF genes
    stopped), so fold sizes differ by at most one and each fold holds both
    classes in the epigenome's proportion. Deterministic given ``y``,
    ``labelled``, ``n_folds`` and ``seed``.
    """
    if isinstance(n_folds, bool) or int(n_folds) != n_folds or n_folds < 3:
        raise ModelError(f"cross-fitting needs at least 3 folds, not {n_folds}", fix=f"use {N_FOLDS} folds")
    n_folds = int(n_folds)
    counts = [int(((y == c) & labelled).sum()) for c in (0, 1)]
    if min(counts) < n_folds:
        raise ModelError(f"cross-fitting in {n_folds} folds needs at least {n_folds} ON and {n_folds} OFF genes "
                         f"(has {counts[1]} ON, {counts[0]} OFF)", fix="use fewer cross-fitting folds")
    rng = np.random.default_rng([int(seed), _FOLD_STREAM])
    folds = np.full(len(y), -1, dtype=np.int16)
    start = 0
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(labelled & (y == c)))
        folds[rows] = (start + np.arange(len(rows))) % n_folds
        start = (start + len(rows)) % n_folds
    return folds


def validation_fold(k: int, n_folds: int) -> int:
    """The fold whose genes choose fold ``k``'s configuration: its partner, the folds paired 0-1, 2-3, ...
    (with an odd number of folds the last one is validated on fold 0)."""
    partner = k + 1 if k % 2 == 0 else k - 1
    return partner if partner < n_folds else 0


def rank_auroc(y_true: np.ndarray, score: np.ndarray) -> float:
    """AUROC as the Mann-Whitney statistic (ties count one half): ``roc_auc_score``'s value, ~30x faster on the
    small folds of cross-fitting, where it is computed tens of times per epigenome."""
    ranks = rankdata(score)
    pos = np.asarray(y_true) == 1
    n1 = int(pos.sum())
    n0 = len(pos) - n1
    if n1 == 0 or n0 == 0:
        raise ModelError("AUROC needs ON and OFF genes")
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass
class FoldModel:
    """The model of one cross-fitting fold: fitted on every labelled gene outside the fold.

    ``fold`` is 0..K-1, or :data:`ALL_FOLDS` for the model fitted on every
    labelled gene. ``validation_fold`` is the fold whose genes chose the
    configuration (None when a single configuration was tried, or for the
    ``all`` model, chosen by the folds' mean validation AUROC).
    """

    fold: int | str
    configuration: Configuration
    model: ShallowChromeClassifier
    n_train: int
    validation_fold: int | None = None
    validation_auroc: dict = field(default_factory=dict)
    test: dict = field(default_factory=dict)  # AUROC on the fold's own genes (empty for "all")


@dataclass
class CrossFit:
    """Cross-fitted predictions: every labelled gene predicted by the model of the fold that held it out."""

    n_folds: int
    seed: int
    folds: np.ndarray  # per gene: 0..K-1, -1 without a label (explained by the "all" model)
    models: list  # FoldModel for folds 0..K-1, then the "all" model
    logit: np.ndarray
    features: np.ndarray  # (n_genes, n_marks): each gene's features under its model's configuration
    contributions: np.ndarray
    metrics: dict  # AUROC, AUPR, F1 over every labelled gene, each predicted out of fold


def crossfit(features: dict[str, np.ndarray], configs: list[Configuration], y: np.ndarray, labelled: np.ndarray,
             n_folds: int = N_FOLDS, seed: int = 0) -> CrossFit:
    """K-fold cross-fitting over the labelled genes (see :func:`crossfit_folds`).

    Fold k's model is fitted on the labelled genes of the other K-1 folds.
    With several configurations it is chosen inside the fold, never with fold
    k's labels: each configuration is fitted on the K-2 folds other than k and
    its validation fold v (:func:`validation_fold`: the folds are paired 0-1,
    2-3, ..., so both folds of a pair share these fits), the best AUROC on
    fold v wins (ties keep the earlier configuration), and the winner is
    refitted on all K-1 folds. The ``all`` model (for genes without
    expression, which no fold holds) takes the configuration with the best
    mean validation AUROC over the K folds and is fitted on every labelled
    gene. Fits start from a nearby solution (the all model, the pair's fit,
    the previous pair's fit), which saves Newton iterations, not accuracy.
    """
    folds = crossfit_folds(y, labelled, n_folds, seed)
    K = int(n_folds)
    n, n_marks = len(y), features[configs[0].name].shape[1]
    every = folds >= 0

    def fit(X, rows, start=None):
        """Fit on ``rows``; Newton starts from ``start``'s solution (nearby data: ~3 iterations instead of ~7)."""
        model = copy.deepcopy(start) if start is not None else ShallowChromeClassifier(warm_start=True)
        return model.fit(X[rows], y[rows])

    if len(configs) == 1:  # no selection: the all model first, each fold's starts from it
        cfg_all, mean_auc = configs[0], {}
        everything = fit(features[cfg_all.name], every)
    models, val_table, inner_models, inner_key = [], [], {}, None
    for k in range(K):
        train = every & (folds != k)
        if len(configs) == 1:
            cfg, val_fold, val_auc, start = configs[0], None, {}, everything
        else:
            v = validation_fold(k, K)
            inner, val = train & (folds != v), folds == v
            if inner_key != frozenset((k, v)):  # a new pair: fit each configuration (from the previous pair's fit)
                inner_key = frozenset((k, v))
                inner_models = {c.name: fit(features[c.name], inner, inner_models.get(c.name)) for c in configs}
            val_auc = {}
            for c in configs:
                X = features[c.name]
                val_auc[c.name] = rank_auroc(y[val], inner_models[c.name].decision_function(X[val]))
            val_table.append(val_auc)
            cfg = max(configs, key=lambda c: (val_auc[c.name], -configs.index(c)))
            val_fold, start = v, inner_models[cfg.name]
        model = fit(features[cfg.name], train, start)
        models.append(FoldModel(k, cfg, model, int(train.sum()), val_fold, val_auc))
    if len(configs) > 1:
        mean_auc = {c.name: float(np.mean([t[c.name] for t in val_table])) for c in configs}
        cfg_all = max(configs, key=lambda c: (mean_auc[c.name], -configs.index(c)))
        same = [fm.model for fm in models if fm.configuration == cfg_all]
        everything = fit(features[cfg_all.name], every, same[-1] if same else None)
    models.append(FoldModel(ALL_FOLDS, cfg_all, everything, int(every.sum()), None, mean_auc))

    X = np.zeros((n, n_marks), dtype=np.float64)
    logit = np.zeros(n, dtype=np.float64)
    contrib = np.zeros((n, n_marks), dtype=np.float64)
    for fm in models:
        rows = folds == (-1 if fm.fold == ALL_FOLDS else fm.fold)
        if not rows.any():
            continue
        Xr = features[fm.configuration.name][rows]
        X[rows] = Xr
        logit[rows] = fm.model.decision_function(Xr)
        contrib[rows] = fm.model.contributions(Xr) + 0.0  # + 0.0: no -0.0 (no peak, negative weight)
        if fm.fold != ALL_FOLDS:
            fm.test = {"auroc": rank_auroc(y[rows], logit[rows])}
    oof = metrics(y[every], expit(logit[every]))
    return CrossFit(n_folds=K, seed=int(seed), folds=folds, models=models, logit=logit, features=X,
                    contributions=contrib, metrics=oof)
