"""Every export a logged-in user can reach, tried by every role (issue 16, holes 1 and 2).

The sync package holds every village's people with full ID numbers: only
管理员 and 乡镇干部 may write it. Any other file a 村录入员 can produce holds only
their own village's data, and never a full ID number of anyone outside it.
Each path is tried as each role on the small demo township; a clerk's file is
read back (xlsx cells, PDF text) and searched for the other villages' names and
the full ID numbers of everyone living outside the clerk's village.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.figures import record
from townapp.archives.printable import write_archive, write_pay_xlsx
from townapp.archives.service import ArchiveService
from townapp.core.actor import ROLE_ADMIN, ROLE_READONLY, ROLE_TOWNSHIP, ROLE_VILLAGE, Actor
from townapp.core.errors import DomainError, PermissionDenied
from townapp.db import Database
from townapp.evaluations import publicity as eval_publicity
from townapp.evaluations.service import EvaluationService
from townapp.evaluations.sheets import write_stage_workbook
from townapp.exchange.package import write_package
from townapp.exchange.template import write_template
from townapp.exchange.writer import export_sheets
from townapp.figures import figure_registry, unit_source
from townapp.grids.printable import write_subsidy_pdf, write_subsidy_xlsx
from townapp.grids.service import GridService
from townapp.outputs.figures import Period
from townapp.outputs.quarterly import ReturnService
from townapp.points import printable as points_printable
from townapp.points.service import PointsService
from townapp.points.sheets import export_points_sheets
from townapp.registry import models as m
from townapp.sheets import all_sheet_specs

YEAR = 2026
ROLES = (ROLE_ADMIN, ROLE_TOWNSHIP, ROLE_READONLY, ROLE_VILLAGE)
ID_PATTERN = re.compile(r"\d{17}[\dX]")

Export = Callable[[Database, Actor, Path], object]


def _latest_locked_month(db: Database) -> tuple[int, int]:
    from townapp.grids import models as g

    with db.reader() as s:
        return s.execute(select(g.GridMonth.year, g.GridMonth.month).where(g.GridMonth.locked.is_(True))
                         .order_by(g.GridMonth.year.desc(), g.GridMonth.month.desc()).limit(1)).one()


def _round(db: Database) -> int:
    return max(r.id for r in EvaluationService(db).rounds())


def _other_publicity(db: Database, own: int) -> int:
    return next(p.id for p in PointsService(db).publicities() if p.village_id != own)


def _villages(db: Database) -> tuple[int, list[int]]:
    with db.reader() as s:
        ids = list(s.scalars(select(m.Village.id).order_by(m.Village.code)))
    return ids[0], ids[1:]


# name → export(db, actor, folder); the clerk's village is the first by code, "other" is the second
EXPORTS: dict[str, Export] = {
    "同步数据包": lambda db, a, d: write_package(db, all_sheet_specs(), d / "包.xlsx", actor=a),
    "积分四表（含完整身份证号）": lambda db, a, d: export_points_sheets(db, d / "积分全.xlsx", a, reason="核对"),
    "积分四表（脱敏）": lambda db, a, d: export_points_sheets(db, d / "积分.xlsx", a),
    "积分明细": lambda db, a, d: points_printable.write_detail_workbook(PointsService(db, a), YEAR, d / "明细.xlsx"),
    "积分汇总": lambda db, a, d: points_printable.write_summary_workbook(PointsService(db, a), YEAR, d / "汇总.xlsx"),
    "他村积分公示PDF": lambda db, a, d: points_printable.write_publicity_pdf(
        PointsService(db, a), _other_publicity(db, _villages(db)[0]), d / "公示.pdf"),
    "他村积分公示Excel": lambda db, a, d: points_printable.write_publicity_xlsx(
        PointsService(db, a), _other_publicity(db, _villages(db)[0]), d / "公示.xlsx"),
    "网格员补助发放表Excel": lambda db, a, d: write_subsidy_xlsx(
        GridService(db, a).subsidy_list(*_latest_locked_month(db)), d / "补助.xlsx"),
    "网格员补助发放表PDF": lambda db, a, d: write_subsidy_pdf(
        GridService(db, a).subsidy_list(*_latest_locked_month(db)), d / "补助.pdf"),
    "评定填报工作簿": lambda db, a, d: write_stage_workbook(EvaluationService(db, a), _round(db), d / "评定.xlsx"),
    "评定公示PDF": lambda db, a, d: eval_publicity.write_publicity_pdf(EvaluationService(db, a), _round(db),
                                                                  d / "评定公示.pdf"),
    "评定公示Excel": lambda db, a, d: eval_publicity.write_publicity_xlsx(EvaluationService(db, a), _round(db),
                                                                     d / "评定公示.xlsx"),
    "他村一村一档PDF": lambda db, a, d: write_archive(ArchiveService(db, a), _villages(db)[1][0], d / "档案.pdf"),
    "他村报酬发放表": lambda db, a, d: write_pay_xlsx(ArchiveService(db, a).pay_table(_villages(db)[1][0], 2025),
                                               d / "报酬.xlsx"),
    "季度报表": lambda db, a, d: ReturnService(db, figure_registry(db), unit_source(), a).export(
        ReturnService(db, figure_registry(db), unit_source(), a).build(Period(YEAR, 1)), d / "季报.xlsx"),
    "导入模板": lambda db, a, d: write_template(all_sheet_specs(), d / "模板.xlsx"),
    "全部表格（脱敏）": lambda db, a, d: export_sheets(db, all_sheet_specs(), d / "表格.xlsx", a),
    "全部表格（含完整身份证号）": lambda db, a, d: export_sheets(db, all_sheet_specs(), d / "表格全.xlsx", a,
                                                     reason="核对"),
}


def _text(path: Path) -> str:
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    book = load_workbook(path, read_only=True)
    return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


def _outsiders(db: Database, own: int) -> tuple[set[str], set[str]]:
    """Full ID numbers of everyone not living in ``own``, and the other villages' names."""
    with db.reader() as s:
        ids = set(s.scalars(select(m.Person.id_number).where((m.Person.village_id != own)
                                                             | m.Person.village_id.is_(None))))
        names = set(s.scalars(select(m.Village.name).where(m.Village.id != own)))
    return ids, names


def _leaks(text: str, ids: set[str], names: set[str]) -> list[str]:
    return sorted({n for n in ID_PATTERN.findall(text) if n in ids} | {n for n in names if n in text})


def test_every_export_as_every_role(open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN the small demo township (3 villages, every module filled) and an account of each role
    WHEN each role tries every export path
    THEN only 管理员/乡镇干部 get the sync package (the others: PermissionDenied in Chinese); a clerk's
    files hold no other village's name and no full ID number of anyone outside their village."""
    db = open_demo("small", 5)
    own, _others = _villages(db)
    outside_ids, other_names = _outsiders(db, own)
    tried, leaked, refused = 0, [], 0
    for role in ROLES:
        actor = Actor(f"测试{role}", role, own if role == ROLE_VILLAGE else None)
        for name, export in EXPORTS.items():
            folder = tmp_path / f"{role}-{len(list(tmp_path.iterdir()))}"
            folder.mkdir()
            tried += 1
            try:
                export(db, actor, folder)
            except PermissionDenied as exc:
                assert exc.message and re.search(r"[\u4e00-\u9fff]", exc.message)
                refused += 1
                continue
            except DomainError as exc:  # nothing to export for this role (e.g. no rows): nothing leaves
                assert not list(folder.iterdir()), f"{name} × {role}: {exc.message}"
                continue
            files = [p for p in folder.iterdir() if not p.name.startswith(".")]
            if name == "同步数据包" and role not in (ROLE_ADMIN, ROLE_TOWNSHIP):
                leaked.append(f"{name} × {role}")
            if role == ROLE_VILLAGE:
                for path in files:
                    found = _leaks(_text(path), outside_ids, other_names)
                    if found:
                        leaked.append(f"{name} × {role}：{found[:3]}")
    record("导出尝试（按角色）", f"{tried} 次（{len(EXPORTS)} 条导出途径 × {len(ROLES)} 个角色），"
                           f"拒绝 {refused}，泄露 {len(leaked)}")
    assert leaked == [], "\n".join(leaked)


@pytest.mark.parametrize("role", [ROLE_VILLAGE, ROLE_READONLY])
def test_the_package_is_refused_before_anything_is_written(open_demo: Callable[..., Database], tmp_path: Path,
                                                           role: str) -> None:
    """GIVEN a 村录入员 or 只读 account WHEN it asks for the sync package
    THEN the service refuses in Chinese, no file (not even a temporary one) is left, and nothing is logged."""
    db = open_demo("small", 5)
    own, _ = _villages(db)
    stick = tmp_path / "U盘"
    stick.mkdir()
    with pytest.raises(PermissionDenied, match="乡镇干部或管理员"):
        write_package(db, all_sheet_specs(), stick / "包.xlsx", actor=Actor("某人", role, own))
    assert list(stick.iterdir()) == []


def test_clerk_points_export_holds_only_their_village(open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN a clerk WHEN they export the points sheets with a reason (full IDs)
    THEN every record and redemption row is their village's, and a township cadre still gets all villages."""
    db = open_demo("small", 5)
    own, _ = _villages(db)
    clerk_rows = export_points_sheets(db, tmp_path / "村.xlsx", Actor("文书", ROLE_VILLAGE, own), reason="核对")
    cadre_rows = export_points_sheets(db, tmp_path / "镇.xlsx", Actor("干部", ROLE_TOWNSHIP), reason="核对")
    assert 0 < clerk_rows < cadre_rows
    ids, names = _outsiders(db, own)
    assert _leaks(_text(tmp_path / "村.xlsx"), ids, names) == []
    assert _leaks(_text(tmp_path / "镇.xlsx"), ids, names) != []


def _full_ids(path: Path, ids: set[str]) -> set[str]:
    return {n for n in ID_PATTERN.findall(_text(path)) if n in ids}


@pytest.mark.parametrize("reason", [None, "核对"])
def test_export_sheets_as_a_clerk_holds_only_their_village(open_demo: Callable[..., Database], tmp_path: Path,
                                                            reason: str | None) -> None:
    """GIVEN a 村录入员 of the first village (issue 16: export_sheets wrote all 20 villages for a clerk)
    WHEN they export every sheet, masked and with a reason
    THEN every sheet holds only their village's rows (no other village's name, no outsider's full ID),
    fewer rows than a township cadre's export, and with a reason their own people's IDs are in full."""
    db = open_demo("small", 5)
    own, _ = _villages(db)
    clerk = export_sheets(db, all_sheet_specs(), tmp_path / "村.xlsx", Actor("文书", ROLE_VILLAGE, own), reason=reason)
    cadre = export_sheets(db, all_sheet_specs(), tmp_path / "镇.xlsx", Actor("干部", ROLE_TOWNSHIP), reason=reason)
    assert 0 < clerk < cadre
    ids, names = _outsiders(db, own)
    assert _leaks(_text(tmp_path / "村.xlsx"), ids, names) == []
    with db.reader() as s:
        own_ids = set(s.scalars(select(m.Person.id_number).where(m.Person.village_id == own)))
    assert bool(_full_ids(tmp_path / "村.xlsx", own_ids)) == bool(reason)
    assert bool(_full_ids(tmp_path / "镇.xlsx", ids)) == bool(reason)  # township roles unchanged


def test_export_sheets_read_only_gets_masked_ids_only(open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN a 只读 account WHEN it exports every sheet without and then with a reason
    THEN the masked workbook covers every village with no full ID at all; the reason is refused in Chinese
    and leaves no file."""
    db = open_demo("small", 5)
    reader = Actor("查看", ROLE_READONLY)
    assert export_sheets(db, all_sheet_specs(), tmp_path / "脱敏.xlsx", reader) > 0
    with db.reader() as s:
        everyone = set(s.scalars(select(m.Person.id_number)))
    assert _full_ids(tmp_path / "脱敏.xlsx", everyone) == set()
    with pytest.raises(PermissionDenied, match="只读账号.*不能导出完整身份证号"):
        export_sheets(db, all_sheet_specs(), tmp_path / "全.xlsx", reader, reason="核对")
    assert not (tmp_path / "全.xlsx").exists()


def test_export_sheets_leaves_out_a_sheet_that_cannot_be_limited_to_a_village(
        open_demo: Callable[..., Database], tmp_path: Path) -> None:
    """GIVEN a sheet whose adapter cannot limit its rows to one village (village_scoped False)
    WHEN a clerk exports it together with the 人员 sheet, and alone
    THEN with 人员 the sheet is left out and named on the 导出说明 sheet; alone it is refused in Chinese."""
    from townapp.exchange.spec import SheetAdapter

    class Everyone(SheetAdapter):
        def match(self, conn, rows, ctx):  # type: ignore[no-untyped-def]
            return None

        def apply(self, conn, rows, ctx):  # type: ignore[no-untyped-def]
            return None

        def delete(self, conn, ids):  # type: ignore[no-untyped-def]
            return None

        def export_rows(self, conn, township_code):  # type: ignore[no-untyped-def]
            for number in conn.scalars(select(m.Person.id_number)):
                yield {"id_number": number}

    person = next(s for s in all_sheet_specs() if s.key == "person")
    unscoped = type(person)(key="everyone", title="全乡镇名单", adapter=Everyone(), columns=person.columns[:1],
                            key_columns=("id_number",))
    db = open_demo("small", 5)
    own, _ = _villages(db)
    clerk = Actor("文书", ROLE_VILLAGE, own)
    export_sheets(db, [person, unscoped], tmp_path / "村.xlsx", clerk, reason="核对")
    book = load_workbook(tmp_path / "村.xlsx", read_only=True)
    assert book.sheetnames == [person.title, "导出说明"]
    assert "全乡镇名单" in _text(tmp_path / "村.xlsx")
    with pytest.raises(PermissionDenied, match="全乡镇名单.*村录入员账号不能导出"):
        export_sheets(db, [unscoped], tmp_path / "只有.xlsx", clerk)
    assert not (tmp_path / "只有.xlsx").exists()
