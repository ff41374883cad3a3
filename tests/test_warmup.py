"""The server warms the gene pages' caches up in a thread when it loads a workspace (GENES_WARMUP)."""
from __future__ import annotations

import threading

from helpers import approx_equal

from shallowchrome.server.web.app import create_app
from shallowchrome.server.web.state import EXTENSION, GENES_WARMUP, WorkspaceData

OFF = {"REPORTS_WARMUP": False, GENES_WARMUP: False}


def _first_gene(ws) -> str:
    header, first = (ws / "genes.tsv").read_text().splitlines()[:2]
    return dict(zip(header.split("\t"), first.split("\t")))["gene_id"]


def test_the_warm_up_fills_the_caches_and_changes_no_page(fixture_ws):
    app = create_app(fixture_ws, {"REPORTS_WARMUP": False})
    served = app.extensions[EXTENSION]
    assert served.warming is not None and served.warming.name == "shallowchrome-genes-warm-up"
    served.warming.join(timeout=60)
    state = served.current()
    cache = state.interpretation_cache
    assert "splits" in cache
    for eid in state.epigenomes:
        view = cache[("view", eid)]
        folds = set(view.folds) if view.folds is not None else set()
        assert {("fold", f) for f in folds} <= set(view.fits) and view.fits, eid
    gene = _first_gene(fixture_ws)
    from shallowchrome.tracks.analysis.explain import explain

    # the server's views hold the Wald statistics model.json stores; explain() alone refits them with
    # statsmodels: the same explanations to 1e-9, only the statistics' source differs
    served, refit = explain(state.ws, [gene], cache=cache), explain(state.ws, [gene])
    sources = [(e["statistics"].pop("source"), r["statistics"].pop("source"))
               for e, r in zip(served["explanations"], refit["explanations"])]
    assert set(sources) == {("model.json Wald statistics", "statsmodels Logit")}
    approx_equal(served, refit, rel=1e-9, abs=1e-12)
    warm = app.test_client().get(f"/genes/{gene}")
    cold_app = create_app(fixture_ws, OFF)
    assert cold_app.extensions[EXTENSION].warming is None  # switched off
    cold = cold_app.test_client().get(f"/genes/{gene}")
    assert warm.status_code == cold.status_code == 200 and warm.data == cold.data


def test_requests_never_wait_for_the_warm_up(fixture_ws, monkeypatch):
    release, entered = threading.Event(), threading.Event()

    def slow_warm_up(self):
        entered.set()
        release.wait(60)

    monkeypatch.setattr(WorkspaceData, "warm_up", slow_warm_up)
    app = create_app(fixture_ws, {"REPORTS_WARMUP": False})
    try:
        assert entered.wait(10)
        resp = app.test_client().get(f"/genes/{_first_gene(fixture_ws)}")  # while the warm-up is still going
        assert resp.status_code == 200 and app.extensions[EXTENSION].warming.is_alive()
    finally:
        release.set()


def test_a_new_generation_is_warmed_up_too(fixture_ws_copy):
    from shallowchrome.tracks.workspace.layout import revision

    app = create_app(fixture_ws_copy, {"REPORTS_WARMUP": False})
    served = app.extensions[EXTENSION]
    first = served.warming
    first.join(timeout=60)
    with revision(fixture_ws_copy):
        pass  # publishes a new generation
    state = served.current()
    assert served.reloads == 1 and served.warming is not first
    served.warming.join(timeout=60)
    assert all(state.interpretation_cache[("view", e)].fits for e in state.epigenomes)


def test_warm_up_threads_finish_before_the_interpreter_exits(tmp_path):
    """A warm-up still running when a script ends is waited for (one killed inside matplotlib's C++ aborts
    the process with exit code 134); long loops see ``background.stopping`` and end early."""
    import subprocess
    import sys

    marker = tmp_path / "done"
    script = f"""
import time
from shallowchrome.server.web import background

def work():
    time.sleep(1.0)
    open({str(marker)!r}, "w").write("finished" if background.stopping.is_set() else "early")

background.start(work, name="test-warm-up")
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert marker.read_text() == "finished"  # the exit waited for it, with the stop flag set
