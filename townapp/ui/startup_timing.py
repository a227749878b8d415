"""Start-up timing markers, for ``townapp bench`` and installers/measure.py.

Only active when ``TOWNAPP_QUIT_AFTER_SHOWN`` is set. Then the app prints two
lines with wall-clock times, so "launch → main window" and "launch → data on
screen" can be measured offscreen from outside the process:

    townapp-main-window-shown <epoch seconds> visible=True   (the window's first paint)
    townapp-main-window-ready <epoch seconds>                 (the first page shows its data)

and quits after the second. Kept free of townapp imports so loading it costs nothing.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

QUIT_AFTER_SHOWN_ENV = "TOWNAPP_QUIT_AFTER_SHOWN"
SHOWN_MARKER = "townapp-main-window-shown"
READY_MARKER = "townapp-main-window-ready"
READY_TIMEOUT_MS = 600_000  # a start that never gets ready still ends (without the ready line)


def asked() -> bool:
    return bool(os.environ.get(QUIT_AFTER_SHOWN_ENV))


def report_shown(window: QWidget) -> None:
    """Call once the event loop has painted ``window`` (after ``QApplication.processEvents()``)."""
    if not asked():
        return
    print(f"{SHOWN_MARKER} {time.time():.3f} visible={window.isVisible()}", flush=True)
    QTimer.singleShot(READY_TIMEOUT_MS, QApplication.quit)


def report_ready() -> None:
    """Call when the first page shows its data: prints the ready line and quits."""
    if not asked():
        return
    QApplication.processEvents()  # let the data paint before the clock stops
    print(f"{READY_MARKER} {time.time():.3f}", flush=True)
    QApplication.quit()
