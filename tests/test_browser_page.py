"""The igv.js browser page of `shallowchrome serve`, in headless Chromium against a real server.

Asserts that the prediction tracks' features are drawn (features in igv.js's viewport cache and coloured
pixels on the track canvas), that ?locus=GENE works, that no request leaves the machine, and saves a
screenshot artefact. On a workspace of nine epigenomes (more than the page opens with): the page opens
with the best few by test AUROC, the picker adds and removes one epigenome's tracks without a reload and
keeps the selection and the locus in the address (the back button restores them), ?epigenomes= loads
exactly those, the tracks of a mark share one y scale, and the gene track and the legend are there.
"""
import gzip
import json
import random
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

DRAWN = """() => {
  const b = window.igvBrowser;
  if (!b) return null;
  const out = [];
  for (const tv of b.trackViews) {
    const t = tv.track;
    if (!t || !(t.url || (t.config && t.config.sourceType === 'custom'))) continue;
    const vp = tv.viewports[0];
    const cache = vp.featureCache;
    const canvas = vp.canvas;
    let inked = 0;
    if (canvas && canvas.width && canvas.height) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0 && !(px[i-3] > 250 && px[i-2] > 250 && px[i-1] > 250)) inked++;
    }
    out.push({name: t.name, type: t.type, features: cache && cache.features ? cache.features.length : -1, inked,
              loading: !!vp.loading, epigenome: t.config.shallowchromeEpigenome || null,
              group: t.autoscaleGroup || null, range: t.dataRange ? {min: t.dataRange.min, max: t.dataRange.max} : null,
              names: cache && cache.features && t.type === 'annotation' ? cache.features.map(f => f.name) : []});
  }
  return out;
}"""
#: Every data track has its features for the region in view, and no track change is under way.
SETTLED = f"""() => {{
  const div = document.getElementById('igv');
  if (div.dataset.ready !== 'true' || div.dataset.busy !== 'false') return false;
  const d = ({DRAWN})();
  return d && d.length > 0 && d.every(t => t.features >= 0 && !t.loading);
}}"""
#: The in-view maximum and minimum of every wig track's own data (what it would autoscale to alone).
OWN_RANGE = """() => window.igvBrowser.trackViews.filter(tv => tv.track.type === 'wig').map(tv => {
  const vp = tv.viewports[0], rf = vp.referenceFrame, f = vp.featureCache.features;
  const end = rf.start + rf.toBP(vp.getWidth());
  let max, min;
  if (typeof f.getMax === 'function') { max = f.getMax(rf.start, end); min = f.getMin(rf.start, end); }
  else {
    const v = f.filter(x => x.end > rf.start && x.start < end).map(x => x.value);
    max = Math.max(...v); min = Math.min(...v);
  }
  return {name: tv.track.name, group: tv.track.autoscaleGroup, max, min};
})"""


@pytest.fixture(scope="module")
def workspace(fixture_ws):
    """The shared read-only fixture workspace (conftest); the page only reads it."""
    return fixture_ws


def _manifest_tracks(ws: Path) -> dict:
    """Epigenome → the hub manifest's shown track paths (predictions, contribution and feature)."""
    out: dict = {}
    for t in json.loads((ws / "hub" / "tracks.json").read_text())["tracks"]:
        if t["kind"] in ("predictions", "contribution", "feature"):
            out.setdefault(t["epigenome"], []).append(t["path"])
    return out


def _open(chromium, url, width=1400):
    """A page on ``url`` that records requests leaving 127.0.0.1 and page errors; waits for igv.js to settle."""
    page = chromium.new_page(viewport={"width": width, "height": 1100}, bypass_csp=True)  # Playwright polls with eval
    page.foreign, page.errors = [], []
    page.on("request", lambda req: page.foreign.append(req.url)
            if urlparse(req.url).hostname not in ("127.0.0.1", None) and not req.url.startswith("data:") else None)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("document.getElementById('igv').dataset.ready === 'true' || "
                           "document.getElementById('igv').dataset.error", timeout=30_000)
    assert page.evaluate("document.getElementById('igv').dataset.error") is None
    page.wait_for_function(SETTLED, timeout=30_000)
    return page


def _shown(page) -> list[str]:
    """Epigenomes with tracks in igv.js, in track order."""
    return list(dict.fromkeys(t["epigenome"] for t in page.evaluate(DRAWN) if t["epigenome"]))


def _wait_shown(page, eid: str, shown: bool = True) -> None:
    """Wait until ``eid``'s tracks are loaded (or gone) and igv.js has settled."""
    has = f"document.getElementById('igv').dataset.shown.split(',').includes('{eid}')"
    page.wait_for_function(has if shown else f"!{has}", timeout=30_000)
    page.wait_for_function(SETTLED, timeout=30_000)


def _address(page) -> dict:
    query = parse_qs(urlparse(page.url).query, keep_blank_values=True)
    return {k: v[0] for k, v in query.items()}


def test_igv_page_draws_prediction_tracks(workspace, app, live_server, chromium):
    base = live_server(app)  # the session's app (conftest), over ``workspace``
    page = _open(chromium, f"{base}/browser?locus=ALB")
    try:
        page.wait_for_function(f"(() => {{ const d = ({DRAWN})(); return d && d.length && "
                               "d.filter(t => t.name.endsWith('predictions')).every(t => t.features > 0 && t.inked > 100); })()",
                               timeout=30_000)
        drawn = page.evaluate(DRAWN)
        locus = page.evaluate("window.igvBrowser.currentLoci()")
        page.screenshot(path=str(_artifacts() / "browser_page.png"), full_page=True)
        # the gene search box resolves through /api/locus
        found = page.evaluate("window.igvBrowser.search('MYOD1')")
        moved = page.evaluate("window.igvBrowser.currentLoci()")
    finally:
        page.close()
    predictions = [t for t in drawn if t["type"] == "annotation" and t["name"].endswith("predictions")]
    assert {t["name"].split()[0] for t in predictions} == {"E901", "E902", "E903"}  # three epigenomes: all shown
    for t in predictions:
        assert t["features"] > 0 and t["inked"] > 100, t
        assert "ALB" in t["names"]  # the gene asked for is among the drawn items
    wigs = [t for t in drawn if t["type"] == "wig"]
    assert wigs and any(t["inked"] > 0 for t in wigs)
    assert locus.startswith("chr1:")  # currentLoci() is a string for a single locus
    assert found and moved.startswith("chr1:") and moved != locus, (found, locus, moved)
    assert not page.foreign, f"requests left the machine: {page.foreign[:5]}"
    assert not page.errors, page.errors


# --- a workspace with more epigenomes than the page opens with ---------------------------------------
FIXTURE = Path(__file__).parent / "data" / "fixture"
#: Added epigenomes (Roadmap ids, so that the picker has groups) → (the fixture epigenome copied, the factor
#: its peaks' signal is scaled by: the copies' tracks have other ranges than the originals').
ADDED = {"E003": ("E901", 0.5), "E016": ("E902", 1.5), "E071": ("E901", 2.0), "E100": ("E902", 3.0),
         "E104": ("E901", 4.0), "E066": ("E902", 0.8)}


def _nine_epigenomes(dest: Path) -> Path:
    """The fixture data set plus the :data:`ADDED` epigenomes (their copied peaks' signal scaled, their
    expression the original's with a seeded tenth of the genes' values swapped, so models differ)."""
    shutil.copytree(FIXTURE, dest)
    rng = random.Random(11)
    for eid, (source, factor) in ADDED.items():
        for mark in ("H3K4me3", "H3K27me3"):
            lines = []
            for line in gzip.open(FIXTURE / "peaks" / f"{source}-{mark}.narrowPeak.gz", "rt"):
                cols = line.rstrip("\n").split("\t")
                if len(cols) == 10 and not line.startswith(("track", "#", "browser")):
                    cols[6] = f"{float(cols[6]) * factor:.5g}"
                    lines.append("\t".join(cols) + "\n")
            with gzip.open(dest / "peaks" / f"{eid}-{mark}.narrowPeak.gz", "wt") as fh:
                fh.writelines(lines)
    rpkm = pd.read_csv(FIXTURE / "rpkm.tsv.gz", sep="\t")
    for eid, (source, _) in ADDED.items():
        values = rpkm[source].tolist()
        for _ in range(len(values) // 10):
            i, j = rng.randrange(len(values)), rng.randrange(len(values))
            values[i], values[j] = values[j], values[i]
        rpkm[eid] = values
    rpkm.to_csv(dest / "rpkm.tsv.gz", sep="\t", index=False)
    return dest


@pytest.fixture(scope="module")
def nine(tmp_path_factory):
    """A built workspace (with tracks) of nine epigenomes, and the default the page must open with: the
    DEFAULT_EPIGENOMES (4) best by mean test AUROC (from the workspace's evaluation.tsv)."""
    from helpers import build_fixture

    from shallowchrome.server.web.pages import DEFAULT_EPIGENOMES as n

    root = tmp_path_factory.mktemp("nine")
    ws = build_fixture(root / "ws", fixture=_nine_epigenomes(root / "data"))
    ev = pd.read_csv(ws / "evaluation.tsv", sep="\t")
    ev = ev[ev["status"] == "ok"].sort_values("auroc_mean", ascending=False)
    assert len(ev) == 9
    assert ev["auroc_mean"].iloc[n - 1] > ev["auroc_mean"].iloc[n], "the fixture's AUROCs tie at the default's edge"
    return ws, set(ev["epigenome"].iloc[:n]), list(ev["epigenome"].iloc[n:])


@pytest.fixture(scope="module")
def nine_base(nine):
    """The base URL of a server of :func:`nine` for the module (conftest's ``live_server`` is per test)."""
    import threading

    from waitress import create_server

    from shallowchrome.server.web.app import create_app

    server = create_server(create_app(nine[0]), host="127.0.0.1", port=0, threads=8, ident="test")
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


def test_first_load_shows_the_best_few_with_one_scale_per_mark_a_gene_track_and_a_legend(nine, nine_base, chromium):
    from shallowchrome.tracks import style

    ws, best, _ = nine
    per_epigenome = _manifest_tracks(ws)
    page = _open(chromium, f"{nine_base}/browser")
    try:
        drawn = page.evaluate(DRAWN)
        n_tracks = page.evaluate("window.igvBrowser.trackViews.length")  # ideogram, ruler ... included
        own = page.evaluate(OWN_RANGE)
        address = _address(page)
        picker = page.evaluate("""() => Array.from(document.querySelectorAll('#picker fieldset')).map(f => ({
            group: f.dataset.group, ids: Array.from(f.querySelectorAll('input.picker-box')).map(b => b.value),
            checked: Array.from(f.querySelectorAll('input.picker-box:checked')).map(b => b.value)}))""")
        legend = page.evaluate("""() => Array.from(document.querySelectorAll('#legend dd')).map(d => {
            const s = d.querySelector('.swatch');
            return {text: d.textContent.trim(), colour: s ? getComputedStyle(s).backgroundColor : null}; })""")
        page.screenshot(path=str(_artifacts() / "browser_page_picker.png"), full_page=True)
    finally:
        page.close()
    shown = list(dict.fromkeys(t["epigenome"] for t in drawn if t["epigenome"]))
    assert set(shown) == best and len(shown) == 4  # the best four of nine by mean test AUROC
    assert len([t for t in drawn if t["epigenome"]]) == sum(len(per_epigenome[e]) for e in best)
    assert n_tracks <= 60 and n_tracks < sum(map(len, per_epigenome.values()))
    assert address["epigenomes"].split(",") == shown and address["locus"].startswith("chr1:")  # shareable at once
    # the picker: every epigenome, by Roadmap group (a user's ids under Other), the shown ones checked
    groups = {g["group"]: g["ids"] for g in picker}
    assert {"ESC", "Brain", "Muscle", "Heart", "Other"} <= set(groups)
    assert groups["ESC"] == ["E003", "E016"] and {"E901", "E902", "E903", "E066"} <= set(groups["Other"])
    assert sorted(e for g in picker for e in g["checked"]) == sorted(best)
    # the gene track: the genes (TSS ± window), by name
    genes = [t for t in drawn if t["name"] == "Genes"]
    assert len(genes) == 1 and "ALB" in genes[0]["names"] and genes[0]["inked"] > 0
    # one y scale per kind and mark: every track of a group has the group's range, the widest of its tracks'
    groups_seen = {}
    for t in drawn:
        if t["type"] == "wig":
            groups_seen.setdefault(t["group"], []).append(t)
    assert set(groups_seen) == {f"{k}:{m}" for k in ("contribution", "feature") for m in ("H3K4me3", "H3K27me3")} | \
        ({"contribution:DNase", "feature:DNase"} if "E903" in best else set())
    differ = False
    for group, tracks in groups_seen.items():
        assert len({(t["range"]["min"], t["range"]["max"]) for t in tracks}) == 1, (group, tracks)
        mine = [o for o in own if o["group"] == group]
        assert tracks[0]["range"]["max"] == pytest.approx(max(max(o["max"] for o in mine), 0))
        assert tracks[0]["range"]["min"] == pytest.approx(min(min(o["min"] for o in mine), 0))
        differ |= len({round(o["max"], 6) for o in mine}) > 1
    assert differ  # alone, the tracks would have autoscaled to different ranges
    # the legend says what the colours mean, in the tracks' colours
    colours = {d["text"]: d["colour"] for d in legend if d["colour"]}
    assert colours["predicted ON"] == f"rgb({style.CLASS_RGB[1].replace(',', ', ')})"
    assert colours["predicted OFF"] == f"rgb({style.CLASS_RGB[0].replace(',', ', ')})"
    assert colours["ψ > 0: pushes towards ON"] == f"rgb({style.ACTIVATING.replace(',', ', ')})"
    assert colours["ψ < 0: pushes towards OFF"] == f"rgb({style.REPRESSING.replace(',', ', ')})"
    assert any(c == f"rgb({style.FEATURE.replace(',', ', ')})" for c in colours.values())
    assert not page.foreign, f"requests left the machine: {page.foreign[:5]}"
    assert not page.errors, page.errors


def test_picking_adds_tracks_without_a_reload_and_back_restores_the_selection(nine, nine_base, chromium):
    ws, best, rest = nine
    per_epigenome = _manifest_tracks(ws)
    page = _open(chromium, f"{nine_base}/browser?locus=ALB")
    try:
        first = _shown(page)
        first_address = _address(page)
        before = page.evaluate("window.__same_page = true; "
                               "window.igvBrowser.trackViews.forEach(tv => tv.__kept = true); "
                               "window.igvBrowser.trackViews.length")
        added = rest[0]
        page.check(f"#picker input.picker-box[value='{added}']")
        _wait_shown(page, added)
        after_add = _shown(page)
        add_address = _address(page)
        new_tracks = page.evaluate(f"window.igvBrowser.trackViews.filter(tv => tv.track.config && "
                                   f"tv.track.config.shallowchromeEpigenome === '{added}' && !tv.__kept).length")
        kept = page.evaluate("window.igvBrowser.trackViews.filter(tv => tv.__kept).length")
        scales = page.evaluate(DRAWN)
        dropped = first[0]
        page.uncheck(f"#picker input.picker-box[value='{dropped}']")
        _wait_shown(page, dropped, shown=False)
        after_drop = _shown(page)
        page.go_back()
        _wait_shown(page, dropped)
        back_once, back_once_address = _shown(page), _address(page)
        page.go_back()
        _wait_shown(page, added, shown=False)
        back_twice, back_twice_address = _shown(page), _address(page)
        checked = page.evaluate("Array.from(document.querySelectorAll('#picker input.picker-box:checked'))"
                                ".map(b => b.value)")
        page.fill("#picker-filter", "hippocampus")
        visible = page.evaluate("Array.from(document.querySelectorAll('#picker .picker-item'))"
                                ".filter(l => !l.hidden && !l.closest('fieldset').hidden)"
                                ".map(l => l.querySelector('input').value)")
        same_page = page.evaluate("window.__same_page === true")
    finally:
        page.close()
    assert set(first) == best
    assert set(after_add) == best | {added} and add_address["epigenomes"].split(",") == after_add
    assert add_address["locus"] == first_address["locus"]
    assert new_tracks == len(per_epigenome[added])  # only the picked epigenome's tracks were loaded ...
    assert kept == before  # ... and every track shown before stayed (the same objects)
    for group in {t["group"] for t in scales if t["group"]}:  # the new tracks joined their marks' scales
        assert len({(t["range"]["min"], t["range"]["max"]) for t in scales if t["group"] == group}) == 1
    assert set(after_drop) == (best | {added}) - {dropped}
    assert set(back_once) == best | {added} and back_once_address == add_address
    assert set(back_twice) == best and back_twice_address == first_address and set(checked) == best
    assert visible == ["E071"]  # the filter matches names (E071 Brain Hippocampus Middle)
    assert same_page  # no reload
    assert not page.foreign, f"requests left the machine: {page.foreign[:5]}"
    assert not page.errors, page.errors


def test_the_address_chooses_the_epigenomes(nine, nine_base, chromium):
    ws, best, rest = nine
    asked = [rest[1], rest[0].lower()]  # any order, any case
    page = _open(chromium, f"{nine_base}/browser?epigenomes={','.join(asked)}&locus=chr1:40001-80000")
    try:
        shown = _shown(page)
        address = _address(page)
        locus = page.evaluate("window.igvBrowser.currentLoci()")
        message = page.locator("#epigenome-message").count()
        # a jump from igv.js's search box is a history entry of its own; the back button returns
        entries = page.evaluate("history.length")
        box = page.locator("#igv input.igv-search-input")
        box.fill("GENE2")
        box.press("Enter")
        page.wait_for_function("new URLSearchParams(location.search).get('locus') !== " + json.dumps(address["locus"]),
                               timeout=15_000)
        jumped, jumped_entries = _address(page), page.evaluate("history.length")
        jumped_locus = page.evaluate("String(window.igvBrowser.currentLoci()).replace(/,/g, '')")
        page.go_back()
        page.wait_for_function("String(window.igvBrowser.currentLoci()).replace(/,/g, '') === "
                               + json.dumps(address["locus"]), timeout=15_000)
        back = _address(page)
    finally:
        page.close()
    assert set(shown) == {rest[0], rest[1]} and address["epigenomes"].split(",") == shown
    assert locus.replace(",", "").startswith("chr1:40001") and address["locus"] == locus.replace(",", "")
    assert message == 0
    assert jumped["locus"] == jumped_locus and jumped["epigenomes"] == address["epigenomes"]
    assert jumped_entries == entries + 1 and back == address
    assert not page.foreign and not page.errors, (page.foreign, page.errors)


def test_unknown_ids_in_the_address_are_said_not_a_crash(nine):
    from shallowchrome.server.web.app import create_app

    ws, best, rest = nine
    client = create_app(ws).test_client()

    def page(query):
        r = client.get(f"/browser?{query}")
        assert r.status_code == 200
        return r.get_data(as_text=True)

    def boxes(html):
        return set(__import__("re").findall(r'class="picker-box" value="([^"]+)" data-tracks="\d+" checked', html))

    html = page(f"epigenomes={rest[0]},NOPE,%3Cimg%20src%3Dx%3E,../x&locus=ALB")
    assert 'id="epigenome-message"' in html and "&#39;NOPE&#39; is not an epigenome of this workspace" in html
    assert "&lt;img src=x&gt;" in html and "<img src=x>" not in html  # said, as text
    assert boxes(html) == {rest[0]}
    html = page("epigenomes=NOPE")
    assert "Showing the default epigenomes instead" in html and boxes(html) == best
    assert boxes(page("epigenomes=")) == set() and boxes(page("")) == best
    assert boxes(page(f"epigenomes={rest[0]}&epigenomes={rest[1].lower()}")) == {rest[0], rest[1]}  # as a form sends
    assert 'id="epigenome-message"' not in page(f"epigenomes={','.join(best)}")
    # the invalid-locus message stays, with the selection
    html = page(f"epigenomes={rest[0]}&locus=chr99:1-100")
    assert "chromosome chr99 is not in the hg19 assembly" in html and boxes(html) == {rest[0]}
    # the page's JSON: one epigenome's tracks (named as in the hub manifest), genes by region
    doc = client.get(f"/browser/tracks.json?epigenomes={rest[0]}").get_json()
    urls = [c["url"] for c in doc["epigenomes"][rest[0]]]
    assert sorted(urls) == sorted(f"/hub/{p}" for p in _manifest_tracks(ws)[rest[0]])
    err = client.get("/browser/tracks.json?epigenomes=NOPE")
    assert err.status_code == 404 and "NOPE" in err.get_json()["error"]["message"]
    # the gene track of a hub without one: the genes overlapping the region, drawn as the hub's gene track
    genes = client.get("/browser/genes.json?chr=chr1&start=50000.5&end=60000").get_json()
    got = [(g["chr"], g["start"], g["end"], g["name"], g["strand"], g["cdStart"], g["cdEnd"]) for g in genes]
    assert got == _gene_items(ws, "chr1", 50000, 60000) and {"ALB", "MYOD1"} <= {g[3] for g in got}
    hub_genes = json.loads((ws / "hub" / "tracks.json").read_text()).get("genes")
    if hub_genes:  # the hub's own gene track (tracks written since it has one) has the same items
        path = ws / "hub" / hub_genes
        text = (gzip.open(path, "rt") if path.suffix == ".gz" else path.open()).read()
        rows = [r.split("\t") for r in text.splitlines() if r and not r.startswith("#")]
        assert got == [(r[0], int(r[1]), int(r[2]), r[3], r[5], int(r[6]), int(r[7])) for r in rows
                       if r[0] == "chr1" and int(r[1]) < 60000 and int(r[2]) > 50000]
    assert client.get("/browser/genes.json?chr=chrNOPE&start=0&end=10").get_json() == []
    assert client.get("/browser/genes.json?chr=chr1&start=x&end=10").status_code == 400


def _gene_items(ws: Path, chrom: str, start: int, end: int) -> list[tuple]:
    """The genes.tsv genes whose TSS ± window overlaps [start, end) as (chrom, start, end, name, strand,
    thick start, thick end): the window clipped to the chromosome, thick over TSS ± 500 bp."""
    from shallowchrome.tracks.hub.items import THICK_HALF_WIDTH

    window = json.loads((ws / "workspace.json").read_text())["parameters"]["window"]
    genes = pd.read_csv(ws / "genes.tsv", sep="\t", keep_default_na=False).sort_values("tss", kind="stable")
    out = []
    for g in genes[genes["chrom"] == chrom].itertuples():
        left, right = max(0, g.tss - window), g.tss + window
        if left < end and right > start:
            out.append((chrom, left, right, g.symbol or g.gene_id, g.strand, max(left, g.tss - THICK_HALF_WIDTH),
                        min(right, g.tss + THICK_HALF_WIDTH)))
    return out


def test_a_hub_without_its_own_gene_file_gets_the_gene_track_from_the_gene_table(fixture_ws_copy, live_server, chromium):
    from shallowchrome.server.web.app import create_app

    manifest_path = fixture_ws_copy / "hub" / "tracks.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("genes", None)  # a hub written before hubs had genes.bed.gz
    manifest_path.write_text(json.dumps(manifest))
    base = live_server(create_app(fixture_ws_copy))
    page = _open(chromium, f"{base}/browser?locus=ALB")
    try:
        genes = [t for t in page.evaluate(DRAWN) if t["name"] == "Genes"]
    finally:
        page.close()
    assert len(genes) == 1 and {"ALB", "MYOD1"} <= set(genes[0]["names"]) and genes[0]["inked"] > 0
    assert not page.foreign and not page.errors, (page.foreign, page.errors)


def _artifacts() -> Path:
    import os

    path = Path(os.environ.get("SHALLOWCHROME_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
