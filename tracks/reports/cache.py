"""Report pages made on demand and cached in the workspace (for the server's ``/reports/<gene>``).

Pages live in ``WS/reports/cache/pages/NAME.VARIANT.SELECTION.KEY.html``:
VARIANT is ``embed`` or ``noembed``; SELECTION a hash of the epigenomes the
page explains and shows (the default ones plus those of ``?epigenomes=``; see
:meth:`~shallowchrome.tracks.reports.context.ReportContext.shown`); KEY is a
hash of what a page depends on — the size and modification time of
workspace.json, genes.tsv, splits.tsv.gz, peaks.tsv, hub/tracks.json,
interpretation/chromhmm.json and of every epigenome's model.json,
predictions.tsv and features.tsv — with the page format, the package version
and the page options. When the workspace's models change, the key changes:
the next request makes the page anew and pages with an older key (of every
selection) are deleted.

Pages are generated one at a time (a lock: the work is CPU-bound, and
igv-reports and matplotlib keep process-wide state) and written atomically,
so concurrent first requests for a gene never see a partial file; the second
finds the first's page. At most :data:`MAX_WAITING` requests wait for a page
at a time; more raise :class:`ReportBusy` at once (the server answers 503
with Retry-After), so waiting requests never hold every server thread.

The cache is bounded: beyond :data:`MAX_PAGES` pages or :data:`MAX_BYTES`
the least recently made pages are deleted. Pages of an older key are
deleted only once a page of the new key was made, so a workspace file gone
missing (a rebuild in progress) does not empty the cache.

The embedded and no-embed variants share one :class:`ReportContext` per
state of the workspace (its models, explanations and Wald fits, checked
copies). :func:`warm_up` makes that context ahead of the first request (the
server starts it in a thread): the imports (statsmodels, matplotlib,
igv-reports), the splits, the best-modelled epigenomes' explanation of one
gene, so that the first page costs about what later ones do.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import asdict, replace
from pathlib import Path

from shallowchrome.model.errors import ShallowChromeError
from shallowchrome.tracks.io.textio import write_text_atomic
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.reports.context import ReportContext, ReportOptions
from shallowchrome.tracks.reports.page import REPORT_FORMAT, chart_svg, gene_page
from shallowchrome.tracks.reports.regions import fetch_lines
from shallowchrome.tracks.workspace.layout import Workspace

log = logging.getLogger(__name__)

KEY_LENGTH = 16
SELECTION_LENGTH = 10
#: Requests that may wait for a page being made; more are told to retry.
MAX_WAITING = 2
#: Requests that may wait for the same page while it is being made.
MAX_FOLLOWERS = 4
MAX_PAGES, MAX_BYTES = 2000, 512 * 1024 * 1024
RETRY_AFTER = 2


class ReportBusy(ShallowChromeError):
    """Too many pages are being made at once; retry in a moment."""


class WorkspaceIncomplete(ShallowChromeError):
    """A file the pages need is missing (e.g. the workspace is being rebuilt)."""


def _stat(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _files_state(ws: Workspace) -> dict:
    return {path.relative_to(ws.root).as_posix(): _stat(path) for path in ws.dependency_files()}


def workspace_key(ws: Workspace, options: ReportOptions) -> str:
    """The hash pages depend on (see the module docstring); hex, :data:`KEY_LENGTH` characters."""
    state = {"format": REPORT_FORMAT, "version": package_version(), "options": asdict(options),
             "files": _files_state(ws)}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]


def data_key(ws: Workspace) -> str:
    """The hash of the workspace files alone (a context serves every page variant of them)."""
    state = {"data": str(ws.data), "files": _files_state(ws)}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]


#: Contexts made ahead by :func:`warm_up`: (root, generation folder) → (data key, context), and the
#: warm-ups under way (the same key → Event set when done).
_WARM: dict = {}
_WARMING: dict = {}
_WARM_LOCK = threading.Lock()
WARM_UP_WAIT = 60


def warm_up(ws: Workspace) -> ReportContext | None:
    """Make the report context of ``ws`` ahead of its first page (reads only, writes nothing): imports,
    models, splits and the best-modelled epigenomes' explanation of the first gene, whose Wald fits a
    page reuses. Returns the context (None when another warm-up of it is under way)."""
    from shallowchrome.tracks.analysis.explain import explain
    from shallowchrome.tracks.reports import igv as _igv  # noqa: F401 - imported for its cost, once

    ws = ws if ws.pinned is not None else ws.pin()
    where = (str(ws.root), str(ws.data))
    with _WARM_LOCK:
        if where in _WARMING:
            return None
        done = _WARMING[where] = threading.Event()
    try:
        import igv_reports.report  # noqa: F401
        import statsmodels.api  # noqa: F401

        from shallowchrome.tracks.analysis import pattern_charts  # noqa: F401 - matplotlib

        key = data_key(ws)
        ctx = ReportContext(ws, None, ReportOptions())
        ctx.explain_cache["splits"] = ws.splits()
        genes = ws.genes()
        if len(genes):
            gene = genes.iloc[0].to_dict()
            try:
                doc = explain(ws, [gene["gene_id"]], ctx.default_shown(), cache=ctx.explain_cache)
                chart_svg(doc["explanations"])  # matplotlib's first figure (fonts, backends) costs ~1 s
            except ShallowChromeError:
                pass  # a gene no model explains without leakage: the views are loaded all the same
            for eid in ctx.eids:  # open the prediction items' indexes (~10 ms each), shared by the threads
                ctx.prediction_item(eid, gene)
        missing = {c.copy for c in ctx.check_inputs()}
        for copy in ctx.input_copies():  # open the peak copies' indexes too
            if copy.copy not in missing:
                fetch_lines(copy.copy, "chr1", 0, 1)
        with _WARM_LOCK:
            _WARM[where] = (key, ctx)
        return ctx
    finally:
        with _WARM_LOCK:
            _WARMING.pop(where, None)
        done.set()


def _warmed(ws: Workspace, key: str) -> ReportContext | None:
    """The context :func:`warm_up` made of ``ws`` in this state (waiting for a warm-up under way), or None."""
    where = (str(ws.root), str(ws.data))
    with _WARM_LOCK:
        waiting = _WARMING.get(where)
    if waiting is not None:
        waiting.wait(WARM_UP_WAIT)
    with _WARM_LOCK:
        found = _WARM.pop(where, None)
    return found[1] if found is not None and found[0] == key else None


def selection_tag(shown) -> str:
    """The file-name tag of a page's selection: a hash of the shown epigenomes, in order."""
    return hashlib.sha256("\0".join(shown).encode()).hexdigest()[:SELECTION_LENGTH]


class ReportCache:
    """Pages of one workspace made on first request; ``options`` are those of no-embed pages."""

    def __init__(self, ws: Workspace, options: ReportOptions | None = None):
        self.ws = ws
        self.options = (options or ReportOptions(embed=False)).check()
        self.folder = ws.report_cache_dir / "pages"
        self._lock = threading.Lock()
        self._generate = threading.Lock()  # one page at a time (process-wide state of igv-reports, matplotlib)
        self._waiting = threading.BoundedSemaphore(MAX_WAITING)  # requests making (or queued to make) a page
        self._followers = threading.BoundedSemaphore(MAX_FOLLOWERS)  # requests waiting for a page being made
        self._making: dict = {}  # page path → Event set when it is made (or failed)
        self.max_pages, self.max_bytes = MAX_PAGES, MAX_BYTES
        self._contexts: dict = {}  # (key, embed) → ReportContext
        self._bases: dict = {}  # data key → the context the variants share
        self.generated = 0  # pages made by this cache (for tests and logs)

    def variant_options(self, embed: bool) -> ReportOptions:
        links = tuple(link for link in self.options.links if not (embed and "embed=1" in link[1]))
        return replace(self.options, embed=embed, links=links,
                       selection_links=self.options.selection_links and not embed)

    def path(self, name: str, embed: bool, key: str, shown=()) -> Path:
        return self.folder / f"{name}.{'embed' if embed else 'noembed'}.{selection_tag(shown)}.{key}.html"

    def page(self, gene: dict, embed: bool = False, ws: Workspace | None = None, shown=None) -> Path:
        """The cached page of ``gene`` (a genes.tsv record with ``row``), made now when absent or stale.

        ``ws``: the workspace generation the request reads (default the one the cache was made with);
        ``shown``: epigenomes to explain and show besides the default ones (unknown ids, or too many, are
        an :class:`~shallowchrome.model.errors.InputError`)."""
        ws = ws or self.ws
        options = self.variant_options(embed)
        key = workspace_key(ws, options)
        with self._lock:
            ctx = self._context(key, embed, options, ws)
        selection = ctx.shown(shown)
        path = self.path(ctx.page_name(gene), embed, key, selection)
        if path.is_file():
            return path
        with self._lock:  # one decision per request: follow the page's maker, or become it
            making = self._making.get(path)
            if making is None:
                if not self._waiting.acquire(blocking=False):
                    raise ReportBusy(f"{MAX_WAITING} report pages are being made", fix=f"retry in {RETRY_AFTER} s")
                done = self._making[path] = threading.Event()
        if making is not None:  # the same page is being made: wait for it (a bounded number of requests)
            if not self._followers.acquire(blocking=False):
                raise ReportBusy(f"the page of {gene.get('symbol') or gene['gene_id']} is being made",
                                 fix=f"retry in {RETRY_AFTER} s")
            try:
                making.wait(timeout=120)
            finally:
                self._followers.release()
            if path.is_file():
                return path
            raise ReportBusy(f"the page of {gene.get('symbol') or gene['gene_id']} could not be made just now",
                             fix=f"retry in {RETRY_AFTER} s")
        try:
            with self._generate:
                if path.is_file():  # made while this request waited
                    return path
                try:
                    page = gene_page(ctx, gene, selection)
                except FileNotFoundError as exc:
                    raise WorkspaceIncomplete(f"the workspace lacks {Path(exc.filename or '?').name}",
                                              fix="wait for the rebuild to finish, or rebuild it") from None
                write_text_atomic(path, page.html)
                self.generated += 1
                log.info("report page %s made", path.name)
                self._prune(key, embed)
                self._bound()
                return path
        finally:
            with self._lock:
                del self._making[path]
            done.set()
            self._waiting.release()

    def _context(self, key: str, embed: bool, options: ReportOptions, ws: Workspace) -> ReportContext:
        ctx = self._contexts.get((key, embed))
        if ctx is None:
            stale = [k for k in self._contexts if k[1] == embed]
            for k in stale:
                del self._contexts[k]
            try:
                ctx = self._base(ws).with_options(options)
            except FileNotFoundError as exc:
                raise WorkspaceIncomplete(f"the workspace lacks {Path(exc.filename or '?').name}",
                                          fix="wait for the rebuild to finish, or rebuild it") from None
            self._contexts[(key, embed)] = ctx
        return ctx

    def _base(self, ws: Workspace) -> ReportContext:
        """The context of the workspace's present state, shared by the page variants (made once)."""
        ws = ws if ws.pinned is not None else ws.pin()
        key = data_key(ws)
        base = self._bases.get(key)
        if base is None:
            base = _warmed(ws, key) or ReportContext(ws, None, self.options)
            self._bases = {key: base}  # the contexts of older states go
        return base

    def _bound(self) -> None:
        """Delete the least recently made pages beyond :data:`MAX_PAGES` / :data:`MAX_BYTES`."""
        pages = []
        for p in self.folder.glob("*.html"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            pages.append((st.st_mtime_ns, st.st_size, p))
        pages.sort(reverse=True)
        total = 0
        for n, (_, size, p) in enumerate(pages):
            total += size
            if n >= self.max_pages or total > self.max_bytes:
                p.unlink(missing_ok=True)

    def _prune(self, key: str, embed: bool) -> None:
        """Delete this variant's pages made under another key."""
        variant = "embed" if embed else "noembed"
        pattern = re.compile(rf"^.+\.{variant}\.(?:[0-9a-f]{{{SELECTION_LENGTH}}}\.)?"
                             rf"(?P<key>[0-9a-f]{{{KEY_LENGTH}}})\.html$")
        if not self.folder.is_dir():
            return
        for old in self.folder.iterdir():
            m = pattern.match(old.name)
            if m and m["key"] != key:
                old.unlink(missing_ok=True)
