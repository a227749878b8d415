"""Open the user's file safely and hand out its sheets' rows lazily.

Limits are checked before anything is parsed: file size, and for zip-based
formats (.xlsx/.xlsm/.ods) the declared uncompressed size and compression
ratio, so a zip bomb is refused without being inflated. The format is
recognised from the content, not the file name; encrypted, corrupt,
truncated and wrong-type files raise FileRejected with a Chinese message.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import python_calamine as pc

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))


@dataclass(frozen=True)
class ImportLimits:
    """Generous for real ledgers (100,000 people is about 5 MB), tight for bombs."""

    max_file_bytes: int = 100 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024  # members smaller than this are not ratio-checked
    max_members: int = 10_000
    empty_run: int = 1000  # stop reading a sheet after this many empty rows in a row


DEFAULT_LIMITS = ImportLimits()


class FileRejected(Exception):
    """The file as a whole cannot be read; ``code`` is the report code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def detect_format(path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> str:
    """``xlsx`` | ``xls`` | ``ods`` from the content; raises FileRejected otherwise."""
    if not path.exists():
        raise FileRejected("not_found", f"找不到文件：{path}")
    if path.is_dir():
        raise FileRejected("not_spreadsheet", f"{path.name} 是文件夹，不是表格文件")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise FileRejected("too_large", f"文件有 {_mb(size)}，超过了 {_mb(limits.max_file_bytes)} 的上限；请按村拆分后分别导入")
    if size == 0:
        raise FileRejected("not_spreadsheet", f"{path.name} 是空文件（0字节），请重新拷贝")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(OLE_MAGIC):
        return _check_ole(path)
    if head.startswith(b"PK"):
        return _check_zip(path, limits)
    hint = "（这是PDF文件）" if head.startswith(b"%PDF") else ""
    raise FileRejected("not_spreadsheet",
                       f"{path.name} 不是Excel或WPS表格文件{hint}。请用Excel/WPS打开后另存为 .xlsx 再导入")


def _check_ole(path: Path) -> str:
    data = path.read_bytes()
    if any(marker in data for marker in _ENCRYPTED_STREAMS):
        raise FileRejected("encrypted", f"{path.name} 设置了打开密码，无法读取。请在Excel/WPS中取消密码后另存，再导入")
    return "xls"


def _check_zip(path: Path, limits: ImportLimits) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {info.filename for info in members}
            if len(members) > limits.max_members:
                raise FileRejected("too_large", f"{path.name} 内部包含 {len(members)} 个部件，不像正常表格，已拒绝")
            total = sum(info.file_size for info in members)
            if total > limits.max_uncompressed_bytes:
                raise FileRejected("too_large", f"{path.name} 解压后有 {_mb(total)}，超过 {_mb(limits.max_uncompressed_bytes)} 的上限，已拒绝")
            for info in members:
                if info.file_size >= limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                    raise FileRejected("too_large", f"{path.name} 的压缩比异常（{info.file_size // max(info.compress_size, 1)} 倍），"
                                                    "可能是恶意构造的文件，已拒绝")
            if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                if "xl/workbook.bin" in names:
                    raise FileRejected("not_spreadsheet", f"{path.name} 是 .xlsb 二进制工作簿，请另存为 .xlsx 后导入")
                return "xlsx"
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIME:
                return "ods"
            if "word/document.xml" in names:
                raise FileRejected("not_spreadsheet", f"{path.name} 是Word文档，不是表格")
    except zipfile.BadZipFile:
        raise FileRejected("corrupt", f"{path.name} 已损坏或不完整（可能拷贝时U盘被拔出）。请重新拷贝原文件") from None
    raise FileRejected("not_spreadsheet", f"{path.name} 不是Excel或WPS表格文件。请另存为 .xlsx 再导入")


# calamine opens a file by its name's extension; a name that claims another format than the content is
# opened from the bytes instead (unknown extensions, e.g. our own ".part" files, calamine tries in turn)
_SUFFIX_FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xlam": "xlsx", ".xls": "xls", ".xla": "xls", ".ods": "ods",
                   ".xlsb": "xlsb"}


@dataclass(frozen=True)
class SheetInfo:
    name: str
    visible: bool
    index: int


class Workbook:
    """A spreadsheet opened with python-calamine; rows are produced lazily per sheet."""

    def __init__(self, path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self.format = detect_format(path, limits)
        self._handle: BinaryIO | None = None
        try:
            if _SUFFIX_FORMATS.get(path.suffix.lower(), self.format) == self.format:
                # calamine reads the parts it is asked for from the file; a county package is ~200 MB
                self._book = pc.CalamineWorkbook.from_path(str(path))
            else:
                # named as another format (an .xlsx renamed .xls): calamine tells the format from the bytes,
                # which it takes whole (about twice the file's size in memory)
                self._handle = open(path, "rb")  # noqa: SIM115 - closed in close()
                self._book = pc.CalamineWorkbook.from_filelike(self._handle)
            self.sheets = [SheetInfo(meta.name, meta.visible == pc.SheetVisibleEnum.Visible, index)
                           for index, meta in enumerate(self._book.sheets_metadata)
                           if meta.typ == pc.SheetTypeEnum.WorkSheet]
        except pc.PasswordError:
            self.close()
            raise FileRejected("encrypted", f"{path.name} 设置了密码，无法读取。请取消密码后另存，再导入") from None
        except Exception as exc:  # calamine's errors for broken files are many and unhelpful
            self.close()
            raise _broken(path, exc) from None

    def rows(self, sheet: SheetInfo) -> Iterator[list[Any]]:
        """The sheet's rows from row 1, stopping after ``empty_run`` empty rows in a row."""
        try:
            calamine_sheet = self._book.get_sheet_by_index(sheet.index)
            start = calamine_sheet.start
            iterator = calamine_sheet.iter_rows()
        except Exception as exc:
            raise _broken(self.path, exc) from None
        # calamine yields rows from row 1 but columns from the first used one: pad them back
        first_col = start[1] if start else 0
        padding = [""] * first_col
        empty_run = self.limits.empty_run
        empty = 0
        seen_data = False
        while True:
            try:
                row = next(iterator)  # a new list per row
            except StopIteration:
                return
            except Exception as exc:
                raise _broken(self.path, exc) from None
            if row.count("") + row.count(None) == len(row):  # counted in C: this runs for every row
                empty += seen_data
                if empty >= empty_run:
                    return
                yield []
                continue
            empty = 0
            seen_data = True
            yield padding + row if first_col else row

    def close(self) -> None:
        try:
            book = getattr(self, "_book", None)
            if book is not None:
                book.close()
        except Exception:  # closing twice or a broken book: nothing to release
            pass
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _broken(path: Path, exc: Exception) -> FileRejected:
    text = str(exc).lower()
    if "password" in text or "encrypt" in text:
        return FileRejected("encrypted", f"{path.name} 设置了密码，无法读取。请取消密码后另存，再导入")
    return FileRejected("corrupt", f"{path.name} 已损坏或不完整，无法读取（{type(exc).__name__}）。"
                                   "请用Excel/WPS打开检查后另存为 .xlsx 再导入")
