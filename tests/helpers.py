"""Helpers shared by the test modules (importable because pytest's pythonpath includes tests/)."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shallowchrome.server.cli import main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def invoke(*argv):
    """Run the ``shallowchrome`` command line in-process."""
    return CliRunner().invoke(main, [str(a) for a in argv])


def one_error_line(result) -> str:
    """Assert the run failed as bad input should (exit 2, one error line, no traceback); return the line."""
    assert result.exit_code == 2, result.output
    lines = [l for l in result.output.splitlines() if l.startswith("shallowchrome: error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def approx_equal(a, b, path="$", rel=1e-6, abs=1e-9):
    """Deep equality of JSON-like documents, floats to ``rel`` relative (default 1e-6: golden-file comparisons)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            approx_equal(a[k], b[k], f"{path}.{k}", rel, abs)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            approx_equal(x, y, f"{path}[{i}]", rel, abs)
    elif isinstance(a, float) or isinstance(b, float):
        assert b == pytest.approx(a, rel=rel, abs=abs), path
    else:
        assert a == b, path


FIXTURE = Path(__file__).parent / "data" / "fixture"


def build_args(out, *extra, fixture=FIXTURE, expression="rpkm.tsv.gz", splits_file="splits.tsv.gz", splits=3):
    """The ``shallowchrome build`` command line on the fixture data set (3 epigenomes), as strings.

    By default the fixture's splits file and its splits 1-3. ``fixture``: another folder laid out like
    the fixture (e.g. a writable copy); ``expression`` / ``splits_file``: file names inside it, or paths
    of their own; ``splits_file=None`` leaves ``--splits-file`` out (random splits); ``splits``: --splits.
    """
    fixture = Path(fixture)
    argv = ["build", "--genes", fixture / "genes.tsv", "--expression", fixture / expression, "--peaks", fixture / "peaks"]
    if splits_file is not None:
        argv += ["--splits-file", fixture / splits_file]
    argv += ["--splits", splits, "--out", out, *extra]
    return [str(a) for a in argv]


def build_fixture_output(out, *extra, **options) -> str:
    """:func:`build_fixture`, returning the command's output."""
    res = invoke(*build_args(out, *extra, **options))
    assert res.exit_code == 0, res.output
    return res.output


def build_fixture(out, *extra, **options):
    """``shallowchrome build`` on the fixture data set (3 epigenomes, the fixture's splits 1-3) into ``out``.

    ``extra``: more command-line arguments; ``options``: those of :func:`build_args`. The session's
    ``fixture_ws`` (conftest) is this build with no arguments: use it (or ``fixture_ws_copy``) rather
    than building the same workspace again.
    """
    build_fixture_output(out, *extra, **options)
    return out


def published_files(root: Path) -> list[Path]:
    """The files of a workspace as users see it: through its links into the published generation
    (``root/epigenomes/...``, ``root/hub/...``), hidden entries and ``current`` left out."""
    import os

    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (dirpath == str(root) and d == "current"))
        out += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
    return out
