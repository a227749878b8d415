"""GUI start-up: Qt in Chinese, the bundled CJK font, the database, the main window.

Everything imported here at module level is cheap: the window must be on
screen within a few tenths of a second of the process starting, so the
database layer, the services and the module pages are imported only once the
window shows (townapp/ui/startup.py runs the slow steps after the first paint).
tests/ui/test_startup_story.py checks the list of what is imported by then.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, Qt, QTimer, QTranslator, Signal
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QMessageBox,
)

from townapp import config
from townapp.core.actor import Actor
from townapp.ui import fontsize
from townapp.ui.main_window import MainWindow, PageFactory
from townapp.ui.pages.table import PAGE_FACTORIES
from townapp.ui.translations import FallbackTranslator, prefer_chinese_system_locale

if TYPE_CHECKING:
    from townapp.db import Database

log = logging.getLogger(__name__)

BUNDLED_FONT = ("fonts", "wqy-microhei.ttc")

# Qt reads the system locale (sizes and dates in its file dialog) when the first QApplication is made;
# tests make theirs before setup_application runs, so this module asks for Chinese as it is imported.
prefer_chinese_system_locale()


def setup_application(argv: Sequence[str] | None = None) -> QApplication:
    """One QApplication, speaking Chinese (Qt's own dialogs too), with a CJK font that always exists."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("townapp")
    # no display name: Qt would append it to every window's title ("… — 临晋镇 — 乡镇党建与基层治理台账")
    # and to every dialog's; the main window names the app itself. Empty, not unset: an empty name is never
    # appended, whatever an earlier QApplication set.
    app.setApplicationDisplayName("")
    app.setWindowIcon(QIcon(str(config.resource("icons", "townapp.png"))))
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    _install_translators(app)
    font_id = QFontDatabase.addApplicationFont(str(config.resource(*BUNDLED_FONT)))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        font = QFont(app.font())
        font.setFamilies(["Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", *families])
        app.setFont(font)
    else:
        log.warning("内置中文字体加载失败：%s", config.resource(*BUNDLED_FONT))
    fontsize.apply_font_size(app, fontsize.remembered())  # 字号 (视图 menu), as the user left it
    return app


def _install_translators(app: QApplication) -> None:
    """qtbase_zh_CN, then the fallback for what it lacks (the last installed is asked first); once per app."""
    if app.property("townapp_translators"):
        return
    app.setProperty("townapp_translators", True)
    qtbase: QTranslator | None = QTranslator(app)
    if qtbase.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qtbase)
    else:
        log.warning("未找到 Qt 中文翻译 qtbase_zh_CN.qm")
        qtbase = None
    app.installTranslator(FallbackTranslator(qtbase, app))


def describe_uncaught(exc_type: type[BaseException], exc: BaseException,
                      tb: TracebackType | None, database: Path | str | None = None) -> tuple[str, str]:
    """(title, Chinese message) for an exception nobody caught: a DomainError says what it says, a full or
    read-only disk says so, a damaged database says so (the read-only check of ``townapp check`` looks at
    the file); anything else goes to the log (IDs masked) and the message names the log file."""
    from townapp.core.atomic import describe_write_error
    from townapp.core.errors import DomainError

    if isinstance(exc, DomainError):
        log.info("未捕获的提示：%s", exc.message)
        return "无法完成", exc.message
    refused = describe_write_error(exc) if isinstance(exc, Exception) else None
    if refused is not None:
        log.warning("写入失败：%s", exc)
        return "无法完成", refused
    log.error("未处理的异常", exc_info=(exc_type, exc, tb))
    if isinstance(exc, Exception) and database is not None:
        from townapp.checks import GUI_ADVICE, damage_behind

        damage = damage_behind(exc, database, GUI_ADVICE, "操作")
        if damage is not None:
            return "数据库已损坏", damage
    return "发生意外错误", f"发生意外错误，已记入日志：{config.log_path()}"


class ErrorReporter(QObject):
    """Shows uncaught exceptions of any thread on the GUI thread, one box at a time; the app keeps running."""

    report = Signal(str, str)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.showing = False
        self.shown: list[str] = []  # what was shown (tests read it)
        # the open database, looked at when an unexpected error happens: its file, or a server's URL without
        # password (a server is not a file to check: its errors are reported as they are)
        self.database: Path | str | None = None
        self.report.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """sys.excepthook: PySide6 hands an exception escaping a slot to it, and the event loop goes on.
        The message is worked out on a thread of its own: looking at a damaged database takes seconds."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return

        def describe() -> None:
            try:
                self.report.emit(*describe_uncaught(exc_type, exc, tb, self.database))
            except Exception:  # the safety net itself must never raise: fall back to the plain traceback
                sys.__excepthook__(exc_type, exc, tb)

        threading.Thread(target=describe, name="describe-uncaught", daemon=True).start()

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            self.hook(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, title: str, message: str) -> None:
        self.shown.append(message)
        if self.showing:  # already a box on screen: this one is in the log (and in ``shown``)
            return
        self.showing = True
        try:
            QMessageBox.warning(QApplication.activeWindow(), title, message)
        finally:
            self.showing = False


def install_exception_hooks(app: QApplication) -> ErrorReporter:
    """The safety net: no exception escapes silently or in English, in a slot or in a worker thread."""
    reporter = ErrorReporter(app)
    sys.excepthook = reporter.hook
    threading.excepthook = reporter.thread_hook
    return reporter


def open_main_window(db: Database, actor: Actor,
                     factories: Sequence[PageFactory] = PAGE_FACTORIES) -> MainWindow:
    """The window with its pages at once, for a database and user already at hand (tests, tools)."""
    from townapp.ui import startup_timing
    from townapp.ui.context import AppContext

    window = MainWindow(AppContext.create(db, actor), factories)
    window.show()
    if startup_timing.asked():  # the same markers as a real start (TOWNAPP_QUIT_AFTER_SHOWN)
        window.first_page_loaded.connect(startup_timing.report_ready)
        QTimer.singleShot(0, lambda: (QApplication.processEvents(), startup_timing.report_shown(window)))
    return window


def run_gui(db_path: Path | str | None = None, demo: bool = False) -> int:
    """Start-up (townapp/ui/startup.py): the window at once in its opening state, then lock, location
    and health checks, open or migrate, first administrator or login (``--demo`` opens as the demo
    administrator), the pages; backups at start-up (in the background), every 30 minutes while there
    are changes, and on exit. ``db_path`` may be a server's ``postgresql://`` URL (a string): connected,
    logged in, no file steps and no backups."""
    from townapp.ui.startup import run_session

    app = setup_application()
    reporter = install_exception_hooks(app)
    return run_session(app, db_path, demo, database_known=lambda path: setattr(reporter, "database", path))
