"""The GUI's safety net: an exception nobody caught is shown in Chinese, logged, and the app goes on.

Story: a button whose slot forgot a ``try`` (a DomainError from a service), a
slot with a real bug (ValueError), and a worker thread that crashes. Old main
printed an English traceback to a console nobody sees and the user saw nothing
at all. Now the rule's own Chinese message is shown; a bug is written to the log
(IDs masked) and the user reads "发生意外错误，已记入日志：<path>"; the window
still answers the next click.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from townapp import config
from townapp.core.errors import DomainError
from townapp.ui.app import ErrorReporter, install_exception_hooks

ID = "110101199003071234"


@pytest.fixture
def net(app: QApplication, monkeypatch) -> Iterator[tuple[ErrorReporter, list[tuple[str, str]]]]:  # noqa: ANN001
    """The hooks as run_gui installs them (restored afterwards), with message boxes recorded instead of shown."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    boxes: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _parent, title, text, *a: boxes.append((title, text))))
    reporter = install_exception_hooks(app)
    yield reporter, boxes
    reporter.deleteLater()


def _button(qtbot, slot) -> QPushButton:  # noqa: ANN001
    button = QPushButton("保存")
    qtbot.addWidget(button)
    button.clicked.connect(slot)
    button.show()
    return button


@pytest.mark.qt_no_exception_capture
def test_a_domain_error_escaping_a_slot_is_shown_in_chinese(net, qtbot) -> None:  # noqa: ANN001
    """GIVEN a slot that lets a service's DomainError escape WHEN the button is clicked
    THEN its Chinese message is shown in a message box; WHEN clicked again THEN it is shown again (the app runs on)."""
    _reporter, boxes = net

    def save() -> None:
        raise DomainError("本月已锁定，不能修改。请先解锁。")

    button = _button(qtbot, save)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(boxes) == 1, timeout=5000)
    assert boxes[0] == ("无法完成", "本月已锁定，不能修改。请先解锁。")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(boxes) == 2, timeout=5000)


@pytest.mark.qt_no_exception_capture
def test_a_bug_in_a_slot_is_logged_and_named_in_chinese(net, qtbot, caplog) -> None:  # noqa: ANN001
    """GIVEN a slot with a bug WHEN clicked THEN the traceback goes to the log and the box says, in Chinese only,
    that an unexpected error happened and where the log is."""
    _reporter, boxes = net

    def save() -> None:
        raise ValueError(f"invalid literal for int() with base 10: '{ID}'")

    with caplog.at_level(logging.ERROR):
        qtbot.mouseClick(_button(qtbot, save), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(boxes), timeout=5000)
    assert boxes == [("发生意外错误", f"发生意外错误，已记入日志：{config.log_path()}")]
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is ValueError]
    assert logged and logged[0].name == "townapp.ui.app"


def test_a_crash_in_a_worker_thread_is_shown_on_the_gui_thread(net, qtbot, caplog) -> None:  # noqa: ANN001
    """GIVEN a worker thread that raises WHEN it dies THEN the GUI thread shows the Chinese message, once."""
    reporter, boxes = net

    def work() -> None:
        raise RuntimeError("worker failed")

    with caplog.at_level(logging.ERROR):
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(boxes), timeout=5000)
    assert boxes == [("发生意外错误", f"发生意外错误，已记入日志：{config.log_path()}")]
    assert reporter.shown == [f"发生意外错误，已记入日志：{config.log_path()}"]
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)


def test_a_full_disk_is_named_as_such(net, qtbot) -> None:  # noqa: ANN001
    """GIVEN an uncaught write error of a full disk WHEN it reaches the hook THEN the box says the disk is full."""
    _reporter, boxes = net
    sys.excepthook(OSError, OSError(28, "No space left on device"), None)
    qtbot.waitUntil(lambda: bool(boxes), timeout=5000)
    assert "磁盘空间不足" in boxes[0][1]


@pytest.mark.qt_no_exception_capture
def test_an_error_from_a_damaged_database_says_the_database_is_damaged(net, qtbot, db, tmp_path) -> None:  # noqa: ANN001
    """GIVEN the open database has a value a page cannot read (a date damaged on disk), which start-up's
    quick_check does not see WHEN a page trips over it (an unexpected ValueError reaches the net)
    THEN the box says the database is damaged and how to restore it, not just "发生意外错误"."""
    import sqlite3

    from townapp.registry.dto import PersonInput, VillageInput
    from townapp.registry.service import RegistryService

    reporter, boxes = net
    registry = RegistryService(db)
    village = registry.save_village(VillageInput(code="140821100201", name="西关村"))
    registry.save_person(PersonInput("140821199003071232", "王建国", village_id=village))
    db.dispose()
    con = sqlite3.connect(db.path)
    con.execute("UPDATE person SET birth_date = '19x0-01-01'")
    con.commit()
    con.close()
    reporter.database = db.path
    sys.excepthook(ValueError, ValueError("Invalid isoformat string: '19x0-01-01'"), None)
    qtbot.waitUntil(lambda: bool(boxes), timeout=30_000)
    title, text = boxes[0]
    assert title == "数据库已损坏" and "birth_date" in text and "备份与恢复" in text
