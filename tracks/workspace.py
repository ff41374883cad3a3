"""The on-disk workspace: what ``build`` writes and later commands read.

Layout (all TSV files have a header line; coordinates 0-based)::

    WS/workspace.json                 inputs, parameters, epigenomes and their status
    WS/genes.tsv                      the gene table used (gene_id, symbol, chrom, tss, strand)
    WS/peaks.tsv                      the peak manifest used (absolute paths)
    WS/splits.tsv.gz                  the splits used (split, part, row)
    WS/evaluation.tsv / .png          test AUROC/AUPR/F1 mean ± sd per epigenome, vs DeepChrome
    WS/epigenomes/EID/features.tsv    gene × mark features of the interpretation model (columns named
                                      by mark), then one column per input file ("MARK.FORMAT"), so the
                                      model of any split and configuration can be rebuilt
    WS/epigenomes/EID/model.json      weights, bias, SEs, p-values, configuration, per-split metrics
    WS/epigenomes/EID/predictions.tsv logit, probability, RPKM, label, part, contribution per mark

Every file is written atomically; ``workspace.json`` is written last, so a
folder without it is not a (complete) workspace.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError

from .textio import write_text_atomic

WORKSPACE_FILE = "workspace.json"
FORMAT_VERSION = 1


def dumps_json(doc) -> str:
    """Deterministic, human-readable JSON (sorted keys off: documents keep their logical order)."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def write_json_atomic(path, doc) -> None:
    write_text_atomic(path, dumps_json(doc))


@dataclass
class Workspace:
    """A built workspace folder; see the module docstring for the layout."""

    root: Path

    def __post_init__(self):
        self.root = Path(self.root)

    # paths -------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / WORKSPACE_FILE

    def epigenome_dir(self, eid: str) -> Path:
        return self.root / "epigenomes" / eid

    def model_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / "model.json"

    def predictions_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / "predictions.tsv"

    def features_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / "features.tsv"

    # reading -----------------------------------------------------------
    @classmethod
    def open(cls, root) -> "Workspace":
        ws = cls(Path(root))
        if not ws.manifest_path.is_file():
            raise InputError(root, f"is not a ShallowChrome workspace (no {WORKSPACE_FILE})",
                             fix="run `shallowchrome build ... --out` first, or give the workspace folder")
        return ws

    @property
    def info(self) -> dict:
        return json.loads(self.manifest_path.read_text())

    def epigenomes(self) -> list[str]:
        """Epigenomes with a fitted model, in build order."""
        return [e for e, d in self.info["epigenomes"].items() if d["status"] == "ok"]

    def model(self, eid: str) -> dict:
        return json.loads(self.model_path(eid).read_text())

    def predictions(self, eid: str) -> pd.DataFrame:
        return pd.read_csv(self.predictions_path(eid), sep="\t", dtype={"label": "Int8"})

    def features(self, eid: str) -> pd.DataFrame:
        return pd.read_csv(self.features_path(eid), sep="\t")

    def genes(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "genes.tsv", sep="\t", dtype={"symbol": str}, keep_default_na=False)

    def evaluation(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "evaluation.tsv", sep="\t")
