"""Open the user's file safely and hand out its sheets' rows lazily.

Limits are checked before anything is parsed: file size, and for zip-based
formats (.xlsx/.xlsm/.ods) the declared uncompressed size and compression
ratio, so a zip bomb is refused without being inflated. The format is
recognised from the content, not the file name; encrypted, corrupt,
truncated and wrong-type files raise FileRejected with a Chinese message.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree
from zlib import error as zlib_error

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
    # calamine holds a sheet as one width × height grid (about 33 bytes a cell) from A1 to its farthest
    # cell: one value at XFD1048576 asks for 512 GiB. 30 million cells (~1 GB) fit a county's roster.
    max_columns: int = 200
    max_cells: int = 30_000_000


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
        raise FileRejected("not_spreadsheet", f"{path.name} 是文件夹，不是表格文件：请选择文件夹里的Excel表格导入")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise FileRejected("too_large", f"文件有 {_mb(size)}，超过了 {_mb(limits.max_file_bytes)} 的上限；请按村拆分后分别导入")
    if size == 0:
        raise FileRejected("not_spreadsheet", f"{path.name} 是空文件（0字节），请重新拷贝")
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(OLE_MAGIC):
        return _check_ole(path)
    if head.startswith(b"PK"):
        return _check_zip(path, limits)
    raise FileRejected("not_spreadsheet", f"{path.name} {_what_it_is(head)}")


_SNIFF_BYTES = 64 * 1024
_SAVE_AS = "请用Excel/WPS打开后“另存为”Excel 工作簿(.xlsx)，再导入"
_TEXT_TABLE = ("，不是Excel工作簿。请在Excel/WPS中用“数据 → 自文本/CSV”打开，把身份证号、电话等列设为“文本”"
               "（直接双击打开会把身份证号变成数字、丢掉后几位），再“另存为”Excel 工作簿(.xlsx) 后导入")


def _what_it_is(head: bytes) -> str:
    """What a file that is no workbook really is, from its first bytes, and how to save it properly.

    Other systems save HTML tables, MHTML, XML 2003 and text tables under .xls; telling the user what
    they hold is more help than "not a spreadsheet". They are not read here: a text table's encoding
    can only be guessed (a wrong guess garbles names without an error), and Excel/WPS convert them exactly.
    """
    if head.startswith(b"%PDF"):
        return f"是PDF文件，不是表格。请找到原来的Excel表格导入；{_SAVE_AS}"
    text, encoding = _decode_head(head)
    if text is None:
        return f"不是Excel或WPS表格文件。{_SAVE_AS}"
    lowered = text[:4096].lstrip().lower()
    if lowered.startswith("mime-version") or "multipart/related" in lowered[:1000]:
        return f"是“单个文件网页”（MHTML，.mht），只是文件名为表格。{_SAVE_AS}"
    if "urn:schemas-microsoft-com:office:spreadsheet" in lowered or (
            lowered.startswith("<?xml") and "<workbook" in lowered):
        return f"是“XML 电子表格 2003”文件，只是文件名为表格。{_SAVE_AS}"
    if lowered.startswith(("<!doctype html", "<html", "<table", "<meta", "<head", "<body")) or "<html" in lowered[:1000]:
        return f"是网页文件（HTML），只是文件名为表格（很多系统这样“导出Excel”）。{_SAVE_AS}"
    if lowered.startswith("{\\rtf"):
        return f"是RTF文档，不是表格。{_SAVE_AS}"
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if lines:
        for separator, kind in (("\t", "制表符分隔的文本文件（TSV"), (",", "逗号分隔的文本文件（CSV"),
                                ("，", "逗号分隔的文本文件（CSV")):
            if sum(separator in line for line in lines) >= max(1, len(lines) // 2):
                return f"是{kind}，{encoding} 编码）{_TEXT_TABLE}"
        return f"是纯文本文件（{encoding} 编码），不是表格。{_SAVE_AS}"
    return f"不是Excel或WPS表格文件。{_SAVE_AS}"


def _decode_head(head: bytes) -> tuple[str | None, str]:
    """The head as text and its encoding's name, or None for binary content."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[: len(head) // 2 * 2].decode("utf-16", "replace"), "UTF-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace"), "UTF-8"
    if b"\x00" in head[:4096]:
        if head[1:4096:2].count(0) > len(head[:4096]) // 4:  # UTF-16 without a byte-order mark
            return head[: len(head) // 2 * 2].decode("utf-16-le", "replace"), "UTF-16"
        return None, ""
    for encoding, name in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return head.decode(encoding), name
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # only the last character was cut by the 64 KB read
                return head[:exc.start].decode(encoding, "replace"), name
    return None, ""


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


EXCEL_ERRORS = frozenset({"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NULL!", "#NUM!", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!"})


class CellFault:
    """A cell whose value cannot be trusted, put in the row in its place (calamine reads both as "").

    ``kind``: ``error`` (an Excel error value such as #N/A), ``formula`` (a formula saved without
    a calculated value) or ``formula_zero`` (a formula whose saved value is 0 — what XlsxWriter and
    manual calculation leave behind). The normaliser turns it into an error at its cell.
    """

    __slots__ = ("kind", "text", "ref")

    def __init__(self, kind: str, text: str, ref: str) -> None:
        self.kind = kind
        self.text = text  # the error value, or the formula
        self.ref = ref  # the cell's address, e.g. C7

    def __str__(self) -> str:
        return self.text if self.kind == "error" else f"={self.text}"

    def __repr__(self) -> str:
        return f"CellFault({self.kind!r}, {self.text!r}, {self.ref!r})"


@dataclass
class _SheetScan:
    """What the sheet XML says before calamine builds its grid: the farthest cell and the faults."""

    rows: int = 0  # the farthest row (1-based)
    columns: int = 0  # the farthest column (1-based)
    faults: dict[int, dict[int, CellFault]] | None = None  # 0-based row → 0-based column → fault
    fault_count: int = 0


def column_letters(index: int) -> str:
    """1 → A, 28 → AB."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    number = 0
    for code in letters:
        number = number * 26 + code - 64
    return number


_SCAN_BLOCK = 4 << 20
MAX_FAULTS = 200_000
_ROW_END = re.compile(rb"</(?:\w+:)?row>")
# a cell beyond column Z: rare in ledgers; a literal prefix, so the search runs in C at memory speed
_WIDE_CELL = re.compile(rb' r="([A-Z]{2,3})\d')
# an error value's type, a formula element (also with a namespace prefix): found with bytes.find
_FAULT_MARKS = (b't="e"', b"<f")
_PREFIXED_FORMULA_MARKS = (b":f>", b":f ")
_VALUE_END = re.compile(rb"</(?:\w+:)?(?:v|is)>")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ATTR_R = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_ATTR_T = re.compile(rb'\bt="(\w+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)
_VALUE = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)
_HAS_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]|<(?:\w+:)?is>")


def _cell_at(data: bytes, pos: int) -> re.Match[bytes] | None:
    """The <c> element holding ``pos`` (its tag may carry a namespace prefix)."""
    window = max(0, pos - 2048)  # the marks are in a cell's tag or its first element
    start = max(data.rfind(b"<c ", window, pos), data.rfind(b"<c>", window, pos))
    prefixed = data.rfind(b":c ", window, pos)
    if prefixed > start:
        start = data.rfind(b"<", 0, prefixed)
    return _CELL.match(data, start) if start >= 0 else None


def _cell_fault(cell: re.Match[bytes]) -> tuple[int, int, CellFault] | None:
    attrs, body = cell.group(1), cell.group(2) or b""
    ref = _ATTR_R.search(attrs)
    if ref is None:
        return None
    typ = _ATTR_T.search(attrs)
    kind = typ.group(1) if typ else b"n"
    value = _VALUE.search(body)
    cached = value.group(1) if value else None
    address = (ref.group(1) + ref.group(2)).decode()
    if kind == b"e":
        fault = CellFault("error", _unescape(cached or b"#N/A"), address)
    else:
        formula = _FORMULA.search(body)
        if formula is None:
            return None
        text = _unescape(formula.group(1) or b"").strip() or "（共享公式）"
        if cached is None or (not cached and kind != b"str"):
            fault = CellFault("formula", text, address)
        elif cached == b"0" and kind == b"n":
            fault = CellFault("formula_zero", text, address)
        else:
            return None  # a formula with its calculated value: calamine reads that value
    return int(ref.group(2)) - 1, _column_number(ref.group(1)) - 1, fault


def _unescape(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace(
        "&amp;", "&")


def _last_match(pattern: re.Pattern[bytes], data: bytes, near: int) -> re.Match[bytes] | None:
    """The last match of ``pattern``, whose end is found near ``near`` (searched backwards in C)."""
    if near < 0:
        return None
    found = None
    for found in pattern.finditer(data, max(0, near - 40)):  # noqa: B007 - only the last one is wanted
        pass
    return found


def _scan_block(data: bytes, scan: _SheetScan, faults: dict[int, dict[int, CellFault]]) -> None:
    last = _last_match(_VALUE_END, data, max(data.rfind(b"v>"), data.rfind(b"is>")))
    if last is not None:
        cell = _cell_at(data, last.start())
        ref = _ATTR_R.search(cell.group(1)) if cell else None
        if ref is not None:
            scan.rows = max(scan.rows, int(ref.group(2)))
    for wide in _WIDE_CELL.finditer(data):
        number = _column_number(wide.group(1))
        if number > scan.columns:
            cell = _cell_at(data, wide.start() + 1)
            if cell is not None and _HAS_VALUE.search(cell.group(2) or b""):
                scan.columns = number
    marks: list[int] = []
    for mark in _FAULT_MARKS + (_PREFIXED_FORMULA_MARKS if b":f" in data else ()):
        pos = data.find(mark)
        while pos >= 0:
            marks.append(pos)
            pos = data.find(mark, pos + 1)
    done = -1
    for pos in sorted(marks):
        if pos < done:
            continue  # inside a cell already looked at
        cell = _cell_at(data, pos)
        if cell is None:
            continue
        done = cell.end()
        found = _cell_fault(cell)
        if found is not None:
            row, col, fault = found
            faults.setdefault(row, {})[col] = fault
            scan.fault_count += 1
            if scan.fault_count > MAX_FAULTS:
                return


def scan_xlsx_sheet(archive: zipfile.ZipFile, member: str) -> _SheetScan:
    """One streaming pass over a sheet's XML in blocks (the searches run in C; Python looks only at
    the rare wide cell, error value or formula): no grid is built, so a far cell costs nothing."""
    scan = _SheetScan()
    faults: dict[int, dict[int, CellFault]] = {}
    carry = b""
    with archive.open(member) as raw:
        while True:
            block = raw.read(_SCAN_BLOCK)
            data = carry + block
            if block:  # the last row may be cut in two: it goes with the next block
                cut = _last_match(_ROW_END, data, data.rfind(b"row>"))
                if cut is None:
                    carry = data
                    continue
                data, carry = data[:cut.end()], data[cut.end():]
            _scan_block(data, scan, faults)
            if not block or scan.fault_count > MAX_FAULTS:
                break
    if faults:
        scan.faults = faults
    return scan


# ----- .xls (BIFF8): calamine reads a formula's error result, or a formula without a value, as "" --------
_BIFF_BOF, _BIFF_EOF, _BIFF_BOUNDSHEET = 0x0809, 0x000A, 0x0085
_BIFF_FORMULA, _BIFF_STRING, _BIFF_BOOLERR = 0x0006, 0x0207, 0x0205
_BIFF_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!",
                0x2A: "#N/A", 0x2B: "#GETTING_DATA"}
_XLS_FORMULA = ""  # BIFF keeps a formula as tokens: the message then says "是公式" without its text
_U16X2 = struct.Struct("<HH")
_DOUBLE = struct.Struct("<d")


def _read_workbook_stream(path: Path) -> bytes | None:
    """The BIFF "Workbook" stream of an .xls, or None when it cannot be read (calamine then reports it)."""
    import olefile  # here: only .xls imports need it

    try:
        with olefile.OleFileIO(str(path)) as ole:
            for name in ("Workbook", "Book"):
                if ole.exists(name):
                    return ole.openstream(name).read()
    except (OSError, ValueError, IndexError, struct.error):
        return None
    return None


def _biff_sheet_offsets(data: bytes) -> list[int]:
    """Each sheet's BOF offset in the stream, in BOUNDSHEET order — the order calamine numbers sheets."""
    offsets: list[int] = []
    pos, end = 0, len(data)
    while pos + 4 <= end:
        typ, length = _U16X2.unpack_from(data, pos)
        if typ == _BIFF_BOUNDSHEET and length >= 4:
            offsets.append(int.from_bytes(data[pos + 4:pos + 8], "little"))
        elif typ == _BIFF_EOF:  # end of the workbook globals
            break
        pos += 4 + length
    return offsets


def scan_xls_sheet(data: bytes, offset: int) -> _SheetScan:
    """One pass over one sheet's BIFF8 records: formulas whose saved result is an error, empty or 0,
    and error cells (BOOLERR), as CellFaults like ``scan_xlsx_sheet`` finds them in .xlsx."""
    scan = _SheetScan()
    faults: dict[int, dict[int, CellFault]] = {}
    pending: tuple[int, int] | None = None  # a formula whose string result follows in a STRING record
    pos, end, depth = offset, len(data), 0
    while pos + 4 <= end:
        typ, length = _U16X2.unpack_from(data, pos)
        body = pos + 4
        pos = body + length
        if typ == _BIFF_BOF:
            depth += 1
            continue
        if typ == _BIFF_EOF:
            depth -= 1
            if depth <= 0:
                break
            continue
        if depth != 1:
            continue  # an embedded chart's records
        fault: CellFault | None = None
        if typ == _BIFF_FORMULA and length >= 14:
            row, col = _U16X2.unpack_from(data, body)
            result = data[body + 6:body + 14]
            pending = None
            if result[6:8] == b"\xff\xff":
                kind = result[0]
                if kind == 0:
                    pending = (row, col)  # the value is in the next STRING record
                elif kind == 2:
                    fault = CellFault("error", _BIFF_ERRORS.get(result[2], "#N/A"), "")
                elif kind == 3:
                    fault = CellFault("formula", _XLS_FORMULA, "")
            elif _DOUBLE.unpack(result)[0] == 0:
                fault = CellFault("formula_zero", _XLS_FORMULA, "")
        elif typ == _BIFF_STRING and pending is not None:
            row, col = pending
            pending = None
            if length < 2 or data[body] == 0 == data[body + 1]:  # no characters: nothing was saved
                fault = CellFault("formula", _XLS_FORMULA, "")
        elif typ == _BIFF_BOOLERR and length >= 8 and data[body + 7] == 1:
            row, col = _U16X2.unpack_from(data, body)
            fault = CellFault("error", _BIFF_ERRORS.get(data[body + 6], "#N/A"), "")
        if fault is not None:
            fault.ref = f"{column_letters(col + 1)}{row + 1}"
            faults.setdefault(row, {})[col] = fault
            scan.fault_count += 1
            if scan.fault_count > MAX_FAULTS:
                break
    if faults:
        scan.faults = faults
    return scan


class Workbook:
    """A spreadsheet opened with python-calamine; rows are produced lazily per sheet."""

    def __init__(self, path: Path, limits: ImportLimits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self.format = detect_format(path, limits)
        self._handle: BinaryIO | None = None
        self._scans: dict[int, _SheetScan] = {}
        self._members: dict[int, str] | None = None
        self._biff: tuple[bytes, list[int]] | None = None
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

    def scan(self, sheet: SheetInfo) -> _SheetScan | None:
        """The sheet's extent and faulty cells from its XML (.xlsx/.xlsm; None for other formats),
        read once; raises FileRejected for a sheet too large to hold."""
        if self.format == "xls":
            return self._scan_xls(sheet)
        if self.format != "xlsx":
            return None
        if sheet.index not in self._scans:
            member = self._sheet_members().get(sheet.index)
            if member is None:
                return None
            try:
                with zipfile.ZipFile(self.path) as archive:
                    scan = scan_xlsx_sheet(archive, member)
            except (OSError, zipfile.BadZipFile, zlib_error) as exc:
                raise _broken(self.path, exc) from None
            self._check_extent(sheet, scan)
            self._scans[sheet.index] = scan
        return self._scans[sheet.index]

    def _scan_xls(self, sheet: SheetInfo) -> _SheetScan | None:
        """The faulty cells of an .xls sheet, from its BIFF8 records (only sheets that are read)."""
        if sheet.index not in self._scans:
            if self._biff is None:
                data = _read_workbook_stream(self.path) or b""
                self._biff = data, _biff_sheet_offsets(data)
            data, offsets = self._biff
            if sheet.index >= len(offsets) or offsets[sheet.index] >= len(data):
                return None
            scan = scan_xls_sheet(data, offsets[sheet.index])
            self._check_extent(sheet, scan)
            self._scans[sheet.index] = scan
        return self._scans[sheet.index]

    def _check_extent(self, sheet: SheetInfo, scan: _SheetScan) -> None:
        limits = self.limits
        width = max(scan.columns, 26)
        far = f"{column_letters(max(scan.columns, 1))}{max(scan.rows, 1)}"
        if scan.columns > limits.max_columns or width * scan.rows > limits.max_cells:
            raise FileRejected("too_large", f"表格“{sheet.name}”的范围达到 {far}（{scan.rows} 行、{width} 列以上），"
                                            "远大于实际数据，读取它要占用极多内存，已拒绝。请在Excel/WPS中删除多余的行列"
                                            "（选中空白的行或列 → 右键 → 删除）后另存，再导入")
        if scan.fault_count > MAX_FAULTS:
            raise FileRejected("formula", f"表格“{sheet.name}”中有超过 {MAX_FAULTS} 个公式没有计算结果或是错误值。"
                                          "请在Excel/WPS中打开，按 F9 重新计算后保存（或复制后“选择性粘贴 → 数值”），再导入")

    def _sheet_members(self) -> dict[int, str]:
        """Worksheet index (as calamine counts them) → its part in the zip, from workbook.xml and its rels."""
        if self._members is None:
            self._members = {}
            try:
                with zipfile.ZipFile(self.path) as archive:
                    names = set(archive.namelist())
                    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
                    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError, zlib_error):
                return self._members
            targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
            for index, element in enumerate(e for e in book.iter() if e.tag.rsplit("}", 1)[-1] == "sheet"):
                rid = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
                target = targets.get(rid, "")
                member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
                if member in names:
                    self._members[index] = member
        return self._members

    def rows(self, sheet: SheetInfo) -> Iterator[list[Any]]:
        """The sheet's rows from row 1, stopping after ``empty_run`` empty rows in a row.

        An error value or a formula without a trustworthy value (see CellFault) is put in its cell's
        place, where calamine would give "" and the import would take it for an empty cell.
        """
        scan = self.scan(sheet)  # before calamine builds its grid: a far cell would need gigabytes
        faults = scan.faults if scan is not None else None
        if faults:
            return self._with_faults(self._calamine_rows(sheet), faults)
        return self._calamine_rows(sheet)

    def _with_faults(self, rows: Iterator[list[Any]], faults: dict[int, dict[int, CellFault]]) -> Iterator[list[Any]]:
        number = -1
        for number, row in enumerate(rows):
            patch = faults.get(number)
            if patch is not None:
                row = list(row)
                for col, fault in patch.items():
                    if col >= len(row):
                        row.extend([""] * (col + 1 - len(row)))
                    row[col] = fault
            yield row
        # faults below calamine's last row (a formula without a value is no value to calamine)
        for later in sorted(r for r in faults if r > number):
            while number < later - 1:
                number += 1
                yield []
            patch = faults[later]
            row = [""] * (max(patch) + 1)
            for col, fault in patch.items():
                row[col] = fault
            number = later
            yield row

    def _calamine_rows(self, sheet: SheetInfo) -> Iterator[list[Any]]:
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
