"""Hostile inputs: markup, control characters and non-ASCII text in users' files reach no page as code
and break no file format; names that would become paths are refused."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
from helpers import build_fixture, invoke, one_error_line

FIXTURE_ROOT = __import__("pathlib").Path(__file__).parent / "data" / "fixture"
XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
#: gene row → hostile symbol
HOSTILE = {0: XSS, 1: "GÉNEα", 2: "TAB\tINSIDE", 3: "new\nline", 4: "a/b"}


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory):
    """The fixture data set with hostile gene symbols, built with tracks."""
    root = shutil.copytree(FIXTURE_ROOT, tmp_path_factory.mktemp("hostile") / "fixture")
    genes = pd.read_csv(root / "genes.tsv", sep="\t", dtype=str, keep_default_na=False)
    for row, symbol in HOSTILE.items():
        genes.loc[row, "symbol"] = symbol
    genes.to_csv(root / "genes.tsv", sep="\t", index=False)
    return build_fixture(root.parent / "ws", fixture=root), genes


def test_hostile_symbols_keep_every_track_file_valid(hostile_ws):
    import bbi
    import pyBigWig
    import pysam

    out, genes = hostile_ws
    bb_path = out / "hub" / "hg19" / "E901" / "E901.predictions.bb"
    bb = pyBigWig.open(str(bb_path))
    entries = bb.entries("chr1", 0, bb.chroms("chr1"))
    n_fields = {len(rest.split("\t")) for _, _, rest in entries}
    assert len(n_fields) == 1  # a TAB in a symbol no longer shifts the fields
    frame = pd.DataFrame(list(bbi.fetch_intervals(str(bb_path), "chr1", 0, bb.chroms("chr1"))))  # UCSC's reader
    bb.close()
    names = set(frame[3])
    assert {"TAB INSIDE", "new line", "a/b", "G%C3%89NE%CE%B1"} <= names
    assert all(all(0x20 <= ord(c) < 0x7f for c in n) for n in names)  # BED 1.0: printable ASCII
    tbx = pysam.TabixFile(str(out / "hub" / "hg19" / "E901" / "E901.predictions.bed.gz"))
    lines = list(tbx.fetch("chr1"))
    tbx.close()
    assert len({len(line.split("\t")) for line in lines}) == 1
    assert invoke("hub", "check", out).exit_code == 0
    # the workspace's own tables keep the symbols as given
    assert pd.read_csv(out / "genes.tsv", sep="\t", dtype=str)["symbol"].tolist()[:5] == list(HOSTILE.values())


def test_hostile_symbols_are_text_in_pages_and_api(hostile_ws):
    from shallowchrome.server.web.app import create_app

    out, genes = hostile_ws
    client = create_app(out).test_client()
    page = client.get(f"/genes/{genes.loc[0, 'gene_id']}").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert client.get("/api/genes/GÉNEα").get_json()["matches"][0]["gene"]["symbol"] == "GÉNEα"
    assert client.get("/genes/a%2Fb").status_code == 200  # a symbol with a slash can be reached
    assert client.get("/api/genes/a%2Fb").get_json()["matches"][0]["gene"]["symbol"] == "a/b"


@pytest.mark.parametrize("manifest_id, what", [("../../x", "epigenome id"), ("/abs", "epigenome id"),
                                                ("E9<b>", "epigenome id")])
def test_ids_that_would_become_paths_or_markup_are_refused(tmp_path, manifest_id, what):
    peaks = FIXTURE_ROOT / "peaks"
    rows = ["epigenome\tmark\tpath", f"{manifest_id}\tH3K4me3\t{peaks / 'E901-H3K4me3.narrowPeak.gz'}"]
    (tmp_path / "peaks.tsv").write_text("\n".join(rows) + "\n")
    res = invoke("build", "--genes", FIXTURE_ROOT / "genes.tsv", "--expression", FIXTURE_ROOT / "rpkm.tsv.gz",
                 "--peaks", tmp_path / "peaks.tsv", "--out", tmp_path / "ws")
    line = one_error_line(res)
    assert f"peaks.tsv:2: {what} {manifest_id!r} is not a valid name" in line and "fix:" in line
    assert not (tmp_path / "ws").exists() and not (tmp_path.parent / "x").exists()


def test_a_mark_with_markup_is_refused(tmp_path):
    peaks = FIXTURE_ROOT / "peaks"
    (tmp_path / "peaks.tsv").write_text("epigenome\tmark\tpath\n"
                                        f"E901\tH3K4me3<svg>\t{peaks / 'E901-H3K4me3.narrowPeak.gz'}\n")
    res = invoke("build", "--genes", FIXTURE_ROOT / "genes.tsv", "--expression", FIXTURE_ROOT / "rpkm.tsv.gz",
                 "--peaks", tmp_path / "peaks.tsv", "--out", tmp_path / "ws")
    assert "peaks.tsv:2: mark 'H3K4me3<svg>' is not a valid name" in one_error_line(res)


#: The first annotation track whose name ends with the suffix (JS: name → track view).
FIND_TRACK = """(suffix) => window.igvBrowser.trackViews.find(v => v.track && v.track.type === 'annotation'
    && (v.track.name || '').endsWith(suffix))"""


def _open_popup(page, url: str, div: str, suffix: str, needle: str) -> tuple[str, list, int]:
    """Open ``url``, click the feature whose name contains ``needle`` on the track named ``*suffix``;
    return (the popup's text, the alerts raised, the number of <img> elements in the page)."""
    page.add_init_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(String(m));")
    page.goto(url)
    page.wait_for_function(f"document.getElementById('{div}').dataset.ready === 'true'", timeout=30_000)
    page.wait_for_function(f"""(s) => {{ const tv = ({FIND_TRACK})(s); const c = tv && tv.viewports[0].featureCache;
        return c && c.features && c.features.length > 0; }}""", arg=suffix, timeout=30_000)
    spot = page.evaluate(f"""([s, needle]) => {{
      const vp = ({FIND_TRACK})(s).viewports[0];
      const f = vp.featureCache.features.find(x => (x.name || '').includes(needle));
      const rf = vp.referenceFrame, rect = vp.viewportElement.getBoundingClientRect();
      return {{x: rect.left + ((f.start + f.end) / 2 - rf.start) / rf.bpPerPixel, y: rect.top + 12}};
    }}""", [suffix, needle])
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_selector(".igv-ui-popover, .igv-popover", timeout=10_000)
    return (page.inner_text(".igv-ui-popover, .igv-popover"), page.evaluate("window.__alerts"),
            page.evaluate("document.querySelectorAll('img').length"))


def test_browser_popup_shows_markup_as_text(hostile_ws, live_server, chromium):
    from shallowchrome.server.web.app import create_app

    out, genes = hostile_ws
    base = live_server(create_app(out))
    page = chromium.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # Playwright polls with eval
    try:
        popup, alerts, images = _open_popup(page, f"{base}/browser?locus={genes.loc[0, 'gene_id']}", "igv",
                                            "predictions", "img")
    finally:
        page.close()
    assert XSS.split("<script>")[0] in popup  # the symbol is shown, as text
    assert alerts == [] and images == 0


def test_report_page_popup_shows_markup_as_text(hostile_ws, live_server, chromium, tmp_path):
    from shallowchrome.server.web.app import create_app

    out, genes = hostile_ws
    ws = tmp_path / "ws"
    shutil.copytree(out, ws, symlinks=True)  # /reports/ writes its page cache
    base = live_server(create_app(ws))
    page = chromium.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)  # Playwright polls with eval
    try:
        popup, alerts, images = _open_popup(page, f"{base}/reports/{genes.loc[0, 'gene_id']}", "igvDiv",
                                            "prediction", "img")
    finally:
        page.close()
    assert "<script>" in popup and "img" in popup  # shown as text (gffTags turn blanks into _)
    assert alerts == [] and images == 0


def test_pages_work_under_their_content_security_policy(hostile_ws, live_server, chromium, tmp_path):
    """No CSP bypass here: the browser page and a report page must load igv.js and draw under the policy."""
    from shallowchrome.server.web.app import create_app

    ws = tmp_path / "ws"
    shutil.copytree(hostile_ws[0], ws, symlinks=True)
    base = live_server(create_app(ws))
    page = chromium.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for url, div in ((f"{base}/browser?locus=chr1:40001-80000", "igv"), (f"{base}/reports/GENE5", "igvDiv")):
            response = page.goto(url)
            assert "script-src" in response.headers["content-security-policy"]
            page.wait_for_selector(f"#{div}[data-ready='true']", state="attached", timeout=30_000)
    finally:
        page.close()
    assert refused == []


def test_hub_check_flags_markup_in_labels_and_labels_are_made_plain(fixture_ws_copy):
    from shallowchrome.tracks.hub.trackdb import long_label, short_label

    assert short_label("E1", "<b>x</b>") == "E1 b x /b" and long_label('liver "<script>"') == "liver script"
    tdb = fixture_ws_copy / "hub" / "hg19" / "trackDb.txt"
    text = tdb.read_text()
    tdb.write_text(text.replace("shortLabel E901 predicted", "shortLabel E901 <img>", 1))
    res = invoke("hub", "check", fixture_ws_copy)
    assert res.exit_code == 2 and "shortLabel holds markup or control characters" in res.output
