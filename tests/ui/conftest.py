"""Qt tests run offscreen against the real windows."""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from townapp.ui.app import setup_application  # noqa: E402


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    """The application set up as the real start-up does (Chinese translations, bundled font)."""
    return setup_application()


def when_dialog_opens(action: Callable[[QDialog], None], *, timeout_ms: int = 5000) -> None:
    """Run ``action`` on the next modal dialog once it is shown (the caller then triggers it).

    Dialogs are opened with exec(), as a user sees them; this drives them from inside.
    """
    waited = [0]

    def poll() -> None:
        widget: QWidget | None = QApplication.activeModalWidget()
        if isinstance(widget, QDialog) and widget.isVisible():
            action(widget)
            return
        waited[0] += 20
        if waited[0] > timeout_ms:
            raise AssertionError("等待的对话框没有出现")
        QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
