"""Incremental builds: what a rebuild may reuse of the workspace it rebuilds.

``build`` records in ``workspace.json``, per fitted epigenome, what its result
is keyed on and what it wrote::

    "epigenomes": {"E066": {"status": "ok", ...,
        "inputs": {"peaks": {PATH: {"mark": M, "format": F, "sha256": ...}, ...},
                   "expression": sha256 of its RPKM column (float64, in gene-table order),
                   "genes": sha256 of the gene table (as written to genes.tsv),
                   "splits": sha256 of the splits (split ids and part codes),
                   "parameters": {"window", "threshold", "splits", "crossfit": {"folds", "seed", "version"},
                                  "version", "format_version"}},
        "outputs": {"features.tsv": sha256, "predictions.tsv": sha256, "model.json": sha256}}}

A rebuild into the same folder reuses an epigenome (its files are neither
recomputed nor rewritten, their mtime stays) when its ``inputs`` are equal and
its files are still the bytes recorded in ``outputs`` (a file changed since,
e.g. by ``shallowchrome chromhmm`` adding a column to predictions.tsv, makes
it recomputed, so a rebuild always equals a build from scratch). Every digest
is of content, never of a time stamp. ``--force`` recomputes everything.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.textio import table_bytes
from shallowchrome.tracks.workspace.layout import FEATURES_FILE, MODEL_FILE, PREDICTIONS_FILE, Workspace

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes (as stored: a gzip file's compressed bytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genes_digest(gene_cols: pd.DataFrame) -> str:
    """Digest of the gene table (gene_id, symbol, chrom, tss, strand) in its row order."""
    return sha256_bytes(table_bytes(gene_cols, float_format=None))


def splits_digest(splits: dict) -> str:
    """Digest of the splits: each split id and its part code per gene row."""
    digest = hashlib.sha256()
    for k in sorted(splits):
        arr = np.ascontiguousarray(splits[k], dtype=np.int8)
        digest.update(f"{int(k)}:{len(arr)}:".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def expression_digest(rpkm: np.ndarray) -> str:
    """Digest of an epigenome's RPKM values (float64, gene-table order; NaN for genes without a value)."""
    return sha256_bytes(np.ascontiguousarray(rpkm, dtype="<f8").tobytes())


def peaks_key(files: list[dict], cache: dict | None = None) -> dict:
    """``{path: {"mark", "format", "sha256"}}`` of an epigenome's peak files (``cache``: path → digest of this run)."""
    key = {}
    for f in sorted(files, key=lambda f: (str(f["path"]), f["mark"], f["format"])):
        path = str(f["path"])
        if cache is not None and path in cache:
            digest = cache[path]
        else:
            try:
                digest = sha256_file(path)
            except OSError as exc:
                raise InputError(path, f"cannot be read ({exc.strerror or exc})", fix="check the path") from None
            if cache is not None:
                cache[path] = digest
        key[path] = {"mark": f["mark"], "format": f["format"], "sha256": digest}
    return key


def output_digests(ws: Workspace, eid: str) -> dict | None:
    """``{file name: sha256}`` of the files ``build`` wrote for ``eid``; None when one is missing."""
    out = {}
    for name in (FEATURES_FILE, PREDICTIONS_FILE, MODEL_FILE):
        path = ws.epigenome_dir(eid) / name
        try:
            out[name] = sha256_file(path)
        except OSError:
            return None
    return out


def previous_epigenomes(root) -> dict:
    """The ``epigenomes`` records of the workspace.json already in ``root`` ({} when there is none or it is unreadable)."""
    path = Workspace(Path(root)).info_path
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text())
        records = doc.get("epigenomes") or {}
        return records if isinstance(records, dict) else {}
    except (OSError, ValueError, AttributeError):
        log.warning("%s: unreadable; every epigenome is recomputed", path)
        return {}


def reusable(ws: Workspace, eid: str, previous: dict | None, inputs: dict) -> dict | None:
    """The recorded output digests when ``eid``'s files in ``ws`` can be reused for ``inputs``, else None."""
    if not previous or previous.get("status") != "ok" or previous.get("inputs") != inputs:
        return None
    recorded = previous.get("outputs")
    if not isinstance(recorded, dict):
        return None
    current = output_digests(ws, eid)
    if current is None or current != recorded:
        log.info("%s: its files changed since they were written; recomputed", eid)
        return None
    return current


@dataclass
class Reused:
    """An epigenome whose files in the workspace are kept: what the evaluation table and workspace.json need."""

    epigenome: str
    doc: dict  # model.json
    labels: pd.Series  # predictions.tsv's label column
    outputs: dict
    warnings: list = field(default_factory=list)  # what the build warns about it (as when it is fitted)

    @property
    def marks(self) -> list:
        return list(self.doc["marks"])

    @property
    def summary(self) -> dict:
        return self.doc["metrics"]

    @property
    def configuration(self) -> str:
        return self.doc["configuration"]

    @property
    def n_genes(self) -> int:
        return int(self.labels.notna().sum())

    @property
    def n_on(self) -> int:
        return int((self.labels == 1).sum())

    @property
    def split_configurations(self) -> list[str]:
        return [s["configuration"] for s in self.doc["splits"]]

    @property
    def crossfit(self) -> dict:
        """The cross-fitted (out-of-fold) metrics of model.json: auroc, aupr, f1."""
        return (self.doc.get("crossfit") or {}).get("metrics") or {}


def load_reused(ws: Workspace, eid: str, outputs: dict) -> Reused:
    doc = json.loads(ws.model_path(eid).read_text())
    labels = pd.read_csv(ws.predictions_path(eid), sep="\t", usecols=["label"], dtype={"label": "Int8"})["label"]
    return Reused(eid, doc, labels, outputs)
