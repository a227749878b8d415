"""Walking a page as a person would: every tab of it in turn (tests that press every button use it)."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QThreadPool
from PySide6.QtWidgets import QTabWidget, QWidget


def settle(qtbot) -> None:  # noqa: ANN001
    """Until background jobs are done and their results are on screen."""
    qtbot.waitUntil(lambda: QThreadPool.globalInstance().activeThreadCount() == 0, timeout=120_000)
    for _ in range(5):
        QCoreApplication.processEvents()


def tab_by_tab(page: QWidget, qtbot) -> Iterator[str]:  # noqa: ANN001
    """Yields once as the page opened, then once per further tab of each of its tab widgets (shown in turn)."""
    yield ""
    for tabs in page.findChildren(QTabWidget):
        if not tabs.isVisible():
            continue
        first = tabs.currentIndex()
        for index in range(tabs.count()):
            if index == first or not tabs.isTabEnabled(index):
                continue
            tabs.setCurrentIndex(index)
            settle(qtbot)
            yield tabs.tabText(index)
        tabs.setCurrentIndex(first)
