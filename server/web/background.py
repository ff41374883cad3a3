"""The app's background threads (cache warm-ups), each finished before the interpreter exits.

A daemon thread still inside compiled code when Python finalises is killed as it next takes the GIL; in
matplotlib's C++ (a warm-up renders a chart) that aborts the whole process ("terminate called without an
active exception", exit code 134), e.g. a script or test that makes an app and ends at once. So every
thread started here is joined at exit: :data:`stopping` is set first, and the loops that check it between
units of work end early.
"""
from __future__ import annotations

import atexit
import logging
import threading

#: Set at interpreter exit: long warm-ups check it between units of work and return.
stopping = threading.Event()
#: Seconds to wait at exit for each thread still running (a unit of work: a chart, a statsmodels fit).
JOIN_TIMEOUT = 60.0

_threads: list[threading.Thread] = []
_lock = threading.Lock()
log = logging.getLogger(__name__)


def start(target, *args, name: str) -> threading.Thread:
    """Run ``target(*args)`` in a daemon thread that the interpreter's exit waits for."""
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()]
        _threads.append(thread)
    thread.start()
    return thread


@atexit.register
def _finish() -> None:
    stopping.set()
    with _lock:
        running = [t for t in _threads if t.is_alive()]
    for thread in running:
        thread.join(JOIN_TIMEOUT)
        if thread.is_alive():
            log.warning("%s still running at exit", thread.name)
