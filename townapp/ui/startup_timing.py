"""Start-up timing for the frozen build: quit as soon as the main window is shown.

Only active when ``TOWNAPP_QUIT_AFTER_SHOWN`` is set (installers/measure_startup.py
sets it); then the app prints one line with the wall-clock time the main window
appeared and quits, so "launch → main window" can be measured offscreen.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

QUIT_AFTER_SHOWN_ENV = "TOWNAPP_QUIT_AFTER_SHOWN"
SHOWN_MARKER = "townapp-main-window-shown"


def quit_after_shown_if_asked(window: QWidget) -> None:
    """With the environment variable set: once the event loop has shown ``window``, report and quit."""
    if not os.environ.get(QUIT_AFTER_SHOWN_ENV):
        return

    def report() -> None:
        QApplication.processEvents()  # let the first paint happen before the clock stops
        visible = window.isVisible()
        print(f"{SHOWN_MARKER} {time.time():.3f} visible={visible}", flush=True)
        QApplication.quit()

    QTimer.singleShot(0, report)
