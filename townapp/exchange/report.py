"""The import report: per-sheet counts and every error, as JSON (DESIGN §8) and as Chinese text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townapp.core.atomic import write_bytes_atomic

ACTIONS = ("created", "updated", "unchanged")
ACTION_LABELS = {"created": "新增", "updated": "更新", "unchanged": "不变", "errors": "错误"}

# What a report code means, as the import wizard shows it (the code itself stays in the JSON report of
# DESIGN §8 and in the cell's tooltip). Every code an import can report has its title here: a test reads the
# codes from the source (tests/exchange/test_error_titles.py). Add new codes here; never rename one.
ERROR_TITLES: dict[str, str] = {
    # the file as a whole
    "not_found": "找不到文件",
    "not_spreadsheet": "不是表格文件",
    "corrupt": "文件已损坏",
    "encrypted": "文件有密码",
    "wrong_password": "密码不对",
    "too_large": "文件过大",
    "no_data": "没有可导入的工作表",
    "wrong_place": "不在此处导入",
    "not_permitted": "无权导入",
    "not_package": "不是同步数据包",
    "package_tampered": "数据包被改动过",
    "wrong_township": "不是本乡镇的数据包",
    "village_package": "村级数据包应由乡镇导入",
    "wrong_village": "不是本村的数据包",
    # sheets and columns
    "uncertain_sheet": "工作表无法确定",
    "bad_mapping": "列对应有误",
    "missing_column": "缺少必需的列",
    "duplicate_column": "表头重复",
    # cells
    "required": "必填项为空",
    "too_long": "内容过长",
    "control_char": "含不可见字符",
    "error_value": "单元格是错误值",
    "formula": "公式没有计算结果",
    "bad_type": "单元格类型不对",
    "bad_code": "编码格式不对",
    "bad_date": "日期无法识别",
    "bad_enum": "不在可选范围内",
    "bad_number": "数字无法识别",
    "bad_phone": "手机号不对",
    "id_number_cell": "身份证号被存成了数字",
    "id_length": "身份证号位数不对",
    "id_format": "身份证号格式不对",
    "id_birth_date": "身份证号中的出生日期不对",
    "id_checksum": "身份证号校验位不对",
    "id_mismatch": "与身份证号不符",
    # rows against what is registered
    "duplicate_in_file": "文件内重复",
    "conflict": "与已有数据冲突",
    "name_mismatch": "姓名与登记的不一致",
    "village_mismatch": "村名与区划代码不一致",
    "household_head": "户主有误",
    "unknown_village": "村/社区未登记",
    "unknown_household": "住户未登记",
    "unknown_person": "人员未登记",
    "unknown_branch": "党组织未登记",
    "unknown_grid": "网格未登记",
    "unknown_member": "网格成员未登记",
    "unknown_meeting": "会议未登记",
    "unknown_rule": "积分规则不存在",
    "unknown_target": "评定对象不存在",
    "rule": "不符合规定",
    "invalid": "评定数据不符合方案",
    "stage": "评定环节不对",
    "locked": "已锁定，不能修改",
    "permission": "超出账号权限",
    "read_only": "只能在程序中修改",
    "refused": "不能导入",
    "warning": "提示",
}


def error_title(code: str) -> str:
    """A report code's Chinese title (an unknown code, from a newer program's report, as 其他错误)."""
    return ERROR_TITLES.get(code, "其他错误")


@dataclass
class Issue:
    """One error or warning where the user can find it: sheet, Excel row, header text as in their file."""

    sheet: str
    row: int
    column: str
    code: str
    message: str
    col_index: int | None = None  # 0-based column in the user's sheet, for the annotated copy

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "code": self.code,
                "message": self.message}

    def where(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.row:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"“{self.column}”列")
        return " ".join(parts)


@dataclass
class SheetCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors}


@dataclass
class SheetLayout:
    """Where the header sits in the user's sheet (for the annotated copy)."""

    header_row: int
    width: int


@dataclass
class SheetTaken:
    """What a sheet was taken as (the spec's key and title) and which of its columns were used and left out."""

    entity: str
    title: str
    used: dict[str, str]  # header text as in the file -> field key
    ignored: list[str]  # header texts of columns not imported
    layout: str | None = None  # the saved layout that was applied
    header_row: int | None = None
    how: str = ""  # name | headers | mapping | layout | package
    fingerprint: str = ""  # the header's shape (a confirmed mapping is saved under it)
    # for the wizard's 列对应 step, never in the JSON report (they are the user's data): every header
    # cell's text by column, and the first values under each
    texts: list[str] = field(default_factory=list)
    samples: dict[int, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"entity": self.entity, "columns": {"used": dict(self.used), "ignored": list(self.ignored)},
                "layout": self.layout, "header_row": self.header_row, "recognised_by": self.how}


@dataclass
class ImportReport:
    file_name: str
    dry_run: bool
    file_sha256: str = ""
    sheets: dict[str, SheetCounts] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    layouts: dict[str, SheetLayout] = field(default_factory=dict)
    batch_id: int | None = None
    backup_path: Path | None = None
    is_package: bool = False
    taken: dict[str, SheetTaken] = field(default_factory=dict)  # sheet name -> what it was taken as
    # sheets with content that nothing recognised (skipped with a warning): the wizard offers to map them
    unrecognised: dict[str, SheetTaken] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "rejected" if self.errors else "ok"

    @property
    def accepted(self) -> bool:
        return not self.errors

    def totals(self) -> SheetCounts:
        total = SheetCounts()
        for counts in self.sheets.values():
            total.created += counts.created
            total.updated += counts.updated
            total.unchanged += counts.unchanged
            total.errors += counts.errors
        return total

    def file_error(self, code: str, message: str) -> None:
        self.errors.append(Issue("", 0, "", code, message))

    def to_dict(self) -> dict[str, Any]:
        """The shape of DESIGN §8, extended: a ``warnings`` list, and per sheet what it was taken as
        (``entity``, ``columns`` used and ignored, the saved ``layout`` applied, ``header_row``)."""
        return {
            "status": self.status,
            "dry_run": self.dry_run,
            "file_sha256": self.file_sha256,
            "sheets": {name: {**counts.as_dict(), **(self.taken[name].as_dict() if name in self.taken else {})}
                       for name, counts in self.sheets.items()},
            "errors": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
        }

    def write_json(self, path: Path | str) -> None:
        data = json.dumps(self.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")
        write_bytes_atomic(path, data)

    def summary_text(self, max_errors: int = 50) -> str:
        """What the CLI prints and the GUI shows above the error table."""
        lines = []
        kind = "试导入（不写入数据库）" if self.dry_run else "导入"
        if self.accepted:
            outcome = "检查通过，可以正式导入" if self.dry_run else "成功，全部数据已写入"
        else:
            outcome = "未通过：文件中有错误，数据库没有任何改动"
        lines.append(f"{kind} {self.file_name}：{outcome}")
        for name, counts in self.sheets.items():
            title = self.taken[name].title if name in self.taken else name
            taken = f"（作为“{title}”）" if title != name else ""
            lines.append(f"  {name}{taken}：新增 {counts.created}，更新 {counts.updated}，不变 {counts.unchanged}，"
                         f"错误 {counts.errors}")
        if self.errors:
            lines.append(f"错误 {len(self.errors)} 处：")
            for issue in self.errors[:max_errors]:
                where = issue.where()
                lines.append(f"  {where + '：' if where else ''}{issue.message}（{error_title(issue.code)}）")
            if len(self.errors) > max_errors:
                lines.append(f"  ……另有 {len(self.errors) - max_errors} 处错误，见报告文件")
        if self.warnings:
            lines.append(f"提示 {len(self.warnings)} 条：")
            for issue in self.warnings[:max_errors]:
                where = issue.where()
                lines.append(f"  {where + '：' if where else ''}{issue.message}")
            if len(self.warnings) > max_errors:
                lines.append(f"  ……另有 {len(self.warnings) - max_errors} 条提示")
        if self.backup_path is not None:
            lines.append(f"导入前的备份：{self.backup_path}")
        return "\n".join(lines)
