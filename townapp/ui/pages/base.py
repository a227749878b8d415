"""What a module page is to the main window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from townapp.core.errors import DomainError


class Page(QWidget):
    """A page in the left navigation. ``data_changed`` tells the window to refresh counts."""

    title = ""
    data_changed = Signal()
    # A page whose refresh() only starts a background load says so, and emits data_shown once the
    # data is on screen (the main window's "ready" waits for it); others show their data in refresh().
    loads_in_background = False
    data_shown = Signal()

    def refresh(self) -> None:
        """Re-read what the page shows (called when it becomes visible or data changed elsewhere)."""

    def show_error(self, error: DomainError | str) -> None:
        message = error.message if isinstance(error, DomainError) else error
        QMessageBox.warning(self, "无法完成", message)

    def confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "请确认", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes
