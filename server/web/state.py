"""The server's read model: a workspace loaded once into memory, and per-gene payloads.

Everything here is read-only; the app never writes to the workspace (except
the report cache, owned by the reports module).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from shallowchrome.model.estimator import finite_or_none
from shallowchrome.model.interpret import SIGNIFICANCE, choose_model, has_crossfit, mark_p_value, model_splits
from shallowchrome.tracks.io.metadata import describe
from shallowchrome.tracks.workspace.layout import Workspace, published_generation

#: Key of the app's :class:`WorkspaceData` in ``app.extensions``.
EXTENSION = "shallowchrome"


#: App config key: warm the gene pages' caches up in a thread when a workspace (generation) is loaded (default on).
GENES_WARMUP = "GENES_WARMUP"

#: The warm-up's second pass sleeps this many times as long as each fit took (it runs at ~1/3 of a core).
WARMUP_YIELD = 2.0

log = logging.getLogger(__name__)


#: Regulative-pattern charts kept in memory (an SVG is ~50 KB: at most ~25 MB).
CHART_CACHE = 512


class BoundedCache:
    """A thread-safe dict that forgets its least recently used entries beyond ``maxsize``."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class WorkspaceData:
    """Models, predictions and features of every fitted epigenome, indexed by gene row."""

    def __init__(self, root, ws: Workspace | None = None):
        self.ws = ws or Workspace.open(root).pin()
        self.info = self.ws.info
        self.genome = self.ws.genome
        self.epigenomes = self.ws.epigenomes()
        self.models = {e: self.ws.model(e) for e in self.epigenomes}
        self.evaluation = self.ws.evaluation()
        self.genes = self.ws.genes()
        self.gene_records = [{"gene_id": g.gene_id, "symbol": g.symbol, "chrom": g.chrom, "tss": int(g.tss),
                              "strand": g.strand} for g in self.genes.itertuples()]
        self._views: dict = {}  # the interpretation views of `explain`, made from the tables read for the columns
        self.columns = {e: self._columns(e) for e in self.epigenomes}
        self.payload = lru_cache(maxsize=8192)(self._payload)
        self.interpretation_cache: dict = {("view", e): v for e, v in self._views.items()}  # views, statsmodels fits
        self.charts = BoundedCache(CHART_CACHE)  # (gene row, format) → regulative-pattern chart bytes

    def _columns(self, eid: str) -> dict:
        """Per-gene values of one epigenome as plain Python lists (fast per-row access for the API)."""
        marks = self.models[eid]["marks"]
        pred = self.ws.predictions(eid)
        feats = self.ws.features(eid)
        self._views[eid] = self._view(eid, pred, feats)
        label = pred["label"]
        cols = {
            "logit": pred["logit"].tolist(), "probability": pred["probability"].tolist(),
            "predicted": pred["predicted"].astype(int).tolist(), "rpkm": pred["rpkm"].tolist(),
            "label": [None if pd.isna(v) else int(v) for v in label], "part": pred["part"].tolist(),
            "fold": pred["fold"].astype(str).tolist() if "fold" in pred.columns else None,
            "features": {m: feats[m].tolist() for m in marks},
            "contributions": {m: pred[f"contrib_{m}"].tolist() for m in marks},
        }
        if "chromhmm_state" in pred.columns:
            cols["chromhmm_state"] = [v if isinstance(v, str) else None for v in pred["chromhmm_state"]]
        return cols

    def _view(self, eid: str, pred: pd.DataFrame, feats: pd.DataFrame):
        """What :func:`~shallowchrome.tracks.analysis.explain.load_view` reads, from the tables already read."""
        from shallowchrome.tracks.analysis.explain import EpigenomeView

        folds = pred["fold"].astype(str) if "fold" in pred.columns else None
        view = EpigenomeView(eid=eid, model=self.models[eid], features=feats, labels=pred["label"],
                             rpkm=pred["rpkm"], folds=folds, name=self.tissue(eid))
        stored_fold_statistics(view)
        return view

    def tissue(self, eid: str) -> str:
        return self.info["epigenomes"].get(eid, {}).get("tissue", "") or ""

    def recorded(self, eid: str) -> dict:
        """The epigenome's workspace.json record (tissue, and group/color from ``build --metadata``)."""
        return self.info["epigenomes"].get(eid, {})

    def epigenome_summaries(self) -> list[dict]:
        """One record per epigenome of the build (fitted or skipped), for the home page and the API."""
        ev = self.evaluation.set_index("epigenome")
        out = []
        for eid, status in self.info["epigenomes"].items():
            shown = describe(eid, status)  # recorded name/group/colour over the Roadmap table's
            rec = {"id": eid, "tissue": status.get("tissue", "") or "", "status": status["status"],
                   "group": shown["group"], "color": shown["color"]}
            if status["status"] == "ok":
                row = ev.loc[eid]
                model = self.models[eid]
                rec.update(marks=model["marks"], configuration=model["configuration"],
                           auroc={"mean": finite_or_none(row.auroc_mean), "sd": finite_or_none(row.auroc_sd)},
                           aupr={"mean": finite_or_none(row.aupr_mean), "sd": finite_or_none(row.aupr_sd)},
                           f1={"mean": finite_or_none(row.f1_mean), "sd": finite_or_none(row.f1_sd)},
                           deepchrome_auroc=finite_or_none(row.deepchrome_auroc), n_genes=int(row.n_genes),
                           threshold=model["threshold"])
                if isinstance(status.get("transfer"), dict):  # no expression data: no test metrics, say why
                    rec["transfer"] = status["transfer"].get("note", "no expression data")
            else:
                rec["reason"] = status.get("reason", "")
            out.append(rec)
        return out

    def gene_record(self, row: int) -> dict:
        return dict(self.gene_records[row])

    @cached_property
    def chrom_sizes(self) -> dict:
        """The hub's chromosome sizes (else the packaged table of the genome; {} when there is none)."""
        from shallowchrome.model.errors import ShallowChromeError
        from shallowchrome.tracks.io.chromsizes import load_chrom_sizes

        copy = self.ws.chrom_sizes_path(self.genome)
        try:
            return load_chrom_sizes(self.genome, copy if copy.is_file() else None).sizes
        except ShallowChromeError:
            return {}

    def check_locus(self, text: str) -> str | None:
        """Why ``chrom:start-end`` (1-based, commas allowed) is not a locus of this assembly; None when it is."""
        import re

        m = re.fullmatch(r"\s*([^:\s]+):([\d,]+)(?:-([\d,]+))?\s*", text)
        if not m:
            return f"{text!r} is not a locus (write chr1:1,000-2,000) nor a gene of this workspace"
        chrom = m.group(1)
        size = self.chrom_sizes.get(chrom)
        if size is None:
            return f"chromosome {chrom} is not in the {self.genome} assembly"
        start = int(m.group(2).replace(",", ""))
        end = int(m.group(3).replace(",", "")) if m.group(3) else start
        if start < 1 or end < start or start > size:
            return f"{text} is outside {chrom} (1-{size:,})"
        return None

    def locus(self, row: int, flank: int | None = None) -> str:
        """``chrom:start-end`` (1-based, as browsers display) of the gene's TSS window."""
        g = self.gene_records[row]
        w = flank if flank is not None else int(self.info["parameters"]["window"])
        return f"{g['chrom']}:{max(1, g['tss'] - w + 1)}-{g['tss'] + w}"

    def _payload(self, row: int) -> dict:
        """Per-epigenome features, contributions, logit, probability, p-values and label of one gene."""
        per = []
        for eid in self.epigenomes:
            model = self.models[eid]
            marks = model["marks"]
            col = self.columns[eid]
            # the model that made the gene's row of predictions.tsv: its cross-fitting fold's (none recorded in a
            # workspace built before cross-fitting: the interpretation split's)
            explaining = choose_model(model, col["fold"][row]) if col["fold"] and has_crossfit(model) else None
            record = explaining.record if explaining else model
            pvals = record["p_values"]
            label = col["label"][row]
            rec = {
                "epigenome": eid,
                "tissue": self.tissue(eid),
                "split": None if explaining else model["interpretation_split"],
                "fold": explaining.fold if explaining else None,
                "model": explaining.label if explaining else f"split {model['interpretation_split']}",
                "part": col["part"][row],
                "features": {m: finite_or_none(col["features"][m][row]) for m in marks},
                "weights": {m: finite_or_none(record["weights"].get(m)) for m in marks},  # none: a mark of several terms
                "contributions": {m: finite_or_none(col["contributions"][m][row]) for m in marks},
                "bias": finite_or_none(record["bias"]),
                "logit": finite_or_none(col["logit"][row]),
                "probability": finite_or_none(col["probability"][row]),
                "predicted": "ON" if col["predicted"][row] == 1 else "OFF",
                "rpkm": finite_or_none(col["rpkm"][row]),
                "label": None if label is None else ("ON" if label == 1 else "OFF"),
                "p_values": {"bias": finite_or_none(pvals.get("bias")),
                             **{m: finite_or_none(mark_p_value(record, m)) for m in marks}},
                "significant": {m: (mark_p_value(record, m) is not None and mark_p_value(record, m) <= SIGNIFICANCE)
                                for m in marks},
            }
            state = col.get("chromhmm_state")
            if state and state[row]:
                rec["chromhmm_state"] = state[row]
            per.append(rec)
        return {"gene": self.gene_record(row), "locus": self.locus(row), "epigenomes": per}

    def warm_up(self) -> None:
        """Fill the caches the gene pages use, ahead of the first request: the imports of the pattern charts
        (matplotlib, rendering once) and, per epigenome, the Wald statistics (statsmodels refits) of every model that explains genes: its
        cross-fitting fold models, or, in a workspace built before cross-fitting, its interpretation split's
        (most genes) and then, in a second pass, its evaluation splits' (genes in the interpretation split's
        training part). Reads, never writes; takes no lock a request waits on (a request needing a fit not
        made yet makes it itself, as without the warm-up)."""
        from matplotlib.figure import Figure

        from shallowchrome.tracks.analysis.explain import fold_statistics, load_view, split_statistics
        from shallowchrome.tracks.analysis.pattern_charts import render

        started = time.perf_counter()
        render(Figure(figsize=(1, 1)), "svg")  # matplotlib's figure and SVG backend: 0.6 s of the first chart
        if self.gene_records:
            self.ws.find_gene(self.gene_records[0]["gene_id"])  # the gene index every gene page searches
        cache = self.interpretation_cache
        if "splits" not in cache:
            cache["splits"] = self.ws.splits()
        splits = cache["splits"]
        from shallowchrome.server.web.background import stopping

        for second in (False, True):
            for eid in self.epigenomes:
                if stopping.is_set():  # the interpreter is exiting
                    return
                try:
                    if ("view", eid) not in cache:
                        cache[("view", eid)] = load_view(self.ws, eid)
                    view = cache[("view", eid)]
                    if has_crossfit(view.model) and view.folds is not None:
                        for fold in ([] if second else dict.fromkeys(view.folds.tolist())):
                            fold_statistics(view, fold)
                    else:
                        interp, evaluation = model_splits(view.model)
                        for split in (evaluation if second else [interp]):
                            if split in splits:
                                begun = time.perf_counter()
                                split_statistics(view, split, splits[split])
                                if second:  # the rarer fits: leave most of the CPU to requests meanwhile
                                    time.sleep(WARMUP_YIELD * (time.perf_counter() - begun))
                except Exception:  # noqa: BLE001 - an optimisation only: the gene page says what is wrong, if any
                    log.debug("gene-page warm-up of %s failed", eid, exc_info=True)
                time.sleep(0)  # let request threads run between epigenomes
            log.debug("gene pages: warm-up pass %d done after %.1f s", 1 + second, time.perf_counter() - started)
        log.info("gene pages warmed up: %d epigenomes in %.1f s", len(self.epigenomes), time.perf_counter() - started)

    def top_mark(self, rec: dict) -> str | None:
        """The mark with the largest absolute contribution in a payload record."""
        contrib = {m: v for m, v in rec["contributions"].items() if v is not None}
        return max(contrib, key=lambda m: abs(contrib[m])) if contrib else None


def stored_fold_statistics(view) -> None:
    """Give a view the Wald statistics of its cross-fitting fold models as ``model.json`` stores them.

    The pages then show the build's statistics (``explain`` on the command line re-derives them with a
    statsmodels refit, which must match them to 1e-5 relative) instead of refitting per fold model on a
    page's first request: about 30 ms per model, 1.5 s for a gene page of 56 epigenomes right after start.
    Views whose statistics ``explain`` takes from model.json anyway (reference-model, extended-feature and
    regression epigenomes) and workspaces built before cross-fitting are left as they are."""
    from shallowchrome.model.interpret import WaldFit, is_transferred, stored_wald

    model = view.model
    if (view.folds is None or not has_crossfit(model) or is_transferred(model) or view.extended
            or (model.get("mode") or {}).get("task") == "regression"):
        return
    for record in model["crossfit"]["models"]:
        fit = stored_wald(record, view.marks)
        n = record.get("n_train")
        view.fits[("fold", str(record["fold"]))] = WaldFit(fit.params, fit.bse, fit.z, fit.pvalues, source=fit.source,
                                                           n_train=None if n is None else int(n))


def public_message(exc: Exception) -> str:
    """An error's message as the public may read it: the server's folders named by the workspace's name."""
    ws = data().ws
    text = str(exc).replace(str(ws.root), ws.root.name)
    parent = str(ws.root.parent).rstrip("/")  # "" for a workspace at the file system's root: keep every "/"
    return text.replace(parent + "/", "") if parent else text


class ServedWorkspace:
    """The workspace an app serves: one generation at a time, switched when a build publishes another.

    :meth:`current` reads the published generation's name (one ``readlink``); when it differs from
    the loaded one, the new generation is loaded (once, under a lock) and replaces the old state in one
    assignment. A request keeps the state it started with (:func:`data` pins it in ``flask.g``), so no
    response mixes two generations; requests started before the switch finish on the old files, which
    the build keeps until the next publish.
    """

    def __init__(self, root, warm: bool = False):
        self.root = Path(root).absolute()
        self.warm = warm  # warm each loaded generation's gene-page caches up in a thread (GENES_WARMUP)
        self._state = WorkspaceData(self.root)
        self._lock = threading.Lock()
        self.reloads = 0
        self.warming: threading.Thread | None = None
        self._start_warm_up(self._state)

    def _start_warm_up(self, state: WorkspaceData) -> None:
        if self.warm:
            from shallowchrome.server.web import background

            self.warming = background.start(_warm_up, state, name="shallowchrome-genes-warm-up")

    def current(self) -> WorkspaceData:
        state = self._state
        published = published_generation(self.root)
        if published == state.ws.generation:
            return state
        with self._lock:
            state = self._state
            if published_generation(self.root) != state.ws.generation:
                ws = Workspace.open(self.root).pin()  # the generation published now
                state = self._state = WorkspaceData(self.root, ws)
                self.reloads += 1
                self._start_warm_up(state)
        return state

    def __getattr__(self, name):  # the current state's attributes (ws, genome, charts ...)
        return getattr(self.current(), name)


def _warm_up(state: WorkspaceData) -> None:
    try:
        state.warm_up()
    except Exception:  # noqa: BLE001 - an optimisation only
        log.debug("gene-page warm-up failed", exc_info=True)


def data(app=None) -> WorkspaceData:
    """The workspace data of this request (or of the given app), pinned for the request's duration."""
    from flask import current_app, g, has_request_context

    served = (app or current_app).extensions[EXTENSION]
    if app is None and has_request_context():
        if "shallowchrome_state" not in g:
            g.shallowchrome_state = served.current()
        return g.shallowchrome_state
    return served.current()
