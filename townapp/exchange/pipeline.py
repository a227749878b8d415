"""The one import pipeline: read → recognise → find header → normalise → validate → match → report → apply.

Every sheet of a file is processed inside ONE database transaction, in the
order of the specs (villages before households before people …), so later
sheets see earlier sheets' rows exactly as a real import would. At the end the
transaction is committed only for a real run without errors; a dry run and a
rejected file are rolled back — the dry-run report and the real report are
therefore produced by the same code and are identical (a dry run only skips
its last sheet's writes where the adapter says they add nothing to the report:
see ``SheetAdapter.report_needs_writes``). A real run takes a backup first and
writes an ImportBatch either way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Table, delete, insert, select, update

from townapp.core import permissions
from townapp.core.actor import ROLE_VILLAGE, SYSTEM_ACTOR, Actor
from townapp.core.collector import collector_paused
from townapp.core.dates import GuessedMonth
from townapp.core.errors import Cancelled, DomainError
from townapp.core.idcard import mask_id_number
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.core.text import remove_spaces, to_halfwidth
from townapp.db import Database
from townapp.db.audit import AuditEntry, village_sql
from townapp.db.backup import backup_database
from townapp.db.base import Base, utcnow
from townapp.db.busy import holding
from townapp.db.fast import larger_page_cache
from townapp.db.server import hold_township
from townapp.exchange import protect
from townapp.exchange import recognise as r
from townapp.exchange import spec as s
from townapp.exchange.layouts import load_layouts, mark_used, save_layout
from townapp.exchange.models import CountyHolding, ImportBatch
from townapp.exchange.normalize import CellError, as_text, filled_cell_normaliser, is_empty, norm_label
from townapp.exchange.package import Manifest, is_manifest, read_manifest, verify_package
from townapp.exchange.reader import (
    DEFAULT_LIMITS,
    FileRejected,
    ImportLimits,
    SheetInfo,
    Workbook,
    file_sha256,
)
from townapp.exchange.recognise import HEADER_SCAN_ROWS, Recognition, SheetMapping
from townapp.exchange.report import ImportReport, Issue, SheetCounts, SheetLayout, SheetTaken

CHUNK = 500
# placeholders people write in an optional cell (the 党员信息采集表 instructions ask for 无)
PLACEHOLDERS = frozenset({"无", "—", "——", "-", "--", "/", "空", "－", "／", "暂无", "none", "None", "N/A", "n/a"})
NOTE_LENGTH = 40  # a lone cell longer than this under a header is a note, not a value of a row
_INSTRUCTION = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]{1,3})[、.．)）]\D|^[（(]\d{1,2}[)）]|^(填写|填表|注意|温馨|友情|提示|请)")
NOTE_PREFIXES = ("注", "说明", "备注", "填表", "制表", "审核", "负责人", "联系人", "合计", "总计", "小计", "单位",
                 "填报", "统计", "此表", "本表")
SKIPPED_SHEETS = frozenset(norm_label(n) for n in ("填写说明", "说明", "导入报告", "下拉选项", "选项", "字典"))
REPORT_ERROR_CAP = 2000
IMPORT_CACHE_MB = 64  # a county import inserts 100,000 rows into indexes of 460,000: keep their pages in memory


def chunked(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Slices for IN (...) queries: SQLite allows a limited number of bound parameters."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class _SheetPlan:
    info: SheetInfo
    spec: s.SheetSpec
    head: list[list[Any]]
    rest: Iterator[list[Any]]
    parts: int = 1  # sheets it was read from (a package's sheet longer than a worksheet continues on more)
    recognition: Recognition | None = None  # how a workbook's sheet was taken (None: a package's, by title)


@dataclass
class _SheetContext:
    """The ImportContext an adapter sees for one sheet."""

    spec: s.SheetSpec
    mode: str
    township_code: str
    township_name: str
    now: dt.datetime
    present: frozenset[str]
    shared: dict[str, Any]
    report: ImportReport
    sheet_name: str
    header: r.Header | None
    reporter: Reporter
    holdings: dict[str, set[int]] | None
    touched: dict[str, set[int]]
    actor: Actor
    db: Database
    batch_id: int | None
    reason: str | None
    package: bool = False
    village_package: str | None = None
    sheet_errors: int = 0

    def _issue(self, row: s.Row | None, key: str | None, code: str, message: str) -> Issue:
        column = ""
        index = None
        if key is not None:
            if self.header is not None and key in self.header.labels:
                column = self.header.labels[key]
                index = self.header.positions[key]
            else:
                try:
                    column = self.spec.column(key).header
                except KeyError:
                    column = key
        number = row.number if row is not None else (self.header.row_number if self.header else 1)
        return Issue(self.sheet_name, number, column, code, message, index)

    def error(self, row: s.Row | None, key: str | None, code: str, message: str) -> None:
        self.report.errors.append(self._issue(row, key, code, message))
        if row is not None:
            row.failed = True
        else:
            self.sheet_errors += 1

    def warn(self, row: s.Row | None, key: str | None, message: str) -> None:
        self.report.warnings.append(self._issue(row, key, "warning", message))

    def held_ids(self, entity: str) -> set[int] | None:
        if self.holdings is None:
            return None
        return self.holdings.get(entity, set()) | self.touched.get(entity, set())

    def step(self, done: int, total: int, text: str) -> None:
        self.reporter.step(done, total, text)


@dataclass
class _Run:
    """State of one import across its sheets."""

    db: Database
    path: Path
    specs: Sequence[s.SheetSpec]
    dry_run: bool
    actor: Actor
    reporter: Reporter
    report: ImportReport
    mode: str = "township"
    township_code: str = ""
    township_name: str = ""
    manifest: Manifest | None = None
    holdings: dict[str, set[int]] | None = None
    village_package: str | None = None  # a village install's package: that village's name (rows may touch only it)
    shared: dict[str, Any] = field(default_factory=dict)
    seen_keys: dict[str, dict[tuple[Any, ...], tuple[str, int]]] = field(default_factory=dict)
    touched: dict[str, set[int]] = field(default_factory=dict)
    batch_id: int | None = None
    elsewhere: tuple[tuple[s.SheetSpec, str], ...] = ()  # recognised, imported somewhere else
    sheet_counts: list[tuple[s.SheetSpec, str, SheetCounts]] = field(default_factory=list)
    mappings: dict[str, SheetMapping] = field(default_factory=dict)  # sheet name -> a person's mapping
    save_as: str | None = None  # save the confirmed mappings as layouts under this name
    layouts: dict[str, SheetMapping] = field(default_factory=dict)  # header fingerprint -> saved layout


def run_import(db: Database, path: Path | str, specs: Sequence[s.SheetSpec], *, dry_run: bool = False,
               actor: Actor = SYSTEM_ACTOR, progress: ProgressFn | None = None, cancel: CancelFn | None = None,
               limits: ImportLimits = DEFAULT_LIMITS,
               elsewhere: Sequence[tuple[s.SheetSpec, str]] = (),
               mappings: dict[str, SheetMapping] | None = None,
               layouts: dict[str, SheetMapping] | None = None, save_as: str | None = None,
               password: str | None = None) -> ImportReport:
    """Import (or with ``dry_run`` only check) one workbook; all or nothing.

    ``password``: the open password of an encrypted workbook (a sync package); it is read from a
    decrypted copy in the laptop's temporary folder, removed afterwards.

    ``mappings``: a person's decision per sheet name (the wizard's 列对应 step or ``--mapping``);
    ``layouts``: saved layouts by header fingerprint, applied to a sheet whose header has that shape
    (None: the ones saved in the database that ``actor``'s imports use); ``save_as``: a name under which
    an accepted real run saves the sheets' confirmed ``mappings`` as layouts (in the same transaction).
    A sheet recognised only uncertainly and not confirmed by either is an ``uncertain_sheet`` error.

    ``elsewhere``: sheets this import recognises but does not take, each with where it is imported
    (the 积分记录 sheet belongs on the 党员积分 page): such a sheet is skipped with a warning that says
    so, rather than taken for the nearest sheet here by its headers.

    Never raises for problems in the file: they are in the report. Raises
    DomainError for an unusable database and Cancelled when the user stops
    (everything rolled back).
    """
    path = Path(path)
    report = ImportReport(file_name=path.name, dry_run=dry_run)
    reporter = Reporter(progress, cancel)
    mode = db.meta("mode")
    if mode not in ("township", "county"):
        raise DomainError("数据库尚未初始化为乡镇或县，不能导入。请先用 townapp init 初始化")
    run = _Run(db, path, specs, dry_run, actor, reporter, report, mode=mode,
               township_code=db.meta("root_code") or "", township_name=db.meta("root_name") or "",
               elsewhere=tuple(elsewhere), mappings=dict(mappings or {}),
               layouts=dict(layouts or {}), save_as=save_as)
    try:
        reporter.step(0, 0, "检查文件")
        report.file_sha256 = _sha_or_reject(path, limits)
        if not permissions.can_write(actor):
            report.file_error(NOT_PERMITTED, "当前账号为只读，不能导入数据：请用村录入员、乡镇干部或管理员账号导入")
            return _finish_rejected(run)
        if layouts is None:
            with db.engine.connect() as conn:
                run.layouts = load_layouts(conn, actor)
        # the rows, their cells and the lookups are hundreds of thousands of objects without cycles: the
        # cyclic collector would only walk them again and again (a sixth of a township import's time)
        with _readable(path, password) as source, Workbook(source, limits) as book, collector_paused():
            plans = _prepare(run, book)
            # a clerk may take only the township's package for their own village install
            for_this_village = run.manifest is not None and run.manifest.village and \
                run.manifest.village == db.meta("village_code")
            if run.manifest is not None and _clerk_village(actor) is not None and not for_this_village:
                report.file_error(NOT_PERMITTED, "同步数据包涉及全乡镇的数据，只能由乡镇干部或管理员导入")
            if report.errors:
                return _finish_rejected(run)
            if db.server:  # the server's backups are its administrator's (pg_dump); the import is one transaction
                _transaction(run, plans)
            else:
                if not dry_run:
                    report.backup_path = backup_database(db.path, reason="import", quick_verify=True)
                # a save elsewhere that waits for the write lock is told who holds it (DatabaseBusy)
                with holding(db.path, f"正在{'试' if dry_run else ''}导入 {path.name}", actor.username):
                    _transaction(run, plans)
    except FileRejected as exc:
        report.file_error(exc.code, exc.message)
    except Cancelled:
        if not dry_run:
            _record_batch(run, "cancelled")
        raise
    if report.errors:
        return _finish_rejected(run)
    return report


@contextlib.contextmanager
def _readable(path: Path, password: str | None) -> Iterator[Path]:
    """The workbook to read: ``path``, or its decrypted copy; a missing or wrong password is the file's problem."""
    try:
        with protect.readable(path, password) as source:
            yield source
    except protect.WrongPassword as exc:
        raise FileRejected("wrong_password" if password else "encrypted", exc.message) from None


def _sha_or_reject(path: Path, limits: ImportLimits) -> str:
    if path.is_dir():  # a folder named like a workbook (some.xlsx/): say so, in the report too
        raise FileRejected("not_spreadsheet", f"{path.name} 是文件夹，不是表格文件：请选择文件夹里的Excel表格导入")
    if not path.is_file():
        raise FileRejected("not_found", f"找不到文件：{path}")
    if path.stat().st_size > limits.max_file_bytes:
        return ""  # detect_format reports too_large; hashing 2 GB first would only waste time
    return file_sha256(path)


def _finish_rejected(run: _Run) -> ImportReport:
    if not run.dry_run:
        _record_batch(run, "rejected")
    return run.report


# ----- recognising sheets ------------------------------------------------------------
def _prepare(run: _Run, book: Workbook) -> list[_SheetPlan]:
    """Find the package manifest (verified) or recognise each sheet by name, else by headers."""
    report = run.report
    manifest = read_manifest(book)
    run.manifest = manifest
    report.is_package = manifest is not None
    contents: dict[str, list[list[Any]]] = {}
    if manifest is not None:
        contents = verify_package(book, manifest)
        code = manifest.code
        if run.mode == "township" and code != run.township_code:
            report.file_error("wrong_township", f"这是{manifest.name}（{code}）的数据包，与本数据库"
                                                f"（{run.township_name} {run.township_code}）不是同一单位，不能导入")
            return []
        # a village's package holds one village: taken as the township's whole state it would delete the rest
        if run.mode == "county" and manifest.village:
            report.file_error("village_package", f"这是{manifest.name}一个村（{manifest.village}）的数据包，应由乡镇导入；"
                                                 "县级数据库只导入乡镇导出的整个乡镇的数据包")
            return []
        if run.mode == "county":
            run.township_code, run.township_name = code, manifest.name
            run.holdings = _load_holdings(run.db, code)
        elif manifest.village and not _take_village_package(run, manifest):
            return []
    elif run.mode == "county":
        report.file_error("not_package", "县级数据库只导入乡镇导出的数据包（第一页为“说明”的文件）。"
                                         "请让乡镇在 townapp 中“导出数据包”后再导入")
        return []
    else:  # a person's workbook: sheets only packages carry are never taken from it
        run.specs = [spec for spec in run.specs if not spec.package_only]
    plans: list[_SheetPlan] = []
    skipped_elsewhere: list[tuple[str, str, str]] = []  # (sheet, what it is, where it is imported)
    order = {spec.key: index for index, spec in enumerate(run.specs)}
    for info in book.sheets:
        if manifest is not None:
            if is_manifest(book, info):
                continue
            if info.name not in contents:
                report.warnings.append(Issue(info.name, 0, "", "warning", "数据包中多出的工作表，不在清单内，已忽略"))
                continue
            title, part = s.part_of(info.name)
            spec = next((x for x in run.specs if x.title == title), None)
            if spec is None:
                report.warnings.append(Issue(info.name, 0, "", "warning", "本程序不认识这个工作表，已忽略（程序版本可能较旧）"))
                continue
            if run.village_package is not None and spec.key in VILLAGE_PACKAGE_SKIPS:
                if part == 0:
                    report.warnings.append(Issue(info.name, 0, "", "warning", f"村级数据包中的“{spec.title}”以乡镇"
                                                 "登记的为准，没有导入（村名称、区划代码等由乡镇维护）"))
                continue
            rows = iter(contents[info.name])
            if part:  # a continuation: its rows (after its own header) carry on the sheet before it
                previous = next((p for p in plans if p.spec is spec), None)
                if previous is None or previous.parts != part:
                    report.file_error("package_tampered", f"数据包的工作表“{info.name}”前面缺少“{s.part_title(title, part - 1)}”："
                                                          "文件不完整或被改动过，已拒绝。请让对方重新导出")
                    return []
                next(rows, None)
                previous.rest = itertools.chain(previous.rest, rows)
                previous.parts += 1
                continue
            plans.append(_SheetPlan(info, spec, list(itertools.islice(rows, HEADER_SCAN_ROWS)), rows))
            continue
        mapping = run.mappings.get(info.name)
        if norm_label(info.name) in SKIPPED_SHEETS and mapping is None:
            continue
        if not info.visible and mapping is None:
            report.warnings.append(Issue(info.name, 0, "", "warning", "隐藏的工作表没有导入；如需导入请先取消隐藏"))
            continue
        rows = book.rows(info)
        head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        other = _imported_elsewhere(info.name, head, run) if mapping is None else None
        if other is not None:
            foreign, where = other
            skipped_elsewhere.append((info.name, foreign.title, where))
            report.warnings.append(Issue(info.name, 0, "", "warning",
                                         f"这是“{foreign.title}”表，不在这里导入，已跳过：请在{where}导入"))
            continue
        taken = r.recognise(info.name, head, run.specs, mapping, run.layouts, order)
        if taken.how == "skipped":
            report.warnings.append(Issue(info.name, 0, "", "warning", "按列对应的确认，这个工作表不导入，已跳过"))
            continue
        if taken.how in ("mapping", "layout") and taken.doubts:  # the person's mapping does not fit the sheet
            where = f"已保存的列对应“{taken.layout}”" if taken.layout else "列对应"
            report.errors.append(Issue(info.name, 0, "", BAD_MAPPING, f"{where}用不上：{'；'.join(taken.doubts)}"))
            continue
        if taken.spec is None:
            if taken.doubts:
                report.errors.append(Issue(info.name, 0, "", BAD_MAPPING, "；".join(taken.doubts)))
            elif any(any(not is_empty(v) for v in row) for row in head):
                report.warnings.append(Issue(info.name, 0, "", "warning",
                                             "无法识别这个工作表是什么数据（工作表名和表头都对不上），已跳过；"
                                             "可在导入向导的“列对应”中指定它是什么表、各列对应什么"))
                report.unrecognised[info.name] = _unrecognised(head)
            continue
        plans.append(_SheetPlan(info, taken.spec, head, rows, recognition=taken))
    named = {info.name for info in book.sheets}
    for sheet in run.mappings:
        if sheet not in named:
            report.errors.append(Issue(sheet, 0, "", BAD_MAPPING, f"列对应中的工作表“{sheet}”不在这个文件中（文件中的工作表："
                                                                  f"{'、'.join(sorted(named))}），请核对工作表名"))
    if not plans and not report.errors and skipped_elsewhere:
        sheet, title, where = skipped_elsewhere[0]
        report.file_error("wrong_place", f"工作表“{sheet}”是“{title}”表，不在这里导入：请在{where}导入。"
                                         "这个文件中没有这里可以导入的工作表")
    elif not plans and not report.errors:
        names = "、".join(spec.title for spec in run.specs)
        report.file_error("no_data", f"文件中没有可导入的工作表。工作表名或表头应为：{names}（可先导出模板对照）")
    plans.sort(key=lambda p: order[p.spec.key])
    return plans


def _imported_elsewhere(name: str, head: list[list[Any]], run: _Run) -> tuple[s.SheetSpec, str] | None:
    """A sheet that is one of ``run.elsewhere``: by its name (unless the name is one of this import's
    sheets), or, named like nothing here, by headers that fit it better than any sheet here."""
    if not run.elsewhere or r.spec_by_name(name, run.specs)[0] is not None:
        return None
    foreign = [spec for spec, _ in run.elsewhere]
    where = {spec.key: place for spec, place in run.elsewhere}
    named = r.spec_by_name(name, foreign)[0]
    if named is not None:
        return named, where[named.key]
    best_here = max((r.score(spec, head) for spec in run.specs), default=0)
    score, other = max(((r.score(spec, head), spec) for spec in foreign), key=lambda t: t[0])
    return (other, where[other.key]) if score >= 3 and score > best_here else None


# what a village install's package carries but the township keeps: the village's own entry in the township
VILLAGE_PACKAGE_SKIPS = frozenset({"village"})


def _as_conflicts(run: _Run) -> None:
    """A village's package: a row its village may not write (another village's person or record, as the
    modules' services refuse it) is a conflict between two villages, said so."""
    errors = run.report.errors
    for index, issue in enumerate(errors):
        if issue.code == NOT_PERMITTED:
            errors[index] = dataclasses.replace(issue, code="conflict", message=(
                f"冲突：这一行的人员或记录在本乡镇已属于其他村（或全乡镇），{run.village_package}的数据包又报送了它。"
                "同一人（或记录）不能属于两个村，不会合并：请核实后由相关村更正，再重新导入"))


def _take_village_package(run: _Run, manifest: Manifest) -> bool:
    """A package naming one village: the township's for a village install, or a village install's for the
    township — then every row may touch that village only (as its 村录入员's import), and a row about
    another village's person or record is a ``conflict``. False (with the file's error) when it does not fit."""
    own = run.db.meta("village_code")
    if own is not None:
        if manifest.village != own:
            run.report.file_error("wrong_village", f"这是区划代码为 {manifest.village} 的村的数据包，本数据库是"
                                                   f"{own} 的村级安装，不能导入")
            return False
        return True
    with run.db.engine.connect() as conn:
        village = sa.table("village", sa.column("id"), sa.column("code"), sa.column("name"))  # no module import
        found = conn.execute(select(village.c.id, village.c.name).where(village.c.code == manifest.village)).first()
    if found is None:
        run.report.file_error("unknown_village", f"数据包来自区划代码为 {manifest.village} 的村，本乡镇还没有登记这个村。"
                                                 "请先在“人口与党员”页新增这个村（区划代码相同），再导入")
        return False
    village_id, name = found
    run.village_package = name
    run.actor = Actor(f"{run.actor.username}（{name}数据包）"[:64], ROLE_VILLAGE, village_id)
    return True


def _load_holdings(db: Database, code: str) -> dict[str, set[int]]:
    holdings: dict[str, set[int]] = {}
    with db.engine.connect() as conn:
        for entity, entity_id in conn.execute(select(CountyHolding.entity, CountyHolding.entity_id)
                                              .where(CountyHolding.township_code == code)):
            holdings.setdefault(entity, set()).add(entity_id)
    return holdings


# ----- the transaction ---------------------------------------------------------------
def _transaction(run: _Run, plans: list[_SheetPlan]) -> None:
    report = run.report
    with run.db.engine.connect() as conn, larger_page_cache(conn, IMPORT_CACHE_MB):
        trans = conn.begin()
        try:
            # a server: one import of a township at a time, other townships' at the same time (a SQLite
            # file has one writer anyway)
            hold_township(conn, run.township_code)
            batch_id = None
            if not run.dry_run:
                batch_id = run.batch_id = _insert_batch(conn, run, "running")
            for number, plan in enumerate(plans, start=1):
                _process_sheet(conn, run, plan, last=number == len(plans))
            if not report.errors and run.holdings is not None:
                _replace_county_rows(conn, run, plans, batch_id)
            if run.village_package is not None:
                _as_conflicts(run)
            run.reporter.step(1, 1, "保存")  # the last moment a cancel still rolls everything back
            if report.errors or run.dry_run:
                trans.rollback()
                return
            assert batch_id is not None
            _write_log(conn, run, batch_id)
            trans.commit()
            report.batch_id = batch_id
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise


def _sheet_context(run: _Run, spec: s.SheetSpec, name: str, header: r.Header | None) -> _SheetContext:
    return _SheetContext(spec, run.mode, run.township_code, run.township_name, utcnow(), frozenset(),
                         run.shared, run.report, name, header, run.reporter, run.holdings, run.touched,
                         run.actor, run.db, run.batch_id, f"导入文件 {run.path.name}"[:400], run.manifest is not None,
                         run.village_package)


def _process_sheet(conn: Connection, run: _Run, plan: _SheetPlan, last: bool = False) -> None:
    report, spec = run.report, plan.spec
    name = plan.info.name
    counts = report.sheets.setdefault(name, SheetCounts())
    taken = plan.recognition
    header = taken.header if taken is not None else r.find_header(spec, plan.head)
    ctx = _sheet_context(run, spec, name, header)
    _report_taken(report, name, spec, header, taken, plan.head)
    if taken is not None and taken.doubts:
        ctx.error(None, None, UNCERTAIN, _uncertain_message(name, spec, taken))
        counts.errors += ctx.sheet_errors
        return
    if header is None:
        required = "、".join(c.header for c in spec.columns if c.required)
        ctx.error(None, None, "missing_column",
                  f"前{HEADER_SCAN_ROWS}行中找不到表头：识别为“{spec.title}”，表头应包含 {required} 等列；"
                  "若表中的列名与此不同，可在导入向导的“列对应”中指定各列对应什么")
        counts.errors += ctx.sheet_errors
        guess = _unrecognised(plan.head)  # the 列对应 step offers it, as this entity to begin with
        guess.entity, guess.title = spec.key, spec.title
        report.unrecognised[name] = guess
        return
    report.layouts[name] = SheetLayout(header.row_number, header.width)
    ctx.present = frozenset(header.positions)
    if taken is not None and taken.how in ("headers", "layout", "mapping"):
        report.warnings.append(Issue(name, header.row_number, "", "warning", _taken_message(spec, header, taken)))
    for index, text in header.unknown:
        report.warnings.append(Issue(name, header.row_number, text, "warning",
                                     f"“{text}”不是“{spec.title}”的字段，这一列没有导入", index))
    for index, text, key in header.duplicates:
        report.errors.append(Issue(name, header.row_number, text, "duplicate_column",
                                   f"“{text}”与“{header.labels[key]}”是同一个字段，请删除其中一列", index))
        ctx.sheet_errors += 1
    for column in spec.columns:
        if column.required and column.key not in header.positions:
            ctx.error(None, column.key, "missing_column",
                      f"缺少必填列“{column.header}”（也可写作：{'、'.join(column.aliases[:4]) or column.header}）")
    for group in spec.required_any:
        if not any(key in header.positions for key in group):
            headers = "或".join(f"“{spec.column(k).header}”" for k in group)
            ctx.error(None, group[0], "missing_column", f"缺少{headers}列，至少要有一列")
    if ctx.sheet_errors:
        counts.errors += ctx.sheet_errors
        return
    rows = _parse_rows(run, plan, header, ctx)
    plan.head, plan.rest = [], iter(())  # the raw cells (and calamine's copy of the sheet) are no longer needed
    _check_duplicates(run, rows, ctx)
    adapter = spec.adapter
    ctx.step(0, len(rows), f"{name}：核对数据库")
    adapter.match(conn, rows, ctx)
    _check_county_conflicts(conn, run, rows, ctx)
    clerk_village = _clerk_village(run.actor)
    if spec.package_only and run.manifest is not None and run.manifest.village and \
            run.manifest.village == run.db.meta("village_code"):
        clerk_village = None  # the township's decisions for this village install: its services check them
    before = _villages_before(conn, adapter, rows) if clerk_village is not None else []
    ctx.step(0, len(rows), f"{name}：写入")
    # a dry run's last sheet: writes no one reads and that add nothing to the report are skipped
    # (not for a clerk: the villages of what the rows create are read back below)
    rolled_back_unread = run.dry_run and last and run.holdings is None and clerk_village is None
    if not rolled_back_unread or adapter.report_needs_writes(rows, ctx):
        adapter.apply(conn, rows, ctx)
        adapter.finish(conn, rows, ctx)
    if clerk_village is not None:
        _refuse_other_villages(conn, adapter, rows, ctx, clerk_village, before)
    touched = run.touched.setdefault(adapter.entity, set())
    for row in rows:
        if row.failed:
            counts.errors += 1
            continue
        action = row.action or "unchanged"
        setattr(counts, action, getattr(counts, action) + 1)
        if row.entity_id is not None:
            touched.add(row.entity_id)
    counts.errors += ctx.sheet_errors
    run.sheet_counts.append((spec, name, counts))


UNCERTAIN = "uncertain_sheet"
BAD_MAPPING = "bad_mapping"
SAMPLE_VALUES = 3


def _report_taken(report: ImportReport, name: str, spec: s.SheetSpec, header: r.Header | None,
                  taken: Recognition | None, head: list[list[Any]]) -> None:
    """The report says what each sheet was taken as and which of its columns were used and left out."""
    used = {header.labels[key]: key for key in header.positions} if header else {}
    ignored = [text for _, text in sorted([*header.unknown, *header.ignored])] if header else []
    report.taken[name] = SheetTaken(spec.key, spec.title, used, ignored, taken.layout if taken else None,
                                    header.row_number if header else None, taken.how if taken else "package",
                                    taken.fingerprint if taken else "", header.texts if header else [],
                                    _samples(head, header.row_number, header.width) if header and taken else {})


def _samples(head: list[list[Any]], header_row: int, width: int) -> dict[int, list[str]]:
    """The first few values under each column (for the 列对应 step)."""
    found: dict[int, list[str]] = {}
    for raw in head[header_row:]:
        for index in range(min(width, len(raw))):
            if not is_empty(raw[index]) and len(found.setdefault(index, [])) < SAMPLE_VALUES:
                found[index].append(as_text(raw[index]).strip()[:40])
    return found


def _unrecognised(head: list[list[Any]]) -> SheetTaken:
    """A sheet nothing recognised, as the 列对应 step shows it: the row with most text cells as its header."""
    counts = [sum(1 for v in row if isinstance(v, str) and v.strip()) for row in head]
    best = max(range(len(head)), key=lambda i: counts[i], default=0)
    texts = [as_text(v).strip() if not is_empty(v) else "" for v in head[best]] if head else []
    return SheetTaken("", "", {}, [], None, best + 1, "none", r.fingerprint(texts), texts,
                      _samples(head, best + 1, len(texts)))


def _taken_message(spec: s.SheetSpec, header: r.Header, taken: Recognition) -> str:
    how = {"headers": "按表头识别为", "layout": f"按已保存的列对应“{taken.layout}”识别为", "mapping": "按列对应导入为"}
    used = "、".join(header.labels[k] for k in header.positions)
    return f"{how[taken.how]}“{spec.title}”，使用的列：{used}"


def _uncertain_message(name: str, spec: s.SheetSpec, taken: Recognition) -> str:
    return (f"工作表“{name}”看起来是“{spec.title}”表，但{'；'.join(taken.doubts)}。为免把别的数据误导入，"
            "这个工作表需要有人确认各列对应什么：请在导入向导的“列对应”一步确认，"
            "或在命令行用 --mapping 列对应文件 指定（不导入这个工作表也可在列对应中选择“不导入”）")


# ----- who may import what ---------------------------------------------------------------
NOT_PERMITTED = "not_permitted"
_TOWNSHIP_TABLES = frozenset({"village", "township"})


def _clerk_village(actor: Actor) -> int | None:
    """The one village a 村录入员's import may change; None for township roles (no check, no cost)."""
    return None if permissions.is_township_level(actor) else permissions.visible_village(actor)


def _entity_table(adapter: s.SheetAdapter) -> Table | None:
    """The table ``row.entity_id`` points into: the adapter's ``table`` if it names one, else its entity."""
    return Base.metadata.tables.get(getattr(adapter, "table", "") or adapter.entity)


def _villages_of(conn: Connection, adapter: s.SheetAdapter, ids: set[int]) -> dict[int, int | None] | None:
    """{entity id: its village} (the audit's rule, ``village_sql``); None when the entity belongs to no village
    (villages themselves, the township, rules, goods …: township-level for this check)."""
    table = _entity_table(adapter)
    if table is None or table.name in _TOWNSHIP_TABLES:
        return None
    village = village_sql(table)
    if village is None:
        return None
    query = select(table.c.id, village)
    found: dict[int, int | None] = {}
    for chunk in chunked(sorted(ids)):
        found.update((int(i), v) for i, v in conn.execute(query.where(table.c.id.in_(chunk))))
    return found


def _villages_before(conn: Connection, adapter: s.SheetAdapter,
                     rows: list[s.Row]) -> list[tuple[s.Row, int | None]]:
    """Rows matched to a stored record, with that record's village before the import changes it."""
    matched = [row for row in rows if not row.failed and row.entity_id]
    villages = _villages_of(conn, adapter, {row.entity_id for row in matched}) if matched else {}
    return [(row, None if villages is None else villages.get(row.entity_id)) for row in matched]


def _refers_elsewhere(conn: Connection, table: Table | None, ids: set[int], village: int) -> set[int]:
    """Ids of ``table`` rows that point (by a foreign key) at a record of another village — e.g. a cadre
    or grid member of the clerk's village whose person lives elsewhere (their name would then show in
    the clerk's archive). Records of no village (a township 党委) may be pointed at."""
    if table is None or not ids:
        return set()
    start = table.alias("t0")
    found: set[int] = set()
    for column in table.columns:
        for fk in column.foreign_keys:
            target = fk.column.table
            if target.name in _TOWNSHIP_TABLES or "village_id" not in target.c:
                continue
            other = target.alias("t1")
            query = (select(start.c.id).join(other, start.c[column.name] == other.c[fk.column.name])
                     .where(other.c.village_id.is_not(None), other.c.village_id != village))
            for chunk in chunked(sorted(ids)):
                found.update(conn.scalars(query.where(start.c.id.in_(chunk))))
    return found


def _refuse_other_villages(conn: Connection, adapter: s.SheetAdapter, rows: list[s.Row], ctx: _SheetContext,
                           village: int, before: list[tuple[s.Row, int | None]]) -> None:
    """A clerk's row that creates or changes anything outside their village is an error at that row.

    Checked after ``apply`` (inside the transaction, rolled back with the file) on the stored result, and
    against the record's village before the change, so moving someone in from another village fails too.
    The message names no one: a clerk learns nothing about other villages from the report.
    """
    changed = [row for row in rows if not row.failed and row.action in ("created", "updated")]
    if not changed:
        return
    was = {id(row): old for row, old in before}
    ids = {row.entity_id for row in changed if row.entity_id}
    villages = _villages_of(conn, adapter, ids) or {}
    foreign = _refers_elsewhere(conn, _entity_table(adapter), ids, village)
    for row in changed:
        now = villages.get(row.entity_id) if row.entity_id else None
        if now != village or was.get(id(row), village) != village or row.entity_id in foreign:
            if ctx.village_package is not None:  # the township imports a village's package: name the clash
                ctx.error(row, ctx.spec.key_columns[0] if ctx.spec.key_columns else None, "conflict",
                          f"冲突：{_describe(ctx.spec, row)} 在本乡镇已属于其他村（或全乡镇），{ctx.village_package}"
                          "的数据包又报送了它。同一人（或记录）不能属于两个村，不会合并：请核实后由相关村更正，再重新导入")
            else:
                ctx.error(row, None, NOT_PERMITTED, s.NOT_PERMITTED_MESSAGE)


def _parse_rows(run: _Run, plan: _SheetPlan, header: r.Header, ctx: _SheetContext) -> list[s.Row]:
    """Cells of the spec's columns, cleaned, for every data row (blank rows, examples, notes and
    repeated headers skipped). This runs for every cell of a 100,000-row sheet: keep it lean."""
    spec = plan.spec
    keys = list(header.positions)
    indexes = [header.positions[key] for key in keys]
    columns = [spec.column(key) for key in keys]
    normalisers = [filled_cell_normaliser(column) for column in columns]
    # a workbook's 无, —, / in an optional column of codes, dates, numbers, phones or choices means
    # "nothing to say": blank (keeps what is stored), unless it is one of the column's own values;
    # in free text it is what the person wrote and stays as written
    placeholders = [frozenset() if column.required or run.manifest is not None or column.kind == s.TEXT
                    else PLACEHOLDERS - {*column.choices, *column.synonyms} for column in columns]
    # a range (学历 高中及以下) is none of the column's values: nothing is stored, and the sheet says so once
    vague = {key: frozenset(column.vague) for key, column in zip(keys, columns, strict=True) if column.vague}
    vague_seen: dict[str, dict[str, int]] = {}
    required = [column.required for column in columns]
    fields = list(zip(keys, columns, normalisers, required, placeholders, strict=True))
    pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda raw: (raw[indexes[0]],))
    reach = max(indexes) + 1
    header_texts = set(header.labels.values())
    # a blank cell of a workbook keeps what is stored (it is left out of ``values``); a sync package
    # is the sender's whole state, where an empty cell is an empty value
    keep_blank = run.manifest is None
    rows: list[s.Row] = []
    data = itertools.chain(plan.head[header.row_number:], plan.rest)
    for number, raw in enumerate(data, start=header.row_number + 1):
        if not raw:
            continue
        cells = pick(raw) if len(raw) >= reach else tuple(raw[i] if i < len(raw) else None for i in indexes)
        filled = [v for v in cells if v is not None and v != "" and not (v.__class__ is str and v.isspace())]
        if not filled:
            continue
        first = raw[0]
        if first is None or (first.__class__ is str and (not first or first.isspace())):
            first = next((v for v in raw if not is_empty(v)), None)
        if first.__class__ is str:
            lead = first.strip()
            if lead.startswith("示例"):
                continue  # the template's example row
            if len(filled) <= 1 and (lead.startswith(NOTE_PREFIXES) or _INSTRUCTION.match(lead)
                                     or len(lead) > NOTE_LENGTH):
                continue  # notes and instructions (填写注意事项 1、…) above, in or under the table
        lead_cell = filled[0]
        if (lead_cell.__class__ is str and lead_cell.strip() in header_texts
                and sum(1 for v in filled if v.__class__ is str and v.strip() in header_texts) >= 2):
            continue  # the header repeated (printed pages): its first cell is a header too
        row = s.Row(number, s.Cells())
        values = row.values
        for value, (key, column, normalise, needed, empty_words) in zip(cells, fields, strict=True):
            if (value is None or value == "" or (value.__class__ is str and value.isspace())
                    or (empty_words and value.__class__ is str and len(value) < 8 and value.strip() in empty_words)):
                if needed:
                    ctx.error(row, key, "required", f"{column.header}不能为空")
                if not keep_blank:
                    values[key] = None
                continue
            try:
                clean = normalise(value)
            except CellError as exc:
                if key in vague and value.__class__ is str and remove_spaces(to_halfwidth(value)) in vague[key]:
                    spelled = vague_seen.setdefault(key, {})
                    spelled[value.strip()] = spelled.get(value.strip(), 0) + 1
                    if not keep_blank:
                        values[key] = None
                    continue
                ctx.error(row, key, exc.code, exc.message)
                continue
            if clean is None and needed:
                ctx.error(row, key, "required", f"{column.header}不能为空")
            elif clean.__class__ is GuessedMonth:  # the number 1963.1: January, or October that lost its 0?
                ctx.warn(row, key, clean.warning(column.header))
            values[key] = clean
        rows.append(row)
        if len(rows) % 5000 == 0:
            ctx.step(len(rows), 0, f"{plan.info.name}：已读取 {len(rows)} 行")
    for key, spelled in vague_seen.items():
        header_text = spec.column(key).header
        ctx.warn(None, key, f"{sum(spelled.values())} 行的{header_text}写作“{'”“'.join(sorted(spelled))}”，这是一个范围，"
                            f"不是具体的{header_text}，没有导入（已登记的{header_text}保持不变）；请核实后在程序中填写")
    return rows


def _describe(spec: s.SheetSpec, row: s.Row) -> str:
    parts = []
    for key in spec.key_columns:
        value = row.values.get(key)
        if value is None:
            continue
        text = mask_id_number(str(value)) if spec.column(key).kind == s.ID_NUMBER else as_text(value)
        parts.append(f"{spec.column(key).header} {text}")
    return "，".join(parts) or f"第{row.number}行"


def _check_duplicates(run: _Run, rows: list[s.Row], ctx: _SheetContext) -> None:
    spec = ctx.spec
    if not spec.key_columns or not all(k in ctx.present for k in spec.key_columns):
        return
    seen = run.seen_keys.setdefault(spec.key, {})
    for row in rows:
        key = tuple(row.values.get(k) for k in spec.key_columns)
        if any(v is None for v in key):
            continue
        first = seen.get(key)
        if first is None:
            seen[key] = (ctx.sheet_name, row.number)
            continue
        where = f"第{first[1]}行" if first[0] == ctx.sheet_name else f"工作表“{first[0]}”第{first[1]}行"
        ctx.error(row, spec.key_columns[0], "duplicate_in_file",
                  f"与{where}重复（{_describe(spec, row)}）：同一条记录在文件中只能出现一次，请删除或合并")


def _check_county_conflicts(conn: Connection, run: _Run, rows: list[s.Row], ctx: _SheetContext) -> None:
    """County mode: a record another township's package brought is listed, never merged."""
    held = ctx.held_ids(ctx.spec.adapter.entity)
    if held is None:
        return
    suspects = [r for r in rows if not r.failed and r.entity_id is not None and r.entity_id not in held]
    owners: dict[int, str] = {}
    ids = [r.entity_id for r in suspects]
    for part in chunked(ids):
        owners.update(conn.execute(select(CountyHolding.entity_id, CountyHolding.township_code).where(
            CountyHolding.entity == ctx.spec.adapter.entity, CountyHolding.entity_id.in_(part))).all())
    for row in suspects:
        owner = owners.get(row.entity_id)  # type: ignore[arg-type]
        source = f"区划代码为 {owner} 的乡镇" if owner else "县级数据库中已有的数据"
        ctx.error(row, ctx.spec.key_columns[0] if ctx.spec.key_columns else None, "conflict",
                  f"冲突：{_describe(ctx.spec, row)} 已属于{source}，本数据包（{run.township_name}）又报送了它。"
                  "同一记录不能属于两个乡镇，请核实后由相关乡镇更正，再重新导入")


def _replace_county_rows(conn: Connection, run: _Run, plans: list[_SheetPlan], batch_id: int | None) -> None:
    """County mode: this township's rows that its new package no longer has are removed; holdings renewed."""
    assert run.holdings is not None
    entities = []
    for plan in plans:
        if plan.spec.adapter.entity not in entities:
            entities.append(plan.spec.adapter.entity)
    by_entity = {plan.spec.adapter.entity: plan for plan in plans}
    for entity in reversed(entities):
        plan = by_entity[entity]
        gone = sorted(run.holdings.get(entity, set()) - run.touched.get(entity, set()))
        if gone:
            plan.spec.adapter.delete(conn, gone, _sheet_context(run, plan.spec, plan.info.name, None))
            run.report.warnings.append(Issue(plan.info.name, 0, "", "warning",
                                             f"{run.township_name}上次导入的 {len(gone)} 条记录不在本数据包中，已删除"))
    conn.execute(delete(CountyHolding).where(CountyHolding.township_code == run.township_code,
                                             CountyHolding.entity.in_(entities)))
    rows = [{"entity": e, "entity_id": i, "township_code": run.township_code, "batch_id": batch_id}
            for e in entities for i in sorted(run.touched.get(e, set()))]
    if rows:
        conn.execute(insert(CountyHolding), rows)


# ----- the import log ----------------------------------------------------------------
def _report_json(report: ImportReport) -> str:
    data = report.to_dict()
    data["errors"] = data["errors"][:REPORT_ERROR_CAP]
    data["warnings"] = data["warnings"][:REPORT_ERROR_CAP]
    return json.dumps(data, ensure_ascii=False)


def _batch_values(run: _Run, status: str) -> dict[str, Any]:
    totals = run.report.totals()
    return dict(username=run.actor.username, file_name=run.path.name[:260], file_sha256=run.report.file_sha256,
                kind="package" if run.report.is_package else "workbook", status=status,
                township_code=run.township_code if run.mode == "county" and run.manifest else None,
                created=totals.created, updated=totals.updated, unchanged=totals.unchanged,
                errors=len(run.report.errors), report=_report_json(run.report))


def _insert_batch(conn: Connection, run: _Run, status: str) -> int:
    result = conn.execute(insert(ImportBatch).values(at=utcnow(), **_batch_values(run, status)))
    return int(result.inserted_primary_key[0])


def _record_batch(run: _Run, status: str) -> None:
    """A rejected or cancelled real run is logged in its own small transaction."""
    with run.db.engine.begin() as conn:
        _insert_batch(conn, run, status)


def _write_log(conn: Connection, run: _Run, batch_id: int) -> None:
    conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(**_batch_values(run, "accepted")))
    # each changed record is in the audit log with this batch's id (written by the module's service)
    now = utcnow()
    entries = []
    for spec, name, counts in run.sheet_counts:
        entries.append(dict(at=now, username=run.actor.username, action="import", entity=spec.adapter.entity,
                            entity_id=batch_id, field=name[:64],
                            new=json.dumps(counts.as_dict(), ensure_ascii=False),
                            reason=f"导入文件 {run.path.name}"[:400], old=None))
    if entries:
        conn.execute(insert(AuditEntry), entries)
    taken = run.report.taken
    mark_used(conn, run.actor, {t.layout for t in taken.values() if t.layout})
    confirmed = [(name, t) for name, t in taken.items() if t.how == "mapping"]
    if run.save_as:
        for name, t in confirmed:
            columns: dict[str, str | None] = {**t.used, **dict.fromkeys(t.ignored)}
            title = run.save_as if len(confirmed) == 1 else f"{run.save_as}·{name}"[:64]
            save_layout(conn, run.actor, title, t.fingerprint, t.entity, columns)

