"""One gene's report page: an igv-reports view of its region, its regulative pattern and its numbers.

A page explains and shows a few epigenomes (:meth:`ReportContext.shown
<shallowchrome.tracks.reports.context.ReportContext.shown>`: by default the
best-modelled, plus any the user names) and lists every epigenome of the
workspace. The page (template ``report/gene.html``) shows the gene's TSS ±
flank with the tracks of :mod:`~shallowchrome.tracks.reports.tracks` of the
shown epigenomes, then a table of all epigenomes with the hub's prediction
item of the gene (the interpretation model's P(ON), classes, top mark) and a
checkbox that adds or removes the epigenome's tracks in the view (every
epigenome's tracks are embedded, those not shown as data URIs in a JSON
element), then the regulative-pattern chart of the shown epigenomes
(:func:`~shallowchrome.tracks.analysis.pattern_charts.patterns_chart`, inline
SVG) and their table: probability, logit, measured RPKM and class, per-mark
contribution (feature, p-value, peaks in the model's input field), bias,
ChromHMM state at the TSS, and the split and part of the explaining model.

The numbers are the leak-free explanation of
:func:`~shallowchrome.tracks.analysis.explain.explain`. In an epigenome where
no model can explain the gene without leakage (it was in the training part
of every split) the row shows the interpretation split's prediction and
says so. A gene without expression data is predicted but has no measured
class; a gene without peaks has features 0 (the row says "no peak").

igv-reports fills the template's ``"@TABLE_JSON@"`` and
``"@SESSION_DICTIONARY@"`` (the shown tracks embedded as data URIs); the
other tracks replace :data:`MORE_TRACKS_MARKER`. A self-contained page
(``embed``) then gets the vendored igv.js inlined in place of
:data:`IGV_MARKER`; otherwise it loads igv.js from ``options.igv_js_url``.
No page needs the network.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from shallowchrome.model.errors import ModelError
from shallowchrome.model.estimator import finite_or_none
from shallowchrome.model.interpret import SIGNIFICANCE, role
from shallowchrome.templates import environment, static_text
from shallowchrome.tracks.analysis.explain import explain
from shallowchrome.tracks.analysis.pattern_charts import patterns_chart
from shallowchrome.tracks.numbers import finite
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.reports.context import Region, ReportContext
from shallowchrome.tracks.reports.igv import IgvTrack, create_igv_report, data_uri
from shallowchrome.tracks.reports.tracks import gene_tracks, window_roi

#: Bumped when pages change, so that the server regenerates its cached pages.
REPORT_FORMAT = 4
IGV_MARKER = "/*@SHALLOWCHROME_IGV_JS@*/"
MORE_TRACKS_MARKER = "@SHALLOWCHROME_MORE_TRACKS@"
TEMPLATE = "report/gene.html"
#: The track config key naming a track's epigenome (the page's control adds and removes tracks by it).
EPIGENOME_KEY = "scEpigenome"


@dataclass
class GenePage:
    """A rendered page and its headline numbers (for the index)."""

    html: str
    summary: dict


# --- numbers -----------------------------------------------------------------------------
def explain_gene(ctx: ReportContext, gene_id: str, eids=None) -> tuple[dict, dict]:
    """({epigenome: explanation}, {epigenome: why there is none}) for one gene in ``eids`` (default all)."""
    eids = ctx.eids if eids is None else list(eids)
    try:
        doc = explain(ctx.ws, [gene_id], eids, cache=ctx.explain_cache)
        return {e["epigenome"]: e for e in doc["explanations"]}, {}
    except ModelError:
        pass
    found, missing = {}, {}
    for eid in eids:
        try:
            (found[eid],) = explain(ctx.ws, [gene_id], [eid], cache=ctx.explain_cache)["explanations"]
        except ModelError as exc:
            missing[eid] = exc.detail
    return found, missing


def epigenome_row(ctx: ReportContext, eid: str, gene: dict, e: dict | None, reason: str | None) -> dict:
    """One table row: the explanation's numbers, or the interpretation split's prediction when there is none."""
    src = ctx.sources[eid]
    pred = src.predictions.iloc[int(gene["row"])]
    state = pred.get("chromhmm_state")
    row = {"eid": eid, "tissue": src.tissue, "explained": e is not None, "note": reason,
           "chromhmm_state": state if isinstance(state, str) and state not in ("", "NA") else None,
           "threshold": (src.model.get("threshold") or {}).get("rpkm")}
    if e is not None:
        row.update(probability=e["probability"], logit=e["logit"], predicted=e["predicted"], measured=e["measured"],
                   rpkm=e["rpkm"], split=e["split"], model=e.get("model"), part=e["part"],
                   configuration=e.get("configuration"),
                   bias=e["bias"], marks={m["mark"]: m for m in e["marks"]})
        return row
    p_values = src.model.get("p_values", {})
    label = pred["label"]

    def term(m):
        w, p = mark_weight_and_p(src.model, m)
        contribution = finite_or_none(pred.get(f"contrib_{m}"))
        return {"mark": m, "format": src.format_of(m), "feature": None, "weight": w, "contribution": contribution,
                "p_value": p, "significant": None if p is None else p <= SIGNIFICANCE,
                "role": role(w if w is not None else contribution)}

    row.update(probability=finite_or_none(pred["probability"]), logit=finite_or_none(pred["logit"]),
               predicted="ON" if int(pred["predicted"]) == 1 else "OFF",
               measured=None if pd.isna(label) else ("ON" if int(label) == 1 else "OFF"), rpkm=finite_or_none(pred["rpkm"]),
               split=src.model.get("interpretation_split", 0), part=pred["part"],
               configuration=src.model.get("configuration"),
               bias={"value": src.model["bias"], "p_value": p_values.get("bias"), "significant": None, "role": None},
               marks={m: term(m) for m in src.marks})
    return row


def mark_weight_and_p(model: dict, mark: str) -> tuple:
    """A mark's weight and p-value in a model.json: its Wald test, or for a mark of several terms
    (``build --features extended``) no single weight and the likelihood-ratio test of its terms."""
    weights = model.get("weights") or {}
    if mark in weights:
        return weights[mark], (model.get("p_values") or {}).get(mark)
    return None, (((model.get("mode") or {}).get("mark_tests") or {}).get(mark) or {}).get("p_value")


def overview_row(ctx: ReportContext, eid: str, gene: dict, shown: bool) -> dict:
    """One row of the all-epigenomes table: the hub's prediction item of the gene (the interpretation
    model's numbers) and, for the colours of its peak tracks, the interpretation model's mark roles."""
    src = ctx.sources[eid]
    item = ctx.prediction_item(eid, gene) or {}
    marks = {}
    for m in src.marks:
        w, p = mark_weight_and_p(src.model, m)
        marks[m] = {"mark": m, "format": src.format_of(m), "weight": w, "p_value": p,
                    "significant": None if p is None else p <= SIGNIFICANCE, "role": role(w)}
    cls = {"ON": "ON", "OFF": "OFF"}
    state = item.get("chromhmm_state")
    top = item.get("top_mark")
    return {"eid": eid, "tissue": src.tissue, "group": src.group, "auroc": src.auroc, "shown": shown,
            "found": bool(item), "probability": finite(item.get("probability")), "logit": finite(item.get("logit")),
            "predicted": cls.get(item.get("predicted")), "measured": cls.get(item.get("label")),
            "rpkm": finite(item.get("rpkm")), "part": item.get("part"),
            "top_mark": top if top and top != "none" else None,
            "chromhmm_state": state if state and state not in ("NA", ".") else None, "marks": marks}


def why_record(ctx: ReportContext, gene: dict, overview: list[dict]) -> dict | None:
    """The page's "why ON in A but OFF in B": the gene's attribution (Δlogit = Σ Δψ + Δbias, from the two
    epigenomes' predictions.tsv; :func:`~shallowchrome.tracks.analysis.compare.gene_attribution`) between the
    epigenomes where its P(ON) is highest and lowest
    (:func:`~shallowchrome.tracks.analysis.compare.extreme_pair`); None with fewer than two."""
    from shallowchrome.tracks.analysis.compare import extreme_pair, gene_attribution

    pair = extreme_pair({o["eid"]: o["probability"] for o in overview})
    if pair is None:
        return None
    c = ctx.comparison(*pair)
    (record,) = gene_attribution(c, int(gene["row"]))
    return {"record": record, "terms": c.terms, "tissues": {c.a.eid: c.a.tissue, c.b.eid: c.b.tissue},
            "starred": [t for t in c.terms if c.term_note(t)], "notes": [c.term_note(t) for t in c.terms if c.term_note(t)]}


def summary_record(name: str, gene: dict, region: Region, rows: list[dict], overview: list[dict] = ()) -> dict:
    """A page's headline numbers for the index: per epigenome P(ON), predicted and measured class; the
    leak-free explanation's for the explained epigenomes (``rows``), the hub's prediction item's
    (``source: hub``) for the others of ``overview``."""
    epigenomes = {o["eid"]: {"tissue": o["tissue"], "probability": o["probability"], "predicted": o["predicted"],
                             "measured": o["measured"], "rpkm": o["rpkm"], "explained": False, "source": "hub"}
                  for o in overview}
    for r in rows:
        epigenomes[r["eid"]] = {"tissue": r["tissue"], "probability": r["probability"], "predicted": r["predicted"],
                                "measured": r["measured"], "rpkm": r["rpkm"], "explained": r["explained"],
                                "source": "explanation"}
    order = [o["eid"] for o in overview] or [r["eid"] for r in rows]
    return {"file": f"{name}.html", "symbol": gene.get("symbol") or "", "gene_id": gene["gene_id"],
            "chrom": region.chrom, "tss": region.tss, "strand": gene.get("strand") or ".",
            "epigenomes": {e: epigenomes[e] for e in order if e in epigenomes}}


# --- formatting (Jinja helpers; numbers are formatted by the filters of tracks/numbers.py) --
def term_class(term: dict) -> str:
    """CSS class of a contribution: pos (activating), neg (repressing), ns (not significant or unknown)."""
    if not term.get("significant"):
        return "ns"
    return {"activating": "pos", "repressing": "neg"}.get(term.get("role") or "", "ns")


# --- the page ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def igv_js() -> str:
    """The vendored igv.js (``templates/static/igv/igv.min.js``), safe to inline in a ``<script>`` element."""
    text = static_text("igv/igv.min.js")
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.I)


def chart_svg(explanations: list[dict]) -> str | None:
    """The regulative-pattern chart as an ``<svg>`` element (no XML prolog); None without explanations."""
    if not explanations:
        return None
    svg = patterns_chart({"significance": SIGNIFICANCE, "explanations": explanations}, "svg").decode("utf-8")
    return svg[svg.index("<svg"):]


@lru_cache(maxsize=1)
def chromhmm_legend() -> tuple:
    """(state, CSS colour) of the 15 core-mark states, as the report's ChromHMM track draws them."""
    from shallowchrome.model.chromhmm import state_number
    from shallowchrome.tracks import style
    from shallowchrome.tracks.io.segmentation import read_emissions

    states = read_emissions().index.tolist()
    return tuple((s, style.css_rgb(style.CHROMHMM_RGB.get(state_number(s), style.OTHER_STATE_RGB))) for s in states)


def selection_query(ctx: ReportContext, shown: list[str]) -> str:
    """``&epigenomes=A,B`` naming the shown epigenomes beyond the default ones ("" when there are none)."""
    extra = [e for e in shown if e not in set(ctx.default_shown())]
    return f"&epigenomes={','.join(extra)}" if extra else ""


def render_template(ctx: ReportContext, gene: dict, region: Region, rows: list[dict], svg: str | None,
                    overview: list[dict] | None = None, shown: list[str] | None = None, why: dict | None = None) -> str:
    """The page before igv-reports: ASCII (other characters as references), igv-reports' placeholders intact."""
    from shallowchrome.tracks import style
    from shallowchrome.tracks.io.metadata import describe
    from shallowchrome.tracks.reference import roadmap_epigenomes

    marks = list(dict.fromkeys(m for r in rows for m in r["marks"]))
    opts = ctx.options
    shown = [r["eid"] for r in rows] if shown is None else shown
    query = selection_query(ctx, shown)
    links = [(label, href.replace("{gene_id}", gene["gene_id"]).replace("{selection}", query))
             for label, href in opts.links]
    colours = {info.get("group"): info.get("color") for info in roadmap_epigenomes().values()}
    recorded = ctx.ws.info.get("epigenomes", {})  # groups and colours of `build --metadata`
    colours.update({d["group"]: d["color"] for e, d in ((e, describe(e, recorded.get(e))) for e in ctx.eids)
                    if recorded.get(e, {}).get("group") or recorded.get(e, {}).get("color")})
    text = environment().get_template(TEMPLATE).render(
        gene=gene, region=region, rows=rows, marks=marks, chart=svg, window=ctx.window, flank=opts.flank,
        genome=ctx.genome, alpha=SIGNIFICANCE, has_chromhmm=ctx.has_chromhmm, states=chromhmm_legend(), embed=opts.embed,
        igv_js_url=opts.igv_js_url, igv_marker=IGV_MARKER, more_marker=MORE_TRACKS_MARKER, links=links,
        overview=overview or [], shown=shown, n_default=len(ctx.default_shown()), selection_links=opts.selection_links,
        group_colours=colours, other_colour=style.css_rgb(style.OTHER_STATE_RGB),
        version=package_version(), workspace=ctx.ws.root.name, css_class=term_class, why=why)
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def more_tracks_json(tracks: list[IgvTrack]) -> str:
    """The tracks not in the view as JSON for the page's control (configs with their data as data URIs),
    safe inside a ``<script>`` element (``<``, ``>``, ``&`` and the markers' ``@`` as \\u escapes)."""
    configs = [{**t.config, "url": data_uri(t.text)} for t in tracks]
    text = json.dumps(configs, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    for char in "<>&@":  # markup, and the page's markers
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def epigenome_tracks(ctx: ReportContext, gene: dict, region: Region, row: dict) -> list[IgvTrack]:
    """One epigenome's tracks (its ``row`` gets ``peaks`` and ``track_notes``), each tagged with the epigenome."""
    tracks = gene_tracks(ctx, gene, region, [row])[1:]  # without the region of interest, shared by all
    for t in tracks:
        t.config[EPIGENOME_KEY] = row["eid"]
    return tracks


def gene_page(ctx: ReportContext, gene: dict, shown=None) -> GenePage:
    """The complete page of one gene (a genes.tsv record with ``row``); ``shown``: epigenomes to explain and
    show besides the default ones (see :meth:`ReportContext.shown`)."""
    shown = ctx.shown(shown)
    region = ctx.region(gene)
    ctx.ensure_inputs()  # every epigenome's tracks are embedded; with the peak index built, a check
    explanations, missing = explain_gene(ctx, gene["gene_id"], shown)
    rows = [epigenome_row(ctx, eid, gene, explanations.get(eid), missing.get(eid)) for eid in shown]
    overview = [overview_row(ctx, eid, gene, eid in shown) for eid in ctx.eids]
    detail = {r["eid"]: r for r in rows}
    in_view, more, order = [window_roi(ctx, gene, region)], [], 1
    for o in overview:  # in workspace order: a track loaded later still takes its epigenome's place
        row = detail.get(o["eid"], o)  # a shown epigenome's peaks are coloured by its explaining model
        for track in epigenome_tracks(ctx, gene, region, row):
            order += 1
            track.config["order"] = order
            (in_view if o["shown"] else more).append(track)
    svg = chart_svg([explanations[e] for e in shown if e in explanations])
    template = render_template(ctx, gene, region, rows, svg, overview, shown, why_record(ctx, gene, overview))
    # the site's name is igv-reports' table, which the page does not show: no user text after the markers
    site = f"{region.chrom}\t{region.start}\t{region.end}\tregion"
    page = create_igv_report(template, site, in_view, ctx.sizes)
    head, marker, tail = page.rpartition(MORE_TRACKS_MARKER)  # the template's: after every text of the user's
    if marker:
        page = head + more_tracks_json(more) + tail
    if ctx.options.embed:
        head, marker, tail = page.rpartition(IGV_MARKER)
        page = head + igv_js() + tail if marker else page
    return GenePage(page, summary_record(ctx.page_name(gene), gene, region, rows, overview))
