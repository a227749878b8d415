"""The main window: module pages in a left navigation, a status bar with counts.

Two ways in. ``MainWindow(ctx, factories)`` builds the pages at once (tests, and
any caller that already has a database and a user). ``MainWindow(None, factories)``
is the window start-up shows before anything slow happens: the real title, menu
bar, navigation and status bar, and in the centre an opening panel saying what
start-up is doing; ``attach(ctx)`` then builds the pages in the same window, with
the same page logic. This module imports no database code, so the window can be
on screen before SQLAlchemy, Alembic or pypinyin are even loaded.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from townapp import APP_TITLE, version
from townapp.config import Settings
from townapp.ui import fontsize
from townapp.ui.pages.base import Page

if TYPE_CHECKING:
    from townapp.ui.context import AppContext
    from townapp.ui.help import HelpWindow

PageFactory = Callable[["AppContext"], Sequence[Page]]
GEOMETRY_KEY = "main_window_geometry"
NAV_WIDTH = 150  # at 标准 字号; wider with the font so 一村一档总览 still fits
DEFERRED_DELAY_MS = 30


@dataclass(frozen=True)
class ModulePages:
    """A module's pages, built with the window; the page module is imported only then.

    So importing the window (and showing it in its opening state) never loads a
    module's services. ``load`` imports the page module with a plain import inside
    a function (townapp/ui/pages/table.py) and returns its ``create_pages``; ``name``
    says which module it is (logs, tests).
    """

    name: str
    load: Callable[[], PageFactory]

    def __call__(self, ctx: AppContext) -> Sequence[Page]:
        return self.load()(ctx)


@dataclass(frozen=True)
class DeferredPages(ModulePages):
    """A module's pages, imported and built only after the window is on screen.

    Heavy modules (charts, PDF, Excel) cost seconds to import; the user should
    see the window first.
    """


class OpeningPanel(QWidget):
    """The centre of the window while start-up works: what is happening, and a busy bar."""

    cancelled = Signal()
    WIDTH = 420

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("opening")
        # centred by style sheet and stretches, not Qt.AlignmentFlag: Qt's enums take 13 ms to load
        self.title = QLabel(APP_TITLE)
        self.title.setStyleSheet("font-size: 20px; font-weight: bold; color: #1f4e79; qproperty-alignment: AlignCenter;")
        self.step = QLabel("正在启动……")
        self.step.setObjectName("opening_step")
        self.step.setStyleSheet("font-size: 15px; qproperty-alignment: AlignCenter;")
        self.bar = QProgressBar()
        self.bar.setObjectName("opening_progress")
        self.bar.setRange(0, 0)  # busy until a step reports how far it is
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("取消")
        self.cancel.setObjectName("opening_cancel")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self._cancel_clicked)
        self.cancelling = False
        column = QWidget()
        column.setFixedWidth(round(self.WIDTH * fontsize.current_factor()))  # the 字号 chosen last time
        inner = QVBoxLayout(column)
        for widget in (self.title, self.step, self.bar):
            inner.addWidget(widget)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        inner.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addLayout(row)
        layout.addStretch(3)

    def show_step(self, text: str, done: int = 0, total: int = 0, *, cancellable: bool = False) -> None:
        """``text`` as the current step; a bar that fills when ``total`` is known, busy otherwise."""
        self.step.setText("正在取消……" if self.cancelling else text)
        self.bar.setRange(0, max(total, 0))
        self.bar.setValue(min(done, total) if total > 0 else 0)
        self.bar.setTextVisible(total > 0)
        self.cancel.setVisible(cancellable)
        self.cancel.setEnabled(not self.cancelling)

    def _cancel_clicked(self) -> None:
        self.cancelling = True
        self.cancel.setEnabled(False)
        self.step.setText("正在取消……")
        self.cancelled.emit()


class MainWindow(QMainWindow):
    first_page_loaded = Signal()  # once: the page the user lands on shows its data

    def __init__(self, ctx: AppContext | None, page_factories: Sequence[PageFactory], *,
                 settings: Settings | None = None, db_path: Path | str | None = None) -> None:
        super().__init__()
        self.ctx: AppContext | None = None
        self.settings = settings or (ctx.settings if ctx is not None else Settings())
        self._factories = tuple(page_factories)
        self.setWindowTitle(APP_TITLE)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(round(NAV_WIDTH * fontsize.current_factor()))
        self.nav.setStyleSheet("QListWidget::item { padding: 8px 6px; }")
        self.nav.setEnabled(False)  # greyed until the pages exist
        self.stack = QStackedWidget()
        self.opening = OpeningPanel()
        self.body = QStackedWidget()  # the opening panel, then the page stack
        self.body.addWidget(self.opening)
        self.body.addWidget(self.stack)
        self._pages: list[Page] = []
        # one slot per factory, in navigation order; deferred slots fill in after the first paint
        self._slots: list[list[Page]] = [[] for _ in self._factories]
        self._deferred: list[tuple[int, PageFactory]] = []
        self._user_navigated = False
        self._first_page_announced = False
        self._first_page: Page | None = None
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.body, 1)
        self.setCentralWidget(central)
        self.nav.currentRowChanged.connect(self._show_page)
        self.nav.itemClicked.connect(self._note_navigation)

        self.db_label = QLabel(f"数据库：{db_path}" if db_path else "")
        self.counts_label = QLabel()
        self.user_label = QLabel()
        self.statusBar().addWidget(self.db_label, 1)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.user_label)
        self._help: HelpWindow | None = None
        self._build_menu()
        fontsize.scale_style_sheets(self, fontsize.current_factor())
        self._restore_geometry()
        if ctx is not None:
            self.attach(ctx)

    @property
    def is_opening(self) -> bool:
        """True while start-up is still working and the pages do not exist yet."""
        return self.ctx is None

    def show_step(self, text: str, done: int = 0, total: int = 0, *, cancellable: bool = False) -> None:
        self.opening.show_step(text, done, total, cancellable=cancellable)

    def attach(self, ctx: AppContext) -> None:
        """The database and the user are ready: build the pages (deferred ones after the next paint)."""
        if self.ctx is not None:
            raise RuntimeError("MainWindow.attach called twice")
        self.ctx = ctx
        # set here, not with the menu: the first standard key loads Qt's enums (13 ms before the first paint)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.manual_action.setShortcut(QKeySequence.StandardKey.HelpContents)  # F1
        root = ctx.db.meta("root_name") or ""
        self.setWindowTitle(f"{APP_TITLE} — {root}" if root else APP_TITLE)
        self.db_label.setText(f"数据库：{ctx.db.location}")  # a server's URL never with its password
        self.user_label.setText(f"当前用户：{ctx.actor.username}（{ctx.actor.role}）")
        for slot, factory in enumerate(self._factories):
            if isinstance(factory, DeferredPages):
                self._deferred.append((slot, factory))
            else:
                for page in factory(ctx):
                    self._add_page(page, slot)
        self.nav.setEnabled(True)
        self.body.setCurrentWidget(self.stack)
        self.refresh_counts()
        if self._pages:
            self.nav.setCurrentRow(0)
        if self._deferred:  # after the first paint, so the pages appear before heavy modules load
            QTimer.singleShot(DEFERRED_DELAY_MS, self, self._load_next_deferred)
        self._settle_first_page()

    def _load_next_deferred(self) -> None:
        """One deferred module per turn of the event loop, in navigation order: the first page is
        built, shown and starts loading its data while the later ones are still being built."""
        if not self._deferred:
            return
        self._build(*self._deferred.pop(0))
        self._settle_first_page()
        if self._deferred:
            QTimer.singleShot(0, self, self._load_next_deferred)

    def load_deferred_pages(self) -> None:
        """Build the pages that waited for the window to be shown, in their navigation places (idempotent)."""
        while self._deferred:
            self._build(*self._deferred.pop(0))
        self._settle_first_page()

    def _build(self, slot: int, factory: PageFactory) -> None:
        for page in factory(self.ctx):
            self._add_page(page, slot)

    def _settle_first_page(self) -> None:
        """Once no page still to be built can come before the first one: show the first page (unless
        the user has moved on) and announce ``first_page_loaded`` when its data is on screen."""
        if self._first_page_announced or self.ctx is None:
            return
        built = [slot for slot, pages in enumerate(self._slots) if pages]
        if any(slot < (built[0] if built else len(self._slots)) for slot, _factory in self._deferred):
            return
        self._first_page_announced = True
        if self._pages and (self.nav.currentRow() < 0 or not self._user_navigated) \
                and self.stack.currentWidget() is not self._pages[0]:
            if self.nav.currentRow() == 0:
                self._show_page(0)
            else:
                self.nav.setCurrentRow(0)
        row = self.nav.currentRow()
        page = self._pages[row] if 0 <= row < len(self._pages) else None
        if page is not None and page.loads_in_background:
            self._first_page = page
            page.data_shown.connect(self._first_page_data_shown)
        else:  # refresh() already put the data on the page; let it paint first
            QTimer.singleShot(0, self, self.first_page_loaded.emit)

    def _first_page_data_shown(self) -> None:
        if self._first_page is not None:
            self._first_page.data_shown.disconnect(self._first_page_data_shown)
            self._first_page = None
            self.first_page_loaded.emit()

    def _add_page(self, page: Page, slot: int) -> None:
        index = sum(len(pages) for pages in self._slots[:slot + 1])
        self._slots[slot].append(page)
        self._pages.insert(index, page)
        self.stack.insertWidget(index, page)
        fontsize.follow(page)  # a larger 字号 chosen: the page's pixel-sized headings and columns grow with it
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
            # headings a page made since it was built (a return's tables, a member's card) at the 字号 in force
            # (idempotent: each sheet is scaled from the size it was written with)
            fontsize.scale_style_sheets(self._pages[row], fontsize.current_factor())

    @property
    def current_page_title(self) -> str:
        """The title of the page on screen ("" while start-up still works): F1 opens its chapter."""
        page = self.stack.currentWidget() if self.ctx is not None else None
        return page.title if isinstance(page, Page) else ""

    def page(self, title: str) -> Page:
        return next(p for p in self.pages if p.title == title)

    def open_page(self, title: str) -> Page:
        page = self.page(title)
        self.nav.setCurrentRow(self._pages.index(page))
        return page

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("文件(&F)")
        self.server_action = QAction("连接服务器数据库(&S)…", self)
        self.server_action.triggered.connect(self.connect_server)
        file_menu.addAction(self.server_action)
        file_menu.addSeparator()
        self.quit_action = QAction("退出(&X)", self)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.quit_action)
        view_menu = self.menuBar().addMenu("视图(&V)")
        size_menu = view_menu.addMenu("字号(&Z)")
        self.font_size_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        chosen = fontsize.remembered(self.settings)
        for name in fontsize.SIZES:
            action = QAction(name, self, checkable=True)
            action.setChecked(name == chosen)
            action.triggered.connect(lambda _checked=False, name=name: self.set_font_size(name))
            group.addAction(action)
            size_menu.addAction(action)
            self.font_size_actions[name] = action
        help_menu = self.menuBar().addMenu("帮助(&H)")
        self.manual_action = QAction("用户手册(&M)", self)
        self.manual_action.triggered.connect(self.show_manual)
        help_menu.addAction(self.manual_action)
        about = QAction("关于(&A)", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def set_font_size(self, name: str) -> None:
        """字号 for the whole window, at once and at every later start."""
        app = QApplication.instance()
        fontsize.apply_font_size(app, name)
        self.nav.setFixedWidth(round(NAV_WIDTH * fontsize.factor(name)))
        self.font_size_actions[name].setChecked(True)
        self.settings.set(fontsize.SETTING_KEY, name)

    def show_manual(self) -> HelpWindow:
        """The user manual, at the chapter of the page on screen (F1); one help window, raised again."""
        from townapp.ui.help import HelpWindow  # the manual is read only when asked for

        if self._help is None:
            self._help = HelpWindow(self)
        self._help.show_chapter_for(self.current_page_title)
        self._help.show()
        self._help.raise_()
        self._help.activateWindow()
        return self._help

    def connect_server(self) -> bool:
        """文件 → 连接服务器数据库: the app starts again on the server (ui/server_dialog.py), then this
        window closes as on 退出 (a file's exit backup included). True once the new start is under way."""
        from townapp.ui.server_dialog import ServerDialog  # SQLAlchemy and the jobs: only when asked for

        if ServerDialog(self.settings, self).exec() != ServerDialog.DialogCode.Accepted:
            return False
        self.close()
        return True

    def show_about(self) -> None:
        where = (f"数据保存在服务器数据库：{self.ctx.db.location}" if self.ctx is not None and self.ctx.db.server
                 else "离线使用，数据只保存在本机的数据文件夹中。")
        QMessageBox.about(self, "关于", f"<b>{APP_TITLE}</b><br>版本 {version()}<br>{where}")

    def refresh_counts(self) -> None:
        if self.ctx is None:
            return
        counts = self.ctx.registry.counts()
        self.counts_label.setText(f"村/社区 {counts.villages}　住户 {counts.households}　"
                                  f"人员 {counts.people}　党员 {counts.party_members}")

    def _restore_geometry(self) -> None:
        saved = self.settings.get(GEOMETRY_KEY)
        if saved:
            self.restoreGeometry(QByteArray(base64.b64decode(saved)))
        else:
            self.resize(1200, 760)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self._deferred.clear()  # a closed window builds no more pages (its database may be closed next)
        self.settings.set(GEOMETRY_KEY, base64.b64encode(bytes(self.saveGeometry().data())).decode())
        super().closeEvent(event)
