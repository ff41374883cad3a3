"""IGV desktop itself (Debian package ``igv``, batch mode under Xvfb) opens the hub's session and shows
each epigenome's own data: from disk (File > Open Session) and over HTTP from ``serve``.

IGV keys the local tracks of a session by their bare file name; when every epigenome's files were
called ``predictions.bb``, every row showed one epigenome's data under the others' names. The check
reads the snapshot: at the opening gene (whose predicted class differs between the epigenomes) the
prediction row of each epigenome is drawn in that epigenome's predicted-class colour, and the rows of
two epigenomes differ where their data differ. ``.ci/run`` installs igv and xvfb.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from shallowchrome.tracks import style
from shallowchrome.tracks.workspace.layout import Workspace

IGV_JAR = Path("/usr/share/java/igv.jar")
ROW = 40  # every track's height in the session (pixels; prediction tracks collapsed, so they keep it)
ROWS_PER_EPIGENOME = 5  # predictions, then per mark (2) the contribution and the feature


def _rgb(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(","))


@pytest.fixture(scope="module")
def igv():
    if not IGV_JAR.is_file() or not shutil.which("xvfb-run") or not shutil.which("java"):
        pytest.skip("IGV desktop or xvfb-run is not installed (.ci/run installs the Debian packages igv and xvfb)")
    pytest.importorskip("PIL")

    def run(tmp: Path, genome_file: Path, commands: list[str]) -> tuple[str, list[Path]]:
        home = tmp / "igv-home"
        (home / "igv").mkdir(parents=True, exist_ok=True)
        prefs = tmp / "prefs.properties"  # the default genome is ours: IGV never asks igv.org for hg19
        prefs.write_text(f"DEFAULT_GENOME_KEY={genome_file}\n")
        shots = tmp / "snapshots"
        shots.mkdir(exist_ok=True)
        batch = tmp / "batch.txt"
        batch.write_text("\n".join(["new", *commands, "exit"]) + "\n")
        argv = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", "java", "-Xmx1g", f"-Duser.home={home}",
                "-cp", str(IGV_JAR), "org.broad.igv.ui.Main", "--igvDirectory", str(home / "igv"),
                "-o", str(prefs), "-b", str(batch)]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=240, cwd=tmp)
        log = proc.stdout + proc.stderr
        return log, sorted(shots.glob("*.png"))

    return run


def _image(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def _near(pixels: np.ndarray, rgb, tol: int = 24) -> np.ndarray:
    return np.all(np.abs(pixels - np.array(rgb)) <= tol, axis=-1)


def _gene_block(img: np.ndarray) -> tuple[int, int, int]:
    """(y, x0, x1) of the gene track's thick block: the topmost row of pixels in the gene colour."""
    mask = _near(img, _rgb(style.GENE), tol=30)
    for y in range(len(mask)):  # the block is drawn above the gene's thin line and its name
        runs = np.split(np.flatnonzero(mask[y]), np.flatnonzero(np.diff(np.flatnonzero(mask[y])) > 1) + 1)
        runs = [r for r in runs if len(r) >= 20]
        if runs:
            centre = img.shape[1] / 2
            run = min(runs, key=lambda r: abs((r[0] + r[-1]) / 2 - centre))
            return y + 2, int(run[0]), int(run[-1])
    raise AssertionError("no gene drawn in the gene track")


def _check_rows(img: np.ndarray, ws: Workspace, row: int) -> dict:
    """Each epigenome's prediction row at the gene is in its predicted class's colour; returns the rows."""
    y_gene, x0, x1 = _gene_block(img)
    x = (x0 + x1) // 2
    rows = {}
    for k, eid in enumerate(ws.epigenomes()):
        predicted = int(ws.predictions(eid)["predicted"].iloc[row])
        y = y_gene + ROW * (1 + ROWS_PER_EPIGENOME * k)
        patch = img[y - 3:y + 4, x - 3:x + 4].reshape(-1, 3)
        want, other = _rgb(style.CLASS_RGB[predicted]), _rgb(style.CLASS_RGB[1 - predicted])
        assert _near(patch, want).mean() > 0.5 and not _near(patch, other).any(), \
            f"{eid}: its prediction row is not drawn {'ON' if predicted else 'OFF'} at the gene"
        top = y_gene - ROW // 2 + ROW * (1 + ROWS_PER_EPIGENOME * k)
        rows[eid] = img[top:top + ROW * ROWS_PER_EPIGENOME, x0:x1]
    return rows


def _opening_gene(ws: Workspace) -> int:
    manifest = json.loads((ws.hub_dir / "tracks.json").read_text())
    chrom, start, end = re.match(r"^(\w+):(\d+)-(\d+)$", manifest["locus"]).groups()
    genes = ws.genes()
    centre = (int(start) - 1 + int(end)) // 2
    hit = np.flatnonzero((genes["chrom"] == chrom).to_numpy() & (genes["tss"] == centre).to_numpy())
    assert len(hit) == 1, manifest["locus"]
    return int(hit[0])


def _classes_differ(ws: Workspace, row: int) -> bool:
    return len({int(ws.predictions(e)["predicted"].iloc[row]) for e in ws.epigenomes()}) > 1


def test_igv_desktop_session_from_disk_shows_each_epigenome(fixture_ws_copy, tmp_path, igv):
    ws = Workspace.open(fixture_ws_copy)
    row = _opening_gene(ws)
    assert _classes_differ(ws, row), "the session opens at a gene whose predicted class differs"
    symbol = ws.genes()["symbol"].iloc[row]
    session = ws.hub_dir / "igv_session.xml"
    log, shots = igv(tmp_path, ws.igv_genome_path(), [
        f"load {session}", "collapse", "snapshotDirectory " + str(tmp_path / "snapshots"),
        "snapshot 1-opening.png", "goto ALB", "snapshot 2-alb.png"])
    assert len(shots) == 2, log[-3000:]
    assert "Error loading session" not in log and "igv.org.genomes/hg19" not in log, log[-3000:]
    for eid in ws.epigenomes():  # every row's own file, each loaded once
        for path in (ws.track_file(eid, "predictions"), ws.track_file(eid, "feature", ws.model(eid)["marks"][0])):
            assert log.count(path.name) == 1, (path.name, log[-3000:])
    rows = _check_rows(_image(shots[0]), ws, row)
    e1, e2 = ws.epigenomes()[:2]
    assert not np.array_equal(rows[e1], rows[e2]), "two epigenomes' rows draw the same data"
    # `goto SYMBOL` finds the gene in the session's gene track (IGV desktop does not search bigBed indexes)
    alb = int(np.flatnonzero(ws.genes()["symbol"].to_numpy() == "ALB")[0])
    _check_rows(_image(shots[1]), ws, alb)
    assert symbol


def test_igv_desktop_session_over_http(fixture_ws, tmp_path, igv, live_server):
    from shallowchrome.server.web.app import create_app

    ws = Workspace.open(fixture_ws)
    base = live_server(create_app(fixture_ws))
    genome = tmp_path / "hg19.chrom.sizes"
    genome.write_text(ws.igv_genome_path().read_text())
    log, shots = igv(tmp_path, genome, [f"load {base}/hub/igv_session.xml", "collapse",
                                        "snapshotDirectory " + str(tmp_path / "snapshots"), "snapshot http.png"])
    assert len(shots) == 1, log[-3000:]
    assert "Error loading session" not in log, log[-3000:]
    _check_rows(_image(shots[0]), ws, _opening_gene(ws))
