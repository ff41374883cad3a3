"""Chromosome naming: everything is compared in UCSC style (``chr1``, ``chrX``, ``chrM``)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

_BARE = re.compile(r"^(?:\d+|X|Y|W|Z)$")


def ucsc_name(name: str) -> str:
    """``1`` → ``chr1``, ``X`` → ``chrX``, ``MT``/``M`` → ``chrM``; other names unchanged."""
    if name.startswith("chr"):
        return name
    if _BARE.match(name):
        return "chr" + name
    if name in ("MT", "M"):
        return "chrM"
    return name


def normalise(names) -> np.ndarray:
    """Vectorised :func:`ucsc_name` over an array or Series of names (object array out).

    Each distinct name is renamed once; rows get theirs through hashed codes
    (a missing value becomes its text, ``"nan"`` or ``"None"``).
    """
    values = pd.Series(names, dtype=object).to_numpy()
    codes, uniques = pd.factorize(values)
    out = np.array([ucsc_name(str(u)) for u in uniques] + [""], dtype=object)[codes]
    for i in np.flatnonzero(codes < 0):
        out[i] = str(values[i])
    return out
