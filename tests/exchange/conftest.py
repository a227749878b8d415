"""Builders for the exchange tests: workbooks in every format, a small registry, a dump of business tables.

Every test file is generated at test time: .xlsx with openpyxl, .xls with
xlwt, .ods written by hand (a zip with content.xml), encrypted .xlsx with
msoffcrypto-tool. Nothing binary is committed.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from townapp.core.idcard import make_id_number
from townapp.db import Database
from townapp.registry.dto import HouseholdInput, MemberInput, PartyInput, PersonInput, VillageInput
from townapp.registry.service import RegistryService

Sheets = dict[str, Sequence[Sequence[Any]]]

# For a program run in a subprocess: its own peak memory in MB. VmHWM, not ru_maxrss — Linux keeps
# ru_maxrss across exec, so a child forked from a pytest process grown to 600 MB reported 600 MB.
PEAK_MB_CODE = """
def peak_mb():
    import resource
    for line in open("/proc/self/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
"""

BUSINESS_TABLES = ("township", "village", "village_group", "party_branch", "household", "person",
                   "household_member", "party_member")
VILLAGE_A = "140821100201"
VILLAGE_B = "140821100202"


def pid(year: int, seq: int, month: int = 3, day: int = 15) -> str:
    """A valid 临猗 ID number; odd ``seq`` is 男."""
    return make_id_number("140821", dt.date(year, month, day), seq)


def write_xlsx(path: Path, sheets: Sheets, *, hidden: Sequence[str] = ()) -> Path:
    """Plain openpyxl: a str starting with = becomes a formula, like a user typing it."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def write_xls(path: Path, sheets: Sheets) -> Path:
    xlwt = pytest.importorskip("xlwt", reason="xlwt writes the .xls test files (test extra)")
    book = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value)
    book.save(str(path))
    return path


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, dt.date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value.isoformat()}</text:p></table:table-cell>")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: Sheets) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice/WPS save), written without LibreOffice."""
    tables = []
    for name, rows in sheets.items():
        body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>"
                       for row in rows)
        tables.append(f'<table:table table:name="{escape(name)}">{body}</table:table>')
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body>'
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


def dump_business(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the business tables: equal before and after means nothing changed."""
    with db.engine.connect() as conn:
        return {table: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
                for table in BUSINESS_TABLES}


def build_registry(registry: RegistryService) -> dict[str, Any]:
    """Two villages, a 党委 with two branches, three households, six people, three party members."""
    a = registry.save_village(VillageInput(code=VILLAGE_A, name="东张村", groups=["一组", "二组"]))
    b = registry.save_village(VillageInput(code=VILLAGE_B, name="西张社区", kind="社区", groups=["一组"]))
    committee = registry.save_branch("中共临晋镇委员会", "党委")
    branch_a = registry.save_branch("中共东张村支部委员会", "党支部", committee, a)
    registry.save_branch("中共西张社区支部委员会", "党支部", committee, b)
    groups_a = dict((name, gid) for gid, name in registry.village_groups(a))
    people = {
        "head_a": pid(1965, 11), "wife_a": pid(1967, 22), "son_a": pid(1990, 33),
        "head_b": pid(1970, 41), "head_c": pid(1980, 51), "wife_c": pid(1982, 62),
    }
    party = PartyInput(member_type="正式党员", joined_on=dt.date(1995, 7, 1), confirmed_on=dt.date(1996, 7, 1),
                       branch_id=branch_a, party_post="党支部书记", points_category="有职", duty_post="政策宣传岗")
    registry.save_household(HouseholdInput(village_id=a, number="0001", group_id=groups_a["一组"],
                                           address="东张村一组1号", phone="13812345678", members=[
        MemberInput(PersonInput(people["head_a"], "张大山", party=party, phone="13812345678"), "户主"),
        MemberInput(PersonInput(people["wife_a"], "李秀英", education="初中"), "配偶"),
        MemberInput(PersonInput(people["son_a"], "张小山", party=PartyInput(
            member_type="预备党员", joined_on=dt.date(2024, 7, 1), branch_id=branch_a,
            mobility="流动", mobility_since=dt.date(2023, 3, 1), destination="太原市")), "子"),
    ]))
    registry.save_household(HouseholdInput(village_id=a, number="0002", address="=HYPERLINK(\"x\")", members=[
        MemberInput(PersonInput(people["head_b"], "王五", ethnicity="回族", note="+86备注"), "户主"),
    ]))
    registry.save_household(HouseholdInput(village_id=b, number="0001", members=[
        MemberInput(PersonInput(people["head_c"], "赵六", party=PartyInput(joined_on=dt.date(2005, 7, 1),
                                                                         confirmed_on=dt.date(2006, 7, 1))), "户主"),
        MemberInput(PersonInput(people["wife_c"], "钱七"), "配偶"),
    ]))
    return {"villages": (a, b), "people": people}


@pytest.fixture
def villages(registry: RegistryService) -> tuple[int, int]:
    """Two registered villages (东张村 and 西张社区) and a household 0001 in 东张村."""
    a = registry.save_village(VillageInput(code=VILLAGE_A, name="东张村", groups=["一组", "二组"]))
    b = registry.save_village(VillageInput(code=VILLAGE_B, name="西张社区", kind="社区"))
    return a, b


def new_database(template: Path, path: Path, *, mode: str = "township", name: str = "临晋镇",
                 code: str = "140821100") -> Database:
    """Another migrated SQLite file (copied from the session template) initialised as township or county;
    tests that may run on either backend use ``initialised(another_db(), …)`` instead."""
    import shutil

    from townapp.db import open_database

    shutil.copyfile(template, path)
    return initialised(open_database(path), mode=mode, name=name, code=code)


def initialised(db: Database, *, mode: str = "township", name: str = "临晋镇", code: str = "140821100") -> Database:
    """``db`` (a fresh migrated database) initialised as that township or county."""
    RegistryService(db).initialise(mode, name, code)
    return db
