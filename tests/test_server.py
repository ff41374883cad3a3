"""The Flask app: every route, errors, Range/ETag/CORS on files, traversal attempts, read-only."""
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from shallowchrome.server.cli import main
from shallowchrome.server.web.app import create_app

# Tests that only read use the session's `client` over the read-only `fixture_ws` (conftest); those that
# write into the workspace (extra hub files, symlinks, the report cache, other tracks) use a copy.


@pytest.fixture(scope="module")
def ws(fixture_ws, tmp_path_factory):
    """A copy of the fixture workspace with extra hub files (a binary blob; symlinks added by a test)."""
    out = shutil.copytree(fixture_ws, tmp_path_factory.mktemp("srv") / "ws")
    # a hub file to serve even when the tracks step is not part of the build
    hub = out / "hub"
    hub.mkdir(exist_ok=True)
    if not (hub / "hub.txt").exists():
        (hub / "hub.txt").write_text("hub test\nshortLabel test\n")
    (hub / "blob.bin").write_bytes(bytes(range(256)) * 40)
    return out


@pytest.fixture(scope="module")
def ws_client(ws):
    app = create_app(ws)
    app.testing = True
    return app.test_client()


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_home_lists_epigenomes_and_links(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for eid in ("E901", "E902", "E903"):
        assert f"<td>{eid}</td>" in html
    assert "/hub/hub.txt" in html and "hgTracks?db=hg19&amp;hubUrl=http://localhost/hub/hub.txt" in html
    assert 'src="/files/evaluation.png"' in html


def test_api_epigenomes_and_model(client):
    eps = client.get("/api/epigenomes").get_json()["epigenomes"]
    assert [e["id"] for e in eps] == ["E901", "E902", "E903"]
    assert eps[2]["marks"] == ["H3K4me3", "DNase"] and 0.5 < eps[0]["auroc"]["mean"] <= 1
    model = client.get("/api/epigenomes/E901/model").get_json()
    assert set(model["weights"]) == {"H3K4me3", "H3K27me3"}
    r = client.get("/api/epigenomes/E999/model")
    assert r.status_code == 404 and "unknown or unfitted epigenome" in r.get_json()["error"]["message"]


def test_api_gene_search_and_detail(client):
    genes = client.get("/api/genes?q=gene1&limit=2").get_json()["genes"]
    assert len(genes) == 2 and all(g["symbol"].startswith("GENE1") for g in genes)
    assert client.get("/api/genes?q=").status_code == 400
    for bad in ("0", "101", "x"):
        r = client.get(f"/api/genes?q=a&limit={bad}")
        assert r.status_code == 400 and "limit" in r.get_json()["error"]["message"]
    detail = client.get("/api/genes/alb").get_json()
    (match,) = detail["matches"]
    assert match["gene"]["symbol"] == "ALB"
    per = {e["epigenome"]: e for e in match["epigenomes"]}
    e = per["E901"]
    assert set(e) >= {"features", "contributions", "logit", "probability", "p_values", "label", "rpkm", "part", "split"}
    assert e["logit"] == pytest.approx(e["bias"] + sum(e["contributions"].values()), abs=1e-4)
    for m in e["features"]:
        assert e["contributions"][m] == pytest.approx(e["features"][m] * e["weights"][m], rel=1e-4, abs=1e-6)
    same = client.get("/api/genes/ENSG00000900000").get_json()
    assert same["matches"][0]["gene"] == match["gene"]
    r = client.get("/api/genes/MYOD")
    assert r.status_code == 404 and "MYOD1" in r.get_json()["error"]["suggestions"]


def test_api_locus_for_igv_search(client):
    (hit,) = client.get("/api/locus?q=ALB").get_json()
    assert hit["end"] - hit["start"] == 10_000 and hit["chromosome"] == "chr1"
    assert client.get("/api/locus?q=").status_code == 400
    assert client.get("/api/locus?q=NOPE").status_code == 404


def test_openapi_documents_exactly_the_api_routes(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = set(doc["paths"])
    app = client.application
    # Flask rule <converter:name> is OpenAPI's {name} (gene names may hold a "/": <path:query>)
    routed = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert documented == routed
    # each documented error schema is what the API returns
    err = client.get("/api/genes/NOPE").get_json()
    assert set(err["error"]) <= set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"])


def test_pages_gene_search_browser(client):
    html = client.get("/genes/ALB").get_data(as_text=True)
    assert "ENSG00000900000" in html and html.count("<tr class=") == 3  # one row per epigenome
    assert "/browser?locus=ALB" in html and "/reports/ALB" in html
    r = client.get("/genes/MYOD")
    assert r.status_code == 404 and "MYOD1" in r.get_data(as_text=True)
    r = client.get("/search?q=alb")
    assert r.status_code == 302 and r.headers["Location"].endswith("/genes/alb")
    html = client.get("/search?q=GENE1").get_data(as_text=True)  # no gene GENE1: prefix matches
    assert "GENE10" in html and "GENE119" in html
    html = client.get("/browser?locus=ALB").get_data(as_text=True)
    assert "igv/igv.min.js" in html and '"loadDefaultGenomes": false' not in html  # options are JS, not JSON
    assert "loadDefaultGenomes: false" in html and '"chr1:' in html
    assert client.get("/browser?locus=NOPE").status_code == 404
    assert client.get("/browser?locus=chr2:1000-2000").status_code == 200
    assert client.get("/static/igv/igv.min.js").status_code == 200
    assert client.get("/no/such/page").status_code == 404


def test_range_head_etag_cors(ws_client):
    client = ws_client
    full = client.get("/hub/blob.bin")
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Range" in full.headers["Access-Control-Expose-Headers"]
    r = client.get("/hub/blob.bin", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.data == full.data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(full.data)}"
    r = client.get("/hub/blob.bin", headers={"Range": "bytes=999999-"})
    assert r.status_code == 416
    head = client.head("/hub/blob.bin")
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) == len(full.data)
    etag = full.headers["ETag"]
    assert client.get("/hub/blob.bin", headers={"If-None-Match": etag}).status_code == 304
    r = client.get("/hub/blob.bin", headers={"Range": "bytes=10-19"})
    pre = client.options("/hub/blob.bin", headers={"Origin": "http://igv.example", "Access-Control-Request-Method": "GET",
                                                   "Access-Control-Request-Headers": "Range"})
    assert pre.status_code in (200, 204) and "Range" in pre.headers["Access-Control-Allow-Headers"]
    assert r.headers["ETag"] == etag  # a range and the whole file share one ETag
    # If-Range: the range only while the file is unchanged, the whole file otherwise
    assert client.get("/hub/blob.bin", headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    stale = client.get("/hub/blob.bin", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert stale.status_code == 200 and stale.data == full.data
    assert client.get("/hub/blob.bin", headers={"Range": "bytes=0-9", "If-None-Match": etag}).status_code == 304
    multi = client.get("/hub/blob.bin", headers={"Range": "bytes=0-1,5-6"})
    assert multi.status_code == 200 and multi.data == full.data  # several ranges: ignored, whole file
    suffix = client.get("/hub/blob.bin", headers={"Range": "bytes=-16"})
    assert suffix.status_code == 206 and suffix.data == full.data[-16:]
    gz = client.get("/hub/blob.bin", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in gz.headers


def test_traversal_and_escapes_are_404(ws_client, ws, tmp_path_factory):
    client = ws_client
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, ws / "hub" / "link.txt")
    os.symlink(outside.parent, ws / "hub" / "linkdir")
    (ws / "hub" / ".hidden.tmp").write_text("partial")
    for url in ("/hub/../workspace.json", "/hub/%2e%2e/workspace.json", "/files/../../etc/passwd",
                "/files//etc/passwd", "/files/%2Fetc%2Fpasswd", "/hub/link.txt", "/hub/linkdir/secret.txt",
                "/hub/.hidden.tmp", "/files/hub/..%2F..%2Fetc/passwd", "/files/epigenomes", "/hub/nope.bb"):
        r = client.get(url, follow_redirects=True)  # werkzeug merges // with a redirect first
        assert r.status_code == 404, url
        assert b"secret" not in r.data
    assert client.get("/files/workspace.json").status_code == 200  # inside is fine


def outside_report_cache(snap: dict) -> dict:
    """A snapshot without WS/reports/cache/, the one place the server may write (the report pages)."""
    return {rel: digest for rel, digest in snap.items() if not Path(rel).is_relative_to("reports/cache")}


def test_app_is_read_only(fixture_ws_copy):
    ws = fixture_ws_copy  # a copy: /reports/ fills the workspace's report cache
    app = create_app(ws)
    app.testing = True
    client = app.test_client()
    before = snapshot(ws)
    for url in ("/", "/api/epigenomes", "/api/genes/ALB", "/genes/ALB", "/browser", "/search?q=GENE",
                "/api/epigenomes/E901/model", "/hub/hub.txt", "/files/evaluation.tsv", "/genes/ALB/pattern.svg",
                "/reports/ALB"):
        client.get(url)
        client.post(url)
        client.delete(url)
    after = snapshot(ws)
    assert outside_report_cache(after) == outside_report_cache(before)  # no route writes outside the cache
    assert set(after) - set(outside_report_cache(after))  # /reports/ALB did make its page, in the cache
    assert client.post("/api/genes/ALB").status_code == 405


def test_serve_command_help_and_bad_workspace(tmp_path):
    res = CliRunner().invoke(main, ["serve", "--help"])
    assert res.exit_code == 0 and "--debug" in res.output
    res = CliRunner().invoke(main, ["serve", str(tmp_path)])
    assert res.exit_code == 2 and "is not a ShallowChrome workspace" in res.output


def test_gene_pattern_chart(client):
    png = client.get("/genes/ALB/pattern.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:8] == b"\x89PNG\r\n\x1a\n"
    svg = client.get("/genes/alb/pattern.svg")
    assert svg.status_code == 200 and b"<svg" in svg.data
    assert client.get("/genes/ALB/pattern.svg").data == svg.data  # cached, deterministic
    # MYOD1 is in the training data of every fixture split, but its cross-fitting fold's model never saw it
    r = client.get("/genes/MYOD1/pattern.svg")
    assert r.status_code == 200 and b"<svg" in r.data
    assert client.get("/genes/NOPE/pattern.svg").status_code == 404
    assert client.get("/genes/ALB/pattern.gif").status_code == 404
    assert 'src="/genes/ENSG00000900000/pattern.svg"' in client.get("/genes/ALB").get_data(as_text=True)


def test_workspace_given_by_a_relative_path(fixture_ws_copy, monkeypatch):
    """`shallowchrome serve ws` / `demo --out name` pass relative paths; files must still be found."""
    ws = fixture_ws_copy  # a copy: /reports/ writes the report cache
    monkeypatch.chdir(ws.parent)
    app = create_app(ws.name)
    client = app.test_client()
    monkeypatch.chdir("/")  # the server's current directory must not matter afterwards
    assert client.get("/files/evaluation.png").status_code == 200
    assert client.get("/hub/hub.txt").status_code == 200
    assert client.get("/genes/ALB").status_code == 200
    report = client.get("/reports/ALB")
    assert report.status_code == 200 and b"igv" in report.data


def test_hub_on_another_assembly_is_what_the_pages_use(fixture_ws_copy, tmp_path):
    """`tracks --genome NAME --chrom-sizes FILE` puts the hub under hub/NAME: the pages and UCSC link follow it."""
    copy = fixture_ws_copy  # tmp_path / "ws"
    sizes = tmp_path / "toy.chrom.sizes"
    sizes.write_text("chr1\t3000000\nchr2\t3000000\nchr3\t3000000\n")
    res = CliRunner().invoke(main, ["tracks", str(copy), "--genome", "toy1", "--chrom-sizes", str(sizes)])
    assert res.exit_code == 0, res.output
    client = create_app(copy).test_client()
    assert "db=toy1&amp;hubUrl=" in client.get("/").get_data(as_text=True)
    html = client.get("/browser?locus=ALB").get_data(as_text=True)
    assert "/hub/toy1/E901/E901.predictions.bb" in html and "/genome/toy1.chrom.sizes" in html
    assert client.get("/genome/toy1.chrom.sizes").data.startswith(b"chr1\t3000000")
