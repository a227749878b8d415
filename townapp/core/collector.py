"""Pausing Python's cyclic garbage collector while bulk work makes millions of objects.

A full collection walks every live object with the GIL held. A county's year
of point records is a quarter of a million records, each becoming a tuple and
a dict entry; the collector then ran again and again as the heap grew: 1.6 of
the 4.7 s a county's points totals took, and in the GUI 0.1–0.4 s freezes
of the window although the work ran on another thread. What the work makes
has no reference cycles and is freed by reference counting as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holds = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic cyclic collection inside; nests and works across threads (resumes when the last ends)."""
    global _holds, _was_enabled
    with _lock:
        _holds += 1
        if _holds == 1:
            _was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _holds -= 1
            if _holds == 0 and _was_enabled:
                gc.enable()
