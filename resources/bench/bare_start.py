"""The start-up floor for ``townapp bench``: a bare QApplication + QMainWindow, shown, then quit.

Prints the same marker (argv[1]) with the wall-clock time the window was shown as
townapp does under TOWNAPP_QUIT_AFTER_SHOWN, so both are timed the same way.
"""

import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1200, 760)
window.show()


def report() -> None:
    app.processEvents()
    print(f"{sys.argv[1]} {time.time():.3f}", flush=True)
    app.quit()


QTimer.singleShot(0, report)
app.exec()
