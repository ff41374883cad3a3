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

from dataclasses import dataclass, field

import numpy as np
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
