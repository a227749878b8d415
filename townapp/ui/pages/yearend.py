"""年度结转: the year's checklist and the one action that finalises it (townapp/yearend/service.py).

The list says what is still open and on which page to finish it; the button
is offered to township users once nothing blocks. The close runs in the
background with a progress dialog and ends with a message saying what it did.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
)

from townapp.core import permissions
from townapp.core.errors import DomainError
from townapp.ui.context import AppContext
from townapp.ui.jobs import Job
from townapp.ui.pages.base import Page
from townapp.ui.widgets.tables import fill_table
from townapp.yearend.service import CheckItem, YearCloseDTO, YearEndService

TITLE = "年度结转"
HEADERS = ("事项", "未完成", "说明", "处理页面", "状态")
WIDTHS = (220, 70, 520, 100, 80)
OPEN_COLOUR, DONE_COLOUR, NOTE_COLOUR = QColor("#c62828"), QColor("#2e7d32"), QColor("#e65100")
WHAT_IT_DOES = ("结转将：确定本年度每名党员的积分等次（此后本年度积分不能再录入、修改或冲正）；"
                "把各村年末债务余额和重点村标记结转到下一年度档案；按评星定级、头雁指数结果生成整顿、问题清单、"
                "调整建议等拟办事项；下一年度沿用本年度的积分规则。评定结果（星级、定级）已在定级时写入档案和报酬表。")


def _state(item: CheckItem) -> str:
    """已完成; 未完成 blocks the close; 提醒 is said but does not block (e.g. a round never held)."""
    return "已完成" if item.clear else "未完成" if item.blocking else "提醒"


def create_pages(ctx: AppContext) -> list[Page]:
    return [YearEndPage(ctx)]


class YearEndPage(Page):
    title = TITLE

    def __init__(self, ctx: AppContext, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.today = today or dt.date.today()
        self.service = YearEndService(ctx.db, ctx.actor)
        self.township = permissions.is_township_level(ctx.actor)
        self.year = QSpinBox()
        self.year.setObjectName("year")
        self.year.setRange(2000, 2100)
        self.year.setValue(self.today.year - 1)
        self.year.valueChanged.connect(self.refresh)
        self.refresh_button = QPushButton("刷新")
        self.refresh_button.clicked.connect(self.refresh)
        self.close_button = QPushButton()
        self.close_button.setObjectName("close_year")
        self.close_button.clicked.connect(self.close_year)
        if not self.township:  # only hide: showing a button not yet in a layout opens it as a window of its own
            self.close_button.hide()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("年度"))
        bar.addWidget(self.year)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.close_button)
        self.state = QLabel()
        self.state.setObjectName("state")
        self.state.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setObjectName("checklist")
        explain = QLabel(WHAT_IT_DOES)
        explain.setWordWrap(True)
        explain.setStyleSheet("color: #555;")
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addWidget(explain)
        layout.addWidget(self.summary)
        self.items: list[CheckItem] = []
        self.job: Job | None = None

    def refresh(self) -> None:
        year = self.year.value()
        try:
            closed = self.service.closed(year)
            self.items = self.service.checklist(year, self.today)
        except DomainError as exc:
            self.show_error(exc)
            return
        rows = [(item.title, str(item.count), item.detail, item.where, _state(item)) for item in self.items]
        fill_table(self.table, HEADERS, rows, widths=WIDTHS)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        for index, item in enumerate(self.items):
            cell = self.table.item(index, len(HEADERS) - 1)
            if cell is not None:
                cell.setForeground(QBrush(DONE_COLOUR if item.clear else OPEN_COLOUR if item.blocking
                                          else NOTE_COLOUR))
        blocking = [item for item in self.items if item.blocking and not item.clear]
        self.close_button.setText(f"结转{year}年度…")
        self.close_button.setEnabled(closed is None and not blocking and self.township)
        if closed is not None:
            self.state.setText(f"{year}年度已于{closed.closed_on:%Y年%m月%d日}由{closed.closed_by}结转。")
            self.state.setStyleSheet(f"color: {DONE_COLOUR.name()}; font-weight: bold;")
            self._show_summary(closed)
        else:
            self.state.setText(f"{year}年度尚未结转：还有 {len(blocking)} 项未完成，完成后才能结转。" if blocking
                               else f"{year}年度的事项都已完成，可以结转。")
            self.state.setStyleSheet(f"color: {(OPEN_COLOUR if blocking else DONE_COLOUR).name()}; font-weight: bold;")
            self.summary.setText("")

    def _show_summary(self, closed: YearCloseDTO) -> None:
        self.summary.setText("结转结果：\n" + "\n".join(f"· {line}" for line in closed.summary))

    def close_year(self) -> None:
        year = self.year.value()
        if not self.confirm(f"确定结转{year}年度吗？\n\n{WHAT_IT_DOES}\n\n结转后不能撤销。"):
            return
        service, on = self.service, max(self.today, dt.date(year + 1, 1, 1))

        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            return service.close(year, on, progress, cancel)

        self.job = Job(self, f"正在结转{year}年度…", work, self._closed, self._failed).start()

    def _closed(self, closed: YearCloseDTO) -> None:
        self.refresh()
        self.data_changed.emit()
        QMessageBox.information(self, "年度结转完成", f"{closed.year}年度已结转。\n\n" + "\n".join(closed.summary))

    def _failed(self, message: str) -> None:
        self.refresh()
        QMessageBox.warning(self, "年度结转未完成", f"{message}\n\n已完成的步骤已保存，处理后再次点击“结转”即可继续。")
