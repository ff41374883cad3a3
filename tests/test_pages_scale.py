"""The home and gene pages with many epigenomes (issue 11): the gene page's regulative-pattern heatmap grouped
by Roadmap group with the measured class and P(ON) beside each row, Figure-3 bars for a chosen few
(``?epigenomes=``), sortable grouped tables (in headless Chromium), and the horizontal evaluation chart.

The workspace: ten epigenomes in seven Roadmap groups plus one id the Roadmap table does not know (U01),
made from the fixture's three by a manifest that gives several ids the same peak files (and expression
columns), built once for the module without tracks.
"""
from __future__ import annotations

import gzip
import math
import re
import struct
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from helpers import FIXTURE, build_args, invoke

from shallowchrome.server.web.app import create_app
from shallowchrome.tracks import style
from shallowchrome.tracks.analysis.charts import evaluation_chart, evaluation_figure
from shallowchrome.tracks.analysis.explain import explain
from shallowchrome.tracks.analysis.pattern_charts import diverging_colour
from shallowchrome.tracks.workspace.layout import Workspace

#: New id → the fixture epigenome whose peak files and expression column it gets.
SOURCES = {"E003": "E901", "E004": "E902", "E005": "E901", "E065": "E902", "E066": "E902", "E079": "E901",
           "E100": "E902", "E104": "E903", "E116": "E901", "U01": "E902"}
#: Their Roadmap groups (the packaged table; U01 is not in it: Other).
GROUPS = {"E003": "ESC", "E004": "ES-deriv", "E005": "ES-deriv", "E065": "Heart", "E066": "Other",
          "E079": "Digestive", "E100": "Muscle", "E104": "Heart", "E116": "ENCODE2012", "U01": "Other"}
NAMES = {"E066": "Liver", "E100": "Psoas Muscle", "E104": "Right Atrium", "E003": "H1 Cells"}


@pytest.fixture(scope="module")
def ws56(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scale")
    rows = ["epigenome\tmark\tpath"]
    for eid, src in SOURCES.items():
        for f in sorted((FIXTURE / "peaks").glob(f"{src}-*")):
            mark = f.name.split("-", 1)[1].split(".", 1)[0]
            rows.append(f"{eid}\t{mark}\t{f}")
    (root / "peaks.tsv").write_text("\n".join(rows) + "\n")
    rpkm = pd.read_csv(FIXTURE / "rpkm.tsv.gz", sep="\t")
    table = pd.DataFrame({"gene_id": rpkm["gene_id"], **{eid: rpkm[src] for eid, src in SOURCES.items()}})
    with gzip.open(root / "rpkm.tsv.gz", "wt") as fh:
        table.to_csv(fh, sep="\t", index=False)
    argv = build_args(root / "ws", "--no-tracks", expression=root / "rpkm.tsv.gz")
    argv[argv.index("--peaks") + 1] = str(root / "peaks.tsv")
    res = invoke(*argv)
    assert res.exit_code == 0, res.output
    return root / "ws"


@pytest.fixture(scope="module")
def client(ws56):
    app = create_app(ws56)
    app.testing = True
    return app.test_client()


class Tables(HTMLParser):
    """Every <table>'s attributes and rows: each row's attributes and cells (tag, attributes, text)."""

    def __init__(self):
        super().__init__()
        self.tables, self._stack, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"attrs": attrs, "head": [], "rows": []})
            self._stack.append(self.tables[-1])
        elif not self._stack:
            return
        elif tag == "thead":
            self._stack[-1]["in_head"] = True
        elif tag == "tbody":
            self._stack[-1]["in_head"] = False
        elif tag == "tr":
            t = self._stack[-1]
            (t["head"] if t.get("in_head") else t["rows"]).append({"attrs": attrs, "cells": []})
        elif tag in ("td", "th"):
            t = self._stack[-1]
            rows = t["head"] if t.get("in_head") else t["rows"]
            self._cell = {"tag": tag, "attrs": attrs, "text": ""}
            rows[-1]["cells"].append(self._cell)
        elif tag == "input" and self._cell is not None:
            self._cell.setdefault("inputs", []).append(attrs)

    def handle_endtag(self, tag):
        if tag == "table" and self._stack:
            self._stack.pop()
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def tables(html: str) -> list[dict]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def table_with(html: str, cls: str) -> dict:
    (t,) = [t for t in tables(html) if cls in t["attrs"].get("class", "").split()]
    return t


def data_rows(table: dict) -> list[dict]:
    return [r for r in table["rows"] if "data-group-header" not in r["attrs"]]


def cell(row: dict, key: str) -> dict:
    (c,) = [c for c in row["cells"] if c["attrs"].get("data-key") == key]
    return c


def explanations(ws56, symbol: str) -> dict:
    return {e["epigenome"]: e for e in explain(Workspace.open(ws56), [symbol])["explanations"]}


def roadmap_order(eids) -> list[str]:
    """The expected row order, from the packaged table directly: groups by first appearance, then table order."""
    from shallowchrome.tracks.reference import roadmap_epigenomes

    table = roadmap_epigenomes()
    groups = list(dict.fromkeys(v["group"] for v in table.values()))
    ids = list(table)
    return sorted(eids, key=lambda e: (groups.index(GROUPS[e]), ids.index(e) if e in ids else len(ids)))


# --- the gene page -----------------------------------------------------------------------------
def test_heatmap_has_one_row_per_epigenome_grouped_with_measured_class_and_probability(client, ws56):
    html = client.get("/genes/ALB").get_data(as_text=True)
    heatmap = table_with(html, "heatmap")
    rows = data_rows(heatmap)
    eids = [r["attrs"]["data-epigenome"] for r in rows]
    assert sorted(eids) == sorted(SOURCES) and eids == roadmap_order(SOURCES)
    # each group's rows are together, under one heading naming the group and its size
    order = [r["attrs"] for r in heatmap["rows"]]
    headings = [(i, a["data-group"]) for i, a in enumerate(order) if "data-group-header" in a]
    assert [g for _, g in headings] == list(dict.fromkeys(GROUPS[e] for e in eids))
    for i, group in headings:
        members = [e for e in eids if GROUPS[e] == group]
        assert [a.get("data-epigenome") for a in order[i + 1:i + 1 + len(members)]] == members
        assert heatmap["rows"][i]["cells"][0]["text"].split() == group.split() + [str(len(members))]
    for r in rows:  # the group colour strip, the Roadmap standard name
        assert re.fullmatch(r"background: #[0-9A-F]{6}", r["cells"][0]["attrs"]["style"], re.I)
        eid = r["attrs"]["data-epigenome"]
        if eid in NAMES:
            assert cell(r, "epigenome")["text"].split() == [eid, *NAMES[eid].split()]
    # numbers: the leak-free explanations; the measured class: the workspace's labels
    ws = Workspace.open(ws56)
    gene_row = int(ws.find_gene("ALB")["row"].iloc[0])
    expected = explanations(ws56, "ALB")
    for r in rows:
        eid = r["attrs"]["data-epigenome"]
        e = expected[eid]
        assert float(cell(r, "probability")["attrs"]["data-value"]) == pytest.approx(e["probability"], abs=1e-12)
        assert cell(r, "probability")["text"].strip() == f"{e['probability']:.3f}"  # P(ON): 3 decimals everywhere
        label = ws.predictions(eid)["label"].iloc[gene_row]
        assert cell(r, "measured")["text"].strip() == ("no data" if pd.isna(label) else "ON" if label == 1 else "OFF")
        for m in e["marks"]:
            psi = cell(r, f"psi:{m['mark']}")
            assert float(psi["attrs"]["data-value"]) == pytest.approx(m["contribution"], abs=1e-12)
        assert float(cell(r, "psi:bias")["attrs"]["data-value"]) == pytest.approx(e["bias"]["value"])
    # one diverging colour scale for the whole table, from the legend's ends: the largest |ψ| (bias included)
    scale = float(re.search(r"<span>activating ([+\d.e-]+)</span>", html).group(1))
    largest = max([abs(m["contribution"]) for e in expected.values() for m in e["marks"]]
                  + [abs(e["bias"]["value"]) for e in expected.values()])
    assert largest <= scale <= 1.1 * largest
    signs = set()
    for r in rows:
        for c in r["cells"]:
            if "cell" in c["attrs"].get("class", "").split() and "absent" not in c["attrs"]["class"].split():
                value = float(c["attrs"]["data-value"])
                assert f"background-color: {diverging_colour(value, scale)};" in c["attrs"]["style"]
                signs.add((value > 0) - (value < 0))
    assert signs == {-1, 0, 1}  # activating, repressing and empty cells all occur
    # E104 (the fixture's E903: H3K4me3 and DNase) has no H3K27me3: an absent cell, not a zero
    e104 = next(r for r in rows if r["attrs"]["data-epigenome"] == "E104")
    assert cell(e104, "psi:H3K27me3")["attrs"]["data-value"] == "" and "absent" in cell(e104, "psi:H3K27me3")["attrs"]["class"]
    assert cell(e104, "psi:DNase")["attrs"]["data-value"] != ""


def test_diverging_colour_scale_is_centred_at_zero():
    scale = 2.0
    assert diverging_colour(0.0, scale) == "#FFFFFF"
    assert diverging_colour(scale, scale) == style.hex_colour(style.ACTIVATING)
    assert diverging_colour(-scale, scale) == style.hex_colour(style.REPRESSING)
    assert diverging_colour(10 * scale, scale) == style.hex_colour(style.ACTIVATING)  # clipped
    half = [int(diverging_colour(1.0, scale)[i:i + 2], 16) for i in (1, 3, 5)]
    assert half == [round(255 + (int(c) - 255) * 0.5) for c in style.ACTIVATING.split(",")]
    assert diverging_colour(None, scale) == diverging_colour(float("nan"), scale) == "#F2F2F2"


def svg_panels(client, url: str) -> int:
    res = client.get(url)
    assert res.status_code == 200 and res.mimetype == "image/svg+xml", url
    return len(re.findall(rb'<g id="axes_\d+"', res.data))


def bars_figure(html: str) -> tuple[list[str], str]:
    """(the epigenomes whose boxes are ticked in the heatmap, the bars image's src)."""
    ticked = [i["value"] for r in data_rows(table_with(html, "heatmap")) for c in r["cells"]
              for i in c.get("inputs", []) if "checked" in i]
    (src,) = re.findall(r'<figure class="pattern" id="bars">.*?<img class="chart" src="([^"]+)"', html, re.S)
    return ticked, src.replace("&amp;", "&")


def test_bars_default_to_the_highest_and_lowest_probabilities(client, ws56):
    html = client.get("/genes/ALB").get_data(as_text=True)
    ticked, src = bars_figure(html)
    expected = explanations(ws56, "ALB")
    ranked = sorted(expected, key=lambda e: (-expected[e]["probability"], e))
    assert set(ticked) == set(ranked[:3]) | set(ranked[-3:]) and len(ticked) == 6
    assert ticked == [e for e in roadmap_order(SOURCES) if e in ticked]  # heatmap order
    assert urlparse(src).query == ""  # the default few: the chart's own default
    assert svg_panels(client, src) == 6
    assert "Figure 3 for 6 epigenomes" in html and "Shown by default" in html


def test_epigenomes_parameter_chooses_the_bars(client):
    html = client.get("/genes/ALB?epigenomes=E100,e066").get_data(as_text=True)
    ticked, src = bars_figure(html)
    assert ticked == ["E066", "E100"]  # ticked boxes follow the heatmap's order
    assert parse_qs(urlparse(src).query) == {"epigenomes": ["E100,E066"]}  # bars in the order asked
    assert svg_panels(client, src) == 2
    assert "Figure 3 for 2 epigenomes" in html and "Shown by default" not in html
    # the form's repeated parameter works the same; an unknown id is said and ignored
    html = client.get("/genes/ALB?epigenomes=E104&epigenomes=NOPE").get_data(as_text=True)
    ticked, src = bars_figure(html)
    assert ticked == ["E104"] and svg_panels(client, src) == 1
    assert re.search(r'id="unknown-epigenomes">[^<]*NOPE', html)
    assert client.get("/genes/ALB/pattern.svg?epigenomes=NOPE").status_code == 404
    # the heatmap always has every epigenome, whatever the bars show
    assert len(data_rows(table_with(html, "heatmap"))) == len(SOURCES)


def test_epigenomes_without_a_leak_free_model_are_rows_that_say_why(ws56, monkeypatch):
    """A workspace built before cross-fitting cannot explain a gene its splits all trained on: the heatmap keeps
    the epigenome's row with the reason, the others' patterns stay; with none, the page says why and the chart
    answers 409."""
    from shallowchrome.model.errors import ModelError
    from shallowchrome.tracks.analysis import explain as module

    real, refused = module.explain, {"E104"}

    def explain_(ws, queries, epigenomes=None, **kwargs):
        asked = epigenomes or ws.epigenomes()
        if refused & set(asked):
            raise ModelError(f"{queries[0]} in {sorted(refused & set(asked))[0]} is in the training data of every "
                             "split (0: train), so no model can explain it without leakage")
        return real(ws, queries, epigenomes, **kwargs)

    monkeypatch.setattr(module, "explain", explain_)
    client = create_app(ws56).test_client()
    html = client.get("/genes/ALB").get_data(as_text=True)
    rows = {r["attrs"]["data-epigenome"]: r for r in data_rows(table_with(html, "heatmap"))}
    assert set(rows) == set(SOURCES)
    (note,) = [c for c in rows["E104"]["cells"] if c["attrs"].get("class") == "note"]
    assert "training data of every split" in note["text"]
    assert not any(c["attrs"].get("data-key", "").startswith("psi:") for c in rows["E104"]["cells"])
    assert all(cell(rows[e], "psi:bias")["attrs"]["data-value"] for e in rows if e != "E104")
    ticked, src = bars_figure(html)
    assert "E104" not in ticked and len(ticked) == 6 and svg_panels(client, src) == 6
    res = client.get("/genes/ALB/pattern.svg?epigenomes=E104")
    assert res.status_code == 409 and b"training data of every split" in res.data
    refused.update(SOURCES)  # no epigenome can explain it
    html = client.get("/genes/MYOD1").get_data(as_text=True)
    assert 'id="pattern-error"' in html and "training data of every split" in html
    assert 'class="heatmap"' not in html and len(data_rows(table_with(html, "predictions"))) == len(SOURCES)
    res = client.get("/genes/MYOD1/pattern.svg")
    assert res.status_code == 409 and b"training data of every split" in res.data


# --- sortable tables ---------------------------------------------------------------------------
def check_sort_markup(table: dict, n_rows: int, positional=()) -> list[str]:
    """Every data row has a value for every sortable column (a data-key cell; for the ``positional`` columns,
    which are the first, the cell under the header); numeric columns hold numbers or nothing."""
    keys = {c["attrs"]["data-sort-key"]: c["attrs"].get("data-sort-type", "text")
            for r in table["head"] for c in r["cells"] if "data-sort-key" in c["attrs"]}
    assert "data-sortable" in table["attrs"] and "data-grouped" in table["attrs"] and keys
    rows = data_rows(table)
    assert len(rows) == n_rows
    for r in rows:
        assert r["attrs"]["data-group"] and r["attrs"]["data-group-rank"].isdigit()
        have = {c["attrs"]["data-key"]: c for c in r["cells"] if "data-key" in c["attrs"]}
        if "skipped" in r["attrs"].get("class", ""):
            continue
        assert set(keys) - set(positional) <= set(have), set(keys) - set(have)
        for key in positional:
            assert key not in have and r["cells"][0]["text"].strip() == r["attrs"]["data-epigenome"]
        for key, kind in keys.items():
            if kind == "number" and have[key]["attrs"].get("data-value", "") != "":
                float(have[key]["attrs"]["data-value"])
    headers = {r["attrs"]["data-group"] for r in table["rows"] if "data-group-header" in r["attrs"]}
    assert headers == {r["attrs"]["data-group"] for r in rows}
    return list(keys)


def test_home_table_is_grouped_with_names_and_sort_markup(client, ws56):
    html = client.get("/").get_data(as_text=True)
    t = next(t for t in tables(html) if t["attrs"].get("id") == "epigenomes")
    keys = check_sort_markup(t, len(SOURCES), positional=["epigenome"])
    assert {"epigenome", "name", "group", "auroc", "deepchrome"} <= set(keys)
    rows = data_rows(t)
    assert [r["attrs"]["data-epigenome"] for r in rows] == roadmap_order(SOURCES)
    ev = Workspace.open(ws56).evaluation().set_index("epigenome")
    for r in rows:
        eid = r["attrs"]["data-epigenome"]
        assert cell(r, "group")["text"].strip() == GROUPS[eid]
        assert float(cell(r, "auroc")["attrs"]["data-value"]) == pytest.approx(ev.loc[eid, "auroc_mean"], abs=1e-9)
        if eid in NAMES:
            assert cell(r, "name")["text"].strip() == NAMES[eid]
    assert "_" not in "".join(cell(r, "name")["text"] for r in rows)
    assert 'src="/static/sortable.js"' in html
    assert client.get("/static/sortable.js").status_code == 200
    assert '<img class="chart evaluation" src="/files/evaluation.png"' in html


def test_gene_tables_carry_sort_markup(client):
    html = client.get("/genes/ALB").get_data(as_text=True)
    assert {"epigenome", "probability", "measured", "psi:H3K4me3", "psi:bias"} <= set(
        check_sort_markup(table_with(html, "heatmap"), len(SOURCES)))
    assert {"epigenome", "probability", "rpkm", "psi:H3K27me3", "bias"} <= set(
        check_sort_markup(table_with(html, "predictions"), len(SOURCES)))


ROWS_JS = """sel => Array.from(document.querySelectorAll(sel + ' tbody tr')).filter(r => !r.hidden).map(r =>
  r.hasAttribute('data-group-header') ? {heading: r.dataset.group} : {eid: r.dataset.epigenome, group: r.dataset.group,
  value: (Array.from(r.cells).find(c => c.dataset.key === window.__sortKey) || {dataset: {}}).dataset.value})"""


def _rows(page, selector: str, key: str) -> list[dict]:
    page.evaluate(f"window.__sortKey = {key!r}")
    return page.evaluate(ROWS_JS, selector)


def _values(rows) -> list[float]:
    return [float(r["value"]) if r["value"] not in (None, "") else math.nan for r in rows if "eid" in r]


def _within_groups(rows) -> dict:
    out: dict = {}
    for r in rows:
        if "eid" in r:
            out.setdefault(r["group"], []).append(float(r["value"]))
    return out


def test_clicking_a_header_sorts_within_groups_and_across_them(ws56, client, live_server, chromium):
    from urllib.parse import urlparse as parse

    base = live_server(client.application)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})  # the page's own CSP: scripts are files
    errors, foreign = [], []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: foreign.append(req.url) if parse(req.url).hostname not in ("127.0.0.1", None) else None)
    try:
        page.goto(f"{base}/")
        page.wait_for_selector("#epigenomes[data-sortable='ready']")
        before = _rows(page, "#epigenomes", "auroc")
        header = page.locator("#epigenomes thead th[data-sort-key='auroc'] button")
        header.click()
        first = _rows(page, "#epigenomes", "auroc")
        sort_state = page.get_attribute("#epigenomes thead th[data-sort-key='auroc']", "aria-sort")
        header.click()
        second = _rows(page, "#epigenomes", "auroc")
        page.locator("label.group-toggle input").uncheck()
        flat = _rows(page, "#epigenomes", "auroc")
        page.locator("#epigenomes thead th[data-sort-key='epigenome'] button").click()  # a column without data-key
        by_id = [r["eid"] for r in _rows(page, "#epigenomes", "epigenome") if "eid" in r]
        # the gene page's heatmap sorts by P(ON) the same way
        page.goto(f"{base}/genes/ALB")
        page.wait_for_selector("table.heatmap[data-sortable='ready']")
        page.locator("table.heatmap thead th[data-sort-key='probability'] button").click()
        heat = _rows(page, "table.heatmap", "probability")
    finally:
        page.close()
    assert not errors and not foreign, (errors, foreign)
    assert [r.get("heading") for r in first if "heading" in r] == [r.get("heading") for r in before if "heading" in r]
    assert sort_state == "descending"
    for group, values in _within_groups(first).items():  # largest first within each group
        assert values == sorted(values, reverse=True), group
    for group, values in _within_groups(second).items():
        assert values == sorted(values), group
    assert {r["eid"] for r in first if "eid" in r} == set(SOURCES)
    assert _values(second) != _values(first)  # the second click moved rows
    assert not any("heading" in r for r in flat)  # ungrouped: one order over all rows
    assert _values(flat) == sorted(_values(flat)) and len(_values(flat)) == len(SOURCES)
    assert _values(flat) != _values(second)  # ignoring the groups changes the order here
    assert by_id == sorted(SOURCES)  # text A to Z on the first click, over all rows
    for group, values in _within_groups(heat).items():
        assert values == sorted(values, reverse=True), group


# --- the evaluation chart ----------------------------------------------------------------------
def _chart_parts(fig):
    strip, ax = fig.axes
    bars = next(c for c in ax.containers if c.get_label() == "ShallowChrome")
    labels = [t.get_text() for t in strip.get_yticklabels()]
    positions = list(strip.get_yticks())
    return ax, bars, labels, positions


def _inside(inner, outer, tol=0.5) -> bool:
    return (inner.x0 >= outer.x0 - tol and inner.y0 >= outer.y0 - tol and inner.x1 <= outer.x1 + tol
            and inner.y1 <= outer.y1 + tol)


@pytest.mark.parametrize("subset", [None, ["E066", "E100", "U01"]])
def test_evaluation_chart_has_a_horizontal_bar_per_epigenome_with_its_name(ws56, tmp_path, subset):
    ev = Workspace.open(ws56).evaluation()
    if subset:
        ev = ev[ev["epigenome"].isin(subset)]
    fig = evaluation_figure(ev)
    ax, bars, labels, positions = _chart_parts(fig)
    ok = ev[ev["status"] == "ok"]
    assert len(bars.patches) == len(ok)
    by_label = dict(zip(labels, positions))
    for eid, tissue in zip(ok["epigenome"], ok["tissue"]):
        label = f"{eid} {NAMES[eid]}" if eid in NAMES else next(lab for lab in labels if lab.split()[0] == eid)
        assert label in by_label and "_" not in label
        mean = float(ok.loc[ok["epigenome"] == eid, "auroc_mean"].iloc[0])
        (bar,) = [p for p in bars.patches if abs(p.get_y() + p.get_height() / 2 - by_label[label]) < 1e-9]
        assert bar.get_width() == pytest.approx(mean) and bar.get_height() < 1  # horizontal: length = AUROC
    groups = [lab for lab in labels if not re.match(r"^(E\d{3}|U01)\b", lab)]
    assert groups == list(dict.fromkeys(GROUPS[e] for e in roadmap_order(list(ok["epigenome"]))))
    # DeepChrome's published AUROC where the benchmark has one: a marker per such epigenome
    markers = [c for c in ax.collections if c.get_label() == "DeepChrome"]
    n_dc = int(ok["deepchrome_auroc"].notna().sum())
    assert (len(markers[0].get_offsets()) if markers else 0) == n_dc and n_dc > 0
    # nothing clipped, the legend off the bars
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    assert _inside(fig._suptitle.get_window_extent(renderer), page)
    for t in fig.axes[0].get_yticklabels():
        assert _inside(t.get_window_extent(renderer), page), t.get_text()
    (legend,) = fig.legends
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    for t in ax.texts:  # the values column at the right
        assert _inside(t.get_window_extent(renderer), page), t.get_text()
    # the build drew this chart: a PNG of the figure's size (rows set its height)
    if subset is None:
        evaluation_chart(ev, tmp_path / "evaluation.png")
        built, drawn = Workspace.open(ws56).evaluation_chart_path.read_bytes(), (tmp_path / "evaluation.png").read_bytes()
        assert built[12:16] == b"IHDR" and built[16:24] == drawn[16:24]
        width, height = struct.unpack(">II", drawn[16:24])
        assert (width, height) == (round(fig.get_figwidth() * fig.dpi), round(fig.get_figheight() * fig.dpi))
