"""HTML pages: home, gene search, gene page, igv.js browser."""
from __future__ import annotations

import weakref
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from shallowchrome.model.errors import ModelError, ShallowChromeError
from shallowchrome.server.web.security import public_url
from shallowchrome.server.web.state import data, public_message
from shallowchrome.tracks.analysis.charts import grouped_epigenomes
from shallowchrome.tracks.hub import igv
from shallowchrome.tracks.hub.trackdb import ucsc_url
from shallowchrome.tracks.workspace.layout import HUB_TXT, SESSION_JSON, SESSION_XML, UnknownGeneError

bp = Blueprint("pages", __name__)


@bp.record_once
def _compile_gene_page(state) -> None:
    """With GENES_WARMUP (default on; see :meth:`~shallowchrome.server.web.state.WorkspaceData.warm_up`),
    compile the gene page's template in a thread before the first request needs it."""
    from shallowchrome.server.web import background
    from shallowchrome.server.web.state import GENES_WARMUP

    app = state.app
    if app.config.get(GENES_WARMUP, True):
        background.start(_compile, app, "site/gene.html", name="shallowchrome-template-warm-up")


def _compile(app, name: str) -> None:
    try:
        app.jinja_env.get_template(name)
    except Exception:  # noqa: BLE001 - an optimisation only: the first page says what is wrong, if anything
        pass


def hub_url() -> str:
    return public_url() + f"hub/{HUB_TXT}"


@bp.app_context_processor
def _globals():
    d = data()
    hub_exists = d.ws.hub_txt.is_file()
    return {"hub_exists": hub_exists, "genome": d.genome, "n_genes": len(d.genes)}


@bp.get("/")
def home():
    """The epigenomes by Roadmap group (a sortable table: AUROC, files), links to the hub, the browser and
    the evaluation chart."""
    d = data()
    hub = hub_url()
    outputs = workspace_outputs(d)
    downloads = {f["eid"]: f for f in outputs["downloads"]}
    summaries = {e["id"]: e for e in d.epigenome_summaries()}
    groups = grouped_epigenomes(list(summaries), {e: d.recorded(e) for e in summaries})
    for g in groups:
        g["rows"] = [{**summaries[info["id"]], "name": info["name"], "group": g["group"], "color": info["color"],
                      "group_rank": g["rank"], "files": downloads.get(info["id"])} for info in g["epigenomes"]]
    return render_template("site/home.html", groups=groups, n_epigenomes=len(summaries),
                           n_fitted=sum(s["status"] == "ok" for s in summaries.values()), hub_url=hub,
                           ucsc_url=ucsc_url(hub, d.genome),
                           has_chart=d.ws.evaluation_chart_path.is_file(), info=d.info,
                           examples=example_genes(d), outputs=outputs, transfer=transfer_section(d),
                           compare_form=compare_form(d))


def compare_form(d) -> dict | None:
    """The home page's "compare two epigenomes" form: the pickers' options and the preselected pair (the
    demo's liver vs psoas muscle, E066 vs E100, when the workspace has both); None with fewer than two."""
    from shallowchrome.server.web.compare import choices, default_pair

    if len(d.epigenomes) < 2:
        return None
    a, b = default_pair(d.epigenomes)
    return {"choices": choices(d), "a": a, "b": b}


def transfer_section(d) -> dict | None:
    """The home page's cross-epigenome section: the evaluation's headline numbers and the epigenomes predicted
    without expression data (None when the workspace has neither)."""
    from shallowchrome.model.transfer import summary
    from shallowchrome.tracks.workspace.transfer import read_evaluation

    table = read_evaluation(d.ws)
    moved = [{"id": e, "note": r["transfer"].get("note", "")} for e, r in d.info.get("epigenomes", {}).items()
             if isinstance(r.get("transfer"), dict)]
    if (table is None or table.empty) and not moved:
        return None
    return {"summary": summary(table) if table is not None and not table.empty else None, "moved": moved,
            "has_chart": d.ws.transfer_chart_path.is_file()}


def workspace_outputs(d) -> dict:
    """Links to what the workspace holds beyond the table: reports, charts, downloads (only what exists)."""
    ws = d.ws

    def files_url(path: Path) -> str | None:
        return f"/files/{ws.shown(path).relative_to(ws.root).as_posix()}" if path.is_file() else None

    charts = {"weights heatmap": files_url(ws.interpretation_path("weights.svg")),
              "ChromHMM state ranks": files_url(ws.interpretation_path("chromhmm_ranks.svg"))}
    sessions = {"IGV desktop session": ws.hub_path(SESSION_XML), "igv.js session": ws.hub_path(SESSION_JSON)}
    downloads = []
    for e in d.epigenomes:
        table, track = ws.predictions_path(e), ws.track_file(e, "predictions")
        downloads.append({"eid": e, "predictions": files_url(table), "predictions_name": table.name,
                          "bigbed": f"/hub/{ws.track_relpath(e, 'predictions')}" if track.is_file() else None,
                          "bigbed_name": track.name, "model": f"/api/epigenomes/{e}/model"})
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


#: Figure-3 panels a gene page draws at most (each costs about 0.1 s to draw), and per row of its chart.
MAX_BARS, BAR_COLUMNS = 12, 3


def epigenome_groups(d) -> list[dict]:
    """The workspace's fitted epigenomes by Roadmap group (see :func:`grouped_epigenomes`)."""
    return grouped_epigenomes(d.epigenomes, {e: d.recorded(e) for e in d.epigenomes})


def requested_bars(d) -> tuple[list[str] | None, list[str], int]:
    """``?epigenomes=E066,E100`` (commas, or the parameter repeated as a form sends it; ids in any case):
    (the fitted epigenomes asked for, in the order given, at most :data:`MAX_BARS`, or None when the
    request names none; the ids that are not fitted epigenomes of this workspace; how many were left out)."""
    asked = [v.strip() for arg in request.args.getlist("epigenomes") for v in arg.split(",") if v.strip()]
    if not asked:
        return None, [], 0
    known = {e.casefold(): e for e in d.epigenomes}
    chosen = list(dict.fromkeys(known[v.casefold()] for v in asked if v.casefold() in known))
    unknown = list(dict.fromkeys(v for v in asked if v.casefold() not in known))
    return chosen[:MAX_BARS], unknown, max(0, len(chosen) - MAX_BARS)


def top_mark(d, rec: dict) -> str | None:
    """The mark contributing most to a prediction (None when no mark contributes: no peak at all)."""
    mark = d.top_mark(rec)
    return mark if mark is not None and rec["contributions"].get(mark) else None


def gene_explanation(d, gene_id: str) -> tuple[dict, dict]:
    """(the leak-free explanations of one gene in the epigenomes that have one, {epigenome: why the others
    have none}); statsmodels fits are cached by the app. Raises the first reason when no epigenome has one."""
    from shallowchrome.tracks.analysis.explain import explain

    try:
        doc = explain(d.ws, [gene_id], cache=d.interpretation_cache)
        return {**doc, "explanations": [e for e in doc["explanations"] if e["gene_id"] == gene_id]}, {}
    except ModelError:  # not every epigenome can explain it: ask each
        pass
    found, missing, significance = [], {}, None
    for eid in d.epigenomes:
        try:
            doc = explain(d.ws, [gene_id], [eid], cache=d.interpretation_cache)
        except ModelError as exc:
            missing[eid] = exc
        else:
            significance = doc["significance"]
            found += [e for e in doc["explanations"] if e["gene_id"] == gene_id]
    if not found:
        raise next(iter(missing.values()))
    return ({"significance": significance, "explanations": found},
            {e: public_message(exc) for e, exc in missing.items()})


@bp.get("/genes/<path:query>")
def gene(query):
    """One gene across epigenomes: its regulative pattern as a heatmap grouped by Roadmap group, the
    Figure-3 bars of a few epigenomes (``?epigenomes=E066,E100``), "why ON in A but OFF in B?"
    (``?a=E066&b=E100``, :func:`why_section`), and the predictions table."""
    from shallowchrome.tracks.analysis.pattern_charts import default_bars, pattern_heatmap

    d = data()
    try:
        rows = d.ws.find_gene(query)
    except UnknownGeneError as exc:
        return render_template("site/search.html", q=query, hits=[], suggestions=exc.suggestions,
                               message=public_message(exc)), 404
    groups = epigenome_groups(d)
    asked, unknown, left_out = requested_bars(d)
    pages = []
    for r in rows["row"]:
        payload = d.payload(int(r))
        gene_id = payload["gene"]["gene_id"]
        by_eid = {rec["epigenome"]: rec for rec in payload["epigenomes"]}
        page = {"gene": payload["gene"], "heatmap": None, "error": None, "bars": [], "bars_default": True,
                "bars_url": None, "unexplained": [],
                "groups": [{"group": g["group"], "color": g["color"], "rank": g["rank"],
                            "rows": [{**by_eid[i["id"]], "name": i["name"], "top_mark": top_mark(d, by_eid[i["id"]])}
                                     for i in g["epigenomes"] if i["id"] in by_eid]} for g in groups]}
        try:
            page["heatmap"] = pattern_heatmap(*gene_explanation(d, gene_id), groups=groups)
        except ShallowChromeError as exc:  # e.g. a gene in the training data of every split
            page["error"] = public_message(exc)
        else:
            default = default_bars(page["heatmap"])
            explained = {r["epigenome"] for g in page["heatmap"]["groups"] for r in g["rows"] if not r["note"]}
            page["bars"] = [e for e in asked if e in explained] if asked else default
            page["bars_default"] = not asked
            page["unexplained"] = [e for e in asked or [] if e not in explained]
            extra = {"epigenomes": ",".join(page["bars"])} if asked and page["bars"] != default else {}
            if page["bars"]:
                page["bars_url"] = url_for("pages.pattern_chart", query=gene_id, fmt="svg", **extra)
        page["why"] = why_section(d, int(r), by_eid)
        pages.append(page)
    marks = list(dict.fromkeys(m for p in pages for g in p["groups"] for rec in g["rows"] for m in rec["features"]))
    return render_template("site/gene.html", query=query, pages=pages, marks=marks, unknown=unknown,
                           left_out=left_out, max_bars=MAX_BARS)


def why_section(d, row: int, by_eid: dict) -> dict | None:
    """The gene page's "why ON in A but OFF in B?": the gene's attribution (Δlogit = Σ Δψ + Δbias, read from
    the two epigenomes' predictions.tsv, :func:`~shallowchrome.tracks.analysis.compare.gene_attribution`)
    between ``?a=`` and ``?b=``, by default the epigenomes where the gene's P(ON) is highest and lowest
    (:func:`~shallowchrome.tracks.analysis.compare.extreme_pair`). A bad ``a``/``b`` is said in the section,
    which then shows the default pair. None with fewer than two epigenomes with a prediction."""
    from shallowchrome.server.web.compare import CompareError, choices, comparison
    from shallowchrome.tracks.analysis.compare import extreme_pair, gene_attribution

    default = extreme_pair({e: rec.get("probability") for e, rec in by_eid.items()})
    if default is None:
        return None
    asked = request.args.get("a", "").strip(), request.args.get("b", "").strip()
    pair, error = default, None
    if any(asked):
        pair = (asked[0] or default[0], asked[1] or (default[1] if default[1] != asked[0] else default[0]))
    try:
        c = comparison(*pair)
    except CompareError as exc:
        if pair == default:  # the workspace's files disagree: say so, the rest of the page stands
            return {"error": exc.message, "record": None, "choices": choices(d), "a": pair[0], "b": pair[1]}
        error, pair = exc.message, default
        try:
            c = comparison(*pair)
        except CompareError as again:
            return {"error": again.message, "record": None, "choices": choices(d), "a": pair[0], "b": pair[1]}
    (record,) = gene_attribution(c, row)
    return {"error": error, "record": record, "c": c, "a": c.a.eid, "b": c.b.eid, "choices": choices(d),
            "default": (c.a.eid, c.b.eid) == default, "notes": [c.term_note(t) for t in c.terms if c.term_note(t)],
            "url": url_for("compare.page", a=c.a.eid, b=c.b.eid)}


def igv_tracks(epigenomes=None, files=None) -> list[dict]:
    """igv.js configs of ``epigenomes``' tracks (default: every epigenome's), the hub's one track list:
    per epigenome predictions, then per mark ψ and feature. Every wig track is on its mark's shared
    scale (:func:`~shallowchrome.tracks.hub.igv.scale_group`), carries its epigenome
    (``shallowchromeEpigenome``: what the page adds and removes) and an igv.js ``order`` from the
    epigenome's place in the picker (:func:`browser_files`' order), so tracks added later land where
    they belong."""
    d = data()
    files = browser_files(d) if files is None else files
    chosen = list(files) if epigenomes is None else [e for e in epigenomes if e in files]
    place = {e: i for i, e in enumerate(files)}
    configs = []
    for eid in chosen:
        tracks = igv.igv_tracks(files[eid], lambda path: f"{request.script_root}/hub/{path}", client="browser",
                                epigenomes=[eid], shared_scale=True)
        for k, config in enumerate(tracks):
            config.update(order=TRACK_ORDER + TRACKS_PER_EPIGENOME * place[eid] + k, shallowchromeEpigenome=eid)
        configs += tracks
    return configs


@bp.get("/genes/<path:query>/pattern.<any(svg, png):fmt>")
def pattern_chart(query, fmt):
    """The gene's regulative-pattern chart (the paper's Figure 3 layout), SVG or PNG, for the epigenomes of
    ``?epigenomes=E066,E100`` (default: the gene page's default few, see ``default_bars``)."""
    from shallowchrome.tracks.analysis.pattern_charts import default_bars, pattern_heatmap, patterns_chart

    if fmt not in ("svg", "png"):
        abort(404)
    d = data()
    try:
        rows = d.ws.find_gene(query)
    except UnknownGeneError:
        abort(404)
    asked, unknown, _ = requested_bars(d)
    if unknown:
        abort(404, f"no model for epigenome(s) {', '.join(unknown)} in this workspace")
    key = (int(rows["row"].iloc[0]), fmt, tuple(asked) if asked else None)
    image = d.charts.get(key)
    if image is None:
        gene_id = rows["gene_id"].iloc[0]
        try:
            doc, missing = gene_explanation(d, gene_id)
        except ShallowChromeError as exc:  # e.g. a gene in the training data of every split
            return render_template("site/error.html", status=409, message=public_message(exc)), 409
        chosen = asked or default_bars(pattern_heatmap(doc, missing, groups=epigenome_groups(d)))
        if asked and any(e in missing for e in asked):
            return render_template("site/error.html", status=409,
                                   message="; ".join(missing[e] for e in asked if e in missing)), 409
        by_eid = {e["epigenome"]: e for e in doc["explanations"]}
        doc = {**doc, "explanations": [by_eid[e] for e in chosen if e in by_eid]}
        image = d.charts[key] = patterns_chart(doc, fmt, columns=BAR_COLUMNS)
    mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
    return current_app.response_class(image, mimetype=mimetype)


@bp.get("/browser")
def browser():
    """igv.js with the hub's prediction and contribution tracks of a few epigenomes and an epigenome picker.

    ``?locus=ALB`` or ``?locus=chr4:1-100``; ``?epigenomes=E066,E100`` (default: the
    :data:`DEFAULT_EPIGENOMES` best-modelled by mean test AUROC, within :data:`TRACK_BUDGET` tracks).
    The page keeps both in the address as the user picks epigenomes and moves (``static/browser.js``)."""
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
    manifest = d.ws.hub_manifest()
    files = browser_files(d, manifest)
    choices = epigenome_choices(d, files)
    default = default_selection(choices)
    asked = ",".join(request.args.getlist("epigenomes")) if "epigenomes" in request.args else None
    selected, selection_message = browser_selection(d, choices, default, asked)
    genes = gene_track(d, manifest) if files else None
    tracks = ([genes] if genes else []) + igv_tracks(selected, files)
    return render_template("site/browser.html", locus=resolved, tracks=tracks, genome=genome,
                           chrom_sizes_url=url_for("files.chrom_sizes", genome=genome), message=message,
                           groups=choice_groups(choices), n_choices=len(choices), selected=selected,
                           default=default, selection_message=selection_message, legend=browser_legend(d),
                           track_budget=TRACK_BUDGET)


#: Epigenomes the browser page opens with, at most (the best by mean test AUROC; 4 x 5 tracks + the genes:
#: igv.js settles in about 1.4 s at 56 epigenomes, against 1.4-2.5 s with 6) ...
DEFAULT_EPIGENOMES = 4
#: ... and igv.js tracks at most at first load (the gene track included), whatever the workspace's size.
TRACK_BUDGET = 60
#: igv.js ``order`` of the gene track, of the first epigenome's first track, and the step per epigenome.
GENE_TRACK_ORDER, TRACK_ORDER, TRACKS_PER_EPIGENOME = 1, 10, 1000
#: Epigenome ids of the address named in the page's message, at most.
NAMED_IDS = 8
#: Genes answered by one /browser/genes.json request, at most (igv.js asks per region in view).
MAX_GENE_FEATURES = 5000
GENE_VISIBILITY_WINDOW = 20_000_000


def browser_files(d, manifest=None) -> dict:
    """Epigenome → its shown track files (:class:`~shallowchrome.tracks.hub.igv.TrackFile`) that exist,
    for the fitted epigenomes of the hub manifest, in the pages' Roadmap-group order."""
    records = igv.from_manifest(manifest if manifest is not None else d.ws.hub_manifest())
    by_epigenome: dict = {}
    for f in records:
        if f.kind in igv.SHOWN_KINDS:
            by_epigenome.setdefault(f.epigenome, []).append(f)
    hub = d.ws.hub_dir
    out = {}
    for eid in d.epigenomes:
        present = [f for f in by_epigenome.get(eid, []) if (hub / f.path).is_file()]
        if present:
            out[eid] = present
    order = [info["id"] for g in grouped_epigenomes(list(out), {e: d.recorded(e) for e in out})
             for info in g["epigenomes"]]
    return {e: out[e] for e in order}


def epigenome_choices(d, files: dict) -> list[dict]:
    """The picker's epigenomes (those with tracks) in the pages' Roadmap-group order
    (:func:`grouped_epigenomes`): id, standard name, group and its colour, mean test AUROC, track count."""
    import re

    from shallowchrome.model.estimator import finite_or_none

    ev = d.evaluation
    auroc = dict(zip(ev["epigenome"].astype(str), ev["auroc_mean"])) if "auroc_mean" in ev else {}
    out = []
    for g in grouped_epigenomes(list(files), {e: d.recorded(e) for e in files}):
        for info in g["epigenomes"]:
            colour = info["color"] if re.fullmatch(r"#[0-9A-Fa-f]{6}", info["color"] or "") else "#999999"
            out.append({"id": info["id"], "name": info["name"], "group": g["group"], "color": colour,
                        "auroc": finite_or_none(auroc.get(info["id"])), "tracks": len(files[info["id"]])})
    return out


def choice_groups(choices: list[dict]) -> list[dict]:
    """The picker's groups, in order, each with its epigenomes."""
    groups: list[dict] = []
    for c in choices:
        if not groups or groups[-1]["name"] != c["group"]:
            groups.append({"name": c["group"], "color": c["color"], "epigenomes": []})
        groups[-1]["epigenomes"].append(c)
    return groups


def default_selection(choices: list[dict]) -> list[str]:
    """The epigenomes the page opens with: the best by mean test AUROC (ties and unevaluated ones in
    workspace order, after the evaluated), at most :data:`DEFAULT_EPIGENOMES` and, after the first,
    only while their tracks fit :data:`TRACK_BUDGET` (with the gene track); in the picker's order."""
    ranked = sorted(choices, key=lambda c: (c["auroc"] is None, -(c["auroc"] or 0.0)))  # stable
    chosen, budget = set(), TRACK_BUDGET - 1
    for c in ranked:
        if len(chosen) == DEFAULT_EPIGENOMES:
            break
        if chosen and c["tracks"] > budget:
            continue
        chosen.add(c["id"])
        budget -= c["tracks"]
    return [c["id"] for c in choices if c["id"] in chosen]


def browser_selection(d, choices: list[dict], default: list[str], raw: str | None) -> tuple[list[str], str | None]:
    """The epigenomes ``?epigenomes=A,B`` (``raw``: the parameter's values joined by commas) asks for
    (ids in any case; in the picker's order; absent:
    ``default``; empty: none) and a message naming the ids that cannot be shown and why (None when every
    id can)."""
    if raw is None:
        return default, None
    known = {c["id"].casefold(): c["id"] for c in choices}
    asked = list(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    wanted = {known[e.casefold()] for e in asked if e.casefold() in known}
    chosen = [c["id"] for c in choices if c["id"] in wanted]
    bad = [e for e in asked if e.casefold() not in known]
    if not bad:
        return chosen, None
    from shallowchrome.tracks.io.names import is_name

    status = d.info.get("epigenomes", {})
    reasons = []
    for eid in bad[:NAMED_IDS]:
        shown = repr(eid if len(eid) <= 40 else eid[:40] + "…")
        if not is_name(eid):
            reasons.append(f"{shown} is not an epigenome id")
        elif eid in status and status[eid].get("status") != "ok":
            reason = status[eid].get("reason") or "skipped"
            reasons.append(f"{shown} has no model ({reason})")
        elif eid in d.epigenomes:
            reasons.append(f"{shown} has no tracks in the hub (run shallowchrome tracks WORKSPACE)")
        else:
            reasons.append(f"{shown} is not an epigenome of this workspace")
    more = f"; and {len(bad) - NAMED_IDS} more" if len(bad) > NAMED_IDS else ""
    message = f"Not shown: {'; '.join(reasons)}{more}."
    if not chosen:
        chosen = default
        message += " Showing the default epigenomes instead; pick others in the list."
    return chosen, message


def gene_track(d, manifest=None) -> dict:
    """igv.js config of the gene track (per gene its name and strand over TSS ± window, thick over TSS ±
    500 bp): the hub's (manifest ``genes``; its tabix-indexed ``.gz`` when there is one, read by region),
    else the gene table through :func:`browser_genes` (a hub written before hubs had a gene track)."""
    manifest = manifest if manifest is not None else (d.ws.hub_manifest() or {})
    path = (manifest or {}).get("genes")
    hub = d.ws.hub_dir
    gz = None if not path else (path if path.endswith(".gz") else f"{path}.gz")
    if gz and (hub / gz).is_file() and (hub / f"{gz}.tbi").is_file():
        config = igv.gene_track(f"{request.script_root}/hub/{gz}", indexed=True)
    elif path and not path.endswith(".gz") and (hub / path).is_file():
        config = igv.gene_track(f"{request.script_root}/hub/{path}")
    else:
        from shallowchrome.tracks import style

        config = {"name": igv.GENE_TRACK_NAME, "type": "annotation", "sourceType": "custom",
                  "source": {"url": url_for("pages.browser_genes") + "?chr=$CHR&start=$START&end=$END"},
                  "displayMode": "COLLAPSED", "color": style.css_rgb(style.GENE)}
    # expanded: the windows of genes less than two windows apart overlap, and each keeps a row of its own
    config.update(order=GENE_TRACK_ORDER, visibilityWindow=GENE_VISIBILITY_WINDOW, displayMode="EXPANDED")
    return config


@bp.get("/browser/tracks.json")
def browser_tracks():
    """igv.js configs of the tracks of ``?epigenomes=A,B`` (what the browser page loads when one is picked)."""
    d = data()
    files = browser_files(d)
    asked = list(dict.fromkeys(p.strip() for arg in request.args.getlist("epigenomes") for p in arg.split(",")
                               if p.strip()))
    unknown = [e for e in asked if e not in files]
    if unknown:
        named = ", ".join(repr(e[:40]) for e in unknown[:NAMED_IDS])
        return {"error": {"status": 404, "message": f"no tracks for epigenome(s) {named} in this workspace",
                          "unknown": unknown[:NAMED_IDS]}}, 404
    return {"epigenomes": {e: igv_tracks([e], files) for e in asked}}


@bp.get("/browser/genes.json")
def browser_genes():
    """The gene table's genes overlapping ``?chr=&start=&end=`` (0-based, half-open) as igv.js features,
    drawn as the hub's gene track draws them: TSS ± window clipped to the chromosome, thick
    (``cdStart``-``cdEnd``) over TSS ± 500 bp, name = symbol else gene id, strand. The gene track of a hub
    written before hubs had their own."""
    import bisect
    import math

    from shallowchrome.tracks.hub.items import THICK_HALF_WIDTH

    d = data()
    chrom = request.args.get("chr", "")
    try:  # igv.js may ask for fractional bounds (the region in view ± a margin)
        start = max(0, math.floor(float(request.args.get("start", "0"))))
        end = math.ceil(float(request.args.get("end", "0")))
    except (ValueError, OverflowError):
        return {"error": {"status": 400, "message": "start and end must be numbers"}}, 400
    index = _gene_positions(d).get(chrom)
    if not index or end <= start:
        return current_app.json.response([])
    tss, rows = index
    window = int(d.info["parameters"]["window"])
    size = d.chrom_sizes.get(chrom)
    lo, hi = bisect.bisect_right(tss, start - window), bisect.bisect_left(tss, end + window)
    features = []
    for row in rows[lo:min(hi, lo + MAX_GENE_FEATURES)]:
        g = d.gene_records[row]
        left = max(0, g["tss"] - window)
        right = g["tss"] + window if size is None else min(size, g["tss"] + window)
        features.append({"chr": chrom, "start": left, "end": right, "name": g["symbol"] or g["gene_id"],
                         "strand": g["strand"] if g["strand"] in ("+", "-") else ".", "gene_id": g["gene_id"],
                         "cdStart": max(left, g["tss"] - THICK_HALF_WIDTH),
                         "cdEnd": min(right, g["tss"] + THICK_HALF_WIDTH)})
    return current_app.json.response(features)


_GENE_POSITIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _gene_positions(d) -> dict:
    """Chromosome → (sorted TSS list, gene rows in that order) of the workspace data ``d`` (built once per
    loaded generation)."""
    index = _GENE_POSITIONS.get(d)
    if index is None:
        by_chrom: dict = {}
        for row, g in enumerate(d.gene_records):
            by_chrom.setdefault(g["chrom"], []).append((g["tss"], row))
        index = {}
        for chrom, items in by_chrom.items():
            items.sort()
            index[chrom] = ([t for t, _ in items], [r for _, r in items])
        _GENE_POSITIONS[d] = index
    return index


def browser_legend(d) -> list[dict]:
    """What the browser's colours mean (:mod:`shallowchrome.tracks.style`), one entry per kind of track."""
    from shallowchrome.tracks import style
    from shallowchrome.tracks.hub.items import THICK_HALF_WIDTH

    window = int(d.info["parameters"]["window"])
    colour = style.hex_colour
    shared = "one y scale per mark across the shown epigenomes, for the region in view"
    return [
        {"track": "predictions", "items": [(colour(style.CLASS_RGB[1]), "predicted ON"),
                                           (colour(style.CLASS_RGB[0]), "predicted OFF")],
         "note": f"box: TSS ± {window:,} bp (the model's input), thick: TSS ± {THICK_HALF_WIDTH:,} bp; "
                 "click for P(ON), RPKM and ψ"},
        {"track": "contribution", "items": [(colour(style.ACTIVATING), "ψ > 0: pushes towards ON"),
                                            (colour(style.REPRESSING), "ψ < 0: pushes towards OFF")],
         "note": f"ψ = weight × feature (logit units); {shared}"},
        {"track": "max signal", "items": [(colour(style.FEATURE), "max peak signal in TSS ± window")],
         "note": f"the model's feature; {shared}"},
        {"track": igv.GENE_TRACK_NAME, "items": [(colour(style.GENE), "gene over TSS ± window")],
         "note": f"thick: TSS ± {THICK_HALF_WIDTH:,} bp; arrows: strand"},
    ]


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
