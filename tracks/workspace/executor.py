"""The one place that starts worker pools: :func:`map_jobs`.

``build`` (one task per epigenome), ``tracks`` (one per epigenome) and
``report`` (one per page) hand their tasks here. Results come back in the
order of the items, whatever the order the tasks finish in, so every output
is the same for any ``jobs``. On the first error, or Ctrl-C, the tasks not yet
started are cancelled and the pool is left without waiting for them; the
error reaches the caller as raised by the task (ShallowChromeError subclasses
pickle with their fields).

``jobs`` is the number of local worker processes (1: in this process, no
pool). A distributed backend (Dask) plugs in here, behind the same call.
"""
from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Sequence


def progress_bar(total: int, enabled: bool, desc: str, unit: str):
    """A tqdm bar on stderr (disabled unless ``enabled``; never left behind)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, disable=not enabled, leave=False)


def map_jobs(func: Callable, items: Iterable, jobs: int = 1, *, progress: bool = False, desc: str = "",
             unit: str = "item", initializer: Callable | None = None, initargs: Sequence = ()) -> list:
    """``[func(item) for item in items]``, by ``jobs`` worker processes when ``jobs > 1``.

    ``func`` (and ``initializer``) must be picklable (module-level functions or
    :func:`functools.partial` of them) when ``jobs > 1``. ``initializer(*initargs)``
    runs once in each worker (e.g. to load what every task of the worker
    shares); it is not called when the work runs in this process.
    """
    items = list(items)
    bar = progress_bar(len(items), progress, desc, unit)
    try:
        if jobs <= 1 or len(items) <= 1:
            results = []
            for item in items:
                results.append(func(item))
                bar.update(1)
            return results
        return _in_pool(func, items, min(int(jobs), len(items)), bar, initializer, initargs)
    finally:
        bar.close()


def _in_pool(func, items, workers: int, bar, initializer, initargs) -> list:
    pool = ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=tuple(initargs))
    try:
        futures = [pool.submit(func, item) for item in items]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for fut in done:
                fut.result()  # the first error (in completion order) is raised here
            bar.update(len(done))
        results = [f.result() for f in futures]
    except BaseException:  # an error or Ctrl-C: do not wait for the remaining tasks
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results
