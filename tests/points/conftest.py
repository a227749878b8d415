"""Points fixtures: a village with party members of every 积分管理类别, a meeting, and rule set texts."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest

from townapp.archives.dto import AttendanceData, MeetingData
from townapp.archives.service import ArchiveService
from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.points.service import PointsService
from townapp.registry.dto import PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService

YEAR = 2025


@dataclass
class Village:
    id: int
    name: str
    members: dict[str, int]  # name → party member id


MEMBERS = (  # name, birth, 积分管理类别
    ("张建国", dt.date(1970, 3, 1), "有职"),
    ("李秀英", dt.date(1980, 6, 1), "无职"),
    ("王磊", dt.date(1995, 9, 9), "流动"),
    ("赵敏", dt.date(1988, 1, 20), "无职"),
    ("钱老汉", dt.date(1940, 5, 5), "免考"),
)


def make_village(db: Database, code: str = "140821100201", name: str = "东张村") -> Village:
    registry = RegistryService(db)
    vid = registry.save_village(VillageInput(code=code, name=name))
    for index, (person, birth, category) in enumerate(MEMBERS):
        number = make_id_number("140821", birth, 11 + index * 2 + int(code[-1]) * 20)
        registry.save_person(PersonInput(number, person, village_id=vid,
                                         party=PartyInput(points_category=category)))
    members = {c.name: c.party_member_id for c in ArchiveService(db).party_members(vid)}
    return Village(vid, name, members)


@pytest.fixture
def village(db: Database) -> Village:
    return make_village(db)


@pytest.fixture
def points(db: Database) -> PointsService:
    return PointsService(db)


@pytest.fixture
def meeting_id(db: Database, village: Village) -> int:
    """A 主题党日 on 2025-03-05: 张建国 and 李秀英 attend, 王磊 asks leave, 赵敏 is absent, 钱老汉 (免考) attends."""
    m = village.members
    return ArchiveService(db).save_meeting(village.id, MeetingData(dt.date(YEAR, 3, 5), "主题党日", "重温入党誓词", "张建国", [
        AttendanceData(m["张建国"], "出席", None, "张建国"), AttendanceData(m["李秀英"], "出席", None, "李秀英"),
        AttendanceData(m["王磊"], "请假", "外出务工", "王磊"), AttendanceData(m["赵敏"], "缺席", None, "赵敏"),
        AttendanceData(m["钱老汉"], "出席", None, "钱老汉")]))


def rule_set(rules: list[dict[str, Any]], categories: list[dict[str, Any]] | None = None,
             grades: list[dict[str, Any]] | None = None, balance: list[str] | None = None) -> str:
    """A small rule set text for a test (JSON, as a township would write it)."""
    return json.dumps({
        "name": "测试规则",
        "categories": categories or [{"code": "A", "name": "加分", "kind": "add"},
                                     {"code": "J", "name": "基础分", "kind": "base", "base": "20"}],
        "rules": rules,
        "grades": grades or [{"name": "优秀", "min": "90"}, {"name": "合格", "min": "70"},
                             {"name": "基本合格", "min": "60"}, {"name": "不合格"}],
        "balance": {"categories": balance if balance is not None else ["A"], "ratio": "1"},
    }, ensure_ascii=False)


def make_effective(points: PointsService, village: Village, ids: list[int], start: dt.date) -> None:
    """Village review, 乡镇审 where needed, 公示 and 生效 for ``ids``."""
    points.approve(ids, on=start)
    waiting = [r.id for r in points.queue("乡镇审", village.id) if r.id in ids]
    if waiting:
        points.approve(waiting, on=start)
    batch = points.publish(village.id, start, start + dt.timedelta(days=4), record_ids=ids)
    points.close_publicity(batch.id, on=start + dt.timedelta(days=5))
