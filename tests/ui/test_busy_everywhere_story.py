"""Every module's save waits visibly while an import holds the database, and shows every refusal.

Story: 张三 imports 人员.xlsx in another window and holds the database's write lock.
Meanwhile 李四 saves in the archives, grids, points and evaluations windows. Old
main froze each of them for the busy timeout and then dropped SQLite's raw
"database is locked" (or showed nothing at all). Now each save shows 正在等待…
naming the import and 张三, and is saved as soon as the import ends; a rule the
service refuses (a DomainError) is shown in Chinese and the window keeps what
was typed. The lock is held by a second sqlite3 connection (BEGIN IMMEDIATE) and
released by the test: no sleeps.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QProgressDialog, QWidget

from townapp.archives.service import ArchiveService
from townapp.core.actor import DEMO_ACTOR
from townapp.core.errors import DomainError
from townapp.db import Database, open_database
from townapp.db.busy import DatabaseBusy, holding
from townapp.evaluations.service import EvaluationService
from townapp.grids.service import GridService
from townapp.points.service import PointsService
from townapp.registry.service import RegistryService
from townapp.ui.context import AppContext
from townapp.ui.forms.evaluations import NewRoundDialog
from townapp.ui.forms.grids import GridDialog
from townapp.ui.forms.points import ItemDialog
from townapp.ui.jobs import call_service
from townapp.ui.pages.archives import VillageArchivePage

from ..evaluations.conftest import build_world
from ..grids.conftest import build_tree, make_village

SHOTS = Path(os.environ.get("TOWNAPP_SHOTS", "/tmp/shots"))
REFUSAL = "测试：本月已锁定，不能修改。请先解锁。"


@dataclass
class Held:
    """The GUI's database (short busy timeout) and the import's connection holding the write lock."""

    gui_db: Database
    other: sqlite3.Connection

    def take(self) -> None:
        self.other.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.other.execute("ROLLBACK")  # the import is done


@pytest.fixture
def held(db: Database, registry: RegistryService, app: QApplication) -> Iterator[Held]:
    """A township with 东张村 and 西王村 (evaluations) and 南街村 (grids); 张三's import note beside the database."""
    build_world(registry)
    EvaluationService(db).sync_schemes()
    village = make_village(registry, code="140821100209", name="南街村", region_seq=5)
    build_tree(GridService(db, DEMO_ACTOR), village)
    held = Held(open_database(db.path, busy_timeout_ms=20), sqlite3.connect(db.path, isolation_level=None))
    held.village = village  # type: ignore[attr-defined]
    with holding(db.path, "正在导入 人员.xlsx", "张三"):
        try:
            yield held
        finally:
            if held.other.in_transaction:
                held.other.execute("ROLLBACK")
            held.other.close()
            held.gui_db.dispose()


def _waiting_text(widget: QWidget) -> str:
    boxes = [w for w in widget.findChildren(QProgressDialog) if w.isVisible()]
    return boxes[0].labelText() if boxes else ""


def _waits_then_saves(qtbot, held: Held, widget: QWidget, save: Callable[[], None],  # noqa: ANN001
                      saved: Callable[[], bool], shot: str | None = None) -> None:
    """The shared WHEN/THEN: a save under the import's lock waits visibly, naming 张三; after the import, saved."""
    held.take()
    save()
    qtbot.waitUntil(lambda: "正在等待" in _waiting_text(widget), timeout=10_000)
    text = _waiting_text(widget)
    assert "正在导入 人员.xlsx" in text and "张三" in text
    assert not saved()
    if shot:
        SHOTS.mkdir(parents=True, exist_ok=True)
        QApplication.processEvents()
        box = next(w for w in widget.findChildren(QProgressDialog) if w.isVisible())
        picture = widget.window().grab()  # offscreen the box is its own window: drawn where it would stand
        painter = QPainter(picture)
        dialog = box.grab()
        painter.drawPixmap((picture.width() - dialog.width()) // 2, (picture.height() - dialog.height()) // 3, dialog)
        painter.end()
        picture.save(str(SHOTS / shot))
    held.release()
    qtbot.waitUntil(saved, timeout=10_000)
    qtbot.waitUntil(lambda: _waiting_text(widget) == "", timeout=10_000)


# ----- archives ---------------------------------------------------------------------------------------
def _archive_page(held: Held, qtbot) -> VillageArchivePage:  # noqa: ANN001
    ctx = AppContext.create(held.gui_db, DEMO_ACTOR)
    page = VillageArchivePage(ctx, ArchiveService(held.gui_db, DEMO_ACTOR))
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.refresh()
    page.select_village(held.village.id)  # type: ignore[attr-defined]
    page.tabs.setCurrentWidget(_tab(page, "村情概况"))
    page.year.setValue(2026)
    page.load_current()
    _tab(page, "村情概况").form.set_value("group_count", "7")
    return page


def _tab(page: VillageArchivePage, title: str):  # noqa: ANN202
    return dict(page.parts)[title]


def test_archives_save_waits_for_an_import_then_saves(held: Held, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import holding the database WHEN 村档案's 基本情况 is saved (Ctrl+S)
    THEN 正在等待… names the import and 张三; WHEN the import ends THEN the figures are saved."""
    page = _archive_page(held, qtbot)
    village_id = page.village_id

    def stored() -> bool:
        return ArchiveService(held.gui_db).profile(village_id, 2026).values.get("group_count") == 7

    _waits_then_saves(qtbot, held, page, page.save_current, stored, shot="busy_archives.png")
    assert _tab(page, "村情概况").message.text() == "已保存"


def test_archives_refusal_is_shown_and_what_was_typed_stays(held: Held, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a service that refuses the save WHEN 基本情况 is saved
    THEN the Chinese reason is on the tab's message line and the typed figure is still in the form."""
    page = _archive_page(held, qtbot)
    monkeypatch.setattr(page.service, "save_profile", _refuse)
    page.save_current()
    tab = _tab(page, "村情概况")
    assert tab.message.isVisible() and REFUSAL in tab.message.text()
    assert tab.form.item(tab.form.row_of("group_count"), 0).text() == "7"


def test_archives_attachment_refusal_is_a_message_box(held: Held, qtbot, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    """GIVEN a service that refuses an attachment WHEN one is added on the 附件 tab
    THEN a message box says why in Chinese (old main let the DomainError escape the slot)."""
    page = _archive_page(held, qtbot)
    shown = _capture_boxes(monkeypatch)
    scan = tmp_path / "扫描件.pdf"
    scan.write_bytes(b"%PDF-1.4\n")
    monkeypatch.setattr("townapp.ui.pages.archives.QFileDialog.getOpenFileNames",
                        lambda *a, **k: ([str(scan)], ""))
    monkeypatch.setattr(page.service, "add_attachment", _refuse)
    _tab(page, "附件").add()
    assert shown == [REFUSAL]


# ----- grids ------------------------------------------------------------------------------------------
def _grid_dialog(held: Held, qtbot) -> GridDialog:  # noqa: ANN001
    village = held.village  # type: ignore[attr-defined]
    dialog = GridDialog(GridService(held.gui_db, DEMO_ACTOR), village.id, parent_id=village.grids["FZ01"])
    qtbot.addWidget(dialog)
    dialog.code.setText("ww09")
    dialog.name.setText("东张村第九微网格")
    dialog.show()
    return dialog


def test_grids_save_waits_for_an_import_then_saves(held: Held, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import holding the database WHEN a new micro-grid is saved
    THEN 正在等待… names 张三; WHEN the import ends THEN the grid is saved and the dialog closes."""
    dialog = _grid_dialog(held, qtbot)
    _waits_then_saves(qtbot, held, dialog, dialog.save, lambda: dialog.saved_id is not None)
    assert dialog.result() == QDialog.DialogCode.Accepted
    codes = [n.code for n in GridService(held.gui_db, DEMO_ACTOR).tree(held.village.id)]  # type: ignore[attr-defined]
    assert "WW09" in codes


def test_grids_refusal_is_shown_and_the_dialog_stays(held: Held, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a service that refuses WHEN the grid is saved THEN the reason is shown and the dialog stays open as typed."""
    dialog = _grid_dialog(held, qtbot)
    monkeypatch.setattr(dialog.service, "save_grid", _refuse)
    dialog.save()
    assert REFUSAL in dialog.errors["general"].text() and dialog.errors["general"].isVisible()
    assert dialog.isVisible() and dialog.saved_id is None and dialog.name.text() == "东张村第九微网格"


# ----- points -----------------------------------------------------------------------------------------
def _item_dialog(held: Held, qtbot) -> ItemDialog:  # noqa: ANN001
    dialog = ItemDialog(PointsService(held.gui_db, DEMO_ACTOR), None, pickup="村委会")
    qtbot.addWidget(dialog)
    dialog.name.setText("洗衣粉")
    dialog.points.setText("10")
    dialog.stock.setValue(5)
    dialog.show()
    return dialog


def test_points_save_waits_for_an_import_then_saves(held: Held, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import holding the database WHEN a 积分超市 good is saved
    THEN 正在等待… names 张三; WHEN the import ends THEN the good is saved and the dialog closes."""
    dialog = _item_dialog(held, qtbot)
    _waits_then_saves(qtbot, held, dialog, dialog.accept,
                      lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert "洗衣粉" in [i.name for i in PointsService(held.gui_db, DEMO_ACTOR).items()]


def test_points_refusal_is_shown_and_the_dialog_stays(held: Held, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a service that refuses WHEN the good is saved THEN the reason is shown and the dialog stays as typed."""
    dialog = _item_dialog(held, qtbot)
    monkeypatch.setattr(dialog.service, "save_item", _refuse)
    dialog.accept()
    assert REFUSAL in dialog.error.text() and dialog.error.isVisible()
    assert dialog.isVisible() and dialog.name.text() == "洗衣粉"


# ----- evaluations ------------------------------------------------------------------------------------
def _round_dialog(held: Held, qtbot) -> NewRoundDialog:  # noqa: ANN001
    villages = [(v.id, v.name) for v in RegistryService(held.gui_db).villages()]
    dialog = NewRoundDialog(EvaluationService(held.gui_db, DEMO_ACTOR), villages)
    qtbot.addWidget(dialog)
    dialog.select_scheme("civilized_household")
    dialog.year.setValue(2025)
    dialog.show()
    return dialog


def test_evaluations_save_waits_for_an_import_then_saves(held: Held, qtbot) -> None:  # noqa: ANN001
    """GIVEN an import holding the database WHEN a 星级文明户 round is created
    THEN 正在等待… names 张三; WHEN the import ends THEN the round exists and the dialog closes."""
    dialog = _round_dialog(held, qtbot)
    _waits_then_saves(qtbot, held, dialog, dialog.create, lambda: dialog.round_id is not None)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_evaluations_refusal_is_shown_and_the_dialog_stays(held: Held, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a service that refuses WHEN the round is created THEN the reason is shown and the dialog stays."""
    dialog = _round_dialog(held, qtbot)
    monkeypatch.setattr(dialog.service, "create_round", _refuse)
    dialog.create()
    assert REFUSAL in dialog.error.text() and dialog.error.isVisible()
    assert dialog.isVisible() and dialog.round_id is None and dialog.year.value() == 2025


# ----- the helper itself ------------------------------------------------------------------------------
def test_a_refusal_without_a_handler_is_a_chinese_message_box(held: Held, qtbot, monkeypatch) -> None:  # noqa: ANN001
    """GIVEN a page action with no error handler of its own WHEN the service refuses
    THEN call_service shows the Chinese message in a message box and nothing else happens."""
    shown = _capture_boxes(monkeypatch)
    widget = QWidget()
    qtbot.addWidget(widget)
    done: list[object] = []
    assert call_service(widget, _refuse, done.append) is None
    assert shown == [REFUSAL] and done == []


def test_a_refusal_after_waiting_is_shown_too(held: Held, qtbot) -> None:  # noqa: ANN001
    """GIVEN a save that waits for an import WHEN, once the import ends, a rule refuses it
    THEN that refusal (not a generic error) reaches the handler, whole."""
    import_done = threading.Event()

    def attempt() -> object:
        if not import_done.wait(0.05):  # as SQLite's busy handler waits, then gives up for this try
            raise DatabaseBusy(held.gui_db.path)
        raise DomainError(REFUSAL)  # meanwhile another user made the save break a rule

    widget = QWidget()
    qtbot.addWidget(widget)
    refused: list[DomainError] = []
    job = call_service(widget, attempt, lambda _r: None, refused.append)
    assert job is not None
    qtbot.waitUntil(lambda: "张三" in _waiting_text(widget), timeout=10_000)
    import_done.set()
    qtbot.waitUntil(lambda: bool(refused), timeout=10_000)
    assert refused[0].message == REFUSAL and job.done


def _refuse(*_args: object, **_kwargs: object) -> object:
    raise DomainError(REFUSAL)


def _capture_boxes(monkeypatch) -> list[str]:  # noqa: ANN001
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda _parent, _title, text, *a: shown.append(text)))
    return shown
