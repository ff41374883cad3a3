"""Per-gene report pages (igv-reports): files, index, unknown genes, genes without data, the server route,
and the pages in headless Chromium (tracks shown, one table row per epigenome, no request leaves the machine)."""
import gzip
import json
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import build_fixture, invoke

from shallowchrome.model.errors import InputError
from shallowchrome.server.web.app import create_app
from shallowchrome.tracks.reports.context import ReportContext, ReportOptions
from shallowchrome.tracks.reports.igv import IGV_REPORT_DEFAULTS, SequenceLessReader, sequence_less
from shallowchrome.tracks.reports.regions import ensure_copy, fetch_lines, peak_bed_text
from shallowchrome.tracks.reports.write import resolve_genes, write_reports
from shallowchrome.tracks.workspace.layout import UnknownGeneError, Workspace

FIXTURE = Path(__file__).parent / "data" / "fixture"
EIDS = ["E901", "E902", "E903"]

IGV_STATE = """async () => {
  const b = window.igvBrowser;
  const out = [];
  for (const t of b.findTracks(t => t.featureSource)) {
    const features = await t.featureSource.getFeatures({chr: b.referenceFrameList[0].chr, start: 0, end: 1e9});
    out.push({name: t.name, type: t.type, n: features.length});
  }
  return {tracks: out, locus: b.currentLoci(), roi: b.roiManager.roiSets.length};
}"""


def fixture_segmentation(path: Path) -> Path:
    """A ChromHMM segmentation of the fixture's chromosomes: 2 kb segments cycling through four states."""
    states = ["1_TssA", "7_Enh", "13_ReprPC", "15_Quies"]
    lines = [f"{c}\t{s}\t{s + 2000}\t{states[(s // 2000) % 4]}" for c in ("chr1", "chr2", "chr3")
             for s in range(0, 2_000_000, 2000)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def ws(fixture_ws, tmp_path_factory) -> Path:
    """The fixture workspace (E901, E902, E903), with a ChromHMM segmentation recorded for E901: a copy of the
    session's (conftest), as `chromhmm` and the reports write into it."""
    root = tmp_path_factory.mktemp("reports")
    out = shutil.copytree(fixture_ws, root / "ws")
    seg = fixture_segmentation(root / "E901_segments.bed")
    res = invoke("chromhmm", out, "--segmentation", f"E901={seg}")
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def pages(ws, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pages") / "reports"
    result = write_reports(ws, ["ALB", "myod1", "GENE9", "ENSG00000900000"], out=out)
    assert [p.name for p in result.pages] == ["ALB.html", "MYOD1.html", "GENE9.html"] and not result.unknown
    return out


def artifacts() -> Path:
    path = Path(os.environ.get("SHALLOWCHROME_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def table_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-epigenome="(E\d+)"', html)


# --- files -----------------------------------------------------------------------------------
def test_pages_fill_igv_reports_placeholders_and_need_no_cdn(pages):
    html = (pages / "ALB.html").read_text()
    assert "@SESSION_DICTIONARY@" not in html and "@TABLE_JSON@" not in html and "SHALLOWCHROME_IGV_JS" not in html
    assert 'const sessionDictionary = {"0": "data:application/gzip;base64,' in html
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)  # no CDN, nothing remote
    assert "igv.createBrowser" in html and len(html) > 1_000_000  # igv.js inlined
    assert table_rows(html) == EIDS
    assert "<svg" in html and "ALB · E901" not in html  # the chart is inline SVG (text drawn as paths)


def test_pages_are_deterministic_with_any_number_of_jobs(ws, pages, tmp_path):
    write_reports(ws, ["ALB", "MYOD1", "GENE9"], out=tmp_path, jobs=2)
    for name in ("ALB.html", "MYOD1.html", "GENE9.html", "index.html", "index.json"):
        assert (tmp_path / name).read_bytes() == (pages / name).read_bytes(), name


def test_index_lists_the_pages_with_headline_numbers(pages):
    doc = json.loads((pages / "index.json").read_text())
    assert [p["file"] for p in doc["pages"]] == ["ALB.html", "GENE9.html", "MYOD1.html"]
    assert doc["epigenomes"] == EIDS
    alb = doc["pages"][0]["epigenomes"]["E901"]
    assert 0 <= alb["probability"] <= 1 and alb["predicted"] in ("ON", "OFF") and alb["measured"] in ("ON", "OFF")
    html = (pages / "index.html").read_text()
    assert all(f'href="{f}"' in html for f in ("ALB.html", "GENE9.html", "MYOD1.html"))
    assert "<script>" in html and "src=" not in html  # sorting is inline


def test_index_keeps_pages_of_earlier_runs(ws, tmp_path):
    write_reports(ws, ["ALB"], out=tmp_path)
    write_reports(ws, ["GENE9"], out=tmp_path)
    (tmp_path / "GENE9.html").unlink()
    write_reports(ws, ["MYOD1"], out=tmp_path)
    doc = json.loads((tmp_path / "index.json").read_text())
    assert [p["file"] for p in doc["pages"]] == ["ALB.html", "MYOD1.html"]  # a deleted page leaves the index


def test_gene_in_the_training_part_of_some_splits_says_which_model_explains_it(pages):
    html = (pages / "GENE9.html").read_text()  # in the train part of every split in E901 and E902 ...
    # ... but not of its cross-fitting fold's model, which explains it in every epigenome
    assert "no leak-free model" not in html and len(re.findall(r"<td>fold \d+ \(test\)", html)) == 3
    assert "(no peak)" in html and "0 peaks" in html  # no peak of H3K4me3 in its window


def test_chromhmm_state_column_and_track_when_a_segmentation_is_recorded(ws, pages):
    html = (pages / "ALB.html").read_text()
    assert "ChromHMM<br>at TSS" in html and "<td>13_ReprPC</td>" in html  # ALB's TSS 53000 is in 52000-54000
    copy = ws / "reports" / "cache" / "chromhmm" / "E901.bed.gz"
    assert copy.is_file() and Path(f"{copy}.csi").is_file()
    assert fetch_lines(copy, "chr1", 52000, 54000) == ["chr1\t52000\t54000\t13_ReprPC"]


def test_chromhmm_state_legend_names_every_state_in_its_track_colour(pages):
    html = (pages / "ALB.html").read_text()
    legend = re.search(r'<span id="chromhmm-legend">(.*?)</span></li>', html, re.S).group(1)
    states = re.findall(r'background: (rgb\([\d,]+\))"></span>(\d+_\w+)', legend)
    assert [s for _, s in states][:2] == ["1_TssA", "2_TssAFlnk"] and len(states) == 15
    assert dict((s, c) for c, s in states)["15_Quies"] == "rgb(235,235,235)"  # light grey, not white


# --- errors and edge cases -------------------------------------------------------------------
def test_unknown_genes_skipped_with_a_warning_or_an_error_when_none_is_known(ws, tmp_path):
    res = invoke("report", ws, "--genes", "ALB,NOTAGENE,MYOD", "--out", tmp_path / "a")
    assert res.exit_code == 0, res.output
    assert re.search(r"warning: skipped 2 unknown gene\(s\): NOTAGENE( \(did you mean [^)]*\))?, MYOD \(did you "
                     r"mean MYOD1\?\)", res.output), res.output
    assert (tmp_path / "a" / "ALB.html").is_file()
    res = invoke("report", ws, "--genes", "MYOD", "--out", tmp_path / "b")
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "did you mean MYOD1?" in res.output
    res = invoke("report", ws, "--genes", "MYOD,XYZ", "--out", tmp_path / "b")
    assert res.exit_code == 2
    assert "none of the genes is in this workspace: MYOD (did you mean MYOD1?), XYZ" in res.output
    assert not (tmp_path / "b").exists()
    with pytest.raises(UnknownGeneError):
        write_reports(ws, ["MYOD"], out=tmp_path / "c")


@pytest.mark.parametrize("argv, expected", [
    (["--genes", "ALB", "--epigenomes", "E999"], "no model for epigenome(s) E999"),
    (["--genes", "ALB", "--flank", "0"], "Invalid value for '--flank'"),
    (["--genes-file", "missing.txt"], "missing.txt: file not found"),
    ([], "give genes with --genes"),
])
def test_errors_are_one_line(ws, argv, expected):
    res = invoke("report", ws, *argv)
    assert res.exit_code == 2 and expected in res.output


def test_genes_file_epigenomes_and_no_embed(ws, tmp_path):
    listing = tmp_path / "genes.txt"
    listing.write_text("# genes to report\nALB\tMYOD1\nGENE9, ALB\n")
    res = invoke("report", ws, "--genes-file", listing, "--epigenomes", "E902,E901", "--no-embed", "--flank", "3000",
                 "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "MYOD1.html").read_text()
    assert '<script src="/static/igv/igv.min.js"></script>' in html and len(html) < 300_000
    assert table_rows(html) == ["E902", "E901"]
    assert "chr1:55,001-61,001" in html  # TSS 58000 (0-based) ± 3000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ALB.html", "GENE9.html", "MYOD1.html",
                                                                      "index.html", "index.json"]


def test_a_workspace_without_hub_says_how_to_make_it(ws, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("hub", "reports"))
    res = invoke("report", copy, "--genes", "ALB")
    assert res.exit_code == 2 and f"run `shallowchrome tracks {copy}` first" in res.output


@pytest.fixture(scope="module")
def ws_no_expression(tmp_path_factory) -> Path:
    """The fixture workspace built without ALB's expression."""
    root = tmp_path_factory.mktemp("noexpr")
    lines = gzip.decompress((FIXTURE / "rpkm.tsv.gz").read_bytes()).decode().splitlines()
    kept = [line for line in lines if not line.startswith("ENSG00000900000")]
    assert len(kept) == len(lines) - 1
    (root / "rpkm.tsv").write_text("\n".join(kept) + "\n")
    return build_fixture(root / "ws", expression=root / "rpkm.tsv")


@pytest.fixture(scope="module")
def page_without_expression(ws_no_expression, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("noexpr_pages")
    (page,) = write_reports(ws_no_expression, ["ALB"], out=out).pages
    return page


def test_gene_without_expression_renders_its_predictions(page_without_expression):
    html = page_without_expression.read_text()
    why = html.index('<h2 id="why">')
    assert table_rows(html) == EIDS and html[:why].count("no expression data") == 4  # 3 rows + the summary line
    assert why_table(html).count("no expression data") == 2  # and both sides of "why ON in A but OFF in B"
    assert html.count(">all labelled genes (none)") == 3  # no fold holds it: the model fitted on every labelled gene
    doc = json.loads((page_without_expression.parent / "index.json").read_text())
    assert all(e["measured"] is None and e["explained"] for e in doc["pages"][0]["epigenomes"].values())


def test_gene_without_expression_opens_in_chromium(page_without_expression, chromium):
    page, foreign = open_page(chromium, page_without_expression.as_uri(),
                              lambda url: url.startswith(("file:", "data:")))
    try:
        assert page.eval_on_selector_all("#epigenomes tbody tr", "rows => rows.length") == 3
    finally:
        page.close()
    assert not foreign


def test_file_names_are_safe_and_unique(ws):
    ctx = ReportContext(Workspace.open(ws), ["E901"])
    assert ctx.page_name({"symbol": "ALB", "gene_id": "ENSG1"}) == "ALB"
    assert ctx.page_name({"symbol": "A/B C", "gene_id": "ENSG1"}) == "A_B_C"
    assert ctx.page_name({"symbol": "", "gene_id": "ENSG1"}) == "ENSG1"
    assert ctx.page_name({"symbol": "index", "gene_id": "ENSG1"}) == "index_ENSG1"
    assert ctx.page_name({"symbol": "..", "gene_id": "ENSG1"}) == "ENSG1"
    ctx._ambiguous = {"TWIN"}
    assert ctx.page_name({"symbol": "twin", "gene_id": "ENSG2"}) == "twin_ENSG2"
    with pytest.raises(InputError, match="--flank 0 is out of range"):
        ReportOptions(flank=0).check()


# --- igv-reports, offline ----------------------------------------------------------------------
def test_report_args_cover_every_option_create_report_reads():
    from igv_reports import report

    source = Path(report.__file__).read_text()
    used = set(re.findall(r"\bargs\.(\w+)", source))
    assert used <= set(IGV_REPORT_DEFAULTS), used - set(IGV_REPORT_DEFAULTS)


def test_sequence_less_reader_is_substituted_only_while_active(monkeypatch):
    from types import SimpleNamespace

    from igv_reports import datauri, report

    # gzip's clock moves 10 s per reading, so that two data URIs stamped with the time always differ
    clock = iter(range(1_000_000_000, 2_000_000_000, 10))
    monkeypatch.setattr(gzip, "time", SimpleNamespace(time=lambda: next(clock)))
    assert datauri.get_data_uri("x") != datauri.get_data_uri("x")  # igv-reports alone: the time in the header
    before = report.FastaReader, datauri.compress
    with sequence_less({"chr1": 100}):
        reader = report.FastaReader("ignored")
        assert reader.slice({"chr": "chr1", "start": 91, "end": 200}) == "N" * 10
        assert reader.get_reference_length("chr1") == 100
        assert datauri.get_data_uri("x") == datauri.get_data_uri("x")  # no time stamp in the gzip header
    assert (report.FastaReader, datauri.compress) == before
    assert datauri.get_data_uri("x") != datauri.get_data_uri("x")  # restored: stamped with the time again
    with pytest.raises(KeyError):
        SequenceLessReader({}).get_reference_length("chr1")


def test_indexed_copy_is_rebuilt_when_its_source_changes(tmp_path):
    source = tmp_path / "E1-H3K4me3.narrowPeak"
    source.write_text("chr2\t10\t20\t.\t0\t.\t5.5\t-1\t-1\t-1\nchr1\t30\t40\t.\t0\t.\t2\t-1\t-1\t-1\n")
    copy = tmp_path / "copies" / "E1-H3K4me3.narrowPeak.bed.gz"
    ensure_copy(copy, source, lambda s: peak_bed_text(s, "narrowPeak"))
    assert fetch_lines(copy, "chr2", 0, 100) == ["chr2\t10\t20\t5.5"] and fetch_lines(copy, "chrX", 0, 9) == []
    source.write_text("chr2\t10\t20\t.\t0\t.\t7\t-1\t-1\t-1\n")
    os.utime(source, ns=(1, 1))
    ensure_copy(copy, source, lambda s: peak_bed_text(s, "narrowPeak"))
    assert fetch_lines(copy, "chr2", 0, 100) == ["chr2\t10\t20\t7"] and fetch_lines(copy, "chr1", 0, 100) == []
    assert sorted(p.name for p in copy.parent.iterdir()) == [copy.name, f"{copy.name}.csi", f"{copy.name}.source.json"]


# --- in Chromium -----------------------------------------------------------------------------
def open_page(chromium, url: str, local):
    """A Chromium page at ``url`` with the igv view ready; returns (page, requests not satisfying ``local``)."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)  # Playwright polls with eval
    foreign, errors = [], []
    page.on("request", lambda req: None if local(req.url) else foreign.append(req.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("document.getElementById('igvDiv').dataset.ready === 'true' || "
                           "document.getElementById('igvDiv').dataset.error", timeout=30_000)
    assert page.evaluate("document.getElementById('igvDiv').dataset.error") is None
    assert not errors, errors
    return page, foreign


def test_embedded_page_shows_the_tracks_in_chromium_from_disk(pages, chromium):
    page, foreign = open_page(chromium, (pages / "ALB.html").as_uri(),
                              lambda url: url.startswith(("file:", "data:")))
    try:
        state = page.evaluate(IGV_STATE)
        rows = page.eval_on_selector_all("#epigenomes tbody tr", "rows => rows.map(r => r.dataset.epigenome)")
        page.screenshot(path=str(artifacts() / "report_ALB.png"), full_page=True)
    finally:
        page.close()
    assert not foreign, f"requests left the page: {foreign[:5]}"
    assert rows == EIDS
    assert state["locus"] == "chr1:43001-63001" and state["roi"] == 1
    tracks = {t["name"]: t for t in state["tracks"]}
    for eid in EIDS:
        prediction = next(t for name, t in tracks.items() if name.startswith(eid) and name.endswith("prediction"))
        assert prediction["n"] == 2  # ALB and MYOD1, whose window overlaps
    peaks = {name.rsplit(" ", 1)[0]: t for name, t in tracks.items() if name.endswith(("Peak", " bed"))}
    assert peaks["E901 H3K4me3"]["n"] >= 1 and peaks["E901 H3K27me3"]["n"] >= 1  # in the explaining model's format
    assert tracks["E901 H3K4me3 \u03c8"]["type"] == "wig" and tracks["E901 H3K4me3 \u03c8"]["n"] >= 1
    assert tracks["E901 ChromHMM"]["n"] == 11 and "E902 ChromHMM" not in tracks
    assert {"E903 H3K4me3", "E903 DNase"} <= set(peaks) and "E903 DNase \u03c8" in tracks


@pytest.fixture
def served(ws, tmp_path, live_server):
    """A private copy of the workspace (its report cache starts empty), served by waitress."""
    copy = tmp_path / "ws"
    shutil.copytree(ws, copy, ignore=shutil.ignore_patterns("reports"))
    app = create_app(copy)
    return copy, app, live_server(app)


def test_server_page_uses_the_servers_igv_js_and_stays_local(served, chromium):
    root, app, base = served
    page, foreign = open_page(chromium, f"{base}/reports/MYOD1",
                              lambda url: url.startswith("data:") or urlparse(url).hostname == "127.0.0.1")
    try:
        names = page.evaluate("window.igvBrowser.findTracks(t => t.name).map(t => t.name)")
        rows = page.eval_on_selector_all("#epigenomes tbody tr", "rows => rows.length")
        links = page.eval_on_selector_all("header.bar a", "links => links.map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert not foreign, foreign[:5]
    assert rows == 3 and "E902 prediction" in names and "E901 ChromHMM" in names
    assert links == ["/genes/ENSG00000900001", "/browser?locus=ENSG00000900001", "/reports/ENSG00000900001?embed=1"]


def test_server_route_generates_caches_and_regenerates_after_a_model_change(served):
    root, app, base = served
    client = app.test_client()
    first = client.get("/reports/ALB")
    assert first.status_code == 200 and first.mimetype == "text/html"
    html = first.get_data(as_text=True)
    assert '<script src="/static/igv/igv.min.js"></script>' in html and table_rows(html) == EIDS
    cache = app.extensions["shallowchrome.reports"]
    folder = root / "reports" / "cache" / "pages"
    (cached,) = folder.glob("ALB.noembed.*.html")
    assert cache.generated == 1 and cached.read_text() == html
    assert client.get("/reports/alb").get_data(as_text=True) == html and cache.generated == 1  # from the cache
    assert client.get("/reports/ENSG00000900000").status_code == 200 and cache.generated == 1
    embedded = client.get("/reports/ALB?embed=1")
    assert embedded.status_code == 200 and len(embedded.get_data()) > 1_000_000 and cache.generated == 2
    model = root / "epigenomes" / "E901" / "model.json"
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # the model changed
    again = client.get("/reports/ALB")
    assert again.status_code == 200 and cache.generated == 3
    (fresh,) = folder.glob("ALB.noembed.*.html")
    assert fresh != cached and not cached.exists()  # the stale page is gone


def test_concurrent_first_requests_make_one_page(served):
    root, app, base = served
    import urllib.request

    bodies, errors = [], []

    def fetch():
        try:
            with urllib.request.urlopen(f"{base}/reports/GENE9", timeout=60) as r:
                bodies.append(r.read())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(bodies) == 4 and len(set(bodies)) == 1
    assert app.extensions["shallowchrome.reports"].generated == 1
    assert [p.name for p in (root / "reports" / "cache" / "pages").iterdir() if p.name.startswith(".")] == []


def test_server_unknown_gene_is_a_404_with_suggestions(served):
    root, app, base = served
    r = app.test_client().get("/reports/MYOD")
    html = r.get_data(as_text=True)
    assert r.status_code == 404 and "unknown gene &#39;MYOD&#39;" in html and 'href="/reports/MYOD1"' in html
    assert not (root / "reports" / "cache" / "pages").exists()


# --- many epigenomes: a few explained and shown, every one listed and one click away --------------
@pytest.fixture
def one_shown(monkeypatch):
    """Pages that explain and show one epigenome by default (the best-modelled), as 4 of 56 would be."""
    from shallowchrome.tracks.reports import context

    monkeypatch.setattr(context, "DEFAULT_SHOWN", 1)


def more_tracks(html: str) -> list[dict]:
    text = re.search(r'<script type="application/json" id="sc-more-tracks">(.*?)</script>', html, re.S).group(1)
    assert "<" not in text and "@" not in text  # nothing closes the element or looks like a marker
    return json.loads(text)


def test_a_page_explains_the_best_modelled_and_lists_every_epigenome(ws, one_shown):
    from shallowchrome.tracks.reports.page import gene_page

    ctx = ReportContext(Workspace.open(ws), None, ReportOptions(embed=False))
    aurocs = {e: ctx.sources[e].auroc for e in EIDS}
    best = max(EIDS, key=lambda e: aurocs[e])
    assert ctx.ranked()[0] == best and ctx.default_shown() == [best]
    genes, _ = resolve_genes(ctx.ws, ["ALB"])
    page = gene_page(ctx, genes[0])
    html = page.html
    assert table_rows(html) == [best]  # the explained epigenome's table
    assert re.findall(r'<tr data-eid="(E\d+)"', html) == EIDS  # every epigenome is listed ...
    assert html.count('class="sc-show"') == 3 and html.count(" checked>") == 1  # ... with its box
    hidden = more_tracks(html)  # ... and its tracks embedded, not loaded
    assert {t["scEpigenome"] for t in hidden} == set(EIDS) - {best}
    assert all(t["url"].startswith("data:application/gzip;base64,") for t in hidden)
    orders = [t["order"] for t in hidden]
    assert orders == sorted(orders) and min(orders) > 1  # each takes its place when loaded
    summary = page.summary["epigenomes"]
    assert list(summary) == EIDS and summary[best]["source"] == "explanation" and summary[best]["explained"]
    for eid in set(EIDS) - {best}:  # the hub's prediction item: the interpretation model's numbers
        assert summary[eid]["source"] == "hub" and not summary[eid]["explained"]
        assert 0 <= summary[eid]["probability"] <= 1 and summary[eid]["predicted"] in ("ON", "OFF")
    again = gene_page(ctx, genes[0], ["E903"])  # another epigenome asked for: explained too
    assert table_rows(again.html) == sorted({best, "E903"}, key=EIDS.index)


def test_the_epigenomes_to_show_are_checked(ws, monkeypatch):
    from shallowchrome.tracks.reports import context
    from shallowchrome.tracks.reports.context import SelectionError

    ctx = ReportContext(Workspace.open(ws), None)
    assert ctx.shown(["E903", " E901 ", ""]) == EIDS  # the default ones (all 3 here) plus those named
    with pytest.raises(SelectionError, match=r"unknown epigenome\(s\) to show: e901 \(did you mean E901\?\), "
                                             r"E999; fix: pick epigenomes of this workspace \(E901, E902, E903\)"):
        ctx.shown(["e901", "E999"])
    monkeypatch.setattr(context, "DEFAULT_SHOWN", 1)
    monkeypatch.setattr(context, "MAX_SHOWN", 2)
    with pytest.raises(SelectionError, match="3 epigenomes to show .* a page explains at most 2"):
        ctx.shown(EIDS)


def test_page_control_adds_and_removes_an_epigenomes_tracks_in_chromium(ws, one_shown, tmp_path, chromium):
    result = write_reports(ws, ["ALB"], out=tmp_path)
    html = result.pages[0].read_text()
    best = table_rows(html)[0]
    other = next(e for e in EIDS if e != best)
    page, foreign = open_page(chromium, result.pages[0].as_uri(), lambda url: url.startswith(("file:", "data:")))
    names = "() => window.igvBrowser.findTracks(t => t.config && t.config.scEpigenome).map(t => t.name)"
    try:
        before = page.evaluate(names)
        page.check(f'input.sc-show[data-eid="{other}"]')
        page.wait_for_function(f"() => window.igvBrowser.findTracks(t => t.config && t.config.scEpigenome === "
                               f"'{other}').length > 0 && !document.querySelector('input[data-eid=\"{other}\"]').disabled")
        added = page.evaluate(IGV_STATE)
        both = [n.split()[0] for n in page.evaluate(names)]
        count = page.inner_text("#sc-count")
        page.uncheck(f'input.sc-show[data-eid="{best}"]')
        page.wait_for_function(f"() => !document.querySelector('input[data-eid=\"{best}\"]').disabled")
        after = page.evaluate(names)
        page.fill("#sc-filter", other.lower())
        visible = page.eval_on_selector_all("#all-epigenomes tbody tr", "rows => rows.filter(r => !r.hidden).length")
    finally:
        page.close()
    assert not foreign
    assert before and all(n.startswith(best) for n in before)  # only the explained epigenome at first
    prediction = next(t for t in added["tracks"] if t["name"].startswith(other) and t["name"].endswith("prediction"))
    assert prediction["n"] == 2 and count == "2"  # its items came with the page: ALB and MYOD1
    assert both == sorted(both, key=EIDS.index)  # in workspace order, wherever it was added
    assert after and all(n.startswith(other) for n in after)  # the first one's tracks are gone
    assert visible == 1


def test_server_selection_is_in_the_page_cache_key_and_bad_ids_are_a_400(served, one_shown):
    root, app, base = served
    client = app.test_client()
    default = client.get("/reports/ALB")
    chosen = client.get("/reports/ALB?epigenomes=E903&epigenomes=E901")
    assert default.status_code == chosen.status_code == 200
    assert len(table_rows(default.get_data(as_text=True))) == 1
    html = chosen.get_data(as_text=True)
    assert set(table_rows(html)) >= {"E901", "E903"}
    extra = ",".join(e for e in table_rows(html) if e not in table_rows(default.get_data(as_text=True)))
    assert f'href="/reports/ENSG00000900000?embed=1&amp;epigenomes={extra}"' in html  # the copy keeps them
    assert 'id="sc-explain"' in html  # a server page can be asked for other epigenomes
    pages = sorted(p.name for p in (root / "reports" / "cache" / "pages").glob("ALB.noembed.*.html"))
    assert len(pages) == 2 and len({p.split(".")[2] for p in pages}) == 2  # one per selection, same key
    assert client.get("/reports/ALB?epigenomes=E901,E903").get_data() == chosen.get_data()  # from the cache
    bad = client.get("/reports/ALB?epigenomes=E999")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "unknown epigenome(s) to show: E999; fix: pick epigenomes" in text
    assert "Traceback" not in text and len(list((root / "reports" / "cache" / "pages").iterdir())) == 2


def test_warm_up_reads_ahead_and_the_server_adopts_its_context(ws, tmp_path):
    import time

    from shallowchrome.tracks.reports import cache as report_cache

    root = shutil.copytree(ws, tmp_path / "ws", symlinks=True)
    snapshot = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    pinned = Workspace.open(root).pin()
    ctx = report_cache.warm_up(pinned)
    assert ctx is not None and "splits" in ctx.explain_cache
    assert {("view", e) for e in ctx.default_shown()} <= set(ctx.explain_cache)  # read, fitted
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == snapshot  # nothing written
    cache = report_cache.ReportCache(pinned)
    assert cache._base(pinned) is ctx  # the first page starts from it, taken once
    assert report_cache._warmed(pinned, report_cache.data_key(pinned)) is None
    # an app warms its workspace up in a thread, unless told not to
    other = shutil.copytree(ws, tmp_path / "other", symlinks=True)
    create_app(other, {"REPORTS_WARMUP": False})
    app = create_app(root)
    where = (str(root), str(Workspace.open(root).pin().data))
    deadline = time.monotonic() + 60
    while where not in report_cache._WARM and time.monotonic() < deadline:
        time.sleep(0.1)
    assert where in report_cache._WARM and not any(k[0] == str(other) for k in report_cache._WARM)
    assert app.test_client().get("/reports/ALB").status_code == 200 and where not in report_cache._WARM


# --- the peak index ------------------------------------------------------------------------------------
def index_files(ws_root: Path) -> dict:
    folder = ws_root / "reports" / "cache" / "peaks"
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_build_indexes_each_input_content_once_and_rebuilds_only_what_changed(fixture_ws, tmp_path):
    from shallowchrome.tracks.workspace.pipeline import peak_index_step

    root = shutil.copytree(fixture_ws, tmp_path / "ws", symlinks=True)
    ws = Workspace.open(root)
    info = ws.info
    recorded = {rec["sha256"]: rec["format"] for e in info["epigenomes"].values()
                for rec in e["inputs"]["peaks"].values()}
    files = index_files(root)
    expected = {f"{sha[:32]}.{fmt}.bed.gz{suffix}" for sha, fmt in recorded.items()
                for suffix in ("", ".csi", ".source.json")}
    assert set(files) == expected  # made by the build (its peak index step), one per content
    stamp = json.loads((ws.peak_index_dir / next(n for n in files if n.endswith(".json"))).read_text())
    assert set(stamp) == {"version", "sha256", "format"}  # no path, no time: the same in every build
    (ws.peak_index_dir / "E901-H3K4me3.broadPeak.bed.gz.tbi").write_text("left by an older version")
    assert peak_index_step(ws, jobs=2) == (len(recorded), {})
    assert index_files(root) == files  # nothing made again, the stale file gone
    # a copy lost, and an input changed since the build: the first is made again, the second refused
    ctx = ReportContext(ws, None)
    lost, *others = ctx.input_copies()
    lines = fetch_lines(lost.copy, "chr1", 0, 10**9)
    lost.copy.unlink()
    other = next(c for c in others if c.copy != lost.copy)
    changed = tmp_path / "changed"
    shutil.copy(other.source, changed)  # the workspace's inputs are the fixture's: pretend on a copy
    eid, key = next((e, k) for e in EIDS for k, c in ctx.sources[e].peak_copies.items() if c == other)
    ctx.sources[eid].peak_copies[key] = type(other)(other.copy.with_name("0" * 32 + ".x.bed.gz"), changed,
                                                    other.fmt, "f" * 64)
    path, note = ctx.peak_copy(eid, *key)
    assert path is None and "changed since the workspace was built (its sha256 differs" in note
    ctx.prepare(jobs=2)
    assert lost.copy.is_file() and fetch_lines(lost.copy, "chr1", 0, 10**9) == lines  # made again, the same
    assert fetch_lines(lost.copy, "chrZ", 0, 10) == []  # a chromosome it lacks: no data


# --- why ON in A but OFF in B (issue 12, part 5) ------------------------------------------------------------
def why_table(html: str) -> str:
    start = html.index('<h2 id="why">')
    return html[start:html.index("</table>", start)]


def test_page_says_why_the_gene_is_on_where_it_is_most_likely_and_off_where_least(ws, pages):
    from shallowchrome.tracks.analysis import compare as cmp

    workspace = Workspace.open(ws)
    row = workspace.find_gene_rows("ALB")[0]
    p_on = {e: float(workspace.predictions(e).loc[row, "probability"]) for e in EIDS}
    a, b = max(p_on, key=p_on.get), min(p_on, key=p_on.get)
    table = why_table((pages / "ALB.html").read_text())
    assert f"Why ON in {a} but OFF in {b}?" in table
    (rec,) = cmp.compare_gene(workspace, a, b, "ALB")
    shown = {t: float(v) for t, v in re.findall(r'data-term="([^"]+)" data-value="([^"]*)"', table)}
    assert set(shown) == {*rec["attribution"], "delta_logit"}
    assert shown["delta_logit"] == pytest.approx(rec["delta_logit"], abs=1e-7)
    assert sum(v for t, v in shown.items() if t != "delta_logit") == pytest.approx(rec["delta_logit"], abs=1e-6)
    for term, value in rec["attribution"].items():  # and as printed, 2 decimals
        assert shown[term] == pytest.approx(value, abs=1e-7)
        assert re.search(rf'data-term="{term}" data-value="[^"]*">{re.escape(cmp.signed(value))}</td>', table)
    assert re.findall(r'<tr data-side="(a|b)"><td>(E\d+)', table) == [("a", a), ("b", b)]
    for side in (rec["a"], rec["b"]):  # measured classes and P(ON) of both
        assert f'<span class="{side["measured"].lower()}">{side["measured"]}</span>' in table
        assert f'data-value="{side["probability"]:.8g}">{side["probability"]:.3f}</td>' in table
    assert f"{rec['rank']:,} of 120 genes" in table
    assert f"shallowchrome compare ws {a} {b} --genes ENSG" in table  # a file: the command for every gene
    if set(rec["marks"]["only_a"] + rec["marks"]["only_b"]):  # a mark of one model only is starred
        assert "*</th>" in table


def test_served_page_links_the_comparison_page(served):
    from urllib.parse import urljoin

    root, app, base = served
    client = app.test_client()
    html = client.get("/reports/ALB").get_data(as_text=True)
    href = re.search(r'<a href="([^"]+)" id="why-compare">', why_table(html)).group(1).replace("&amp;", "&")
    target = urljoin("/reports/ALB", href)
    assert re.fullmatch(r"/compare\?a=E90\d&b=E90\d", target)
    assert client.get(target).status_code == 200
