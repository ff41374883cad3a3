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
        assert f'href="/files/epigenomes/{eid}/predictions.tsv"' in home and f'href="/hub/hg19/{eid}/predictions.bb"' in home
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
