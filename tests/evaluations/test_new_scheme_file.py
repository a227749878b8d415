"""A new scheme file dropped into resources/schemes/ works end to end with no code change:
loaded, a round created, a village's stage workbook filled and imported, 公示 printed, finalised, history shown."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from townapp import config
from townapp.db import Database
from townapp.evaluations.dto import RoundInput
from townapp.evaluations.publicity import write_publicity_pdf, write_publicity_xlsx
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import import_stage_workbook, write_stage_workbook

from .conftest import World

PIONEER = {
    "_说明": "测试用：一个程序从未见过的方案",
    "key": "member_pioneer",
    "name": "党员先锋指数",
    "target": "party_member",
    "period": "quarter",
    "measure": "score",
    "categories": [
        {"name": "学习", "indicators": [{"code": "P1", "name": "参加组织生活", "max": 30}]},
        {"name": "服务", "indicators": [{"code": "P2", "name": "志愿服务", "max": 40},
                                       {"code": "P3", "name": "联系群众", "max": 30}]},
    ],
    "negatives": [{"code": "PX", "name": "无故不参加组织生活三次以上", "effect": "veto"}],
    "levels": [{"name": "先锋", "min": 90}, {"name": "合格", "min": 60}],
    "unrated": "待提升",
    "stages": [
        {"key": "branch", "name": "支部评议", "actor": "党支部", "level": "village"},
        {"key": "publicity", "name": "公示", "actor": "乡镇党委", "kind": "publicity", "days": 3},
    ],
}


@pytest.fixture
def resources_with_new_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A resources folder like the shipped one (linked), whose schemes/ also holds the new file."""
    shipped = config.resources_dir()
    root = tmp_path / "resources"
    root.mkdir()
    for entry in shipped.iterdir():
        if entry.name != "schemes":
            (root / entry.name).symlink_to(entry)
    (root / "schemes").mkdir()
    for path in (shipped / "schemes").glob("*.json"):
        (root / "schemes" / path.name).symlink_to(path)
    (root / "schemes" / "member_pioneer.json").write_text(json.dumps(PIONEER, ensure_ascii=False, indent=2),
                                                          encoding="utf-8")
    monkeypatch.setenv(config.RESOURCES_ENV, str(root))
    return root


def test_a_dropped_in_scheme_runs_a_whole_round(db: Database, world: World, resources_with_new_scheme: Path,
                                                tmp_path: Path) -> None:
    # GIVEN the program reads its schemes folder, which now holds a file it has never seen
    service = EvaluationService(db)
    report = service.sync_schemes()
    assert "党员先锋指数（member_pioneer.json）" in report.added and not report.refused
    info = next(i for i in service.schemes() if i.key == "member_pioneer")
    # WHEN the township creates a round for the second quarter over 东张村
    round_id = service.create_round(RoundInput(info.id, 2026, 2, [world.villages["东张村"]]))
    rnd = service.round(round_id)
    assert rnd.name == "2026年第2季度党员先锋指数" and [r.label for r in service.sheet(round_id)] == ["张建国"]
    # AND the village fills the workbook generated for the stage
    book = write_stage_workbook(service, round_id, tmp_path / "支部评议.xlsx", world.villages["东张村"])
    wb = load_workbook(book)
    ws = wb["支部评议评分"]
    headers = [c.value for c in ws[2]]
    assert headers == ["评定编号", "村/社区", "编号", "评定对象", "参加组织生活（30分）", "志愿服务（40分）",
                       "联系群众（30分）", "无故不参加组织生活三次以上（否决）", "评定意见", "当前等级"]
    for column, value in zip("EFGI", (28, "37.5", 29, "表现突出"), strict=True):
        ws[f"{column}3"] = value
    wb.save(book)
    # AND sends it back: a dry run first, then the import
    assert import_stage_workbook(service, round_id, book, dry_run=True).accepted
    assert service.sheet(round_id)[0].entered is False
    result = import_stage_workbook(service, round_id, book)
    # THEN the level is computed by the engine from the new scheme
    assert result.accepted, result.summary_text()
    row = service.sheet(round_id)[0]
    assert (row.level, str(row.measure), row.comment) == ("先锋", "94.5", "表现突出")
    # WHEN the list is published, printed and the round finalised
    service.advance_stage(round_id, publicity_start=dt.date(2026, 7, 1))
    pdf = write_publicity_pdf(service, round_id, tmp_path / "公示.pdf")
    xlsx = write_publicity_xlsx(service, round_id, tmp_path / "公示.xlsx")
    service.finalise(round_id, as_of=dt.date(2026, 7, 4))
    # THEN the PDF and the workbook carry the list, and the history shows the first rating
    text = PdfReader(str(pdf)).pages[0].extract_text()
    assert "2026年第2季度党员先锋指数结果公示" in text and "张建国" in text and "先锋" in text
    assert [c.value for c in load_workbook(xlsx)["公示名单"][4]][3:5] == ["张建国", "先锋"]
    history = service.history(row.target_id)
    assert [(h.period_text, h.level, h.change, h.final) for h in history] == [("2026年第2季度", "先锋", "首次评定", True)]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=False).stdout
    assert "WenQuanYiMicroHei" in fonts and "Helvetica" not in fonts
