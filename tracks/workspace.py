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
                                      (+ chromhmm_state, the ChromHMM state at the TSS, once
                                      ``shallowchrome chromhmm`` was given a segmentation)
    WS/interpretation/                weights and ChromHMM validation tables and charts

Every file is written atomically; ``workspace.json`` is written last, so a
folder without it is not a (complete) workspace.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError, ShallowChromeError

from .textio import write_text_atomic

WORKSPACE_FILE = "workspace.json"
FORMAT_VERSION = 1
#: The track hub (``shallowchrome tracks``) lives under WS/hub/; see :mod:`shallowchrome.tracks.tracks`.
HUB_DIR = "hub"


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

    @property
    def splits_path(self) -> Path:
        return self.root / "splits.tsv.gz"

    @property
    def interpretation_dir(self) -> Path:
        """WS/interpretation/: outputs of ``weights`` and ``chromhmm`` (charts and tables)."""
        return self.root / "interpretation"

    def interpretation_path(self, name: str) -> Path:
        return self.interpretation_dir / name

    # track hub (written by ``shallowchrome tracks``) -------------------
    @property
    def hub_dir(self) -> Path:
        """WS/hub/: hub.txt, genomes.txt, sessions; bigDataUrl paths are relative to the trackDb below it."""
        return self.root / HUB_DIR

    def hub_genome_dir(self, genome: str = "hg19") -> Path:
        """WS/hub/GENOME/: trackDb.txt, chrom.sizes, description pages."""
        return self.hub_dir / genome

    def track_dir(self, eid: str, genome: str = "hg19") -> Path:
        """WS/hub/GENOME/EID/: the epigenome's bigBed, BED and bigWig tracks."""
        return self.hub_genome_dir(genome) / eid

    def track_path(self, eid: str, filename: str, genome: str = "hg19") -> Path:
        return self.track_dir(eid, genome) / filename

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

    def splits(self) -> dict:
        """Split id → part code per row of genes.tsv (0 train, 1 validation, 2 test, -1 unused)."""
        from .splits import read_splits

        return read_splits(self.splits_path, self.genes()["gene_id"])

    # genes -------------------------------------------------------------
    @cached_property
    def _gene_index(self) -> pd.DataFrame:
        genes = self.genes().reset_index(names="row")
        genes["symbol_upper"] = genes["symbol"].str.upper()
        genes["id_upper"] = genes["gene_id"].str.upper()
        return genes

    def find_gene(self, query: str) -> pd.DataFrame:
        """Rows of genes.tsv (plus ``row``) matching a symbol or Ensembl id, case-insensitive.

        Several rows can match (a symbol shared by genes, or the benchmark's
        repeated ids). An unknown gene raises :class:`UnknownGeneError`, whose
        message suggests close symbols.
        """
        q = str(query).strip().upper()
        q = q.split(".")[0] if q.startswith("ENS") else q
        g = self._gene_index
        hits = g[(g["symbol_upper"] == q) | (g["id_upper"] == q)]
        if hits.empty:
            pool = [s for s in g["symbol"].unique() if s]
            close = difflib.get_close_matches(str(query).strip(), pool, n=5, cutoff=0.6)
            close = close or difflib.get_close_matches(q, [s.upper() for s in pool], n=5, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else "give an HGNC symbol or an Ensembl gene id"
            raise UnknownGeneError(query, f"unknown gene {query!r} in workspace {self.root}; {hint}", close)
        return hits.drop(columns=["symbol_upper", "id_upper"])

    def suggest_genes(self, prefix: str, limit: int = 10) -> pd.DataFrame:
        """Genes whose symbol or id starts with ``prefix`` (case-insensitive); exact matches first."""
        p = str(prefix).strip().upper()
        g = self._gene_index
        if not p:
            return g.iloc[:0].drop(columns=["symbol_upper", "id_upper"])
        hit = g[g["symbol_upper"].str.startswith(p) | g["id_upper"].str.startswith(p)]
        exact = (hit["symbol_upper"] == p) | (hit["id_upper"] == p)
        hit = hit.assign(_exact=~exact, _len=hit["symbol_upper"].str.len()).sort_values(["_exact", "_len", "symbol"])
        return hit.head(limit).drop(columns=["symbol_upper", "id_upper", "_exact", "_len"])


class UnknownGeneError(ShallowChromeError):
    """A gene query that matches nothing; ``suggestions`` holds close symbols."""

    def __init__(self, query, message, suggestions=()):
        super().__init__(message)
        self.query = query
        self.suggestions = list(suggestions)

    def __reduce__(self):
        return (self.__class__, (self.query, str(self), self.suggestions))
