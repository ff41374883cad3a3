"""Benchmark: a 56-epigenome workspace — its build with tracks, and its pages in a real browser.

Data: the shared REMC inputs (genes, the 56-epigenome RPKM table, the benchmark splits). Only five
epigenomes have peak files in shared/, so the manifest of ``bench_scale.make_manifest`` gives the 56
ids of the RPKM table those five's H3K4me3 + H3K27me3 narrowPeaks in turn (every epigenome has its own
expression column, labels and fits).

What is timed (wall, time.perf_counter):

1. ``run_pipeline`` (what ``shallowchrome build`` does: models, evaluation, tracks, hub, report indexes)
   of the 56 epigenomes with ``--jobs 2`` into a new folder. Target <= 60 s.
2. The server (``create_app`` under waitress, in this process) on that workspace, pages fetched over
   HTTP as a client would: home ``/``, a gene page (``/genes/ALB``: the first after the server starts,
   then again), the first and second ``/reports/ALB``, with their sizes. Target <= 2 s each, report
   page < 5 MB.
3. With Playwright + Chromium (skipped when absent): ``/browser`` until igv.js has drawn every track it
   opened with (the page's ``data-ready``/``data-busy`` flags and each track's feature cache), and the
   number of igv tracks it opened with. Targets <= 2 s, <= 60 tracks.

Printed: each figure and its ratio to its target (< 1 meets it).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import make_manifest  # noqa: E402

from shallowchrome.tracks.workspace.build import BuildOptions  # noqa: E402
from shallowchrome.tracks.workspace.pipeline import BuildInputs, Steps, run_pipeline  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SETTLED = """() => {
  const div = document.getElementById('igv');
  const b = window.igvBrowser;
  if (!div || !b || div.dataset.ready !== 'true' || div.dataset.busy === 'true') return false;
  return b.trackViews.filter(tv => tv.track && tv.track.url).every(tv => {
    const vp = tv.viewports[0];
    return vp.featureCache && !vp.loading;
  });
}"""
TRACKS = "() => window.igvBrowser.trackViews.filter(tv => tv.track && tv.track.url).length"


def _get(url: str) -> tuple[float, int, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as resp:
        body = resp.read()
        status = resp.status
    return time.perf_counter() - start, len(body), status


def _row(name: str, value: float, target: float, unit: str = "s", extra: str = "") -> None:
    print(f"  {name:<38} {value:9.2f} {unit:<3} target {target:g} {unit:<3} ratio {value / target:5.2f}{extra}")


def _browser(base: str) -> tuple[float, int] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("  (playwright is not installed: the /browser row is skipped)")
        return None
    if not Path("/usr/bin/chromium").exists():
        print("  (chromium is not installed: the /browser row is skipped)")
        return None
    with sync_playwright() as p:  # Playwright gives the browser a fresh profile
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, bypass_csp=True)
        start = time.perf_counter()
        page.goto(f"{base}/browser?locus=ALB")
        page.wait_for_function(SETTLED, timeout=120_000, polling=50)
        elapsed = time.perf_counter() - start
        n = page.evaluate(TRACKS)
        browser.close()
    return elapsed, n


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--epigenomes", type=int, default=56)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--workspace", type=Path, help="time the pages of this built workspace (skip the build)")
    args = p.parse_args()
    remc = args.shared / "data" / "remc"
    if args.workspace is None and not (remc / "genes.hg19.tsv").is_file():
        sys.exit(f"shared data folder not found: {remc} (give --shared DIR)")

    with tempfile.TemporaryDirectory(prefix="bench_pages_") as tmp:
        tmp = Path(tmp)
        if args.workspace is None:
            manifest, ids = make_manifest(remc, tmp, args.epigenomes)
            inputs = BuildInputs(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", manifest,
                                 splits=remc / "splits.tsv.gz")
            print(f"bench_pages: build of {len(ids)} epigenomes x H3K4me3, H3K27me3 with tracks, --jobs {args.jobs}")
            start = time.perf_counter()
            run_pipeline(inputs, tmp / "ws", BuildOptions(n_splits=10, jobs=args.jobs), Steps(tracks=True))
            _row(f"build + tracks ({len(ids)} epigenomes)", time.perf_counter() - start, 60)
            ws = tmp / "ws"
        else:
            ws = args.workspace
        from waitress import create_server

        from shallowchrome.server.web.app import create_app

        server = create_server(create_app(ws), host="127.0.0.1", port=0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        base = f"http://127.0.0.1:{server.effective_port}"
        print(f"pages of {ws} served at {base}:")
        for name, path in (("home /", "/"), ("gene page, first", "/genes/ALB"), ("gene page, again", "/genes/ALB"),
                           ("gene chart (pattern.svg)", "/genes/ALB/pattern.svg"),
                           ("report page, first", "/reports/ALB"), ("report page, again", "/reports/ALB")):
            elapsed, size, status = _get(base + path)
            extra = f"   {size / 1e6:.2f} MB, HTTP {status}"
            _row(name, elapsed, 2, extra=extra)
            if name.startswith("report page, first"):
                _row("report page size", size / 1e6, 5, unit="MB")
        shown = _browser(base)
        if shown is not None:
            _row("/browser until igv.js has drawn", shown[0], 2)
            _row("/browser igv tracks at first load", shown[1], 60, unit="")
        # the server thread is a daemon: it ends with this process (closing it under its loop raises EBADF)


if __name__ == "__main__":
    main()
