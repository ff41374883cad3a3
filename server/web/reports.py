"""``/reports/<gene>``: the gene's report page, made on first request and cached in the workspace.

Served without igv.js inlined (it loads ``/static/igv/igv.min.js``, which the
browser caches across pages: ~0.15 MB per page instead of ~1.6 MB);
``?embed=1`` gives the self-contained page (to save or e-mail). A page explains
and shows the best-modelled epigenomes; ``?epigenomes=E066,E071`` (or the
parameter repeated) adds others, at most 16 in all (an unknown id, or more,
answers 400 with one line saying so). Pages are
cached under ``WS/reports/cache/`` (the one place the server writes) and
regenerated when the workspace's models change; see
:mod:`shallowchrome.tracks.reports.cache`. When the app is made, a thread
warms the report context up (imports, models, splits; it reads, never
writes), so that the first page takes about as long as later ones;
``create_app(ws, {"REPORTS_WARMUP": False})`` leaves it out. An unknown gene answers 404 with
suggestions; a symbol naming several genes lists them.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for

from shallowchrome.model.errors import ShallowChromeError
from shallowchrome.server.web import background
from shallowchrome.server.web.state import data, public_message
from shallowchrome.tracks.reports.cache import RETRY_AFTER, ReportBusy, ReportCache, WorkspaceIncomplete, warm_up
from shallowchrome.tracks.reports.context import ReportOptions, SelectionError
from shallowchrome.tracks.workspace.layout import UnknownGeneError

bp = Blueprint("reports", __name__)
EXTENSION = "shallowchrome.reports"
#: App config key: warm the report context up when the app is made (default on).
WARMUP = "REPORTS_WARMUP"
log = logging.getLogger(__name__)


@bp.record_once
def _start_warm_up(state) -> None:
    app = state.app
    if app.config.get(WARMUP, True):
        background.start(_warm_up, app, name="shallowchrome-reports-warm-up")


def _warm_up(app) -> None:
    try:
        warm_up(data(app).ws)
    except Exception:  # noqa: BLE001 - an optimisation only: the first page says what is wrong, if anything
        log.debug("report warm-up failed", exc_info=True)


def report_cache() -> ReportCache:
    """The app's page cache (made on first use; its links and igv.js URL follow the app's URL prefix)."""
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        root = request.script_root
        links = (("gene page", f"{root}/genes/{{gene_id}}"), ("browser", f"{root}/browser?locus={{gene_id}}"),
                 ("self-contained copy", f"{root}/reports/{{gene_id}}?embed=1{{selection}}"))
        options = ReportOptions(embed=False, igv_js_url=url_for("static", filename="igv/igv.min.js"), links=links,
                                selection_links=True)
        cache = current_app.extensions.setdefault(EXTENSION, ReportCache(data().ws, options))
    return cache


@bp.get("/reports/")
@bp.get("/reports/index.html")
def index():
    """The index of the pages made by ``shallowchrome report`` (WS/reports/index.html)."""
    if not (data().ws.reports_dir / "index.html").is_file():
        return render_template("site/error.html", status=404,
                               message="no report pages were made for this workspace; fix: run "
                                       "`shallowchrome report WORKSPACE --genes ...`, or open /reports/GENE"), 404
    return redirect("/files/reports/index.html")


@bp.get("/reports/<path:query>")
def report(query):
    """The report page of a gene (symbol or Ensembl id); ``?embed=1`` for the self-contained variant."""
    d = data()
    try:
        rows = d.ws.find_gene(query)
    except UnknownGeneError as exc:
        return render_template("site/report_missing.html", q=query, message=public_message(exc), suggestions=exc.suggestions,
                               hits=[]), 404
    genes = rows.drop_duplicates("gene_id").to_dict("records")
    if len(genes) > 1:
        return render_template("site/report_missing.html", q=query, message=None, suggestions=[],
                               hits=[d.gene_record(int(g["row"])) for g in genes])
    embed = request.args.get("embed", "").lower() in ("1", "true", "yes")
    shown = [e.strip() for value in request.args.getlist("epigenomes") for e in value.split(",") if e.strip()]
    try:
        path = report_cache().page(genes[0], embed=embed, ws=d.ws, shown=shown)
    except SelectionError as exc:
        return render_template("site/error.html", status=400, message=public_message(exc)), 400
    except ReportBusy as exc:
        html = render_template("site/error.html", status=503, message=public_message(exc), retry=RETRY_AFTER)
        return html, 503, {"Retry-After": str(RETRY_AFTER)}
    except WorkspaceIncomplete as exc:
        return render_template("site/error.html", status=503, message=public_message(exc), retry=RETRY_AFTER), 503, \
            {"Retry-After": str(RETRY_AFTER)}
    except ShallowChromeError as exc:
        return render_template("site/error.html", status=409, message=public_message(exc)), 409
    except OSError as exc:
        message = (f"cannot write the report cache ({exc.strerror or exc}); fix: make WORKSPACE/reports/cache "
                   "writable for the server, or make pages with `shallowchrome report`")
        return render_template("site/error.html", status=500, message=message), 500
    response = send_file(path, mimetype="text/html", conditional=True, etag=True, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
