"""Packaged reference tables (Roadmap tissue names, DeepChrome's published AUROCs) and the package's version."""
from __future__ import annotations

from functools import lru_cache
from importlib import metadata, resources

import pandas as pd


def _table(name: str) -> pd.DataFrame:
    with resources.files("shallowchrome.tracks").joinpath("data", name).open("r") as fh:
        return pd.read_csv(fh, sep="\t", dtype=str)


@lru_cache(maxsize=None)
def roadmap_epigenomes() -> dict:
    """The 127 Roadmap consolidated epigenomes (E001–E129, from the consortium's metadata spreadsheet):
    id → {group, color (the group's colour), mnemonic, name (standardised), edacc_name, anatomy, type}."""
    t = _table("roadmap_epigenomes.tsv")
    return {row["eid"]: {k: v for k, v in row.items() if k != "eid"} for row in t.to_dict("records")}


@lru_cache(maxsize=None)
def tissues() -> dict:
    """Epigenome id → the Roadmap standardised name (e.g. E066 Liver, E100 Psoas Muscle), for all 127."""
    return {eid: info["name"] for eid, info in roadmap_epigenomes().items()}


@lru_cache(maxsize=None)
def deepchrome_auroc() -> dict:
    """Epigenome id → DeepChrome's published test AUROC (the 56 benchmark epigenomes)."""
    t = _table("deepchrome_auroc.tsv")
    return dict(zip(t["epigenome"], t["auroc"].astype(float)))


@lru_cache(maxsize=1)
def package_version() -> str:
    """The installed version of shallowchrome ("unknown" in a source tree that is not installed)."""
    try:
        return metadata.version("shallowchrome")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
        return "unknown"
