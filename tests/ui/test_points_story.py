"""Story on the real main window: a meeting's attendance becomes points in one step, the village approves
them, they are posted for 公示 and become effective, and the member's card and the distribution chart change.

The page reads what a tab shows in the background (a county's queue or year totals take seconds), so each step
waits until the page has shown its data, as a user waits for "正在加载……" to go."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QPushButton

from townapp.archives.dto import AttendanceData, MeetingData
from townapp.archives.service import ArchiveService
from townapp.core.actor import DEMO_ACTOR
from townapp.db import Database
from townapp.points.service import PointsService
from townapp.ui.app import open_main_window
from townapp.ui.forms.points import MeetingDialog

from ..points.conftest import make_village
from .conftest import when_dialog_opens

YEAR = 2025
RULES = {  # base 69: one attended 主题党日 lifts a member from 基本合格 to 合格
    "name": "测试村积分细则",
    "categories": [{"code": "ZZ", "name": "组织生活", "kind": "add", "cap": "24"},
                   {"code": "JC", "name": "基础分", "kind": "base", "base": "69"}],
    "rules": [{"code": "ZZ05", "name": "参加主题党日活动", "category": "ZZ", "direction": "加分", "points": "1",
               "caps": {"month": "1"}, "meeting": {"kinds": ["主题党日"], "attendance": "出席"}},
              {"code": "JC01", "name": "无故缺席组织生活", "category": "JC", "direction": "扣分", "points": "2",
               "meeting": {"kinds": ["主题党日"], "attendance": "缺席"}}],
    "grades": [{"name": "优秀", "min": "85"}, {"name": "合格", "min": "70"}, {"name": "基本合格", "min": "60"},
               {"name": "不合格"}],
    "balance": {"categories": ["ZZ"], "ratio": "1"},
}


@pytest.fixture
def window(app, db: Database, qtbot):  # noqa: ANN001, ANN201
    main = open_main_window(db, DEMO_ACTOR)
    qtbot.addWidget(main)
    yield main
    main.close()


def grade_counts(summary) -> dict[str, int]:  # noqa: ANN001
    """What the distribution chart shows: members per grade, summed over villages."""
    grades, per_village = summary.distribution
    return {grade: sum(counts.get(grade, 0) for _name, counts in per_village) for grade in grades}


def shown(qtbot, page) -> None:  # noqa: ANN001
    """Until the page has read (in the background) and shown what its tab shows."""
    qtbot.waitUntil(lambda: not page.loading(), timeout=10_000)


def test_meeting_attendance_to_effective_points_on_the_card_and_chart(window, db: Database, qtbot,  # noqa: ANN001
                                                                     tmp_path: Path) -> None:
    # GIVEN a village whose 主题党日 on 2025-03-05 had two attendees, one on leave, one absent, one 免考
    village = make_village(db)
    PointsService(db).save_rule_set(YEAR, json.dumps(RULES, ensure_ascii=False))
    m = village.members
    meeting_id = ArchiveService(db).save_meeting(village.id, MeetingData(dt.date(YEAR, 3, 5), "主题党日", "重温入党誓词", None, [
        AttendanceData(m["张建国"], "出席", None, "张建国"), AttendanceData(m["李秀英"], "出席", None, "李秀英"),
        AttendanceData(m["王磊"], "请假", "外出务工", "王磊"), AttendanceData(m["赵敏"], "缺席", None, "赵敏"),
        AttendanceData(m["钱老汉"], "出席", None, "钱老汉")]))
    page = window.open_page("党员积分")
    summary = page.open_tab("汇总")
    if summary.year.findData(YEAR) < 0:
        summary.year.addItem("2025年", YEAR)
    summary.year.setCurrentIndex(summary.year.findData(YEAR))
    summary.refresh()
    shown(qtbot, page)
    assert grade_counts(summary) == {"优秀": 0, "合格": 0, "基本合格": 4, "不合格": 0}
    chart_before = summary.chart.image
    assert chart_before is not None and not chart_before.isNull()

    # WHEN the clerk opens 从会议记录生成, picks the meeting and generates the records in one step
    entry = page.open_tab("录入")
    seen: dict[str, object] = {}

    def generate(dialog: QDialog) -> None:
        assert isinstance(dialog, MeetingDialog)
        dialog.village.setCurrentIndex(dialog.village.findData(village.id))
        dialog.select_meeting(meeting_id)
        seen["rows"] = dialog.table.rowCount()
        seen["summary"] = dialog.summary.text()
        dialog.generate()

    when_dialog_opens(generate)
    qtbot.mouseClick(entry.findChild(QPushButton, "from_meeting"), Qt.MouseButton.LeftButton)
    # THEN five attendance lines were shown and three records proposed (two +1, one −2)
    assert seen["rows"] == 5 and "3 条" in str(seen["summary"])
    assert "3 条" in entry.done.text()

    # WHEN the village reviewer approves them all in the 村审 queue
    review = page.open_tab("审核")
    shown(qtbot, page)
    review.village.setCurrentIndex(review.village.findData(village.id))
    shown(qtbot, page)
    assert review.table.model().rowCount() == 3
    review.select_all()
    qtbot.mouseClick(review.findChild(QPushButton, "approve"), Qt.MouseButton.LeftButton)
    shown(qtbot, page)
    assert review.table.model().rowCount() == 0

    # AND posts them for 公示 from 2025-03-10, and the period (long past) ends
    publicity = page.open_tab("公示")
    publicity.village.setCurrentIndex(publicity.village.findData(village.id))
    shown(qtbot, page)
    assert publicity.waiting.rowCount() == 3
    publicity.starts.set_date(dt.date(YEAR, 3, 10))
    publicity.publish()
    shown(qtbot, page)
    assert publicity.waiting.rowCount() == 0 and publicity.batches.rowCount() == 1
    publicity.close_batch()
    shown(qtbot, page)
    assert "已生效" in publicity.batches.item(0, 4).text()

    # THEN the member's card shows the point, the new total and grade, and the balance
    card = page.open_tab("积分卡")
    card.show_member(m["张建国"], YEAR)
    assert "70</b> 分，等级 <b>合格" in card.summary.text()
    assert "可兑换积分余额 <b>1</b>" in card.summary.text()
    assert card.records.rowCount() == 1 and card.records.item(0, 4).text() == "生效"
    absent = PointsService(db).member_totals(m["赵敏"], YEAR)
    assert (absent.total, absent.grade) == (670, "基本合格")

    # AND the distribution chart changed: two members moved up to 合格
    summary = page.open_tab("汇总")
    summary.year.setCurrentIndex(summary.year.findData(YEAR))
    summary.refresh()
    shown(qtbot, page)
    assert grade_counts(summary) == {"优秀": 0, "合格": 2, "基本合格": 2, "不合格": 0}
    assert summary.chart.image != chart_before  # the picture was drawn again from the new counts
    # AND the ranking stays hidden unless asked for
    assert not summary.ranking.isVisible()
    # AND the year's two workbooks export from the same tab; the status line says how many rows went out
    detail = summary.export_detail(tmp_path / "积分明细.xlsx")
    assert page.message.text() == f"已导出 {load_workbook(detail).active.max_row - 1} 条积分明细：{detail}"
    members = summary.export_summary(tmp_path / "积分汇总.xlsx")
    assert page.message.text() == f"已导出 4 名党员的积分汇总：{members}"
    assert load_workbook(members)["党员积分汇总"].max_row == 1 + 4
