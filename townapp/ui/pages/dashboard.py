"""首页: the township's key figures and four charts for a quarter, each chart savable as a picture.

The figures are the quarterly return's named figures (one source of truth);
they are computed off the GUI thread with a delayed progress dialog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QCoreApplication, Qt, QThreadPool, QTimer
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from townapp.figures import figure_registry, unit_source
from townapp.followup.service import FollowUpService
from townapp.outputs.charts import figure_png
from townapp.outputs.figures import Period
from townapp.outputs.overview import CHARTS, KEY_FIGURES, Overview
from townapp.outputs.quarterly import ReturnService
from townapp.ui.context import AppContext
from townapp.ui.jobs import Job
from townapp.ui.pages.base import Page
from townapp.ui.widgets.done import announce_written
from townapp.ui.widgets.files import choose_save_file

QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")
PNG_FILTER = "PNG 图片 (*.png)"
START_DELAY_MS = 300


def create_pages(ctx: AppContext) -> list[Page]:
    return [DashboardPage(ctx)]


class _Tile(QFrame):
    """One key figure: a big number, its label and a note (e.g. the coverage share)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.setStyleSheet("#tile { background: #f4f8fc; border: 1px solid #c9d8ea; border-radius: 6px; }")
        self.value = QLabel("—")
        self.value.setStyleSheet("font-size: 22px; font-weight: bold; color: #1f4e79;")
        self.label = QLabel()
        self.note = QLabel()
        self.note.setStyleSheet("color: #666666;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        for widget in (self.value, self.label, self.note):
            layout.addWidget(widget)


class DashboardPage(Page):
    title = "首页"
    TILES = len(KEY_FIGURES) + 1  # the count of villages first
    loads_in_background = True  # the figures are counted in the pool; data_shown follows

    def __init__(self, ctx: AppContext, today: dt.date | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.service = ReturnService(ctx.db, figure_registry(ctx.db), unit_source(), ctx.actor)
        self.followups = FollowUpService(ctx.db, ctx.actor)
        self.today = today
        period = Period.containing(today or dt.date.today())
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(period.year)
        self.year.setSuffix(" 年")
        self.quarter = QComboBox()
        self.quarter.addItems(QUARTERS)
        self.quarter.setCurrentIndex(period.quarter - 1)
        refresh = QPushButton("刷新")
        refresh.setObjectName("refresh")
        refresh.clicked.connect(self.refresh)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 18px; font-weight: bold;")
        self.missing = QLabel()
        self.missing.setWordWrap(True)
        self.missing.setStyleSheet("color: #9c6500;")
        self.overdue = QPushButton()  # 整改跟踪 items past their deadline: a click opens that page
        self.overdue.setObjectName("overdue_followups")
        self.overdue.setFlat(True)
        self.overdue.setCursor(Qt.CursorShape.PointingHandCursor)
        self.overdue.clicked.connect(self._open_followups)
        bar = QHBoxLayout()
        bar.addWidget(self.heading, 1)
        bar.addWidget(self.overdue)
        bar.addWidget(QLabel("数据截至"))
        bar.addWidget(self.year)
        bar.addWidget(self.quarter)
        bar.addWidget(refresh)
        tiles = QGridLayout()
        self.tiles = [_Tile() for _ in range(self.TILES)]
        for number, tile in enumerate(self.tiles):
            tiles.addWidget(tile, number // 5, number % 5)
        charts = QGridLayout()
        self.figures: list[Figure] = []
        self.canvases: list[FigureCanvasQTAgg] = []
        for number, (caption, _draw) in enumerate(CHARTS):
            figure = Figure(figsize=(6.0, 3.3), dpi=100)
            canvas = FigureCanvasQTAgg(figure)
            canvas.setMinimumHeight(280)
            save = QPushButton(f"保存“{caption}”图片…")
            save.setObjectName(f"save_chart_{number}")
            save.clicked.connect(self._saver(number, caption))
            box = QVBoxLayout()
            box.addWidget(canvas)
            box.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
            holder = QWidget()
            holder.setLayout(box)
            charts.addWidget(holder, number // 2, number % 2)
            self.figures.append(figure)
            self.canvases.append(canvas)
        body = QWidget()
        inner = QVBoxLayout(body)
        inner.addLayout(tiles)
        inner.addWidget(self.missing)
        inner.addLayout(charts)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        self.overview: Overview | None = None
        self.job: Job | None = None

    def period(self) -> Period:
        return Period(self.year.value(), self.quarter.currentIndex() + 1)

    def refresh(self) -> None:
        """Shortly after the page is shown (a user clicking through does not start the counting)."""
        self._count_overdue()
        QTimer.singleShot(START_DELAY_MS, self._start)

    def _count_overdue(self) -> None:
        """Overdue follow-ups (a few rows: counted at once), red while there are any."""
        count = self.followups.overdue_count(self.today)
        self.overdue.setText(f"整改跟踪：逾期 {count} 项" + ("，点击查看" if count else ""))
        self.overdue.setStyleSheet("color: #c62828; font-weight: bold;" if count else "color: #2e7d32;")

    def _open_followups(self) -> None:
        window = self.window()
        if hasattr(window, "open_page"):
            page = window.open_page("整改跟踪")
            if hasattr(page, "only_overdue"):
                page.only_overdue.setChecked(True)

    def _start(self) -> None:
        if not self.isVisible() or (self.job is not None and not self.job.done):
            return
        period = self.period()

        def work(progress, cancel):  # noqa: ANN001, ANN202 (runs in the pool)
            return self.service.overview(period, progress=progress, cancel=cancel)

        self.job = Job(self, "正在统计首页数字……", work, on_success=self.show_overview,
                       on_failure=self.show_error).start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        """Leaving the page (or closing the window) stops the counting: no work outlives the page."""
        self.wait_idle()
        super().hideEvent(event)

    def wait_idle(self) -> None:
        if self.job is not None and not self.job.done:
            self.job.cancel()
            QThreadPool.globalInstance().waitForDone(30_000)
            QCoreApplication.processEvents()

    def show_overview(self, data: Overview) -> None:
        self.overview = data
        self.heading.setText(f"{data.unit_name}　{data.period.text}")
        for tile, figure in zip(self.tiles, data.key_figures, strict=False):
            tile.value.setText(figure.value)
            tile.label.setText(figure.label)
            tile.note.setText(figure.note)
        self.missing.setText(f"以下数字暂无模块提供，按0显示：{'、'.join(data.missing_figures)}"
                             if data.missing_figures else "")
        self.missing.setVisible(bool(data.missing_figures))
        for (_caption, draw), figure, canvas in zip(CHARTS, self.figures, self.canvases, strict=True):
            draw(data, figure)
            canvas.draw_idle()
        self.data_shown.emit()

    def _saver(self, number: int, caption: str) -> Callable[[], None]:
        def save() -> None:
            if self.overview is None:
                return
            name = f"{self.overview.unit_name}{self.overview.period.text}{caption}.png"
            path = choose_save_file(self, "保存图片", self.ctx.settings, name, PNG_FILTER, ".png")
            if path is not None:
                from townapp.core.atomic import write_bytes_atomic

                write_bytes_atomic(path, figure_png(self.figures[number]))
                announce_written(self, path, "图片", title="已保存", name="chart_done")
        return save
