"""A save while an import holds the database: 正在等待… with the holder's name, then saved — or a Chinese message.

Story: 张三 imports a large workbook in another window; 李四 saves a new person.
Old main froze the window for 10 s and then dropped SQLite's raw
OperationalError (the dialog showed nothing). Now the dialog waits visibly,
naming the import, saves as soon as the import is done, and if the wait runs
out says so in Chinese with nothing saved. Short busy timeouts, no sleeps.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QProgressDialog

from townapp.core.actor import DEMO_ACTOR
from townapp.core.idcard import make_id_number
from townapp.db import Database, open_database
from townapp.db.busy import holding
from townapp.registry.dto import SearchFilter, VillageInput
from townapp.registry.service import RegistryService
from townapp.ui.context import AppContext
from townapp.ui.forms.registry import PersonDialog

ID = make_id_number("140821", dt.date(1990, 1, 1), 135)


@pytest.fixture
def busy_ctx(db: Database, app: QApplication) -> Iterator[tuple[AppContext, sqlite3.Connection]]:
    """The GUI's context on a database whose write lock an import (张三) holds."""
    RegistryService(db).save_village(VillageInput(code="140821100201", name="西关村"))
    gui_db = open_database(db.path, busy_timeout_ms=20)
    with holding(db.path, "正在导入 人员.xlsx", "张三"):
        other = sqlite3.connect(db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield AppContext.create(gui_db, DEMO_ACTOR), other
        finally:
            if other.in_transaction:
                other.execute("ROLLBACK")
            other.close()
            gui_db.dispose()


def _dialog(ctx: AppContext, qtbot) -> PersonDialog:  # noqa: ANN001
    dialog = PersonDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.id_number.setText(ID)
    dialog.name.setText("李测试")
    dialog.show()
    return dialog


def _waiting_text(dialog: PersonDialog) -> str:
    boxes = [w for w in dialog.findChildren(QProgressDialog) if w.isVisible()]
    return boxes[0].labelText() if boxes else ""


def test_a_save_waits_visibly_for_an_import_then_saves(busy_ctx, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import holding the database WHEN a person is saved
    THEN a 正在等待… dialog names the import and its user; WHEN the import ends THEN the person is saved."""
    ctx, other = busy_ctx
    dialog = _dialog(ctx, qtbot)
    dialog.save()
    assert dialog.waiting is not None and not dialog.buttons.isEnabled()
    qtbot.waitUntil(lambda: "正在等待" in _waiting_text(dialog), timeout=10_000)
    assert "正在导入 人员.xlsx" in _waiting_text(dialog) and "张三" in _waiting_text(dialog)
    other.execute("ROLLBACK")  # the import is done
    qtbot.waitUntil(lambda: dialog.saved_id is not None, timeout=10_000)
    assert dialog.result() == PersonDialog.DialogCode.Accepted
    assert ctx.registry.person_ids(SearchFilter(text=ID[-6:]))


def test_a_save_that_waited_too_long_says_so_in_chinese(busy_ctx, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import that does not end WHEN the wait runs out
    THEN the dialog stays open showing the Chinese message with the holder, and nothing was saved."""
    ctx, _other = busy_ctx
    dialog = _dialog(ctx, qtbot)
    dialog.busy_wait_seconds = 0.1
    dialog.save()
    qtbot.waitUntil(lambda: dialog.waiting is not None and dialog.waiting.done, timeout=10_000)
    message = dialog.general_error.text()
    assert "数据库正忙" in message and "张三" in message
    assert dialog.isVisible() and dialog.buttons.isEnabled() and dialog.saved_id is None
