"""Small input widgets: a date field that accepts how people type dates, inline error labels, dialog buttons."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QSizePolicy, QWidget

from townapp.core.dates import DateParseError, MonthDate, parse_date
from townapp.core.errors import FieldProblem

ERROR_STYLE = "color: #c62828;"
WARNING_STYLE = "color: #b26a00;"
HINT_STYLE = "color: #555;"


class DateField(QLineEdit):
    """Text entry for dates: 2021-07-01, 2021/7/1, 20210701 or 2021年7月1日 all work.

    With ``month_precision`` a month alone (2021.07, 2021年7月) is accepted and kept as a month
    (core.dates.MonthDate), and a stored month is shown as 2021.07, never with an invented day."""

    def __init__(self, parent: QWidget | None = None, *, month_precision: bool = False) -> None:
        super().__init__(parent)
        self.month_precision = month_precision
        self.setPlaceholderText("如 2021-07-01，只知年月可写 2021.07" if month_precision else "如 2021-07-01")

    def date(self) -> dt.date | None:
        """The date typed, None when empty; raises DateParseError when unreadable."""
        text = self.text().strip()
        return parse_date(text, allow_month=self.month_precision) if text else None

    def set_date(self, value: dt.date | None) -> None:
        self.setText("" if not value else value.text() if isinstance(value, MonthDate) else value.isoformat())

    def problem(self, field: str) -> FieldProblem | None:
        try:
            self.date()
        except DateParseError as exc:
            return FieldProblem(field, str(exc))
        return None


class ErrorLabel(QLabel):
    """A red (error) or amber (warning) line under a field; hidden when there is nothing to say."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.hide()

    def show_problems(self, problems: list[FieldProblem]) -> None:
        if not problems:
            self.clear()
            self.hide()
            return
        has_error = any(p.severity == "error" for p in problems)
        self.setStyleSheet(ERROR_STYLE if has_error else WARNING_STYLE)
        self.setText("\n".join(p.message for p in problems))
        self.show()

    def show_hint(self, text: str) -> None:
        self.setStyleSheet(HINT_STYLE)
        self.setText(text)
        self.setVisible(bool(text))


class HintArea(QLabel):
    """A grey hint in a space reserved for it: always ``lines`` lines high, shown even when empty, so a hint
    appearing, growing or going never moves the fields below it (a click lands where the eye aimed).
    What does not fit is cut, and the whole text is in the tooltip."""

    def __init__(self, lines: int = 3, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(HINT_STYLE)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        self.setToolTip(text)


def fill_combo(combo: QComboBox, values: list[str] | tuple[str, ...], *, blank: bool = False) -> None:
    combo.clear()
    if blank:
        combo.addItem("", None)
    for value in values:
        combo.addItem(value, value)


def select_data(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    combo.setCurrentIndex(max(index, 0))


def ok_cancel(dialog: QDialog, ok_text: str = "确定") -> QDialogButtonBox:
    """OK/取消 buttons wired to accept/reject, with Chinese labels whatever Qt's translation says."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


def close_button(dialog: QDialog) -> QDialogButtonBox:
    """A lone 关闭 button for dialogs that only show or record as they go: closing is accepting."""
    close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    close.button(QDialogButtonBox.StandardButton.Close).setText("关闭")
    close.rejected.connect(dialog.accept)
    return close
