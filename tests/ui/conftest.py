"""Qt tests run offscreen against the real windows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QWidget  # noqa: E402

from townapp.core.actor import DEMO_ACTOR  # noqa: E402
from townapp.db import Database  # noqa: E402
from townapp.ui.app import open_main_window, setup_application  # noqa: E402
from townapp.ui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    """The application set up as the real start-up does (Chinese translations, bundled font)."""
    return setup_application()


@pytest.fixture
def open_demo_window(app: QApplication, open_demo: Callable[..., Database], qtbot) -> Iterator[Callable[..., MainWindow]]:  # noqa: ANN001
    """``open_demo_window(scale, seed)``: the real main window, as the demo administrator, on this test's own
    copy of that demo database; closed after the test."""
    windows: list[MainWindow] = []

    def open_window(scale: str, seed: int) -> MainWindow:
        main = open_main_window(open_demo(scale, seed), DEMO_ACTOR)
        qtbot.addWidget(main)
        windows.append(main)
        return main

    yield open_window
    for main in windows:
        main.close()


@pytest.fixture
def dongzhang_window(app: QApplication, db: Database, qtbot) -> Iterator[MainWindow]:  # noqa: ANN001
    """The real window on a township database with one village (东张村, 一组), as a 乡镇干部 (李文书)."""
    from townapp.core.actor import Actor
    from townapp.registry.dto import VillageInput
    from townapp.registry.service import RegistryService

    RegistryService(db).save_village(VillageInput(code="140821100201", name="东张村", groups=["一组"]))
    main = open_main_window(db, Actor("李文书", "乡镇干部"))
    qtbot.addWidget(main)
    yield main
    main.close()


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
