"""Validation against ChromHMM (GUIDE §1 step 8): patterns matched to emission vectors.

Each test gene's regulative pattern is matched to the ChromHMM state whose
emission vector (over the marks common to the model and the emission table)
has the highest Pearson correlation with the pattern's magnitudes |ψ|: the
emissions are presence probabilities ≥ 0 and the sign of a contribution is
the weight's, so magnitudes are compared, as in the reference notebook.
Ties are broken by the highest cosine similarity (then the first state):
with only two marks Pearson's r of two 2-vectors is always ±1 and only says
which mark dominates, so the cosine picks, among the tied states, the one
with the closest mark ratio. All-zero and constant patterns (no defined
correlation) go to the state with the smallest emission L1 norm over all of
the table's marks (15_Quies in the 15-state core-mark model).

States are then ranked by the mean logit of the genes matched to them
(1 = highest), and so are the state groups (Active, Enhancers, Bivalent,
Repressed by default). Pure functions: arrays and DataFrames in and out.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ModelError

#: The paper's grouping of the 15 core-mark states by their number.
DEFAULT_GROUPS = {
    "Active": (1, 2, 3, 4, 5),
    "Enhancers": (6, 7),
    "Bivalent": (10, 11, 12),
    "Repressed": (8, 9, 13, 14, 15),
}
_NUMBER = re.compile(r"^(?:[Ee])?(\d+)(?:_|$)")
#: Correlations closer than this to the best one count as ties.
TIE_TOLERANCE = 1e-9


def state_number(name: str) -> int | None:
    """The number a ChromHMM state name starts with (``"10_TssBiv"`` → 10, ``"E3"`` → 3), or None."""
    m = _NUMBER.match(str(name).strip())
    return int(m.group(1)) if m else None


def default_grouping(states: Sequence[str]) -> dict[str, str]:
    """State → group by state number, for the 15-state core-mark model only.

    Raises :class:`ModelError` when the states are not numbered 1…15 (another
    model): its states need an explicit groups table.
    """
    numbers = [state_number(s) for s in states]
    if sorted(n for n in numbers if n is not None) != list(range(1, 16)) or len(states) != 15:
        raise ModelError(f"the default state groups are for the 15-state core-mark model (states 1_TssA … 15_Quies); "
                         f"these {len(states)} states ({', '.join(map(str, states[:4]))}, …) need a groups table "
                         f"(--groups, a TSV with columns state and group)")
    by_number = {n: g for g, ns in DEFAULT_GROUPS.items() for n in ns}
    return {s: by_number[n] for s, n in zip(states, numbers)}


def group_order(grouping: Mapping[str, str]) -> list[str]:
    """The groups: the paper's order when they are (some of) the default four, else first-appearance order."""
    groups = list(dict.fromkeys(grouping.values()))
    if set(groups) <= set(DEFAULT_GROUPS):
        return [g for g in DEFAULT_GROUPS if g in groups]
    return groups


def common_marks(model_marks: Sequence[str], emission_marks: Sequence[str]) -> list[tuple[str, str]]:
    """(model mark, emission column) pairs for the marks both have, compared case-insensitively, in model order."""
    columns = {str(c).lower(): c for c in emission_marks}
    return [(m, columns[m.lower()]) for m in model_marks if m.lower() in columns]


def null_state(emissions: pd.DataFrame) -> int:
    """Position of the state with the smallest emission L1 norm over all of the table's marks."""
    return int(np.argmin(np.abs(emissions.to_numpy(dtype=np.float64)).sum(axis=1)))


def _row_normalise(a: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(a, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 0, a / norm, np.nan)


def pearson_matrix(patterns: np.ndarray, emissions: np.ndarray) -> np.ndarray:
    """(n_genes, n_states) Pearson correlations; NaN where a row is constant."""
    p = _row_normalise(patterns - patterns.mean(axis=1, keepdims=True))
    e = _row_normalise(emissions - emissions.mean(axis=1, keepdims=True))
    return p @ e.T


def match_states(patterns: np.ndarray, emissions: np.ndarray, null_index: int) -> np.ndarray:
    """Index of the best-matching state for each pattern (vectorised over genes).

    ``patterns`` is (n_genes, n_marks) — the magnitudes |ψ| are used —
    ``emissions`` (n_states, n_marks) over the same marks. Highest Pearson
    correlation, ties (within :data:`TIE_TOLERANCE`) broken by the highest
    cosine similarity then the first state; patterns without a defined
    correlation (all-zero or constant) get ``null_index``.
    """
    patterns = np.abs(np.asarray(patterns, dtype=np.float64))
    emissions = np.asarray(emissions, dtype=np.float64)
    if patterns.ndim != 2 or emissions.ndim != 2 or patterns.shape[1] != emissions.shape[1]:
        raise ModelError(f"patterns {patterns.shape} and emissions {emissions.shape} must share their marks")
    corr = pearson_matrix(patterns, emissions)
    corr = np.where(np.isfinite(corr), corr, -np.inf)
    best = corr.max(axis=1, keepdims=True) if corr.shape[1] else np.full((len(corr), 1), -np.inf)
    tied = (corr >= best - TIE_TOLERANCE) & np.isfinite(best)
    cosine = np.nan_to_num(_row_normalise(patterns) @ _row_normalise(emissions).T, nan=-np.inf)
    choice = np.where(tied, cosine, -np.inf).argmax(axis=1)
    return np.where(np.isfinite(best[:, 0]), choice, null_index).astype(np.int64)


def rank_descending(values) -> np.ndarray:
    """Ranks with 1 = highest value; ties share the smallest rank; NaN stays NaN."""
    return pd.Series(values, dtype="float64").rank(ascending=False, method="min").to_numpy()


def state_ranks(matched: np.ndarray, logits: np.ndarray, states: Sequence[str],
                grouping: Mapping[str, str]) -> pd.DataFrame:
    """Per state: group, genes matched, mean and sd of their logits, rank by mean logit (NA without genes)."""
    frame = _mean_logits(np.asarray(matched), np.asarray(logits, dtype=np.float64), len(states))
    frame.insert(0, "state", list(states))
    frame.insert(1, "group", [grouping[s] for s in states])
    frame["rank"] = pd.array(rank_descending(frame["mean_logit"]), dtype="Int64")
    return frame


def group_ranks(matched_groups: Sequence[str], logits: np.ndarray, groups: Sequence[str]) -> pd.DataFrame:
    """Per group: genes matched, mean and sd of their logits, rank by mean logit (NA without genes)."""
    codes = pd.Categorical(matched_groups, categories=list(groups)).codes
    frame = _mean_logits(codes, np.asarray(logits, dtype=np.float64), len(groups))
    frame.insert(0, "group", list(groups))
    frame["rank"] = pd.array(rank_descending(frame["mean_logit"]), dtype="Int64")
    return frame


def _mean_logits(codes: np.ndarray, logits: np.ndarray, n: int) -> pd.DataFrame:
    ok = codes >= 0
    count = np.bincount(codes[ok], minlength=n)
    total = np.bincount(codes[ok], weights=logits[ok], minlength=n)
    square = np.bincount(codes[ok], weights=logits[ok] ** 2, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        var = np.where(count > 1, (square - count * mean ** 2) / (count - 1), np.nan)
    return pd.DataFrame({"n_genes": count.astype(np.int64), "mean_logit": mean,
                         "sd_logit": np.sqrt(np.clip(var, 0, None))})


def agreement(pattern_groups: Sequence[str], segmentation_groups: Sequence, groups: Sequence[str]) -> pd.DataFrame:
    """Confusion table: genes per (pattern-matched group, segmentation group at the TSS), every pair listed.

    Genes without a segmentation state (missing values) are left out.
    """
    frame = pd.DataFrame({"pattern_group": pd.Categorical(pattern_groups, categories=list(groups)),
                          "segmentation_group": pd.Categorical(segmentation_groups, categories=list(groups))})
    frame = frame.dropna()
    table = frame.groupby(["pattern_group", "segmentation_group"], observed=False).size()
    return table.rename("n_genes").reset_index().astype({"pattern_group": str, "segmentation_group": str})


def agreement_rate(table: pd.DataFrame) -> float:
    """Fraction of genes whose pattern-matched group equals their segmentation group (NaN without genes)."""
    total = table["n_genes"].sum()
    same = table.loc[table["pattern_group"] == table["segmentation_group"], "n_genes"].sum()
    return float(same / total) if total else float("nan")
