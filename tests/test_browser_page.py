"""The igv.js browser page of `shallowchrome serve`, in headless Chromium against a real server.

Asserts that the prediction tracks' features are drawn (features in igv.js's
viewport cache and coloured pixels on the track canvas), that ?locus=GENE works,
that no request leaves the machine, and saves a screenshot artefact.
"""
from pathlib import Path
from urllib.parse import urlparse

import pytest

DRAWN = """() => {
  const b = window.igvBrowser;
  if (!b) return null;
  const out = [];
  for (const tv of b.trackViews) {
    const t = tv.track;
    if (!t || !t.url) continue;
    const vp = tv.viewports[0];
    const cache = vp.featureCache;
    const canvas = vp.canvas;
    let inked = 0;
    if (canvas && canvas.width && canvas.height) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0 && !(px[i-3] > 250 && px[i-2] > 250 && px[i-1] > 250)) inked++;
    }
    out.push({name: t.name, type: t.type, features: cache && cache.features ? cache.features.length : -1, inked,
              names: cache && cache.features && t.type === 'annotation' ? cache.features.map(f => f.name) : []});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def workspace(fixture_ws):
    """The shared read-only fixture workspace (conftest); the page only reads it."""
    assert (fixture_ws / "hub" / "hg19" / "E901" / "E901.predictions.bb").is_file()
    return fixture_ws


def test_igv_page_draws_prediction_tracks(workspace, app, live_server, chromium):
    base = live_server(app)  # the session's app (conftest), over ``workspace``
    page = chromium.new_page(viewport={"width": 1400, "height": 1100}, bypass_csp=True)  # Playwright polls with eval
    foreign = []
    page.on("request", lambda req: foreign.append(req.url)
            if urlparse(req.url).hostname not in ("127.0.0.1", None) and not req.url.startswith("data:") else None)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{base}/browser?locus=ALB")
        page.wait_for_function("document.getElementById('igv').dataset.ready === 'true' || "
                               "document.getElementById('igv').dataset.error", timeout=30_000)
        assert page.evaluate("document.getElementById('igv').dataset.error") is None
        page.wait_for_function(f"(() => {{ const d = ({DRAWN})(); return d && d.length && "
                               "d.filter(t => t.type === 'annotation').every(t => t.features > 0 && t.inked > 100); })()",
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
    assert {t["name"].split()[0] for t in predictions} == {"E901", "E902", "E903"}
    for t in predictions:
        assert t["features"] > 0 and t["inked"] > 100, t
        assert "ALB" in t["names"]  # the gene asked for is among the drawn items
    wigs = [t for t in drawn if t["type"] == "wig"]
    assert wigs and any(t["inked"] > 0 for t in wigs)
    assert locus.startswith("chr1:")  # currentLoci() is a string for a single locus
    assert found and moved.startswith("chr1:") and moved != locus, (found, locus, moved)
    assert not foreign, f"requests left the machine: {foreign[:5]}"
    assert not errors, errors


def _artifacts() -> Path:
    import os

    path = Path(os.environ.get("SHALLOWCHROME_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
