"""Sync packages (township ⇄ county): one .xlsx with a 说明 manifest and one sheet per entity.

The manifest lists each sheet's row count and the SHA-256 of its canonical
content (every cell as text, rows joined), so the importer refuses a package
that was edited, truncated or half-copied. The file is written to a temp file
beside the target, fsynced, read back and verified, then renamed: a pulled USB
stick never leaves a truncated file under the final name.

Verification proves that what is on the stick reads back as what was hashed.
Every byte is read back: each part of the zip is inflated and checked against
the CRC-32 taken as it was written, so the file holds exactly what the writer
produced. The 说明 sheet and every sheet holding a cell outside the "plain"
kinds (numbers, times, unusual dates, blank rows, very long text) are then also
parsed with the importer's own reader and their row counts and SHA-256
compared. Plain sheets (text, empty cells, dates from 1900-03-01) are not
parsed again: for those the writer and calamine agree cell for cell, which
tests/exchange/test_package_verify.py checks on arbitrary text and dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import hashlib
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

from sqlalchemy import insert

import townapp
from townapp.core import permissions
from townapp.core.actor import Actor
from townapp.core.atomic import atomic_output
from townapp.core.errors import DomainError, ValidationFailed
from townapp.core.progress import CancelFn, ProgressFn, Reporter
from townapp.db import Database
from townapp.db.audit import record_read
from townapp.db.checks import refuse_damaged_for_export
from townapp.db.migrate import current_revision
from townapp.exchange import protect
from townapp.exchange import spec as s
from townapp.exchange.fastwriter import CellWriter, SheetWriter
from townapp.exchange.models import ExportRecord
from townapp.exchange.normalize import as_text, norm_label
from townapp.exchange.reader import (
    DEFAULT_LIMITS,
    FileRejected,
    ImportLimits,
    SheetInfo,
    Workbook,
    file_sha256,
)
from townapp.exchange.writer import NARROW_CHAR, WIDE_CHAR, export_value, text_width

MARKER = "townapp 数据包"
MANIFEST_SHEET = "说明"
PERSONAL_INFO = "本文件含个人信息，请妥善保管：只用U盘在乡镇与县之间传递，不得转发、公开或上传到互联网。"
_TABLE_HEADER = ("工作表", "行数", "SHA-256")
_AS_IS = frozenset({str, int, float, bool, decimal.Decimal, dt.date, dt.datetime, type(None)})
_LABELS = {"name": "单位名称", "code": "区划代码", "mode": "数据库类型", "exported_at": "导出时间",
           "app_version": "程序版本", "schema_revision": "数据库结构版本", "village": "村区划代码"}


@dataclass
class Manifest:
    name: str = ""
    code: str = ""
    mode: str = ""
    exported_at: str = ""
    app_version: str = ""
    schema_revision: str = ""
    village: str = ""  # a village's package (from its own install), or the township's package for one village
    sheets: dict[str, tuple[int, str]] = field(default_factory=dict)  # title -> (rows, sha256)


def canonical_cell(value: Any) -> str:
    """One spelling per value, the same before writing and after reading back with calamine."""
    if value is None:
        return ""
    return as_text(value)


# Excel counts 1900-02-29 (its leap-year bug): only dates from March 1900 on are read back as written
_FIRST_PLAIN_DATE = dt.date(1900, 3, 1)
# xlsxwriter cuts a cell at 32,767 UTF-16 units; a row no longer than this can hold no such cell
_PLAIN_ROW_CHARS = 16_383


class SheetHasher:
    """A sheet's row count and SHA-256, fed row by row (the package is streamed, never held whole).

    What is hashed is each row's canonical cells joined by U+001F, each row
    ended by U+001E. Text cells (nearly all) are taken as they are without a
    call per cell, and rows are handed to SHA-256 a few hundred at a time:
    the same bytes in the same order, so the same digest.

    ``plain`` stays true while every cell is text, empty or a date from
    1900-03-01 and no row is blank or very long: a sheet written from such
    rows reads back exactly as hashed (see the module docstring).
    """

    _BATCH = 512

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._count = -1  # the header row is hashed but not counted
        self._pending: list[str] = []
        self._pending_cells: list[list[str]] = []
        self.longest: list[int] = []  # per column, the most characters a cell's text has (header included)
        self.plain = True

    def add(self, row: Sequence[Any]) -> None:
        cells = [v if v.__class__ is str else "" if v is None else self._text_of(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            self.plain = False
            return
        text = "\x1f".join(cells)
        if len(text) > _PLAIN_ROW_CHARS:
            self.plain = False
        self._pending.append(text)
        self._pending_cells.append(cells)
        self._count += 1
        if len(self._pending) >= self._BATCH:
            self._flush()

    def _text_of(self, value: Any) -> str:
        """canonical_cell of a cell that is neither text nor empty."""
        if value.__class__ is dt.date and value >= _FIRST_PLAIN_DATE:
            return value.isoformat()
        self.plain = False
        return canonical_cell(value)

    def _flush(self) -> None:
        if self._pending:
            self._pending.append("")  # the last row's U+001E
            self._digest.update("\x1e".join(self._pending).encode("utf-8"))
            self._pending.clear()
            # the columns' longest texts, column by column over the batch (in C: map, zip_longest, max)
            longest = self.longest
            for col, texts in enumerate(zip_longest(*self._pending_cells, fillvalue="")):
                most = max(map(len, texts))
                if col >= len(longest):
                    longest.append(most)
                elif most > longest[col]:
                    longest[col] = most
            self._pending_cells.clear()

    def result(self) -> tuple[int, str]:
        self._flush()
        return max(self._count, 0), self._digest.hexdigest()


def sheet_digest(rows: Iterable[Sequence[Any]]) -> tuple[int, str]:
    """(data rows, SHA-256) of a sheet's content: header first, empty rows and trailing blanks ignored."""
    hasher = SheetHasher()
    for row in rows:
        hasher.add(row)
    return hasher.result()


def is_manifest(book: Workbook, sheet: SheetInfo) -> bool:
    if norm_label(sheet.name) != norm_label(MANIFEST_SHEET):
        return False
    for row in book.rows(sheet):
        return bool(row) and canonical_cell(row[0]).strip() == MARKER
    return False


def read_manifest(book: Workbook) -> Manifest | None:
    """The package's manifest, or None when the workbook is not a townapp package."""
    sheet = next((info for info in book.sheets if is_manifest(book, info)), None)
    if sheet is None:
        return None
    manifest = Manifest()
    by_label = {label: key for key, label in _LABELS.items()}
    in_table = False
    for row in book.rows(sheet):
        cells = [canonical_cell(v).strip() for v in row] + ["", "", ""]
        if tuple(cells[:3]) == _TABLE_HEADER:
            in_table = True
            continue
        if in_table:
            if not cells[0]:
                continue
            try:
                manifest.sheets[cells[0]] = (int(cells[1]), cells[2].lower())
            except ValueError:
                raise FileRejected("package_tampered", "数据包的“说明”页被改动过（行数不是数字），无法核对，已拒绝") from None
        elif cells[0] in by_label:
            setattr(manifest, by_label[cells[0]], cells[1])
    if not manifest.sheets:
        raise FileRejected("package_tampered", "数据包的“说明”页缺少工作表清单，无法核对，已拒绝")
    return manifest


def verify_package(book: Workbook, manifest: Manifest, *, keep_rows: bool = True) -> dict[str, list[list[Any]]]:
    """Check every listed sheet against the manifest; returns the sheets' rows (read once).

    ``keep_rows=False`` (checking a package just written) hashes the rows as they
    stream by and keeps none, so a county package never sits in memory whole.
    """
    by_name = {info.name: info for info in book.sheets}
    contents: dict[str, list[list[Any]]] = {}
    for title, (rows_expected, sha_expected) in manifest.sheets.items():
        info = by_name.get(title)
        if info is None:
            raise FileRejected("package_tampered", f"数据包缺少工作表“{title}”：文件不完整或被改动过，已拒绝。请让对方重新导出")
        rows = list(book.rows(info)) if keep_rows else []
        count, sha = sheet_digest(rows if keep_rows else book.rows(info))
        if count != rows_expected:
            raise FileRejected("package_tampered",
                               f"数据包的工作表“{title}”应有 {rows_expected} 行，实际 {count} 行：文件不完整或被改动过，"
                               "已拒绝。请让对方重新导出，不要在Excel中修改数据包")
        if sha != sha_expected:
            raise FileRejected("package_tampered",
                               f"数据包的工作表“{title}”内容与校验值不符：文件被改动过，已拒绝。"
                               "请让对方重新导出，不要在Excel中修改数据包")
        if keep_rows:
            contents[title] = rows
    return contents


@dataclass
class PackageResult:
    path: Path
    rows: dict[str, int]
    sha256: dict[str, str]
    file_sha256: str
    encrypted: bool = False
    personal: bool = True  # it holds full ID numbers (a county's return or a township's rules for a village: not)

    def done_message(self) -> str:
        """What the user is told once the file is written and read back: where it is, and that the drive
        may be removed."""
        clear = "未加密，含完整身份证号，请妥善保管" if self.personal else "未加密（不含身份证号）"
        protected = "已用密码加密（Excel、WPS输入密码即可打开）" if self.encrypted else clear
        return (f"数据包已写入并核对无误：{self.path}\n{protected}。\n"
                "如果保存在U盘上，现在可以安全地拔出U盘（建议先在系统中点“弹出”）。")


def package_file_name(unit: str, on: dt.date | None = None) -> str:
    """临晋镇_2026年第4季度_同步数据包_20261206.xlsx: the unit, the quarter and the day, so that next quarter's
    package does not overwrite this one on the stick."""
    on = on or dt.date.today()
    return f"{unit or '本单位'}_{on.year}年第{(on.month - 1) // 3 + 1}季度_同步数据包_{on:%Y%m%d}.xlsx"


def write_package(db: Database, specs: Sequence[s.SheetSpec], out: Path | str, *, actor: Actor,
                  progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                  limits: ImportLimits = DEFAULT_LIMITS, password: str | None = None,
                  unit: tuple[str, str] | None = None, village: str | None = None) -> PackageResult:
    """Export everything as a sync package with full ID numbers (logged as a read with its reason).

    Only township roles may: the package holds every village's people with full ID numbers.
    ``password``: encrypt it (standard Office encryption); the clear workbook is then made and checked
    in the laptop's temporary folder, and only the encrypted file is written to ``out``.
    ``unit``: (name, code) of the township a county's return package goes to: named in its 说明, and
    each sheet's rows are that township's.
    ``village``: the 区划代码 of the village the township's package goes to (rules, schemes and that
    village's results only). A village install's own package names its village by itself, and the
    village's 村录入员 may write it (it holds only their village).
    """
    own_village = db.meta("village_code")
    if own_village is None or permissions.visible_village(actor) is None:
        permissions.require_township_export(actor, "同步数据包")
    if password is not None and (problems := protect.password_problems(password)):
        raise ValidationFailed(problems)
    refuse_damaged_for_export(db, "同步数据包")  # every row or none: a broken reference would drop rows silently
    reporter = Reporter(progress, cancel)
    out = Path(out)
    mode = db.meta("mode")
    if mode is None:
        raise DomainError("数据库尚未初始化（乡镇或县），不能导出数据包")
    name, code = unit or (db.meta("root_name") or "", db.meta("root_code") or "")
    manifest = Manifest(name=name, code=code, mode=mode, village=village or own_village or "",
                        exported_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
                        app_version=townapp.__version__, schema_revision=current_revision(db.engine) or "")
    plain: set[str] = set()

    def verify(tmp: Path) -> None:
        _read_back_bytes(tmp)
        # the import limits guard against untrusted files; this one we just wrote (a county's is ~200 MB)
        size = tmp.stat().st_size
        own = dataclasses.replace(limits, max_file_bytes=max(limits.max_file_bytes, size),
                                  max_uncompressed_bytes=max(limits.max_uncompressed_bytes, 100 * size))
        with Workbook(tmp, own) as book:
            found = read_manifest(book)
            if found is None or found.sheets != manifest.sheets:
                raise DomainError("数据包写入后核对失败（清单不一致），未生成文件。请检查U盘或磁盘空间后重试")
            present = {info.name for info in book.sheets}
            if any(title not in present for title in found.sheets):
                raise DomainError("数据包写入后核对失败（缺少工作表），未生成文件。请检查U盘或磁盘空间后重试")
            parsed = Manifest(sheets={k: v for k, v in found.sheets.items() if k not in plain})
            try:
                verify_package(book, parsed, keep_rows=False)
            except FileRejected as exc:
                raise DomainError(f"数据包写入后核对失败，未生成文件：{exc.message}") from None

    if password is None:
        with atomic_output(out, verify=verify) as tmp:
            plain.update(_stream_package(db, specs, manifest, tmp, reporter))
    else:
        with protect.private_copy() as clear:
            plain.update(_stream_package(db, specs, manifest, clear, reporter))
            verify(clear)
            reporter.step(0, 0, "正在加密数据包")
            with atomic_output(out) as tmp:
                protect.encrypt_file(clear, tmp, password)
    result = PackageResult(out, {k: v[0] for k, v in manifest.sheets.items()},
                           {k: v[1] for k, v in manifest.sheets.items()}, file_sha256(out), password is not None,
                           any(c.kind == s.ID_NUMBER for spec in specs for c in spec.exported_columns))
    reason = "导出同步数据包（含完整身份证号，供县乡核对人员）"
    with db.unit_of_work(actor, reason=reason) as session:
        record_read(session, "package", None, reason, f"数据包 {out.name}")
        session.execute(insert(ExportRecord), [dict(username=actor.username, kind="package", file_name=out.name,
                                                    file_sha256=result.file_sha256, rows=sum(result.rows.values()),
                                                    full_ids=True, reason=reason)])
    return result


def _read_back_bytes(path: Path) -> None:
    """Read every part of the written zip back in full; zipfile checks each against the CRC-32 taken when written."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as part:
                    while part.read(1 << 20):
                        continue
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise DomainError("数据包写入后核对失败（读回的文件已损坏），未生成文件。请检查U盘或磁盘空间后重试") from None


def _stream_package(db: Database, specs: Sequence[s.SheetSpec], manifest: Manifest, target: Path,
                    reporter: Reporter) -> set[str]:
    """Write the workbook row by row with xlsxwriter (constant memory), hashing as it goes.

    The 说明 sheet comes first in the file but is filled last, once every sheet's
    digest is known; constant-memory mode allows that across worksheets.
    Returns the titles of the plain sheets (see ``SheetHasher.plain``).
    """
    plain: set[str] = set()
    workbook = CellWriter.open(target)
    manifest_sheet = workbook.add_sheet(MANIFEST_SHEET, (18, 40, 70), ())
    # a county's own package holds every township; its return package for one township (named in the
    # manifest instead of the county) only that township's rows
    own = manifest.mode == "county" and manifest.code == (db.meta("root_code") or "")
    township_code = None if own else manifest.code
    with db.engine.connect() as conn, db.shared_reads():  # sheets share their larger reads
        for number, spec in enumerate(specs):
            reporter.step(number, len(specs), f"正在导出{spec.title}")
            columns = spec.exported_columns
            text_columns = tuple(c.text_format for c in columns)
            widths = tuple(c.width for c in columns)
            header = [c.header for c in columns]
            part, title = 0, spec.title
            sheet = workbook.add_sheet(title, widths, text_columns, freeze=True, measured=False)
            hasher = SheetHasher()
            hasher.add(header)
            sheet.append(header, header=True)
            in_sheet, room = 1, s.MAX_SHEET_ROWS
            keys = [c.key for c in columns]
            for index, record in enumerate(spec.adapter.export_rows(conn, township_code), start=1):
                if in_sheet == room:  # a worksheet is full: the sheet goes on in 标题（续1）… after the header again
                    manifest.sheets[title] = hasher.result()
                    _widen(sheet, hasher, columns, header)
                    if hasher.plain:
                        plain.add(title)
                    part += 1
                    title = s.part_title(spec.title, part)
                    sheet = workbook.add_sheet(title, widths, text_columns, freeze=True, measured=False)
                    hasher = SheetHasher()
                    hasher.add(header)
                    sheet.append(header, header=True)
                    in_sheet = 1
                # export_value changes only lists and month dates (and masked IDs, never in a package): a row of
                # plain values (nearly every one; checked in C) passes as the record holds it
                row = list(map(record.get, keys))
                if not _AS_IS.issuperset(map(type, row)):
                    row = [v if v.__class__ in _AS_IS else export_value(c, v, True)
                           for c, v in zip(columns, row, strict=True)]
                hasher.add(row)
                sheet.append(row)
                in_sheet += 1
                if index % 20_000 == 0:
                    reporter.step(number, len(specs), f"正在导出{spec.title}（{index} 行）")
            manifest.sheets[title] = hasher.result()
            _widen(sheet, hasher, columns, header)
            if hasher.plain:
                plain.add(title)
    _write_manifest(manifest_sheet, manifest)
    workbook.close()  # on a full disk atomic_output closes the ZipFile xlsxwriter leaves open
    return plain


# kinds whose cells are digits, letters and signs: a character is narrow (other text may be Chinese: wide)
_NARROW_KINDS = frozenset({s.CODE, s.ID_NUMBER, s.PHONE, s.DATE, s.INT})


def _widen(sheet: SheetWriter, hasher: SheetHasher, columns: Sequence[s.ColumnSpec], header: Sequence[str]) -> None:
    """Each column as wide as its longest text shows (counted by the hasher a batch of rows at a time):
    narrow characters in columns of codes, numbers and dates, wide ones elsewhere, and its header."""
    for col, column in enumerate(columns):
        most = hasher.longest[col] if col < len(hasher.longest) else 0
        per = NARROW_CHAR if column.kind in _NARROW_KINDS else WIDE_CHAR
        sheet.widen(col, max(most * per, text_width(header[col])))


def _write_manifest(sheet: SheetWriter, manifest: Manifest) -> None:
    sheet.append([MARKER])
    for key, label in _LABELS.items():
        value = getattr(manifest, key)
        if key == "village" and not value:
            continue  # a township's or county's package: no such line (packages of earlier versions read alike)
        if key == "mode":
            value = {"township": "乡镇", "county": "县"}.get(value, value)
        sheet.append([label, value], text_columns=(False, True))
    sheet.append(["个人信息", PERSONAL_INFO])
    sheet.append(["用法", "在 townapp 中“导入”此文件即可；请勿在Excel中修改，改动后的数据包会被拒绝。"])
    sheet.append([])
    sheet.append(list(_TABLE_HEADER))
    for title, (rows, sha) in manifest.sheets.items():
        sheet.append([title, str(rows), sha], text_columns=(False, True, True))


