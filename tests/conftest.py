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


@pytest.fixture
def remc() -> Path:
    if not (REMC / "genes.hg19.tsv").is_file():
        pytest.skip("../shared reference data is not present")
    return REMC


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
