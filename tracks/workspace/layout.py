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
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from shallowchrome.model.errors import InputError, ShallowChromeError
from shallowchrome.tracks.io.names import check_name
from shallowchrome.tracks.io.textio import write_text_atomic

# Every file name of a workspace, here and nowhere else.
WORKSPACE_FILE = "workspace.json"
FORMAT_VERSION = 1
GENES_FILE, PEAKS_FILE, SPLITS_FILE = "genes.tsv", "peaks.tsv", "splits.tsv.gz"
EVALUATION_TSV, EVALUATION_PNG = "evaluation.tsv", "evaluation.png"
EPIGENOMES_DIR = "epigenomes"
MODEL_FILE, PREDICTIONS_FILE, FEATURES_FILE = "model.json", "predictions.tsv", "features.tsv"
INTERPRETATION_DIR = "interpretation"
#: The track hub (``shallowchrome tracks``) lives under WS/hub/; see :mod:`shallowchrome.tracks.hub.write`.
HUB_DIR = "hub"
HUB_TXT, GENOMES_TXT, HUB_HTML = "hub.txt", "genomes.txt", "hub.html"
TRACKS_JSON = "tracks.json"  # the hub manifest: genome, base URL, every track file (written before hub.txt)
SESSION_JSON, SESSION_XML = "igv_session.json", "igv_session.xml"
TRACKDB_TXT, CHROM_SIZES = "trackDb.txt", "chrom.sizes"
GENE_TRACK = "genes.bed"  # + .gz, .gz.tbi: the gene track of the sessions and the browser page
REPORTS_DIR = "reports"
#: Generations: WS/.generations/gNNNN/ holds one complete build; WS/current → the published one, and every
#: top-level entry of a generation is reached through a symlink WS/NAME → current/NAME.
GENERATIONS_DIR, CURRENT = ".generations", "current"
#: Entries of the workspace folder that are not part of a generation.
_NOT_GENERATION = {REPORTS_DIR, GENERATIONS_DIR, CURRENT}
DEFAULT_GENOME = "hg19"
#: Names of the files ``tracks`` writes into an epigenome's track folder (nothing else is ever deleted there);
#: without the ``EID.`` prefix: the names written before file names carried the epigenome.
TRACK_FILE = re.compile(r"^(.+\.)?(predictions\.(bb|as|bed|bed\.gz|bed\.gz\.tbi)|outcome\.bb|.+\.(contribution|feature)\.bw)$")


#: Track files of an epigenome that do not depend on a mark: kind → file name after ``EID.``.
_EPIGENOME_TRACKS = {"predictions": "predictions.bb", "outcome": "outcome.bb", "schema": "predictions.as",
                     "bed": "predictions.bed", "bed.gz": "predictions.bed.gz"}


def track_filename(eid: str, kind: str, mark: str | None = None) -> str:
    """File name of a track in WS/hub/GENOME/EID/: ``EID.predictions.bb``, ``EID.outcome.bb``,
    ``EID.MARK.KIND.bw`` (kinds ``contribution`` and ``feature``), and the prediction items' ``schema``
    (.as), ``bed`` and ``bed.gz`` (+ .tbi).

    Every name carries its epigenome: IGV desktop keys the local files of a session by their bare
    name (two epigenomes' ``predictions.bb`` would show one file twice), and a downloaded file says
    what it is."""
    prefix = check_name(eid, "epigenome id")
    if kind in _EPIGENOME_TRACKS:
        return f"{prefix}.{_EPIGENOME_TRACKS[kind]}"
    return f"{prefix}.{check_name(mark, 'mark')}.{kind}.bw"


def description_page(kind: str, mark: str | None = None) -> str:
    """File name of a hub description page in WS/hub/GENOME/ (``predictions.html``, ``contribution_MARK.html``)."""
    return f"{kind}.html" if mark is None else f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', mark)}.html"


def published_data(root: Path) -> Path:
    """The folder of the published generation of ``root`` (``root`` itself without generations)."""
    link = root / CURRENT
    if link.is_symlink():
        return root / os.readlink(link)
    return root


@contextmanager
def revision(root):
    """A new generation cloned (hard links) from the published one, published when the block succeeds,
    deleted when it fails: how a command changes a built workspace (``tracks``, ``chromhmm``, ``weights``)
    without a reader ever seeing half of the change."""
    staged = Workspace.stage(root, clone=Workspace.open(root))
    try:
        yield staged
    except BaseException:
        shutil.rmtree(staged.data, ignore_errors=True)
        raise
    staged.publish()


def published_generation(root) -> str | None:
    """The published generation's name, read with one system call (the server asks on every request)."""
    try:
        return Path(os.readlink(Path(root) / CURRENT)).name
    except OSError:
        return None


def _prune_generations(root: Path, keep_previous: bool) -> None:
    """Delete the generations other than the published one and (``keep_previous``) the one before it."""
    gens = root / GENERATIONS_DIR
    if not gens.is_dir():
        return
    current = published_generation(root)
    names = sorted(d.name for d in gens.iterdir() if d.is_dir() and re.fullmatch(r"g\d+", d.name))
    keep = {current} if current else set()
    if keep_previous and current:
        older = [n for n in names if n < current]
        keep |= set(older[-1:])
    for name in names:
        if name not in keep:
            shutil.rmtree(gens / name, ignore_errors=True)


def dumps_json(doc) -> str:
    """Deterministic, human-readable JSON (sorted keys off: documents keep their logical order)."""
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def write_json_atomic(path, doc) -> None:
    write_text_atomic(path, dumps_json(doc))


@dataclass
class Workspace:
    """A built workspace folder; see the module docstring for the layout.

    Every path of the workspace comes from here; epigenome ids and marks are
    checked (:func:`check_name`) before a path is made from them.
    """

    root: Path
    #: the generation folder this object is pinned to; None: whichever is published at each access
    pinned: Path | None = None

    def __post_init__(self):
        # absolute, so that every consumer (e.g. Flask's send_file, which resolves relative paths against
        # the application package) sees the folder the user named, whatever the current directory
        self.root = Path(self.root).absolute()
        self.pinned = Path(self.pinned).absolute() if self.pinned is not None else None

    @property
    def data(self) -> Path:
        """The folder files are read from and written to: the pinned generation, else the published one
        (``root`` itself for a workspace without generations)."""
        return self.pinned if self.pinned is not None else published_data(self.root)

    def shown(self, path) -> Path:
        """A path of this workspace as users name it (``WS/hub/hub.txt``, through the links), not inside
        the generation folder."""
        path = Path(path)
        try:
            return self.root / path.relative_to(self.data)
        except ValueError:
            return path

    def pin(self) -> "Workspace":
        """This workspace pinned to the generation published now (a server reads one generation at a time)."""
        return Workspace(self.root, self.data)

    @property
    def published(self) -> bool:
        """Whether this object reads the published generation (always, for a workspace without generations)."""
        return self.data == published_data(self.root)

    # generations -------------------------------------------------------
    @property
    def generation(self) -> str | None:
        """The name of the generation this object reads (``g0003``), None without generations."""
        return self.data.name if self.data != self.root else None

    @classmethod
    def stage(cls, root, clone: "Workspace | None" = None) -> "Workspace":
        """A new, unpublished generation of the workspace ``root`` to write into (then :meth:`publish`).

        ``clone``: start from that workspace's files, hard-linked (every writer replaces files by rename,
        so the clone's writes never reach the original). Unpublished generations left by an interrupted
        run, and generations older than the one before the published one, are deleted first.
        """
        root = Path(root).absolute()
        gens = root / GENERATIONS_DIR
        gens.mkdir(parents=True, exist_ok=True)
        _prune_generations(root, keep_previous=True)
        numbers = [int(d.name[1:]) for d in gens.iterdir() if re.fullmatch(r"g\d+", d.name)]
        data = gens / f"g{max(numbers, default=0) + 1:04d}"
        if clone is None:
            data.mkdir()
        else:
            src = clone.data
            data.mkdir()
            for entry in src.iterdir():
                if src == clone.root and (entry.name in _NOT_GENERATION or entry.name.startswith(".")):
                    continue
                target = data / entry.name
                if entry.is_dir() and not entry.is_symlink():
                    shutil.copytree(entry, target, copy_function=os.link, symlinks=True)
                elif entry.is_file() and not entry.is_symlink():
                    os.link(entry, target)
        return cls(root, data)

    def link_entries(self) -> None:
        """Link the published generation's top-level entries that have no link yet (a library call that
        wrote a new entry, e.g. the hub, into the published generation itself)."""
        if self.data == self.root or not self.published:
            return
        for entry in self.data.iterdir():
            link = self.root / entry.name
            if not link.exists() and not link.is_symlink():
                os.symlink(f"{CURRENT}/{entry.name}", link)

    def publish(self) -> None:
        """Make this generation the workspace atomically (one rename of WS/current); readers pinned to
        the previous one keep it until the next publish. A workspace without generations is converted."""
        root, gens = self.root, self.root / GENERATIONS_DIR
        legacy = None
        for name in sorted({e.name for e in self.data.iterdir()} | {CURRENT}):
            link = root / name
            if name != CURRENT and link.is_symlink():
                continue
            if link.exists() or link.is_symlink():
                if name == CURRENT and link.is_symlink():
                    continue
                legacy = legacy or gens / "g0000"
                legacy.mkdir(parents=True, exist_ok=True)
                os.replace(link, legacy / name)  # a workspace written before generations: keep it aside
            if name != CURRENT:
                os.symlink(f"{CURRENT}/{name}", link)
        tmp = root / f".{CURRENT}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(self.data.relative_to(root).as_posix(), tmp)
        os.replace(tmp, root / CURRENT)
        for link in root.iterdir():  # entries the new generation no longer has
            if link.is_symlink() and link.name != CURRENT and not link.exists():
                link.unlink()
        _prune_generations(root, keep_previous=True)

    # paths -------------------------------------------------------------
    @property
    def info_path(self) -> Path:
        """WS/workspace.json: inputs, parameters, epigenomes (written last by ``build``)."""
        return self.data / WORKSPACE_FILE

    @property
    def genes_path(self) -> Path:
        return self.data / GENES_FILE

    @property
    def peaks_path(self) -> Path:
        return self.data / PEAKS_FILE

    @property
    def splits_path(self) -> Path:
        return self.data / SPLITS_FILE

    @property
    def evaluation_path(self) -> Path:
        return self.data / EVALUATION_TSV

    @property
    def evaluation_chart_path(self) -> Path:
        return self.data / EVALUATION_PNG

    @property
    def transfer_evaluation_path(self) -> Path:
        """The cross-epigenome evaluation (train on A / test on B, leave one out, average-label baseline)."""
        return self.data / "evaluation_transfer.tsv"

    @property
    def transfer_chart_path(self) -> Path:
        """The heatmap of the cross-epigenome AUROC matrix."""
        return self.data / "evaluation_transfer.png"

    def epigenome_dir(self, eid: str) -> Path:
        return self.data / EPIGENOMES_DIR / check_name(eid, "epigenome id")

    def model_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / MODEL_FILE

    def predictions_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / PREDICTIONS_FILE

    def features_path(self, eid: str) -> Path:
        return self.epigenome_dir(eid) / FEATURES_FILE

    def epigenome_files(self, eid: str) -> list[Path]:
        """The files ``build`` writes for one epigenome."""
        return [self.features_path(eid), self.predictions_path(eid), self.model_path(eid)]

    @property
    def interpretation_dir(self) -> Path:
        """WS/interpretation/: outputs of ``weights`` and ``chromhmm`` (charts and tables)."""
        return self.data / INTERPRETATION_DIR

    def interpretation_path(self, name: str) -> Path:
        return self.interpretation_dir / name

    # track hub (written by ``shallowchrome tracks``) -------------------
    @property
    def hub_dir(self) -> Path:
        """WS/hub/: hub.txt, genomes.txt, sessions; bigDataUrl paths are relative to the trackDb below it."""
        return self.data / HUB_DIR

    def hub_path(self, name: str) -> Path:
        """A file of WS/hub/ (e.g. :data:`HUB_TXT`, :data:`SESSION_XML`)."""
        return self.hub_dir / name

    @property
    def hub_txt(self) -> Path:
        return self.hub_dir / HUB_TXT

    @property
    def hub_manifest_path(self) -> Path:
        return self.hub_dir / TRACKS_JSON

    def hub_manifest(self) -> dict | None:
        """WS/hub/tracks.json (genome, base URL, chrom sizes, every track file), or None without a hub."""
        path = self.hub_manifest_path
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    @property
    def genome(self) -> str:
        """The assembly of the hub (``tracks --genome``, recorded in hub/tracks.json), else the build's."""
        manifest = self.hub_manifest()
        if manifest and manifest.get("genome"):
            return manifest["genome"]
        return self.info.get("genome") or DEFAULT_GENOME

    def hub_genome_dir(self, genome: str | None = None) -> Path:
        """WS/hub/GENOME/: trackDb.txt, chrom.sizes, description pages."""
        return self.hub_dir / check_name(genome or self.genome, "genome")

    def chrom_sizes_path(self, genome: str | None = None) -> Path:
        return self.hub_genome_dir(genome) / CHROM_SIZES

    def trackdb_path(self, genome: str | None = None) -> Path:
        return self.hub_genome_dir(genome) / TRACKDB_TXT

    def igv_genome_path(self, genome: str | None = None) -> Path:
        """WS/hub/GENOME/GENOME.chrom.sizes: the chromosome sizes again, named as IGV desktop needs to
        load them as a genome (it reads any other name as a FASTA file)."""
        genome = genome or self.genome
        return self.hub_genome_dir(genome) / f"{genome}.{CHROM_SIZES}"

    def gene_track_path(self, genome: str | None = None) -> Path:
        """WS/hub/GENOME/genes.bed (its indexed copy: ``.gz`` + ``.gz.tbi``)."""
        return self.hub_genome_dir(genome) / GENE_TRACK

    def track_dir(self, eid: str, genome: str | None = None) -> Path:
        """WS/hub/GENOME/EID/: the epigenome's bigBed, BED and bigWig tracks."""
        return self.hub_genome_dir(genome) / check_name(eid, "epigenome id")

    def track_path(self, eid: str, filename: str, genome: str | None = None) -> Path:
        """A file of the epigenome's track folder, by name (see :func:`track_filename`)."""
        return self.track_dir(eid, genome) / filename

    def track_file(self, eid: str, kind: str, mark: str | None = None, genome: str | None = None) -> Path:
        """The track file of ``kind`` (predictions, outcome, contribution, feature, ...) of an epigenome (and mark)."""
        return self.track_path(eid, track_filename(eid, kind, mark), genome)

    def track_relpath(self, eid: str, kind: str, mark: str | None = None, genome: str | None = None) -> str:
        """:meth:`track_file` relative to WS/hub/, POSIX (as the hub manifest and the sessions record it)."""
        return self.track_file(eid, kind, mark, genome).relative_to(self.hub_dir).as_posix()

    @property
    def jbrowse_config_path(self) -> Path:
        """WS/hub/jbrowse/config.json: the JBrowse 2 configuration over the hub's files (URIs relative to it)."""
        return self.hub_path("jbrowse/config.json")

    # reports -----------------------------------------------------------
    @property
    def reports_dir(self) -> Path:
        """WS/reports/: ``shallowchrome report`` pages (default folder) and the index."""
        return self.root / REPORTS_DIR

    @property
    def report_cache_dir(self) -> Path:
        """WS/reports/cache/: indexed copies of the inputs (peaks/, chromhmm/) and the server's pages (pages/)."""
        return self.reports_dir / "cache"

    @property
    def peak_index_dir(self) -> Path:
        """WS/reports/cache/peaks/: sorted, bgzipped, indexed BED copies of the input peak files, one per
        file content (made after the tracks; see :mod:`shallowchrome.tracks.reports.regions`)."""
        return self.report_cache_dir / "peaks"

    def peak_index_path(self, key: str, fmt: str) -> Path:
        """The indexed copy of the peak file whose content key is ``key`` (its sha256), read as ``fmt``."""
        if not re.fullmatch(r"[0-9a-z]{8,64}", key):
            raise ShallowChromeError(f"not a peak index key: {key!r}")
        return self.peak_index_dir / f"{key}.{check_name(fmt, 'peak format')}.bed.gz"

    def dependency_files(self) -> list[Path]:
        """The files whose change changes what pages show (the report cache keys on them)."""
        files = [self.info_path, self.genes_path, self.splits_path, self.peaks_path, self.hub_manifest_path,
                 self.interpretation_path("chromhmm.json")]
        for eid in self.epigenomes():
            files += self.epigenome_files(eid)
        return files

    # reading -----------------------------------------------------------
    @classmethod
    def open(cls, root) -> "Workspace":
        ws = cls(Path(root))
        if not ws.info_path.is_file():
            raise InputError(root, f"is not a ShallowChrome workspace (no {WORKSPACE_FILE})",
                             fix="run `shallowchrome build ... --out` first, or give the workspace folder")
        return ws

    @property
    def info(self) -> dict:
        return json.loads(self.info_path.read_text())

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
        return pd.read_csv(self.genes_path, sep="\t", dtype={"symbol": str}, keep_default_na=False)

    def evaluation(self) -> pd.DataFrame:
        return pd.read_csv(self.evaluation_path, sep="\t")

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
            raise UnknownGeneError(query, f"unknown gene {query!r} in workspace {self.root.name}; {hint}", close)
        return rows

    def count_genes(self, prefix: str) -> int:
        """How many genes :meth:`suggest_genes` could return for ``prefix`` without a limit."""
        return self._gene_index.count_prefix(prefix)

    def suggest_genes(self, prefix: str, limit: int = 10) -> pd.DataFrame:
        """Genes whose symbol or id starts with ``prefix`` (case-insensitive); exact matches first, then shorter symbols."""
        return self._gene_index.frame(self._gene_index.prefix(prefix, limit))


#: Longest gene query that gets close-symbol suggestions.
MAX_QUERY = 100
CLOSE_CUTOFF = 0.6


def _close_matches(query: str, candidates: list[str], n: int) -> list[str]:
    """``difflib.get_close_matches(query, candidates, n, 0.6)``, with rapidfuzz choosing the candidates."""
    from rapidfuzz import fuzz, process

    near = [c for c, _, _ in process.extract(query, candidates, scorer=fuzz.ratio, limit=None,
                                             score_cutoff=100 * CLOSE_CUTOFF - 1e-9)]
    return difflib.get_close_matches(query, near, n=n, cutoff=CLOSE_CUTOFF)


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

    def count_prefix(self, prefix) -> int:
        """How many genes (rows) have a symbol or id starting with ``prefix``."""
        import bisect

        p = str(prefix).strip().upper()
        if not p:
            return 0
        lo = bisect.bisect_left(self.keys, p)
        hi = bisect.bisect_left(self.keys, p + "\uffff")
        return len({r for key in self.keys[lo:hi] for r in self.by_key[key]})

    def close_symbols(self, query, n: int = 5) -> list[str]:
        """Up to ``n`` symbols close to ``query`` (difflib's ratio ≥ 0.6, case-sensitive first, then not).

        Cheap enough for every request of a public server: rapidfuzz picks the
        candidates whose Indel ratio (2·LCS/length, never below difflib's ratio)
        reaches the cutoff, then difflib ranks only those, so the answer is
        exactly difflib's over all symbols. Answers are cached (bounded);
        queries longer than any symbol could match get none.
        """
        q = str(query).strip()
        if not q or len(q) > MAX_QUERY:
            return []
        return list(self._close(q, n))

    @lru_cache(maxsize=2048)
    def _close(self, q: str, n: int) -> tuple:
        close = _close_matches(q, self.symbols, n)
        if not close:
            upper = {s.upper(): s for s in self.symbols}
            close = [upper[c] for c in _close_matches(q.upper(), list(upper), n)]
        return tuple(close)

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
