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

from shallowchrome.tracks.io.textio import write_text_atomic

WORKSPACE_FILE = "workspace.json"
FORMAT_VERSION = 1
#: The track hub (``shallowchrome tracks``) lives under WS/hub/; see :mod:`shallowchrome.tracks.hub.write`.
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
        # absolute, so that every consumer (e.g. Flask's send_file, which resolves relative paths against
        # the application package) sees the folder the user named, whatever the current directory
        self.root = Path(self.root).absolute()

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
        from shallowchrome.tracks.io.splits import read_splits

        return read_splits(self.splits_path, self.genes()["gene_id"])

    # genes -------------------------------------------------------------
    @cached_property
    def _gene_index(self) -> "_GeneIndex":
        return _GeneIndex(self.genes())

    def find_gene(self, query: str) -> pd.DataFrame:
        """Rows of genes.tsv (plus ``row``) matching a symbol or Ensembl id, case-insensitive.

        Several rows can match (a symbol shared by genes, or the benchmark's
        repeated ids). An unknown gene raises :class:`UnknownGeneError`, whose
        message suggests close symbols. A dictionary lookup: cheap enough for
        every request of a server.
        """
        return self._gene_index.frame(self.find_gene_rows(query))

    def find_gene_rows(self, query: str) -> list[int]:
        """The genes.tsv rows (0-based) of :meth:`find_gene`, without building a DataFrame."""
        index = self._gene_index
        rows = index.exact(query)
        if not rows:
            close = index.close_symbols(query)
            hint = f"did you mean {', '.join(close)}?" if close else "give an HGNC symbol or an Ensembl gene id"
            raise UnknownGeneError(query, f"unknown gene {query!r} in workspace {self.root}; {hint}", close)
        return rows

    def suggest_genes(self, prefix: str, limit: int = 10) -> pd.DataFrame:
        """Genes whose symbol or id starts with ``prefix`` (case-insensitive); exact matches first, then shorter symbols."""
        return self._gene_index.frame(self._gene_index.prefix(prefix, limit))


class _GeneIndex:
    """Exact (dict) and prefix (binary search over sorted keys) lookups of gene symbols and ids."""

    def __init__(self, genes: pd.DataFrame):
        self.genes = genes.reset_index(names="row")
        self.by_key: dict[str, list[int]] = {}
        for col in ("symbol", "gene_id"):
            for row, key in enumerate(self.genes[col].str.upper()):
                if key:
                    rows = self.by_key.setdefault(key, [])
                    if row not in rows:
                        rows.append(row)
        self.keys = sorted(self.by_key)
        self.symbols = [s for s in self.genes["symbol"].unique() if s]

    @staticmethod
    def normalise(query) -> str:
        q = str(query).strip().upper()
        return q.split(".")[0] if q.startswith("ENS") else q

    def exact(self, query) -> list[int]:
        return sorted(self.by_key.get(self.normalise(query), []))

    def prefix(self, prefix, limit: int) -> list[int]:
        import bisect

        p = str(prefix).strip().upper()
        if not p:
            return []
        lo = bisect.bisect_left(self.keys, p)
        hi = bisect.bisect_left(self.keys, p + "\uffff")
        keys = sorted(self.keys[lo:hi], key=lambda k: (k != p, len(k), k))
        rows: list[int] = []
        for key in keys:
            rows.extend(r for r in self.by_key[key] if r not in rows)
            if len(rows) >= limit:
                break
        return rows[:limit]

    def close_symbols(self, query, n: int = 5) -> list[str]:
        q = str(query).strip()
        close = difflib.get_close_matches(q, self.symbols, n=n, cutoff=0.6)
        if not close:
            upper = {s.upper(): s for s in self.symbols}
            close = [upper[c] for c in difflib.get_close_matches(q.upper(), list(upper), n=n, cutoff=0.6)]
        return close

    def frame(self, rows: list[int]) -> pd.DataFrame:
        return self.genes.iloc[rows]


class UnknownGeneError(ShallowChromeError):
    """A gene query that matches nothing; ``suggestions`` holds close symbols."""

    def __init__(self, query, message, suggestions=()):
        super().__init__(message)
        self.query = query
        self.suggestions = list(suggestions)

    def __reduce__(self):
        return (self.__class__, (self.query, str(self), self.suggestions))
