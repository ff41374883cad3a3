"""Issue 13: numbers as a scientist reads them on the real pages, in the API's JSON and the CLI.

The fixture workspace's pages are crawled (home, gene pages, the browser, compare, search, the hub's
description pages, the report pages) and every answer of the JSON routes: no negative zero, no "p = 0",
no unknown strand "(.)", no float with more than 10 significant digits in JSON, one precision per
quantity (P(ON) 3 decimals, ψ / bias / logit 2, AUROC 3), top mark "none" when no mark contributes.
"""
from __future__ import annotations

import html as htmllib
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shallowchrome import templates
from shallowchrome.tracks import numbers

PAGES = ["/", "/genes/ALB", "/genes/MYOD1", "/genes/GENE9", "/genes/ENSG00000900000", "/browser",
         "/browser?locus=ALB&epigenomes=E901,E902,E903", "/compare?a=E901&b=E902", "/compare?a=E903&b=E901&top=60",
         "/compare", "/search?q=GENE1", "/genes/NOPE"]
JSON_ROUTES = ["/api/epigenomes", "/api/epigenomes/E901/model", "/api/epigenomes/E903/model", "/api/genes/ALB",
               "/api/genes/GENE9", "/api/genes?q=GENE&limit=50", "/api/locus?q=ALB", "/api/compare?a=E901&b=E902",
               "/api/compare?a=E902&b=E903&limit=100", "/api/openapi.json", "/browser/tracks.json?epigenomes=E901,E903",
               "/browser/genes.json?chr=chr1&start=0&end=100000000"]

#: a negative zero as text: -0, -0.0, -0.00 (not -0.001, not a range "1-0", not an exponent e-0)
NEGATIVE_ZERO = re.compile(r"(?<![\w.\-])-0(?:\.0*)?(?![\d.eE])")
P_ZERO = re.compile(r"\bp\s*[=:]\s*0(?:\.0*)?(?![\d.eE])")
FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d+(?:[eE][-+]?\d+)?")


def significant_digits(literal: str) -> int:
    mantissa = re.split(r"[eE]", literal.lstrip("-"))[0].replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def visible(text: str) -> str:
    """A page without its (large, vendored) scripts and styles: the text and attributes we wrote."""
    text = re.sub(r"<script\b[^>]*>.*?</script>", lambda m: "" if len(m.group(0)) > 20_000 else m.group(0),
                  text, flags=re.S | re.I)
    return re.sub(r"<style\b[^>]*>.*?</style>", "", text, flags=re.S | re.I)


def check_page(url: str, text: str) -> None:
    text = visible(text)
    assert not NEGATIVE_ZERO.search(text), (url, NEGATIVE_ZERO.search(text), text[NEGATIVE_ZERO.search(text).start() - 80:][:160])
    plain = htmllib.unescape(re.sub(r"<[^>]+>", " ", text))
    assert not P_ZERO.search(plain) and "p=0 " not in plain, (url, P_ZERO.search(plain))
    assert "(.)" not in plain, url


def walk(doc, path="$"):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from walk(v, f"{path}.{k}")
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, doc


def check_json(url: str, text: str) -> None:
    doc = json.loads(text)
    for path, value in walk(doc):
        if isinstance(value, float):
            assert math.isfinite(value), (url, path)
            assert not (value == 0 and math.copysign(1, value) < 0), (url, path, "-0.0")
    assert not NEGATIVE_ZERO.search(text), (url, NEGATIVE_ZERO.search(text))
    noisy = [f for f in FLOAT.findall(text) if significant_digits(f) > 10]
    assert not noisy, (url, noisy[:5])


def cells(html: str, key: str) -> list[str]:
    """The texts of the ``<td data-key="KEY" ...>`` cells of a page."""
    found = re.findall(rf'<td data-key="{re.escape(key)}"[^>]*>(.*?)</td>', html, flags=re.S)
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in found]


# --- the server's pages and JSON ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", PAGES)
def test_pages_print_no_negative_zero_no_p_zero_no_unknown_strand(client, url):
    r = client.get(url)
    assert r.status_code in (200, 404), url
    check_page(url, r.get_data(as_text=True))


@pytest.mark.parametrize("url", JSON_ROUTES)
def test_json_has_no_negative_zero_and_no_binary_noise(client, url):
    r = client.get(url)
    assert r.status_code == 200, url
    check_json(url, r.get_data(as_text=True))


def test_the_json_provider_tidies_every_float(app):
    with app.app_context():
        text = app.json.dumps({"t": 2.3920000000000003, "z": -0.0, "n": float("nan"), "i": 3, "b": True,
                               "l": [0.1 + 0.2, -1e-320 * 0]})
    assert json.loads(text) == {"t": 2.392, "z": 0.0, "n": None, "i": 3, "b": True, "l": [0.3, 0.0]}
    assert "-0.0" not in text


def test_gene_page_one_precision_per_quantity(client):
    html = client.get("/genes/ALB").get_data(as_text=True)
    probabilities = cells(html, "probability")
    assert probabilities and all(re.fullmatch(r"\d\.\d{3}", p) for p in probabilities), probabilities
    logits = cells(html, "logit")
    assert logits and all(re.fullmatch(r"-?\d+\.\d{2}", v) for v in logits), logits
    bias = cells(html, "bias")
    assert bias and all(re.fullmatch(r"[+-]?\d+\.\d{2}", v) for v in bias), bias
    for mark in ("H3K4me3", "H3K27me3"):  # ψ (p ...) in the table, ψ alone in the heatmap
        values = cells(html, f"psi:{mark}")
        assert values and all(re.fullmatch(r"([+-]?\d+\.\d{2}(\s+\(p (= [\d.e+-]+|< 1e-300)\))?|—)", v)
                              for v in values), values
    assert all(re.fullmatch(r"\d\.\d{3}", p) for p in cells(html, "probability"))
    # the tooltips of the heatmap: w with 3 significant digits, ψ with 2 decimals
    for title in re.findall(r'title="([^"]*ψ = w × φ[^"]*)"', html):
        assert re.search(r"ψ = w × φ = [+-][\d.e+-]+ × [\d.e+-]+ = [+-]?\d+\.\d{2} \(p", htmllib.unescape(title)), title
    # the tss with thousands separators, the strand only when known
    assert re.search(r"chr1:53,001 \(\+\)", html)


def test_home_page_auroc_three_decimals_and_counts(client, app):
    from shallowchrome.server.web.state import data

    html = client.get("/").get_data(as_text=True)
    aurocs = cells(html, "auroc")
    assert aurocs and all(re.fullmatch(r"\d\.\d{3} ± \d\.\d{3}", a) for a in aurocs), aurocs
    assert all(re.fullmatch(r"(\d\.\d{3}|—)", a) for a in cells(html, "aupr") + cells(html, "f1"))
    with app.app_context():
        n = len(data(app).genes)
    assert f"{n:,} genes, genome" in html


def test_top_mark_is_none_when_no_mark_contributes(client, app):
    from shallowchrome.server.web.state import data

    with app.app_context():
        d = data(app)
        found = None
        for row in range(len(d.genes)):
            for rec in d.payload(row)["epigenomes"]:
                if all(not v for v in rec["contributions"].values()):
                    found = (d.gene_records[row]["gene_id"], rec["epigenome"])
                    break
            if found:
                break
    if found is None:
        pytest.skip("every fixture gene has a peak in every epigenome")
    gene_id, eid = found
    html = client.get(f"/genes/{gene_id}").get_data(as_text=True)
    row = re.search(rf'data-epigenome="{eid}">(.*?)</tr>', html.split("<h2>Predictions</h2>")[1], flags=re.S).group(1)
    assert re.search(r'data-key="top"[^>]*>none</td>', row), row
    assert numbers.top_mark({"H3K4me3": 0.0, "H3K27me3": -0.0}) is None
    assert numbers.top_mark({"H3K4me3": 0.5, "H3K27me3": -1.0}) == "H3K27me3"


def test_counts_have_thousands_separators(app):
    with app.app_context():
        text = app.jinja_env.from_string("{{ n|count }} {{ x|sig }} {{ p|p_clause }} {{ q|p_clause }}").render(
            n=102156.0, x=2.3920000000000003, p=0.0, q=0.0123)
    assert text == "102,156 2.39 p &lt; 1e-300 p = 0.0123"
    assert [numbers.sig(v) for v in (102156.4, 999.4, 1000, 0.00123, 1.234e-7)] == ["102,156", "999", "1,000", "0.00123",
                                                                                   "1.23e-07"]
    page = templates.render("hub/index.html", epigenomes=[], marks=[], window=5000, genome="hg19", n_genes=102156)
    assert "102,156 genes" in page


# --- the hub's description pages and trackDb ---------------------------------------------------------------
def test_hub_pages_and_mouseover(fixture_ws):
    hub = fixture_ws / "hub"
    pages = sorted(hub.rglob("*.html"))
    assert pages
    for page in pages:
        check_page(str(page), page.read_text())
    index = (hub / "hub.html").read_text() if (hub / "hub.html").is_file() else pages[0].read_text()
    weights = re.findall(r"<td>([^<]*\(p [=<][^<]*\))</td>", index)  # weight (p-value) per epigenome and mark
    assert weights and all(re.fullmatch(r"[+-][\d.]+(e[+-]\d+)? \(p (= [\d.e+-]+|< 1e-300)\)", w) for w in weights), weights
    biases = re.findall(r"\n<td>([^<&]*)</td><td>", index)
    assert biases and all(re.fullmatch(r"[+-]?\d+\.\d{2}", b) for b in biases), biases
    trackdb = next(hub.rglob("trackDb.txt")).read_text()
    assert "top mark $top_mark (psi $top_contrib)" in trackdb


# --- report pages (they write a cache: a copy and an app of their own) -------------------------------------
def test_report_pages(fixture_ws_copy):
    from helpers import invoke

    from shallowchrome.server.web.app import create_app

    made = invoke("report", str(fixture_ws_copy), "--genes", "ALB,GENE9")  # the index of /reports/
    assert made.exit_code == 0, made.output
    app = create_app(fixture_ws_copy)
    app.testing = True
    client = app.test_client()
    for url in ("/reports/ALB", "/reports/MYOD1", "/reports/GENE9", "/reports/"):
        r = client.get(url, follow_redirects=True)
        assert r.status_code == 200, url
        text = r.get_data(as_text=True)
        check_page(url, text)
        if url == "/reports/ALB":
            body = visible(text)
            assert "(.)" not in body
            assert re.search(r"chr1:53,001 \(\+\)", text)


# --- the CLI ---------------------------------------------------------------------------------------------
def test_explain_json_and_tsv(fixture_ws):
    from helpers import invoke

    result = invoke("explain", str(fixture_ws), "ALB", "GENE9", "--format", "json")
    assert result.exit_code == 0, result.output
    check_json("explain json", result.output)
    result = invoke("explain", str(fixture_ws), "ALB", "GENE9", "--format", "tsv")
    assert result.exit_code == 0, result.output
    assert not NEGATIVE_ZERO.search(result.output)


def test_weights_lines(fixture_ws_copy):
    from helpers import invoke

    result = invoke("weights", str(fixture_ws_copy), "--out", str(fixture_ws_copy.parent / "w.tsv"))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("E90")]
    assert lines
    for line in lines:
        term, value = line.split()[1:3]
        pattern = r"[+-]?\d+\.\d{2}" if term == "bias" else r"[+-]?[\d.]+(e[+-]\d+)?"
        assert re.fullmatch(pattern, value.split("*")[0].split("(")[0]), line
    assert not NEGATIVE_ZERO.search((fixture_ws_copy.parent / "w.tsv").read_text())


# --- igv.js popups ------------------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_igv_popups_readable_names_and_numbers():
    script = Path(templates.static_folder()) / "igv_safe.js"
    items = [{"name": "Contrib_H3K4me3", "value": "-0.0001"}, {"name": "contrib_H3K27me3", "value": "0.971"},
             {"name": "Pvalue_H3K4me3", "value": "0"}, {"name": "pvalue_DNase", "value": "1.234e-05"},
             {"name": "Probability", "value": "0.92345"}, {"name": "Strand", "value": "."},
             {"name": "Strand", "value": "-"}, {"name": "rpkm", "value": "nan"}, {"name": "Rpkm", "value": "102156.4"}, {"name": "Top_contrib", "value": "-1.2"},
             {"name": "psi_H3K27me3", "value": "-0.456"}, {"name": "P(ON)", "value": "0.5"}]
    code = (f"global.window = {{}}; require({json.dumps(str(script))});"
            f"console.log(JSON.stringify({json.dumps(items)}.map(window.shallowchromePopupItem)));")
    out = json.loads(subprocess.run(["node", "-e", code], capture_output=True, text=True, check=True).stdout)
    assert out == [{"name": "H3K4me3 ψ", "value": "0.00"}, {"name": "H3K27me3 ψ", "value": "+0.97"},
                   {"name": "p (H3K4me3)", "value": "< 1e-300"}, {"name": "p (DNase)", "value": "1.23e-05"},
                   {"name": "P(ON)", "value": "0.923"}, None, {"name": "Strand", "value": "-"},
                   {"name": "RPKM", "value": "NA"}, {"name": "RPKM", "value": "102,156"}, {"name": "top mark ψ", "value": "-1.20"},
                   {"name": "H3K27me3 ψ", "value": "-0.46"}, {"name": "P(ON)", "value": "0.500"}]
