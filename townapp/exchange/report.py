"""The import report: per-sheet counts and every error, as JSON (DESIGN §8) and as Chinese text."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from townapp.core.atomic import write_bytes_atomic

ACTIONS = ("created", "updated", "unchanged")
ACTION_LABELS = {"created": "新增", "updated": "更新", "unchanged": "不变", "errors": "错误"}


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
                lines.append(f"  {where + '：' if where else ''}{issue.message}（{issue.code}）")
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
