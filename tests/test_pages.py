"""What a UCSC/IGV user expects of the pages: links to everything the workspace holds, searches that say
how many genes matched, an access log."""
from __future__ import annotations

import logging
import re

from helpers import invoke

from shallowchrome.server.web.app import create_app


def test_home_links_reports_charts_examples_and_downloads(fixture_ws_copy):
    assert invoke("weights", fixture_ws_copy).exit_code == 0
    assert invoke("report", fixture_ws_copy, "--genes", "ALB", "--no-embed").exit_code == 0
    client = create_app(fixture_ws_copy).test_client()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/reports/"' in home and 'href="/files/interpretation/weights.svg"' in home
    assert re.search(r'id="examples">Example genes:\s*<a href="/genes/ENSG\d+">ALB</a>', home)
    for eid in ("E901", "E902", "E903"):
        assert f'href="/files/epigenomes/{eid}/predictions.tsv"' in home and f'href="/hub/hg19/{eid}/{eid}.predictions.bb"' in home
    assert 'href="/hub/igv_session.xml"' in home
    for link in re.findall(r'href="(/(?:files|hub|reports|api)/[^"]*)"', home):
        assert client.get(link).status_code in (200, 302), link
    index = client.get("/reports/")
    assert index.status_code == 302 and client.get(index.headers["Location"]).status_code == 200
    assert client.get("/reports/index.html").status_code == 302


def test_reports_index_without_pages_says_how_to_make_them(client):
    res = client.get("/reports/")
    assert res.status_code == 404 and "shallowchrome report" in res.get_data(as_text=True)


def test_search_counts_matches_and_offers_no_guess_under_prefix_hits(client):
    page = client.get("/search?q=GENE").get_data(as_text=True)
    m = re.search(r'id="hit-count">(\d+) genes?\.', page) or re.search(r'id="hit-count">(\d+) of ([\d,]+) genes', page)
    assert m, page
    assert "Did you mean" not in page
    empty = client.get("/search").get_data(as_text=True)
    assert "ALB</a>" in empty and 'name="q"' in empty


def test_search_says_when_it_shows_only_the_first_matches(fixture_ws):
    from shallowchrome.server.web import pages

    app = create_app(fixture_ws)
    old, pages.SEARCH_LIMIT = pages.SEARCH_LIMIT, 5
    try:
        page = app.test_client().get("/search?q=GENE").get_data(as_text=True)
    finally:
        pages.SEARCH_LIMIT = old
    total = sum(1 for s in app.extensions["shallowchrome"].ws.genes()["symbol"] if s.upper().startswith("GENE"))
    assert f"5 of {total:,} genes starting with <strong>GENE</strong>" in page and page.count('<tr><td><a href="/genes/') == 5


def test_every_request_is_logged(client, caplog):
    with caplog.at_level(logging.INFO, logger="shallowchrome.access"):
        client.get("/api/genes/ALB")
        client.get("/nope")
    lines = [r.getMessage() for r in caplog.records if r.name == "shallowchrome.access"]
    assert re.match(r'^\S+ - - \[[^\]]+\] "GET /api/genes/ALB HTTP/1\.1" 200 \d+$', lines[0]), lines
    assert '"GET /nope HTTP/1.1" 404' in lines[1]


def test_an_invalid_locus_is_said_and_the_browser_stays_on_a_gene(client):
    page = client.get("/browser?locus=chr99:1-100").get_data(as_text=True)
    assert 'id="locus-message"' in page and "chromosome chr99 is not in the hg19 assembly" in page
    assert 'locus: "chr1:' in page  # a real locus, not the whole genome
    assert "is outside chr1" in client.get("/browser?locus=chr1:300,000,000-300,000,100").get_data(as_text=True)
    assert client.get("/api/locus?q=NOPE&missing=empty").get_json() == []


def test_a_failed_igv_search_stays_on_the_machine_and_suggests_genes(fixture_ws, live_server, chromium):
    from urllib.parse import urlparse

    base = live_server(create_app(fixture_ws))
    page = chromium.new_page(viewport={"width": 1200, "height": 800})
    foreign = []
    page.on("request", lambda req: foreign.append(req.url)
            if urlparse(req.url).hostname not in ("127.0.0.1", None) and not req.url.startswith("data:") else None)
    try:
        page.goto(f"{base}/browser?locus=ALB")
        page.wait_for_selector("#igv[data-ready='true']", state="attached", timeout=30_000)
        box = page.locator("#igv input.igv-search-input")
        box.fill("MYOD")
        box.press("Enter")
        page.wait_for_selector("#search-message:not([hidden])", timeout=15_000)
        message = page.inner_text("#search-message")
        page.wait_for_timeout(1000)  # igv.js would fetch igv.org's URL mappings now
    finally:
        page.close()
    assert "Unknown gene or locus MYOD" in message and "MYOD1" in message
    assert not foreign, foreign


def test_pages_and_reports_have_an_icon(client, fixture_ws_copy, tmp_path):
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
    assert client.get("/static/favicon.svg").status_code == 200
    assert invoke("report", fixture_ws_copy, "--genes", "ALB", "--out", tmp_path / "r").exit_code == 0
    for page in ("ALB.html", "index.html"):
        assert '<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,' in (tmp_path / "r" / page).read_text()


def test_gene_table_names_the_model_of_each_prediction(client, fixture_ws):
    """Each row of the gene page's predictions table names its cross-fitting fold (not 'None / test')."""
    from shallowchrome.tracks.workspace.layout import Workspace

    ws = Workspace.open(fixture_ws)
    html = client.get("/genes/ALB").get_data(as_text=True)
    cells = re.findall(r'<td data-key="model">([^<]*)</td>', html)
    row = int(ws.find_gene("ALB")["row"].iloc[0])
    want = sorted(f"fold {ws.predictions(e)['fold'].astype(str).iloc[row]} / test" for e in ws.epigenomes())
    assert sorted(cells) == want
