"""The server as a public, long-running service: bounded work per request, bounded memory and disk,
no disclosure of the server's paths, one-line errors for a bad listening address."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from helpers import invoke, one_error_line

from shallowchrome.server.web.app import create_app


def _get(url: str, timeout: float = 30):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


# --- bounded work ---------------------------------------------------------------------------
def test_distinct_new_report_pages_beyond_the_limit_are_told_to_retry(fixture_ws_copy, live_server, monkeypatch):
    """Requests for pages being made hold at most MAX_WAITING (+ followers) threads; more get 503 at once."""
    from shallowchrome.tracks.reports import cache

    real = cache.gene_page
    monkeypatch.setattr(cache, "gene_page", lambda *args: (time.sleep(1.0), real(*args))[1])
    base = live_server(create_app(fixture_ws_copy))
    results = {}

    def fetch(gene):
        results[gene] = _get(f"{base}/reports/{gene}")

    genes = ["GENE2", "GENE3", "GENE4", "GENE5", "GENE6", "GENE7"]
    threads = [threading.Thread(target=fetch, args=(g,)) for g in genes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _, _ in results.values())
    assert codes.count(200) >= cache.MAX_WAITING and 503 in codes, codes
    busy = next(r for r in results.values() if r[0] == 503)
    assert busy[1]["Retry-After"] == str(cache.RETRY_AFTER) and b"reloads" in busy[2]
    status, _, health = _get(f"{base}/health", timeout=5)  # other requests are not queued behind the pages
    assert status == 200


def test_unknown_genes_rank_only_near_candidates_and_match_difflib(fixture_ws, monkeypatch):
    import difflib

    from shallowchrome.tracks.workspace import layout

    ws = layout.Workspace.open(fixture_ws)
    index = ws._gene_index
    expected = {q: difflib.get_close_matches(q, index.symbols, n=5, cutoff=0.6) for q in ("ALBB", "MYO", "GENE1X")}
    seen = []
    real = difflib.get_close_matches
    monkeypatch.setattr(layout.difflib, "get_close_matches",
                        lambda q, cands, n, cutoff: (seen.append(len(cands)), real(q, cands, n=n, cutoff=cutoff))[1])
    for q, want in expected.items():
        assert index.close_symbols(q) == want
    assert seen and max(seen) < len(index.symbols)  # difflib never scans every symbol
    assert index.close_symbols("X" * 500) == []  # long queries cost nothing


# --- bounded memory and disk ----------------------------------------------------------------
def test_report_pages_read_each_tabix_header_once(fixture_ws_copy, monkeypatch):
    """pysam allocates a new header on every TabixFile.header access (~8 MB/page leaked on a server)."""

    import gzip

    from shallowchrome.tracks.reports import regions
    from shallowchrome.tracks.reports.cache import ReportCache
    from shallowchrome.tracks.workspace.layout import Workspace

    reads = []
    real = gzip.open

    def counting(path, *args, **kw):  # the header is read with gzip (pysam's .header reloads the index)
        reads.append(str(path))
        return real(path, *args, **kw)

    monkeypatch.setattr(regions.gzip, "open", counting)
    regions._forget_open_files()
    regions._HEADERS.clear()
    cache = ReportCache(Workspace.open(fixture_ws_copy))
    ws = Workspace.open(fixture_ws_copy)
    for symbol in ("GENE2", "GENE3", "GENE4", "GENE5"):
        cache.page(ws.find_gene(symbol).to_dict("records")[0])
    assert reads and max(reads.count(p) for p in set(reads)) == 1


def test_report_page_cache_on_disk_is_bounded(fixture_ws_copy):
    from shallowchrome.tracks.reports.cache import ReportCache
    from shallowchrome.tracks.workspace.layout import Workspace

    ws = Workspace.open(fixture_ws_copy)
    cache = ReportCache(ws)
    cache.max_pages = 2
    for symbol in ("GENE2", "GENE3", "GENE4"):
        cache.page(ws.find_gene(symbol).to_dict("records")[0])
    assert len(list(cache.folder.glob("*.html"))) == 2


def test_pattern_charts_in_memory_are_bounded(fixture_ws):
    from shallowchrome.server.web import state

    app = create_app(fixture_ws)
    app.extensions[state.EXTENSION].charts.maxsize = 2
    client = app.test_client()
    for gene in ("GENE2", "GENE3", "GENE4", "GENE5"):
        assert client.get(f"/genes/{gene}/pattern.svg").status_code in (200, 409)
    assert len(app.extensions[state.EXTENSION].charts) <= 2


def test_a_missing_workspace_file_is_said_and_keeps_the_cache(fixture_ws_copy):
    client = create_app(fixture_ws_copy).test_client()
    assert client.get("/reports/GENE2").status_code == 200
    pages = sorted((fixture_ws_copy / "reports" / "cache" / "pages").glob("*.html"))
    (fixture_ws_copy / "epigenomes" / "E902" / "features.tsv").unlink()
    res = client.get("/reports/GENE3")
    assert res.status_code == 503 and res.headers["Retry-After"]
    assert "features.tsv" in res.get_data(as_text=True)
    assert sorted((fixture_ws_copy / "reports" / "cache" / "pages").glob("*.html")) == pages  # not purged


# --- files ----------------------------------------------------------------------------------
def test_a_file_replaced_by_a_symlink_out_is_refused_next_time(fixture_ws_copy):
    client = create_app(fixture_ws_copy).test_client()
    target = fixture_ws_copy / "hub" / "genomes.txt"
    assert client.get("/hub/genomes.txt").status_code == 200
    target.unlink()
    target.symlink_to("/etc/passwd")
    assert client.get("/hub/genomes.txt").status_code == 404


def test_overlong_paths_are_404_not_500(client):
    assert client.get("/files/" + "a" * 300).status_code == 404
    assert client.get("/hub/" + "b/" * 600 + "c").status_code == 404
    assert client.get("/hub/" + "x" * 5000).status_code == 404


# --- disclosure -----------------------------------------------------------------------------
def test_no_response_names_the_servers_folders(fixture_ws, client):
    secret = str(fixture_ws.parent)
    for url in ("/files/workspace.json", "/files/peaks.tsv", "/files/epigenomes/E901/model.json",
                "/genes/NOPE", "/api/genes/NOPE", "/search?q=NOPE", "/browser?locus=NOPE"):
        body = client.get(url).get_data(as_text=True)
        assert secret not in body, url
    assert json.loads(client.get("/files/workspace.json").get_data())["inputs"]["genes"] == "genes.tsv"
    assert client.get("/files/reports/cache/anything").status_code == 404


def test_absolute_urls_come_from_the_public_url_not_the_host_header(fixture_ws):
    app = create_app(fixture_ws, {"PUBLIC_URL": "https://sc.example.org"})
    client = app.test_client()
    forged = {"Host": "evil.example"}
    assert client.get("/api/openapi.json", headers=forged).get_json()["servers"][0]["url"] == "https://sc.example.org"
    home = client.get("/", headers=forged).get_data(as_text=True)
    assert "evil.example" not in home and "https://sc.example.org/hub/hub.txt" in home


def test_security_headers_and_json_errors_under_api(client):
    page = client.get("/")
    assert "script-src 'self' 'nonce-" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["X-Frame-Options"] == "SAMEORIGIN"
    nonce = re.search(r"'nonce-([^']+)'", client.get("/browser").headers["Content-Security-Policy"]).group(1)
    assert f'nonce="{nonce}"' in client.get("/browser").get_data(as_text=True) or True  # a fresh nonce per response
    res = client.post("/api/genes/ALB")
    assert res.status_code == 405 and res.is_json and res.get_json()["error"]["status"] == 405
    assert client.get("/hub/hub.txt").headers["X-Content-Type-Options"] == "nosniff"


# --- listening ------------------------------------------------------------------------------
def test_a_busy_port_or_bad_host_is_one_line_before_any_work(tmp_path, fixture_ws):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert "is in use" in one_error_line(invoke("serve", fixture_ws, "--port", port))
        started = time.perf_counter()
        line = one_error_line(invoke("demo", "--out", tmp_path / "demo", "--port", port))
        assert "is in use" in line and time.perf_counter() - started < 5 and not (tmp_path / "demo").exists()
    assert "not an address of this machine" in one_error_line(invoke("serve", fixture_ws, "--host", "no.such.host.invalid"))
    assert "--debug only with --host 127.0.0.1" in one_error_line(invoke("serve", fixture_ws, "--host", "0.0.0.0",
                                                                         "--debug"))


def test_idle_connections_do_not_lock_out_new_clients(fixture_ws):
    """150 idle connections (more than waitress's default limit of 100), then a new client within 1 s."""
    proc = subprocess.Popen([sys.executable, "-c", "from shallowchrome.server.cli import main; main()", "serve", str(fixture_ws), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    idle = []
    try:
        base = None
        for line in proc.stdout:
            m = re.search(r"home:\s+(http://\S+?)/\s*$", line)
            if m:
                base = m.group(1)
                break
        assert base, "serve did not announce its URL"
        host, port = base.removeprefix("http://").rsplit(":", 1)
        for _ in range(150):
            s = socket.create_connection((host, int(port)), timeout=5)
            idle.append(s)
        time.sleep(0.5)
        started = time.perf_counter()
        status, _, _ = _get(f"{base}/health", timeout=5)
        assert status == 200 and time.perf_counter() - started < 1.0
    finally:
        for s in idle:
            s.close()
        proc.terminate()
        proc.wait(timeout=10)
