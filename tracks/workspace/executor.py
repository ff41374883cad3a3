"""The one place that starts worker pools: :func:`map_jobs`.

``build`` (one task per epigenome), ``tracks`` (one per epigenome) and
``report`` (one per page) hand their tasks here. Results come back in the
order of the items, whatever the order the tasks finish in, so every output
is the same for any ``jobs``. On the first error, or Ctrl-C, the tasks not yet
started are cancelled and the pool is left without waiting for them; the
error reaches the caller as raised by the task (ShallowChromeError subclasses
pickle with their fields).

``jobs`` is the number of local worker processes (1: in this process, no
pool). ``scheduler`` runs the tasks on a **Dask distributed** cluster instead
(``pip install 'shallowchrome[dask]'``): a scheduler address
(``tcp://host:8786``), the JSON file written by ``dask scheduler
--scheduler-file FILE``, or a connected ``distributed.Client`` (see
:func:`cluster_client` to connect once for several calls). The tasks run in
the workers' processes and read their inputs from paths the workers can see
(a shared filesystem); only the results come back to this process, which does
all the writing, so the outputs are the same bytes as a local run's. A worker
that dies has its tasks rescheduled by Dask on the others; a task that kills
every worker it runs on (``distributed.scheduler.allowed-failures`` + 1 of them)
stops the run with one :class:`ClusterError`.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, CancelledError, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from shallowchrome.model.errors import InputError, ShallowChromeError

log = logging.getLogger(__name__)

#: Seconds to wait for a scheduler to answer (``SHALLOWCHROME_SCHEDULER_TIMEOUT`` overrides).
CONNECT_TIMEOUT = 10.0
INSTALL_HINT = "pip install 'shallowchrome[dask]'"


class ClusterError(ShallowChromeError):
    """The Dask cluster could not run the tasks (workers died, the scheduler went away)."""


def progress_bar(total: int, enabled: bool, desc: str, unit: str):
    """A tqdm bar on stderr (disabled unless ``enabled``; never left behind)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, disable=not enabled, leave=False)


def map_jobs(func: Callable, items: Iterable, jobs: int = 1, *, progress: bool = False, desc: str = "",
             unit: str = "item", initializer: Callable | None = None, initargs: Sequence = (),
             scheduler=None) -> list:
    """``[func(item) for item in items]``, by ``jobs`` worker processes when ``jobs > 1``, or on the Dask
    cluster ``scheduler`` (then ``jobs`` is not used).

    ``func`` (and ``initializer``) must be picklable (module-level functions or
    :func:`functools.partial` of them) when ``jobs > 1`` or on a cluster.
    ``initializer(*initargs)`` runs once in each worker (e.g. to load what every
    task of the worker shares); it is not called when the work runs in this process.
    """
    items = list(items)
    bar = progress_bar(len(items), progress, desc, unit)
    try:
        if scheduler is not None:
            if not items:
                return []
            with cluster_client(scheduler) as client:
                return _on_cluster(client, func, items, bar, initializer, initargs, desc or "task")
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


# --- Dask distributed ---------------------------------------------------------------------------------
def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError(None, "--scheduler needs the Dask `distributed` package, which is not installed",
                         fix=INSTALL_HINT) from None
    return distributed


def _connect_timeout() -> float:
    value = os.environ.get("SHALLOWCHROME_SCHEDULER_TIMEOUT")
    try:
        return float(value) if value else CONNECT_TIMEOUT
    except ValueError:
        raise InputError(None, f"SHALLOWCHROME_SCHEDULER_TIMEOUT={value!r} is not a number of seconds",
                         fix="set it to e.g. 10") from None


_USAGE = ("give the scheduler's address, e.g. tcp://127.0.0.1:8786, or the JSON file written by "
          "`dask scheduler --scheduler-file FILE`")


def scheduler_address(scheduler: str) -> str:
    """The address of ``scheduler``: an address as given (``tcp://host:port``; ``host:port`` means tcp),
    or the ``address`` of a scheduler file. Raises :class:`InputError` for anything else."""
    text = str(scheduler).strip()
    if "://" in text:
        return text
    path = Path(text)
    if path.is_file():
        import json

        try:
            doc = json.loads(path.read_text())
            address = doc["address"]
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise InputError(path, "is not a Dask scheduler file (JSON with an \"address\")", fix=_USAGE) from None
        if not isinstance(address, str) or not address:
            raise InputError(path, "is not a Dask scheduler file (its \"address\" is empty)", fix=_USAGE)
        return address
    host, sep, port = text.rpartition(":")
    if sep and host and port.isdigit():
        return f"tcp://{text}"
    raise InputError(None, f"--scheduler {text!r} is neither a scheduler address nor an existing scheduler file",
                     fix=_USAGE)


def connect(scheduler, timeout: float | None = None):
    """A new ``distributed.Client`` of ``scheduler`` (address or scheduler file; see :func:`scheduler_address`).

    A scheduler that does not answer within ``timeout`` seconds (default
    :data:`CONNECT_TIMEOUT`) is one :class:`InputError` naming the address and the fix.
    """
    distributed = _distributed()
    address = scheduler_address(scheduler)
    timeout = _connect_timeout() if timeout is None else timeout
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(None, f"cannot connect to the Dask scheduler {address} ({reason})",
                         fix="start it (`dask scheduler`, then `dask worker ADDRESS` on each machine) and give its "
                             "address or scheduler file, or build without --scheduler") from None
    try:  # informational only
        n_workers = len(client.scheduler_info().get("workers", {}))
    except (OSError, RuntimeError, TimeoutError, ValueError, AttributeError):
        n_workers = 0
    if n_workers:
        log.info("%s: %d Dask worker(s)", address, n_workers)
    else:
        log.warning("%s: the Dask scheduler has no workers yet; the tasks wait until one joins", address)
    return client


@contextmanager
def cluster_client(scheduler):
    """``with cluster_client(s) as client``: a connected client of ``s`` (closed at the end), or ``s`` itself when
    it already is a client (left open)."""
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        yield scheduler
        return
    client = connect(scheduler)
    try:
        yield client
    finally:
        try:
            client.close(timeout=5)
        except (OSError, RuntimeError, TimeoutError, ValueError) as exc:  # the scheduler may be gone
            log.debug("closing the Dask client: %s", exc)


class _Call:
    """What every task of one :func:`map_jobs` call shares: the function and the per-worker initializer."""

    def __init__(self, func, initializer, initargs, token):
        self.func, self.initializer, self.initargs, self.token = func, initializer, tuple(initargs), token


_READY: set = set()
_READY_LOCK = threading.Lock()


def _shared(call: _Call) -> _Call:
    """Cluster task holding the shared :class:`_Call` once in the cluster (recomputed if its worker dies)."""
    return call


def _run(call: _Call, item):
    """Cluster task: ``call.func(item)``, after ``call.initializer`` ran once in this worker process."""
    if call.initializer is not None and call.token not in _READY:
        with _READY_LOCK:
            if call.token not in _READY:
                call.initializer(*call.initargs)
                _READY.add(call.token)
    return call.func(item)


def _on_cluster(client, func, items, bar, initializer, initargs, desc: str) -> list:
    distributed = _distributed()
    from distributed.scheduler import KilledWorker

    token = uuid.uuid4().hex[:12]
    prefix = f"shallowchrome-{desc}"
    shared = client.submit(_shared, _Call(func, initializer, initargs, token), key=f"{prefix}-shared-{token}",
                           pure=False)
    futures = [client.submit(_run, shared, item, key=f"{prefix}-{token}-{i:06d}", pure=False)
               for i, item in enumerate(items)]
    index = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(items)
    try:
        for fut in distributed.as_completed(futures, loop=client.loop):
            if fut.status == "error":
                exc = fut.exception()
                if isinstance(exc, KilledWorker):
                    raise ClusterError(
                        f"task {index[fut.key] + 1} of {len(items)} ({desc}) killed every Dask worker that ran it "
                        f"({exc.allowed_failures + 1} of them)",
                        fix="check the workers' logs and memory limit (a task needs more than a worker has?), "
                            "or build without --scheduler") from None
                if isinstance(exc, ModuleNotFoundError):
                    raise ClusterError(f"a Dask worker cannot import {exc.name!r} ({exc})",
                                       fix="install shallowchrome in the workers' Python environment") from None
                fut.result()  # the task's own error, as it raised it
            try:
                results[index[fut.key]] = fut.result()
            except CancelledError as exc:
                reason = (str(exc).strip().splitlines() or [""])[0]
                raise ClusterError(f"the Dask cluster cancelled the {desc} tasks ({reason or 'scheduler restarted or gone?'})",
                                   fix="check the scheduler's log; the scheduler and the workers need the same Python "
                                       "environment as this one, with shallowchrome installed") from None
            fut.release()
            bar.update(1)
    except BaseException:  # an error or Ctrl-C: cancel what has not run yet, do not wait for it
        try:
            client.cancel(futures + [shared], force=True)
        except (OSError, RuntimeError, TimeoutError, ValueError) as exc:  # the scheduler may be gone
            log.debug("cancelling the Dask tasks: %s", exc)
        raise
    shared.release()
    return results
