"""HTML pages: home, gene search, gene page, igv.js browser."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from shallowchrome.model.errors import ShallowChromeError
from shallowchrome.server.web.security import public_url
from shallowchrome.server.web.state import data, public_message
from shallowchrome.tracks.hub import igv
from shallowchrome.tracks.hub.trackdb import ucsc_url
from shallowchrome.tracks.workspace.layout import HUB_TXT, SESSION_JSON, SESSION_XML, UnknownGeneError

bp = Blueprint("pages", __name__)


def hub_url() -> str:
    return public_url() + f"hub/{HUB_TXT}"


@bp.app_context_processor
def _globals():
    d = data()
    hub_exists = d.ws.hub_txt.is_file()
    return {"hub_exists": hub_exists, "genome": d.genome, "n_genes": len(d.genes)}


@bp.get("/")
def home():
    """The epigenomes, their AUROC, links to the hub, the browser and the evaluation chart."""
    d = data()
    hub = hub_url()
    return render_template("site/home.html", epigenomes=d.epigenome_summaries(), hub_url=hub,
                           ucsc_url=ucsc_url(hub, d.genome),
                           has_chart=d.ws.evaluation_chart_path.is_file(), info=d.info,
                           examples=example_genes(d), outputs=workspace_outputs(d))


def workspace_outputs(d) -> dict:
    """Links to what the workspace holds beyond the table: reports, charts, downloads (only what exists)."""
    ws = d.ws

    def files_url(path: Path) -> str | None:
        return f"/files/{ws.shown(path).relative_to(ws.root).as_posix()}" if path.is_file() else None

    charts = {"weights heatmap": files_url(ws.interpretation_path("weights.svg")),
              "ChromHMM state ranks": files_url(ws.interpretation_path("chromhmm_ranks.svg"))}
    sessions = {"IGV desktop session": ws.hub_path(SESSION_XML), "igv.js session": ws.hub_path(SESSION_JSON)}
    downloads = [{"eid": e,
                  "predictions": files_url(ws.predictions_path(e)),
                  "bigbed": (f"/hub/{ws.track_relpath(e, 'predictions')}"
                             if ws.track_file(e, "predictions").is_file() else None),
                  "model": f"/api/epigenomes/{e}/model"} for e in d.epigenomes]
    return {"reports": (ws.reports_dir / "index.html").is_file(),
            "charts": {k: v for k, v in charts.items() if v},
            "sessions": {k: f"/hub/{v.name}" for k, v in sessions.items() if v.is_file()},
            "downloads": downloads}


@bp.get("/search")
def search():
    """Gene search: one exact hit goes to the gene page; otherwise prefix matches and suggestions."""
    d = data()
    q = request.args.get("q", "").strip()
    if not q:
        return render_template("site/search.html", q=q, hits=[], suggestions=[], total=0,
                               examples=example_genes(d))
    try:
        rows = d.ws.find_gene(q)
        if len(rows) == 1:
            return redirect(url_for("pages.gene", query=q))
    except UnknownGeneError as exc:
        rows, suggestions = None, exc.suggestions
    else:
        suggestions = []
    if rows is None:
        hits, total = d.ws.suggest_genes(q, SEARCH_LIMIT), d.ws.count_genes(q)
        if len(hits):
            suggestions = []  # prefix matches answer the query: no "did you mean" under them
    else:
        hits, total = rows, len(rows)
    return render_template("site/search.html", q=q, hits=[d.gene_record(int(r)) for r in hits["row"]],
                           suggestions=suggestions, total=total, examples=[])


#: Rows shown by the search page; the page says how many more there are.
SEARCH_LIMIT = 50
#: The README's case studies, offered on the home and search pages when the workspace has them.
EXAMPLE_GENES = ("ALB", "APOA1", "ACTA1", "MYOD1")


def example_genes(d) -> list[dict]:
    """The case-study genes of this workspace (else its first genes with a symbol), as gene records."""
    found = []
    for symbol in EXAMPLE_GENES:
        try:
            found.append(d.gene_record(d.ws.find_gene_rows(symbol)[0]))
        except UnknownGeneError:
            continue
    if not found:
        found = [g for g in d.gene_records[:50] if g["symbol"]][:4]
    return found


@bp.get("/genes/<path:query>")
def gene(query):
    """Predictions of one gene across epigenomes, with contributions and p-values."""
    d = data()
    try:
        rows = d.ws.find_gene(query)
    except UnknownGeneError as exc:
        return render_template("site/search.html", q=query, hits=[], suggestions=exc.suggestions,
                               message=public_message(exc)), 404
    payloads = [d.payload(int(r)) for r in rows["row"]]
    for p in payloads:
        for rec in p["epigenomes"]:
            rec["top_mark"] = d.top_mark(rec)
    marks = list(dict.fromkeys(m for p in payloads for rec in p["epigenomes"] for m in rec["features"]))
    return render_template("site/gene.html", query=query, payloads=payloads, marks=marks)


def igv_tracks() -> list[dict]:
    """igv.js track configs per epigenome (the hub's one track list): predictions, then per mark ψ and feature."""
    d = data()
    files = [f for f in igv.from_manifest(d.ws.hub_manifest()) if (d.ws.hub_dir / f.path).is_file()]
    return igv.igv_tracks(files, lambda path: f"{request.script_root}/hub/{path}", client="browser",
                          epigenomes=[e for e in d.epigenomes])


@bp.get("/genes/<path:query>/pattern.<any(svg, png):fmt>")
def pattern_chart(query, fmt):
    """The gene's regulative-pattern chart (the paper's Figure 3 layout), SVG or PNG."""
    from shallowchrome.tracks.analysis.explain import explain
    from shallowchrome.tracks.analysis.pattern_charts import patterns_chart

    if fmt not in ("svg", "png"):
        abort(404)
    d = data()
    try:
        rows = d.ws.find_gene(query)
    except UnknownGeneError:
        abort(404)
    key = (int(rows["row"].iloc[0]), fmt)
    image = d.charts.get(key)
    if image is None:
        gene_id = rows["gene_id"].iloc[0]
        try:
            doc = explain(d.ws, [gene_id], cache=d.interpretation_cache)
        except ShallowChromeError as exc:  # e.g. a gene in the training data of every split
            return render_template("site/error.html", status=409, message=public_message(exc)), 409
        doc["explanations"] = [e for e in doc["explanations"] if e["symbol"] == rows["symbol"].iloc[0]]
        image = d.charts[key] = patterns_chart(doc, fmt)
    mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
    return current_app.response_class(image, mimetype=mimetype)


@bp.get("/browser")
def browser():
    """igv.js with the hub's prediction and contribution tracks; ``?locus=ALB`` or ``?locus=chr4:1-100``."""
    d = data()
    locus = request.args.get("locus", "").strip()
    resolved = None
    if locus and ":" not in locus:
        try:
            rows = d.ws.find_gene(locus)
            resolved = d.locus(int(rows["row"].iloc[0]), flank=int(d.info["parameters"]["window"]) * 3)
        except UnknownGeneError as exc:
            return render_template("site/search.html", q=locus, hits=[], suggestions=exc.suggestions,
                                   message=public_message(exc)), 404
    message = None
    if locus and resolved is None:
        message = d.check_locus(locus)
        resolved = None if message else locus
    if resolved is None:  # start at ALB, the README's case study, when the workspace has it
        start = d.ws.suggest_genes("ALB", 1)
        row = int(start["row"].iloc[0]) if len(start) and start["symbol"].iloc[0] == "ALB" else 0
        resolved = d.locus(row, flank=int(d.info["parameters"]["window"]) * 3)
        if message:
            message = f"{message}: showing {resolved} instead"
    genome = d.genome
    return render_template("site/browser.html", locus=resolved, tracks=igv_tracks(), genome=genome,
                           chrom_sizes_url=url_for("files.chrom_sizes", genome=genome), message=message)


@bp.get("/health")
def health():
    return {"status": "ok", "epigenomes": len(data().epigenomes)}


@bp.app_errorhandler(404)
def not_found(exc):
    if request.path.startswith("/api/"):
        return {"error": {"status": 404, "message": exc.description}}, 404
    if request.path.startswith(("/hub/", "/files/", "/static/", "/genome/")):
        return "not found\n", 404, {"Content-Type": "text/plain"}
    return render_template("site/error.html", status=404, message=exc.description), 404
