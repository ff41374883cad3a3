"""``map_jobs``, the one place that starts worker pools: order, errors, cancellation, worker initializer.

The task functions are module-level so that they pickle into the worker processes.
"""
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.workspace.executor import map_jobs

# --- tasks (module level: picklable) --------------------------------------------------------------
_WORKER = {}  # what the initializer left in a worker process


def sleep_then_report(item):
    """Sleep ``item[1]`` seconds; return the item's name, when it finished and in which process."""
    name, seconds = item
    time.sleep(seconds)
    return name, time.monotonic(), os.getpid()


def fail_on_bad(item):
    """Sleep ``item[1]`` seconds, then fail when the item's name starts with "bad"."""
    name, seconds = item
    time.sleep(seconds)
    if name.startswith("bad"):
        raise InputError(f"{name}.tsv", f"{name} is bad", line=len(name), fix=f"replace {name}")
    return name


def mark_then_work(item):
    """Item 0 fails at once; the others leave a marker file when they start, then take a while."""
    folder, i = item
    if i == 0:
        raise InputError(None, "the first item fails", fix="nothing to fix")
    Path(folder, f"{i}.started").write_text(str(os.getpid()))
    time.sleep(0.25)
    return i


def remember(folder, value):
    """Worker initializer: keep ``value`` for the tasks of this worker; leave a marker named after the process."""
    _WORKER["value"] = value
    Path(folder, f"init-{os.getpid()}").write_text(value)


def what_the_worker_remembers(item):
    time.sleep(0.05)  # long enough for both workers to take tasks
    return item, _WORKER.get("value"), os.getpid()


# --- tests ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jobs", [1, 2])
def test_results_come_back_in_item_order(jobs):
    items = [("slow", 0.6), ("a", 0.05), ("b", 0.05), ("c", 0.05), ("d", 0.0)]
    results = map_jobs(sleep_then_report, items, jobs)
    assert [name for name, _, _ in results] == ["slow", "a", "b", "c", "d"]
    finished = {name: at for name, at, _ in results}
    pids = {pid for _, _, pid in results}
    if jobs == 1:
        assert pids == {os.getpid()}  # no pool: in this process, in order
        assert sorted(finished, key=finished.get) == ["slow", "a", "b", "c", "d"]
    else:
        assert os.getpid() not in pids and len(pids) == 2
        assert finished["slow"] > max(finished["a"], finished["b"], finished["c"])  # they finished out of order


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_first_error_reaches_the_caller_with_its_fields(jobs):
    # in order for jobs=1; in completion order in a pool, where "bad-late" fails after "bad-first"
    items = [("ok", 0.0), ("bad-late", 0.8 if jobs > 1 else 0.0), ("bad-first", 0.0), ("ok2", 0.0)]
    expected = "bad-late" if jobs == 1 else "bad-first"
    with pytest.raises(InputError) as err:
        map_jobs(fail_on_bad, items, jobs)
    exc = err.value
    assert type(exc) is InputError
    assert (exc.source, exc.detail, exc.line, exc.fix) == (f"{expected}.tsv", f"{expected} is bad", len(expected),
                                                         f"replace {expected}")
    assert str(exc) == f"{expected}.tsv:{len(expected)}: {expected} is bad; fix: replace {expected}"


def test_after_an_error_in_a_pool_the_tasks_not_started_are_cancelled(tmp_path):
    items = [(str(tmp_path), i) for i in range(21)]  # item 0 fails at once, 20 items of 0.25 s on 2 workers
    start = time.monotonic()
    with pytest.raises(InputError) as err:
        map_jobs(mark_then_work, items, 2)
    elapsed = time.monotonic() - start
    assert err.value.fix == "nothing to fix"
    assert elapsed < 1.5  # not waiting for the 20 × 0.25 s / 2 workers = 2.5 s of remaining work
    # let the workers finish what they had already taken, then count what ever started
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = sorted(int(p.name.split(".")[0]) for p in tmp_path.glob("*.started"))
    assert len(started) < 20, started  # the tasks not yet started never ran


def test_the_initializer_runs_in_each_worker_and_not_in_this_process(tmp_path):
    items = list(range(6))
    results = map_jobs(what_the_worker_remembers, items, 2, initializer=remember, initargs=(str(tmp_path), "loaded"))
    assert [item for item, _, _ in results] == items
    assert all(value == "loaded" for _, value, _ in results)
    pids = {pid for _, _, pid in results}
    assert os.getpid() not in pids and "value" not in _WORKER
    initialised = {int(p.name.removeprefix("init-")) for p in tmp_path.glob("init-*")}
    assert pids <= initialised and len(initialised) <= 2  # once per worker
    # in this process (jobs=1, or a single item) the initializer is not called
    for args in ((items, 1), ([7], 2)):
        results = map_jobs(what_the_worker_remembers, *args, initializer=remember, initargs=(str(tmp_path), "x"))
        assert all(value is None and pid == os.getpid() for _, value, pid in results)
    assert len(list(tmp_path.glob("init-*"))) == len(initialised)

