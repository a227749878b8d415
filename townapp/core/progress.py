"""Progress and cancel callbacks that long core functions accept.

Core code never knows about Qt: it calls ``progress(done, total, text)`` and
``cancel()``; ``ui/jobs.py`` connects these to a progress dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from townapp.core.errors import Cancelled

ProgressFn = Callable[[int, int, str], None]
CancelFn = Callable[[], bool]


def no_progress(done: int, total: int, text: str) -> None:
    """Default progress callback: nobody is watching."""


def never_cancel() -> bool:
    return False


class Reporter:
    """Bundles both callbacks; ``step`` reports and raises Cancelled when asked to stop."""

    def __init__(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> None:
        self._progress = progress or no_progress
        self._cancel = cancel or never_cancel

    def step(self, done: int, total: int, text: str = "") -> None:
        if self._cancel():
            raise Cancelled("已取消")
        self._progress(done, total, text)
