"""Helpers for the crash, disk-full and corruption stories: bulk people and import workbooks."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import insert, select

from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry import models as m

VILLAGE_CODE = "140821100201"


def person_id_number(n: int) -> str:
    """A valid, unique ID number for person ``n`` (n < 999,000)."""
    return make_id_number("140821", dt.date(1940, 1, 1) + dt.timedelta(days=n // 999), n % 999 + 1)


def add_people(db: Database, count: int, start: int = 0) -> None:
    """``count`` people in 西关村 in one transaction, fast (no ORM objects)."""
    with db.engine.begin() as conn:
        village = conn.execute(select(m.Village.id).where(m.Village.code == VILLAGE_CODE)).scalar_one()
        now = dt.datetime(2026, 1, 1)
        rows = []
        for n in range(start, start + count):
            number = person_id_number(n)
            rows.append(dict(id_number=number, id_number_rev=number[::-1], name=f"测试{n}", name_initials="cs",
                             sex="男" if int(number[16]) % 2 else "女", birth_date=dt.date(1980, 1, 1),
                             ethnicity="汉族", village_id=village, uuid=str(uuid.uuid4()),
                             created_at=now, updated_at=now, phone=f"139{n:08d}"))
        conn.execute(insert(m.Person), rows)


def make_import_file(path: Path, count: int, start: int) -> Path:
    """A 人员 sheet with ``count`` new people (ID numbers as text) for 西关村."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "人员"
    sheet.append(["身份证号", "姓名", "联系电话", "村区划代码"])
    for n in range(start, start + count):
        sheet.append([person_id_number(n), f"导入{n}", f"138{n:08d}", VILLAGE_CODE])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.number_format = "@"
    workbook.save(path)
    return path
