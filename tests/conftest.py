"""Shared fixtures. Tests that read ../shared skip when it is absent."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
FIXTURE = DATA / "fixture"
SHARED = Path(os.environ.get("SHALLOWCHROME_SHARED", TESTS.parent.parent / "shared"))
REMC = SHARED / "data" / "remc"


@pytest.fixture
def fixture_dir() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def remc() -> Path:
    if not (REMC / "genes.hg19.tsv").is_file():
        pytest.skip("../shared reference data is not present")
    return REMC


REMC_EPIGENOMES = ["E065", "E066", "E079", "E100", "E104"]


@pytest.fixture(scope="session")
def remc_ws(remc, tmp_path_factory):
    """The five shared REMC epigenomes with H3K4me3 + H3K27me3 and the benchmark splits, built once per
    test session without tracks. Read-only: tests that write into a workspace copy it first."""
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    return build_workspace(REMC / "genes.hg19.tsv", REMC / "rpkm.56epigenomes.tsv.gz", REMC / "peaks",
                           tmp_path_factory.mktemp("remc") / "ws", epigenomes=REMC_EPIGENOMES,
                           splits_path=REMC / "splits.tsv.gz", options=BuildOptions(n_splits=10, jobs=2),
                           marks=["H3K4me3", "H3K27me3"])


def _snapshot(root: Path) -> dict:
    """Every path under ``root``: a file's SHA-1, a symlink's target, or "dir"."""
    import hashlib

    def state(p: Path) -> str:
        if p.is_symlink():
            return f"-> {os.readlink(p)}"
        return hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "dir"

    return {str(p.relative_to(root)): state(p) for p in root.rglob("*")}


@pytest.fixture(scope="session")
def fixture_build(tmp_path_factory):
    """``(workspace, output)`` of ``helpers.build_fixture`` on the fixture data set (with tracks), run once
    per test session. READ-ONLY, like :func:`fixture_ws`."""
    from helpers import build_fixture_output

    out = tmp_path_factory.mktemp("fixture_ws") / "ws"
    output = build_fixture_output(out)
    before = _snapshot(out)
    yield out, output
    after = _snapshot(out)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"a test wrote into the shared read-only fixture_ws (use fixture_ws_copy): {changed[:10]}"


@pytest.fixture(scope="session")
def fixture_ws(fixture_build) -> Path:
    """The fixture data set (E901, E902, E903; the fixture's splits 1-3) built with tracks by
    ``helpers.build_fixture``, once per test session.

    READ-ONLY: every module shares it. A test that writes into a workspace (rebuilds, ``chromhmm``,
    ``weights``, edited hub files, a ``/reports/`` request, which fills WS/reports/cache/) takes
    :func:`fixture_ws_copy`, or copies it into its own folder; the session fails at its end if the shared
    workspace changed."""
    return fixture_build[0]


@pytest.fixture
def fixture_ws_copy(fixture_ws, tmp_path) -> Path:
    """A writable copy of :func:`fixture_ws` at ``tmp_path / "ws"``."""
    return shutil.copytree(fixture_ws, tmp_path / "ws", symlinks=True)


@pytest.fixture(scope="session")
def app(fixture_ws):
    """The Flask app (``testing`` on) over the read-only :func:`fixture_ws`, shared by the session.

    Do not request ``/reports/`` through it: that route writes the report cache into the workspace."""
    from shallowchrome.server.web.app import create_app

    application = create_app(fixture_ws)
    application.testing = True
    return application


@pytest.fixture(scope="session")
def client(app):
    """A test client of :func:`app` (read-only workspace: no ``/reports/``)."""
    return app.test_client()


@pytest.fixture
def copy_fixture(tmp_path) -> Path:
    """A writable copy of the fixture data set."""
    dest = tmp_path / "fixture"
    shutil.copytree(FIXTURE, dest)
    return dest


def _write(path: Path, text: str, gz: bool = False) -> Path:
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


@pytest.fixture
def write():
    """``write(path, text, gz=False)``: write a small test file (gzip when asked), return its path."""
    return _write


@pytest.fixture
def live_server():
    """``start(app) -> base_url``: serve a Flask app with waitress on a free loopback port, in a thread."""
    import threading

    from waitress import create_server

    servers = []

    def start(app):
        server = create_server(app, host="127.0.0.1", port=0, threads=8, ident="test")
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.effective_port}"

    yield start
    for server in servers:
        server.close()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium driven by Playwright (skips when Chromium or Playwright is absent)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


ARTIFACTS = Path(os.environ.get("SHALLOWCHROME_ARTIFACTS", TESTS.parent / "artifacts"))
