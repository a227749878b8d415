"""The main window: module pages in a left navigation, a status bar with counts."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from importlib import import_module

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from townapp import APP_TITLE, __version__
from townapp.ui.context import AppContext
from townapp.ui.pages.base import Page

PageFactory = Callable[[AppContext], Sequence[Page]]
GEOMETRY_KEY = "main_window_geometry"
DEFERRED_DELAY_MS = 30


class DeferredPages:
    """A module's pages, imported and built only after the window is on screen.

    Heavy modules (charts, PDF, Excel) cost seconds to import; the user should
    see the window first. ``module`` must define ``create_pages(ctx)``.
    """

    def __init__(self, module: str) -> None:
        self.module = module

    def __call__(self, ctx: AppContext) -> Sequence[Page]:
        return import_module(self.module).create_pages(ctx)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, page_factories: Sequence[PageFactory]) -> None:
        super().__init__()
        self.ctx = ctx
        root = ctx.db.meta("root_name") or ""
        self.setWindowTitle(f"{APP_TITLE} — {root}" if root else APP_TITLE)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(150)
        self.nav.setStyleSheet("QListWidget::item { padding: 8px 6px; }")
        self.stack = QStackedWidget()
        self._pages: list[Page] = []
        # one slot per factory, in navigation order; deferred slots fill in after the first paint
        self._slots: list[list[Page]] = [[] for _ in page_factories]
        self._deferred: list[tuple[int, PageFactory]] = []
        for slot, factory in enumerate(page_factories):
            if isinstance(factory, DeferredPages):
                self._deferred.append((slot, factory))
            else:
                for page in factory(ctx):
                    self._add_page(page, slot)
        self._user_navigated = False
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._show_page)
        self.nav.itemClicked.connect(self._note_navigation)

        self.db_label = QLabel(f"数据库：{ctx.db.path}")
        self.counts_label = QLabel()
        self.user_label = QLabel(f"当前用户：{ctx.actor.username}（{ctx.actor.role}）")
        self.statusBar().addWidget(self.db_label, 1)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.user_label)
        self._build_menu()
        self.refresh_counts()
        self._restore_geometry()
        if self._pages:
            self.nav.setCurrentRow(0)
        if self._deferred:  # after the first paint, so the window appears before heavy modules load
            QTimer.singleShot(DEFERRED_DELAY_MS, self.load_deferred_pages)

    def load_deferred_pages(self) -> None:
        """Build the pages that waited for the window to be shown, in their navigation places (idempotent)."""
        if not self._deferred:
            return
        while self._deferred:
            slot, factory = self._deferred.pop(0)
            for page in factory(self.ctx):
                self._add_page(page, slot)
        if self._pages and (self.nav.currentRow() < 0 or not self._user_navigated):
            if self.nav.currentRow() == 0:
                self._show_page(0)
            else:
                self.nav.setCurrentRow(0)

    def _add_page(self, page: Page, slot: int) -> None:
        index = sum(len(pages) for pages in self._slots[:slot + 1])
        self._slots[slot].append(page)
        self._pages.insert(index, page)
        self.stack.insertWidget(index, page)
        self.nav.insertItem(index, QListWidgetItem(page.title))
        page.data_changed.connect(self.refresh_counts)

    @property
    def pages(self) -> list[Page]:
        """Every page, in navigation order (asking for them builds any still deferred)."""
        self.load_deferred_pages()
        return self._pages

    def _note_navigation(self) -> None:
        self._user_navigated = True

    def _show_page(self, row: int) -> None:
        if 0 <= row < len(self._pages):
            self.stack.setCurrentIndex(row)
            self._pages[row].refresh()

    def page(self, title: str) -> Page:
        return next(p for p in self.pages if p.title == title)

    def open_page(self, title: str) -> Page:
        page = self.page(title)
        self.nav.setCurrentRow(self._pages.index(page))
        return page

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        quit_action = QAction("退出(&X)", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("帮助(&H)")
        about = QAction("关于(&A)", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_about(self) -> None:
        QMessageBox.about(self, "关于", f"<b>{APP_TITLE}</b><br>版本 {__version__}<br>"
                          "离线使用，数据只保存在本机的数据文件夹中。")

    def refresh_counts(self) -> None:
        counts = self.ctx.registry.counts()
        self.counts_label.setText(f"村/社区 {counts.villages}　住户 {counts.households}　"
                                  f"人员 {counts.people}　党员 {counts.party_members}")

    def _restore_geometry(self) -> None:
        saved = self.ctx.settings.get(GEOMETRY_KEY)
        if saved:
            self.restoreGeometry(QByteArray(base64.b64decode(saved)))
        else:
            self.resize(1200, 760)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.ctx.settings.set(GEOMETRY_KEY, base64.b64encode(bytes(self.saveGeometry().data())).decode())
        super().closeEvent(event)
