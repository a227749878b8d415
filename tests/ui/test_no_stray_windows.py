"""Story: building the pages opens no window of its own and does not take the focus away.

A widget shown before it is in a layout becomes a window of its own for a moment (on a real
desktop it flashes and takes the keyboard from the main window; offscreen the main window is
left inactive and typing goes nowhere). Every role sees other buttons, so each role is tried.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import select

from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.registry.models import Village
from townapp.ui.app import open_main_window


class ShownWindows(QObject):
    """Every window (a widget without a parent) that was shown while installed."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget) and watched.isWindow():
            self.shown.append(f"{type(watched).__name__} {watched.objectName()!r} {getattr(watched, 'text', str)()!r}")
        return False


@pytest.mark.parametrize("role", [ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_VILLAGE, ROLE_READONLY])
def test_building_every_page_shows_no_stray_window_for_any_role(role: str, open_demo, qtbot) -> None:  # noqa: ANN001
    # GIVEN the small demo township and a user of this role (a clerk of its first village)
    db = open_demo("small", 11)
    with db.reader() as session:
        first_village = session.scalars(select(Village.id).order_by(Village.id)).first()
    actor = Actor(f"{role}甲", role, first_village if role == ROLE_VILLAGE else None)
    watcher = ShownWindows()
    app = QApplication.instance()
    app.installEventFilter(watcher)
    try:
        # WHEN the main window opens and every page that waited for it is built
        window = open_main_window(db, actor)
        qtbot.addWidget(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: app.activeWindow() is window, timeout=5000)
        window.load_deferred_pages()
        qtbot.wait(50)
    finally:
        app.removeEventFilter(watcher)
    # THEN the main window was the only window shown and it still has the keyboard
    assert [w for w in watcher.shown if not w.startswith("MainWindow")] == []
    assert app.activeWindow() is window
    window.close()
