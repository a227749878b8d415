"""GUI start-up: Qt in Chinese, the bundled CJK font, the database, the main window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from townapp import APP_TITLE, config
from townapp.core.actor import SYSTEM_ACTOR, Actor
from townapp.core.errors import DomainError, FieldProblem, ValidationFailed
from townapp.core.progress import CancelFn, ProgressFn
from townapp.db import Database, open_database
from townapp.ui.context import AppContext
from townapp.ui.jobs import Job
from townapp.ui.main_window import DeferredPages, MainWindow, PageFactory
from townapp.ui.pages import registry as registry_pages
from townapp.ui.widgets.fields import ErrorLabel

log = logging.getLogger(__name__)

BUNDLED_FONT = ("fonts", "wqy-microhei.ttc")
# Pages in navigation order; a module's pages appear only once the module exists.
PAGE_FACTORIES: tuple[PageFactory, ...] = (
    DeferredPages("townapp.ui.pages.dashboard"),
    registry_pages.create_pages,  # light: shown with the window
    DeferredPages("townapp.ui.pages.archives"),
    DeferredPages("townapp.ui.pages.evaluations"),
    DeferredPages("townapp.ui.pages.grids"),
    DeferredPages("townapp.ui.pages.points"),
    DeferredPages("townapp.ui.pages.outputs"),
    DeferredPages("townapp.ui.pages.exchange"),
    DeferredPages("townapp.ui.pages.accounts"),
    DeferredPages("townapp.ui.pages.audit"),
)


def setup_application(argv: Sequence[str] | None = None) -> QApplication:
    """One QApplication, speaking Chinese (Qt's own dialogs too), with a CJK font that always exists."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("townapp")
    app.setApplicationDisplayName(APP_TITLE)
    app.setWindowIcon(QIcon(str(config.resource("icons", "townapp.png"))))
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    translator = QTranslator(app)
    if translator.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    else:
        log.warning("未找到 Qt 中文翻译 qtbase_zh_CN.qm")
    font_id = QFontDatabase.addApplicationFont(str(config.resource(*BUNDLED_FONT)))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if families:
        font = QFont(app.font())
        font.setFamilies(["Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", *families])
        font.setPointSize(max(font.pointSize(), 10))
        app.setFont(font)
    else:
        log.warning("内置中文字体加载失败：%s", config.resource(*BUNDLED_FONT))
    return app


class NewDatabaseDialog(QDialog):
    """First run: what township this database is for."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("新建数据库")
        self.name = QLineEdit()
        self.name.setPlaceholderText("如：临晋镇")
        self.code = QLineEdit()
        self.code.setPlaceholderText("9位或12位区划代码，如 140821100")
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow("乡镇名称", self.name)
        form.addRow("区划代码", self.code)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("新建")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(f"还没有数据库。将在数据文件夹中新建：\n{path}")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)


def create_database_interactively(path: Path) -> Database | None:
    dialog = NewDatabaseDialog(path)
    while dialog.exec() == QDialog.DialogCode.Accepted:
        db = open_database(path, create=True)
        try:
            from townapp.registry.service import RegistryService

            RegistryService(db, SYSTEM_ACTOR).initialise("township", dialog.name.text(), dialog.code.text())
            return db
        except ValidationFailed as exc:
            dialog.error.show_problems(exc.problems)
        except DomainError as exc:
            dialog.error.show_problems([FieldProblem("", exc.message)])
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return None


def build_demo_with_progress(path: Path) -> Database | None:
    """First ``--demo`` start: generate the demo database, showing progress (cancel removes it)."""
    from townapp.demo import build_demo

    tmp = path.with_suffix(".building.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    db = open_database(tmp, create=True)

    def work(progress: ProgressFn, cancel: CancelFn) -> object:
        return build_demo(db, scale="township", seed=1, progress=progress, cancel=cancel)

    job = Job(None, "正在生成演示数据……", work).start()
    app = QApplication.instance()
    while not job.done:
        app.processEvents()
        job.thread().msleep(20)
    db.dispose()
    if job.error or job.was_cancelled:
        for suffix in ("", "-wal", "-shm"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)
        if job.error:
            QMessageBox.critical(None, "演示数据生成失败", job.error)
        return None
    tmp.replace(path)
    return open_database(path)


def open_main_window(db: Database, actor: Actor,
                     factories: Sequence[PageFactory] = PAGE_FACTORIES) -> MainWindow:
    window = MainWindow(AppContext.create(db, actor), factories)
    window.show()
    from townapp.ui.startup_timing import quit_after_shown_if_asked  # only with TOWNAPP_QUIT_AFTER_SHOWN set

    quit_after_shown_if_asked(window)
    return window


def run_gui(db_path: Path | None = None, demo: bool = False) -> int:
    """Start-up (townapp/ui/startup.py): lock, location and health checks, start-up backup,
    first administrator or login (``--demo`` opens as the demo administrator), the window,
    backups every 30 minutes while there are changes and on exit."""
    from townapp.ui.startup import run_session

    app = setup_application()
    return run_session(app, db_path, demo)
