"""The grids' rules, written once: the grid dialog, the score grid, the service and the importer call these.

Plain functions over values and facts the caller loaded beforehand (no session, no
queries), in the manner of ``registry/validation.py``. Each returns ``FieldProblem``s
with Chinese messages that say what is wrong and what to do; field names are the
service's (``parent_id``, ``level`` …) and the importer maps them to its columns.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from townapp.core.errors import DomainError, FieldProblem
from townapp.core.text import clean_free_text, clean_name, remove_spaces, to_halfwidth
from townapp.db.text_guard import length_problems
from townapp.grids.models import Grid
from townapp.grids.scheme import PointsError, Scheme, parse_points, structure, vocab
from townapp.grids.subsidy import check_scores

CODE_MAX = 32


@dataclass(frozen=True)
class GridFacts:
    """What the tree rules need to know of a grid (stored, or earlier in the same file)."""

    id: int | None
    village_id: int
    level: str
    name: str = ""
    active: bool = True


# ----- the tree ------------------------------------------------------------------------------------
def grid_code(text: str | None) -> str:
    """网格编码 as stored: half width, no spaces, upper case."""
    return remove_spaces(to_halfwidth(text or "")).upper()


# the grid's free-text fields as the grid sheet and the dialog name them
GRID_LABELS = {"name": "网格名称", "scope": "四至范围", "note": "备注"}


def grid_text(text: str | None) -> str:
    """四至范围 and 备注 as stored: as typed, its punctuation kept (as the exchange stores text)."""
    return clean_free_text(text or "")


def check_grid_fields(code: str | None, name: str | None, level: str | None, scope: str | None = None,
                      note: str | None = None) -> tuple[str | None, list[FieldProblem]]:
    """The grid's own fields; returns the canonical level (None when unknown) and the problems."""
    problems: list[FieldProblem] = []
    code = grid_code(code)
    canonical = vocab("level").canonical(level) if level else None
    if not code:
        problems.append(FieldProblem("code", "网格编码不能为空"))
    elif len(code) > CODE_MAX:
        problems.append(FieldProblem("code", f"网格编码最长 {CODE_MAX} 个字符"))
    cleaned = clean_name(name or "")
    if not cleaned:
        problems.append(FieldProblem("name", "网格名称不能为空"))
    problems += length_problems(Grid, {"name": cleaned, "scope": grid_text(scope), "note": grid_text(note)},
                                GRID_LABELS)
    if canonical is None:
        problems.append(FieldProblem("level", f"层级应为 {'、'.join(vocab('level').values)}"))
    return canonical, problems


def check_parent(level: str, village_id: int, parent: GridFacts | None, *, current_parent: int | None = None,
                 loops: bool = False) -> list[FieldProblem]:
    """Where a grid of ``level`` may hang: a parent of an allowed level in the same village, in use.

    ``current_parent`` is the stored parent (a retired parent the grid already hangs under stays
    allowed, so an export imports back); ``loops`` says the parent is the grid itself or below it.
    """
    allowed = structure().parents.get(level, ())
    if parent is None:
        return [FieldProblem("parent_id", f"{level}须选择上级（{'或'.join(allowed)}）")] if allowed else []
    if parent.village_id != village_id:
        return [FieldProblem("parent_id", "上级网格须是本村的网格")]
    if parent.level not in allowed:
        return [FieldProblem("parent_id", f"{level}不能挂在{parent.level}之下"
                             + (f"，只能挂在{'或'.join(allowed)}之下" if allowed else ""))]
    if not parent.active and parent.id != current_parent:
        return [FieldProblem("parent_id", f"上级网格“{parent.name}”已撤销")]
    if loops:
        return [FieldProblem("parent_id", "不能把网格挂到它自己或它的下级之下")]
    return []


def check_level_change(old: str | None, new: str | None, *, in_use: bool) -> list[FieldProblem]:
    """A grid with children or households keeps its level (they were placed by it)."""
    if old is not None and new is not None and old != new and in_use:
        return [FieldProblem("level", "已有下级网格或住户的网格不能改变层级")]
    return []


# ----- roster and households ----------------------------------------------------------------------------
def check_member(role: str | None, grid_level: str, started_on: dt.date | None,
                 ended_on: dt.date | None) -> list[FieldProblem]:
    """A post's role fits the grid's level and its term does not end before it starts."""
    problems: list[FieldProblem] = []
    allowed = structure().roles_by_level.get(grid_level, ())
    if role is not None and allowed and role not in allowed:
        problems.append(FieldProblem("role", f"{grid_level}的成员角色应为 {'、'.join(allowed)}"))
    if started_on and ended_on and ended_on < started_on:
        problems.append(FieldProblem("ended_on", "离任日期不能早于任职日期"))
    return problems


def head_clash(holder: str, since: dt.date) -> FieldProblem:
    """One 网格长 per grid at a time: ``holder`` (a name, or 第N行 of a file) already holds the post."""
    head = structure().head_role
    return FieldProblem("role", f"本网格同一时间只能有一名{head}：{holder} 自 {since:%Y-%m-%d} 起任{head}，"
                                "请先为其填写离任日期")


def check_household_grid(grid_level: str, grid_label: str) -> list[FieldProblem]:
    """Households go into the lowest level only (微网格)."""
    level = structure().household_level
    if grid_level != level:
        return [FieldProblem("grid_id", f"住户只能划入{level}，“{grid_label}”是{grid_level}")]
    return []


# ----- the monthly assessment ----------------------------------------------------------------------
def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    """The first and last day of an assessment month; an impossible month is refused."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise DomainError(f"{year}年{month}月不是有效的考核月份")
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def locked_month(year: int, month: int) -> str:
    """What an edit of an approved (locked) month is told, wherever it comes from."""
    return (f"{year}年{month}月的考核已审批锁定，不能修改。"
            "如确需更正，请由乡镇干部或管理员“解锁”（须填写原因，记入操作日志）后再改。")


def read_scores(scheme: Scheme, cells: Mapping[str, Any], reason: str | None,
                stored: Mapping[str, int | None] | None = None,
                stored_deduction: int = 0) -> tuple[dict[str, int | None], int, list[FieldProblem]]:
    """One member's row as typed: item cells (by item key) and ``deduction``, as text or numbers.

    A key missing from ``cells`` keeps the stored value (an import's column that is not in the
    file, or an empty cell); the score grid passes every cell. Returns the scores in tenths, the
    deduction, and the problems: a cell that is no number, then the scheme's limits.
    """
    stored = stored or {}
    problems: list[FieldProblem] = []
    scores: dict[str, int | None] = {}
    for item in scheme.items:
        try:
            scores[item.key] = parse_points(cells[item.key]) if item.key in cells else stored.get(item.key)
        except PointsError as exc:
            scores[item.key] = None
            problems.append(FieldProblem(item.key, exc.message))
    try:
        deduction = (parse_points(cells["deduction"]) or 0) if "deduction" in cells else stored_deduction
    except PointsError as exc:
        deduction = 0
        problems.append(FieldProblem("deduction", exc.message))
    return scores, deduction, problems + check_scores(scheme, scores, deduction, reason)
