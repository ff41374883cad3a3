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
