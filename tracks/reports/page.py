"""One gene's report page: an igv-reports view of its region, its regulative pattern and its numbers.

The page (template ``report_gene.html``) shows the gene's TSS ± flank with
the tracks of :mod:`~shallowchrome.tracks.reports.tracks`, then the
regulative-pattern chart (:func:`~shallowchrome.tracks.analysis.pattern_charts.patterns_chart`,
inline SVG) and a table with one row per epigenome: probability, logit,
measured RPKM and class, per-mark contribution (feature, p-value, peaks in
the model's input field), bias, ChromHMM state at the TSS, and the split and
part of the explaining model.

The numbers are the leak-free explanation of
:func:`~shallowchrome.tracks.analysis.explain.explain`. In an epigenome where
no model can explain the gene without leakage (it was in the training part
of every split) the row shows the interpretation split's prediction and
says so. A gene without expression data is predicted but has no measured
class; a gene without peaks has features 0 (the row says "no peak").

igv-reports fills the template's ``"@TABLE_JSON@"`` and
``"@SESSION_DICTIONARY@"`` (every track embedded as a data URI). A
self-contained page (``embed``) then gets the vendored igv.js inlined in
place of :data:`IGV_MARKER`; otherwise it loads igv.js from
``options.igv_js_url``. No page needs the network.
"""
from __future__ import annotations

import math
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
from shallowchrome.tracks.reference import package_version
from shallowchrome.tracks.reports.context import Region, ReportContext
from shallowchrome.tracks.reports.igv import create_igv_report
from shallowchrome.tracks.reports.tracks import gene_tracks

#: Bumped when pages change, so that the server regenerates its cached pages.
REPORT_FORMAT = 2
IGV_MARKER = "/*@SHALLOWCHROME_IGV_JS@*/"
TEMPLATE = "report/gene.html"


@dataclass
class GenePage:
    """A rendered page and its headline numbers (for the index)."""

    html: str
    summary: dict


# --- numbers -----------------------------------------------------------------------------
def explain_gene(ctx: ReportContext, gene_id: str) -> tuple[dict, dict]:
    """({epigenome: explanation}, {epigenome: why there is none}) for one gene."""
    try:
        doc = explain(ctx.ws, [gene_id], ctx.eids, cache=ctx.explain_cache)
        return {e["epigenome"]: e for e in doc["explanations"]}, {}
    except ModelError:
        pass
    found, missing = {}, {}
    for eid in ctx.eids:
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
                   rpkm=e["rpkm"], split=e["split"], part=e["part"], configuration=e.get("configuration"),
                   bias=e["bias"], marks={m["mark"]: m for m in e["marks"]})
        return row
    p_values = src.model.get("p_values", {})
    label = pred["label"]

    def term(m):
        p = p_values.get(m)
        return {"mark": m, "format": src.format_of(m), "feature": None, "weight": src.model["weights"][m],
                "contribution": finite_or_none(pred.get(f"contrib_{m}")), "p_value": p,
                "significant": None if p is None else p <= SIGNIFICANCE, "role": role(src.model["weights"][m])}

    row.update(probability=finite_or_none(pred["probability"]), logit=finite_or_none(pred["logit"]),
               predicted="ON" if int(pred["predicted"]) == 1 else "OFF",
               measured=None if pd.isna(label) else ("ON" if int(label) == 1 else "OFF"), rpkm=finite_or_none(pred["rpkm"]),
               split=src.model.get("interpretation_split", 0), part=pred["part"],
               configuration=src.model.get("configuration"),
               bias={"value": src.model["bias"], "p_value": p_values.get("bias"), "significant": None, "role": None},
               marks={m: term(m) for m in src.marks})
    return row


def summary_record(name: str, gene: dict, region: Region, rows: list[dict]) -> dict:
    """A page's headline numbers for the index: per epigenome P(ON), predicted and measured class."""
    return {"file": f"{name}.html", "symbol": gene.get("symbol") or "", "gene_id": gene["gene_id"],
            "chrom": region.chrom, "tss": region.tss, "strand": gene.get("strand") or ".",
            "epigenomes": {r["eid"]: {"tissue": r["tissue"], "probability": r["probability"],
                                      "predicted": r["predicted"], "measured": r["measured"], "rpkm": r["rpkm"],
                                      "explained": r["explained"]}
                           for r in rows}}


# --- formatting (Jinja helpers) ----------------------------------------------------------
def format_number(value, digits: int = 3) -> str:
    """``—`` when missing; thousands separators from 1,000; else ``digits`` significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "\u2014"
    value = float(value) + 0.0
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.{digits}g}"


def format_p(value) -> str:
    return "\u2014" if value is None else f"{float(value):.2g}"


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


def render_template(ctx: ReportContext, gene: dict, region: Region, rows: list[dict], svg: str | None) -> str:
    """The page before igv-reports: ASCII (other characters as references), igv-reports' placeholders intact."""
    marks = list(dict.fromkeys(m for r in rows for m in r["marks"]))
    opts = ctx.options
    links = [(label, href.replace("{gene_id}", gene["gene_id"])) for label, href in opts.links]
    text = environment().get_template(TEMPLATE).render(
        gene=gene, region=region, rows=rows, marks=marks, chart=svg, window=ctx.window, flank=opts.flank,
        genome=ctx.genome, alpha=SIGNIFICANCE, has_chromhmm=ctx.has_chromhmm, states=chromhmm_legend(), embed=opts.embed,
        igv_js_url=opts.igv_js_url, igv_marker=IGV_MARKER, links=links,
        version=package_version(), workspace=ctx.ws.root.name, num=format_number, pval=format_p, css_class=term_class)
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")


def gene_page(ctx: ReportContext, gene: dict) -> GenePage:
    """The complete page of one gene (a genes.tsv record with ``row``)."""
    region = ctx.region(gene)
    explanations, missing = explain_gene(ctx, gene["gene_id"])
    rows = [epigenome_row(ctx, eid, gene, explanations.get(eid), missing.get(eid)) for eid in ctx.eids]
    tracks = gene_tracks(ctx, gene, region, rows)
    svg = chart_svg([explanations[e] for e in ctx.eids if e in explanations])
    template = render_template(ctx, gene, region, rows, svg)
    site = f"{region.chrom}\t{region.start}\t{region.end}\t{gene.get('symbol') or gene['gene_id']}"
    page = create_igv_report(template, site, tracks, ctx.sizes)
    if ctx.options.embed:
        page = page.replace(IGV_MARKER, igv_js(), 1)
    return GenePage(page, summary_record(ctx.page_name(gene), gene, region, rows))
