"""``shallowchrome build --scheduler``: the per-epigenome work on a real Dask distributed cluster.

A scheduler and two single-threaded worker processes (each under its nanny, which restarts it when it
dies) run on loopback, started with the ``dask`` command line as a user would. The workers load a
preload module written by this file: a worker plugin that notes which process ran which build task
and, when the test leaves a marker file, SIGKILLs its own worker process as a build task starts
(``once``: the first worker to take a build task dies, once; ``always``: every worker that takes one
dies). The library knows nothing of it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from helpers import build_fixture, invoke

distributed = pytest.importorskip("distributed")

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.workspace.executor import map_jobs

EPIGENOMES = ["E901", "E902", "E903"]
COMPARED = ["evaluation.tsv", "genes.tsv", "peaks.tsv", "splits.tsv.gz"] + [
    f"epigenomes/{e}/{name}" for e in EPIGENOMES for name in ("model.json", "predictions.tsv", "features.tsv")]

PRELOAD = '''
import os, signal, pathlib
from distributed.diagnostics.plugin import WorkerPlugin

CONTROL = pathlib.Path(os.environ["SHALLOWCHROME_TEST_CONTROL"])


class KillOnBuildTask(WorkerPlugin):
    def transition(self, key, start, finish, **kwargs):
        key = str(key)
        if finish != "executing" or not key.startswith("shallowchrome-build-") or "-shared-" in key:
            return
        with open(CONTROL / f"ran-{os.getpid()}", "a") as fh:
            fh.write(key + "\\n")
        if not (CONTROL / "always").exists():
            try:
                (CONTROL / "once").unlink()  # one worker wins the marker
            except FileNotFoundError:
                return
        (CONTROL / f"killed-{os.getpid()}").write_text(key)
        os.kill(os.getpid(), signal.SIGKILL)


def dask_setup(worker):
    worker.plugins["shallowchrome-test-kill"] = KillOnBuildTask()
'''


def _stop(proc: subprocess.Popen) -> None:
    """End a process this file started and everything it started (its own session), by its id."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


class Cluster:
    def __init__(self, root: Path):
        self.root = root
        self.control = root / "control"
        self.control.mkdir()
        self.scheduler_file = root / "scheduler.json"
        self.procs: list[subprocess.Popen] = []
        self.client = None

    def _start(self, name, argv, env):
        with open(self.root / f"{name}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "dask", *argv], stdout=log, stderr=subprocess.STDOUT,
                                    env=env, cwd=self.root, start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self):
        env = dict(os.environ, SHALLOWCHROME_TEST_CONTROL=str(self.control),
                   # one death of a worker running a task is retried elsewhere, a second stops the task
                   DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="1")
        (self.root / "kill_preload.py").write_text(PRELOAD)
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(self.scheduler_file)], env)
        deadline = time.monotonic() + 30
        while not self.scheduler_file.is_file() or not self.scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, (self.root / "scheduler.log").read_text()
            time.sleep(0.05)
        for i in (1, 2):
            self._start(f"worker{i}", ["worker", "--scheduler-file", str(self.scheduler_file), "--nworkers", "1",
                                       "--nthreads", "1", "--no-dashboard", "--name", f"w{i}",
                                       "--preload", str(self.root / "kill_preload.py")], env)
        self.client = distributed.Client(scheduler_file=str(self.scheduler_file), timeout=30, set_as_default=False)
        self.wait_for_workers()
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        return self

    def wait_for_workers(self, n=2):
        self.client.wait_for_workers(n, timeout=60)

    def ran(self) -> dict:
        """Worker process id → build task keys it started."""
        return {int(p.name.split("-")[1]): p.read_text().split() for p in self.control.glob("ran-*")}

    def killed(self) -> list[Path]:
        return sorted(self.control.glob("killed-*"))

    def reset(self):
        for p in self.control.iterdir():
            p.unlink()

    def stop(self):
        if self.client is not None:
            self.client.close(timeout=5)
        for proc in reversed(self.procs):
            _stop(proc)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        yield c.start()
    finally:
        c.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The same build, in this process."""
    return build_fixture(tmp_path_factory.mktemp("local") / "ws", "--no-tracks")


def _same_files(a: Path, b: Path):
    for rel in COMPARED:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def _snapshot(root: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def _error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("shallowchrome: error:")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_build_on_the_cluster_equals_the_local_build(cluster, local, tmp_path):
    cluster.reset()
    out = build_fixture(tmp_path / "ws", "--no-tracks", "--scheduler", cluster.scheduler_file)
    _same_files(local, out)
    assert (local / "evaluation.png").read_bytes() == (out / "evaluation.png").read_bytes()
    ran = cluster.ran()
    assert os.getpid() not in ran and sum(len(keys) for keys in ran.values()) == len(EPIGENOMES)
    # a rebuild reuses every epigenome: nothing is sent to the cluster, nothing is rewritten
    before = _snapshot(out / "epigenomes")
    cluster.reset()
    build_fixture(out, "--no-tracks", "--scheduler", cluster.address)
    assert cluster.ran() == {} and _snapshot(out / "epigenomes") == before


def test_a_worker_dying_mid_build_is_retried_elsewhere(cluster, local, tmp_path):
    cluster.reset()
    (cluster.control / "once").write_text("")
    out = build_fixture(tmp_path / "ws", "--no-tracks", "--scheduler", cluster.address)
    killed = cluster.killed()
    assert len(killed) == 1 and not (cluster.control / "once").exists()
    dead_key = killed[0].read_text()
    ran_again = [pid for pid, keys in cluster.ran().items() if dead_key in keys and f"killed-{pid}" != killed[0].name]
    assert ran_again, cluster.ran()  # the task of the dead worker ran again in another worker process
    _same_files(local, out)
    cluster.wait_for_workers()  # the nanny restarted the dead worker


def test_a_task_that_kills_every_worker_stops_the_build_and_writes_nothing(cluster, local, tmp_path):
    import shutil

    existing = tmp_path / "existing"
    shutil.copytree(local, existing)
    before = _snapshot(existing)
    cluster.reset()
    (cluster.control / "always").write_text("")
    try:
        result = invoke("build", *_fixture_args(existing), "--no-tracks", "--force", "--scheduler", cluster.address)
        fresh = invoke("build", *_fixture_args(tmp_path / "fresh"), "--scheduler", cluster.address)
    finally:
        (cluster.control / "always").unlink()
    line = _error_line(result)
    assert "killed every Dask worker that ran it (2 of them)" in line and "fix:" in line
    assert _snapshot(existing) == before  # not a byte, not an mtime changed
    assert "killed every Dask worker" in _error_line(fresh)
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").rglob("*"))
    assert len(cluster.killed()) >= 2
    cluster.wait_for_workers()


def _fixture_args(out):
    fx = Path(__file__).parent / "data" / "fixture"
    return ["--genes", fx / "genes.tsv", "--expression", fx / "rpkm.tsv.gz", "--peaks", fx / "peaks",
            "--splits-file", fx / "splits.tsv.gz", "--splits", "3", "--out", out]


# --- map_jobs on the cluster: order, the per-worker initializer, errors -------------------------------
# Tasks must be importable where they run (dask pickles functions by reference): a module in the folder the
# scheduler and workers were started in (on their sys.path), imported here from the same file.
TASKS = '''
import os, time
from shallowchrome.model.errors import InputError

_STATE = {}


def init(value):
    _STATE["value"] = value
    _STATE["inits"] = _STATE.get("inits", 0) + 1


def task(item):
    if item == "bad":
        raise InputError("bad.tsv", "bad item", line=3, fix="remove it")
    time.sleep(0.05)
    return item, _STATE.get("value"), _STATE.get("inits"), os.getpid()
'''


def test_map_jobs_on_the_cluster(cluster, monkeypatch):
    import importlib

    (cluster.root / "sc_test_tasks.py").write_text(TASKS)
    monkeypatch.syspath_prepend(str(cluster.root))
    tasks = importlib.import_module("sc_test_tasks")
    items = [f"i{k}" for k in range(8)]
    results = map_jobs(tasks.task, items, scheduler=cluster.client, initializer=tasks.init, initargs=("ready",))
    assert [r[0] for r in results] == items  # in the order of the items
    assert all(r[1] == "ready" and r[2] == 1 for r in results)  # the initializer ran once in each worker
    assert os.getpid() not in {r[3] for r in results}
    with pytest.raises(InputError) as err:
        map_jobs(partial(tasks.task), ["i0", "bad", "i2"], scheduler=cluster.address)
    assert str(err.value) == "bad.tsv:3: bad item; fix: remove it" and err.value.fix == "remove it"


# --- errors before anything runs ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["refused", "nonsense", "not_json"])
def test_a_bad_scheduler_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, case):
    monkeypatch.setenv("SHALLOWCHROME_SCHEDULER_TIMEOUT", "1")
    address = {"refused": f"tcp://127.0.0.1:{_free_port()}", "nonsense": "no-such-scheduler",
               "not_json": tmp_path / "scheduler.json"}[case]
    if case == "not_json":
        address.write_text("this is not json")
    out = tmp_path / "ws"
    line = _error_line(invoke("build", *_fixture_args(out), "--scheduler", address))
    expected = {"refused": f"cannot connect to the Dask scheduler {address}",
                "nonsense": "is neither a scheduler address nor an existing scheduler file",
                "not_json": "scheduler.json: is not a Dask scheduler file"}[case]
    assert expected in line and "fix:" in line, line
    assert not out.exists()


def test_without_distributed_installed_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    out = tmp_path / "ws"
    line = _error_line(invoke("build", *_fixture_args(out), "--scheduler", "tcp://127.0.0.1:8786"))
    assert "pip install 'shallowchrome[dask]'" in line
    assert not out.exists()


# --- tracks and report on the cluster: the same bytes as a local run ---------------------------------
def _tree(root: Path) -> dict:
    """Relative path → bytes of every file under ``root`` (through the workspace's links)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                path = Path(dirpath) / name
                out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


def _prefixes(cluster) -> set:
    return set(cluster.client.run_on_scheduler(lambda dask_scheduler: [str(p) for p in dask_scheduler.task_prefixes]))


def test_tracks_and_report_on_the_cluster_equal_a_local_run(cluster, local, tmp_path):
    import shutil

    runs = {}
    for where in ("here", "cluster"):
        ws = Path(shutil.copytree(local, tmp_path / where / "ws", symlinks=True))
        extra = ["--scheduler", cluster.address] if where == "cluster" else []
        res = invoke("tracks", ws, *extra)
        assert res.exit_code == 0, res.output
        assert "peak index: " in res.output  # `tracks` indexes the peak files for the report pages
        header, *rows = (ws / "genes.tsv").read_text().splitlines()
        symbols = [dict(zip(header.split("\t"), r.split("\t")))["symbol"] for r in rows[:2]]
        res = invoke("report", ws, "--genes", ",".join(symbols), "--show", "E903", "--no-embed", *extra)
        assert res.exit_code == 0, res.output
        runs[where] = ws
    assert any("tracks" in p for p in _prefixes(cluster)) and any("reports" in p for p in _prefixes(cluster))
    here, there = (_tree(runs[w] / "hub") for w in ("here", "cluster"))
    assert here and list(here) == list(there)
    assert [k for k in here if here[k] != there[k]] == []
    here, there = (_tree(runs[w] / "reports") for w in ("here", "cluster"))
    assert any(k.startswith("cache/peaks/") for k in here) and sum(k.endswith(".html") for k in here) >= 3
    assert list(here) == list(there) and [k for k in here if here[k] != there[k]] == []


def test_tracks_and_report_with_an_unreachable_scheduler_are_one_line(local, tmp_path, monkeypatch):
    monkeypatch.setenv("SHALLOWCHROME_SCHEDULER_TIMEOUT", "1")
    port = _free_port()
    for argv in (["tracks", local], ["report", local, "--genes", "X"]):
        line = _error_line(invoke(*argv, "--scheduler", f"tcp://127.0.0.1:{port}"))
        assert "cannot connect to the Dask scheduler" in line
