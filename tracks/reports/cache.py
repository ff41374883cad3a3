"""Report pages made on demand and cached in the workspace (for the server's ``/reports/<gene>``).

Pages live in ``WS/reports/cache/pages/NAME.VARIANT.KEY.html``: VARIANT is
``embed`` or ``noembed``; KEY is a hash of what a page depends on — the size
and modification time of workspace.json, genes.tsv, splits.tsv.gz, peaks.tsv,
hub/tracks.json, interpretation/chromhmm.json and of every epigenome's
model.json, predictions.tsv and features.tsv — with the page format, the
package version and the page options. When the workspace's models change,
the key changes: the next request makes the page anew and pages with an
older key are deleted.

Pages are generated one at a time (a lock: the work is CPU-bound, and
igv-reports and matplotlib keep process-wide state) and written atomically,
so concurrent first requests for a gene never see a partial file; the second
finds the first's page.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import asdict, replace
from pathlib import Path

from shallowchrome.tracks.io.textio import write_text_atomic
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.reports.context import ReportContext, ReportOptions
from shallowchrome.tracks.reports.page import REPORT_FORMAT, gene_page
from shallowchrome.tracks.workspace.layout import Workspace

log = logging.getLogger(__name__)

KEY_LENGTH = 16


def _stat(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def workspace_key(ws: Workspace, options: ReportOptions) -> str:
    """The hash pages depend on (see the module docstring); hex, :data:`KEY_LENGTH` characters."""
    state = {"format": REPORT_FORMAT, "version": package_version(), "options": asdict(options),
             "files": {path.relative_to(ws.root).as_posix(): _stat(path) for path in ws.dependency_files()}}
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:KEY_LENGTH]


class ReportCache:
    """Pages of one workspace made on first request; ``options`` are those of no-embed pages."""

    def __init__(self, ws: Workspace, options: ReportOptions | None = None):
        self.ws = ws
        self.options = (options or ReportOptions(embed=False)).check()
        self.folder = ws.report_cache_dir / "pages"
        self._lock = threading.Lock()
        self._contexts: dict = {}  # (key, embed) → ReportContext
        self.generated = 0  # pages made by this cache (for tests and logs)

    def variant_options(self, embed: bool) -> ReportOptions:
        links = tuple(link for link in self.options.links if not (embed and "embed=1" in link[1]))
        return replace(self.options, embed=embed, links=links)

    def path(self, name: str, embed: bool, key: str) -> Path:
        return self.folder / f"{name}.{'embed' if embed else 'noembed'}.{key}.html"

    def page(self, gene: dict, embed: bool = False) -> Path:
        """The cached page of ``gene`` (a genes.tsv record with ``row``), made now when absent or stale."""
        options = self.variant_options(embed)
        key = workspace_key(self.ws, options)
        with self._lock:
            ctx = self._context(key, embed, options)
            path = self.path(ctx.page_name(gene), embed, key)
            if path.is_file():
                return path
            page = gene_page(ctx, gene)
            write_text_atomic(path, page.html)
            self.generated += 1
            log.info("report page %s made", path.name)
            return path

    def _context(self, key: str, embed: bool, options: ReportOptions) -> ReportContext:
        ctx = self._contexts.get((key, embed))
        if ctx is None:
            stale = [k for k in self._contexts if k[1] == embed]
            for k in stale:
                del self._contexts[k]
            self._prune(key, embed)
            ctx = self._contexts[(key, embed)] = ReportContext(Workspace.open(self.ws.root), None, options)
        return ctx

    def _prune(self, key: str, embed: bool) -> None:
        """Delete this variant's pages made under another key."""
        variant = "embed" if embed else "noembed"
        pattern = re.compile(rf"^.+\.{variant}\.(?P<key>[0-9a-f]{{{KEY_LENGTH}}})\.html$")
        if not self.folder.is_dir():
            return
        for old in self.folder.iterdir():
            m = pattern.match(old.name)
            if m and m["key"] != key:
                old.unlink(missing_ok=True)
